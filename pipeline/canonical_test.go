package pipeline_test

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/blindpack/blindpack/internal/pdfcheck"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/scan/jpegcodec"
)

// TestPacketImagesCanonical: an unmasked upload carries the applicant's
// name where a viewer does not look — in segments, in an unused table,
// after the end of the image, in the rows of the last MCU below the
// declared height, after a PNG's zlib stream — and none of it reaches the
// packet (the verifier would refuse it if it did). The packet is then read with pdfimages -all: every stored image
// is searched byte by byte, and decoded at the size its stream really has.
func TestPacketImagesCanonical(t *testing.T) {
	p := newPipeline(t)
	dir0, base := sample(t, "eng-intermediate")
	orig, err := os.ReadFile(filepath.Join(dir0, material(base, "continuing_education").File))
	if err != nil {
		t.Fatal(err)
	}
	name := []byte(base.Identity.Name)
	for _, c := range []struct {
		name string
		make func(t *testing.T, dir string) (file string, hidden int)
	}{
		{"JPEG: comment, EXIF and XMP (exiftool)", func(t *testing.T, dir string) (string, int) {
			os.WriteFile(filepath.Join(dir, "in.jpg"), orig, 0o644)
			sh(t, dir, "exiftool", "-q", "-overwrite_original", "-Comment="+base.Identity.Name,
				"-Artist="+base.Identity.Name, "-XMP-dc:Creator="+base.Identity.Employer, "in.jpg")
			return "in.jpg", 0
		}},
		{"JPEG: the name in an unused quantisation table and after the end", func(t *testing.T, dir string) (string, int) {
			table := append([]byte{0x03}, append(bytes.Clone(name), make([]byte, 64)...)[:64]...)
			data := slices.Concat(orig[:2], []byte{0xFF, 0xDB, 0, 67}, table, orig[2:], name)
			os.WriteFile(filepath.Join(dir, "in.jpg"), data, 0o644)
			return "in.jpg", 0
		}},
		{"JPEG: a pattern in the rows below the declared height (cjpeg, then the frame header edited)", func(t *testing.T, dir string) (string, int) {
			img, err := jpeg.Decode(bytes.NewReader(orig))
			if err != nil {
				t.Fatal(err)
			}
			g := jpegcodec.Gray(img)
			b := g.Bounds()
			h := (b.Dy() + 7) / 8 * 8
			if h == b.Dy() {
				h += 8
			}
			tall := image.NewGray(image.Rect(0, 0, b.Dx(), h))
			copy(tall.Pix, g.Pix)
			for y := b.Dy(); y < h; y++ {
				for x := range b.Dx() {
					tall.SetGray(x, y, color.Gray{uint8((x/2 + y) % 2 * 255)})
				}
			}
			var pgm bytes.Buffer
			fmt.Fprintf(&pgm, "P5\n%d %d\n255\n", b.Dx(), h)
			pgm.Write(tall.Pix)
			os.WriteFile(filepath.Join(dir, "tall.pgm"), pgm.Bytes(), 0o644)
			sh(t, dir, "cjpeg", "-quality", "90", "-outfile", "tall.jpg", "tall.pgm")
			data, err := os.ReadFile(filepath.Join(dir, "tall.jpg"))
			if err != nil {
				t.Fatal(err)
			}
			sof := bytes.Index(data, []byte{0xFF, 0xC0})
			binary.BigEndian.PutUint16(data[sof+5:], uint16(b.Dy()))
			os.WriteFile(filepath.Join(dir, "in.jpg"), data, 0o644)
			return "in.jpg", h - b.Dy()
		}},
		{"PNG: the name after the zlib stream, and in a text chunk (convert)", func(t *testing.T, dir string) (string, int) {
			os.WriteFile(filepath.Join(dir, "ce.jpg"), orig, 0o644)
			sh(t, dir, "convert", "ce.jpg", "-set", "comment", base.Identity.Name, "in.png")
			data, err := os.ReadFile(filepath.Join(dir, "in.png"))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, "in.png"), appendAfterZlib(t, data, name), 0o644)
			return "in.png", 0
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, sub := sample(t, "eng-intermediate")
			// The summary goes to reviewers, and needs no masks.
			m := material(sub, "performance_summary")
			file, hidden := c.make(t, dir)
			m.File, m.Masks = file, nil
			rep, pdf := process(t, p, dir, sub)
			if rep.Status != pipeline.Accepted {
				t.Fatalf("status %s: %+v", rep.Status, rep.Findings)
			}
			inPacket := false
			for _, e := range rep.Packet.Index {
				inPacket = inPacket || sub.Materials[e.Material].File == file
			}
			if !inPacket {
				t.Fatal("the page is not in the packet")
			}
			if bytes.Contains(pdf, name) {
				t.Error("the name's bytes are in the packet")
			}
			path := pdfcheck.File(t, pdf)
			for _, im := range pdfcheck.StoredImages(t, path) {
				if bytes.Contains(im.Data, name) || bytes.Contains(im.Data, []byte(base.Identity.Employer)) {
					t.Errorf("%s holds the identity", im.Name)
				}
				if im.JPEG && hidden > 0 {
					checkPadding(t, im.Data)
				}
			}
		})
	}
}

