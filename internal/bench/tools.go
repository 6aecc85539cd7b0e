package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Tools are the programs of the reference pipeline and of the floor.
type Tools struct {
	// Magick is ImageMagick's command-line tool (`magick`, or IM6's
	// `convert`).
	Magick  string
	Img2PDF string
	QPDF    string
	DJPEG   string
	CJPEG   string
	// Font is a CJK font file for the stamp.
	Font string
}

// ErrMissingTool is wrapped when a program a run needs is not installed.
var ErrMissingTool = errors.New("bench: tool not installed")

// FindTools looks the programs up in PATH. ImageMagick 6's versioned
// binary is preferred to a bare `convert`, which may be some other
// program of that name.
func FindTools() Tools {
	look := func(names ...string) string {
		for _, n := range names {
			if p, err := exec.LookPath(n); err == nil {
				return p
			}
		}
		return ""
	}
	t := Tools{
		Magick: look("magick", "convert-im6.q16", "convert"), Img2PDF: look("img2pdf"), QPDF: look("qpdf"),
		DJPEG: look("djpeg"), CJPEG: look("cjpeg"),
	}
	for _, f := range []string{"/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"} {
		if _, err := os.Stat(f); err == nil {
			t.Font = f
			break
		}
	}
	return t
}

func (t Tools) need(names ...string) error {
	var missing []string
	for _, n := range names {
		var p string
		switch n {
		case "magick":
			p = t.Magick
		case "img2pdf":
			p = t.Img2PDF
		case "qpdf":
			p = t.QPDF
		case "djpeg":
			p = t.DJPEG
		case "cjpeg":
			p = t.CJPEG
		case "font":
			p = t.Font
		}
		if p == "" {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s (deploy/local/install-deps.sh installs them)", ErrMissingTool, strings.Join(missing, ", "))
	}
	return nil
}

// usage adds up what child processes cost.
type usage struct {
	mu      sync.Mutex
	cpu     time.Duration
	peakRSS int64
	procs   int
}

// run runs one program in its own process group, killed with the group
// when ctx ends, with stderr captured into the error, and adds its rusage
// to u. stdout, when not nil, receives the program's output.
func (u *usage) run(ctx context.Context, stdout *bytes.Buffer, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if stdout != nil {
		cmd.Stdout = stdout
	}
	err := cmd.Run()
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			u.mu.Lock()
			u.cpu += rusageCPU(ru)
			u.peakRSS = max(u.peakRSS, maxRSSBytes(ru))
			u.procs++
			u.mu.Unlock()
		}
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 500 {
			msg = msg[:500] + "…"
		}
		return fmt.Errorf("bench: %s: %w: %s", filepath.Base(name), err, msg)
	}
	return nil
}

