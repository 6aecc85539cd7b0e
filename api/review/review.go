package review

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"image"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/blindpack/blindpack/api/people"
	"github.com/blindpack/blindpack/pipeline/policy"
	"github.com/blindpack/blindpack/state"
	"github.com/blindpack/blindpack/storage"
)

// Prefix is where the portal is mounted.
const Prefix = "/review/"

// Packet is one packet in a reviewer's list: nothing about the applicant
// but the anonymous code.
type Packet struct {
	AnonCode, Campaign string
	Series, Level      string
	// Pages is the packet's page count (0 when it is not available).
	Pages int
	// Available says whether the packet can be opened now (its
	// application is accepted and the packet published).
	Available  bool
	AssignedAt time.Time
	// ReviewedAt is when the reviewer marked it reviewed (zero: not yet).
	ReviewedAt time.Time
}

// Copy is a reviewer's personal copy of a packet, as stored.
type Copy struct {
	Key    string
	SHA256 string
	Size   int64
	Pages  int
	// At is the time stamped on its pages.
	At time.Time
	// Made is true when the copy was made for this request.
	Made bool
	// Submission is the submission whose packet was copied, for audits.
	Submission string
}

// Errors a Source returns.
var (
	// ErrNotAssigned: the packet is not assigned to the reviewer.
	ErrNotAssigned = errors.New("review: packet not assigned to this reviewer")
	// ErrUnavailable: the packet cannot be handed out now (not accepted,
	// withdrawn, being replaced, or no such packet).
	ErrUnavailable = errors.New("review: packet not available")
)

// Source is what the portal needs from the server: the reviewer's
// packets, their personal copies, and the audit trail of the application
// a packet belongs to. Package api implements it with the same code as
// its /v1/packets routes.
type Source interface {
	// Packets lists the packets assigned to reviewer.
	Packets(ctx context.Context, reviewer string) ([]Packet, error)
	// Copy returns reviewer's copy of the packet of anon, made now if
	// needed. It checks the assignment itself (ErrNotAssigned).
	Copy(ctx context.Context, anon, reviewer string) (Copy, error)
	// Audit records ev in the trail of the application anon belongs to,
	// or in the security trail when no application has that code.
	Audit(ctx context.Context, anon string, ev state.Event) error
}

// Renderer draws one page of a PDF file (ocr.Poppler satisfies it; so
// will a sandboxed in-process renderer).
type Renderer interface {
	Render(ctx context.Context, pdfPath string, page, dpi int) (image.Image, error)
}

// Config tunes the portal. The zero value is the default.
type Config struct {
	// DPI is the resolution pages are drawn at (default 110: an A4 page
	// 910 px wide, sharp on a laptop, readable on a phone by zooming).
	DPI int
	// CacheBytes bounds the drawn pages kept in memory (default 64 MiB).
	CacheBytes int64
	// CopyFiles bounds the copies kept on disk to draw from (default 4).
	CopyFiles int
	// TempDir holds those copies (default the system's).
	TempDir string
}

// Validate reports the first mistake in c.
func (c Config) Validate() error {
	if c.DPI < 0 || c.DPI > 300 || c.CacheBytes < 0 || c.CopyFiles < 0 {
		return errors.New("review: config: DPI 0–300, CacheBytes and CopyFiles not negative")
	}
	return nil
}

// Deps are what the portal works with; all but Policy, ClientAddr, Log
// and Now are required.
type Deps struct {
	Site     *people.Site
	State    *state.Store
	Source   Source
	Packets  storage.Store
	Renderer Renderer
	// Policy names series and levels (default policy.Default()).
	Policy     *policy.Policy
	ClientAddr func(r *http.Request) string
	Log        *slog.Logger
}

// Portal is the reviewers' portal.
type Portal struct {
	cfg   Config
	d     Deps
	log   *slog.Logger
	pol   *policy.Policy
	pages *people.Pages
	cache *pageCache
	files *copyFiles
	mux   *http.ServeMux
}

//go:embed templates/*.html
var templateFS embed.FS

var audience = people.Audience{Name: "review", TitleZH: "评审专家", TitleEN: "Reviewers", Home: Prefix,
	Nav: []people.Link{{Href: Prefix, ZH: "我的材料包", EN: "My packets", ID: "nav-packets"}}}

