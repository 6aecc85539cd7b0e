package pipeline_test

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/disintegration/imaging"

	"github.com/blindpack/blindpack/internal/pdfcheck"
	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/internal/testenv"
	"github.com/blindpack/blindpack/pipeline"
)

// tool runs an external program that makes a variant no Go encoder makes.
func tool(t *testing.T, in []byte, name string, args ...string) []byte {
	t.Helper()
	testenv.Tool(t, name)
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "in"), filepath.Join(dir, "out.jpg")
	os.WriteFile(src, in, 0o644)
	for i, a := range args {
		switch a {
		case "IN":
			args[i] = src
		case "OUT":
			args[i] = dst
		}
	}
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
	data, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func pngOf(t *testing.T, img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withEXIFOrientation inserts an EXIF segment saying how to turn the image.
func withEXIFOrientation(jpg []byte, o uint16) []byte {
	var tiff bytes.Buffer
	tiff.WriteString("II*\x00")
	binary.Write(&tiff, binary.LittleEndian, uint32(8))
	binary.Write(&tiff, binary.LittleEndian, uint16(1))
	binary.Write(&tiff, binary.LittleEndian, []uint16{0x0112, 3, 1, 0, o, 0})
	binary.Write(&tiff, binary.LittleEndian, uint32(0))
	body := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	seg := []byte{0xFF, 0xE1, byte((len(body) + 2) >> 8), byte(len(body) + 2)}
	return append(append(append([]byte{}, jpg[:2]...), append(seg, body...)...), jpg[2:]...)
}

func TestEveryInputFormat(t *testing.T) {
	p := newPipeline(t)
	_, base := sample(t, "eng-intermediate")
	grey, masks := scanPage(t, base.Identity)
	baseline, err := synth.EncodeJPEG(grey, 85)
	if err != nil {
		t.Fatal(err)
	}
	rgb := image.NewRGBA(grey.Bounds())
	for i, v := range grey.Pix {
		rgb.Pix[4*i], rgb.Pix[4*i+1], rgb.Pix[4*i+2], rgb.Pix[4*i+3] = v, v/2+100, v, 255 // tinted paper
	}
	colour, _ := synth.EncodeJPEG(rgb, 85)
	g16 := image.NewGray16(grey.Bounds())
	for i, v := range grey.Pix {
		g16.Pix[2*i], g16.Pix[2*i+1] = v, v
	}
	pal := image.NewPaletted(grey.Bounds(), func() color.Palette {
		var p color.Palette
		for i := 0; i < 256; i += 17 {
			p = append(p, color.Gray{uint8(i)})
		}
		return p
	}())
	for i, v := range grey.Pix {
		pal.Pix[i] = uint8((int(v) + 8) / 17)
	}
	alpha := image.NewNRGBA(grey.Bounds())
	for i, v := range grey.Pix {
		// Ink opaque, paper transparent: flattened onto white it reads the same.
		alpha.Pix[4*i+3] = 255 - v
	}
	// Stored a quarter-turn anticlockwise; EXIF 6 turns it back for display.
	turned, _ := synth.EncodeJPEG(imaging.Rotate90(grey), 85)

	for _, tc := range []struct {
		name string
		data func(t *testing.T) []byte
	}{
		{"baseline grey JPEG", func(t *testing.T) []byte { return baseline }},
		{"colour JPEG", func(t *testing.T) []byte { return colour }},
		{"progressive JPEG", func(t *testing.T) []byte {
			return tool(t, baseline, "jpegtran", "-progressive", "-outfile", "OUT", "IN")
		}},
		{"CMYK JPEG", func(t *testing.T) []byte { return tool(t, colour, "convert", "IN", "-colorspace", "CMYK", "OUT") }},
		{"JPEG turned by EXIF", func(t *testing.T) []byte { return withEXIFOrientation(turned, 6) }},
		{"8-bit PNG", func(t *testing.T) []byte { return pngOf(t, grey) }},
		{"16-bit PNG", func(t *testing.T) []byte { return pngOf(t, g16) }},
		{"palette PNG", func(t *testing.T) []byte { return pngOf(t, pal) }},
		{"PNG with alpha", func(t *testing.T) []byte { return pngOf(t, alpha) }},
	} {
		for _, masked := range []bool{true, false} {
			name := tc.name + map[bool]string{true: ", masked", false: ", unmasked"}[masked]
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				dir, sub := sample(t, "eng-intermediate")
				m := material(sub, "performance_summary")
				m.File = "variant.bin" // decided by content, not name
				m.Masks = nil
				if masked {
					m.Masks = masks
				}
				if err := os.WriteFile(filepath.Join(dir, m.File), tc.data(t), 0o644); err != nil {
					t.Fatal(err)
				}
				rep, pdf := process(t, p, dir, sub)
				if rep.Status != pipeline.Accepted {
					t.Fatalf("findings %+v", rep.Findings)
				}
				path := pdfcheck.File(t, pdf)
				pdfcheck.Packet(t, path, sub, rep)
				// The page reads as paper, not as its negative or a
				// sideways copy: light on average, portrait like the original.
				for _, e := range rep.Packet.Index {
					if e.Type != "performance_summary" {
						continue
					}
					img := pdfcheck.Render(t, path, e.Pages[0][1], 30)
					if b := img.Bounds(); b.Dx() > b.Dy() {
						t.Errorf("page renders landscape %v", b)
					}
					if mean, _ := pdfcheck.Dark(img, [4]float64{0, 0, 1, 1}, 0); mean < 170 {
						t.Errorf("page renders dark (mean %.0f): colours inverted?", mean)
					}
				}
			})
		}
	}
}
