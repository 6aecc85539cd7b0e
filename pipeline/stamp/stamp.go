package stamp

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/blindpack/blindpack/internal/pdfkit"
	"github.com/blindpack/blindpack/pipeline"
)

// ErrInvalidMark is returned (wrapped) for a mark that cannot be stamped.
var ErrInvalidMark = errors.New("stamp: invalid mark")

// Mark is what a personal copy names.
type Mark struct {
	// Reviewer is the reviewer's code, e.g. "E-0042": the same alphabet as
	// blindpack's ids (pipeline.ValidID), since it also names the copy's
	// object.
	Reviewer string
	// At is when the copy was made; shown in UTC to the minute.
	At time.Time
}

// Validate checks that the mark can be stamped.
func (m Mark) Validate() error {
	switch {
	case !pipeline.ValidID(m.Reviewer):
		return fmt.Errorf("%w: reviewer code %q", ErrInvalidMark, m.Reviewer)
	case m.At.IsZero():
		return fmt.Errorf("%w: no time", ErrInvalidMark)
	}
	return nil
}

// Text is the stamp's line, e.g. “评审专家 E-0042 · 2024-10-03 09:15Z · 仅供评审”
// (review expert E-0042, for review only).
func (m Mark) Text() string {
	return fmt.Sprintf("评审专家 %s · %s · 仅供评审", m.Reviewer, m.At.UTC().Format("2006-01-02 15:04Z"))
}

// FileID is the invisible mark of a reviewer's copy of the packet whose
// SHA-256 (hex) is packetSHA256: the first element of the copy's /ID. A
// leaked file names its reviewer by comparing its /ID with FileID of each
// reviewer the packet was assigned to.
func FileID(reviewer, packetSHA256 string) [16]byte {
	sum := sha256.Sum256([]byte("blindpack/reviewer-copy/v1\x00" + reviewer + "\x00" + packetSHA256))
	var id [16]byte
	copy(id[:], sum[:16])
	return id
}

// Result describes a personal copy.
type Result struct {
	Pages int
	Bytes int64
	// PacketSHA256 is the digest of the packet the copy was made from.
	PacketSHA256 string
	// FileID is the copy's /ID first element in hex (the invisible mark).
	FileID string
}

// Ink and opacity of the stamp: the packet's own stamp red, darker, so
// that the reviewer line stands apart from the campaign watermark.
var (
	ink     = pdfkit.Color{R: 0.55, G: 0.05, B: 0.05}
	opaque  = 0.9
	diffuse = 0.12
)

// Copy writes to w the personal copy of the packet in src (size bytes) for
// the mark's reviewer. Every page carries the stamp line along its top
// edge and up its right edge, and the reviewer's code faintly across the
// page on the diagonal the packet's watermark does not use, so that no
// crop of a page removes all three. font sets the stamp (the packet's
// font, WenQuanYi Zen Hei, in production).
func Copy(w io.Writer, src io.ReaderAt, size int64, m Mark, font *pdfkit.Font) (Result, error) {
	if err := m.Validate(); err != nil {
		return Result{}, err
	}
	if font == nil {
		return Result{}, errors.New("stamp: no font")
	}
	text := m.Text()
	if !font.Has(text) {
		return Result{}, fmt.Errorf("%w: the font lacks a glyph of %q", ErrInvalidMark, text)
	}
	sum := sha256.New()
	if _, err := io.Copy(sum, io.NewSectionReader(src, 0, size)); err != nil {
		return Result{}, fmt.Errorf("stamp: read packet: %w", err)
	}
	packetSHA := hex.EncodeToString(sum.Sum(nil))
	id := FileID(m.Reviewer, packetSHA)
	diagonal := "评审专家 " + m.Reviewer
	res, err := pdfkit.Stamp(w, src, size, pdfkit.Overlay{
		Fonts:  []*pdfkit.Font{font},
		Alphas: []float64{opaque, diffuse},
		FileID: id[:],
		Draw: func(_ int, pw, ph float64, c *pdfkit.Canvas) {
			size := math.Max(6, math.Min(10, pw/60))
			line := pdfkit.TextStyle{Font: font, Size: size, Color: ink, Alpha: opaque}
			c.TextCentered(pw/2, ph-1.6*size, text, line)
			vertical := line
			vertical.Angle = 90
			c.Text(pw-0.8*size, (ph-font.Width(text, size))/2, text, vertical)
			// Top-left to bottom-right, through the centre.
			diag := math.Hypot(pw, ph)
			big := math.Min(60, 0.5*diag/math.Max(font.Width(diagonal, 1), 1))
			angle := -math.Atan2(ph, pw)
			tw := font.Width(diagonal, big)
			x := pw/2 - math.Cos(angle)*tw/2 + math.Sin(angle)*big/3
			y := ph/2 - math.Sin(angle)*tw/2 - math.Cos(angle)*big/3
			c.Text(x, y, diagonal, pdfkit.TextStyle{Font: font, Size: big, Color: ink, Alpha: diffuse, Angle: angle * 180 / math.Pi})
		},
	})
	if err != nil {
		return Result{}, fmt.Errorf("stamp: %w", err)
	}
	return Result{Pages: res.Pages, Bytes: res.Bytes, PacketSHA256: packetSHA, FileID: res.ID[0]}, nil
}
