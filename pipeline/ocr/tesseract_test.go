package ocr_test

import (
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/internal/testenv"
	"github.com/blindpack/blindpack/pipeline/ocr"
)

func TestTesseractReadsAFormPage(t *testing.T) {
	e := requireTesseract(t)
	ctx := context.Background()
	info, err := e.Info(ctx)
	if err != nil || info.Name != "tesseract" || info.Version == "" || info.Lang != "chi_sim" || info.PSM != ocr.DefaultPSM {
		t.Fatalf("info %+v, %v", info, err)
	}
	if d := ocr.Describe(ctx, e); d != info {
		t.Errorf("Describe %+v", d)
	}
	id := synth.Identity{Name: "张三丰", Employer: "新疆天山重工机械有限公司"}
	p, err := synth.ApplicationForm(id, 1, synth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hits, err := ocr.Check(ctx, e, []ocr.PageImage{{Page: 1, Image: p.Image}}, ocr.Identity(id), nil)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []ocr.Kind
	for _, h := range hits {
		kinds = append(kinds, h.Kind)
	}
	if len(hits) != 2 || kinds[0] != ocr.KindName || kinds[1] != ocr.KindEmployer {
		t.Fatalf("hits %+v, want the name, then the employer", hits)
	}
	if !overlaps(hits[0].Box, ocr.Rect(p.Name[0])) || !overlaps(hits[1].Box, ocr.Rect(p.Employer[0])) {
		t.Errorf("hits %+v are not where the identity is: %v %v", hits, p.Name, p.Employer)
	}
	// Masked, the same page has nothing to say.
	masks := map[int][]ocr.Rect{1: {ocr.Rect(p.Name[0]), ocr.Rect(p.Employer[0])}}
	if hits, err := ocr.Check(ctx, e, []ocr.PageImage{{Page: 1, Image: p.Image}}, ocr.Identity(id), masks); err != nil || len(hits) != 0 {
		t.Fatalf("masked page: %+v, %v", hits, err)
	}
}

func TestTesseractMissingLanguage(t *testing.T) {
	requireTesseract(t)
	e := &ocr.Tesseract{Lang: "xx_nonexistent"}
	if err := e.Check(context.Background()); !errors.Is(err, ocr.ErrToolMissing) {
		t.Fatalf("Check = %v, want ErrToolMissing", err)
	}
}

// fakeTool writes an executable shell script standing in for tesseract or
// pdftoppm.
func fakeTool(t *testing.T, script string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tool")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestToolFailures(t *testing.T) {
	testTool(t, "sh")
	img := image.NewGray(image.Rect(0, 0, 10, 10))
	ctx := context.Background()

	t.Run("not installed", func(t *testing.T) {
		e := &ocr.Tesseract{Path: filepath.Join(t.TempDir(), "no-such-tesseract")}
		if _, err := e.Recognize(ctx, img); !errors.Is(err, ocr.ErrToolMissing) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("stderr in the error", func(t *testing.T) {
		e := &ocr.Tesseract{Path: fakeTool(t, "cat >/dev/null; echo 'Failed loading language chi_sim' >&2; exit 1\n")}
		_, err := e.Recognize(ctx, img)
		var te *ocr.ToolError
		if !errors.As(err, &te) || !strings.Contains(err.Error(), "Failed loading language chi_sim") || !strings.Contains(err.Error(), "exit status 1") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("not hOCR", func(t *testing.T) {
		e := &ocr.Tesseract{Path: fakeTool(t, "cat >/dev/null; echo hello\n")}
		if _, err := e.Recognize(ctx, img); err == nil || !strings.Contains(err.Error(), "not hOCR") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("hOCR characters", func(t *testing.T) {
		hocr := `<div class='ocr_page' id='page_1'>
<span class='ocrx_word' id='word_1_1' title='bbox 1 2 9 6; x_wconf 92'>
<span class='ocrx_cinfo' title='x_bboxes 1 2 4 6; x_conf 91.5'>张</span>
<span class='ocrx_cinfo' title='x_bboxes 5 2 9 6; x_conf 80'>&amp;</span>
<span class='ocrx_cinfo' title='x_bboxes 9 2 9 6; x_conf 80'> </span>
</span></div>`
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "out.hocr"), []byte(hocr), 0o600); err != nil {
			t.Fatal(err)
		}
		e := &ocr.Tesseract{Path: fakeTool(t, "cat >/dev/null; cat "+filepath.Join(dir, "out.hocr")+"\n")}
		words, err := e.Recognize(ctx, img)
		want := []ocr.Word{{Text: "张", Box: image.Rect(1, 2, 4, 6), Conf: 91.5}, {Text: "&", Box: image.Rect(5, 2, 9, 6), Conf: 80}}
		if err != nil || len(words) != 2 || words[0] != want[0] || words[1] != want[1] {
			t.Fatalf("words %+v, %v", words, err)
		}
	})
	t.Run("timeout kills the process group", func(t *testing.T) {
		pidFile := filepath.Join(t.TempDir(), "child.pid")
		// The script starts a child that would outlive a plain kill of the
		// script itself.
		e := &ocr.Tesseract{Path: fakeTool(t, "sleep 60 &\necho $! > "+pidFile+"\nwait\n"), Timeout: 500 * time.Millisecond}
		_, err := e.Recognize(ctx, img)
		var te *ocr.ToolError
		if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &te) {
			t.Fatalf("err = %v, want a tool error wrapping the deadline", err)
		}
		data, rerr := os.ReadFile(pidFile)
		if rerr != nil {
			t.Fatal(rerr)
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
		waitGone(t, pid)
	})
	t.Run("cancelled context", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		e := &ocr.Tesseract{Path: fakeTool(t, "exec sleep 60\n")}
		go func() { time.Sleep(200 * time.Millisecond); cancel() }()
		if _, err := e.Recognize(cctx, img); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
	})
}

// waitGone waits until pid has exited (or is a zombie nobody reaps, as
// happens under a container's PID 1).
func waitGone(t *testing.T, pid int) {
	t.Helper()
	for range 100 {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
		if stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
			if f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:])); len(f) > 0 && f[0] == "Z" {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	t.Fatalf("child %d of the killed tool is still running", pid)
}

func testTool(t *testing.T, name string) {
	t.Helper()
	if _, err := os.Stat("/bin/" + name); err != nil {
		t.Skipf("no /bin/%s", name)
	}
}

func TestPopplerRender(t *testing.T) {
	requireTesseract(t) // and pdftoppm
	measureFontOnce.Do(func() { measureFont, measureFontErr = loadFont() })
	if measureFontErr != nil {
		t.Fatal(measureFontErr)
	}
	p, err := synth.TitleCertificate(synth.Identity{Name: "张三丰", Employer: "新疆天山重工机械有限公司"}, synth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := onePagePacket(p, nil, 85)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "p.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	r := &ocr.Poppler{}
	img, err := r.Render(context.Background(), path, 2, 100)
	if err != nil {
		t.Fatal(err)
	}
	// A4 at 100 dpi, give or take poppler's rounding.
	if b := img.Bounds(); b.Dx() < 826 || b.Dx() > 828 || b.Dy() < 1169 || b.Dy() > 1171 {
		t.Errorf("rendered %v", b)
	}
	if _, err := r.Render(context.Background(), path, 3, 100); err == nil {
		t.Error("page 3 of 2 rendered")
	}
	small := &ocr.Poppler{MaxPixels: 1000}
	if _, err := small.Render(context.Background(), path, 2, 100); !errors.Is(err, ocr.ErrPageTooLarge) {
		t.Errorf("over the pixel budget: %v", err)
	}
}

// TestPopplerRenderPages draws pages of a seven-page file in runs (one
// pdftoppm a run) and checks each against the same page drawn alone.
func TestPopplerRenderPages(t *testing.T) {
	requireTesseract(t) // and pdftoppm
	testenv.Tool(t, "qpdf")
	measureFontOnce.Do(func() { measureFont, measureFontErr = loadFont() })
	if measureFontErr != nil {
		t.Fatal(measureFontErr)
	}
	dir := t.TempDir()
	var parts []string
	for i, draw := range []func(synth.Identity, synth.Options) (synth.Page, error){synth.TitleCertificate, synth.DegreeCertificate} {
		p, err := draw(synth.Identity{Name: "张三丰", Employer: "新疆天山重工机械有限公司"}, synth.Options{PPI: 100})
		if err != nil {
			t.Fatal(err)
		}
		pdf, err := onePagePacket(p, nil, 85)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, filepath.Join(dir, fmt.Sprintf("%d.pdf", i)))
		if err := os.WriteFile(parts[i], pdf, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Pages: cover, title, cover, degree, title, degree, title.
	path := filepath.Join(dir, "seven.pdf")
	out, err := exec.Command("qpdf", "--empty", "--pages", parts[0], "1-2", parts[1], "1-2", parts[0], "2", parts[1], "2", parts[0], "2", "--", path).CombinedOutput()
	if err != nil {
		t.Fatalf("qpdf: %v: %s", err, out)
	}
	ctx := context.Background()
	for _, r := range []*ocr.Poppler{{}, {Color: true}} {
		pages := []int{1, 2, 4, 7} // a run of 1–4 (3 drawn, not asked), 7 alone
		imgs, err := r.RenderPages(ctx, path, pages, 60)
		if err != nil {
			t.Fatal(err)
		}
		if len(imgs) != len(pages) {
			t.Fatalf("%d images for %d pages", len(imgs), len(pages))
		}
		for i, pg := range pages {
			one, err := r.Render(ctx, path, pg, 60)
			if err != nil {
				t.Fatal(err)
			}
			if !sameImage(one, imgs[i]) {
				t.Errorf("colour %v, page %d: drawn in a run differs from drawn alone", r.Color, pg)
			}
		}
	}
	if _, err := (&ocr.Poppler{}).RenderPages(ctx, path, []int{6, 8}, 60); err == nil {
		t.Error("page 8 of 7 rendered")
	}
	small := &ocr.Poppler{MaxPixels: 1000}
	if _, err := small.RenderPages(ctx, path, []int{1, 2}, 60); !errors.Is(err, ocr.ErrPageTooLarge) {
		t.Errorf("over the pixel budget: %v", err)
	}
}

// sameImage reports whether a and b have the same bounds and colours.
func sameImage(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			r0, g0, b0, a0 := a.At(x, y).RGBA()
			r1, g1, b1, a1 := b.At(x, y).RGBA()
			if r0 != r1 || g0 != g1 || b0 != b1 || a0 != a1 {
				return false
			}
		}
	}
	return true
}

// TestTesseractBatch reads three pages in one tesseract process and one
// at a time: the words must be the same, page by page.
func TestTesseractBatch(t *testing.T) {
	e := requireTesseract(t)
	ctx := context.Background()
	id := synth.Identity{Name: "张三丰", Employer: "新疆天山重工机械有限公司"}
	var imgs []image.Image
	for _, draw := range []func(synth.Identity, synth.Options) (synth.Page, error){synth.TitleCertificate, synth.DegreeCertificate, synth.QualificationCertificate} {
		p, err := draw(id, synth.Options{PPI: 150})
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, ocr.Prepare(p.Image, nil))
	}
	batch, err := e.RecognizeAll(ctx, imgs)
	if err != nil {
		t.Fatal(err)
	}
	if len(batch) != len(imgs) {
		t.Fatalf("%d pages of words for %d images", len(batch), len(imgs))
	}
	for i, img := range imgs {
		one, err := e.Recognize(ctx, img)
		if err != nil {
			t.Fatal(err)
		}
		if len(one) == 0 || !slices.Equal(one, batch[i]) {
			t.Errorf("page %d: %d words alone, %d in the batch, or they differ", i+1, len(one), len(batch[i]))
		}
	}
	if got, err := e.RecognizeAll(ctx, nil); err != nil || got != nil {
		t.Errorf("no images: %v, %v", got, err)
	}
}
