package people

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Argon2 are the parameters of argon2id password hashes. The zero value
// is the default: 64 MiB, 3 passes, 2 lanes — RFC 9106's second
// recommended option with the lanes of a 2-core server
// (BenchmarkHashPassword measures one check).
type Argon2 struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

func (a Argon2) withDefaults() Argon2 {
	if a.MemoryKiB == 0 {
		a.MemoryKiB = 64 << 10
	}
	if a.Time == 0 {
		a.Time = 3
	}
	if a.Threads == 0 {
		a.Threads = 2
	}
	return a
}

const (
	saltLen = 16
	keyLen  = 32
)

// MinPasswordLen and MaxPasswordLen bound a password people choose, in
// characters: long enough to resist guessing once the hash is stolen,
// short enough that hashing it costs nothing extra.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 128
)

// ErrWeakPassword is returned (wrapped) for a password that may not be
// used.
var ErrWeakPassword = errors.New("people: password not allowed")

// CheckNewPassword says why pw may not be the password of account name.
func CheckNewPassword(name, pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPasswordLen:
		return fmt.Errorf("%w: at least %d characters", ErrWeakPassword, MinPasswordLen)
	case n > MaxPasswordLen:
		return fmt.Errorf("%w: at most %d characters", ErrWeakPassword, MaxPasswordLen)
	case strings.EqualFold(strings.TrimSpace(pw), name):
		return fmt.Errorf("%w: it is the user name", ErrWeakPassword)
	case strings.ContainsAny(pw, "\x00\r\n"):
		return fmt.Errorf("%w: control characters", ErrWeakPassword)
	}
	return nil
}

// HashPassword returns the PHC string of an argon2id hash of pw with a
// fresh random salt: $argon2id$v=19$m=65536,t=3,p=2$salt$hash.
func HashPassword(pw string, p Argon2) (string, error) {
	p = p.withDefaults()
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("people: salt: %w", err)
	}
	sum := argon2.IDKey([]byte(pw), salt, p.Time, p.MemoryKiB, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(sum)), nil
}

// errBadHash is the error of a stored hash that is not ours.
var errBadHash = errors.New("people: stored password hash is not a PHC argon2id string")

// CheckPassword compares pw with a PHC argon2id string in constant time.
// Parameters are read from the string, so hashes made with other
// parameters keep working after a change.
func CheckPassword(encoded, pw string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false, errBadHash
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false, errBadHash
	}
	// Bounds, so that a forged hash in Redis cannot make the server
	// allocate gigabytes or spin for minutes.
	if m < 8 || m > 1<<20 || t < 1 || t > 16 || p < 1 || p > 16 {
		return false, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(want) < 16 || len(want) > 64 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// hasher bounds how many hashes run at once: each takes 64 MiB, and a
// burst of sign-ins must not take the server's memory.
type hasher chan struct{}

func (h hasher) check(ctx context.Context, encoded, pw string) (bool, error) {
	select {
	case h <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-h }()
	return CheckPassword(encoded, pw)
}

// RandomPassword makes a one-time password an administrator hands out:
// 16 characters from an alphabet without look-alikes (about 90 bits).
func RandomPassword() (string, error) {
	const alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	out := make([]byte, 0, 16)
	buf := make([]byte, 32)
	for len(out) < cap(out) {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("people: random password: %w", err)
		}
		for _, c := range buf {
			// Rejection sampling: bytes past the last whole multiple of
			// the alphabet would favour its first letters.
			if int(c) < 256/len(alphabet)*len(alphabet) && len(out) < cap(out) {
				out = append(out, alphabet[int(c)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}
