// Package devtsa is a time-stamping authority (RFC 3161) for tests and
// development: its own root CA, a TSA certificate with the critical
// id-kp-timeStamping usage RFC 3161 asks for, a CRL of that root, and an
// HTTP server on loopback that answers timestamp queries and serves the
// CRL. It is built on github.com/digitorus/timestamp, the library the
// signing code uses to read tokens, so tests exercise the real protocol
// over real HTTP rather than a stub.
//
// It is not linked into the blindpack binary: production signs against a
// real TSA (`--tsa URL`).
package devtsa

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/digitorus/timestamp"
)

// Options configure a TSA. The zero value is usable.
type Options struct {
	// Now is the TSA's clock (default time.Now): tests stamp "at" a time.
	Now func() time.Time
	// Validity of the certificates from Now() (default 10 years).
	Validity time.Duration
}

// TSA is a running development time-stamping authority.
type TSA struct {
	// Root is the TSA's root CA; Cert the TSA's own certificate.
	Root, Cert *x509.Certificate
	// URL is where timestamp queries are POSTed; CRLURL serves the root's
	// CRL (also named in Cert's CRL distribution point).
	URL, CRLURL string

	key     crypto.Signer
	rootKey crypto.Signer
	now     func() time.Time
	ln      net.Listener
	srv     *http.Server

	mu      sync.Mutex
	crl     []byte
	revoked []x509.RevocationListEntry
	crlNum  int64

	// Requests counts timestamp queries answered.
	Requests atomic.Int64
	// Mode makes the TSA misbehave, for failure tests (a Mode value).
	Mode      atomic.Int32
	hang      chan struct{}
	closeOnce sync.Once
}

// Modes of misbehaviour.
const (
	// Normal answers every query correctly.
	Normal int32 = iota
	// Unavailable answers HTTP 503.
	Unavailable
	// Hang never answers (until Close or the client gives up).
	Hang
	// WrongImprint stamps another message than the one asked for.
	WrongImprint
	// NoNonce leaves the query's nonce out, as a replayed answer would.
	NoNonce
	// Rejection answers with a PKI status of rejection.
	Rejection
)

var oidTimeStamping = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}

// Start makes the keys and certificates and serves the TSA on a free
// loopback port until Close.
func Start(o Options) (*TSA, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Validity <= 0 {
		o.Validity = 10 * 365 * 24 * time.Hour
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("devtsa: %w", err)
	}
	base := "http://" + ln.Addr().String()
	t := &TSA{URL: base + "/tsa", CRLURL: base + "/crl", now: o.Now, ln: ln, hang: make(chan struct{})}
	if err := t.makeKeys(o); err != nil {
		ln.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /tsa", t.serveStamp)
	mux.HandleFunc("GET /crl", t.serveCRL)
	t.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go t.srv.Serve(ln)
	return t, nil
}

// Close stops the server; closing twice is harmless.
func (t *TSA) Close() error {
	t.closeOnce.Do(func() { close(t.hang) })
	return t.srv.Close()
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n.Add(n, big.NewInt(1))
}

func (t *TSA) makeKeys(o Options) error {
	start := o.Now().Add(-time.Hour)
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	rootTmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{Organization: []string{"blindpack development"}, CommonName: "blindpack development TSA root"},
		NotBefore: start, NotAfter: start.Add(o.Validity + 365*24*time.Hour),
		IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, rootKey.Public(), rootKey)
	if err != nil {
		return fmt.Errorf("devtsa: root: %w", err)
	}
	if t.Root, err = x509.ParseCertificate(der); err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	// RFC 3161 2.3: exactly one extended key usage, id-kp-timeStamping,
	// marked critical. Go's x509 writes ExtKeyUsage non-critical, so the
	// extension is written by hand.
	eku, err := asn1.Marshal([]asn1.ObjectIdentifier{oidTimeStamping})
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{Organization: []string{"blindpack development"}, CommonName: "blindpack development TSA"},
		NotBefore: start, NotAfter: start.Add(o.Validity),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtraExtensions:       []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku}},
		CRLDistributionPoints: []string{t.CRLURL},
		BasicConstraintsValid: true,
	}
	der, err = x509.CreateCertificate(rand.Reader, tmpl, t.Root, key.Public(), rootKey)
	if err != nil {
		return fmt.Errorf("devtsa: TSA certificate: %w", err)
	}
	if t.Cert, err = x509.ParseCertificate(der); err != nil {
		return err
	}
	t.key, t.rootKey = key, rootKey
	return t.issueCRL()
}

// issueCRL signs a new CRL of the root; the caller holds mu or is alone.
func (t *TSA) issueCRL() error {
	t.crlNum++
	now := t.now()
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(t.crlNum), ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(30 * 24 * time.Hour),
		RevokedCertificateEntries: t.revoked,
	}, t.Root, t.rootKey)
	if err != nil {
		return fmt.Errorf("devtsa: CRL: %w", err)
	}
	t.crl = der
	return nil
}

// RevokeTSA revokes the TSA certificate as of at, in a new CRL.
func (t *TSA) RevokeTSA(at time.Time) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.revoked = append(t.revoked, x509.RevocationListEntry{SerialNumber: t.Cert.SerialNumber, RevocationTime: at})
	return t.issueCRL()
}

// RootPEM is the TSA root in PEM, for a verifier's trusted roots.
func (t *TSA) RootPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: t.Root.Raw})
}

// CRL returns the current CRL (DER).
func (t *TSA) CRL() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]byte(nil), t.crl...)
}

func (t *TSA) serveCRL(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/pkix-crl")
	w.Write(t.CRL())
}

// maxQuery bounds a timestamp query: a real one is under 200 bytes.
const maxQuery = 4 << 10

func (t *TSA) serveStamp(w http.ResponseWriter, r *http.Request) {
	switch t.Mode.Load() {
	case Hang:
		select {
		case <-t.hang:
		case <-r.Context().Done():
		}
		return
	case Unavailable:
		http.Error(w, "TSA unavailable", http.StatusServiceUnavailable)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxQuery+1))
	if err != nil || len(body) > maxQuery {
		http.Error(w, "query too large", http.StatusRequestEntityTooLarge)
		return
	}
	resp, err := t.Stamp(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	t.Requests.Add(1)
	w.Header().Set("Content-Type", "application/timestamp-reply")
	w.Write(resp)
}

// Stamp answers one DER timestamp query with a DER response granting it.
func (t *TSA) Stamp(query []byte) ([]byte, error) {
	req, err := timestamp.ParseRequest(query)
	if err != nil {
		return nil, fmt.Errorf("devtsa: query: %w", err)
	}
	if req.HashAlgorithm == 0 || len(req.HashedMessage) != req.HashAlgorithm.Size() {
		return nil, errors.New("devtsa: query: bad message imprint")
	}
	if t.Mode.Load() == Rejection {
		return timestamp.CreateErrorResponse(timestamp.Rejection, timestamp.BadRequest)
	}
	switch t.Mode.Load() {
	case WrongImprint:
		req.HashedMessage = append([]byte(nil), req.HashedMessage...)
		req.HashedMessage[0] ^= 0xff
	case NoNonce:
		req.Nonce = nil
	}
	ts := timestamp.Timestamp{
		HashAlgorithm:     req.HashAlgorithm,
		HashedMessage:     req.HashedMessage,
		Time:              t.now().UTC().Truncate(time.Second),
		Accuracy:          time.Second,
		Policy:            asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1, 1},
		Nonce:             req.Nonce,
		AddTSACertificate: req.Certificates,
	}
	return ts.CreateResponseWithOpts(t.Cert, t.key, crypto.SHA256)
}
