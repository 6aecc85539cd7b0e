package result

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/digitorus/pkcs7"
)

// Long-term validation (PAdES B-LT): after the timestamped signature, the
// file gets an incremental update with a document security store holding
// every certificate of the signer's and the TSA's chains and a current CRL
// for each certificate below a root, so that a verifier needs nothing from
// the network — not the CA, not the TSA — to check it years later, after
// the CA's servers are gone. The signed bytes stay as they were: the store
// comes after them, which is the one change after signing PAdES allows.

func (is *Issuer) fetcher() fetcher { return fetcher{timeout: is.cfg.TSA.timeout()} }

func (is *Issuer) givenCRLs() []*crl {
	var out []*crl
	for _, raw := range is.cfg.CRLs {
		if c, err := parseCRL(raw); err == nil { // checked by Validate
			out = append(out, c)
		}
	}
	return out
}

// signerCRL finds a current CRL for the signing certificate and refuses a
// revoked one. A certificate with no CRL given and no distribution point
// gives nil: the file then reaches B-T only, which is logged.
func (is *Issuer) signerCRL(ctx context.Context, now time.Time) (*crl, error) {
	s := is.cfg.Signer
	if len(s.Chain) == 0 {
		is.log.Warn("the signer's chain is not configured: no revocation data can be embedded (the file reaches PAdES B-T)")
		return nil, nil
	}
	c, err := is.fetcher().crlFor(ctx, is.givenCRLs(), s.Certificate, s.Chain[0], now)
	if err != nil {
		if errors.Is(err, ErrSignerRevoked) {
			return nil, err
		}
		return nil, fmt.Errorf("result: revocation data of the signer: %w", err)
	}
	if c == nil {
		is.log.Warn("no CRL for the signing certificate (none given, no distribution point): the file reaches PAdES B-T", "signer", s.Certificate.Subject.CommonName)
	}
	return c, nil
}

// issuerOf finds the certificate among pool that issued c.
func issuerOf(c *x509.Certificate, pool []*x509.Certificate) *x509.Certificate {
	for _, p := range pool {
		if bytes.Equal(c.RawIssuer, p.RawSubject) && c.CheckSignatureFrom(p) == nil {
			return p
		}
	}
	return nil
}

func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil
}

// validationData is what addValidationData put in the store.
type validationData struct {
	signerCRL, tsaCRL bool
}

// addValidationData appends the document security store to a signed,
// timestamped file: the chains of signer and TSA, the signer's CRL found
// before signing, and CRLs fetched now for the TSA's chain.
func (is *Issuer) addValidationData(ctx context.Context, signed []byte, signerCRL *crl, now time.Time) ([]byte, validationData, error) {
	var got validationData
	fields, err := signatureFields(signed)
	if err != nil || len(fields) != 1 {
		return nil, got, fmt.Errorf("result: validation data: the signed file has %d signatures: %v", len(fields), err)
	}
	der, ok := derPrefix(fields[0].contents) // not TrimRight: see verifyOne
	if !ok {
		return nil, got, errors.New("result: validation data: the signature value is not DER")
	}
	p7, err := pkcs7.Parse(der)
	if err != nil {
		return nil, got, fmt.Errorf("result: validation data: %w", err)
	}
	raw, err := signatureToken(p7)
	if err != nil || raw == nil {
		return nil, got, fmt.Errorf("%w: the signature carries no timestamp token: %v", ErrTSA, err)
	}
	tok, err := readToken(raw)
	if err != nil {
		return nil, got, fmt.Errorf("%w: %v", ErrTSA, err)
	}

	d := &dss{vri: map[string]vriEntry{}}
	var e vriEntry
	e.at = now
	addCert := func(c *x509.Certificate) { e.certs = append(e.certs, addDER(&d.certs, c.Raw)) }
	addCRL := func(c *crl) { e.crls = append(e.crls, addDER(&d.crls, c.raw)) }

	s := is.cfg.Signer
	addCert(s.Certificate)
	for _, c := range s.Chain {
		addCert(c)
	}
	if signerCRL != nil {
		addCRL(signerCRL)
		got.signerCRL = true
	}
	// Issuers above the signer's own (a production CA's intermediates).
	f := is.fetcher()
	chain := append([]*x509.Certificate{s.Certificate}, s.Chain...)
	for i := 1; i+1 < len(chain); i++ {
		c, err := f.crlFor(ctx, is.givenCRLs(), chain[i], chain[i+1], now)
		if err != nil {
			return nil, got, fmt.Errorf("result: revocation data of %s: %w", chain[i].Subject.CommonName, err)
		}
		if c != nil {
			addCRL(c)
		}
	}

	// The TSA's chain, up to a root, and a CRL of each certificate below it.
	pool := append(append([]*x509.Certificate(nil), tok.certs...), is.cfg.TSA.Roots...)
	cur := tok.signer
	for depth := 0; ; depth++ {
		addCert(cur)
		if selfSigned(cur) {
			break
		}
		up := issuerOf(cur, pool)
		if up == nil {
			return nil, got, fmt.Errorf("%w: the TSA's certificate %q is issued by %q, which neither the token nor the configured TSA roots (--tsa-ca) provide",
				ErrConfig, cur.Subject.CommonName, cur.Issuer.CommonName)
		}
		if depth > 8 {
			return nil, got, fmt.Errorf("%w: the TSA's chain is longer than 8", ErrTSA)
		}
		c, err := f.crlFor(ctx, nil, cur, up, tok.ts.Time)
		switch {
		case errors.Is(err, ErrSignerRevoked):
			return nil, got, fmt.Errorf("%w: the TSA's certificate is revoked: %v", ErrTSA, err)
		case err != nil:
			return nil, got, fmt.Errorf("%w: revocation data of the TSA's chain: %v", ErrTSA, err)
		case c != nil:
			addCRL(c)
			if depth == 0 {
				got.tsaCRL = true
			}
		}
		cur = up
	}
	d.vri[vriKey(fields[0].contents)] = e
	out, err := appendDSS(signed, d)
	if err != nil {
		return nil, got, err
	}
	return out, got, nil
}

// selfCheck reads back the finished file before it is published: its one
// signature must be intact, cover everything but the store, and carry a
// valid timestamp when a TSA was configured. Trust is not its question —
// the roots are the verifier's — but the bytes are.
func (is *Issuer) selfCheck(file []byte) (*Signature, error) {
	v, err := Verify(file, VerifyOptions{Roots: x509.NewCertPool()})
	if err != nil {
		return nil, fmt.Errorf("result: the signed file does not read back: %w", err)
	}
	if len(v.Signatures) != 1 {
		return nil, fmt.Errorf("result: the signed file reads back with %d signatures", len(v.Signatures))
	}
	s := &v.Signatures[0]
	switch {
	case !s.Intact:
		return nil, fmt.Errorf("result: the signed file reads back with a broken signature: %v", s.Problems)
	case !s.WholeFile && !s.DSS:
		return nil, fmt.Errorf("result: the signed file reads back with bytes outside the signature: %v", s.Problems)
	case is.cfg.TSA.URL != "" && (s.Timestamp == nil || !s.Timestamp.Valid):
		return nil, fmt.Errorf("%w: the signed file reads back without a valid timestamp: %v", ErrTSA, s.Problems)
	}
	return s, nil
}
