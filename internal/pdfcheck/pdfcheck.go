// Package pdfcheck looks at finished PDF bytes with independent tools —
// poppler's pdftotext, pdfimages and pdftoppm, and qpdf — so that tests judge
// what blindpack wrote by what other software sees in it, not by the code
// that wrote it.
package pdfcheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/blindpack/blindpack/internal/testenv"
)

// File writes data to a temporary file for the tools and returns its path.
func File(t testing.TB, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "check.pdf")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func run(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	testenv.Tool(t, name)
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// Text is what pdftotext extracts from the pages first..last (0 means all),
// with all white space removed so that CJK text broken across lines still
// matches.
func Text(t testing.TB, path string, first, last int) string {
	t.Helper()
	args := []string{"-enc", "UTF-8"}
	if first > 0 {
		args = append(args, "-f", strconv.Itoa(first), "-l", strconv.Itoa(last))
	}
	out := run(t, "pdftotext", append(args, path, "-")...)
	return strings.Join(strings.Fields(string(out)), "")
}

// QPDFCheck fails the test unless `qpdf --check` finds the file sound.
func QPDFCheck(t testing.TB, path string) {
	t.Helper()
	out := run(t, "qpdf", "--check", path)
	if !bytes.Contains(out, []byte("No syntax or stream encoding errors")) {
		t.Fatalf("qpdf --check:\n%s", out)
	}
}

// Image is one row of `pdfimages -list`.
type Image struct {
	Page          int
	Width, Height int
	Color         string // gray, rgb, cmyk, index
	Encoding      string // jpeg, image (Flate), …
	// Size is the stored stream's size in bytes, as pdfimages rounds it.
	Size int
}

// Images lists the images pdfimages finds, page by page.
func Images(t testing.TB, path string) []Image {
	t.Helper()
	out := run(t, "pdfimages", "-list", path)
	var imgs []Image
	for _, line := range strings.Split(string(out), "\n")[2:] {
		f := strings.Fields(line)
		if len(f) < 9 {
			continue
		}
		page, _ := strconv.Atoi(f[0])
		w, _ := strconv.Atoi(f[3])
		h, _ := strconv.Atoi(f[4])
		im := Image{Page: page, Width: w, Height: h, Color: f[5], Encoding: f[8]}
		if len(f) >= 15 {
			im.Size = sizeOf(f[14])
		}
		imgs = append(imgs, im)
	}
	return imgs
}

// sizeOf reads pdfimages' size column: 812B, 10.5K, 1.2M.
func sizeOf(s string) int {
	mult := 1.0
	switch {
	case strings.HasSuffix(s, "K"):
		mult = 1 << 10
	case strings.HasSuffix(s, "M"):
		mult = 1 << 20
	}
	v, _ := strconv.ParseFloat(strings.TrimRight(s, "BKM"), 64)
	return int(v * mult)
}

// ExtractImages writes every embedded image of page as PNG with pdfimages
// and decodes them: the pixels as stored in the file, before anything is
// drawn over them.
func ExtractImages(t testing.TB, path string, page int) []image.Image {
	t.Helper()
	dir := t.TempDir()
	p := strconv.Itoa(page)
	run(t, "pdfimages", "-png", "-f", p, "-l", p, path, filepath.Join(dir, "img"))
	files, _ := filepath.Glob(filepath.Join(dir, "img-*.png"))
	var imgs []image.Image
	for _, f := range files {
		imgs = append(imgs, decodePNG(t, f))
	}
	return imgs
}

// Render rasterises one page with pdftoppm at dpi, as a reader sees it.
func Render(t testing.TB, path string, page int, dpi int) image.Image {
	t.Helper()
	dir := t.TempDir()
	p := strconv.Itoa(page)
	run(t, "pdftoppm", "-r", strconv.Itoa(dpi), "-f", p, "-l", p, "-png", "-singlefile", path, filepath.Join(dir, "page"))
	return decodePNG(t, filepath.Join(dir, "page.png"))
}

func decodePNG(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return img
}

// Outline is a bookmark as qpdf reads it.
type Outline struct {
	Title string `json:"title"`
	Page  int    `json:"destpageposfrom1"`
}

// Outlines lists the top-level bookmarks.
func Outlines(t testing.TB, path string) []Outline {
	t.Helper()
	var doc struct {
		Outlines []Outline `json:"outlines"`
	}
	if err := json.Unmarshal(run(t, "qpdf", "--json", path), &doc); err != nil {
		t.Fatalf("qpdf --json: %v", err)
	}
	return doc.Outlines
}

// Dark measures the region r (fractions [x0 y0 x1 y1] of the image, top
// left origin), shrunk by inset on each side to stay clear of edges: the
// mean luminance and the fraction of pixels lighter than 96.
func Dark(img image.Image, r [4]float64, inset float64) (mean float64, light float64) {
	b := img.Bounds()
	w, h := float64(b.Dx()), float64(b.Dy())
	dx, dy := (r[2]-r[0])*inset, (r[3]-r[1])*inset
	x0, y0 := int((r[0]+dx)*w), int((r[1]+dy)*h)
	x1, y1 := int((r[2]-dx)*w), int((r[3]-dy)*h)
	var sum float64
	var n, lit int
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			rr, g, bb, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			l := (0.299*float64(rr) + 0.587*float64(g) + 0.114*float64(bb)) / 257
			sum += l
			if l > 96 {
				lit++
			}
			n++
		}
	}
	if n == 0 {
		return 0, 0
	}
	return sum / float64(n), float64(lit) / float64(n)
}

