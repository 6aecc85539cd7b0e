package result

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// File names in a key directory, as `blindpack keys init` writes them.
const (
	CAFile         = "ca.pem"
	CAKeyFile      = "ca.key"
	CRLFile        = "ca.crl"
	SignerCertFile = "signer.pem"
	SignerKeyFile  = "signer.key"
)

// DevCRLValidity is how long a development CRL stays current (its next
// update). A production CA publishes a new CRL every few days; a
// development one is re-issued by every `blindpack keys revoke`.
const DevCRLValidity = 365 * 24 * time.Hour

// oidReasonCode is the CRL entry extension of a revocation's reason.
var oidReasonCode = asn1.ObjectIdentifier{2, 5, 29, 21}

// oidDocumentSigning is the extended key usage for signing documents
// (RFC 9336). Go's x509 has no constant for it.
var oidDocumentSigning = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 36}

// DevKeyOptions configures GenerateDevKeys. The zero value is the default.
type DevKeyOptions struct {
	// Organization goes into both certificates' subjects (default
	// "blindpack development").
	Organization string
	// SignerName is the signing certificate's common name (default
	// "blindpack development signer").
	SignerName string
	// Now is the start of validity (default: the current time).
	Now time.Time
	// Validity is how long the signing certificate is valid (default 3
	// years); the root outlives it by 7 more.
	Validity time.Duration
	// Force overwrites existing files.
	Force bool
}