// checkPadding decodes a grey JPEG at the size its blocks really have:
// the rows below the declared height must repeat the last visible row
// (to within quantisation), not carry a pattern.
func checkPadding(t *testing.T, data []byte) {
	t.Helper()
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.ColorModel != color.GrayModel || cfg.Height%8 == 0 {
		return // not the page under test
	}
	full := bytes.Clone(data)
	sof := bytes.Index(full, []byte{0xFF, 0xC0})
	if sof < 0 {
		sof = bytes.Index(full, []byte{0xFF, 0xC1})
	}
	h := (cfg.Height + 7) / 8 * 8
	binary.BigEndian.PutUint16(full[sof+5:], uint16(h))
	img, err := jpeg.Decode(bytes.NewReader(full))
	if err != nil {
		t.Fatalf("decode at the stream's size %dx%d: %v", cfg.Width, h, err)
	}
	g := img.(*image.Gray)
	for y := cfg.Height; y < h; y++ {
		for x := range cfg.Width {
			if d := int(g.GrayAt(x, y).Y) - int(g.GrayAt(x, cfg.Height-1).Y); d < -24 || d > 24 {
				t.Fatalf("hidden pixel (%d,%d) is %d, the last visible row %d", x, y, g.GrayAt(x, y).Y, g.GrayAt(x, cfg.Height-1).Y)
			}
		}
	}
}

// appendAfterZlib rewrites a PNG's image data as one IDAT chunk holding
// the zlib stream and then extra: a decoder stops at the stream's end.
func appendAfterZlib(t *testing.T, png, extra []byte) []byte {
	t.Helper()
	var idat []byte
	out := slices.Clone(png[:8])
	for p := 8; p+12 <= len(png); {
		n := int(binary.BigEndian.Uint32(png[p:]))
		typ := string(png[p+4 : p+8])
		chunk := png[p : p+12+n]
		p += 12 + n
		switch typ {
		case "IDAT":
			idat = append(idat, chunk[8:8+n]...)
			continue
		case "IEND":
			zr, err := zlib.NewReader(bytes.NewReader(idat))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, zr); err != nil {
				t.Fatal(err)
			}
			body := slices.Concat([]byte("IDAT"), idat, extra)
			out = binary.BigEndian.AppendUint32(out, uint32(len(body)-4))
			out = append(out, body...)
			out = binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(body))
		}
		out = append(out, chunk...)
	}
	return out
}

