package ocr_test

import (
	"context"
	"errors"
	"image"
	"image/color"
	"strings"
	"testing"

	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/ocr"
)

// fakeEngine returns fixed words and keeps the image it was given.
type fakeEngine struct {
	words []ocr.Word
	err   error
	seen  []*image.Gray
}

func (f *fakeEngine) Recognize(ctx context.Context, img image.Image) ([]ocr.Word, error) {
	if g, ok := img.(*image.Gray); ok {
		f.seen = append(f.seen, g)
	}
	return f.words, f.err
}

// blank is a 1000×1000 white page.
func blank() *image.Gray {
	g := image.NewGray(image.Rect(0, 0, 1000, 1000))
	for i := range g.Pix {
		g.Pix[i] = 245
	}
	return g
}

func TestCheckMasks(t *testing.T) {
	id := ocr.Identity{Name: "张三丰", Employer: "新疆天山重工机械有限公司"}
	// The name read at x 100–160, y 100–120 of a 1000-pixel page: box
	// [0.1 0.1 0.16 0.12].
	name := []ocr.Word{{Text: "张三丰", Box: image.Rect(100, 100, 160, 120), Conf: 90}}
	cases := []struct {
		name  string
		masks []ocr.Rect
		hit   bool
	}{
		{"no mask", nil, true},
		{"mask elsewhere", []ocr.Rect{{0.5, 0.5, 0.6, 0.6}}, true},
		{"mask over it", []ocr.Rect{{0.09, 0.09, 0.17, 0.13}}, false},
		{"mask over most of it", []ocr.Rect{{0.11, 0.09, 0.17, 0.13}}, false},
		{"mask over a third of it", []ocr.Rect{{0.09, 0.09, 0.12, 0.13}}, true},
		{"two masks covering it together", []ocr.Rect{{0.09, 0.09, 0.13, 0.13}, {0.13, 0.09, 0.17, 0.13}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Read whole: the page is blank, and the screen would read
			// nothing of it.
			e := &fakeEngine{words: name}
			hits, err := ocr.Check(context.Background(), e, []ocr.PageImage{{Page: 3, Image: blank()}}, id, map[int][]ocr.Rect{3: c.masks})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(hits) > 0; got != c.hit {
				t.Fatalf("hits %+v, want hit: %v", hits, c.hit)
			}
			if c.hit {
				h := hits[0]
				if h.Page != 3 || h.Kind != ocr.KindName || h.Box != (ocr.Rect{0.1, 0.1, 0.16, 0.12}) {
					t.Errorf("hit %+v", h)
				}
			}
		})
	}
}

func TestCheckPreparesThePage(t *testing.T) {
	page := blank()
	// A mask burned black, a table rule, a short dark stroke of text, and a
	// thick bar as long as the rule, which is not one.
	for y := 200; y < 240; y++ {
		for x := 200; x < 400; x++ {
			page.SetGray(x, y, color.Gray{0})
		}
	}
	for x := 50; x < 950; x++ {
		page.SetGray(x, 500, color.Gray{30})
		page.SetGray(x, 501, color.Gray{30})
	}
	for x := 600; x < 620; x++ {
		page.SetGray(x, 700, color.Gray{30})
	}
	for y := 800; y < 820; y++ {
		for x := 50; x < 950; x++ {
			page.SetGray(x, y, color.Gray{30})
		}
	}
	e := &fakeEngine{}
	if _, err := ocr.Check(context.Background(), e, []ocr.PageImage{{Page: 1, Image: page}}, ocr.Identity{Name: "张三丰", Employer: "某公司"},
		map[int][]ocr.Rect{1: {{0.2, 0.2, 0.4, 0.24}}}); err != nil {
		t.Fatal(err)
	}
	g := e.seen[0]
	for _, c := range []struct {
		what  string
		x, y  int
		white bool
	}{{"mask", 300, 220, true}, {"rule", 500, 500, true}, {"stroke", 610, 700, false}, {"bar", 500, 810, false}, {"paper", 10, 10, true}} {
		// Contrast is stretched: paper (245) becomes white, ink (30) black.
		v := g.GrayAt(c.x, c.y).Y
		if c.white && v != 255 || !c.white && v > 10 {
			t.Errorf("%s at (%d,%d): grey %d", c.what, c.x, c.y, v)
		}
	}
	if page.GrayAt(300, 220).Y != 0 {
		t.Error("the caller's image was changed")
	}
}