// GenerateDevKeys writes a private root CA (ca.pem, its key ca.key) and a
// signing certificate issued by it (signer.pem, with the root appended as
// its chain, and signer.key) into dir, with the root's first CRL (ca.crl,
// DER, nobody revoked). The directory is made mode 0700 and the keys 0600.
// The root's key is kept because it signs the CRL that `blindpack keys
// revoke` updates; a production CA keeps its key to itself and publishes
// its CRL or OCSP answers. Existing files are not overwritten unless Force
// is set.
func GenerateDevKeys(dir string, o DevKeyOptions) error {
	if o.Organization == "" {
		o.Organization = "blindpack development"
	}
	if o.SignerName == "" {
		o.SignerName = "blindpack development signer"
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Validity <= 0 {
		o.Validity = 3 * 365 * 24 * time.Hour
	}
	if !o.Force {
		for _, name := range []string{CAFile, CAKeyFile, CRLFile, SignerCertFile, SignerKeyFile} {
			if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
				return fmt.Errorf("result: keys init: %s exists (use --force to replace)", filepath.Join(dir, name))
			}
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("result: keys init: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("result: keys init: %w", err)
	}

	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("result: keys init: %w", err)
	}
	start := o.Now.Add(-time.Hour) // tolerate clocks a little behind
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{Organization: []string{o.Organization}, CommonName: "blindpack development root CA (not for production)"},
		NotBefore:             start,
		NotAfter:              start.Add(o.Validity + 7*365*24*time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return fmt.Errorf("result: keys init: root: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return fmt.Errorf("result: keys init: root: %w", err)
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("result: keys init: %w", err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{Organization: []string{o.Organization}, CommonName: o.SignerName},
		NotBefore:    start,
		NotAfter:     start.Add(o.Validity),
		// ContentCommitment (non-repudiation) says the key commits to what
		// it signs, which an approval file does.
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		// emailProtection is what NSS (poppler's pdfsig) and Adobe accept
		// for document signers; documentSigning is RFC 9336's own.
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		UnknownExtKeyUsage:    []asn1.ObjectIdentifier{oidDocumentSigning},
		BasicConstraintsValid: true,
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, key.Public(), caKey)
	if err != nil {
		return fmt.Errorf("result: keys init: signer: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("result: keys init: %w", err)
	}
	caKeyDER, err := x509.MarshalPKCS8PrivateKey(caKey)
	if err != nil {
		return fmt.Errorf("result: keys init: %w", err)
	}
	crlDER, err := signCRL(ca, caKey, 1, o.Now, nil)
	if err != nil {
		return fmt.Errorf("result: keys init: %w", err)
	}
	certs := append(pemBlock("CERTIFICATE", leafDER), pemBlock("CERTIFICATE", caDER)...)
	// The keys first, so that no certificate is ever on disk without them.
	for _, f := range []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{SignerKeyFile, pemBlock("PRIVATE KEY", keyDER), 0o600},
		{CAKeyFile, pemBlock("PRIVATE KEY", caKeyDER), 0o600},
		{SignerCertFile, certs, 0o644},
		{CAFile, pemBlock("CERTIFICATE", caDER), 0o644},
		{CRLFile, crlDER, 0o644},
	} {
		if err := writeFileMode(filepath.Join(dir, f.name), f.data, f.mode); err != nil {
			return fmt.Errorf("result: keys init: %w", err)
		}
	}
	return nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n.Add(n, big.NewInt(1))
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// writeFileMode writes through a temporary file created with the final
// mode, so the data is never readable with a wider one, then renames it.
func writeFileMode(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Signer is a signing key with its certificate and the chain that issued
// it, as embedded in every signature.
type Signer struct {
	Certificate *x509.Certificate
	// Chain holds the issuers, nearest first; the root may be included.
	Chain []*x509.Certificate
	Key   crypto.Signer
}

// Validate checks that the key belongs to the certificate, that the
// certificate may sign documents, and that each chain certificate issued
// the one before it.
func (s *Signer) Validate() error {
	if s == nil || s.Certificate == nil || s.Key == nil {
		return fmt.Errorf("%w: signer needs a certificate and a key", ErrConfig)
	}
	if !publicKeyEqual(s.Certificate.PublicKey, s.Key.Public()) {
		return fmt.Errorf("%w: the signing key does not belong to the certificate %q", ErrConfig, s.Certificate.Subject.CommonName)
	}
	if ku := s.Certificate.KeyUsage; ku != 0 && ku&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return fmt.Errorf("%w: certificate %q may not sign (key usage lacks digitalSignature and contentCommitment)", ErrConfig, s.Certificate.Subject.CommonName)
	}
	child := s.Certificate
	for _, c := range s.Chain {
		if err := child.CheckSignatureFrom(c); err != nil {
			return fmt.Errorf("%w: chain: %q is not issued by %q: %v", ErrConfig, child.Subject.CommonName, c.Subject.CommonName, err)
		}
		child = c
	}
	return nil
}

func publicKeyEqual(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	ea, ok := a.(equaler)
	return ok && ea.Equal(b)
}

// LoadSignerPEM reads a signer from PEM data: certPEM holds the signing
// certificate first and then, optionally, its chain; keyPEM holds the key
// (PKCS#8, PKCS#1 or SEC 1).
func LoadSignerPEM(certPEM, keyPEM []byte) (*Signer, error) {
	certs, err := ParseCertificates(certPEM)
	if err != nil {
		return nil, err
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%w: no certificate in the signer's certificate file", ErrConfig)
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		return nil, err
	}
	s := &Signer{Certificate: certs[0], Chain: certs[1:], Key: key}
	return s, s.Validate()
}

// LoadSignerPKCS12 reads a signer from a PKCS#12 (.p12/.pfx) file, the
// form in which certificate authorities usually hand out signing keys.
func LoadSignerPKCS12(data []byte, password string) (*Signer, error) {
	key, cert, chain, err := pkcs12.DecodeChain(data, password)
	if err != nil {
		return nil, fmt.Errorf("%w: PKCS#12: %v", ErrConfig, err)
	}
	k, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: PKCS#12: key of type %T cannot sign", ErrConfig, key)
	}
	s := &Signer{Certificate: cert, Chain: orderChain(cert, chain), Key: k}
	return s, s.Validate()
}

// orderChain puts the issuers of leaf in order, nearest first: PKCS#12
// files list their CA certificates in any order.
func orderChain(leaf *x509.Certificate, pool []*x509.Certificate) []*x509.Certificate {
	var out []*x509.Certificate
	cur := leaf
	left := append([]*x509.Certificate(nil), pool...)
	for len(left) > 0 {
		found := -1
		for i, c := range left {
			if bytes.Equal(cur.RawIssuer, c.RawSubject) && cur.CheckSignatureFrom(c) == nil {
				found = i
				break
			}
		}
		if found < 0 || bytes.Equal(cur.RawIssuer, cur.RawSubject) {
			break
		}
		cur = left[found]
		out = append(out, cur)
		left = append(left[:found], left[found+1:]...)
	}
	return out
}

// LoadKeyDir reads a signer from a directory written by GenerateDevKeys.
func LoadKeyDir(dir string) (*Signer, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, SignerCertFile))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, SignerKeyFile))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return LoadSignerPEM(certPEM, keyPEM)
}

// ParseCertificates reads every CERTIFICATE block of PEM data.
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return out, nil
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: certificate: %v", ErrConfig, err)
		}
		out = append(out, c)
	}
}

// CertPool reads PEM certificates into a pool of trusted roots.
func CertPool(pemData []byte) (*x509.CertPool, error) {
	certs, err := ParseCertificates(pemData)
	if err != nil {
		return nil, err
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%w: no certificate in the root file", ErrConfig)
	}
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p, nil
}

func parseKey(data []byte) (crypto.Signer, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, fmt.Errorf("%w: no private key in the key file", ErrConfig)
		}
		var k any
		var err error
		switch b.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(b.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, fmt.Errorf("%w: encrypted PEM keys are not supported: use PKCS#12 with a password", ErrConfig)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%w: private key: %v", ErrConfig, err)
		}
		switch k := k.(type) {
		case *rsa.PrivateKey, *ecdsa.PrivateKey:
			return k.(crypto.Signer), nil
		default:
			return nil, fmt.Errorf("%w: private key of type %T: want RSA or ECDSA", ErrConfig, k)
		}
	}
}

