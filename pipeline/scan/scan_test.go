package scan

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"github.com/blindpack/blindpack/internal/rawpdf"
	"github.com/blindpack/blindpack/pipeline/finding"
)

const secretName = "张三丰"

// gradient is a grey test image whose every row differs, so that a wrong
// orientation or a lost row shows.
func gradient(w, h int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Pix[y*img.Stride+x] = byte((x*7 + y*3) % 256)
		}
	}
	return img
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func segment(marker byte, body []byte) []byte {
	s := []byte{0xFF, marker, 0, 0}
	binary.BigEndian.PutUint16(s[2:], uint16(len(body)+2))
	return append(s, body...)
}

// exifWithOrientation builds an EXIF APP1 body (big-endian TIFF) with an
// Orientation tag and an Artist tag holding the name.
func exifWithOrientation(o uint16) []byte {
	artist := []byte(secretName + "\x00")
	var t bytes.Buffer
	t.WriteString("MM\x00\x2a")
	binary.Write(&t, binary.BigEndian, uint32(8))
	binary.Write(&t, binary.BigEndian, uint16(2)) // entries
	// Orientation SHORT 1
	binary.Write(&t, binary.BigEndian, []uint16{0x0112, 3})
	binary.Write(&t, binary.BigEndian, uint32(1))
	binary.Write(&t, binary.BigEndian, []uint16{o, 0})
	// Artist ASCII n, at offset 8+2+24+4
	binary.Write(&t, binary.BigEndian, []uint16{0x013B, 2})
	binary.Write(&t, binary.BigEndian, uint32(len(artist)))
	binary.Write(&t, binary.BigEndian, uint32(8+2+24+4))
	binary.Write(&t, binary.BigEndian, uint32(0)) // next IFD
	t.Write(artist)
	return append([]byte("Exif\x00\x00"), t.Bytes()...)
}

