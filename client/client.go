package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/blindpack/blindpack/api/wire"
)

// Options tune a Client. The zero value is the default.
type Options struct {
	// HTTPClient sends the requests (default: one with a 5-minute
	// timeout — a first download makes a personal copy, then streams
	// it). Its redirect policy is overridden: no route of the API
	// redirects, and the client never follows one with its token.
	HTTPClient *http.Client
	// UserAgent is sent with every request (default
	// "blindpack-client/1").
	UserAgent string
}

// Client calls one blindpack server with one bearer token.
type Client struct {
	base  *url.URL
	token string
	hc    *http.Client
	ua    string
}

// ErrBadAnswer is returned (wrapped) for a success answer that cannot be
// read.
var ErrBadAnswer = errors.New("client: unreadable answer")

// maxAnswer bounds an answer read into memory; a submission with a long
// report is tens of KiB.
const maxAnswer = 16 << 20

// New makes a client of the server at baseURL ("https://blindpack.example")
// using token.
func New(baseURL, token string, opts Options) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: base URL %q: want http(s)://host[:port][/prefix]", baseURL)
	}
	if strings.TrimSpace(token) == "" || strings.ContainsAny(token, "\r\n ") {
		return nil, errors.New("client: a bearer token (one word) is required")
	}
	hc := &http.Client{Timeout: 5 * time.Minute}
	if opts.HTTPClient != nil {
		c := *opts.HTTPClient
		hc = &c
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	ua := opts.UserAgent
	if ua == "" {
		ua = "blindpack-client/1"
	}
	return &Client{base: u, token: token, hc: hc, ua: ua}, nil
}

// send sends a request and returns the answer, its body unread; an error
// answer (4xx, 5xx) is read and closed, and returned as an *Error.
func (c *Client) send(ctx context.Context, method, path string, query url.Values, body []byte) (*http.Response, error) {
	u := *c.base
	u.Path += path
	u.RawQuery = query.Encode()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("client: %s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 400 {
		defer resp.Body.Close()
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
		if err != nil {
			return nil, fmt.Errorf("client: %s %s: %w", method, path, err)
		}
		return nil, answerError(resp, data)
	}
	return resp, nil
}

// do sends a request and returns the answer's status, headers and body;
// an error answer (4xx, 5xx) is an *Error.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body []byte) (int, http.Header, []byte, error) {
	resp, err := c.send(ctx, method, path, query, body)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return e.Status, nil, nil, err
		}
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("client: %s %s: %w", method, path, err)
	}
	return resp.StatusCode, resp.Header, data, nil
}

// answerError reads an error answer into an *Error.
func answerError(resp *http.Response, data []byte) *Error {
	e := &Error{Status: resp.StatusCode, RequestID: resp.Header.Get("X-Request-Id")}
	var w wire.Error
	if json.Unmarshal(data, &w) == nil && w.Code != "" {
		e.Code, e.MessageZH, e.MessageEN, e.Detail = w.Code, w.MessageZH, w.MessageEN, w.Detail
		if w.RequestID != "" {
			e.RequestID = w.RequestID
		}
		return e
	}
	snippet := strings.TrimSpace(string(data))
	if len(snippet) > 200 {
		snippet = snippet[:200] + "…"
	}
	e.MessageEN = http.StatusText(resp.StatusCode) + ": " + snippet
	return e
}

// call sends a request and decodes a success answer into out.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, in, out any) (int, error) {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return 0, fmt.Errorf("client: %w", err)
		}
	}
	status, _, data, err := c.do(ctx, method, path, query, body)
	if err != nil {
		return status, err
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return status, fmt.Errorf("%w: %s %s: %v", ErrBadAnswer, method, path, err)
		}
	}
	return status, nil
}

// Submitted is the answer to Submit.
type Submitted struct {
	wire.Submitted
	// AlreadyQueued is true when the same document was queued before
	// (200): nothing was done.
	AlreadyQueued bool
}

// Submit enqueues a blindpack/submission@1 document whose files are in the
// uploads bucket. Another document under the same id, or the id of
// another applicant or campaign, is ErrSubmissionConflict; a document that
// is not a valid submission is ErrInvalidSubmission.
func (c *Client) Submit(ctx context.Context, doc []byte) (Submitted, error) {
	status, _, data, err := c.do(ctx, http.MethodPost, "/v1/submissions", nil, doc)
	if err != nil {
		return Submitted{}, err
	}
	var s Submitted
	if err := json.Unmarshal(data, &s.Submitted); err != nil {
		return s, fmt.Errorf("%w: submit: %v", ErrBadAnswer, err)
	}
	s.AlreadyQueued = status == http.StatusOK
	return s, nil
}

