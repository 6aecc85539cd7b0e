package public

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/blindpack/blindpack/api/people"
	"github.com/blindpack/blindpack/api/wire"
	"github.com/blindpack/blindpack/pipeline/result"
	"github.com/blindpack/blindpack/storage"
)

// Prefixes of the public pages.
const (
	ResultsPrefix = "/results/"
	VerifyPrefix  = "/verify/"
)

// Config tunes the public pages. The zero value is the default.
type Config struct {
	// MaxFileBytes bounds an uploaded file and a published one read for
	// the list (default 20 MiB; a 300-person result is under 1 MiB).
	MaxFileBytes int64
	// ListTTL is how long the list of published files is reused before
	// the results bucket is read again (default 1 min).
	ListTTL time.Duration
}

// Validate reports the first mistake in c.
func (c Config) Validate() error {
	if c.MaxFileBytes < 0 || c.ListTTL < 0 {
		return errors.New("public: config: MaxFileBytes and ListTTL must not be negative")
	}
	return nil
}

// Deps are what the public pages work with; Site and Results are
// required.
type Deps struct {
	Site    *people.Site
	Results storage.Store
	// Roots are the authority's roots a genuine file chains to (nil: the
	// system's); RootsName says where they came from.
	Roots     *x509.CertPool
	RootsName string
	Log       *slog.Logger
}

// Public serves /results/ and /verify/.
type Public struct {
	cfg   Config
	d     Deps
	log   *slog.Logger
	pages *people.Pages
	mux   *http.ServeMux
	sem   chan struct{} // bounds verifications at once

	mu     sync.Mutex
	listed []Published
	at     time.Time
	seen   map[string]Published // by key, size and time: files are read once
}

// Published is one issued result file.
type Published struct {
	Key      string
	Size     int64
	ModTime  time.Time
	SHA256   string
	Document result.Document
	// Genuine is true when the file verifies against the roots.
	Genuine bool
}

//go:embed templates/*.html
var templateFS embed.FS

var audience = people.Audience{Name: "public", TitleZH: "职称评审结果公示", TitleEN: "Title evaluation results", Home: ResultsPrefix,
	Nav: []people.Link{{Href: ResultsPrefix, ZH: "公示结果", EN: "Results", ID: "nav-results"}, {Href: VerifyPrefix, ZH: "验证文件", EN: "Verify a file", ID: "nav-verify"}}}

// New checks the configuration and dependencies and builds the pages.
func New(cfg Config, d Deps) (*Public, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Site == nil || d.Results == nil {
		return nil, errors.New("public: Site and Results are required")
	}
	if cfg.MaxFileBytes == 0 {
		cfg.MaxFileBytes = 20 << 20
	}
	if cfg.ListTTL == 0 {
		cfg.ListTTL = time.Minute
	}
	p := &Public{cfg: cfg, d: d, log: d.Log, sem: make(chan struct{}, 2), seen: map[string]Published{}}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.d.RootsName == "" {
		p.d.RootsName = "the system's trusted roots"
	}
	funcs := template.FuncMap{"kib": func(n int64) int64 { return (n + 1023) / 1024 }}
	var err error
	if p.pages, err = d.Site.Pages(audience, templateFS, funcs, "results", "verify"); err != nil {
		return nil, err
	}
	p.mux = http.NewServeMux()
	p.mux.HandleFunc("GET /results/{$}", p.results)
	p.mux.HandleFunc("GET /results/files/{key...}", p.file)
	p.mux.HandleFunc("GET /verify/{$}", p.verifyPage)
	p.mux.HandleFunc("POST /verify/{$}", p.verify)
	p.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		p.pages.Error(w, r, http.StatusNotFound, "页面不存在。", "No such page.")
	})
	return p, nil
}

// Handler serves both prefixes, open to anyone.
func (p *Public) Handler() http.Handler { return p.d.Site.Public(p.mux) }

// check verifies data against the authority's roots: the same code as
// `blindpack verify`.
func (p *Public) check(ctx context.Context, data []byte) (*result.Verification, error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-p.sem }()
	return result.Verify(data, result.VerifyOptions{Roots: p.d.Roots, RootsName: p.d.RootsName})
}

