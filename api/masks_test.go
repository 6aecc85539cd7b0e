package api_test

import (
	"bytes"
	"context"
	"image"
	"log/slog"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/blindpack/blindpack/api"
	"github.com/blindpack/blindpack/api/wire"
	"github.com/blindpack/blindpack/internal/synth"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/ocr"
	"github.com/blindpack/blindpack/storage"
)

// multipartBody builds a suggestion request from fields and, when file is
// not nil, a file part.
func multipartBody(t *testing.T, fields map[string]string, file []byte) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if file != nil {
		w, err := mw.CreateFormFile("file", "scan.jpg")
		if err != nil {
			t.Fatal(err)
		}
		w.Write(file)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), b.Bytes()
}

// fixedEngine "reads" the name at a fixed place of any page: three square
// characters from x 10% to 18.8%, y 20% to 22% of the image it is given.
type fixedEngine struct{}

func (fixedEngine) Recognize(_ context.Context, img image.Image) ([]ocr.Word, error) {
	b := img.Bounds()
	x := func(f float64) int { return b.Min.X + int(f*float64(b.Dx())) }
	y := func(f float64) int { return b.Min.Y + int(f*float64(b.Dy())) }
	return []ocr.Word{
		{Text: "张", Box: image.Rect(x(0.100), y(0.20), x(0.128), y(0.22))},
		{Text: "三", Box: image.Rect(x(0.130), y(0.20), x(0.158), y(0.22))},
		{Text: "丰", Box: image.Rect(x(0.160), y(0.20), x(0.188), y(0.22))},
	}, nil
}

func blankScan(t *testing.T) []byte {
	t.Helper()
	g := image.NewGray(image.Rect(0, 0, 1240, 1754))
	for i := range g.Pix {
		g.Pix[i] = 250
	}
	jpg, err := synth.EncodeJPEG(g, 85)
	if err != nil {
		t.Fatal(err)
	}
	return jpg
}

func TestSuggestMasks(t *testing.T) {
	e := newEnv(t)
	var logs bytes.Buffer
	d := e.deps
	// Not ocr.Screened, as serve makes it: the fake engine "reads" words
	// on a blank page, which the screen would rightly skip.
	d.MaskOCR = fixedEngine{}
	d.Log = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := e.serve(api.Config{TempDir: t.TempDir()}, d)
	scanJPG := blankScan(t)
	id := map[string]string{"name": "张三丰", "employer": "新疆天山重工机械有限公司"}
	if err := e.buckets.Uploads.Put(context.Background(), "2024/A1/scan.jpg", bytes.NewReader(scanJPG), int64(len(scanJPG)), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range id {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	post := func(token string, fields map[string]string, file []byte) response {
		ctype, body := multipartBody(t, fields, file)
		return e.rawOn(srv, "POST", "/v1/masks/suggest", token, ctype, body, nil)
	}
	for _, tc := range []struct {
		name string
		resp response
	}{
		{"a file part", post(e.tok["upload"], id, scanJPG)},
		{"an uploads key", post(e.tok["upload"], with(map[string]string{"key": "2024/A1/scan.jpg"}), nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.resp.code != 200 {
				t.Fatalf("%d %s", tc.resp.code, tc.resp.body)
			}
			var s pipeline.Suggestion
			tc.resp.json(t, &s)
			if s.Pages != 1 || len(s.Read) != 1 || s.Read[0] != pipeline.ReadOCR || len(s.Masks) != 1 {
				t.Fatalf("suggestion %+v", s)
			}
			m := s.Masks[0]
			// The engine's box, widened by a quarter of its height.
			if m.Page != 1 || m.Kind != "name" || m.Rect[0] > 0.1 || m.Rect[0] < 0.09 || m.Rect[2] < 0.188 || m.Rect[2] > 0.2 ||
				m.Rect[1] > 0.2 || m.Rect[3] < 0.22 || m.Rect[3] > 0.23 {
				t.Errorf("mask %+v", m)
			}
		})
	}
	for _, tc := range []struct {
		name string
		resp response
		want wire.Code
		code int
	}{
		{"a reviewer", post(e.tok["E-0042"], id, scanJPG), wire.CodeForbidden, 403},
		{"no name", post(e.tok["upload"], map[string]string{"employer": "某公司"}, scanJPG), wire.CodeInvalidParameter, 400},
		{"neither file nor key", post(e.tok["upload"], id, nil), wire.CodeInvalidParameter, 400},
		{"both file and key", post(e.tok["upload"], with(map[string]string{"key": "2024/A1/scan.jpg"}), scanJPG), wire.CodeInvalidParameter, 400},
		{"an unknown field", post(e.tok["upload"], with(map[string]string{"identity": "x"}), scanJPG), wire.CodeInvalidParameter, 400},
		{"a key that is not there", post(e.tok["upload"], with(map[string]string{"key": "2024/A1/none.jpg"}), nil), wire.CodeInvalidFile, 400},
		{"a key that leaves the bucket", post(e.tok["upload"], with(map[string]string{"key": "../x"}), nil), wire.CodeInvalidFile, 400},
		{"not an image", post(e.tok["upload"], id, []byte("hello, world")), wire.CodeInvalidFile, 400},
		{"JSON", e.rawOn(srv, "POST", "/v1/masks/suggest", e.tok["upload"], "application/json", []byte(`{"name":"张三丰"}`), nil), wire.CodeUnsupportedMediaType, 415},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var we wire.Error
			tc.resp.json(t, &we)
			if tc.resp.code != tc.code || we.Code != tc.want {
				t.Errorf("%d %s, want %d %s", tc.resp.code, tc.resp.body, tc.code, tc.want)
			}
		})
	}
	// Nothing of the identity or the answer in the server's log.
	for _, s := range []string{"张三丰", "三丰", "天山", "0.09", "rect"} {
		if strings.Contains(logs.String(), s) {
			t.Errorf("the log holds %q:\n%s", s, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "/v1/masks/suggest") {
		t.Errorf("the requests were not logged at all:\n%s", logs.String())
	}
}
