package result

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/digitorus/pkcs7"
	"github.com/digitorus/timestamp"
)

// TSAConfig names the time-stamping authority (RFC 3161) whose token on
// each signature proves when it was made (PAdES B-T). The zero value means
// no timestamp: the signing time is then only the signer's claim.
type TSAConfig struct {
	// URL of the TSA (HTTP or HTTPS; queries are POSTed as
	// application/timestamp-query).
	URL string
	// Username and Password, for TSAs that want HTTP basic authentication.
	Username, Password string
	// Roots are the TSA's issuing certificates (its root, and any
	// intermediate the token leaves out). They are checked against the
	// token at signing and put in the document security store, so that
	// a verifier years later holds the whole chain.
	Roots []*x509.Certificate
	// Timeout bounds each request to the TSA and each revocation fetch
	// (default 30 s).
	Timeout time.Duration
}

func (c TSAConfig) validate() error {
	if c.URL == "" {
		return nil
	}
	if !strings.HasPrefix(c.URL, "http://") && !strings.HasPrefix(c.URL, "https://") {
		return fmt.Errorf("%w: TSA URL %q: want http:// or https://", ErrConfig, c.URL)
	}
	if c.Timeout < 0 {
		return fmt.Errorf("%w: TSA timeout %v", ErrConfig, c.Timeout)
	}
	return nil
}

func (c TSAConfig) timeout() time.Duration {
	if c.Timeout <= 0 {
		return 30 * time.Second
	}
	return c.Timeout
}

// ErrTSA is wrapped by every failure to obtain a valid timestamp: the TSA
// was unreachable, slow, refused the query or answered something that is
// not a token for it. It is transient: the file is not issued, and a retry
// may succeed.
var ErrTSA = errors.New("result: time-stamping authority")

var (
	oidTimeStampToken = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}
)

// maxTSAReply bounds a TSA's answer: a token with a certificate chain is a
// few kilobytes; pdfsign reserves 9000 bytes for it in the file.
const maxTSAReply = 64 << 10

// The signing library (github.com/digitorus/pdfsign) asks the TSA itself,
// with a fresh http.Client that has no timeout and no context: a TSA that
// accepts the connection and never answers would hang the worker for ever,
// and the query carries no nonce. Rather than fork the library, its query
// is routed, in this one place, through a URL scheme of our own registered
// on http.DefaultTransport: the round tripper below forwards the query to
// the configured TSA under the caller's context and timeout, adds a nonce,
// and refuses any answer that is not a granted, correctly signed token for
// exactly this query. The report for upstream is in the README's notes.
const tsaScheme = "blindpack-tsa"

var (
	tsaRouteOnce sync.Once
	tsaRouteErr  error
	tsaJobs      sync.Map // job id → *tsaJob
)

type tsaJob struct {
	ctx context.Context
	cfg TSAConfig
	mu  sync.Mutex
	// err is the last failure: the library reports only "non success
	// response (0)" for any error of its HTTP client.
	err error
}

func (j *tsaJob) fail(err error) error {
	j.mu.Lock()
	j.err = err
	j.mu.Unlock()
	return err
}

// lastErr is the last failure of the job, if any.
func (j *tsaJob) lastErr() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.err
}

type tsaRoundTripper struct{}

func routeTSA() error {
	tsaRouteOnce.Do(func() {
		tr, ok := http.DefaultTransport.(*http.Transport)
		if !ok {
			tsaRouteErr = fmt.Errorf("%w: http.DefaultTransport is a %T, cannot route timestamp queries", ErrConfig, http.DefaultTransport)
			return
		}
		tr.RegisterProtocol(tsaScheme, tsaRoundTripper{})
	})
	return tsaRouteErr
}

// newTSAJob registers a job and returns the URL to give the library and a
// function that unregisters it.
func newTSAJob(ctx context.Context, cfg TSAConfig) (*tsaJob, string, func(), error) {
	if err := routeTSA(); err != nil {
		return nil, "", nil, err
	}
	var id [12]byte
	rand.Read(id[:])
	key := hex.EncodeToString(id[:])
	job := &tsaJob{ctx: ctx, cfg: cfg}
	tsaJobs.Store(key, job)
	return job, tsaScheme + "://" + key + "/", func() { tsaJobs.Delete(key) }, nil
}

func (tsaRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	v, ok := tsaJobs.Load(req.URL.Host)
	if !ok {
		return nil, fmt.Errorf("%w: no timestamp job %q", ErrTSA, req.URL.Host)
	}
	job := v.(*tsaJob)
	query, err := io.ReadAll(io.LimitReader(req.Body, 4<<10))
	req.Body.Close()
	if err != nil {
		return nil, job.fail(err)
	}
	q, err := timestamp.ParseRequest(query)
	if err != nil {
		return nil, job.fail(fmt.Errorf("%w: query: %v", ErrTSA, err))
	}
	// The library signs again, asking again, when its first signature
	// does not fit the room it reserved: each query gets a fresh answer.
	reply, _, err := askTSA(job.ctx, job.cfg, q.HashAlgorithm, q.HashedMessage)
	if err != nil {
		return nil, job.fail(err)
	}
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/timestamp-reply"}},
		Body:   io.NopCloser(bytes.NewReader(reply)), ContentLength: int64(len(reply)), Request: req,
	}, nil
}

