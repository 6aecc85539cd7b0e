package pdfkit

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blindpack/blindpack/internal/testenv"
)

func stampText(t testing.TB, src []byte, text string, id []byte) ([]byte, StampResult) {
	t.Helper()
	f := testFont(t)
	var out bytes.Buffer
	res, err := Stamp(&out, bytes.NewReader(src), int64(len(src)), Overlay{
		Fonts: []*Font{f}, Alphas: []float64{0.8}, FileID: id,
		Draw: func(i int, w, h float64, c *Canvas) {
			c.Text(20, h-20, text, TextStyle{Font: f, Size: 9, Color: Color{R: 0.7}, Alpha: 0.8})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Bytes != int64(out.Len()) {
		t.Fatalf("result says %d bytes, wrote %d", res.Bytes, out.Len())
	}
	return out.Bytes(), res
}

func TestStampCopiesAndAddsText(t *testing.T) {
	testenv.Tool(t, "qpdf")
	testenv.Tool(t, "pdftotext")
	src := sampleDoc(t, manyGlyphs)
	const mark = "评审专家 E-0042 · 2024-10-03 09:15Z · 仅供评审"
	out, res := stampText(t, src, mark, nil)
	if res.Pages != 2 {
		t.Fatalf("%d pages", res.Pages)
	}
	path := filepath.Join(t.TempDir(), "stamped.pdf")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	if o, err := exec.Command("qpdf", "--check", path).CombinedOutput(); err != nil || !bytes.Contains(o, []byte("No syntax or stream encoding errors")) {
		t.Fatalf("qpdf --check: %v\n%s", err, o)
	}
	for page, want := range map[string]string{"1": "专业技术职务任职资格评审申报表", "2": "水印watermark"} {
		o, err := exec.Command("pdftotext", "-f", page, "-l", page, "-enc", "UTF-8", path, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Join(strings.Fields(string(o)), "")
		if !strings.Contains(got, strings.ReplaceAll(mark, " ", "")) || !strings.Contains(got, want) {
			t.Errorf("page %s: want the stamp and %q, got %q", page, want, got)
		}
	}
	if n := bytes.Count(out, []byte("startxref")); n != 1 {
		t.Errorf("%d startxref: not one revision", n)
	}
	// Every object of the source but the two pages is in the copy as it was.
	s, err := readSource(bytes.NewReader(src), int64(len(src)))
	if err != nil {
		t.Fatal(err)
	}
	pages, _ := s.pageTree()
	copied := 0
	for _, sp := range s.spans {
		if sp.num == pages[0].num || sp.num == pages[1].num {
			continue
		}
		if !bytes.Contains(out, src[sp.start:sp.end]) {
			t.Errorf("object %d not copied byte for byte", sp.num)
		}
		copied++
	}
	if copied < 10 {
		t.Errorf("only %d objects checked", copied)
	}
}

func TestStampIsDeterministicAndMarked(t *testing.T) {
	src := sampleDoc(t, manyGlyphs)
	a, ra := stampText(t, src, "E-0042", nil)
	b, _ := stampText(t, src, "E-0042", nil)
	c, _ := stampText(t, src, "E-0043", nil)
	if !bytes.Equal(a, b) {
		t.Error("the same stamp gave different bytes")
	}
	if bytes.Equal(a, c) {
		t.Error("different stamps gave the same bytes")
	}
	if ra.ID[0] != ra.ID[1] {
		t.Errorf("default /ID elements differ: %v", ra.ID)
	}
	id := bytes.Repeat([]byte{0xAB}, 16)
	d, rd := stampText(t, src, "E-0042", id)
	if rd.ID[0] != strings.Repeat("ab", 16) || !bytes.Contains(d, []byte("/ID [<"+strings.Repeat("ab", 16)+">")) {
		t.Errorf("file id not set: %v", rd.ID)
	}
}

func TestStampRefuses(t *testing.T) {
	src := sampleDoc(t, "文字")
	stamped, _ := stampText(t, src, "E-0042", nil)
	incremental := append(append([]byte(nil), src...), []byte("1 0 obj\nnull\nendobj\nxref\n0 1\n0000000000 65535 f\r\ntrailer\n<</Size 2 /Root 1 0 R /Prev 9>>\nstartxref\n"+itoa(len(src))+"\n%%EOF\n")...)
	f := testFont(t)
	for _, tc := range []struct {
		name string
		src  []byte
		draw func(i int, w, h float64, c *Canvas)
	}{
		{"not a PDF", []byte("hello"), nil},
		{"truncated", src[:len(src)/2], nil},
		{"incremental update", incremental, nil},
		{"stamped twice", stamped, nil},
		{"undeclared opacity", src, func(i int, w, h float64, c *Canvas) {
			c.Text(1, 1, "x", TextStyle{Font: f, Size: 9, Alpha: 0.5})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			draw := tc.draw
			if draw == nil {
				draw = func(i int, w, h float64, c *Canvas) { c.Text(1, 1, "x", TextStyle{Font: f, Size: 9}) }
			}
			var out bytes.Buffer
			_, err := Stamp(&out, bytes.NewReader(tc.src), int64(len(tc.src)), Overlay{Fonts: []*Font{f}, Draw: draw})
			if err == nil {
				t.Fatal("stamped")
			}
			if tc.draw == nil && !errors.Is(err, ErrNotStampable) {
				t.Errorf("error %v is not ErrNotStampable", err)
			}
		})
	}
}

func itoa(n int) string { return Num(float64(n)) }

func TestParseObjectRoundTrip(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"<</Type /Page /Parent 2 0 R /MediaBox [0 0 595.2756 841.8898] /Resources <</Font <</F0 5 0 R >> >> /Contents 4 0 R>>",
			"<</Type /Page /Parent 2 0 R /MediaBox [0 0 595.2756 841.8898] /Resources <</Font <</F0 5 0 R>>>> /Contents 4 0 R>>"},
		{"[1 2 3 0 R (a\\) b) <41 42> /N#20x true null]", "[1 2 3 0 R (a\\) b) <41 42> /N#20x true null]"},
		{"<</T (x\\)y) /A [[1] [2]]>>", "<</T (x\\)y) /A [[1] [2]]>>"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			o, err := parseObject([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if got := o.String(); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	for _, bad := range []string{"<</A", "[1 2", "<<1 2>>", ")", "(abc", strings.Repeat("[", 100)} {
		if _, err := parseObject([]byte(bad)); err == nil {
			t.Errorf("parsed %q", bad)
		}
	}
}
