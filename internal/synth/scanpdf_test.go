package synth

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/blindpack/blindpack/internal/testenv"
)

// run runs an external checker and returns its standard output.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	testenv.Tool(t, name)
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(t.Context(), name, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s%s", name, args, err, out.String(), errb.String())
	}
	return out.String()
}

func testJPEGs(t *testing.T) (gray, rgb []byte) {
	t.Helper()
	p, err := ApplicationForm(engineer, 1, Options{PPI: 50})
	if err != nil {
		t.Fatal(err)
	}
	gray, err = EncodeJPEG(p.Image, 85)
	if err != nil {
		t.Fatal(err)
	}
	c := image.NewRGBA(image.Rect(0, 0, 300, 200))
	for i := range c.Pix {
		c.Pix[i] = uint8(i)
	}
	c.Set(0, 0, color.RGBA{255, 0, 0, 255})
	rgb, err = EncodeJPEG(c, 85)
	if err != nil {
		t.Fatal(err)
	}
	return gray, rgb
}

func TestScanPDF(t *testing.T) {
	gray, rgb := testJPEGs(t)
	for _, tc := range []struct {
		name      string
		pages     [][]byte
		opts      ScanPDFOptions
		sizes     []string // start of pdfinfo's "Page N size" values
		rotations []string
		images    []string // width height color of each pdfimages row
	}{
		{
			name:  "dpi",
			pages: [][]byte{gray, rgb},
			opts:  ScanPDFOptions{DPI: 50, Rotate: []int{0, 90}},
			sizes: []string{"594.72 x 842.4 pts", "432 x 288 pts"}, rotations: []string{"0", "90"},
			images: []string{"413 585 gray", "300 200 rgb"},
		},
		{
			name:  "a4",
			pages: [][]byte{gray, rgb, gray},
			opts:  ScanPDFOptions{A4: true, Rotate: []int{180}},
			sizes: []string{"595.28 x 841.89 pts (A4)", "841.89 x 595.28 pts (A4)", "595.28 x 841.89 pts (A4)"}, rotations: []string{"180", "0", "0"},
			images: []string{"413 585 gray", "300 200 rgb", "413 585 gray"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pdf, err := ScanPDF(tc.pages, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			again, err := ScanPDF(tc.pages, tc.opts)
			if err != nil || !bytes.Equal(pdf, again) {
				t.Fatalf("second run differs (err %v)", err)
			}
			f := filepath.Join(t.TempDir(), "scan.pdf")
			if err := os.WriteFile(f, pdf, 0o644); err != nil {
				t.Fatal(err)
			}
			run(t, "qpdf", "--check", f)

			info := run(t, "pdfinfo", "-f", "1", "-l", "99", f)
			if !strings.Contains(info, "Producer:        SynthScan 1.0\n") {
				t.Errorf("pdfinfo has no SynthScan producer:\n%s", info)
			}
			for i, want := range tc.sizes {
				re := regexp.MustCompile(`(?m)^Page +` + strconv.Itoa(i+1) + ` size: +(.*)$`)
				if m := re.FindStringSubmatch(info); m == nil || !strings.HasPrefix(m[1], want) {
					t.Errorf("page %d size %q, want %q", i+1, m, want)
				}
				re = regexp.MustCompile(`(?m)^Page +` + strconv.Itoa(i+1) + ` rot: +(\d+)$`)
				if m := re.FindStringSubmatch(info); m == nil || m[1] != tc.rotations[i] {
					t.Errorf("page %d rotation %q, want %s", i+1, m, tc.rotations[i])
				}
			}

			// pdfimages -list: two header lines, then one row per image:
			// page num type width height color comp bpc enc ...
			rows := strings.Split(strings.TrimSpace(run(t, "pdfimages", "-list", f)), "\n")[2:]
			if len(rows) != len(tc.pages) {
				t.Fatalf("pdfimages lists %d images, want %d", len(rows), len(tc.pages))
			}
			for i, row := range rows {
				fs := strings.Fields(row)
				if fs[0] != strconv.Itoa(i+1) || fs[2] != "image" || fs[8] != "jpeg" || strings.Join(fs[3:6], " ") != tc.images[i] {
					t.Errorf("image row %q, want page %d %s jpeg", row, i+1, tc.images[i])
				}
			}

			for i := range tc.pages {
				w, h := "595.28", "841.89"
				if !tc.opts.A4 {
					w, h = strings.Fields(tc.sizes[i])[0], strings.Fields(tc.sizes[i])[2]
				} else if i == 1 {
					w, h = h, w
				}
				if want := "q " + w + " 0 0 " + h + " 0 0 cm /Im0 Do Q"; !bytes.Contains(pdf, []byte("stream\n"+want+"\nendstream")) {
					t.Errorf("page %d content is not %q", i+1, want)
				}
			}
		})
	}
}

func TestScanPDFErrors(t *testing.T) {
	gray, _ := testJPEGs(t)
	png := []byte("\x89PNG\r\n\x1a\n")
	for _, tc := range []struct {
		name  string
		pages [][]byte
		opts  ScanPDFOptions
	}{
		{"no pages", nil, ScanPDFOptions{}},
		{"not a jpeg", [][]byte{png}, ScanPDFOptions{}},
		{"bad rotation", [][]byte{gray}, ScanPDFOptions{Rotate: []int{45}}},
		{"too many rotations", [][]byte{gray}, ScanPDFOptions{Rotate: []int{0, 90}}},
		{"negative dpi", [][]byte{gray}, ScanPDFOptions{DPI: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ScanPDF(tc.pages, tc.opts); err == nil {
				t.Error("no error")
			}
		})
	}
}

// TestScanPDFRotateShowsUpright renders a page stored turned, with /Rotate,
// through poppler and compares it with the upright original: the Rects of
// the upright page must be where a viewer shows the text.
func TestScanPDFRotateShowsUpright(t *testing.T) {
	for _, rot := range []int{90, 180, 270} {
		t.Run(strconv.Itoa(rot), func(t *testing.T) {
			p, err := ApplicationForm(accountant, 2, Options{PPI: 100, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			j, err := EncodeJPEG(unrotate(p.Image, rot), 90)
			if err != nil {
				t.Fatal(err)
			}
			pdf, err := ScanPDF([][]byte{j}, ScanPDFOptions{DPI: 100, Rotate: []int{rot}})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			f := filepath.Join(dir, "scan.pdf")
			if err := os.WriteFile(f, pdf, 0o644); err != nil {
				t.Fatal(err)
			}
			run(t, "pdftoppm", "-r", "100", "-gray", "-png", "-singlefile", f, filepath.Join(dir, "shown"))
			b, err := os.ReadFile(filepath.Join(dir, "shown.png"))
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if img.Bounds().Size() != p.Image.Bounds().Size() {
				t.Fatalf("shown %v, upright page is %v", img.Bounds().Size(), p.Image.Bounds().Size())
			}
			var diff, n float64
			for y := 0; y < p.Image.Bounds().Dy(); y++ {
				for x := 0; x < p.Image.Bounds().Dx(); x++ {
					g := color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y
					d := float64(g) - float64(p.Image.GrayAt(x, y).Y)
					diff += max(d, -d)
					n++
				}
			}
			if mean := diff / n; mean > 4 {
				t.Errorf("shown page differs from the upright one by %.1f levels on average", mean)
			}
		})
	}
}
