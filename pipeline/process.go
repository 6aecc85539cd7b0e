package pipeline

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/blindpack/blindpack/internal/pdfkit"
	"github.com/blindpack/blindpack/pipeline/clarity"
	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/identity"
	"github.com/blindpack/blindpack/pipeline/mask"
	"github.com/blindpack/blindpack/pipeline/packet"
	"github.com/blindpack/blindpack/pipeline/policy"
	"github.com/blindpack/blindpack/pipeline/scan"
	"github.com/blindpack/blindpack/pipeline/verify"
)

// Source opens a material's file by the reference in the submission (an
// object key, or a path relative to a directory). It returns an error
// wrapping ErrFileNotFound or ErrInvalidFile for the applicant's mistakes;
// any other error is taken as transient.
type Source interface {
	Open(ctx context.Context, file string) (io.ReadCloser, error)
}

// SourceFunc adapts a function to Source.
type SourceFunc func(ctx context.Context, file string) (io.ReadCloser, error)

// Open calls f.
func (f SourceFunc) Open(ctx context.Context, file string) (io.ReadCloser, error) {
	return f(ctx, file)
}

// Config configures a Pipeline. Policy and Limits have defaults; AnonSecret
// and Font are required.
type Config struct {
	// Policy defaults to policy.Default().
	Policy *policy.Policy
	// AnonSecret keys the anonymous applicant code; at least 16 bytes,
	// the same for every worker of a deployment.
	AnonSecret []byte
	// Font sets the cover and watermark text.
	Font *pdfkit.Font
	// Limits bound each uploaded file.
	Limits scan.Limits
	// JPEGQuality for encoding again the pages masked in their pixels
	// (default 90; packet.Options).
	JPEGQuality int
	// Logger defaults to discarding.
	Logger *slog.Logger
}

// Validate checks the configuration.
func (c Config) Validate() error {
	switch {
	case len(c.AnonSecret) < 16:
		return fmt.Errorf("%w: the anonymous-code secret must be at least 16 bytes", ErrConfig)
	case c.Font == nil:
		return fmt.Errorf("%w: no font", ErrConfig)
	case c.JPEGQuality < 0 || c.JPEGQuality > 100:
		return fmt.Errorf("%w: JPEG quality %d", ErrConfig, c.JPEGQuality)
	}
	return nil
}

// Pipeline runs the stages on submissions. It is safe for concurrent use.
type Pipeline struct {
	cfg Config
	log *slog.Logger
}

