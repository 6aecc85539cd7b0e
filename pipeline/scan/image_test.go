package scan

import (
	"image"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/internal/testenv"
)

// decodeWithTool has an independent tool decode file to a PPM/PGM and
// reads it back.
func decodeWithTool(t *testing.T, dir string, argv ...string) image.Image {
	t.Helper()
	testenv.Tool(t, argv[0])
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", argv, err, out)
	}
	data, err := os.ReadFile(filepath.Join(dir, "ref.pnm"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := readPNM(data)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// readPNM reads a binary PGM (P5) or PPM (P6) of 8-bit samples.
func readPNM(data []byte) (image.Image, error) {
	var magic string
	var w, h, maxv, n int
	if _, err := fmtSscan(data, &magic, &w, &h, &maxv, &n); err != nil {
		return nil, err
	}
	px := data[n:]
	if magic == "P5" {
		return &image.Gray{Pix: px[:w*h], Stride: w, Rect: image.Rect(0, 0, w, h)}, nil
	}
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range w * h {
		out.Pix[4*i], out.Pix[4*i+1], out.Pix[4*i+2], out.Pix[4*i+3] = px[3*i], px[3*i+1], px[3*i+2], 255
	}
	return out, nil
}

// meanDiff is the mean absolute difference of two images' luminance.
func meanDiff(a, b image.Image) float64 {
	if a.Bounds().Size() != b.Bounds().Size() {
		return 255
	}
	var sum float64
	r := a.Bounds()
	for y := range r.Dy() {
		for x := range r.Dx() {
			ga := color.GrayModel.Convert(a.At(r.Min.X+x, r.Min.Y+y)).(color.Gray).Y
			gb := color.GrayModel.Convert(b.At(b.Bounds().Min.X+x, b.Bounds().Min.Y+y)).(color.Gray).Y
			sum += float64(max(ga, gb) - min(ga, gb))
		}
	}
	return sum / float64(r.Dx()*r.Dy())
}

// TestDecodersAgreeWithTheTools: the pages blindpack decodes are the pages
// the formats' own tools decode — libwebp's dwebp for a lossy WebP (where
// golang.org/x/image/webp alone is 20 levels off: studio-range samples),
// libtiff through ImageMagick for a G4 TIFF marked BlackIsZero (where
// x/image/tiff alone gives the negative).
func TestDecodersAgreeWithTheTools(t *testing.T) {
	page, err := synth.PerformanceSummary(synth.Identity{Name: "赵新民", Employer: "新疆天润建设工程有限公司"}, 1, 1, synth.Options{PPI: 100})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	png, _ := synth.EncodePNG(page.Image)
	os.WriteFile(filepath.Join(dir, "page.png"), png, 0o644)
	for _, c := range []struct {
		name  string
		make  [][]string
		file  string
		tool  []string
		limit float64
	}{
		{"lossy WebP vs dwebp", [][]string{{"cwebp", "-quiet", "-q", "80", "page.png", "-o", "f.webp"}},
			"f.webp", []string{"dwebp", "-quiet", "f.webp", "-ppm", "-o", "ref.pnm"}, 1.5},
		{"G4 BlackIsZero TIFF vs libtiff", [][]string{
			{"convert", "page.png", "-threshold", "60%", "-type", "bilevel", "-depth", "1", "-compress", "none", "bw.tif"},
			{"tiffcp", "-c", "g4", "bw.tif", "f.tif"}},
			"f.tif", []string{"convert", "f.tif", "-depth", "8", "pgm:ref.pnm"}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, argv := range c.make {
				testenv.Tool(t, argv[0])
				cmd := exec.Command(argv[0], argv[1:]...)
				cmd.Dir = dir
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("%v: %v\n%s", argv, err, out)
				}
			}
			data, err := os.ReadFile(filepath.Join(dir, c.file))
			if err != nil {
				t.Fatal(err)
			}
			f, err := Open(data, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			p, _ := f.Page(1)
			got, err := p.Decode()
			if err != nil {
				t.Fatal(err)
			}
			want := decodeWithTool(t, dir, c.tool...)
			if d := meanDiff(got, want); d > c.limit {
				t.Errorf("mean difference %.2f levels from %s, at most %.1f", d, c.tool[0], c.limit)
			}
		})
	}
}

// fmtSscan reads a PNM header's four fields and returns where the samples
// start (after the one white-space byte that ends the header).
func fmtSscan(data []byte, magic *string, w, h, maxv, n *int) (int, error) {
	fields := make([]string, 0, 4)
	i := 0
	for len(fields) < 4 && i < len(data) {
		for i < len(data) && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t') {
			i++
		}
		j := i
		for j < len(data) && !(data[j] == ' ' || data[j] == '\n' || data[j] == '\r' || data[j] == '\t') {
			j++
		}
		fields = append(fields, string(data[i:j]))
		i = j
	}
	if len(fields) < 4 {
		return 0, errTIFF
	}
	*magic = fields[0]
	for k, p := range []*int{w, h, maxv} {
		v := 0
		for _, c := range fields[k+1] {
			v = 10*v + int(c-'0')
		}
		*p = v
	}
	*n = i + 1
	return 4, nil
}