// New checks the configuration and dependencies and builds the portal.
func New(cfg Config, d Deps) (*Portal, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Site == nil || d.State == nil || d.Source == nil || d.Packets == nil || d.Renderer == nil {
		return nil, errors.New("review: Site, State, Source, Packets and Renderer are required")
	}
	if cfg.DPI == 0 {
		cfg.DPI = 110
	}
	if cfg.CacheBytes == 0 {
		cfg.CacheBytes = 64 << 20
	}
	if cfg.CopyFiles == 0 {
		cfg.CopyFiles = 4
	}
	p := &Portal{cfg: cfg, d: d, log: d.Log, pol: d.Policy}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.pol == nil {
		p.pol = policy.Default()
	}
	if p.d.ClientAddr == nil {
		p.d.ClientAddr = func(r *http.Request) string { return r.RemoteAddr }
	}
	p.cache = newPageCache(cfg.CacheBytes)
	p.files = newCopyFiles(cfg.CopyFiles, cfg.TempDir, d.Packets)
	var err error
	if p.pages, err = d.Site.Pages(audience, templateFS, template.FuncMap{}, "list", "packet"); err != nil {
		return nil, err
	}
	p.mux = http.NewServeMux()
	p.mux.HandleFunc("GET /review/{$}", p.list)
	p.mux.HandleFunc("GET /review/packets/{anon}", p.packet)
	p.mux.HandleFunc("GET /review/packets/{anon}/pages/{page}", p.page)
	p.mux.HandleFunc("GET /review/packets/{anon}/download", p.download)
	p.mux.HandleFunc("POST /review/packets/{anon}/reviewed", p.reviewed)
	p.mux.HandleFunc("/review/", func(w http.ResponseWriter, r *http.Request) {
		p.pages.Error(w, r, http.StatusNotFound, "页面不存在。", "No such page.")
	})
	return p, nil
}

// Handler serves every URL under Prefix, behind the reviewers' gate.
func (p *Portal) Handler() http.Handler { return p.d.Site.Require(state.RoleReviewer, p.mux) }

// Close removes the copies kept on disk.
func (p *Portal) Close() { p.files.close() }

type label struct{ ZH, EN string }

func (p *Portal) series(s string) label {
	if l, ok := p.pol.Series(s); ok {
		return label{l.ZH, l.EN}
	}
	return label{"", s}
}

func (p *Portal) level(s string) label {
	if l, ok := p.pol.Level(s); ok {
		return label{l.ZH, l.EN}
	}
	return label{"", s}
}

type packetRow struct {
	Packet
	SeriesL, LevelL label
	Href            string
	Assigned        string
	Reviewed        string
}

type listView struct {
	Reviewer    string
	Rows        []packetRow
	Done, Total int
	Percent     int
}

// list shows the reviewer's packets and progress.
func (p *Portal) list(w http.ResponseWriter, r *http.Request) {
	v := people.FromContext(r.Context())
	pk, err := p.d.Source.Packets(r.Context(), v.Account)
	if err != nil {
		p.pages.InternalError(w, r, "packets", err)
		return
	}
	lv := &listView{Reviewer: v.Account, Total: len(pk)}
	for _, x := range pk {
		row := packetRow{Packet: x, SeriesL: p.series(x.Series), LevelL: p.level(x.Level), Href: Prefix + "packets/" + x.AnonCode,
			Assigned: people.Beijing(x.AssignedAt), Reviewed: people.Beijing(x.ReviewedAt)}
		if !x.ReviewedAt.IsZero() {
			lv.Done++
		}
		lv.Rows = append(lv.Rows, row)
	}
	if lv.Total > 0 {
		lv.Percent = lv.Done * 100 / lv.Total
	}
	p.pages.Show(w, r, http.StatusOK, "list", "我的材料包 My packets", lv)
}

// assigned answers the refusal of a packet not assigned to the visitor —
// the same 403 whether or not the packet exists — and records the
// attempt in the audit trail (not only the log). It reports whether the
// request may go on.
func (p *Portal) assigned(w http.ResponseWriter, r *http.Request, what string) (string, *people.Visitor, bool) {
	ctx := r.Context()
	v := people.FromContext(ctx)
	anon := r.PathValue("anon")
	if !validAnon(anon) {
		p.pages.Error(w, r, http.StatusNotFound, "没有这个材料包。", "No such packet.")
		return "", nil, false
	}
	ok, err := p.d.State.IsAssigned(ctx, anon, v.Account)
	if err != nil {
		p.pages.InternalError(w, r, "is assigned", err)
		return "", nil, false
	}
	if !ok {
		p.refuse(w, r, v, anon, what)
		return "", nil, false
	}
	return anon, v, true
}

