package heif

import (
	"context"
	"errors"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/blindpack/blindpack/internal/testenv"
)

// heic makes a HEIC of w × h noisy pixels with libheif's heif-enc.
func heic(t *testing.T, w, h int) []byte {
	t.Helper()
	testenv.Tool(t, "heif-enc")
	testenv.Tool(t, "convert")
	dir := t.TempDir()
	for _, c := range [][]string{
		{"convert", "-size", itoa(w) + "x" + itoa(h), "-seed", "3", "plasma:#c0b0a0-#302010", "-quality", "92", "in.jpg"},
		{"heif-enc", "-q", "50", "in.jpg", "-o", "out.heic"},
	} {
		cmd := exec.Command(c[0], c[1:]...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", c, err, out)
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "out.heic"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func itoa(n int) string { return fmtInt(n) }

func fmtInt(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// TestSandbox: a photo decodes to Go memory of its size; the sandbox's
// deadline and memory cap stop a decode with their own errors; a damaged
// file is ErrDecode — every failure the file can cause is one of the
// three, which package scan turns into findings, never a retry.
func TestSandbox(t *testing.T) {
	data := heic(t, 1200, 900)
	ctx := context.Background()
	info, err := Config(ctx, data, Limits{})
	if err != nil || info.Width != 1200 || info.Height != 900 {
		t.Fatalf("config %+v, %v", info, err)
	}
	img, err := Decode(ctx, data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := img.(*image.YCbCr); !ok || img.Bounds() != image.Rect(0, 0, 1200, 900) {
		t.Fatalf("decoded %T %v", img, img.Bounds())
	}
	for _, c := range []struct {
		name string
		data []byte
		lim  Limits
		want error
	}{
		{"deadline", data, Limits{Timeout: time.Millisecond}, ErrTimeout},
		{"memory cap", data, Limits{MemoryBytes: 4 << 20}, ErrMemory},
		{"over the pixel limit", data, Limits{MaxPixels: 1000}, ErrDecode},
		{"truncated", data[:len(data)/2], Limits{}, ErrDecode},
		{"garbage after the header", append(append([]byte{}, data[:400]...), make([]byte, 4000)...), Limits{}, ErrDecode},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(ctx, c.data, c.lim)
			if !errors.Is(err, c.want) {
				t.Errorf("got %v, want %v", err, c.want)
			}
		})
	}
}
