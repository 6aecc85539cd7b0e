package render

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/references"
	"github.com/klippa-app/go-pdfium/requests"
	"github.com/klippa-app/go-pdfium/responses"
	"github.com/klippa-app/go-pdfium/webassembly"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// Config configures a Renderer. The zero value means the defaults.
type Config struct {
	// MemoryBytes caps the memory of one pdfium instance (default 256 MiB).
	// A page that needs more fails with ErrPage; the instance is dropped.
	MemoryBytes int64
	// Instances is how many pages may be drawn at once (default
	// GOMAXPROCS); a caller beyond that waits for a free instance.
	Instances int
	// CacheDir keeps the compiled module between processes (default
	// os.UserCacheDir()/blindpack/wazero, in memory when there is none).
	// Compiling pdfium takes seconds; loading it from the cache a fraction.
	CacheDir string
	// Fonts are host font files (TrueType or OpenType, .ttf/.ttc/.otf)
	// pdfium may draw a font with that a PDF names but does not embed;
	// nil means those of DefaultFonts that exist. They are shown to the
	// module read-only, and nothing else of the host.
	Fonts []string
	// NoFonts gives the module no fallback font: a page whose Chinese,
	// Japanese or Korean text is in a font it does not embed then fails
	// with ErrFontMissing instead of drawing blank.
	NoFonts bool
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.MemoryBytes < 0 || c.MemoryBytes > 4<<30 {
		return fmt.Errorf("render: memory cap %d bytes is outside 0–4 GiB", c.MemoryBytes)
	}
	if c.Instances < 0 {
		return fmt.Errorf("render: %d instances", c.Instances)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.MemoryBytes == 0 {
		c.MemoryBytes = 256 << 20
	}
	if c.Instances == 0 {
		c.Instances = runtime.GOMAXPROCS(0)
	}
	if c.CacheDir == "" {
		if d, err := os.UserCacheDir(); err == nil {
			c.CacheDir = filepath.Join(d, "blindpack", "wazero")
		}
	}
	return c
}

// Options say how to draw one page. The zero value means the defaults.
type Options struct {
	// PPI is the resolution in pixels per inch of the page's default user
	// space (1/72 inch a unit; default 200).
	PPI float64
	// MaxPixels bounds the drawn image (default 40 million: A2 at 200 ppi
	// is 15.6 million); checked before anything is drawn.
	MaxPixels int64
	// Timeout is the page's deadline (default 30 s); a page that loops is
	// stopped there and its instance dropped.
	Timeout time.Duration
	// SkipText reads no text layer (Page.Glyphs stays nil), except as
	// needed to refuse a font that cannot be drawn.
	SkipText bool
	// Boxes, when not nil, is given the page's text (one rune a character
	// of Page.Glyphs) and returns the ranges [start, end) of it whose
	// characters need their boxes: the others keep an empty box. Reading
	// a box costs a call into the module per character; a caller looking
	// for a few words asks for theirs only. Nil means every box.
	Boxes func(text []rune) [][2]int
}

func (o Options) withDefaults() Options {
	if o.PPI <= 0 {
		o.PPI = 200
	}
	if o.MaxPixels <= 0 {
		o.MaxPixels = 40_000_000
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	return o
}

// Page is one drawn page.
type Page struct {
	// Image is the displayed page (CropBox ∩ MediaBox, turned by /Rotate)
	// on white: *image.Gray when every pixel is grey, else an opaque
	// *image.RGBA. It is the caller's own memory.
	Image image.Image
	// WidthPt and HeightPt are the displayed page's size in default user
	// space units (points unless the page sets /UserUnit).
	WidthPt, HeightPt float64
	// Glyphs is the text layer in reading order, without the characters
	// that lie wholly outside the displayed page; nil when there is none.
	Glyphs []Glyph
}

// Glyph is one character of a page's text layer and its box on the
// displayed page, as fractions [x0, y0, x1, y1] from the top left. White
// space (between words, at the ends of lines) has an empty box.
type Glyph struct {
	Char rune
	Box  [4]float64
}

// Renderer draws PDF pages with a pool of sandboxed pdfium instances.
type Renderer struct {
	pool  pdfium.Pool
	cache wazero.CompilationCache
	// fonts says the module has fallback fonts, so a font a PDF does not
	// embed is drawn (pdfium picks the closest by name and character set).
	fonts bool
}

// New compiles pdfium (or loads it from the cache) and makes a pool of
// instances. The module is given no file system but a read-only view of
// the fallback fonts, no network, no clock beyond wall time, and a memory
// cap.
func New(cfg Config) (*Renderer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	var cache wazero.CompilationCache
	if cfg.CacheDir != "" {
		if c, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir); err == nil {
			cache = c
		}
	}
	if cache == nil {
		cache = wazero.NewCompilationCache()
	}
	rc := wazero.NewRuntimeConfig().
		// The bundled module lowers setjmp/longjmp to exception handling.
		WithCoreFeatures(api.CoreFeaturesV2 | experimental.CoreFeaturesExceptionHandling).
		WithMemoryLimitPages(uint32(min(65536, cfg.MemoryBytes>>16))).
		// A page's deadline stops a loop: the compiled code checks it
		// every 1024th loop iteration (third_party/wazero/BLINDPACK.md).
		WithCloseOnContextDone(true).
		WithCompilationCache(cache)
	// go-pdfium mounts the host's root directory unless given a file
	// system configuration: this one has the fonts, or nothing at all.
	fsc := wazero.NewFSConfig()
	var fonts *fontFS
	if !cfg.NoFonts {
		paths := cfg.Fonts
		if paths == nil {
			paths = DefaultFonts
		}
		if fonts = newFontFS(paths); fonts != nil {
			fsc = fsc.WithFSMount(fonts, "/")
		}
	}
	pool, err := webassembly.Init(webassembly.Config{
		MinIdle:       0,
		MaxIdle:       cfg.Instances,
		MaxTotal:      cfg.Instances,
		FSConfig:      fsc,
		RuntimeConfig: rc,
		Stdout:        discard{},
		Stderr:        discard{},
		ReuseWorkers:  true,
	})
	if err != nil {
		cache.Close(context.Background())
		return nil, fmt.Errorf("render: start pdfium: %w", err)
	}
	return &Renderer{pool: pool, cache: cache, fonts: fonts != nil}, nil
}

// discard swallows the module's stdout and stderr: pdfium's messages may
// quote the file.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// Close stops every instance.
func (r *Renderer) Close() error {
	err := r.pool.Close()
	r.cache.Close(context.Background())
	return err
}

var (
	defaultMu sync.Mutex
	defaultR  *Renderer
)

// Default returns the process's renderer, starting it on first use with
// the default Config. A failure is returned, not kept: the next call tries
// again.
func Default() (*Renderer, error) {
	defaultMu.Lock()
	defer defaultMu.Unlock()
	if defaultR != nil {
		return defaultR, nil
	}
	r, err := New(Config{})
	if err != nil {
		return nil, err
	}
	defaultR = r
	return r, nil
}

// Render draws page n (1-based) of the PDF file data at opt.PPI and reads
// its text layer. Errors wrapping ErrPage are the file's doing; ctx's error
// is returned when ctx ends; any other error is the renderer's.
func (r *Renderer) Render(ctx context.Context, data []byte, n int, opt Options) (*Page, error) {
	opt = opt.withDefaults()
	inst, err := r.pool.GetInstanceWithContext(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("render: pdfium instance: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()
	var killed atomic.Bool
	stop := context.AfterFunc(pctx, func() {
		killed.Store(true)
		inst.Kill() // interrupts the running call: WithCloseOnContextDone
	})
	page, err := draw(inst, data, n, opt, r.fonts)
	if !stop() {
		// The deadline (or ctx) fired: the instance is gone, whatever draw
		// returned.
		for !killed.Load() {
			runtime.Gosched()
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: %w after %v", ErrPage, ErrTimeout, opt.Timeout)
	}
	if err != nil {
		// A trap or a failed allocation may leave pdfium's state broken;
		// the instance is not worth the risk of reuse.
		inst.Kill()
		return nil, err
	}
	inst.Close()
	return page, nil
}

// draw runs pdfium on one page. Every failure is the page's.
func draw(inst pdfium.Pdfium, data []byte, n int, opt Options, fonts bool) (page *Page, err error) {
	defer func() {
		if p := recover(); p != nil {
			page, err = nil, fmt.Errorf("%w: pdfium panic: %v", ErrPage, p)
		}
	}()
	fail := func(op string, err error) error { return fmt.Errorf("%w: %s: %w", ErrPage, op, err) }
	doc, err := inst.FPDF_LoadMemDocument(&requests.FPDF_LoadMemDocument{Data: &data})
	if err != nil {
		return nil, fail("open", err)
	}
	defer inst.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: doc.Document})
	lp, err := inst.FPDF_LoadPage(&requests.FPDF_LoadPage{Document: doc.Document, Index: n - 1})
	if err != nil {
		return nil, fail(fmt.Sprintf("page %d", n), err)
	}
	// What a viewer shows of the annotations — a filled-in form field, a
	// stamp, a signature image, a typewriter note — is part of the page a
	// reviewer must see, and its text must be searched for the identity
	// like the page's own: flattened into the page content (those that
	// are displayed, with their appearance streams), then the page is read
	// again. Hidden and print-only annotations and pop-up notes stay out.
	fl, err := inst.FPDFPage_Flatten(&requests.FPDFPage_Flatten{Page: requests.Page{ByReference: &lp.Page}, Usage: requests.FPDFPage_FlattenUsageNormalDisplay})
	if err != nil {
		inst.FPDF_ClosePage(&requests.FPDF_ClosePage{Page: lp.Page})
		return nil, fail("annotations", err)
	}
	if fl.Result == responses.FPDFPage_FlattenResultSuccess {
		inst.FPDF_ClosePage(&requests.FPDF_ClosePage{Page: lp.Page})
		if lp, err = inst.FPDF_LoadPage(&requests.FPDF_LoadPage{Document: doc.Document, Index: n - 1}); err != nil {
			return nil, fail(fmt.Sprintf("page %d after flattening", n), err)
		}
	}
	defer inst.FPDF_ClosePage(&requests.FPDF_ClosePage{Page: lp.Page})
	ref := requests.Page{ByReference: &lp.Page}
	w, err := inst.FPDF_GetPageWidthF(&requests.FPDF_GetPageWidthF{Page: ref})
	if err != nil {
		return nil, fail("page width", err)
	}
	h, err := inst.FPDF_GetPageHeightF(&requests.FPDF_GetPageHeightF{Page: ref})
	if err != nil {
		return nil, fail("page height", err)
	}
	out := &Page{WidthPt: float64(w.PageWidth), HeightPt: float64(h.PageHeight)}
	px, py := math.Round(out.WidthPt*opt.PPI/72), math.Round(out.HeightPt*opt.PPI/72)
	if !(px >= 1 && py >= 1) || px*py > float64(opt.MaxPixels) {
		return nil, fmt.Errorf("%w: %w: %.0f×%.0f", ErrPage, ErrTooLarge, px, py)
	}
	if out.Glyphs, err = glyphs(inst, lp.Page, fonts, opt); err != nil {
		if errors.Is(err, ErrFontMissing) {
			return nil, fmt.Errorf("%w: %w", ErrPage, err)
		}
		return nil, fail("text layer", err)
	}
	res, err := inst.RenderPageInPixels(&requests.RenderPageInPixels{Page: ref, Width: int(px), Height: int(py)})
	if err != nil {
		return nil, fail("draw", err)
	}
	defer res.Cleanup()
	rgba, ok := res.Result.RenderedImage.(*image.RGBA)
	if !ok {
		return nil, fail("draw", errors.New("not an RGBA image"))
	}
	out.Image = opaque(rgba, res.Result.HasTransparency)
	return out, nil
}

// opaque copies pdfium's bitmap (a view of the instance's memory) out,
// onto white paper when the page has transparency (pdfium then draws on
// transparent black, unpremultiplied), and as grey when it is grey.
func opaque(src *image.RGBA, transparent bool) image.Image {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	rect := image.Rect(0, 0, w, h)
	if !transparent {
		// The common case, a typed page: one pass copies a channel and
		// sees that it is grey.
		if gray := greyCopy(src); gray != nil {
			return gray
		}
	}
	rgb := image.NewRGBA(rect)
	for y := range h {
		s := src.Pix[y*src.Stride:][:4*w]
		d := rgb.Pix[y*rgb.Stride:][:4*w]
		if !transparent {
			copy(d, s)
			continue
		}
		for x := 0; x < 4*w; x += 4 {
			a := uint32(s[x+3])
			for k := range 3 {
				d[x+k] = uint8((uint32(s[x+k])*a + 255*(255-a) + 127) / 255)
			}
			d[x+3] = 255
		}
	}
	if transparent && grey(rgb) {
		gray := image.NewGray(rect)
		for i := range gray.Pix {
			gray.Pix[i] = rgb.Pix[4*i]
		}
		return gray
	}
	return rgb
}

// greyCopy returns img as grey, or nil at the first pixel whose red,
// green and blue differ.
func greyCopy(img *image.RGBA) *image.Gray {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	gray := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		s := img.Pix[y*img.Stride:][:4*w]
		d := gray.Pix[y*gray.Stride:][:w]
		for x := range d {
			p := s[4*x : 4*x+3 : 4*x+3]
			if p[0] != p[1] || p[1] != p[2] {
				return nil
			}
			d[x] = p[0]
		}
	}
	return gray
}

// grey reports whether every pixel of img has equal red, green and blue.
func grey(img *image.RGBA) bool {
	w := img.Rect.Dx()
	for y := range img.Rect.Dy() {
		row := img.Pix[y*img.Stride:][:4*w]
		for x := 0; x < len(row); x += 4 {
			if row[x] != row[x+1] || row[x+1] != row[x+2] {
				return false
			}
		}
	}
	return true
}

// deviceSize is the device square the text boxes are mapped onto: large,
// so that pdfium's integer device coordinates lose nothing that matters.
const deviceSize = 1 << 20

// glyphs reads the page's text layer: the text in one call, then the
// boxes (on the displayed page) of the characters opt asks for. Without
// fallback fonts, a Chinese, Japanese or Korean character in a font the
// file does not embed is ErrFontMissing: pdfium would draw it blank.
func glyphs(inst pdfium.Pdfium, page references.FPDF_PAGE, fonts bool, opt Options) ([]Glyph, error) {
	if opt.SkipText && fonts {
		return nil, nil
	}
	ref := requests.Page{ByReference: &page}
	tp, err := inst.FPDFText_LoadPage(&requests.FPDFText_LoadPage{Page: ref})
	if err != nil {
		return nil, err
	}
	defer inst.FPDFText_ClosePage(&requests.FPDFText_ClosePage{TextPage: tp.TextPage})
	cnt, err := inst.FPDFText_CountChars(&requests.FPDFText_CountChars{TextPage: tp.TextPage})
	if err != nil || cnt.Count <= 0 {
		return nil, err
	}
	chars, err := pageText(inst, tp.TextPage, cnt.Count)
	if err != nil {
		return nil, err
	}
	// gs[k] is character at[k]: pdfium ends a line with "\r\n", and one
	// '\n' is enough.
	gs := make([]Glyph, 0, len(chars))
	at := make([]int, 0, len(chars))
	checked := map[references.FPDF_PAGEOBJECT]bool{}
	for i, c := range chars {
		switch {
		case c == '\r':
			continue
		case c == 0 || c > 0x10FFFF || (c >= 0xD800 && c < 0xE000):
			c = 0xFFFD
		}
		if !fonts && cjk(c) {
			if err := embedded(inst, tp.TextPage, i, checked); err != nil {
				return nil, err
			}
		}
		gs = append(gs, Glyph{Char: c})
		at = append(at, i)
	}
	if opt.SkipText {
		return nil, nil
	}
	ranges := [][2]int{{0, len(gs)}}
	if opt.Boxes != nil {
		text := make([]rune, len(gs))
		for k, g := range gs {
			text[k] = g.Char
		}
		ranges = opt.Boxes(text)
	}
	var toFrac func(x, y float64) (float64, float64)
	outside := map[int]bool{}
	for _, rg := range ranges {
		for k := max(rg[0], 0); k < min(rg[1], len(gs)); k++ {
			c := gs[k].Char
			if c <= ' ' || c == 0xA0 || c == 0x3000 || gs[k].Box != ([4]float64{}) {
				continue
			}
			if toFrac == nil {
				if toFrac, err = pageToFrac(inst, ref); err != nil {
					return nil, err
				}
			}
			b, err := inst.FPDFText_GetLooseCharBox(&requests.FPDFText_GetLooseCharBox{TextPage: tp.TextPage, Index: at[k]})
			if err != nil {
				return nil, err
			}
			r := b.Rect
			x0, y0 := toFrac(float64(r.Left), float64(r.Top))
			x1, y1 := toFrac(float64(r.Right), float64(r.Bottom))
			box := [4]float64{min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)}
			if box[2] <= 0 || box[3] <= 0 || box[0] >= 1 || box[1] >= 1 {
				outside[k] = true // outside the displayed page: not seen, not kept
				continue
			}
			for j := range box {
				box[j] = clamp(box[j])
			}
			gs[k].Box = box
		}
	}
	if len(outside) > 0 {
		kept := gs[:0]
		for k, g := range gs {
			if !outside[k] {
				kept = append(kept, g)
			}
		}
		gs = kept
	}
	return gs, nil
}