// parallel runs f(0..n-1), workers at a time, and returns the first error.
func parallel(ctx context.Context, n, workers int, f func(i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan int)
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	for range max(1, workers) {
		wg.Go(func() {
			for i := range work {
				if err := f(i); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case work <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

type pageRef struct{ a, i int }

func (s *Set) pageRefs() []pageRef {
	var refs []pageRef
	for a, ap := range s.Applicants {
		for i := range ap.Pages {
			refs = append(refs, pageRef{a, i})
		}
	}
	return refs
}

// anonCode stands in for blindpack's anonymous code in the stamps of the
// tool pipeline: the same length, so the same work.
func anonCode(a int) string { return fmt.Sprintf("2024-BNCH-%04d", a+1) }

// RunReference runs what a competent administrator would script from
// standard tools to do blindpack's work, concurrency processes at a time,
// in workDir (which it leaves behind). Per page, one ImageMagick process:
// a clarity measure (the variance of the Laplacian at 150 ppi, printed),
// mask rectangles drawn black, metadata stripped, the diagonal watermark
// and a page label stamped, written as JPEG quality 90. Per applicant:
// img2pdf assembles the pages losslessly, ImageMagick draws a cover,
// img2pdf makes it a page, and qpdf puts it in front. ImageMagick runs one
// thread per process (-limit thread 1): the pages are already spread over
// the cores, and OpenMP's spinning threads would only add CPU time.
func RunReference(ctx context.Context, s *Set, t Tools, concurrency int, workDir string) (*Result, error) {
	if err := t.need("magick", "img2pdf", "qpdf", "font"); err != nil {
		return nil, err
	}
	res := &Result{Name: "reference", Pages: s.Pages(), InBytes: s.InputBytes(),
		Note: "ImageMagick (clarity, masks, -strip, stamp) + img2pdf + qpdf"}
	for _, a := range s.Applicants {
		if err := os.MkdirAll(filepath.Join(workDir, a.Dir), 0o755); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
	}
	var u usage
	refs := s.pageRefs()
	start := time.Now()
	resize := fmt.Sprintf("%.4g%%", 100*150/float64(s.Workload.PPI))
	err := parallel(ctx, len(refs), concurrency, func(k int) error {
		r := refs[k]
		a := s.Applicants[r.a]
		p := a.Pages[r.i]
		args := []string{"-limit", "thread", "1", s.Path(a, p.File),
			"(", "+clone", "-colorspace", "Gray", "-resize", resize,
			"-define", "convolve:scale=!", "-morphology", "Convolve", "Laplacian:0",
			"-format", "%[fx:standard_deviation*QuantumRange]\n", "-write", "info:-", "+delete", ")",
			"-fill", "black"}
		for _, m := range p.Masks {
			px := p.Pixels(m.Rect)
			args = append(args, "-draw", fmt.Sprintf("rectangle %d,%d %d,%d", px.Min.X, px.Min.Y, px.Max.X-1, px.Max.Y-1))
		}
		pt := float64(p.Width) / 20 // about the watermark's size on an A4 page
		args = append(args, "-strip", "-font", t.Font,
			"-fill", "rgba(128,128,128,0.3)", "-pointsize", ftoa(pt), "-gravity", "center",
			"-annotate", "330x330+0+0", "2024年度职称评审专用 · "+anonCode(r.a),
			"-fill", "black", "-pointsize", ftoa(pt/3), "-gravity", "south",
			"-annotate", "+0+"+ftoa(pt/2), fmt.Sprintf("%s · 第%d/%d页", anonCode(r.a), r.i+1, len(a.Pages)),
			"-quality", "90", filepath.Join(workDir, a.Dir, p.File))
		var out bytes.Buffer
		if err := u.run(ctx, &out, t.Magick, args...); err != nil {
			return err
		}
		if _, err := strconv.ParseFloat(strings.TrimSpace(out.String()), 64); err != nil {
			return fmt.Errorf("bench: clarity measure of %s: %q", p.File, out.String())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = parallel(ctx, len(s.Applicants), concurrency, func(k int) error {
		a := s.Applicants[k]
		dir := filepath.Join(workDir, a.Dir)
		args := []string{"--pagesize", "A4", "-o", filepath.Join(dir, "body.pdf")}
		for _, p := range a.Pages {
			args = append(args, filepath.Join(dir, p.File))
		}
		if err := u.run(ctx, nil, t.Img2PDF, args...); err != nil {
			return err
		}
		w, h := a.Pages[0].Width, a.Pages[0].Height
		if err := u.run(ctx, nil, t.Magick, "-limit", "thread", "1", "-size", fmt.Sprintf("%dx%d", w, h), "xc:white",
			"-font", t.Font, "-fill", "black", "-gravity", "north",
			"-pointsize", ftoa(float64(w)/25), "-annotate", "+0+"+ftoa(float64(h)/10), "专业技术职务任职资格评审材料\n"+anonCode(k),
			"-pointsize", ftoa(float64(w)/50), "-annotate", "+0+"+ftoa(float64(h)/4),
			fmt.Sprintf("2024年度 · 工程系列 · 初级\n共%d页\n申报表 第1页\n工作总结 第2页\n业绩成果 第3–%d页", len(a.Pages), len(a.Pages)),
			"-quality", "90", filepath.Join(dir, "cover.jpg")); err != nil {
			return err
		}
		if err := u.run(ctx, nil, t.Img2PDF, "--pagesize", "A4", "-o", filepath.Join(dir, "cover.pdf"), filepath.Join(dir, "cover.jpg")); err != nil {
			return err
		}
		return u.run(ctx, nil, t.QPDF, "--empty", "--pages", filepath.Join(dir, "cover.pdf"), filepath.Join(dir, "body.pdf"), "--",
			filepath.Join(dir, "packet.pdf"))
	})
	if err != nil {
		return nil, err
	}
	res.Wall = time.Since(start)
	res.CPU, res.PeakRSS, res.Processes = u.cpu, u.peakRSS, u.procs
	res.Packets = len(s.Applicants)
	for _, a := range s.Applicants {
		if fi, err := os.Stat(filepath.Join(workDir, a.Dir, "packet.pdf")); err == nil {
			res.OutBytes += fi.Size()
		}
	}
	return res, nil
}

// RunFloor runs the least any pipeline doing this work must: decode every
// page once (djpeg, libjpeg-turbo) and encode the masked ones again
// (cjpeg, quality 90), concurrency processes at a time, in workDir.
func RunFloor(ctx context.Context, s *Set, t Tools, concurrency int, workDir string) (*Result, error) {
	if err := t.need("djpeg", "cjpeg"); err != nil {
		return nil, err
	}
	res := &Result{Name: "floor", Pages: s.Pages(), InBytes: s.InputBytes(),
		Note: "djpeg of every page + cjpeg -quality 90 of the masked ones"}
	if err := os.MkdirAll(workDir, 0o755); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	var u usage
	refs := s.pageRefs()
	var outBytes int64
	var mu sync.Mutex
	start := time.Now()
	err := parallel(ctx, len(refs), concurrency, func(k int) error {
		r := refs[k]
		a := s.Applicants[r.a]
		p := a.Pages[r.i]
		if len(p.Masks) == 0 {
			return u.run(ctx, nil, t.DJPEG, "-outfile", os.DevNull, s.Path(a, p.File))
		}
		pnm := filepath.Join(workDir, fmt.Sprintf("%s-%d.pnm", a.ID, r.i))
		out := filepath.Join(workDir, fmt.Sprintf("%s-%d.jpg", a.ID, r.i))
		if err := u.run(ctx, nil, t.DJPEG, "-outfile", pnm, s.Path(a, p.File)); err != nil {
			return err
		}
		if err := u.run(ctx, nil, t.CJPEG, "-quality", "90", "-outfile", out, pnm); err != nil {
			return err
		}
		if fi, err := os.Stat(out); err == nil {
			mu.Lock()
			outBytes += fi.Size()
			mu.Unlock()
		}
		return os.Remove(pnm)
	})
	if err != nil {
		return nil, err
	}
	res.Wall = time.Since(start)
	res.CPU, res.PeakRSS, res.Processes = u.cpu, u.peakRSS, u.procs
	res.OutBytes = outBytes
	if res.StartCPU, err = startCost(ctx, t, res.Processes, concurrency, workDir); err != nil {
		return nil, err
	}
	return res, nil
}

// startCost runs djpeg n times, concurrency at a time, on an 8×8 JPEG:
// what the floor's processes cost before any decoding. Where starting a
// process is dear (page faults in a nested virtual machine) that is a
// large part of the floor, and the report gives the ratio without it too.
func startCost(ctx context.Context, t Tools, n, concurrency int, workDir string) (time.Duration, error) {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 8, 8)), nil); err != nil {
		return 0, err
	}
	tiny := filepath.Join(workDir, "start-cost.jpg")
	if err := os.WriteFile(tiny, b.Bytes(), 0o644); err != nil {
		return 0, fmt.Errorf("bench: %w", err)
	}
	defer os.Remove(tiny)
	var u usage
	if err := parallel(ctx, n, concurrency, func(int) error {
		return u.run(ctx, nil, t.DJPEG, "-outfile", os.DevNull, tiny)
	}); err != nil {
		return 0, err
	}
	return u.cpu, nil
}

func ftoa(f float64) string { return strconv.Itoa(int(f + 0.5)) }