// Describe is a one-line summary for failure messages.
func (i Image) String() string {
	return fmt.Sprintf("page %d %dx%d %s %s", i.Page, i.Width, i.Height, i.Color, i.Encoding)
}

// ImageTags lists, for every image embedded in the file, the metadata tags
// exiftool finds in it once extracted as it is stored (`pdfimages -all`):
// EXIF, XMP, IPTC, comments, thumbnails — anything but the tags that
// describe the image's own encoding.
func ImageTags(t testing.TB, path string) map[string][]string {
	t.Helper()
	testenv.Tool(t, "exiftool")
	out := map[string][]string{}
	for _, f := range extractAll(t, path) {
		var tags []map[string]any
		if err := json.Unmarshal(run(t, "exiftool", "-j", "-G1", "-a", "-u", f), &tags); err != nil {
			t.Fatalf("exiftool: %v", err)
		}
		for _, m := range tags {
			for k := range m {
				group, _, _ := strings.Cut(k, ":")
				switch group {
				case "SourceFile", "ExifTool", "System", "File", "Composite", "JFIF", "Adobe", "PNG":
					continue
				case "PNG-pHYs": // written by pdfimages itself when it makes the PNG
					continue
				}
				out[filepath.Base(f)] = append(out[filepath.Base(f)], k)
			}
		}
	}
	return out
}

// extractAll writes every image of the file as it is stored (`pdfimages
// -all`: a JPEG as its bytes, other images as PNG) and returns the paths.
func extractAll(t testing.TB, path string) []string {
	t.Helper()
	dir := t.TempDir()
	run(t, "pdfimages", "-all", path, filepath.Join(dir, "img"))
	files, _ := filepath.Glob(filepath.Join(dir, "img-*"))
	return files
}

// StoredImage is one image of a PDF as `pdfimages -all` extracts it.
type StoredImage struct {
	Name string
	Data []byte
	// JPEG is true for a DCTDecode image, whose Data is the stream's bytes.
	JPEG bool
}

// StoredImages extracts every image of the file with `pdfimages -all`.
func StoredImages(t testing.TB, path string) []StoredImage {
	t.Helper()
	var out []StoredImage
	for _, f := range extractAll(t, path) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, StoredImage{Name: filepath.Base(f), Data: data, JPEG: strings.HasSuffix(f, ".jpg")})
	}
	return out
}
