package ocr

import (
	"context"
	"image"
	"image/draw"
	"math"
	"runtime"
	"testing"

	"golang.org/x/image/vector"

	"github.com/blindpack/blindpack/internal/testenv"
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
	// The same words read on the stack drawn larger come back the same.
	big := upscale(img)
	if big.Bounds().Size() != img.Bounds().Size().Mul(3).Div(2) {
		t.Fatalf("drawn larger: %v from %v", big.Bounds(), img.Bounds())
	}
	var larger []Word
	for _, w := range words {
		w.Box = image.Rectangle{w.Box.Min.Mul(3).Div(2), w.Box.Max.Mul(3).Div(2)}
		larger = append(larger, w)
	}
	back := unstack(unscale(larger, true), strips, at)
	near := func(a, b image.Rectangle) bool { // within a pixel on every side
		return a.Inset(1).In(b) && b.Inset(1).In(a)
	}
	for i := range got {
		if len(back[i]) != 1 || !near(back[i][0].Box, got[i][0].Box) {
			t.Errorf("strip %d drawn larger: %+v, want within a pixel of %+v", i, back[i], got[i])
		}
	}
	if small, tall := []image.Rectangle{image.Rect(0, 0, 90, 33)}, []image.Rectangle{image.Rect(0, 0, 90, 44)}; !smallText(small) || smallText(tall) {
		t.Error("a strip of a 22-pixel line is read larger, of a 35-pixel line at its size")
	}
}

// TestScreenKernelMatchesGo checks that the C kernel (cgo builds) scores
// the windows of a line as sample, finish and dot do in Go: the same
// windows, the same scores — to the bit on x86-64, where neither fuses a
// multiply and an add — on lines in each typeface, at the page's edges
// and on a sub-image whose bounds do not start at zero.
func TestScreenKernelMatchesGo(t *testing.T) {
	if !nativeScreen {
		t.Skip("no C kernel in this build")
	}
	fonts, err := screenFonts()
	if err != nil {
		t.Skip(err)
	}
	sc, ok := newScreen(Identity{Name: "张三丰", Employer: "新疆天山重工机械有限公司"})
	if !ok {
		t.Fatal("identity not screenable")
	}
	page := image.NewGray(image.Rect(0, 0, 900, 400))
	draw.Draw(page, page.Bounds(), image.White, image.Point{}, draw.Src)
	y := 0
	for i, sf := range fonts {
		// The first line starts at the left edge and top of the page.
		drawText(page, sf, "张三丰在新疆天山重工机械有限公司工作", 10*i, y, 22+6*float64(i))
		y += 70
	}
	drawText(page, fonts[0], "本人主持完成了多项技术改造项目", 700, 370, 22) // runs off the right and bottom
	sub := page.SubImage(image.Rect(5, 3, 890, 398)).(*image.Gray)
	exact := runtime.GOARCH == "amd64"
	for _, g := range []*image.Gray{page, sub} {
		lines, _, _ := layout(g)
		if len(lines) < 4 {
			t.Fatalf("layout found %d lines, want at least 4", len(lines))
		}
		// Also lines whose windows reach past every edge of the image.
		boxes := []image.Rectangle{g.Bounds(), image.Rect(g.Bounds().Max.X-30, g.Bounds().Max.Y-20, g.Bounds().Max.X+10, g.Bounds().Max.Y)}
		for _, l := range lines {
			boxes = append(boxes, l.box)
		}
		for _, box := range boxes {
			for _, thr := range []float32{0, screenFloor} {
				checkKernel(t, box, thr, sc.windowsNative(g, box, thr), sc.windowsGo(g, box, thr), exact)
			}
		}
	}
}

// checkKernel compares the windows the C kernel and the Go code scored
// on one line.
func checkKernel(t *testing.T, box image.Rectangle, thr float32, got, want []window, exact bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("line %v: %d windows in C, %d in Go", box, len(got), len(want))
	}
	for k := range want {
		if got[k].cx != want[k].cx {
			t.Fatalf("line %v window %d: at %d in C, %d in Go", box, k, got[k].cx, want[k].cx)
		}
		for r := range want[k].scores {
			a, b := got[k].scores[r], want[k].scores[r]
			if (exact && a != b) || math.Abs(float64(a-b)) > 1e-5 {
				t.Fatalf("line %v (threshold %v) window %d rune %d: %v in C, %v in Go", box, thr, k, r, a, b)
			}
		}
	}
}