// refuse answers 403 for a packet not assigned to v and audits it.
func (p *Portal) refuse(w http.ResponseWriter, r *http.Request, v *people.Visitor, anon, what string) {
	p.log.Warn("review: refused a packet not assigned", "reviewer", v.Account, "anon_code", anon, "what", what, "remote", p.d.ClientAddr(r))
	ev := state.Event{Actor: v.Actor(), Action: "access_refused", From: p.d.ClientAddr(r),
		Detail: fmt.Sprintf("packet %s: %s refused, not assigned to this reviewer (portal)", anon, what)}
	if err := p.d.Source.Audit(r.Context(), anon, ev); err != nil {
		p.log.Error("review: audit refusal", "err", err)
	}
	p.pages.Error(w, r, http.StatusForbidden, "这个材料包没有分配给您。", "This packet is not assigned to you.")
}

// copyFor returns the visitor's copy of anon, answering the error itself
// when there is none to be had.
func (p *Portal) copyFor(w http.ResponseWriter, r *http.Request, v *people.Visitor, anon, what string) (Copy, bool) {
	c, err := p.d.Source.Copy(r.Context(), anon, v.Account)
	switch {
	case errors.Is(err, ErrNotAssigned):
		// Unassigned between the check and now.
		p.refuse(w, r, v, anon, what)
		return Copy{}, false
	case errors.Is(err, ErrUnavailable):
		p.pages.Error(w, r, http.StatusNotFound, "材料包暂不可用（未通过、已撤下或正在更新），请稍后再试。",
			"The packet is not available (not accepted, withdrawn, or being replaced); try again later.")
		return Copy{}, false
	case err != nil:
		p.pages.InternalError(w, r, "personal copy", err)
		return Copy{}, false
	}
	return c, true
}

type packetView struct {
	Packet
	SeriesL, LevelL label
	Reviewer        string
	Pages           []pageRow
	Stamped         string
	Download        string
	Mark            string
	Done            bool
	Reviewed        string
	CSRF            string
	FileName        string
	SizeKiB         int64
}

type pageRow struct {
	N   int
	Src string
}

func (pv *packetView) Title() string { return pv.AnonCode + " · 材料包 Packet" }

// packet shows a packet: every page drawn from the reviewer's copy, the
// download, and the review mark.
func (p *Portal) packet(w http.ResponseWriter, r *http.Request) {
	anon, v, ok := p.assigned(w, r, "view")
	if !ok {
		return
	}
	ctx := r.Context()
	c, ok := p.copyFor(w, r, v, anon, "view")
	if !ok {
		return
	}
	all, err := p.d.Source.Packets(ctx, v.Account)
	if err != nil {
		p.pages.InternalError(w, r, "packets", err)
		return
	}
	pv := &packetView{Reviewer: v.Account, CSRF: v.CSRF, Stamped: people.Beijing(c.At), FileName: anon + ".pdf",
		SizeKiB: (c.Size + 1023) / 1024, Download: Prefix + "packets/" + anon + "/download", Mark: Prefix + "packets/" + anon + "/reviewed"}
	for _, x := range all {
		if x.AnonCode == anon {
			pv.Packet = x
		}
	}
	pv.AnonCode, pv.Pages = anon, nil
	pv.SeriesL, pv.LevelL = p.series(pv.Series), p.level(pv.Level)
	pv.Done, pv.Reviewed = !pv.ReviewedAt.IsZero(), people.Beijing(pv.ReviewedAt)
	for n := 1; n <= c.Pages; n++ {
		pv.Pages = append(pv.Pages, pageRow{N: n, Src: fmt.Sprintf("%spackets/%s/pages/%d", Prefix, anon, n)})
	}
	// A reading session is audited once per ten minutes, not per page.
	if first, err := p.d.State.FirstIn(ctx, "review:viewed:"+v.Account+":"+anon, 10*time.Minute); err != nil {
		p.pages.InternalError(w, r, "audit once", err)
		return
	} else if first || c.Made {
		ev := state.Event{Actor: v.Actor(), Action: "viewed", Submission: c.Submission, From: p.d.ClientAddr(r),
			Detail: fmt.Sprintf("packet %s: pages of the personal copy %s (sha256 %s) in the portal", anon, c.Key, c.SHA256)}
		if err := p.d.Source.Audit(ctx, anon, ev); err != nil {
			// No audit, no view.
			p.pages.InternalError(w, r, "audit view", err)
			return
		}
	}
	p.pages.Show(w, r, http.StatusOK, "packet", "", pv)
}

