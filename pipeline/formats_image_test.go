package pipeline_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/disintegration/imaging"

	"github.com/blindpack/blindpack/internal/pdfcheck"
	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/internal/testenv"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/finding"
)

// sh runs a tool in dir the way a person would on the command line.
func sh(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	testenv.Tool(t, name)
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// imagePages draws the pages the format tests turn into files: a work
// summary page with the applicant's name and employer at known boxes, in
// grey, in colour on tinted paper, and stored a quarter-turn anticlockwise
// (to be turned back by the file's orientation), as PNG files in dir.
func imagePages(t *testing.T, dir string, id pipeline.Identity) []pipeline.Mask {
	t.Helper()
	grey, masks := scanPage(t, id)
	rgb := image.NewRGBA(grey.Bounds())
	for i, v := range grey.Pix {
		rgb.Pix[4*i], rgb.Pix[4*i+1], rgb.Pix[4*i+2], rgb.Pix[4*i+3] = v, v/2+120, v/3+160, 255
	}
	for name, img := range map[string]image.Image{"grey.png": grey, "colour.png": rgb, "turned.png": imaging.Rotate90(rgb)} {
		data, err := synth.EncodePNG(img)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return masks
}

// TestImageFormatsFromTools feeds the pipeline TIFF, HEIC, WebP and BMP
// files made by the tools people and scanners use — libtiff's tiffcp,
// ImageMagick, libheif's heif-enc, libwebp's cwebp — with the applicant's
// name and employer written into their metadata (TIFF ImageDescription and
// Artist, EXIF and XMP). Each is accepted; the packet passes qpdf --check,
// its masks are black in pdftoppm renders of the page as displayed and in
// the stored image; the name is nowhere in the packet's bytes, and exiftool
// finds no metadata in any image pdfimages extracts.
func TestImageFormatsFromTools(t *testing.T) {
	p := newPipeline(t)
	_, base := sample(t, "eng-intermediate")
	id := base.Identity
	src := t.TempDir()
	masks := imagePages(t, src, id)
	// What is written into the files' metadata, and what a photo's EXIF
	// and XMP carry.
	sh(t, src, "convert", "colour.png", "-quality", "92", "colour.jpg")
	sh(t, src, "convert", "turned.png", "-quality", "92", "turned.jpg")
	for _, f := range []string{"colour.jpg", "turned.jpg"} {
		sh(t, src, "exiftool", "-q", "-overwrite_original", "-Artist="+id.Name, "-ImageDescription="+id.Employer,
			"-XMP-dc:Creator="+id.Name, "-XMP-dc:Description="+id.Employer, f)
	}
	sh(t, src, "exiftool", "-q", "-overwrite_original", "-Orientation#=6", "turned.jpg")
	tagTIFF := func(dir, f string) {
		sh(t, dir, "exiftool", "-q", "-overwrite_original", "-ImageDescription="+id.Name, "-Artist="+id.Employer, f)
	}

	type tc struct {
		name string
		// make writes out.bin in dir from the pages in src.
		make  func(t *testing.T, dir string)
		pages int
		// enc is how pdfimages lists the page's image: jpeg or image (Flate).
		enc string
	}
	cases := []tc{
		{"TIFF G4 bilevel (tiffcp)", func(t *testing.T, dir string) {
			sh(t, dir, "convert", filepath.Join(src, "grey.png"), "-threshold", "60%", "-type", "bilevel", "-depth", "1", "-compress", "none", "bw.tif")
			sh(t, dir, "tiffcp", "-c", "g4", "bw.tif", "out.bin")
			tagTIFF(dir, "out.bin")
		}, 1, "image"},
		{"TIFF G3 1-D bilevel (tiffcp)", func(t *testing.T, dir string) {
			sh(t, dir, "convert", filepath.Join(src, "grey.png"), "-threshold", "60%", "-type", "bilevel", "-depth", "1", "-compress", "none", "bw.tif")
			sh(t, dir, "tiffcp", "-c", "g3:1d", "bw.tif", "out.bin")
			tagTIFF(dir, "out.bin")
		}, 1, "image"},
		{"TIFF LZW grey (tiffcp)", func(t *testing.T, dir string) {
			sh(t, dir, "convert", filepath.Join(src, "grey.png"), "-depth", "8", "-compress", "none", "g.tif")
			sh(t, dir, "tiffcp", "-c", "lzw:2", "g.tif", "out.bin")
			tagTIFF(dir, "out.bin")
		}, 1, "image"},
		{"TIFF PackBits grey (ImageMagick)", func(t *testing.T, dir string) {
			sh(t, dir, "convert", filepath.Join(src, "grey.png"), "-depth", "8", "-compress", "RLE", "out.tif")
			os.Rename(filepath.Join(dir, "out.tif"), filepath.Join(dir, "out.bin"))
			tagTIFF(dir, "out.bin")
		}, 1, "image"},
		{"TIFF Deflate RGB tiled (tiffcp)", func(t *testing.T, dir string) {
			sh(t, dir, "convert", filepath.Join(src, "colour.png"), "-type", "TrueColor", "-compress", "none", "c.tif")
			sh(t, dir, "tiffcp", "-c", "zip", "-t", "-w", "256", "-l", "256", "c.tif", "out.bin")
			tagTIFF(dir, "out.bin")
		}, 1, "jpeg"},
		{"TIFF JPEG YCbCr (tiffcp)", func(t *testing.T, dir string) {
			sh(t, dir, "convert", filepath.Join(src, "colour.png"), "-type", "TrueColor", "-compress", "none", "c.tif")
			sh(t, dir, "tiffcp", "-c", "jpeg:90", "-r", "64", "c.tif", "out.bin")
			tagTIFF(dir, "out.bin")
		}, 1, "jpeg"},
		{"TIFF JPEG RGB (ImageMagick)", func(t *testing.T, dir string) {
			sh(t, dir, "convert", filepath.Join(src, "colour.png"), "-type", "TrueColor", "-compress", "JPEG", "-quality", "90", "out.tif")
			os.Rename(filepath.Join(dir, "out.tif"), filepath.Join(dir, "out.bin"))
			tagTIFF(dir, "out.bin")
		}, 1, "jpeg"},
		{"TIFF CMYK LZW (ImageMagick)", func(t *testing.T, dir string) {
			sh(t, dir, "convert", filepath.Join(src, "colour.png"), "-colorspace", "CMYK", "-compress", "LZW", "out.tif")
			os.Rename(filepath.Join(dir, "out.tif"), filepath.Join(dir, "out.bin"))
			tagTIFF(dir, "out.bin")
		}, 1, "jpeg"},
		{"TIFF turned by orientation 6 (tiffset)", func(t *testing.T, dir string) {
			sh(t, dir, "convert", filepath.Join(src, "turned.png"), "-type", "TrueColor", "-compress", "LZW", "out.tif")
			os.Rename(filepath.Join(dir, "out.tif"), filepath.Join(dir, "out.bin"))
			sh(t, dir, "tiffset", "-s", "274", "6", "out.bin")
			tagTIFF(dir, "out.bin")
		}, 1, "jpeg"},
		{"TIFF three pages, G4 + JPEG + LZW (tiffcp)", func(t *testing.T, dir string) {
			sh(t, dir, "convert", filepath.Join(src, "grey.png"), "-threshold", "60%", "-type", "bilevel", "-depth", "1", "-compress", "none", "bw.tif")
			sh(t, dir, "tiffcp", "-c", "g4", "bw.tif", "p1.tif")
			sh(t, dir, "convert", filepath.Join(src, "colour.png"), "-type", "TrueColor", "-compress", "none", "c.tif")
			sh(t, dir, "tiffcp", "-c", "jpeg", "c.tif", "p2.tif")
			sh(t, dir, "convert", filepath.Join(src, "grey.png"), "-depth", "8", "-compress", "none", "g.tif")
			sh(t, dir, "tiffcp", "-c", "lzw", "g.tif", "p3.tif")
			sh(t, dir, "tiffcp", "p1.tif", "p2.tif", "p3.tif", "out.bin")
			tagTIFF(dir, "out.bin")
		}, 3, ""},
		{"HEIC from an iPhone-like JPEG with EXIF (heif-enc)", func(t *testing.T, dir string) {
			sh(t, dir, "heif-enc", "-q", "60", filepath.Join(src, "colour.jpg"), "-o", "out.heic")
			os.Rename(filepath.Join(dir, "out.heic"), filepath.Join(dir, "out.bin"))
		}, 1, "jpeg"},
		{"HEIC as an iPhone writes it: stored turned, irot and EXIF orientation 6 (heif-enc)", func(t *testing.T, dir string) {
			sh(t, dir, "heif-enc", "-q", "60", filepath.Join(src, "turned.jpg"), "-o", "out.heic")
			withIrot(t, filepath.Join(dir, "out.heic"), 3, filepath.Join(dir, "out.bin"))
		}, 1, "jpeg"},
		{"WebP lossy with EXIF and XMP (cwebp)", func(t *testing.T, dir string) {
			sh(t, dir, "cwebp", "-quiet", "-q", "80", "-metadata", "exif,xmp", filepath.Join(src, "colour.jpg"), "-o", "out.bin")
		}, 1, "jpeg"},
		{"WebP lossless (cwebp)", func(t *testing.T, dir string) {
			sh(t, dir, "cwebp", "-quiet", "-lossless", filepath.Join(src, "grey.png"), "-o", "g.webp")
			sh(t, dir, "webpmux", "-set", "xmp", filepath.Join(src, "colour.jpg"), "g.webp", "-o", "out.bin")
		}, 1, "image"},
		{"BMP 24-bit (ImageMagick)", func(t *testing.T, dir string) {
			sh(t, dir, "convert", filepath.Join(src, "colour.png"), "-type", "TrueColor", "out.bmp")
			os.Rename(filepath.Join(dir, "out.bmp"), filepath.Join(dir, "out.bin"))
		}, 1, "jpeg"},
	}
	for _, c := range cases {
		// Unmasked pages take the same path with no rectangle to burn: a
		// few formats are enough to show it.
		variants := []bool{true}
		if strings.Contains(c.name, "G4") || strings.HasPrefix(c.name, "HEIC as") || strings.Contains(c.name, "WebP lossy") {
			variants = append(variants, false)
		}
		for _, masked := range variants {
			name := c.name + map[bool]string{true: ", masked", false: ", unmasked"}[masked]
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				dir, sub := sample(t, "eng-intermediate")
				c.make(t, dir)
				in, err := os.ReadFile(filepath.Join(dir, "out.bin"))
				if err != nil {
					t.Fatal(err)
				}
				// The identity really is in what we feed, except a BMP,
				// which has nowhere to keep it, and a lossless WebP, whose
				// XMP came from a JPEG's packet.
				if !strings.HasPrefix(c.name, "BMP") && !carries(in, sub.Identity) {
					t.Fatal("the input file does not carry the identity in its metadata")
				}
				m := material(sub, "performance_summary")
				m.File, m.Masks = "out.bin", nil
				if masked {
					for pg := 1; pg <= c.pages; pg += 2 { // pages 1 and 3 of three
						for _, mk := range masks {
							mk.Page = pg
							m.Masks = append(m.Masks, mk)
						}
					}
				}
				rep, pdf := process(t, p, dir, sub)
				path := checkClean(t, rep, pdf, sub)
				var pages [][2]int
				for _, e := range rep.Packet.Index {
					if e.Type == "performance_summary" {
						pages = e.Pages
					}
				}
				if len(pages) != c.pages {
					t.Fatalf("%d pages in the packet, want %d", len(pages), c.pages)
				}
				var stored int
				for _, im := range pdfcheck.Images(t, path) {
					if slices.ContainsFunc(pages, func(pp [2]int) bool { return pp[1] == im.Page }) {
						if c.enc != "" && im.Encoding != c.enc {
							t.Errorf("page %d stored as %s, want %s", im.Page, im.Encoding, c.enc)
						}
						stored += im.Size
					}
				}
				t.Logf("%s: input %d bytes, its pages in the packet %d bytes (%.2f×)", c.name, len(in), stored, float64(stored)/float64(len(in)))
				// Every page reads as paper the right way up: portrait, light.
				for _, pp := range pages {
					img := pdfcheck.Render(t, path, pp[1], 30)
					if b := img.Bounds(); b.Dx() > b.Dy() {
						t.Errorf("packet page %d renders landscape %v", pp[1], b)
					}
					if mean, _ := pdfcheck.Dark(img, [4]float64{0, 0, 1, 1}, 0); mean < 150 {
						t.Errorf("packet page %d renders dark (mean %.0f): a negative?", pp[1], mean)
					}
				}
			})
		}
	}
}