func TestCheckEngineError(t *testing.T) {
	boom := errors.New("boom")
	_, err := ocr.Check(context.Background(), &fakeEngine{err: boom}, []ocr.PageImage{{Page: 2, Image: blank()}}, ocr.Identity{Name: "张三丰"}, nil)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "page 2") {
		t.Fatalf("err = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ocr.Check(ctx, &fakeEngine{}, []ocr.PageImage{{Page: 1, Image: blank()}}, ocr.Identity{}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestHitFinding(t *testing.T) {
	for _, c := range []struct {
		kind   ocr.Kind
		zh, en string
	}{{ocr.KindName, "姓名", "name"}, {ocr.KindEmployer, "工作单位", "employer"}} {
		t.Run(string(c.kind), func(t *testing.T) {
			h := ocr.Hit{Page: 4, Kind: c.kind, Box: ocr.Rect{0.1, 0.2, 0.3, 0.25}}
			f := h.Finding(finding.Args{MaterialZH: "申报表", MaterialEN: "application form", Page: 2})
			if f.Code != ocr.IdentityVisible || f.Page != 2 || f.Detail != "box [0.1000 0.2000 0.3000 0.2500]" {
				t.Errorf("finding %+v", f)
			}
			if !strings.Contains(f.MessageZH, "申报表第2页") || !strings.Contains(f.MessageZH, c.zh) || !strings.Contains(f.MessageZH, "横向10%–30%、纵向20%–25%") {
				t.Errorf("message_zh %q", f.MessageZH)
			}
			if !strings.Contains(f.MessageEN, "Page 2 of the application form") || !strings.Contains(f.MessageEN, c.en) || !strings.Contains(f.MessageEN, "10–30 % across, 20–25 % down") {
				t.Errorf("message_en %q", f.MessageEN)
			}
		})
	}
	if !finding.Known(ocr.IdentityVisible) {
		t.Error("identity_visible is not registered")
	}
}

func TestDocumentRoundTrip(t *testing.T) {
	h := ocr.Hit{Kind: ocr.KindEmployer, Box: ocr.Rect{0.1, 0.2, 0.3, 0.25}}
	f := h.Finding(finding.Args{Page: 1})
	mat := 2
	f.Material, f.Type = &mat, "degree_certificate"
	d := &ocr.Document{Schema: ocr.DocumentSchema, Campaign: "2024", ApplicantID: "A1", SubmissionID: "S1", AnonCode: "2024-AAAA-BBBB",
		Engine: ocr.EngineInfo{Name: "tesseract", Version: "5.3.0", Lang: "chi_sim", PSM: 6}, DPI: 150, Pages: 3,
		Hits: []ocr.DocumentHit{{Finding: f, PacketPage: 5, Kind: h.Kind, Box: h.Box}}}
	data := d.Marshal()
	for _, want := range []string{`"schema": "blindpack/ocr@1"`, `"code": "identity_visible"`, `"packet_page": 5`, `"material": 2`, `"kind": "employer"`, `"detail": "box [0.1000 0.2000 0.3000 0.2500]"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("document lacks %s:\n%s", want, data)
		}
	}
	back, err := ocr.ParseDocument(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Hits) != 1 || back.Hits[0].Box != h.Box || *back.Hits[0].Material != 2 || back.Hits[0].Code != ocr.IdentityVisible {
		t.Fatalf("round trip: %+v", back.Hits)
	}
	if _, err := ocr.ParseDocument([]byte(`{"schema":"blindpack/report@1"}`)); err == nil {
		t.Error("wrong schema accepted")
	}
	empty := (&ocr.Document{Schema: ocr.DocumentSchema}).Marshal()
	if !strings.Contains(string(empty), `"hits": []`) {
		t.Errorf("no hits is not an empty list:\n%s", empty)
	}
}

// TestCheckScreenSkipsBlank checks that through the screen (ocr.Screened)
// a page without ink is not given to the engine at all.
func TestCheckScreenSkipsBlank(t *testing.T) {
	e := &fakeEngine{err: errors.New("must not be called")}
	hits, err := ocr.Check(context.Background(), ocr.Screened(e), []ocr.PageImage{{Page: 1, Image: blank()}}, ocr.Identity{Name: "张三丰", Employer: "新疆天山重工机械有限公司"}, nil)
	if err != nil || len(hits) != 0 || len(e.seen) != 0 {
		t.Fatalf("hits %v, err %v, %d images read", hits, err, len(e.seen))
	}
}