// withMetadata inserts every kind of metadata segment after SOI and junk
// after EOI, each carrying the name.
func withMetadata(jpg []byte, orientation uint16, adobe bool) []byte {
	var b bytes.Buffer
	b.Write(jpg[:2])
	b.Write(segment(0xE0, append([]byte("JFIF\x00\x01\x02\x00\x00\x48\x00\x48\x01\x01"), 1, 2, 3))) // JFIF with a 1×1 thumbnail
	b.Write(segment(0xE1, exifWithOrientation(orientation)))
	b.Write(segment(0xE1, []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta><dc:creator>"+secretName+"</dc:creator></x:xmpmeta>")))
	b.Write(segment(0xE2, []byte("ICC_PROFILE\x00\x01\x01desc "+secretName)))
	b.Write(segment(0xED, []byte("Photoshop 3.0\x00"+secretName)))
	b.Write(segment(0xFE, []byte("scanned by "+secretName)))
	if adobe {
		b.Write(segment(0xEE, []byte("Adobe\x00\x64\x00\x00\x00\x00\x01")))
	}
	b.Write(jpg[2:])
	b.WriteString("trailing " + secretName)
	return b.Bytes()
}

func TestStripJPEGRemovesMetadataAndKeepsPixels(t *testing.T) {
	src := gradient(64, 48)
	plain := encodeJPEG(t, src)
	for _, tc := range []struct {
		name        string
		orientation uint16
		adobe       bool
	}{{"upright", 1, false}, {"turned", 6, false}, {"mirrored", 5, true}} {
		t.Run(tc.name, func(t *testing.T) {
			dirty := withMetadata(plain, tc.orientation, tc.adobe)
			out, info, err := StripJPEG(dirty)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(out, []byte(secretName)) {
				t.Fatal("stripped JPEG still holds the name")
			}
			for _, m := range []byte{0xE0, 0xE1, 0xE2, 0xED, 0xFE} {
				if bytes.Contains(out, []byte{0xFF, m}) && hasSegment(out, m) {
					t.Errorf("segment FF%02X survived", m)
				}
			}
			if got := hasSegment(out, 0xEE); got != tc.adobe {
				t.Errorf("Adobe segment kept = %v, want %v", got, tc.adobe)
			}
			if info.Orientation != Orientation(tc.orientation) || info.Width != 64 || info.Height != 48 || info.Components != 1 {
				t.Errorf("info = %+v", info)
			}
			a, err1 := jpeg.Decode(bytes.NewReader(plain))
			b, err2 := jpeg.Decode(bytes.NewReader(out))
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if !bytes.Equal(a.(*image.Gray).Pix, b.(*image.Gray).Pix) {
				t.Error("pixels changed")
			}
		})
	}
}

// hasSegment walks the header segments (before SOS) for a marker.
func hasSegment(jpg []byte, marker byte) bool {
	p := 2
	for p+4 <= len(jpg) && jpg[p] == 0xFF {
		m := jpg[p+1]
		if m == marker {
			return true
		}
		if m == 0xDA {
			return false
		}
		p += 2 + int(binary.BigEndian.Uint16(jpg[p+2:]))
	}
	return false
}

func TestStripJPEGProgressiveAndRestartMarkers(t *testing.T) {
	// A JPEG with restart intervals has RSTn markers inside the scan data,
	// which must be copied, not taken for segment boundaries.
	src := encodeJPEG(t, gradient(200, 120))
	// Insert a DRI segment (restart every 4 MCUs) is not possible without
	// re-encoding; Go's encoder writes none. Check the multi-scan walk on
	// a hand-made two-scan stream instead: SOS, data, RST0, data, SOS, …
	out, _, err := StripJPEG(src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jpeg.Decode(bytes.NewReader(out)); err != nil {
		t.Fatal(err)
	}
}

func TestStripJPEGRefusesBrokenFiles(t *testing.T) {
	good := encodeJPEG(t, gradient(64, 48))
	for name, data := range map[string][]byte{
		"empty":           {},
		"no SOI":          good[2:],
		"truncated":       good[:len(good)/2],
		"header only":     good[:20],
		"lossless SOF3":   append([]byte{0xFF, 0xD8}, segment(0xC3, make([]byte, 9))...),
		"12-bit baseline": append([]byte{0xFF, 0xD8}, segment(0xC1, []byte{12, 0, 8, 0, 8, 1, 1, 0x11, 0})...),
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := StripJPEG(data); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func pngChunk(typ string, body []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint32(len(body)))
	b.WriteString(typ)
	b.Write(body)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), body...)))
	return b.Bytes()
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestOpenPNG(t *testing.T) {
	gray := gradient(40, 30)
	rgba := image.NewNRGBA(image.Rect(0, 0, 40, 30))
	for i := range rgba.Pix {
		rgba.Pix[i] = byte(i)
	}
	g16 := image.NewGray16(image.Rect(0, 0, 40, 30))
	pal := image.NewPaletted(image.Rect(0, 0, 40, 30), color.Palette{color.White, color.Black})
	// A text chunk carrying the name, inserted before IEND.
	withText := encodePNG(t, gray)
	withText = append(withText[:len(withText)-12:len(withText)-12], append(pngChunk("tEXt", []byte("Author\x00"+secretName)), withText[len(withText)-12:]...)...)
	for _, tc := range []struct {
		name string
		data []byte
		enc  Encoding
	}{
		{"8-bit grey", encodePNG(t, gray), EncPNG},
		{"grey with text chunk", withText, EncPNG},
		{"RGBA", encodePNG(t, rgba), EncPixels},
		{"16-bit", encodePNG(t, g16), EncPixels},
		{"palette", encodePNG(t, pal), EncPixels},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Open(tc.data, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			p, err := f.Page(1)
			if err != nil {
				t.Fatal(err)
			}
			if p.Encoding != tc.enc {
				t.Errorf("encoding %d, want %d", p.Encoding, tc.enc)
			}
			if bytes.Contains(p.PNG.IDAT, []byte(secretName)) {
				t.Error("image data holds the text chunk")
			}
			if _, err := p.Decode(); err != nil {
				t.Error(err)
			}
			// 40×30 is landscape: as large as fits A4 landscape, proportions kept.
			if math.Abs(p.HeightPt-a4Short) > 0.01 || math.Abs(p.WidthPt/p.HeightPt-40.0/30) > 1e-9 || p.WidthPt > a4Long {
				t.Errorf("page size %v × %v", p.WidthPt, p.HeightPt)
			}
		})
	}
}

// hugePNG is a PNG whose header claims w×h pixels but holds almost nothing:
// decoding it would allocate gigabytes.
func hugePNG(w, h uint32) []byte {
	var ihdr bytes.Buffer
	binary.Write(&ihdr, binary.BigEndian, []uint32{w, h})
	ihdr.Write([]byte{8, 0, 0, 0, 0})
	var b bytes.Buffer
	b.Write(pngSignature)
	b.Write(pngChunk("IHDR", ihdr.Bytes()))
	b.Write(pngChunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01}))
	b.Write(pngChunk("IEND", nil))
	return b.Bytes()
}