// TestImageFormatRefusals: what the tools can make that blindpack does not
// read, or cannot read one way only, gets its finding.
func TestImageFormatRefusals(t *testing.T) {
	p := newPipeline(t)
	_, base := sample(t, "eng-intermediate")
	src := t.TempDir()
	imagePages(t, src, base.Identity)
	sh(t, src, "convert", "turned.png", "-quality", "92", "turned.jpg")
	sh(t, src, "exiftool", "-q", "-overwrite_original", "-Orientation#=6", "turned.jpg")
	for _, c := range []struct {
		name string
		make func(t *testing.T, dir string)
		want finding.Code
	}{
		{"HEIC whose EXIF orientation disagrees with its irot", func(t *testing.T, dir string) {
			sh(t, dir, "heif-enc", "-q", "60", filepath.Join(src, "turned.jpg"), "-o", "out.heic")
			sh(t, dir, "exiftool", "-q", "-overwrite_original", "-Orientation#=3", "out.heic")
			withIrot(t, filepath.Join(dir, "out.heic"), 3, filepath.Join(dir, "out.bin"))
		}, finding.AmbiguousOrientation},
		{"HEIC with EXIF orientation 6 and no irot (heif-enc 1.15 keeps a JPEG's EXIF as it is)", func(t *testing.T, dir string) {
			sh(t, dir, "heif-enc", "-q", "60", filepath.Join(src, "turned.jpg"), "-o", "out.heic")
			os.Rename(filepath.Join(dir, "out.heic"), filepath.Join(dir, "out.bin"))
		}, finding.AmbiguousOrientation},
		{"WebP asking for a turn in EXIF", func(t *testing.T, dir string) {
			sh(t, dir, "cwebp", "-quiet", "-metadata", "exif", filepath.Join(src, "turned.jpg"), "-o", "out.bin")
		}, finding.AmbiguousOrientation},
		{"JPEG with two EXIF blocks that disagree (exiftool, then its block copied with orientation 1)", func(t *testing.T, dir string) {
			data, err := os.ReadFile(filepath.Join(src, "turned.jpg"))
			if err != nil {
				t.Fatal(err)
			}
			i := bytes.Index(data, []byte("Exif\x00\x00"))
			if i < 4 || data[i-3] != 0xE1 {
				t.Fatal("exiftool wrote no EXIF segment")
			}
			seg := bytes.Clone(data[i-4 : i-2+int(binary.BigEndian.Uint16(data[i-2:]))])
			j := bytes.Index(seg, []byte{0x01, 0x12, 0x00, 0x03}) // MM: tag 0x0112, SHORT
			if j < 0 {
				t.Fatal("no big-endian orientation tag")
			}
			seg[j+8], seg[j+9] = 0, 1
			os.WriteFile(filepath.Join(dir, "out.bin"), slices.Concat(data[:2], seg, data[2:]), 0o644)
		}, finding.AmbiguousOrientation},
		{"JPEG whose XMP tiff:Orientation disagrees with its EXIF (exiftool)", func(t *testing.T, dir string) {
			sh(t, dir, "convert", filepath.Join(src, "grey.png"), "-quality", "92", "out.jpg")
			sh(t, dir, "exiftool", "-q", "-overwrite_original", "-EXIF:Orientation#=1", "-XMP-tiff:Orientation#=6", "out.jpg")
			os.Rename(filepath.Join(dir, "out.jpg"), filepath.Join(dir, "out.bin"))
		}, finding.AmbiguousOrientation},
		{"progressive JPEG of 98 scans (jpegtran -scans)", func(t *testing.T, dir string) {
			manyScans(t, dir, filepath.Join(src, "grey.png"))
			os.Rename(filepath.Join(dir, "many.jpg"), filepath.Join(dir, "out.bin"))
		}, finding.ImageTooComplex},
		{"the same JPEG as a scanned PDF's page (img2pdf)", func(t *testing.T, dir string) {
			manyScans(t, dir, filepath.Join(src, "grey.png"))
			sh(t, dir, "img2pdf", "many.jpg", "-o", "out.bin")
		}, finding.ImageTooComplex},
		{"TIFF G3 2-D (tiffcp)", func(t *testing.T, dir string) {
			sh(t, dir, "convert", filepath.Join(src, "grey.png"), "-threshold", "60%", "-type", "bilevel", "-depth", "1", "-compress", "none", "bw.tif")
			sh(t, dir, "tiffcp", "-c", "g3:2d", "bw.tif", "out.bin")
		}, finding.UnsupportedImageEncoding},
		{"BMP RLE8 (ImageMagick)", func(t *testing.T, dir string) {
			sh(t, dir, "convert", filepath.Join(src, "grey.png"), "-type", "Palette", "-compress", "RLE", "out.bmp")
			os.Rename(filepath.Join(dir, "out.bmp"), filepath.Join(dir, "out.bin"))
		}, finding.UnsupportedImageEncoding},
		{"TIFF cut short", func(t *testing.T, dir string) {
			sh(t, dir, "convert", filepath.Join(src, "grey.png"), "-depth", "8", "-compress", "LZW", "g.tif")
			data, err := os.ReadFile(filepath.Join(dir, "g.tif"))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, "out.bin"), data[:len(data)/2], 0o644)
		}, finding.CorruptFile},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir, sub := sample(t, "eng-intermediate")
			c.make(t, dir)
			m := material(sub, "performance_summary")
			m.File, m.Masks = "out.bin", nil
			rep, _ := process(t, p, dir, sub)
			var codes []finding.Code
			for _, f := range rep.Findings {
				codes = append(codes, f.Code)
				if f.Code == c.want && (f.MessageZH == "" || f.MessageEN == "" || strings.Contains(f.MessageEN, "{")) {
					t.Errorf("finding without its sentences: %+v", f)
				}
			}
			if rep.Status != pipeline.Rejected || !slices.Contains(codes, c.want) {
				t.Fatalf("status %s, codes %v; want rejected with %s", rep.Status, codes, c.want)
			}
		})
	}
}