// askTSA asks the TSA of cfg for a token over a message whose hash is
// digest, and checks the answer: granted, a token signed by the
// certificate it carries, that certificate allowed to stamp time, the
// imprint and nonce those of the query, and — when cfg names the TSA's
// roots — a chain to them.
func askTSA(ctx context.Context, cfg TSAConfig, h crypto.Hash, digest []byte) ([]byte, *timestamp.Timestamp, error) {
	nonce, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 63))
	if err != nil {
		return nil, nil, err
	}
	q, err := (&timestamp.Request{HashAlgorithm: h, HashedMessage: digest, Certificates: true, Nonce: nonce}).Marshal()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: query: %v", ErrTSA, err)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.URL, bytes.NewReader(q))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrTSA, err)
	}
	req.Header.Set("Content-Type", "application/timestamp-query")
	if cfg.Username != "" {
		req.SetBasicAuth(cfg.Username, cfg.Password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %v", ErrTSA, cfg.URL, err)
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, maxTSAReply+1))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %v", ErrTSA, cfg.URL, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("%w: %s answered %s", ErrTSA, cfg.URL, resp.Status)
	}
	if len(reply) > maxTSAReply {
		return nil, nil, fmt.Errorf("%w: %s: answer larger than %d bytes", ErrTSA, cfg.URL, maxTSAReply)
	}
	ts, err := timestamp.ParseResponse(reply)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %v", ErrTSA, cfg.URL, err)
	}
	switch {
	case ts.HashAlgorithm != h || !bytes.Equal(ts.HashedMessage, digest):
		return nil, nil, fmt.Errorf("%w: %s: the token is for another message", ErrTSA, cfg.URL)
	case ts.Nonce == nil || ts.Nonce.Cmp(nonce) != 0:
		return nil, nil, fmt.Errorf("%w: %s: the token's nonce is not the query's (a replayed answer?)", ErrTSA, cfg.URL)
	}
	tok, err := readToken(ts.RawToken)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %v", ErrTSA, cfg.URL, err)
	}
	if len(cfg.Roots) > 0 {
		roots, inter := x509.NewCertPool(), x509.NewCertPool()
		for _, c := range cfg.Roots {
			roots.AddCert(c)
		}
		for _, c := range tok.certs {
			inter.AddCert(c)
		}
		if _, err := tok.signer.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: tok.ts.Time,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}); err != nil {
			return nil, nil, fmt.Errorf("%w: %s: the TSA's certificate does not lead to the configured TSA roots: %v", ErrTSA, cfg.URL, err)
		}
	}
	return reply, ts, nil
}

// token is a parsed, cryptographically checked RFC 3161 timestamp token.
type token struct {
	ts     *timestamp.Timestamp
	signer *x509.Certificate
	certs  []*x509.Certificate
}

// readToken parses a TimeStampToken and checks what the token alone can
// prove: it is signed by the certificate it carries, and that certificate
// may stamp time (extended key usage id-kp-timeStamping). Whether the
// certificate is trusted is the caller's question.
func readToken(raw []byte) (*token, error) {
	p7, err := pkcs7.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("timestamp token is not CMS: %v", err)
	}
	if len(p7.Signers) != 1 {
		return nil, fmt.Errorf("timestamp token has %d signers, want 1", len(p7.Signers))
	}
	signer := p7.GetOnlySigner()
	if signer == nil {
		return nil, errors.New("timestamp token does not carry the TSA's certificate")
	}
	// timestamp.Parse checks the token's signature when it carries
	// certificates, which GetOnlySigner has just shown it does.
	ts, err := timestamp.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("timestamp token: %v", err)
	}
	stamps := false
	for _, u := range signer.ExtKeyUsage {
		stamps = stamps || u == x509.ExtKeyUsageTimeStamping
	}
	if !stamps {
		return nil, errors.New("the certificate that signed the timestamp may not stamp time (no id-kp-timeStamping usage)")
	}
	return &token{ts: ts, signer: signer, certs: p7.Certificates}, nil
}

// signatureToken returns the timestamp token in the unsigned attributes of
// a CMS signer, or nil when it has none.
func signatureToken(p7 *pkcs7.PKCS7) ([]byte, error) {
	if len(p7.Signers) != 1 {
		return nil, nil
	}
	var found []byte
	for _, a := range p7.Signers[0].UnauthenticatedAttributes {
		if !a.Type.Equal(oidTimeStampToken) {
			continue
		}
		if found != nil {
			return nil, errors.New("more than one timestamp token on the signature")
		}
		// The attribute's value is a SET holding one token.
		var tok asn1.RawValue
		rest, err := asn1.Unmarshal(a.Value.Bytes, &tok)
		if err != nil || len(rest) > 0 {
			return nil, errors.New("malformed timestamp attribute")
		}
		found = tok.FullBytes
	}
	return found, nil
}
