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
	SignerCertFile = "signer.pem"
	SignerKeyFile  = "signer.key"
)

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

// GenerateDevKeys writes a private root CA (ca.pem) and a signing
// certificate issued by it (signer.pem, with the root appended as its chain,
// and signer.key) into dir. The directory is made mode 0700 and the key
// 0600. The root's private key is not kept: a development root only ever
// needs to sign this one certificate, and a key that is not on disk cannot
// leak. Existing files are not overwritten unless Force is set.
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
		for _, name := range []string{CAFile, SignerCertFile, SignerKeyFile} {
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
	certs := append(pemBlock("CERTIFICATE", leafDER), pemBlock("CERTIFICATE", caDER)...)
	// The key first, so that no certificate is ever on disk without it.
	for _, f := range []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{SignerKeyFile, pemBlock("PRIVATE KEY", keyDER), 0o600},
		{SignerCertFile, certs, 0o644},
		{CAFile, pemBlock("CERTIFICATE", caDER), 0o644},
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