// published lists the issued files, newest campaign and date first,
// reading each file once (and again only when it changes).
func (p *Public) published(ctx context.Context) ([]Published, error) {
	p.mu.Lock()
	if p.listed != nil && time.Since(p.at) < p.cfg.ListTTL {
		defer p.mu.Unlock()
		return p.listed, nil
	}
	p.mu.Unlock()
	objs, err := p.d.Results.List(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("public: list results: %w", err)
	}
	var out []Published
	for _, o := range objs {
		if wire.ResultFilePath(o.Key) == "" || o.Size > p.cfg.MaxFileBytes {
			continue
		}
		id := fmt.Sprintf("%s\x00%d\x00%d", o.Key, o.Size, o.ModTime.UnixNano())
		p.mu.Lock()
		pub, ok := p.seen[id]
		p.mu.Unlock()
		if !ok {
			if pub, err = p.read(ctx, o); err != nil {
				p.log.Error("public: read a published result", "key", o.Key, "err", err)
				continue
			}
			p.mu.Lock()
			p.seen[id] = pub
			p.mu.Unlock()
		}
		out = append(out, pub)
	}
	slices.SortStableFunc(out, func(a, b Published) int {
		if c := strings.Compare(b.Document.Campaign, a.Document.Campaign); c != 0 {
			return c
		}
		if c := strings.Compare(b.Document.Date, a.Document.Date); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	p.mu.Lock()
	p.listed, p.at = out, time.Now()
	p.mu.Unlock()
	return out, nil
}

func (p *Public) read(ctx context.Context, o storage.ObjectInfo) (Published, error) {
	rc, _, err := p.d.Results.Get(ctx, o.Key)
	if err != nil {
		return Published{}, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, p.cfg.MaxFileBytes+1))
	if err != nil {
		return Published{}, err
	}
	sum := sha256.Sum256(data)
	pub := Published{Key: o.Key, Size: int64(len(data)), ModTime: o.ModTime, SHA256: hex.EncodeToString(sum[:])}
	v, err := p.check(ctx, data)
	if err != nil {
		return pub, err
	}
	pub.Document, pub.Genuine = v.Document, v.OK()
	if pub.Document.Campaign == "" {
		pub.Document.Campaign, _, _ = strings.Cut(o.Key, "/")
	}
	return pub, nil
}

type campaignGroup struct {
	Campaign string
	Files    []fileRow
}

type fileRow struct {
	Published
	Href, Name string
}

type resultsView struct {
	Groups []campaignGroup
}

// results lists the issued files by campaign.
func (p *Public) results(w http.ResponseWriter, r *http.Request) {
	all, err := p.published(r.Context())
	if err != nil {
		p.pages.InternalError(w, r, "results", err)
		return
	}
	rv := &resultsView{}
	for _, pub := range all {
		if n := len(rv.Groups); n == 0 || rv.Groups[n-1].Campaign != pub.Document.Campaign {
			rv.Groups = append(rv.Groups, campaignGroup{Campaign: pub.Document.Campaign})
		}
		g := &rv.Groups[len(rv.Groups)-1]
		g.Files = append(g.Files, fileRow{Published: pub, Href: wire.ResultFilePath(pub.Key), Name: path.Base(pub.Key)})
	}
	p.pages.Show(w, r, http.StatusOK, "results", "公示结果 Results", rv)
}

// file serves a published result file for download: any file the list
// would show, read from the bucket on this request and not from the list,
// so that a file is there as soon as it is published (result.issued links
// here at once; the list may be a minute old).
func (p *Public) file(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	if wire.ResultFilePath(key) == "" {
		p.pages.Error(w, r, http.StatusNotFound, "没有这个文件。", "No such file.")
		return
	}
	rc, info, err := p.d.Results.Get(r.Context(), key)
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrInvalidKey) {
		p.pages.Error(w, r, http.StatusNotFound, "没有这个文件。", "No such file.")
		return
	} else if err != nil {
		p.pages.InternalError(w, r, "open result", err)
		return
	}
	defer rc.Close()
	if info.Size > p.cfg.MaxFileBytes {
		p.pages.Error(w, r, http.StatusNotFound, "没有这个文件。", "No such file.")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Length", strconv.FormatInt(info.Size, 10))
	// Results are public: caches may keep them for a while.
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": path.Base(key)}))
	io.Copy(w, rc)
}

type verifyView struct {
	Max      int64
	Done     bool
	Genuine  bool
	Unsigned bool
	Broken   bool
	Name     string
	Size     int64
	SHA256   string
	Checks   []checkRow
	Document result.Document
	Signer   string
	Signed   string
	Problems []string
	// Published is the list entry of the same bytes, if any.
	Published *fileRow
	ErrorZH   string
	ErrorEN   string
}

type checkRow struct {
	OK     bool
	ZH, EN string
}

func (p *Public) verifyPage(w http.ResponseWriter, r *http.Request) {
	p.pages.Show(w, r, http.StatusOK, "verify", "验证文件 Verify a file", &verifyView{Max: p.cfg.MaxFileBytes >> 20})
}

// verify reads an uploaded file into memory (never to disk: the multipart
// reader is read by hand, not parsed into temporary files), checks it and
// says what it found.
func (p *Public) verify(w http.ResponseWriter, r *http.Request) {
	vv := &verifyView{Max: p.cfg.MaxFileBytes >> 20}
	fail := func(code int, zh, en string) {
		vv.ErrorZH, vv.ErrorEN = zh, en
		p.pages.Show(w, r, code, "verify", "验证文件 Verify a file", vv)
	}
	r.Body = http.MaxBytesReader(w, r.Body, p.cfg.MaxFileBytes+64<<10)
	mr, err := r.MultipartReader()
	if err != nil {
		fail(http.StatusBadRequest, "请选择要验证的文件。", "Choose a file to verify.")
		return
	}
	var data []byte
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("文件过大（最大 %d MiB）。", vv.Max), fmt.Sprintf("The file is too large (at most %d MiB).", vv.Max))
			return
		} else if err != nil {
			fail(http.StatusBadRequest, "上传无法读取。", "The upload could not be read.")
			return
		}
		if part.FormName() != "file" {
			part.Close()
			continue
		}
		vv.Name = part.FileName()
		data, err = io.ReadAll(io.LimitReader(part, p.cfg.MaxFileBytes+1))
		part.Close()
		if errors.As(err, &mbe) || int64(len(data)) > p.cfg.MaxFileBytes {
			fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("文件过大（最大 %d MiB）。", vv.Max), fmt.Sprintf("The file is too large (at most %d MiB).", vv.Max))
			return
		} else if err != nil {
			fail(http.StatusBadRequest, "上传无法读取。", "The upload could not be read.")
			return
		}
		break
	}
	if len(data) == 0 {
		fail(http.StatusBadRequest, "请选择要验证的文件。", "Choose a file to verify.")
		return
	}
	sum := sha256.Sum256(data)
	vv.Done, vv.Size, vv.SHA256 = true, int64(len(data)), hex.EncodeToString(sum[:])
	v, err := p.check(r.Context(), data)
	switch {
	case errors.Is(err, result.ErrUnsigned):
		vv.Unsigned = true
	case err != nil || !bytes.HasPrefix(data, []byte("%PDF-")):
		vv.Broken = true
	default:
		p.describe(vv, v)
	}
	if all, err := p.published(r.Context()); err == nil {
		for _, pub := range all {
			if pub.SHA256 == vv.SHA256 {
				vv.Published = &fileRow{Published: pub, Href: wire.ResultFilePath(pub.Key), Name: path.Base(pub.Key)}
			}
		}
	}
	// The outcome is logged, never the file or its name.
	p.log.Info("public: file verified", "genuine", vv.Genuine, "bytes", vv.Size, "sha256", vv.SHA256)
	p.pages.Show(w, r, http.StatusOK, "verify", "验证结果 Verification", vv)
}