// page serves one page of the reviewer's copy as a JPEG.
func (p *Portal) page(w http.ResponseWriter, r *http.Request) {
	anon, v, ok := p.assigned(w, r, "page")
	if !ok {
		return
	}
	n, err := strconv.Atoi(r.PathValue("page"))
	if err != nil || n < 1 || n > 100000 {
		p.pages.Error(w, r, http.StatusNotFound, "没有这一页。", "No such page.")
		return
	}
	c, ok := p.copyFor(w, r, v, anon, "page")
	if !ok {
		return
	}
	if n > c.Pages {
		p.pages.Error(w, r, http.StatusNotFound, "没有这一页。", "No such page.")
		return
	}
	data, err := p.drawn(r.Context(), c, n)
	if err != nil {
		p.pages.InternalError(w, r, "draw page", err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/jpeg")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("Cache-Control", "private, no-store")
	w.Write(data)
}

// download streams the reviewer's copy, and audits it first: no audit, no
// download.
func (p *Portal) download(w http.ResponseWriter, r *http.Request) {
	anon, v, ok := p.assigned(w, r, "download")
	if !ok {
		return
	}
	ctx := r.Context()
	c, ok := p.copyFor(w, r, v, anon, "download")
	if !ok {
		return
	}
	rc, info, err := p.d.Packets.Get(ctx, c.Key)
	if err != nil {
		p.pages.InternalError(w, r, "open copy", err)
		return
	}
	defer rc.Close()
	detail := fmt.Sprintf("packet %s: personal copy %s (sha256 %s, stamped %s) downloaded in the portal", anon, c.Key, c.SHA256,
		c.At.UTC().Format(time.RFC3339))
	if c.Made {
		detail += "; copy made on this download"
	}
	ev := state.Event{Actor: v.Actor(), Action: "downloaded", Submission: c.Submission, Detail: detail, From: p.d.ClientAddr(r)}
	if err := p.d.Source.Audit(ctx, anon, ev); err != nil {
		p.pages.InternalError(w, r, "audit download", err)
		return
	}
	if err := ServeCopy(w, rc, info.Size, anon); err != nil {
		p.log.Warn("review: download cut short", "anon_code", anon, "reviewer", v.Account, "err", err)
	}
}

// ServeCopy streams a personal copy of the packet anon: never cached by
// anyone but the reviewer's browser (and not even there), saved under a
// name made of the anonymous code.
func ServeCopy(w http.ResponseWriter, rc io.Reader, size int64, anon string) error {
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	if size >= 0 {
		h.Set("Content-Length", strconv.FormatInt(size, 10))
	}
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Disposition", `attachment; filename="`+anon+`.pdf"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(http.StatusOK)
	_, err := io.Copy(w, rc)
	return err
}

// reviewed records (done=yes) or withdraws the reviewer's mark, audited.
func (p *Portal) reviewed(w http.ResponseWriter, r *http.Request) {
	anon, v, ok := p.assigned(w, r, "review mark")
	if !ok {
		return
	}
	ctx := r.Context()
	done := r.PostForm.Get("done") == "yes"
	changed, err := p.d.State.MarkReviewed(ctx, anon, v.Account, done)
	if err != nil {
		p.pages.InternalError(w, r, "mark reviewed", err)
		return
	}
	if changed {
		action, detail := "reviewed", "packet "+anon+": marked reviewed"
		if !done {
			action, detail = "review_withdrawn", "packet "+anon+": review mark withdrawn"
		}
		if err := p.d.Source.Audit(ctx, anon, state.Event{Actor: v.Actor(), Action: action, Detail: detail, From: p.d.ClientAddr(r)}); err != nil {
			p.pages.InternalError(w, r, "audit", err)
			return
		}
	}
	next := Prefix + "packets/" + anon
	if r.PostForm.Get("next") == "list" {
		next = Prefix
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// validAnon checks the shape of an anonymous code: campaign, dash, two
// groups of four Crockford base32 characters.
func validAnon(s string) bool {
	if len(s) < 11 || len(s) > 80 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}