// Submission reads a submission's state, its application's and its report.
func (c *Client) Submission(ctx context.Context, id string) (wire.Submission, error) {
	var v wire.Submission
	_, err := c.call(ctx, http.MethodGet, "/v1/submissions/"+url.PathEscape(id), nil, nil, &v)
	return v, err
}

// WaitReport polls a submission every interval until its report is
// written (or ctx ends), and returns it.
func (c *Client) WaitReport(ctx context.Context, id string, interval time.Duration) (wire.Submission, error) {
	if interval <= 0 {
		interval = 2 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		v, err := c.Submission(ctx, id)
		if err != nil || len(v.Report) > 0 {
			return v, err
		}
		select {
		case <-ctx.Done():
			return v, fmt.Errorf("client: waiting for the report of %s: %w", id, ctx.Err())
		case <-t.C:
		}
	}
}

// Reprocess runs a submission again, with overrides (pages a person judged
// readable) and a reason.
func (c *Client) Reprocess(ctx context.Context, id string, req wire.ReprocessRequest) (wire.Reprocessed, error) {
	var v wire.Reprocessed
	_, err := c.call(ctx, http.MethodPost, "/v1/submissions/"+url.PathEscape(id)+"/reprocess", nil, req, &v)
	return v, err
}

// Release publishes the staged packet of a held submission (the OCR hit
// was a misreading); the reason is required and audited. ErrNotHeld when
// the submission is not held.
func (c *Client) Release(ctx context.Context, id, reason string) (wire.Resolved, error) {
	var v wire.Resolved
	_, err := c.call(ctx, http.MethodPost, "/v1/submissions/"+url.PathEscape(id)+"/release", nil, wire.ResolveRequest{Reason: reason}, &v)
	return v, err
}

// Return sends a held submission back to the applicant with the OCR hits
// as findings (a return); the reason is required and audited.
func (c *Client) Return(ctx context.Context, id, reason string) (wire.Resolved, error) {
	var v wire.Resolved
	_, err := c.call(ctx, http.MethodPost, "/v1/submissions/"+url.PathEscape(id)+"/return", nil, wire.ResolveRequest{Reason: reason}, &v)
	return v, err
}

// Assign gives a reviewer the packet of an anonymous code.
func (c *Client) Assign(ctx context.Context, anonCode, reviewer string) (wire.Assignment, error) {
	var v wire.Assignment
	_, err := c.call(ctx, http.MethodPost, "/v1/assignments", nil, wire.AssignRequest{AnonCode: anonCode, Reviewer: reviewer}, &v)
	return v, err
}

// Unassign takes a packet from a reviewer.
func (c *Client) Unassign(ctx context.Context, anonCode, reviewer string) (wire.Assignment, error) {
	var v wire.Assignment
	_, err := c.call(ctx, http.MethodDelete, "/v1/assignments/"+url.PathEscape(anonCode)+"/"+url.PathEscape(reviewer), nil, nil, &v)
	return v, err
}

// Assignments lists the assignments of a reviewer (reviewer set), of a
// packet (anonCode set) or all (neither).
func (c *Client) Assignments(ctx context.Context, reviewer, anonCode string) (wire.Assignments, error) {
	q := url.Values{}
	if reviewer != "" {
		q.Set("reviewer", reviewer)
	}
	if anonCode != "" {
		q.Set("anon_code", anonCode)
	}
	var v wire.Assignments
	_, err := c.call(ctx, http.MethodGet, "/v1/assignments", q, nil, &v)
	return v, err
}

// FailureQuery filters Failures; zero fields do not filter.
type FailureQuery struct {
	Campaign, Series, Level, Status, Code string
	Since, Until                          time.Time
	// Limit is the most of each list (default 100, at most 1000).
	Limit int
}

// Failures lists archived tasks of every queue and the applications that
// need an administrator.
func (c *Client) Failures(ctx context.Context, f FailureQuery) (wire.Failures, error) {
	q := url.Values{}
	for k, v := range map[string]string{"campaign": f.Campaign, "series": f.Series, "level": f.Level, "status": f.Status, "code": f.Code} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.Format(time.RFC3339))
	}
	if !f.Until.IsZero() {
		q.Set("until", f.Until.Format(time.RFC3339))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	var v wire.Failures
	_, err := c.call(ctx, http.MethodGet, "/v1/failures", q, nil, &v)
	return v, err
}

