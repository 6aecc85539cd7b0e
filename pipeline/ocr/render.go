package ocr

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Renderer draws one page of a PDF file as a reader sees it: page size,
// /Rotate, every image and every mark on top.
type Renderer interface {
	Render(ctx context.Context, pdfPath string, page, dpi int) (image.Image, error)
}

// Poppler renders with poppler's pdftoppm (Debian package poppler-utils,
// already needed by the tests). The zero value is ready to use.
//
// A packet page is one image, so decoding that image would be cheaper than
// rendering; rendering is used anyway because it costs little next to OCR
// (60 ms against over a second at 150 dpi) and reads the page the way the
// reviewer will see it — orientation, placement, the margin masks drawn
// beside the image and the watermark over it — through a program that
// shares none of the writer's assumptions.
type Poppler struct {
	// Path is the program; default "pdftoppm" from PATH.
	Path string
	// Timeout bounds one page; default 1 minute.
	Timeout time.Duration
	// MaxPixels bounds a rendered page; default 64 million (A4 at 300 dpi
	// is 8.7 million).
	MaxPixels int64
	// Color renders in colour (for people's eyes: the reviewer's stamp is
	// red) instead of grey (for OCR).
	Color bool
}

// Render draws page (1-based) of the file at dpi, in grey unless Color.
func (p *Poppler) Render(ctx context.Context, pdfPath string, page, dpi int) (image.Image, error) {
	if page < 1 || dpi < 1 || dpi > 1200 {
		return nil, fmt.Errorf("ocr: render: page %d at %d dpi", page, dpi)
	}
	timeout, mode, _, maxOut := p.settings()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	pg := strconv.Itoa(page)
	out, err := tool{op: "pdftoppm", path: cmpOr(p.Path, "pdftoppm"), maxOut: maxOut,
		args: []string{"-r", strconv.Itoa(dpi), "-f", pg, "-l", pg, mode, "-singlefile", "--", pdfPath},
	}.run(ctx, nil)
	if err != nil {
		return nil, err
	}
	return p.decode(out, page)
}

// settings are p's timeout a page, pdftoppm's output mode, the extension
// of its files and the most bytes a page may take.
func (p *Poppler) settings() (timeout time.Duration, mode, ext string, maxOut int64) {
	timeout = p.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	maxPx := p.MaxPixels
	if maxPx <= 0 {
		maxPx = 64 << 20
	}
	if p.Color {
		// PNG: compressed, and a decoder in the standard library.
		return timeout, "-png", ".png", 3*maxPx + 1<<20
	}
	return timeout, "-gray", ".pgm", maxPx + 64
}

// decode reads a page pdftoppm wrote: PNG when Color, else binary PGM.
func (p *Poppler) decode(data []byte, page int) (image.Image, error) {
	var img image.Image
	var err error
	if p.Color {
		img, err = png.Decode(bytes.NewReader(data))
	} else {
		img, err = decodePGM(data)
	}
	if err != nil {
		return nil, fmt.Errorf("ocr: render page %d: %w", page, err)
	}
	return img, nil
}

// PagesRenderer is a Renderer that also draws several pages in one go.
type PagesRenderer interface {
	Renderer
	// RenderPages draws pages (1-based, ascending) of the file at dpi,
	// in the order given.
	RenderPages(ctx context.Context, pdfPath string, pages []int, dpi int) ([]image.Image, error)
}

// maxRenderGap is the most pages between two asked for that RenderPages
// draws rather than starting pdftoppm again: a start costs about as much
// as drawing a page (0.05 s of CPU against 0.04 for a scanned A4 page at
// 150 dpi), most of it opening the file and setting up.
const maxRenderGap = 1

// RenderPages draws pages with one pdftoppm for each run of pages no more
// than maxRenderGap apart, into a private temporary directory, in grey
// unless Color; the timeout applies per page.
func (p *Poppler) RenderPages(ctx context.Context, pdfPath string, pages []int, dpi int) ([]image.Image, error) {
	out := make([]image.Image, 0, len(pages))
	for i := 0; i < len(pages); {
		j := i + 1
		for j < len(pages) && pages[j] > pages[j-1] && pages[j]-pages[j-1] <= maxRenderGap+1 {
			j++
		}
		if j == i+1 {
			img, err := p.Render(ctx, pdfPath, pages[i], dpi)
			if err != nil {
				return nil, err
			}
			out = append(out, img)
		} else {
			imgs, err := p.renderRun(ctx, pdfPath, pages[i:j], dpi)
			if err != nil {
				return nil, err
			}
			out = append(out, imgs...)
		}
		i = j
	}
	return out, nil
}

