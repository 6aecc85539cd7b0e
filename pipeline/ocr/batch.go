package ocr

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// BatchEngine is an Engine that reads many images in one go. For
// Tesseract this is what keeps the cost down: starting the program and
// loading its model takes about 0.3 s of CPU, a fifth of reading a dense
// page, and in a batch it is paid once.
type BatchEngine interface {
	Engine
	// RecognizeAll reads imgs and returns their words, image by image.
	RecognizeAll(ctx context.Context, imgs []image.Image) ([][]Word, error)
}

// MaxBatch is the most pages one tesseract process reads: a bound on the
// temporary files (about 2 MB a page at 150 dpi) and on what a failure
// costs.
const MaxBatch = 16

// RecognizeAll reads imgs with one tesseract process: each image goes
// into a private temporary directory as PGM, and tesseract reads the list
// of them (its batch mode) and prints one hOCR page per image, in order.
// The timeout applies per page.
func (t *Tesseract) RecognizeAll(ctx context.Context, imgs []image.Image) ([][]Word, error) {
	switch len(imgs) {
	case 0:
		return nil, nil
	case 1:
		w, err := t.Recognize(ctx, imgs[0])
		return [][]Word{w}, err
	}
	if len(imgs) > MaxBatch {
		var out [][]Word
		for i := 0; i < len(imgs); i += MaxBatch {
			part, err := t.RecognizeAll(ctx, imgs[i:min(i+MaxBatch, len(imgs))])
			if err != nil {
				return nil, err
			}
			out = append(out, part...)
		}
		return out, nil
	}
	timeout := t.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(len(imgs))*timeout)
	defer cancel()
	dir, err := os.MkdirTemp("", "blindpack-ocr-")
	if err != nil {
		return nil, fmt.Errorf("ocr: tesseract batch: %w", err)
	}
	defer os.RemoveAll(dir)
	var list strings.Builder
	for i, img := range imgs {
		name := filepath.Join(dir, strconv.Itoa(i)+".pgm")
		if err := os.WriteFile(name, encodePNM(toGray(img)), 0o600); err != nil {
			return nil, fmt.Errorf("ocr: tesseract batch: %w", err)
		}
		list.WriteString(name + "\n")
	}
	listFile := filepath.Join(dir, "pages.txt")
	if err := os.WriteFile(listFile, []byte(list.String()), 0o600); err != nil {
		return nil, fmt.Errorf("ocr: tesseract batch: %w", err)
	}
	args := []string{listFile, "stdout", "-l", t.lang(), "--psm", strconv.Itoa(t.psm()), "-c", "hocr_char_boxes=1"}
	if t.DataDir != "" {
		args = append(args, "--tessdata-dir", filepath.Clean(t.DataDir))
	}
	args = append(args, "hocr")
	tl := t.tool(args...)
	tl.maxOut = maxHOCR * int64(len(imgs))
	out, err := tl.run(ctx, nil)
	if err != nil {
		return nil, err
	}
	pages := splitHOCRPages(out)
	if len(pages) != len(imgs) {
		return nil, fmt.Errorf("ocr: tesseract batch: %d pages of hOCR for %d images", len(pages), len(imgs))
	}
	words := make([][]Word, len(pages))
	for i, p := range pages {
		if words[i], err = parseHOCR(p); err != nil {
			return nil, err
		}
	}
	return words, nil
}

// splitHOCRPages cuts one hOCR document of several pages into one part a
// page, each starting at its ocr_page element.
func splitHOCRPages(doc []byte) [][]byte {
	marker := []byte("<div class='ocr_page'")
	var out [][]byte
	for {
		i := bytes.Index(doc, marker)
		if i < 0 {
			return out
		}
		doc = doc[i:]
		j := bytes.Index(doc[len(marker):], marker)
		if j < 0 {
			return append(out, doc)
		}
		out = append(out, doc[:len(marker)+j])
		doc = doc[len(marker)+j:]
	}
}
