package synth

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"strings"
	"testing"
)

var (
	engineer   = Identity{Name: "张三丰", Employer: "新疆天山重工机械有限公司"}
	accountant = Identity{Name: "李静怡", Employer: "乌鲁木齐经开区恒信会计师事务所有限公司"}
)

// kind is one page kind with how many times it draws the name and the
// employer.
type kind struct {
	name             string
	page             pageFunc
	names, employers int
	wantW, wantH     float64 // mm
}

var kinds = []kind{
	{"form-p1", formPage(1), 1, 1, a4W, a4H},
	{"form-p2", formPage(2), 1, 2, a4W, a4H},
	{"summary-1of1", summaryPage(1, 1), 1, 1, a4W, a4H},
	{"summary-1of2", summaryPage(1, 2), 0, 1, a4W, a4H},
	{"summary-2of2", summaryPage(2, 2), 1, 0, a4W, a4H},
	{"degree", DegreeCertificate, 1, 0, a4H, a4W},
	{"title", TitleCertificate, 1, 1, a4W, a4H},
	{"qualification", QualificationCertificate, 1, 1, a4W, a4H},
	{"patent", PatentCertificate, 1, 1, a4W, a4H},
	{"achievement-proof", AchievementProof, 1, 2, a4W, a4H},
	{"publicity", PublicityNotice, 1, 2, a4W, a4H},
	{"publicity-result", PublicityResult, 1, 1, a4W, a4H},
	{"recommendation", RecommendationOpinion, 1, 1, a4W, a4H},
	{"continuing-education", ContinuingEducation, 1, 1, a4W, a4H},
	{"ce-exemption", CEExemption, 1, 1, a4W, a4H},
	{"id-card", IDCard, 1, 0, 85.6, 54},
}

