package result

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// ErrSignerRevoked is returned (wrapped) by Issue when the revocation data
// it would embed says the signing certificate is revoked: nothing is
// signed, and retrying cannot help until another key is configured.
var ErrSignerRevoked = errors.New("result: the signing certificate is revoked")

// maxCRL bounds a CRL fetched or read from a file: a large public CA's CRL
// is a few megabytes.
const maxCRL = 32 << 20

var oidInvalidityDate = asn1.ObjectIdentifier{2, 5, 29, 24}

// crl is a parsed CRL with the bytes it came from.
type crl struct {
	raw []byte
	l   *x509.RevocationList
	// source says where it came from, for a report.
	source string
}

func parseCRL(raw []byte) (*crl, error) {
	l, err := x509.ParseRevocationList(raw)
	if err != nil {
		return nil, fmt.Errorf("CRL: %v", err)
	}
	return &crl{raw: raw, l: l}, nil
}

// revocation is what one CRL says about one certificate.
type revocation struct {
	revoked bool
	// at is when the certificate stopped being trustworthy: the
	// invalidity date (RFC 5280 5.3.2: when the key is known or suspected
	// to have been compromised) when the CA gave one, else the revocation
	// date.
	at     time.Time
	reason int
	crl    *crl
}

// statusIn looks cert up in c, which must be issued and signed by issuer.
func statusIn(c *crl, cert, issuer *x509.Certificate) (revocation, error) {
	if !bytes.Equal(c.l.RawIssuer, issuer.RawSubject) {
		return revocation{}, errors.New("CRL is of another issuer")
	}
	if err := c.l.CheckSignatureFrom(issuer); err != nil {
		return revocation{}, fmt.Errorf("CRL is not signed by %s: %v", issuer.Subject.CommonName, err)
	}
	r := revocation{crl: c}
	for _, e := range c.l.RevokedCertificateEntries {
		if e.SerialNumber.Cmp(cert.SerialNumber) != 0 {
			continue
		}
		r.revoked, r.at, r.reason = true, e.RevocationTime, e.ReasonCode
		for _, x := range e.Extensions {
			var t time.Time
			if x.Id.Equal(oidInvalidityDate) {
				if _, err := asn1.UnmarshalWithParams(x.Value, &t, "generalized"); err == nil && t.Before(r.at) {
					r.at = t
				}
			}
		}
	}
	return r, nil
}

// status looks cert up in the newest of crls that its issuer signed.
// ok is false when none of them is the issuer's; bad lists CRLs that claim
// to be the issuer's but are not signed by it.
func status(crls []*crl, cert, issuer *x509.Certificate) (r revocation, ok bool, bad []string) {
	for _, c := range crls {
		if !bytes.Equal(c.l.RawIssuer, issuer.RawSubject) {
			continue
		}
		got, err := statusIn(c, cert, issuer)
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		// A revocation stays known in every later CRL; the newest CRL
		// knows the most. A revocation found in any CRL counts even if a
		// newer one omits it (an entry is only dropped after expiry).
		switch {
		case !ok, got.revoked && !r.revoked, got.revoked == r.revoked && got.crl.l.ThisUpdate.After(r.crl.l.ThisUpdate):
			r, ok = got, true
		}
	}
	return r, ok, bad
}

// fetcher gets revocation data over HTTP at signing time.
type fetcher struct {
	timeout time.Duration
}

func (f fetcher) get(ctx context.Context, url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %s", url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxCRL+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxCRL {
		return nil, fmt.Errorf("%s: more than %d bytes", url, maxCRL)
	}
	return data, nil
}

// crlFor returns a current CRL of issuer that covers cert: one of given,
// else one fetched from the certificate's HTTP CRL distribution points.
// now is the signing time: a CRL whose next update is past is stale and
// proves nothing about now. A certificate that names no distribution point
// and has no CRL given gives (nil, nil).
func (f fetcher) crlFor(ctx context.Context, given []*crl, cert, issuer *x509.Certificate, now time.Time) (*crl, error) {
	var stale error
	try := func(c *crl) (*crl, error) {
		r, err := statusIn(c, cert, issuer)
		if err != nil {
			return nil, err
		}
		if !c.l.NextUpdate.IsZero() && c.l.NextUpdate.Before(now) {
			stale = fmt.Errorf("the CRL of %s is stale: its next update was due %s", issuer.Subject.CommonName, c.l.NextUpdate.UTC().Format(time.RFC3339))
			return nil, nil
		}
		if r.revoked && !r.at.After(now) {
			return nil, fmt.Errorf("%w: %s, serial %x, revoked at %s (CRL of %s)", ErrSignerRevoked, cert.Subject.CommonName, cert.SerialNumber,
				r.at.UTC().Format(time.RFC3339), issuer.Subject.CommonName)
		}
		return c, nil
	}
	for _, c := range given {
		if !bytes.Equal(c.l.RawIssuer, issuer.RawSubject) {
			continue
		}
		if got, err := try(c); got != nil || err != nil {
			return got, err
		}
	}
	var errs []error
	for _, url := range cert.CRLDistributionPoints {
		if len(url) < 7 || (url[:7] != "http://" && (len(url) < 8 || url[:8] != "https://")) {
			continue // LDAP and other schemes: not fetched
		}
		data, err := f.get(ctx, url)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c, err := parseCRL(data)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %v", url, err))
			continue
		}
		got, err := try(c)
		if err != nil {
			if errors.Is(err, ErrSignerRevoked) {
				return nil, err
			}
			errs = append(errs, fmt.Errorf("%s: %v", url, err))
			continue
		}
		if got != nil {
			return got, nil
		}
	}
	if stale != nil {
		errs = append(errs, stale)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("no current CRL for %s: %w", cert.Subject.CommonName, errors.Join(errs...))
	}
	return nil, nil
}