func code(err error) finding.Code {
	var fe *finding.Error
	if errors.As(err, &fe) {
		return fe.Code
	}
	return ""
}

func TestOpenRefusesBadFiles(t *testing.T) {
	jpg := encodeJPEG(t, gradient(64, 48))
	pngData := encodePNG(t, gradient(64, 48))
	for _, tc := range []struct {
		name string
		data []byte
		want finding.Code
	}{
		{"empty", nil, finding.EmptyFile},
		{"text file", []byte("<html>this is not a scan</html>"), finding.UnsupportedFormat},
		{"GIF", []byte("GIF89a\x01\x00\x01\x00"), finding.UnsupportedFormat},
		{"truncated JPEG", jpg[:len(jpg)*2/3], finding.CorruptFile},
		{"truncated PNG", pngData[:len(pngData)/2], finding.CorruptFile},
		{"PNG claiming 60000×60000", hugePNG(60000, 60000), finding.ImageTooLarge},
		{"PNG claiming 9000×9000", hugePNG(9000, 9000), finding.ImageTooLarge},
		{"garbage PDF", []byte("%PDF-1.7\n1 0 obj <</Type /Catalog"), finding.MalformedPDF},
		{"PNG of 20001 empty chunks", manyChunks(pngData, 20001), finding.ImageTooComplex},
		{"JPEG of 300 quantisation table segments", manyTables(jpg, 300), finding.ImageTooComplex},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(tc.data, Limits{MaxPagePixels: 50_000_000})
			if got := code(err); got != tc.want {
				t.Fatalf("code %q (%v), want %q", got, err, tc.want)
			}
		})
	}
	t.Run("file too large", func(t *testing.T) {
		if _, err := Open(jpg, Limits{MaxFileBytes: 100}); code(err) != finding.FileTooLarge {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("corrupt scan data decodes with an error", func(t *testing.T) {
		bad := append([]byte(nil), jpg...)
		for i := len(bad) / 2; i < len(bad)/2+40; i++ {
			bad[i] = 0xFF // markers in the middle of entropy data
		}
		f, err := Open(bad, Limits{})
		if err != nil {
			if code(err) != finding.CorruptFile {
				t.Fatalf("err = %v", err)
			}
			return
		}
		p, _ := f.Page(1)
		if _, err := p.Decode(); code(err) != finding.CorruptFile {
			t.Fatalf("decode err = %v", err)
		}
	})
}

func TestOrientationRoundTrip(t *testing.T) {
	for o := Orientation(1); o <= 8; o++ {
		for _, pt := range [][2]float64{{0.1, 0.2}, {0.9, 0.05}, {0.5, 0.5}, {0, 1}} {
			u, v := o.ToDisplayed(pt[0], pt[1])
			s, tt := o.ToStored(u, v)
			if math.Abs(s-pt[0]) > 1e-12 || math.Abs(tt-pt[1]) > 1e-12 {
				t.Errorf("orientation %d: %v → (%v,%v) → (%v,%v)", o, pt, u, v, s, tt)
			}
		}
	}
}

// imagePage is a PDF page that paints one JPEG XObject with a matrix.
func imagePDF(t testing.TB, jpg []byte, w, h int, mediaBox string, rotate int, content string, extraRes string) []byte {
	var r rawpdf.Builder
	im := r.Stream(fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode", w, h), jpg)
	font := r.Add("<</Type /Font /Subtype /Type1 /BaseFont /Helvetica>>")
	return r.Bytes([]rawpdf.Page{{MediaBox: mediaBox, Rotate: rotate, Content: content,
		Resources: fmt.Sprintf("<</XObject <</Im0 %d 0 R>> /Font <</F1 %d 0 R>> %s>>", im, font, extraRes)}}, "")
}

func TestPDFPages(t *testing.T) {
	jpg := encodeJPEG(t, gradient(100, 140))
	full := "q 595 0 0 842 0 0 cm /Im0 Do Q"
	const rendered = finding.Code("(rendered)")
	for _, tc := range []struct {
		name     string
		mediaBox string
		rotate   int
		content  string
		want     finding.Code
		orient   Orientation
		size     [2]float64
	}{
		{"plain scan", "0 0 595 842", 0, full, "", 1, [2]float64{595, 842}},
		{"rotated page", "0 0 595 842", 90, full, "", 6, [2]float64{842, 595}},
		{"upside down", "0 0 595 842", 180, full, "", 3, [2]float64{595, 842}},
		{"image drawn flipped", "0 0 595 842", 0, "q 595 0 0 -842 0 842 cm /Im0 Do Q", "", 4, [2]float64{595, 842}},
		{"invisible OCR layer", "0 0 595 842", 0, full + " BT 3 Tr /F1 12 Tf 100 700 Td (" + "Zhang San" + ") Tj ET", "", 1, [2]float64{595, 842}},
		// Everything else is drawn by the renderer (rendered: true): the
		// page is pixels at RenderPPI, upright, with its text layer.
		{"visible text", "0 0 595 842", 0, full + " BT /F1 12 Tf 100 700 Td (Zhang San) Tj ET", rendered, 1, [2]float64{595, 842}},
		{"vector drawing", "0 0 595 842", 0, full + " 0 0 m 100 100 l S", rendered, 1, [2]float64{595, 842}},
		{"two images", "0 0 595 842", 0, full + " " + full, rendered, 1, [2]float64{595, 842}},
		{"no image", "0 0 595 842", 0, "", rendered, 1, [2]float64{595, 842}},
		{"small image", "0 0 595 842", 0, "q 100 0 0 140 10 10 cm /Im0 Do Q", rendered, 1, [2]float64{595, 842}},
		{"skewed image", "0 0 595 842", 0, "q 595 10 0 842 0 0 cm /Im0 Do Q", rendered, 1, [2]float64{595, 842}},
		{"image larger than the page", "0 0 595 842", 0, "q 700 0 0 990 -50 -50 cm /Im0 Do Q", rendered, 1, [2]float64{595, 842}},
		{"image under a clip path", "0 0 595 842", 0, "q 0 0 300 842 re W n " + full + " Q", rendered, 1, [2]float64{595, 842}},
		{"image in a graphics state", "0 0 595 842", 0, "q /GS0 gs " + full + " Q", rendered, 1, [2]float64{595, 842}},
		{"rotated page with text", "0 0 595 842", 90, full + " BT /F1 12 Tf 100 700 Td (Zhang San) Tj ET", rendered, 1, [2]float64{842, 595}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := imagePDF(t, jpg, 100, 140, tc.mediaBox, tc.rotate, tc.content, "/ExtGState <</GS0 <</CA 1>>>>")
			f, err := Open(data, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			p, err := f.Page(1)
			if tc.want == rendered {
				if err != nil {
					t.Fatal(err)
				}
				w, h := int(tc.size[0]*200/72+0.5), int(tc.size[1]*200/72+0.5)
				if p.Encoding != EncPixels || p.Width != w || p.Height != h || p.Orientation != 1 || p.WidthPt != tc.size[0] || p.HeightPt != tc.size[1] {
					t.Errorf("rendered page: encoding %d, %d×%d px (want %d×%d), orientation %d, %v×%v pt", p.Encoding, p.Width, p.Height, w, h, p.Orientation, p.WidthPt, p.HeightPt)
				}
				var text strings.Builder
				for _, g := range p.Text {
					text.WriteRune(g.Char)
				}
				if want := strings.Contains(tc.content, "Zhang San"); strings.Contains(text.String(), "Zhang San") != want {
					t.Errorf("text layer %q", text.String())
				}
				img, err := p.Decode()
				if err != nil || img.Bounds().Dx() != w {
					t.Fatalf("decode: %v", err)
				}
				return
			}
			if tc.want != "" {
				if code(err) != tc.want {
					t.Fatalf("err = %v, want %s", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Encoding != EncJPEG || p.Orientation != tc.orient || p.WidthPt != tc.size[0] || p.HeightPt != tc.size[1] {
				t.Errorf("page: encoding %d orientation %d size %v×%v", p.Encoding, p.Orientation, p.WidthPt, p.HeightPt)
			}
			if p.Placement != [4]float64{0, 0, 1, 1} {
				t.Errorf("placement %v", p.Placement)
			}
		})
	}
}

// TestPDFFormXObjectAndDecodeAreRendered: an image drawn from a form
// XObject (whose /BBox clips) with a /Decode array that swaps black and
// white is not extracted but drawn, as a viewer shows it.
func TestPDFFormXObjectAndDecodeAreRendered(t *testing.T) {
	var r rawpdf.Builder
	// 1-bit image, Flate, with /Decode [1 0]: bit 1 is black.
	w, h := 16, 4
	bits := make([]byte, 2*h)
	bits[0] = 0xF0 // first row, first four pixels set → black after Decode
	im := r.Flate(fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 1 /Decode [1 0]", w, h), bits)
	form := r.Stream(fmt.Sprintf("/Type /XObject /Subtype /Form /BBox [0 0 1 1] /Resources <</XObject <</I %d 0 R>>>>", im), []byte("/I Do"))
	data := r.Bytes([]rawpdf.Page{{MediaBox: "0 0 200 50", Content: "q 200 0 0 50 0 0 cm /Fm Do Q",
		Resources: fmt.Sprintf("<</XObject <</Fm %d 0 R>>>>", form)}}, "")
	f, err := Open(data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.Page(1)
	if err != nil {
		t.Fatal(err)
	}
	img, err := p.Decode()
	if err != nil {
		t.Fatal(err)
	}
	g, ok := img.(*image.Gray)
	if !ok || p.Encoding != EncPixels || g.Bounds().Dx() != 556 || g.Bounds().Dy() != 139 {
		t.Fatalf("page %T %v, encoding %d", img, img.Bounds(), p.Encoding)
	}
	// The set bits cover the first quarter of the first row of samples.
	if g.GrayAt(60, 15).Y > 64 || g.GrayAt(300, 15).Y < 192 || g.GrayAt(60, 100).Y < 192 {
		t.Errorf("drawn wrong: %v %v %v", g.GrayAt(60, 15), g.GrayAt(300, 15), g.GrayAt(60, 100))
	}
}

func TestPDFBombAndEncryption(t *testing.T) {
	jpg := encodeJPEG(t, gradient(100, 140))
	t.Run("image stream bomb", func(t *testing.T) {
		f, err := Open(rawpdf.Bomb(64<<20), Limits{})
		if err == nil {
			_, err = f.Page(1)
		}
		if c := code(err); c != finding.DecompressionLimit && c != finding.ImageTooLarge {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("content stream bomb", func(t *testing.T) {
		var r rawpdf.Builder
		c := r.Flate("", bytes.Repeat([]byte(" "), 64<<20))
		data := r.Bytes([]rawpdf.Page{{MediaBox: "0 0 595 842", Contents: c}}, "")
		f, err := Open(data, Limits{MaxDecodeBytes: 8 << 20})
		if err == nil {
			_, err = f.Page(1)
		}
		if c := code(err); c != finding.DecompressionLimit {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("encrypted", func(t *testing.T) {
		plain := imagePDF(t, jpg, 100, 140, "0 0 595 842", 0, "q 595 0 0 842 0 0 cm /Im0 Do Q", "")
		for _, user := range []string{"", "secret"} {
			var out bytes.Buffer
			conf := model.NewAESConfiguration(user, "owner-pw", 256)
			if err := api.Encrypt(bytes.NewReader(plain), &out, conf); err != nil {
				t.Fatal(err)
			}
			if _, err := Open(out.Bytes(), Limits{}); code(err) != finding.EncryptedPDF {
				t.Errorf("user password %q: err = %v", user, err)
			}
		}
	})
}

// manyChunks puts n empty private ancillary chunks after a PNG's header.
func manyChunks(png []byte, n int) []byte {
	chunk := []byte{0, 0, 0, 0, 'b', 'p', 'A', 'd', 0, 0, 0, 0}
	binary.BigEndian.PutUint32(chunk[8:], crc32.ChecksumIEEE(chunk[4:8]))
	head := 8 + 12 + 13 // signature, IHDR
	return slices.Concat(png[:head], bytes.Repeat(chunk, n), png[head:])
}

// manyTables repeats a JPEG's first quantisation table segment n times.
func manyTables(jpg []byte, n int) []byte {
	i := bytes.Index(jpg, []byte{0xFF, 0xDB})
	seg := jpg[i : i+2+int(binary.BigEndian.Uint16(jpg[i+2:]))]
	return slices.Concat(jpg[:i], bytes.Repeat(seg, n), jpg[i:])
}