// renderRun draws pages, ascending and close together, with one pdftoppm
// writing each page of the run from the first to the last to a file.
func (p *Poppler) renderRun(ctx context.Context, pdfPath string, pages []int, dpi int) ([]image.Image, error) {
	first, last := pages[0], pages[len(pages)-1]
	if first < 1 || dpi < 1 || dpi > 1200 {
		return nil, fmt.Errorf("ocr: render: pages %d–%d at %d dpi", first, last, dpi)
	}
	timeout, mode, ext, maxFile := p.settings()
	ctx, cancel := context.WithTimeout(ctx, time.Duration(last-first+1)*timeout)
	defer cancel()
	dir, err := os.MkdirTemp("", "blindpack-render-")
	if err != nil {
		return nil, fmt.Errorf("ocr: render: %w", err)
	}
	defer os.RemoveAll(dir)
	_, err = tool{op: "pdftoppm", path: cmpOr(p.Path, "pdftoppm"), maxOut: 1 << 16,
		args: []string{"-r", strconv.Itoa(dpi), "-f", strconv.Itoa(first), "-l", strconv.Itoa(last), mode, "--", pdfPath, filepath.Join(dir, "p")},
	}.run(ctx, nil)
	if err != nil {
		return nil, err
	}
	// pdftoppm names the files p-N, N padded to the digits of the
	// document's page count.
	files := map[int]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("ocr: render: %w", err)
	}
	for _, e := range entries {
		num, ok := strings.CutPrefix(strings.TrimSuffix(e.Name(), ext), "p-")
		if n, err := strconv.Atoi(num); ok && err == nil {
			files[n] = filepath.Join(dir, e.Name())
		}
	}
	out := make([]image.Image, len(pages))
	for i, pg := range pages {
		name, ok := files[pg]
		if !ok {
			return nil, fmt.Errorf("ocr: render: pdftoppm wrote no page %d", pg)
		}
		if fi, err := os.Stat(name); err != nil || fi.Size() > maxFile {
			return nil, fmt.Errorf("ocr: render page %d: %w", pg, cmp.Or(err, error(ErrPageTooLarge)))
		}
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("ocr: render: %w", err)
		}
		if out[i], err = p.decode(data, pg); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// decodePGM reads binary 8-bit PGM, what pdftoppm -gray writes.
func decodePGM(data []byte) (*image.Gray, error) {
	var fields [4]string
	rest := data
	for i := range fields {
		// Skip white space and comments before each header field.
		for len(rest) > 0 {
			switch {
			case rest[0] == '#':
				if j := bytes.IndexByte(rest, '\n'); j >= 0 {
					rest = rest[j+1:]
				} else {
					rest = nil
				}
				continue
			case rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\n' || rest[0] == '\r':
				rest = rest[1:]
				continue
			}
			break
		}
		j := bytes.IndexAny(rest, " \t\r\n")
		if j <= 0 {
			return nil, fmt.Errorf("ocr: PGM header")
		}
		fields[i], rest = string(rest[:j]), rest[j+1:]
	}
	w, err1 := strconv.Atoi(fields[1])
	h, err2 := strconv.Atoi(fields[2])
	if fields[0] != "P5" || err1 != nil || err2 != nil || fields[3] != "255" || w < 1 || h < 1 {
		return nil, fmt.Errorf("ocr: not an 8-bit binary PGM (%s %s %s %s)", fields[0], fields[1], fields[2], fields[3])
	}
	if int64(len(rest)) < int64(w)*int64(h) {
		return nil, fmt.Errorf("ocr: PGM of %d×%d truncated", w, h)
	}
	img := image.NewGray(image.Rect(0, 0, w, h))
	copy(img.Pix, rest)
	return img, nil
}