// pageText returns the n characters of the text page, one rune each: in
// one call when pdfium's text buffer has exactly one code point a
// character (the usual case), else character by character.
func pageText(inst pdfium.Pdfium, tp references.FPDF_TEXTPAGE, n int) ([]rune, error) {
	t, err := inst.FPDFText_GetText(&requests.FPDFText_GetText{TextPage: tp, StartIndex: 0, Count: n})
	if err != nil {
		return nil, err
	}
	if rs := []rune(t.Text); len(rs) == n {
		return rs, nil
	}
	rs := make([]rune, n)
	for i := range n {
		u, err := inst.FPDFText_GetUnicode(&requests.FPDFText_GetUnicode{TextPage: tp, Index: i})
		if err != nil {
			return nil, err
		}
		rs[i] = rune(u.Unicode)
	}
	return rs, nil
}

// pageToFrac is pdfium's own page-to-device mapping (page box origin,
// /Rotate), taken at three points, as the affine map from page space to
// displayed-page fractions.
func pageToFrac(inst pdfium.Pdfium, ref requests.Page) (func(x, y float64) (float64, float64), error) {
	var m [3][2]float64
	for i, pt := range [3][2]float64{{0, 0}, {1000, 0}, {0, 1000}} {
		d, err := inst.FPDF_PageToDevice(&requests.FPDF_PageToDevice{Page: ref, SizeX: deviceSize, SizeY: deviceSize,
			PageX: pt[0], PageY: pt[1]})
		if err != nil {
			return nil, err
		}
		m[i] = [2]float64{float64(d.DeviceX) / deviceSize, float64(d.DeviceY) / deviceSize}
	}
	ax, ay := (m[1][0]-m[0][0])/1000, (m[1][1]-m[0][1])/1000
	bx, by := (m[2][0]-m[0][0])/1000, (m[2][1]-m[0][1])/1000
	return func(x, y float64) (float64, float64) {
		return m[0][0] + ax*x + bx*y, m[0][1] + ay*x + by*y
	}, nil
}

