package ocr

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"image"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Tesseract reads pages with the tesseract program (Debian packages
// tesseract-ocr and tesseract-ocr-chi-sim), one process per page
// (Recognize) or per batch of pages (RecognizeAll, batch.go). The zero
// value is ready to use. It is safe for concurrent use.
type Tesseract struct {
	// Path is the program; default "tesseract" from PATH.
	Path string
	// Lang is the language data; default "chi_sim", which also reads the
	// Latin letters and digits of employer names.
	Lang string
	// PSM is the page segmentation mode; default 6 (one uniform block of
	// text): on the measured pages it found as much as 11 and more than
	// 3, and was the fastest of the three (see README).
	PSM int
	// DataDir is the tessdata directory; default: the program's own.
	DataDir string
	// Timeout bounds one page; default 2 minutes. A page of dense text
	// takes one to two seconds on one core.
	Timeout time.Duration
	// Threads is how many threads one page may use; default 1. Left
	// unlimited, Tesseract's OpenMP threads made a page four times slower
	// on a 2-core machine (5.2 s against 1.2 s); two threads read one page
	// 15% sooner for 50% more CPU, and a worker already reads one page
	// per CPU.
	Threads int

	mu      sync.Mutex
	version string // once known
}

// Defaults of Tesseract.
const (
	DefaultLang    = "chi_sim"
	DefaultPSM     = 6
	DefaultTimeout = 2 * time.Minute
)

// maxHOCR bounds what tesseract may print for one page: a dense A4 page is
// about 150 KB of hOCR.
const maxHOCR = 32 << 20

func (t *Tesseract) path() string { return cmpOr(t.Path, "tesseract") }
func (t *Tesseract) lang() string { return cmpOr(t.Lang, DefaultLang) }
func (t *Tesseract) psm() int {
	if t.PSM <= 0 {
		return DefaultPSM
	}
	return t.PSM
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Check makes sure the program runs and has the language data, so that a
// worker can refuse to start (or say why it skips OCR) instead of failing
// every task.
func (t *Tesseract) Check(ctx context.Context) error {
	if _, err := t.Info(ctx); err != nil {
		return err
	}
	args := []string{"--list-langs"}
	if t.DataDir != "" {
		args = append(args, "--tessdata-dir", filepath.Clean(t.DataDir))
	}
	out, err := t.tool(args...).run(ctx, nil)
	if err != nil {
		return err
	}
	for _, l := range strings.Fields(string(out)) {
		if l == t.lang() {
			return nil
		}
	}
	return fmt.Errorf("%w: tesseract language data %q (apt-get install tesseract-ocr-chi-sim)", ErrToolMissing, t.lang())
}

// Info returns the engine's name, version and settings. The version is
// asked of the program until it answers once.
func (t *Tesseract) Info(ctx context.Context) (EngineInfo, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.version == "" {
		out, err := t.tool("--version").run(ctx, nil)
		if err != nil {
			return EngineInfo{}, err
		}
		first, _, _ := strings.Cut(string(out), "\n")
		t.version = strings.TrimSpace(strings.TrimPrefix(first, "tesseract"))
	}
	return EngineInfo{Name: "tesseract", Version: t.version, Lang: t.lang(), PSM: t.psm()}, nil
}

func (t *Tesseract) tool(args ...string) tool {
	threads := t.Threads
	if threads <= 0 {
		threads = 1
	}
	return tool{op: "tesseract", path: t.path(), args: args, maxOut: maxHOCR,
		env: []string{"OMP_THREAD_LIMIT=" + strconv.Itoa(threads)}}
}

// Recognize reads img. The image goes in on stdin as PGM, which needs no
// compression and which leptonica reads directly. The text comes back as
// hOCR with a box per character (hocr_char_boxes), not as TSV: TSV boxes
// are per word, and Tesseract's Chinese "words" are runs of one to four
// characters whose boxes overlap their neighbours', so a name inside one
// could not be placed. Words are returned one character each, in
// Tesseract's reading order.
func (t *Tesseract) Recognize(ctx context.Context, img image.Image) ([]Word, error) {
	timeout := t.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	args := []string{"stdin", "stdout", "-l", t.lang(), "--psm", strconv.Itoa(t.psm()), "-c", "hocr_char_boxes=1"}
	if t.DataDir != "" {
		args = append(args, "--tessdata-dir", filepath.Clean(t.DataDir))
	}
	// tesseract reads "hocr" as the name of a config file that turns on
	// hOCR output; it must come last.
	args = append(args, "hocr")
	out, err := t.tool(args...).run(ctx, bytes.NewReader(encodePNM(toGray(img))))
	if err != nil {
		return nil, err
	}
	return parseHOCR(out)
}

// encodePNM writes g as binary PGM.
func encodePNM(g *image.Gray) []byte {
	b := g.Bounds()
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "P5\n%d %d\n255\n", b.Dx(), b.Dy())
	buf.Grow(b.Dx() * b.Dy())
	for y := range b.Dy() {
		i := g.PixOffset(b.Min.X, b.Min.Y+y)
		buf.Write(g.Pix[i : i+b.Dx()])
	}
	return buf.Bytes()
}

// cinfo is a character of Tesseract's hOCR: box, confidence and the
// character, HTML-escaped.
var cinfo = regexp.MustCompile(`<span class='ocrx_cinfo' title='x_bboxes (-?\d+) (-?\d+) (-?\d+) (-?\d+); x_conf ([0-9.]+)'>([^<]*)</span>`)

// parseHOCR reads the characters of Tesseract's hOCR output.
func parseHOCR(data []byte) ([]Word, error) {
	if !bytes.Contains(data, []byte("class='ocr_page'")) {
		return nil, fmt.Errorf("ocr: tesseract output is not hOCR")
	}
	var words []Word
	for _, m := range cinfo.FindAllSubmatch(data, -1) {
		var n [4]int
		for i := range n {
			n[i], _ = strconv.Atoi(string(m[1+i])) // the pattern allows digits only
		}
		conf, _ := strconv.ParseFloat(string(m[5]), 64)
		text := strings.TrimSpace(html.UnescapeString(string(m[6])))
		if text == "" {
			continue
		}
		words = append(words, Word{Text: text, Box: image.Rect(n[0], n[1], n[2], n[3]), Conf: conf})
	}
	return words, nil
}