// signCRL issues CRL number n of ca, current from now for DevCRLValidity.
func signCRL(ca *x509.Certificate, key crypto.Signer, n int64, now time.Time, revoked []x509.RevocationListEntry) ([]byte, error) {
	return x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(n), ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(DevCRLValidity),
		RevokedCertificateEntries: revoked,
	}, ca, key)
}

// CRL reason codes (RFC 5280 5.3.1) that `blindpack keys revoke` accepts.
var CRLReasons = map[string]int{
	"unspecified": 0, "keyCompromise": 1, "caCompromise": 2, "affiliationChanged": 3,
	"superseded": 4, "cessationOfOperation": 5,
}

// RevokeOptions say which certificate to revoke, when, and why. The zero
// value revokes the directory's signing certificate now, reason
// unspecified.
type RevokeOptions struct {
	// Serial of the certificate to revoke (default: signer.pem's).
	Serial *big.Int
	// Now is the revocation date: when the CA revokes (default: now).
	Now time.Time
	// Reason is an RFC 5280 reason code (CRLReasons).
	Reason int
	// CompromisedAt, if set, is the invalidity date (RFC 5280 5.3.2): when
	// the key is known or suspected to have been compromised, which may be
	// before the revocation date. Signatures made after it are not valid
	// even if a timestamp proves they came before the revocation.
	CompromisedAt time.Time
}

// RevokeDev adds a certificate to the CRL of a development key directory
// and re-issues it (ca.crl, next CRL number). It returns the new CRL.
func RevokeDev(dir string, o RevokeOptions) ([]byte, error) {
	caPEM, err := os.ReadFile(filepath.Join(dir, CAFile))
	if err != nil {
		return nil, fmt.Errorf("result: keys revoke: %w", err)
	}
	cas, err := ParseCertificates(caPEM)
	if err != nil || len(cas) != 1 {
		return nil, fmt.Errorf("result: keys revoke: %s: want one certificate", CAFile)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, CAKeyFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("result: keys revoke: %s has no %s (made before CRLs were kept): run `blindpack keys init --force`", dir, CAKeyFile)
	} else if err != nil {
		return nil, fmt.Errorf("result: keys revoke: %w", err)
	}
	caKey, err := parseKey(keyPEM)
	if err != nil {
		return nil, err
	}
	old, err := os.ReadFile(filepath.Join(dir, CRLFile))
	if err != nil {
		return nil, fmt.Errorf("result: keys revoke: %w", err)
	}
	prev, err := x509.ParseRevocationList(old)
	if err != nil {
		return nil, fmt.Errorf("result: keys revoke: %s: %w", CRLFile, err)
	}
	if o.Serial == nil {
		s, err := LoadKeyDir(dir)
		if err != nil {
			return nil, err
		}
		o.Serial = s.Certificate.SerialNumber
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Reason < 0 || o.Reason > 10 || o.Reason == 7 {
		return nil, fmt.Errorf("%w: CRL reason %d", ErrConfig, o.Reason)
	}
	// Earlier entries are carried over with their extensions (an
	// invalidity date): a parsed entry holds them in Extensions, which
	// CreateRevocationList does not write; the reason code it writes
	// itself.
	var entries []x509.RevocationListEntry
	for _, e := range prev.RevokedCertificateEntries {
		if e.SerialNumber.Cmp(o.Serial) == 0 {
			return nil, fmt.Errorf("result: keys revoke: serial %x is revoked already (since %s)", o.Serial, e.RevocationTime.UTC().Format(time.RFC3339))
		}
		c := x509.RevocationListEntry{SerialNumber: e.SerialNumber, RevocationTime: e.RevocationTime, ReasonCode: e.ReasonCode}
		for _, x := range e.Extensions {
			if !x.Id.Equal(oidReasonCode) {
				c.ExtraExtensions = append(c.ExtraExtensions, x)
			}
		}
		entries = append(entries, c)
	}
	e := x509.RevocationListEntry{SerialNumber: o.Serial, RevocationTime: o.Now.UTC().Truncate(time.Second), ReasonCode: o.Reason}
	if !o.CompromisedAt.IsZero() {
		v, err := asn1.MarshalWithParams(o.CompromisedAt.UTC().Truncate(time.Second), "generalized")
		if err != nil {
			return nil, err
		}
		e.ExtraExtensions = []pkix.Extension{{Id: oidInvalidityDate, Value: v}}
	}
	n := int64(2)
	if prev.Number != nil {
		n = prev.Number.Int64() + 1
	}
	der, err := signCRL(cas[0], caKey, n, o.Now, append(entries, e))
	if err != nil {
		return nil, fmt.Errorf("result: keys revoke: %w", err)
	}
	if err := writeFileMode(filepath.Join(dir, CRLFile), der, 0o644); err != nil {
		return nil, fmt.Errorf("result: keys revoke: %w", err)
	}
	return der, nil
}