func clamp(v float64) float64 { return math.Max(0, math.Min(1, v)) }

// cjk reports whether c is a Chinese, Japanese or Korean letter or
// punctuation mark: pdfium has no built-in font with its glyph.
func cjk(c rune) bool {
	return unicode.In(c, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul, unicode.Bopomofo) ||
		(c >= 0x3000 && c <= 0x303F) || (c >= 0xFF00 && c <= 0xFFEF)
}

// embedded returns ErrFontMissing when character i is drawn in a font the
// file does not embed. checked remembers the text objects already seen.
func embedded(inst pdfium.Pdfium, tp references.FPDF_TEXTPAGE, i int, checked map[references.FPDF_PAGEOBJECT]bool) error {
	obj, err := inst.FPDFText_GetTextObject(&requests.FPDFText_GetTextObject{TextPage: tp, Index: i})
	if err != nil || checked[obj.TextObject] {
		return err
	}
	checked[obj.TextObject] = true
	font, err := inst.FPDFTextObj_GetFont(&requests.FPDFTextObj_GetFont{PageObject: obj.TextObject})
	if err != nil {
		return err
	}
	e, err := inst.FPDFFont_GetIsEmbedded(&requests.FPDFFont_GetIsEmbedded{Font: font.Font})
	if err != nil {
		return err
	}
	if !e.IsEmbedded {
		return ErrFontMissing
	}
	return nil
}