// IssueResult queues a blindpack/batch@1 document for signing.
func (c *Client) IssueResult(ctx context.Context, batch []byte) (wire.ResultQueued, error) {
	_, _, data, err := c.do(ctx, http.MethodPost, "/v1/results", nil, batch)
	if err != nil {
		return wire.ResultQueued{}, err
	}
	var v wire.ResultQueued
	if err := json.Unmarshal(data, &v); err != nil {
		return v, fmt.Errorf("%w: issue result: %v", ErrBadAnswer, err)
	}
	return v, nil
}

// Trail reads an application's audit trail, newest first (limit ≤ 0: all).
func (c *Client) Trail(ctx context.Context, campaign, applicant string, limit int) (wire.Trail, error) {
	var v wire.Trail
	_, err := c.call(ctx, http.MethodGet, "/v1/applications/"+url.PathEscape(campaign)+"/"+url.PathEscape(applicant)+"/audit", limitQuery(limit), nil, &v)
	return v, err
}

// SubmissionTrail is Trail for the application of a submission.
func (c *Client) SubmissionTrail(ctx context.Context, id string, limit int) (wire.Trail, error) {
	var v wire.Trail
	_, err := c.call(ctx, http.MethodGet, "/v1/submissions/"+url.PathEscape(id)+"/audit", limitQuery(limit), nil, &v)
	return v, err
}

func limitQuery(limit int) url.Values {
	if limit <= 0 {
		return nil
	}
	return url.Values{"limit": {strconv.Itoa(limit)}}
}

// Packets lists the packets assigned to the reviewer whose token this is.
func (c *Client) Packets(ctx context.Context) (wire.Packets, error) {
	var v wire.Packets
	_, err := c.call(ctx, http.MethodGet, "/v1/packets", nil, nil, &v)
	return v, err
}

// PacketFile is a reviewer's personal copy of a packet as the server
// streams it: read it to the end, then Close it.
type PacketFile struct {
	io.ReadCloser
	// Name is the file name the server gives it, "<anon_code>.pdf".
	Name string
	// Size is its length in bytes (-1 when the server did not say).
	Size int64
	// RequestID is the answer's request id, as in the server's log and
	// the download's audit event.
	RequestID string
}

// Packet downloads the reviewer's personal, stamped copy of a packet,
// made on the first download. The server checks the assignment on this
// request and streams the copy (application/pdf); a packet not assigned
// to the reviewer is ErrNotAssigned (and audited), one not downloadable
// now ErrPacketUnavailable. The caller reads and closes the file.
func (c *Client) Packet(ctx context.Context, anonCode string) (*PacketFile, error) {
	path := "/v1/packets/" + url.PathEscape(anonCode)
	resp, err := c.send(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return nil, err
	}
	ctype, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != http.StatusOK || ctype != "application/pdf" {
		resp.Body.Close()
		return nil, fmt.Errorf("%w: GET %s: %d %s, want 200 application/pdf", ErrBadAnswer, path, resp.StatusCode, ctype)
	}
	f := &PacketFile{ReadCloser: resp.Body, Name: anonCode + ".pdf", Size: resp.ContentLength, RequestID: resp.Header.Get("X-Request-Id")}
	if _, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); err == nil && params["filename"] != "" {
		f.Name = filepath.Base(params["filename"])
	}
	return f, nil
}

// SavePacket downloads the reviewer's copy of a packet (Packet) into w and
// returns how many bytes it wrote; a copy cut short is an error.
func (c *Client) SavePacket(ctx context.Context, anonCode string, w io.Writer) (int64, error) {
	f, err := c.Packet(ctx, anonCode)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n, err := io.Copy(w, f)
	if err != nil {
		return n, fmt.Errorf("client: download packet %s: %w", anonCode, err)
	}
	if f.Size >= 0 && n != f.Size {
		return n, fmt.Errorf("%w: packet %s: %d bytes of %d", ErrBadAnswer, anonCode, n, f.Size)
	}
	return n, nil
}

// OpenAPI returns the server's OpenAPI 3.1 document (JSON).
func (c *Client) OpenAPI(ctx context.Context) ([]byte, error) {
	_, _, data, err := c.do(ctx, http.MethodGet, "/v1/openapi.json", nil, nil)
	return data, err
}