// describe turns a verification into the checks a person reads.
func (p *Public) describe(vv *verifyView, v *result.Verification) {
	vv.Genuine, vv.Document = v.OK(), v.Document
	intact, trusted, whole := len(v.Signatures) > 0, len(v.Signatures) > 0, false
	for _, s := range v.Signatures {
		intact = intact && s.Intact
		trusted = trusted && s.Trusted
		whole = whole || s.WholeFile
		vv.Problems = append(vv.Problems, s.Problems...)
		if s.Signer != nil && vv.Signer == "" {
			vv.Signer = s.Signer.Subject.CommonName
			if len(s.Signer.Subject.Organization) > 0 {
				vv.Signer += " · " + s.Signer.Subject.Organization[0]
			}
		}
		if !s.SigningTime.IsZero() && vv.Signed == "" {
			vv.Signed = people.Beijing(s.SigningTime)
		}
	}
	vv.Checks = []checkRow{
		{intact, "数字签名有效，签名后内容未被修改", "The signature is valid: the signed content is unchanged"},
		{whole, "签名覆盖整个文件，签名后没有追加内容", "The signature covers the whole file: nothing was added after signing"},
		{trusted, "签名证书可追溯至发文机关的根证书", "The signer's certificate chains to the issuing authority's root"},
	}
}