func TestPageSize(t *testing.T) {
	for _, tc := range []struct {
		ppi, w, h int
	}{{0, 1240, 1754}, {150, 1240, 1754}, {200, 1654, 2339}, {300, 2480, 3508}} {
		t.Run(fmt.Sprint(tc.ppi), func(t *testing.T) {
			p, err := ApplicationForm(engineer, 1, Options{PPI: tc.ppi})
			if err != nil {
				t.Fatal(err)
			}
			if b := p.Image.Bounds(); b.Dx() != tc.w || b.Dy() != tc.h {
				t.Errorf("size %v, want %dx%d", b.Size(), tc.w, tc.h)
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			a, err := k.page(accountant, Options{Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			b, err := k.page(accountant, Options{Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Image.Pix, b.Image.Pix) {
				t.Error("pixels differ between two runs")
			}
			if fmt.Sprint(a.Name, a.Employer) != fmt.Sprint(b.Name, b.Employer) {
				t.Error("rects differ between two runs")
			}
			ja, _ := EncodeJPEG(a.Image, 85)
			jb, _ := EncodeJPEG(b.Image, 85)
			pa, _ := EncodePNG(a.Image)
			pb, _ := EncodePNG(b.Image)
			if !bytes.Equal(ja, jb) || !bytes.Equal(pa, pb) {
				t.Error("encodings differ between two runs")
			}
			// Another seed changes the text or the noise.
			c, err := k.page(accountant, Options{Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(a.Image.Pix, c.Image.Pix) {
				t.Error("seeds 1 and 3 give the same pixels")
			}
		})
	}
}

// TestRectsCoverIdentity draws every page twice, with and without the
// identity, and checks that the two differ only inside the Rects and that
// every Rect holds ink that the identity put there.
func TestRectsCoverIdentity(t *testing.T) {
	type run struct {
		k   kind
		ppi int
		id  Identity
	}
	var runs []run
	for _, k := range kinds {
		runs = append(runs, run{k, 150, engineer}, run{k, 300, accountant})
	}
	runs = append(runs, run{kinds[0], 200, accountant})
	for _, r := range runs {
		t.Run(fmt.Sprintf("%s/%d", r.k.name, r.ppi), func(t *testing.T) {
			t.Parallel()
			o := Options{PPI: r.ppi, Seed: 1}
			p, err := r.k.page(r.id, o)
			if err != nil {
				t.Fatal(err)
			}
			o.omitIdentity = true
			blank, err := r.k.page(r.id, o)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Name) != r.k.names || len(p.Employer) != r.k.employers {
				t.Fatalf("%d name and %d employer rects, want %d and %d", len(p.Name), len(p.Employer), r.k.names, r.k.employers)
			}
			b := p.Image.Bounds()
			ppmm := float64(r.ppi) / 25.4
			if w, h := int(r.k.wantW*ppmm+0.5), int(r.k.wantH*ppmm+0.5); b.Dx() != w || b.Dy() != h {
				t.Errorf("size %v, want %dx%d", b.Size(), w, h)
			}
			var boxes []image.Rectangle
			for _, rect := range append(append([]Rect{}, p.Name...), p.Employer...) {
				if !(0 <= rect[0] && rect[0] < rect[2] && rect[2] <= 1 && 0 <= rect[1] && rect[1] < rect[3] && rect[3] <= 1) {
					t.Errorf("rect %v is not an ordered box inside the page", rect)
				}
				boxes = append(boxes, pixelBox(rect, b))
			}
			inked := make([]int, len(boxes))
			outside := 0
			for y := b.Min.Y; y < b.Max.Y; y++ {
				for x := b.Min.X; x < b.Max.X; x++ {
					if p.Image.GrayAt(x, y) == blank.Image.GrayAt(x, y) {
						continue
					}
					in := false
					for i, bx := range boxes {
						if (image.Point{x, y}).In(bx) {
							in = true
							if p.Image.GrayAt(x, y).Y < 128 {
								inked[i]++
							}
						}
					}
					if !in {
						outside++
					}
				}
			}
			if outside > 0 {
				t.Errorf("%d pixels of the identity lie outside every rect", outside)
			}
			for i, n := range inked {
				// A CJK character at 150 ppi has well over 20 dark pixels.
				if n < 20 {
					t.Errorf("rect %d (%v) holds only %d dark pixels of identity ink", i, boxes[i], n)
				}
			}
		})
	}
}

// pixelBox is the pixel rectangle a mask rect covers, rounded outwards.
func pixelBox(r Rect, b image.Rectangle) image.Rectangle {
	w, h := float64(b.Dx()), float64(b.Dy())
	return image.Rect(int(r[0]*w), int(r[1]*h), int(r[2]*w+0.999), int(r[3]*h+0.999))
}

func TestEmptyIdentityHasNoRects(t *testing.T) {
	p, err := ApplicationForm(Identity{}, 1, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Name)+len(p.Employer) != 0 {
		t.Errorf("rects %v %v for an empty identity", p.Name, p.Employer)
	}
}

func TestPageArguments(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func() (Page, error)
	}{
		{"form page 0", func() (Page, error) { return ApplicationForm(engineer, 0, Options{}) }},
		{"form page 3", func() (Page, error) { return ApplicationForm(engineer, 3, Options{}) }},
		{"summary page 3 of 2", func() (Page, error) { return PerformanceSummary(engineer, 3, 2, Options{}) }},
		{"summary 0 pages", func() (Page, error) { return PerformanceSummary(engineer, 1, 0, Options{}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.f(); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestMissingGlyph(t *testing.T) {
	// U+10FFFD is a private-use character no font draws.
	if _, err := ApplicationForm(Identity{Name: "张\U0010FFFD", Employer: "x"}, 1, Options{}); err == nil || !strings.Contains(err.Error(), "no glyph") {
		t.Errorf("err = %v, want a missing-glyph error", err)
	}
}

func TestFontMissing(t *testing.T) {
	_, err := parseFont("/nonexistent/wqy-zenhei.ttc")
	if !errors.Is(err, ErrFontMissing) || !strings.Contains(err.Error(), "apt-get install fonts-wqy-zenhei") {
		t.Errorf("err = %v, want ErrFontMissing naming the package", err)
	}
}

func TestFontIsZenHei(t *testing.T) {
	f, err := loadFont()
	if err != nil {
		t.Fatal(err)
	}
	name, err := f.Name(nil, 4) // full name
	if err != nil || name != "WenQuanYi Zen Hei" {
		t.Errorf("font %q, %v", name, err)
	}
}

func BenchmarkApplicationForm(b *testing.B) {
	for _, ppi := range []int{150, 300} {
		b.Run(fmt.Sprint(ppi), func(b *testing.B) {
			for b.Loop() {
				if _, err := ApplicationForm(engineer, 1, Options{PPI: ppi}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
