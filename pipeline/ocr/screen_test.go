package ocr

import (
	"image"
	"image/draw"
	"testing"

	"golang.org/x/image/vector"
)

// drawText draws s on g in sf with its reference line px pixels high,
// the line's top at (x, top), one em a character, and returns the box of
// each character.
func drawText(g *image.Gray, sf screenFont, s string, x, top int, px float64) []image.Rectangle {
	sc := px / (sf.top - sf.bottom)
	var boxes []image.Rectangle
	pen := float64(x)
	for _, r := range s {
		o, err := sf.f.Outline(r)
		if err != nil {
			pen += sc
			continue
		}
		box := image.Rect(int(pen)-2, top-2, int(pen+o.Advance*sc)+3, top+int(1.3*px)+2)
		ras := vector.NewRasterizer(box.Dx(), box.Dy())
		tx := func(v float64) float32 { return float32(pen + v*sc - float64(box.Min.X)) }
		ty := func(v float64) float32 { return float32(float64(top-box.Min.Y) + (sf.top-v)*sc) }
		drawOutline(ras, o, tx, ty)
		mask := image.NewAlpha(image.Rect(0, 0, box.Dx(), box.Dy()))
		ras.Draw(mask, mask.Bounds(), image.Opaque, image.Point{})
		draw.DrawMask(g, box, image.Black, image.Point{}, mask, image.Point{}, draw.Over)
		boxes = append(boxes, image.Rect(int(pen), top, int(pen+o.Advance*sc), top+int(px)))
		pen += o.Advance * sc
	}
	return boxes
}

func union(rs []image.Rectangle) image.Rectangle {
	u := rs[0]
	for _, r := range rs[1:] {
		u = u.Union(r)
	}
	return u
}

// TestScreenPicksIdentityLines draws a page of ordinary lines in each
// typeface, with the name and the employer in some of them, and checks
// that the screen picks every line with a form of the identity, in every
// typeface and at two sizes, and leaves most of the other lines unread.
func TestScreenPicksIdentityLines(t *testing.T) {
	fonts, err := screenFonts()
	if err != nil {
		t.Skip(err)
	}
	id := Identity{Name: "张三丰", Employer: "新疆天山重工机械有限公司"}
	sc, ok := newScreen(id)
	if !ok {
		t.Fatal("identity not screenable")
	}
	filler := []string{
		"本人主持完成了多项技术改造项目，取得了良好的经济效益。",
		"负责数控加工中心的工艺编程与调试工作，经过团队的共同努力。",
		"专利权人：乌鲁木齐宏达建设工程有限责任公司",
		"发明人：王建国；赵晓梅；李明",
		"申报系列：工程系列　申报级别：中级",
	}
	// Lines with a form of the identity: before it, it, after it.
	with := [][3]string{
		{"姓名：", "张三丰", "　性别：男"},
		{"工作单位：", "新疆天山重工机械有限公司", ""},
		{"本人", "张三丰", "自参加工作以来，一直从事机械设计工作。"},
		{"兹证明", "三丰", "同志在我单位工作。"},
		{"", "天山重工机械", "技术中心"},
	}
	for _, sf := range fonts {
		for _, px := range []float64{22, 30} {
			g := image.NewGray(image.Rect(0, 0, 1240, 1754))
			draw.Draw(g, g.Bounds(), image.White, image.Point{}, draw.Src)
			var want, other []image.Rectangle
			y := 60
			for i := range max(len(filler), len(with)) {
				if i < len(with) {
					w := with[i]
					boxes := drawText(g, sf, w[0]+w[1]+w[2], 100, y, px)
					n, k := len([]rune(w[0])), len([]rune(w[1]))
					want = append(want, union(boxes[n:n+k]))
					y += int(2 * px)
				}
				if i < len(filler) {
					other = append(other, union(drawText(g, sf, filler[i], 100, y, px)))
					y += int(2 * px)
				}
			}
			strips, full := sc.candidates(g)
			if full {
				t.Errorf("%s at %g px: page read whole", sf.f.PostScriptName, px)
				continue
			}
			for i, w := range want {
				if !coveredBy(w, strips) {
					t.Errorf("%s at %g px: %q in line %d not picked", sf.f.PostScriptName, px, with[i][1], i)
				}
			}
			picked := 0
			for _, o := range other {
				if coveredBy(o, strips) {
					picked++
				}
			}
			t.Logf("%s at %g px: %d strips, %d of %d other lines picked too", sf.f.PostScriptName, px, len(strips), picked, len(other))
			if picked > 2 {
				t.Errorf("%s at %g px: %d of %d lines without the identity picked", sf.f.PostScriptName, px, picked, len(other))
			}
		}
	}
}

// coveredBy reports whether some strip holds the middle of r over all its
// width.
func coveredBy(r image.Rectangle, strips []image.Rectangle) bool {
	cy := (r.Min.Y + r.Max.Y) / 2
	for _, s := range strips {
		if cy >= s.Min.Y && cy < s.Max.Y && s.Min.X <= r.Min.X && s.Max.X >= r.Max.X {
			return true
		}
	}
	return false
}

// TestStackUnstack checks that words read on stacked strips come back in
// their strips at their places on the page.
func TestStackUnstack(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 400, 300))
	strips := []image.Rectangle{image.Rect(10, 20, 210, 50), image.Rect(100, 200, 380, 240)}
	img, at := stack(g, strips)
	if img.Bounds().Dx() < 280 || at[1] < at[0]+30 {
		t.Fatalf("stack %v, at %v", img.Bounds(), at)
	}
	words := []Word{
		{Text: "甲", Box: image.Rect(stackGap+5, at[0]+2, stackGap+25, at[0]+25)},
		{Text: "乙", Box: image.Rect(stackGap+50, at[1]+5, stackGap+80, at[1]+35)},
	}
	got := unstack(words, strips, at)
	if len(got[0]) != 1 || got[0][0].Box != image.Rect(15, 22, 35, 45) {
		t.Errorf("strip 0: %+v", got[0])
	}
	if len(got[1]) != 1 || got[1][0].Box != image.Rect(150, 205, 180, 235) {
		t.Errorf("strip 1: %+v", got[1])
	}
}
