package public_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/blindpack/blindpack/api/people"
	"github.com/blindpack/blindpack/api/public"
	"github.com/blindpack/blindpack/api/wire"
	"github.com/blindpack/blindpack/internal/resulttest"
	"github.com/blindpack/blindpack/internal/testenv"
	"github.com/blindpack/blindpack/pipeline/result"
	"github.com/blindpack/blindpack/state"
	"github.com/blindpack/blindpack/storage"
	"github.com/blindpack/blindpack/storage/localdir"
)

// redisDB is this package's database on the test Redis.
const redisDB = 9

var (
	issueOnce sync.Once
	issued    struct {
		genuine, foreign []byte
		roots            []byte
		batch            *result.Batch
	}
)

// files issues the test batch once with the authority's development keys
// and once with another's.
func files(t *testing.T) {
	issueOnce.Do(func() {
		doc, err := os.ReadFile(filepath.Join("..", "..", "pipeline", "result", "testdata", "batch.json"))
		if err != nil {
			t.Fatal(err)
		}
		issued.batch, err = result.ParseBatch(doc)
		if err != nil {
			t.Fatal(err)
		}
		for i, out := range []*[]byte{&issued.genuine, &issued.foreign} {
			is, ca := resulttest.DevIssuer(t)
			if i == 0 {
				issued.roots, _ = os.ReadFile(ca)
			}
			var b bytes.Buffer
			if _, err := is.Issue(context.Background(), issued.batch, &b); err != nil {
				t.Fatal(err)
			}
			*out = b.Bytes()
		}
	})
}

func newServer(t *testing.T, cfg public.Config) (*httptest.Server, storage.Store) {
	t.Helper()
	files(t)
	rdb := redis.NewClient(&redis.Options{Addr: testenv.Redis(t), DB: redisDB})
	t.Cleanup(func() { rdb.Close() })
	st := state.New(rdb, state.Options{})
	site, err := people.New(people.Config{}, people.Deps{State: st, Secret: []byte("public-test-secret-0123456789")})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	results, err := localdir.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	roots, err := result.CertPool(issued.roots)
	if err != nil {
		t.Fatal(err)
	}
	p, err := public.New(cfg, public.Deps{Site: site, Results: results, Roots: roots, RootsName: "test authority"})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(public.ResultsPrefix, p.Handler())
	mux.Handle(public.VerifyPrefix, p.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, results
}

func upload(t *testing.T, url string, data []byte) (int, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "result.pdf")
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", url+"/verify/", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

func TestVerify(t *testing.T) {
	srv, results := newServer(t, public.Config{MaxFileBytes: 1 << 20})
	changed := append([]byte(nil), issued.genuine...)
	changed[12] ^= 1
	appended := append(append([]byte(nil), issued.genuine...), "% more\n"...)
	for _, tc := range []struct {
		name    string
		file    []byte
		code    int
		genuine bool
		says    string
	}{
		{"issued", issued.genuine, 200, true, issued.batch.DocNumber},
		{"one byte changed", changed, 200, false, "签名后内容未被修改"},
		{"bytes appended", appended, 200, false, "没有追加内容"},
		{"signed by another key", issued.foreign, 200, false, "根证书"},
		{"not a PDF", []byte("%PDF-1.7\n%%EOF\n"), 200, false, "不是可读取的 PDF"},
		{"too large", bytes.Repeat([]byte("x"), 1<<20+1), 413, false, "文件过大"},
		{"empty", nil, 400, false, "请选择"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := upload(t, srv.URL, tc.file)
			if code != tc.code {
				t.Fatalf("%d, want %d", code, tc.code)
			}
			if got := strings.Contains(body, `data-genuine="true"`); got != tc.genuine {
				t.Errorf("genuine %t, want %t:\n%s", got, tc.genuine, body[strings.Index(body, "<main"):])
			}
			if !strings.Contains(body, tc.says) {
				t.Errorf("the page does not say %q", tc.says)
			}
		})
	}
	// Nothing of the uploads was kept: not in the results bucket, not in
	// the temporary directory multipart parsing would have used.
	if objs, _ := results.List(context.Background(), ""); len(objs) != 0 {
		t.Errorf("uploads kept in the results bucket: %v", objs)
	}
	tmp, _ := os.ReadDir(os.TempDir())
	for _, f := range tmp {
		if strings.HasPrefix(f.Name(), "multipart-") {
			t.Errorf("an upload left %s in the temporary directory", f.Name())
		}
	}
}

func TestResults(t *testing.T) {
	srv, results := newServer(t, public.Config{})
	ctx := context.Background()
	key := "2024/头人社发-2024-12号.pdf"
	if err := results.Put(ctx, key, bytes.NewReader(issued.genuine), int64(len(issued.genuine)), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(srv.URL + "/results/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{issued.batch.Title, issued.batch.DocNumber, issued.batch.Date, "<td data-label=\"人数 Persons\" class=\"num\">8</td>"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the list lacks %q", want)
		}
	}
	if strings.Contains(string(body), "签名未通过验证") {
		t.Error("the issued file is listed as not verifying")
	}
	resp, err = http.Get(srv.URL + "/results/files/2024/%E5%A4%B4%E4%BA%BA%E7%A4%BE%E5%8F%91-2024-12%E5%8F%B7.pdf")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(data, issued.genuine) || !strings.Contains(resp.Header.Get("Content-Disposition"), "filename*=utf-8''") {
		t.Errorf("download: %d, %d bytes, %q", resp.StatusCode, len(data), resp.Header.Get("Content-Disposition"))
	}
	for _, p := range []string{"/results/files/2024/other.pdf", "/results/files/../../etc/passwd", "/results/files/2024/notes.txt"} {
		if resp, err := http.Get(srv.URL + p); err != nil || resp.StatusCode != 404 {
			t.Errorf("%s: %v %v", p, resp.StatusCode, err)
		}
	}
	// A file published after the list was read (and cached) is served at
	// once at its public path: result.issued links there as it is issued.
	later := "2024/头人社发-2024-13号.pdf"
	if err := results.Put(ctx, later, bytes.NewReader(issued.genuine), int64(len(issued.genuine)), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := results.Put(ctx, "2024/notes.txt", strings.NewReader("not a result"), 12, storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]int{wire.ResultFilePath(later): 200, "/results/files/2024/notes.txt": 404} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want || want == 200 && !bytes.Equal(data, issued.genuine) {
			t.Errorf("%s: %d, %d bytes; want %d", p, resp.StatusCode, len(data), want)
		}
	}
}