// TestPacketImageCodingChannel: an unmasked JPEG whose scan is coded as
// blindpack codes it has its entropy-coded data copied into the packet
// (jpegcodec's copy path); a coding that libjpeg's decoder also accepts
// is not copied. Here the one bits that fill the upload's last byte are
// made zeros (bits that no decoder looks at: djpeg shows the same
// pixels). The packet's image, as pdfimages -all extracts it, is then the
// same bytes as for the upload as it was.
func TestPacketImageCodingChannel(t *testing.T) {
	p := newPipeline(t)
	dir0, base := sample(t, "eng-intermediate")
	// A page of whole blocks (jpegtran cuts the sample losslessly), so
	// that the rewrite changes no block and copies the data to the end.
	sh(t, dir0, "jpegtran", "-copy", "none", "-crop", "1232x1752+0+0", "-outfile", "whole.jpg",
		material(base, "continuing_education").File)
	orig, err := os.ReadFile(filepath.Join(dir0, "whole.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(orig, []byte{0xFF, 0xD9}) {
		t.Fatal("the upload does not end with its end of image")
	}
	edited := bytes.Clone(orig)
	last := &edited[len(edited)-3]
	fill := bits.TrailingZeros8(^*last)
	if fill == 0 || *last == 0xFF {
		t.Fatalf("the upload's last byte %#x", *last)
	}
	*last &^= 1<<fill - 1

	// The bits are free: djpeg shows the same pixels.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "orig.jpg"), orig, 0o644)
	os.WriteFile(filepath.Join(dir, "edited.jpg"), edited, 0o644)
	sh(t, dir, "djpeg", "-outfile", "orig.pnm", "orig.jpg")
	sh(t, dir, "djpeg", "-outfile", "edited.pnm", "edited.jpg")
	a, _ := os.ReadFile(filepath.Join(dir, "orig.pnm"))
	b, _ := os.ReadFile(filepath.Join(dir, "edited.pnm"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatal("djpeg shows the edited upload differently")
	}

	images := func(upload []byte) [][]byte {
		t.Helper()
		dir, sub := sample(t, "eng-intermediate")
		m := material(sub, "performance_summary")
		os.WriteFile(filepath.Join(dir, "in.jpg"), upload, 0o644)
		m.File, m.Masks = "in.jpg", nil
		rep, pdf := process(t, p, dir, sub)
		if rep.Status != pipeline.Accepted {
			t.Fatalf("status %s: %+v", rep.Status, rep.Findings)
		}
		var out [][]byte
		for _, im := range pdfcheck.StoredImages(t, pdfcheck.File(t, pdf)) {
			if im.JPEG {
				out = append(out, im.Data)
			}
		}
		return out
	}
	want, got := images(orig), images(edited)
	if len(got) != len(want) {
		t.Fatalf("%d JPEG images in the packet, %d for the upload as it was", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("image %d differs from the packet's image for the upload as it was", i)
		}
	}
}

// TestMaskedPageKeepsItsBlocks: a masked JPEG page has its masks burned
// into the coefficients of the blocks they touch and keeps every other
// block as it came (no second lossy encoding): djpeg shows the packet's
// image, as pdfimages -all extracts it, with the upload's very luminance in
// every block no mask touches, and black under the masks. A CMYK upload,
// whose masks cannot go into its coefficients so, is masked in its pixels
// (pdfcheck.Packet: black under the masks, rendered and stored).
func TestMaskedPageKeepsItsBlocks(t *testing.T) {
	p := newPipeline(t)
	for _, c := range []struct {
		name    string
		convert []string // ImageMagick's arguments between the upload and in.jpg; none: as it is
		kept    bool
	}{
		{"grey, as scanned", nil, true},
		{"colour 4:2:0, quality 60", []string{"-type", "TrueColor", "-sampling-factor", "2x2", "-quality", "60"}, true},
		{"CMYK", []string{"-colorspace", "CMYK", "-quality", "90"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, sub := sample(t, "eng-intermediate")
			m := material(sub, "performance_summary")
			if len(m.Masks) == 0 {
				t.Fatal("the sample's summary has no masks")
			}
			if c.convert != nil {
				sh(t, dir, "convert", append(append([]string{m.File}, c.convert...), "in.jpg")...)
				m.File = "in.jpg"
			}
			upload, err := os.ReadFile(filepath.Join(dir, m.File))
			if err != nil {
				t.Fatal(err)
			}
			rep, pdf := process(t, p, dir, sub)
			if rep.Status != pipeline.Accepted {
				t.Fatalf("status %s: %+v", rep.Status, rep.Findings)
			}
			path := pdfcheck.File(t, pdf)
			pdfcheck.Packet(t, path, sub, rep) // black under the masks, rendered and stored
			if !c.kept {
				return
			}
			page := 0
			for _, e := range rep.Packet.Index {
				if e.Type == "performance_summary" {
					page = e.Pages[0][1]
				}
			}
			out := t.TempDir()
			sh(t, out, "pdfimages", "-all", "-f", fmt.Sprint(page), "-l", fmt.Sprint(page), path, "img")
			if _, err := os.Stat(filepath.Join(out, "img-000.jpg")); err != nil {
				t.Fatalf("the masked page's image is not a JPEG: %v", err)
			}
			os.WriteFile(filepath.Join(out, "upload.jpg"), upload, 0o644)
			sh(t, out, "djpeg", "-grayscale", "-outfile", "upload.pgm", "upload.jpg")
			sh(t, out, "djpeg", "-grayscale", "-outfile", "stored.pgm", "img-000.jpg")
			a, b := readPGM(t, filepath.Join(out, "upload.pgm")), readPGM(t, filepath.Join(out, "stored.pgm"))
			if a.Rect != b.Rect {
				t.Fatalf("stored %v, upload %v", b.Rect, a.Rect)
			}
			w, h := a.Rect.Dx(), a.Rect.Dy()
			var rects []image.Rectangle
			for _, mk := range m.Masks {
				r := mk.Rect
				rects = append(rects, image.Rect(int(r[0]*float64(w)), int(r[1]*float64(h)),
					int(math.Ceil(r[2]*float64(w))), int(math.Ceil(r[3]*float64(h)))))
			}
			same, blocks := 0, 0
			for by := 0; by+8 <= h; by += 8 {
				for bx := 0; bx+8 <= w; bx += 8 {
					blk := image.Rect(bx, by, bx+8, by+8)
					if slices.ContainsFunc(rects, blk.Overlaps) {
						continue
					}
					blocks++
					eq := true
					for y := by; y < by+8 && eq; y++ {
						eq = bytes.Equal(a.Pix[y*a.Stride+bx:][:8], b.Pix[y*b.Stride+bx:][:8])
					}
					if eq {
						same++
					}
				}
			}
			if same != blocks || blocks < 30000 {
				t.Errorf("%d of %d blocks no mask touches differ from the upload's: the page was encoded again", blocks-same, blocks)
			}
		})
	}
}

// readPGM reads a binary PGM as djpeg writes it.
func readPGM(t *testing.T, path string) *image.Gray {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var w, h, max int
	r := bytes.NewReader(data)
	if _, err := fmt.Fscanf(r, "P5\n%d %d\n%d\n", &w, &h, &max); err != nil || max != 255 || r.Len() != w*h {
		t.Fatalf("%s: not an 8-bit PGM (%v)", path, err)
	}
	return &image.Gray{Pix: data[len(data)-w*h:], Stride: w, Rect: image.Rect(0, 0, w, h)}
}
