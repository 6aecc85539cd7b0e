package people

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP per RFC 6238 with what every authenticator app reads from a QR
// code: SHA-1, six digits, 30-second steps (pquerna/otp does the
// arithmetic; TestRFC6238Vectors checks it against the RFC's table).
const (
	totpPeriod = 30
	totpSkew   = 1 // steps either way, for a phone's clock that is a little off
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// newTOTPKey makes a fresh 160-bit secret for account, as the otpauth://
// key an app scans.
func newTOTPKey(issuer, account string) (*otp.Key, error) {
	k, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account, Period: totpPeriod, SecretSize: 20,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return nil, fmt.Errorf("people: totp key: %w", err)
	}
	return k, nil
}

// checkCode compares code with the codes of secret (base32) around now,
// in constant time, and returns the time step that matched: the caller
// records it so that the code cannot be used again.
func checkCode(secret, code string, now time.Time) (int64, bool) {
	code = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, code)
	if len(code) != 6 {
		return 0, false
	}
	var step int64
	ok := 0
	for skew := -totpSkew; skew <= totpSkew; skew++ {
		t := now.Add(time.Duration(skew*totpPeriod) * time.Second)
		want, err := totp.GenerateCodeCustom(secret, t, totpOpts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			step, ok = t.Unix()/totpPeriod, 1
		}
	}
	return step, ok == 1
}

// sealer seals second-factor secrets for storage: AES-256-GCM under a key
// derived from the server's secret, the account name as associated data
// (a sealed secret copied to another account does not open).
type sealer struct{ aead cipher.AEAD }

const sealInfo = "blindpack/people: totp secrets v1"

func newSealer(secret []byte) (*sealer, error) {
	if len(secret) < 16 {
		return nil, errors.New("people: the server secret must have at least 16 bytes")
	}
	key, err := hkdf.Key(sha256.New, secret, nil, sealInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("people: derive key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("people: cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("people: cipher: %w", err)
	}
	return &sealer{aead: aead}, nil
}

func (s *sealer) seal(account, plain string) (string, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("people: nonce: %w", err)
	}
	out := s.aead.Seal(nonce, nonce, []byte(plain), []byte(account))
	return "v1." + base64.RawURLEncoding.EncodeToString(out), nil
}

var errSealed = errors.New("people: sealed secret does not open")

func (s *sealer) open(account, sealed string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(sealed, "v1."))
	if err != nil || !strings.HasPrefix(sealed, "v1.") || len(raw) < s.aead.NonceSize() {
		return "", errSealed
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(account))
	if err != nil {
		return "", errSealed
	}
	return string(plain), nil
}