// New checks cfg and returns a Pipeline.
func New(cfg Config) (*Pipeline, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Policy == nil {
		cfg.Policy = policy.Default()
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Pipeline{cfg: cfg, log: log}, nil
}

// Policy returns the policy in use.
func (p *Pipeline) Policy() *policy.Policy { return p.cfg.Policy }

// AnonCode returns the anonymous code of an applicant.
func (p *Pipeline) AnonCode(campaign, applicantID string) string {
	return AnonCode(p.cfg.AnonSecret, campaign, applicantID)
}

// Output receives a packet as it is written, and gives it back to be
// verified once finished: an *os.File, typically.
type Output interface {
	io.Writer
	io.ReaderAt
}

// Process checks a submission and, when it passes, writes its packet to
// out and verifies the finished bytes. The report says whether it was
// accepted: when it is not, whatever was written to out must be discarded.
// An error means the run could not finish (a transient failure, or ctx was
// cancelled) and no report exists; running it again is safe.
func (p *Pipeline) Process(ctx context.Context, sub *Submission, src Source, out Output) (*Report, error) {
	return p.ProcessWith(ctx, sub, src, out, Options{})
}

// Options are an administrator's instructions for one run.
type Options struct {
	// Overrides accept pages that the clarity check would reject.
	Overrides []Override
	// Progress, when set, is called after each page and each material.
	Progress func(Progress)
	// Observe, when set, is told how long each stage took: "fetch" (reading
	// a file), "open" (parsing it), "check" (decoding and measuring a page),
	// "build" (masking and writing a page, and closing the packet) and
	// "verify". For metrics; it must be cheap.
	Observe func(stage string, d time.Duration)
}

// Progress is how far a run has come. Pages is the number of pages in the
// materials opened so far: a material's pages are known once it is read.
type Progress struct {
	Materials, MaterialsDone int
	Pages, PagesDone         int
}

// Override is an administrator's decision that a page a check flagged is
// fine after all ("谁审核、谁负责": it names who decided and why). It
// applies to the clarity checks only: a file that cannot be read, or a
// missing mask, is not a matter of judgement.
type Override struct {
	// Material is the 0-based material index; Page 1-based in its file.
	Material int       `json:"material"`
	Page     int       `json:"page"`
	Reason   string    `json:"reason"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
	// Codes are the findings the override set aside in this run.
	Codes []finding.Code `json:"codes,omitempty"`
}

// ErrBadOverride is returned for an override that names no page or no
// one, or gives no reason.
var ErrBadOverride = errors.New("pipeline: invalid override")

// ErrBadReason is returned (wrapped) for an administrator's reason that
// cannot go into a report and an audit trail as it is.
var ErrBadReason = errors.New("pipeline: invalid reason")

// Limits on what an administrator asks of one run.
const (
	// MaxReason is the most characters a reason may have: a sentence or
	// two, which goes into the report and the audit trail.
	MaxReason = 500
	// MaxOverrides is the most pages one run may accept.
	MaxOverrides = 200
)

// CheckReason checks an administrator's reason, trimmed of surrounding
// space: present when required, at most MaxReason characters, valid UTF-8
// on one line, no control characters (a NUL or a line break would forge
// lines in logs and audit listings). The API and the console both ask it,
// so that a reason one accepts the other accepts too.
func CheckReason(reason string, required bool) error {
	reason = strings.TrimSpace(reason)
	switch {
	case required && reason == "":
		return fmt.Errorf("%w: a reason is required", ErrBadReason)
	case !utf8.ValidString(reason):
		return fmt.Errorf("%w: not valid UTF-8", ErrBadReason)
	case utf8.RuneCountInString(reason) > MaxReason:
		return fmt.Errorf("%w: longer than %d characters", ErrBadReason, MaxReason)
	case strings.IndexFunc(reason, unicode.IsControl) >= 0:
		return fmt.Errorf("%w: control characters or line breaks", ErrBadReason)
	}
	return nil
}

// CheckOverrides checks an administrator's overrides against the
// submission they are for: each names one of its materials (0-based) and a
// page (1-based), there are at most MaxOverrides, and each has a reason
// CheckReason accepts. Whether the page exists is known only once the file
// is read; an override of a page that does not exist sets nothing aside.
func CheckOverrides(sub *Submission, overrides []Override) error {
	if len(overrides) > MaxOverrides {
		return fmt.Errorf("%w: %d overrides, at most %d", ErrBadOverride, len(overrides), MaxOverrides)
	}
	for _, o := range overrides {
		if o.Material < 0 || o.Material >= len(sub.Materials) || o.Page < 1 {
			return fmt.Errorf("%w: material %d page %d: the submission has materials 0 to %d, pages count from 1",
				ErrBadOverride, o.Material, o.Page, len(sub.Materials)-1)
		}
		if err := CheckReason(o.Reason, true); err != nil {
			return err
		}
	}
	return nil
}

// ProcessWith is Process with an administrator's options.
func (p *Pipeline) ProcessWith(ctx context.Context, sub *Submission, src Source, out Output, opts Options) (*Report, error) {
	if err := CheckOverrides(sub, opts.Overrides); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadOverride, err)
	}
	overrides := map[[2]int]*Override{}
	for i := range opts.Overrides {
		o := &opts.Overrides[i]
		if strings.TrimSpace(o.By) == "" {
			return nil, fmt.Errorf("%w: material %d page %d: nobody", ErrBadOverride, o.Material, o.Page)
		}
		o.Codes = nil
		overrides[[2]int{o.Material, o.Page}] = o
	}
	r := NewReport(sub.Campaign, sub.ApplicantID, sub.SubmissionID)
	r.Overrides = opts.Overrides
	log := p.log.With("submission", sub.SubmissionID)
	if f := sub.check(p.cfg.Policy); len(f) > 0 {
		log.Info("submission rejected before reading files", "findings", len(f))
		return r.Reject(f...), nil
	}
	r.AnonCode = p.AnonCode(sub.Campaign, sub.ApplicantID)

	series, _ := p.cfg.Policy.Series(sub.Series)
	level, _ := p.cfg.Policy.Level(sub.Level)
	b, err := packet.New(out, packet.Header{
		AnonCode: r.AnonCode, Campaign: sub.Campaign,
		SeriesZH: series.ZH, SeriesEN: series.EN, LevelZH: level.ZH, LevelEN: level.EN,
	}, packet.Options{Font: p.cfg.Font, JPEGQuality: p.cfg.JPEGQuality})
	if err != nil {
		return nil, err
	}

	run := &run{p: p, sub: sub, src: src, b: b, log: log, overrides: overrides, report: opts.Progress, observe: opts.Observe}
	run.progress.Materials = len(sub.Materials)
	for _, i := range p.materialOrder(sub) {
		if err := run.material(ctx, i); err != nil {
			return nil, err
		}
		run.progress.MaterialsDone++
		run.tick()
	}
	run.repeats()
	if len(run.findings) > 0 {
		log.Info("submission rejected", "findings", len(run.findings))
		return r.Reject(run.findings...), nil
	}
	start := time.Now()
	res, err := b.Close()
	run.since("build", start)
	if err != nil {
		return nil, fmt.Errorf("pipeline: write packet: %w", err)
	}
	info := packetInfo(res)
	// Fail closed: the finished bytes are read back and checked by code
	// that does not share the writer's assumptions. A packet with any
	// problem is never published.
	start = time.Now()
	probs, err := verify.Packet(ctx, out, res.Bytes, Expectation(sub, info))
	run.since("verify", start)
	if err != nil {
		return nil, err
	}
	if len(probs) > 0 {
		log.Error("packet failed verification", "problems", len(probs), "first", redact(probs[0].String(), sub.Identity))
		return r.Reject(verifyFindings(probs, info, sub)...), nil
	}
	r.Status = Accepted
	r.Packet = info
	log.Info("submission accepted", "anon_code", r.AnonCode, "pages", res.Pages, "bytes", res.Bytes)
	return r, nil
}

// Expectation tells the verifier what must not appear in a submission's
// packet and where its masks are, by packet page.
func Expectation(sub *Submission, info *PacketInfo) verify.Expect {
	exp := verify.Expect{Identity: verify.Identity{Name: sub.Identity.Name, Employer: sub.Identity.Employer}, Masks: map[int][][4]float64{}}
	for _, e := range info.Index {
		for _, pp := range e.Pages {
			for _, m := range sub.Materials[e.Material].Masks {
				if m.Page == pp[0] {
					exp.Masks[pp[1]] = append(exp.Masks[pp[1]], m.Rect)
				}
			}
		}
	}
	return exp
}

// verifyFindings turns verifier problems into findings, placing a problem
// on a packet page back on its material and source page.
func verifyFindings(probs []verify.Problem, info *PacketInfo, sub *Submission) []finding.Finding {
	var out []finding.Finding
	for _, pr := range probs {
		// Where never quotes the identity by design, but a parser error in
		// it could quote a leaked packet's bytes.
		f := finding.New(pr.Code, finding.Args{Page: pr.Page, Value: redact(pr.Where, sub.Identity)})
		f.Detail = redact(pr.String(), sub.Identity)
		for _, e := range info.Index {
			for _, pp := range e.Pages {
				if pp[1] == pr.Page {
					i := e.Material
					f.Material, f.Type, f.Page = &i, sub.Materials[i].Type, pp[0]
				}
			}
		}
		out = append(out, f)
	}
	return out
}

func packetInfo(res packet.Result) *PacketInfo {
	info := &PacketInfo{Pages: res.Pages, Bytes: res.Bytes, SHA256: hex.EncodeToString(res.SHA256), Index: []IndexEntry{}}
	for _, e := range res.Index {
		info.Index = append(info.Index, IndexEntry{Material: e.Material, Type: e.Type, Pages: e.Pages})
	}
	return info
}

// materialOrder lists material indices in packet order: reviewers'
// materials by the policy's packet order, then administrators' materials,
// which are checked but not placed in the packet.
func (p *Pipeline) materialOrder(sub *Submission) []int {
	order := make([]int, len(sub.Materials))
	for i := range order {
		order[i] = i
	}
	rank := func(i int) int {
		spec, _ := p.cfg.Policy.Material(sub.Materials[i].Type)
		if spec.Audience != policy.Reviewers {
			return 1 << 20
		}
		return p.cfg.Policy.PacketRank(sub.Materials[i].Type)
	}
	slices.SortStableFunc(order, func(a, b int) int { return rank(a) - rank(b) })
	return order
}

// run is the state of one Process call.
type run struct {
	p        *Pipeline
	sub      *Submission
	src      Source
	b        *packet.Builder
	log      *slog.Logger
	findings []finding.Finding
	// overrides by [material, page].
	overrides map[[2]int]*Override
	progress  Progress
	report    func(Progress)
	observe   func(string, time.Duration)
	// identity matches the applicant's identity in text layers; made at
	// the first page that has one.
	identity *identity.Matcher
	// seen holds every page measured, for repeats.
	seen []seenPage
}

// since reports a stage's duration to the observer, if any.
func (r *run) since(stage string, start time.Time) {
	if r.observe != nil {
		r.observe(stage, time.Since(start))
	}
}

func (r *run) tick() {
	if r.report != nil {
		r.report(r.progress)
	}
}

func (r *run) add(i int, spec policy.Material, err error) {
	var fe *finding.Error
	if !errors.As(err, &fe) {
		fe = finding.Errorf(finding.CorruptFile, 0, "", err)
	}
	f := finding.New(fe.Code, finding.Args{MaterialZH: spec.ShortZH, MaterialEN: spec.EN, Page: fe.Page, Value: fe.Value,
		Measured: fe.Measured, Threshold: fe.Threshold})
	f.Material, f.Type = &i, r.sub.Materials[i].Type
	r.findings = append(r.findings, f)
	r.log.Info("finding", "material", i, "type", f.Type, "page", f.Page, "code", f.Code, "detail", redact(fe.Error(), r.sub.Identity))
}

// fileErr records a failure to read a material's file as a finding, or
// returns it when it is the engine's (scan.ErrEngine) rather than the
// file's, so that the task is retried instead of costing a return.
func (r *run) fileErr(i int, spec policy.Material, err error) error {
	if errors.Is(err, scan.ErrEngine) {
		return err
	}
	r.add(i, spec, err)
	return nil
}

// material checks one material and, when it is for reviewers and nothing
// has been found wrong so far, adds its pages to the packet. It returns an
// error only for failures that are not the applicant's.
func (r *run) material(ctx context.Context, i int) error {
	m := r.sub.Materials[i]
	spec, _ := r.p.cfg.Policy.Material(m.Type)
	start := time.Now()
	data, release, err := r.fetchPooled(ctx, m.File)
	defer release()
	r.since("fetch", start)
	if err != nil {
		var fe *finding.Error
		if errors.As(err, &fe) {
			r.add(i, spec, fe)
			return nil
		}
		return err
	}
	start = time.Now()
	f, err := scan.Open(data, r.p.cfg.Limits)
	r.since("open", start)
	if err != nil {
		return r.fileErr(i, spec, err)
	}
	n := f.NumPages()
	r.progress.Pages += n
	if n > spec.MaxPages {
		r.add(i, spec, finding.Errorf(finding.TooManyPages, 0, fmt.Sprintf("%d > %d", n, spec.MaxPages), nil))
		return nil
	}
	masks := map[int][]mask.Rect{}
	for _, mk := range m.Masks {
		if mk.Page > n {
			r.add(i, spec, finding.Errorf(finding.MaskOutOfRange, mk.Page, fmt.Sprint(n), nil))
			continue
		}
		masks[mk.Page] = append(masks[mk.Page], mk.Rect)
	}
	forReviewers := spec.Audience == policy.Reviewers
	f.SetTextNeed(r.textNeed(forReviewers))
	if forReviewers && len(r.findings) == 0 {
		r.b.BeginMaterial(i, m.Type, spec.ShortZH, spec.EN, n)
	}
	for pg := 1; pg <= n; pg, r.progress.PagesDone = pg+1, r.progress.PagesDone+1 {
		r.tick()
		if err := ctx.Err(); err != nil {
			return err
		}
		page, err := f.Page(pg)
		if err != nil {
			if err := r.fileErr(i, spec, err); err != nil {
				return err
			}
			continue
		}
		if forReviewers {
			r.checkText(i, spec, page, masks[pg])
		}
		// A JPEG page is measured from a reduced decode of its luminance,
		// which also proves the file whole, and the packet rewrites it from
		// its coefficients (scan.CanonicalJPEG), read once for both
		// (scan.MeasureRewritePage); its masks are burned into the
		// coefficients of the blocks they touch (scan.MeasureMaskPage),
		// and only a page that cannot take them so is decoded in full
		// for them (a grey page read once for both:
		// scan.MeasureDecodePage). Other pages are decoded once, for both.
		var img image.Image
		var m clarity.Measures
		start := time.Now()
		toPacket := forReviewers && len(r.findings) == 0
		switch {
		case page.Encoding == scan.EncJPEG && toPacket && len(masks[pg]) == 0:
			m, err = scan.MeasureRewritePage(page, r.b.JPEGQuality())
		case page.Encoding == scan.EncJPEG && toPacket:
			var burned bool
			if m, burned, err = scan.MeasureMaskPage(page, mask.StoredAll(page, masks[pg])); err == nil && !burned {
				m, img, err = scan.MeasureDecodePage(page)
			}
		case page.Encoding == scan.EncJPEG:
			m, err = scan.MeasurePage(page)
		default:
			if img, err = page.Decode(); err == nil {
				m = scan.Measure(img, page)
			}
		}
		if err != nil {
			if err := r.fileErr(i, spec, err); err != nil {
				return err
			}
			continue
		}
		r.seen = append(r.seen, seenPage{material: i, page: pg, hash: m.Hash, masked: len(masks[pg]) > 0, forReviewers: forReviewers})
		passed := r.clarity(i, spec, page, m)
		r.since("check", start)
		if !passed || !forReviewers || len(r.findings) > 0 {
			continue // checked; nothing more to build
		}
		start = time.Now()
		if err := r.b.AddPage(page, img, masks[pg]); err != nil {
			var fe *finding.Error
			if errors.As(err, &fe) { // the codec refused the page: the applicant's file
				r.add(i, spec, err)
				continue
			}
			return fmt.Errorf("pipeline: packet page: %w", err)
		}
		r.since("build", start)
	}
	return nil
}

// fetchPooled reads a material's file whole, bounded by the size limit,
// into a buffer of fileBufs, which the caller gives
// back with release once nothing refers to them any more: nothing of an
// opened file outlives its material (pages copy what goes into the packet).
func (r *run) fetchPooled(ctx context.Context, file string) (data []byte, release func(), err error) {
	buf := fileBufs.Get().(*bytes.Buffer)
	buf.Reset()
	release = func() {
		if buf.Cap() <= maxPooledFile {
			fileBufs.Put(buf)
		}
	}
	data, err = r.read(ctx, file, buf)
	if err != nil {
		release()
		return nil, func() {}, err
	}
	return data, release, nil
}

// fetch is fetchPooled for a caller that keeps the bytes: they are its own.
func (r *run) fetch(ctx context.Context, file string) ([]byte, error) {
	return r.read(ctx, file, new(bytes.Buffer))
}

// fileBufs keeps read buffers from one material to the next: a worker
// reads file after file of much the same size, and reusing the buffers
// keeps a packet's garbage — and with it the process's peak while another
// packet is verified — down.
var fileBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledFile is the largest buffer kept for reuse; a rare large PDF
// should not pin its memory.
const maxPooledFile = 16 << 20

func (r *run) read(ctx context.Context, file string, buf *bytes.Buffer) ([]byte, error) {
	rc, err := r.src.Open(ctx, file)
	switch {
	case errors.Is(err, ErrFileNotFound):
		return nil, finding.Errorf(finding.FileMissing, 0, "", err)
	case errors.Is(err, ErrInvalidFile):
		return nil, finding.Errorf(finding.InvalidField, 0, "file", err)
	case err != nil:
		return nil, fmt.Errorf("pipeline: open material: %w", err)
	}
	defer rc.Close()
	limit := r.p.cfg.Limits.MaxFileBytes
	if limit <= 0 {
		limit = 50 << 20
	}
	if _, err := buf.ReadFrom(io.LimitReader(rc, limit+1)); err != nil {
		return nil, fmt.Errorf("pipeline: read material: %w", err)
	}
	if int64(buf.Len()) > limit {
		return nil, finding.Errorf(finding.FileTooLarge, 0, fmt.Sprintf("> %d MiB", limit>>20), nil)
	}
	return buf.Bytes(), nil
}

// redact removes the applicant's name and employer from text bound for a
// log: a parser's error can quote bytes of the uploaded file, and the file
// may hold them. The text is also cut short, for the same reason.
func redact(s string, id Identity) string {
	for _, x := range []string{id.Name, id.Employer} {
		if x = strings.TrimSpace(x); x != "" {
			s = strings.ReplaceAll(s, x, "[identity]")
		}
	}
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