// withIrot gives a heif-enc file the rotation an iPhone writes: libheif
// 1.15's heif-enc (Debian 12) writes no irot, and no tool on Debian adds
// one. Its last image property, pixi (informative: bits per channel),
// becomes an irot of the same size turning the image by angle quarter
// turns anticlockwise; the primary image's association with it stays
// marked essential, as irot must be. Nothing moves, so every offset holds.
func withIrot(t *testing.T, in string, angle byte, out string) {
	t.Helper()
	data, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(data, []byte("pixi"))
	j := bytes.Index(data, []byte("ipco"))
	if i < 4 || j < 4 {
		t.Fatal("heif-enc wrote no pixi property: its layout changed")
	}
	size := int(binary.BigEndian.Uint32(data[i-4:]))
	ipcoEnd := j - 4 + int(binary.BigEndian.Uint32(data[j-4:]))
	if i-4+size != ipcoEnd {
		t.Fatal("pixi is not the last property")
	}
	copy(data[i:], "irot")
	clear(data[i+4 : i-4+size])
	data[i+4] = angle
	if err := os.WriteFile(out, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// manyScans writes many.jpg in dir: the PNG at src as a progressive JPEG
// of 98 scans, DC in two passes, then the first 48 AC coefficients one by
// one, first their high bits and then their last (jpegtran allows 100
// scans): valid, and 98 passes over the page.
func manyScans(t *testing.T, dir, src string) {
	t.Helper()
	sh(t, dir, "convert", src, "-quality", "92", "in.jpg")
	script := "0: 0 0 0 1;\n0: 0 0 1 0;\n"
	for k := 1; k <= 48; k++ {
		script += fmt.Sprintf("0: %d %d 0 1;\n", k, k)
	}
	for k := 1; k <= 48; k++ {
		script += fmt.Sprintf("0: %d %d 1 0;\n", k, k)
	}
	if err := os.WriteFile(filepath.Join(dir, "scans.txt"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	sh(t, dir, "jpegtran", "-scans", "scans.txt", "-outfile", "many.jpg", "in.jpg")
}