// BenchmarkScreenWindows scores every window of a dense page of text (40
// lines of 36 characters at 22 px, as a 10.5-pt page at 150 dpi) in C and
// in Go.
func BenchmarkScreenWindows(b *testing.B) {
	fonts, err := screenFonts()
	if err != nil {
		b.Skip(err)
	}
	sc, ok := newScreen(Identity{Name: "张三丰", Employer: "新疆天山重工机械有限公司"})
	if !ok {
		b.Fatal("identity not screenable")
	}
	g := image.NewGray(image.Rect(0, 0, 1240, 1754))
	draw.Draw(g, g.Bounds(), image.White, image.Point{}, draw.Src)
	for i := range 40 {
		drawText(g, fonts[0], "本人主持完成了多项技术改造项目，取得了良好的经济效益。负责数控加工中", 100, 80+40*i, 22)
	}
	lines, _, _ := layout(g)
	for _, k := range []struct {
		name string
		f    func(*image.Gray, image.Rectangle, float32) []window
	}{{"c", sc.windowsNative}, {"go", sc.windowsGo}} {
		if k.name == "c" && !nativeScreen {
			continue
		}
		b.Run(k.name, func(b *testing.B) {
			for b.Loop() {
				for _, l := range lines {
					k.f(g, l.box, screenFloor)
				}
			}
		})
	}
}

// recorder is an engine that keeps the size of every image it is given.
type recorder struct {
	Engine
	sizes []image.Point
}

func (r *recorder) Recognize(ctx context.Context, img image.Image) ([]Word, error) {
	r.sizes = append(r.sizes, img.Bounds().Size())
	return r.Engine.Recognize(ctx, img)
}

// TestProbesDecideStrips reads a drawn page through the screen with
// Tesseract: the name on it is found, its strip read after a probe of a
// few characters held the pair; on a page of the same text without the
// identity only probes are read.
func TestProbesDecideStrips(t *testing.T) {
	testenv.Tool(t, "tesseract")
	fonts, err := screenFonts()
	if err != nil {
		t.Skip(err)
	}
	id := Identity{Name: "张三丰", Employer: "新疆天山重工机械有限公司"}
	filler := []string{
		"本人主持完成了多项技术改造项目，取得了良好的经济效益。",
		"负责重型液压挖掘机结构件的焊接工艺优化工作，经过团队的共同努力。",
		"工作中，本人牵头完成装配工艺流程的标准化工作，解决了长期困扰生产的技术难题。",
		// Two characters of the employer in running text: their probe
		// holds 机械, but neither 工 nor 有 beside it (probePair.near).
		"负责机械加工设备的维修保养，保证了生产的正常进行。",
	}
	draw1 := func(withName bool) *image.Gray {
		g := image.NewGray(image.Rect(0, 0, 1240, 1754))
		draw.Draw(g, g.Bounds(), image.White, image.Point{}, draw.Src)
		y := 100
		for i := range 12 {
			s := filler[i%len(filler)]
			if withName && i == 5 {
				s = "姓名：张三丰　　工作单位：新疆天山重工机械有限公司"
			}
			drawText(g, fonts[0], s, 100, y, 22)
			y += 44
		}
		return g
	}
	for _, withName := range []bool{true, false} {
		rec := &recorder{Engine: &Tesseract{}}
		hits, err := Check(context.Background(), Screened(rec), []PageImage{{Page: 1, Image: draw1(withName)}}, id, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("name on the page %v: %d hits, images read %v", withName, len(hits), rec.sizes)
		// The engine reads one image a stack: the probes in the first
		// round (all of one height here), the strips in the second.
		switch {
		case withName && (len(hits) == 0 || len(rec.sizes) < 2):
			t.Errorf("with the name: %d hits, images read %v", len(hits), rec.sizes)
		case !withName && (len(hits) != 0 || len(rec.sizes) > 1):
			t.Errorf("without the name: %d hits, images read %v (a strip read)", len(hits), rec.sizes)
		}
		if !withName {
			// What was read is the stack of the probes, no strip.
			sc, _ := newScreen(id)
			cands, _ := sc.plan(Prepare(draw1(false), nil))
			var probes []image.Rectangle
			for _, c := range cands {
				probes = append(probes, c.probes...)
			}
			if len(probes) == 0 {
				t.Fatal("the page has no probes: the test shows nothing")
			}
			w := 0
			for _, p := range probes {
				w = max(w, p.Dx())
			}
			want := w + 2*stackGap
			if smallText(probes) {
				want = 3 * want / 2 // drawn larger (smallStrip)
			}
			if len(rec.sizes) != 1 || rec.sizes[0].X != want {
				t.Errorf("without the name: images read %v, want only the stack of %d probes (%d wide)", rec.sizes, len(probes), want)
			}
		}
	}
}
