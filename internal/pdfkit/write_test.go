package pdfkit

import (
	"bytes"
	"compress/zlib"
	"image"
	"image/jpeg"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/blindpack/blindpack/internal/testenv"
	kzlib "github.com/klauspost/compress/zlib"
)

const testFontPath = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"

var (
	fontOnce  sync.Once
	testFontV *Font
	fontErr   error
)

func testFont(t testing.TB) *Font {
	t.Helper()
	fontOnce.Do(func() { testFontV, fontErr = LoadFont(testFontPath, 0) })
	if fontErr != nil {
		t.Fatalf("load font (apt-get install fonts-wqy-zenhei): %v", fontErr)
	}
	return testFontV
}

// sampleDoc writes a two-page document: text in many glyphs on the first,
// a JPEG on the second, with bookmarks.
func sampleDoc(t testing.TB, text string) []byte {
	t.Helper()
	f := testFont(t)
	var out bytes.Buffer
	d := New(&out)
	cover := d.ReservePage()

	img := image.NewGray(image.Rect(0, 0, 200, 300))
	for i := range img.Pix {
		img.Pix[i] = byte(i % 251)
	}
	var jb bytes.Buffer
	if err := jpeg.Encode(&jb, img, nil); err != nil {
		t.Fatal(err)
	}
	im := d.AddJPEG(jb.Bytes(), 200, 300, DeviceGray, false)
	c := d.NewCanvas()
	c.DrawImage(im, Matrix{595, 0, 0, 842, 0, 0})
	c.Text(100, 400, "水印 watermark", TextStyle{Font: f, Size: 40, Color: Color{R: 0.8}, Alpha: 0.3, Angle: 45})
	d.AddPage(595, 842, c)

	c = d.NewCanvas()
	y := 800.0
	for _, line := range strings.Split(text, "\n") {
		c.Text(50, y, line, TextStyle{Font: f, Size: 10})
		y -= 14
	}
	c.FillRect(50, 50, 100, 20, Color{})
	d.SetPage(cover, 595, 842, c)
	d.SetOutline([]OutlineItem{{Title: "封面 Cover", Page: 0}, {Title: "材料一", Page: 1, Children: []OutlineItem{{Title: "第1页", Page: 1}}}})
	d.SetLang("zh-CN")
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// manyGlyphs is text with far more than 100 distinct characters, the size
// at which pdfcpu's ToUnicode maps break.
const manyGlyphs = "专业技术职务任职资格评审申报表姓名工作单位性别出生年月现从事专业申报系列级别\n" +
	"经济审计会计统计工程初级中级副高级继续教育免试表推荐单位公示结果主管意见\n" +
	"新疆天山重工机械有限公司乌鲁木齐经开区恒信会计师事务所张三丰李静怡学历学位证书\n" +
	"论文著作专利技术突破工艺流程标准开发成果转化创新能力业绩实际贡献答辩考核时间地点形式\n" +
	"ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz 0123456789"

func TestDocumentIsValidAndTextExtracts(t *testing.T) {
	testenv.Tool(t, "qpdf")
	testenv.Tool(t, "pdftotext")
	data := sampleDoc(t, manyGlyphs)
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("qpdf", "--check", path).CombinedOutput(); err != nil {
		t.Fatalf("qpdf --check: %v\n%s", err, out)
	}
	out, err := exec.Command("pdftotext", "-f", "1", "-l", "1", "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	got := strings.Join(strings.Fields(string(out)), "")
	for _, line := range strings.Split(manyGlyphs, "\n") {
		want := strings.Join(strings.Fields(line), "")
		if !strings.Contains(got, want) {
			t.Errorf("pdftotext lost text %q\ngot %q", want, got)
		}
	}
}

func TestDocumentBytesAreDeterministic(t *testing.T) {
	a, b := sampleDoc(t, manyGlyphs), sampleDoc(t, manyGlyphs)
	if !bytes.Equal(a, b) {
		t.Fatal("same input gave different bytes")
	}
	if c := sampleDoc(t, "另一段文字"); bytes.Equal(a, c) {
		t.Fatal("different input gave the same bytes")
	}
}

func TestSubsetIsSmall(t *testing.T) {
	data := sampleDoc(t, manyGlyphs)
	// The font file is 16 MB with bitmaps; a subset of ~150 glyphs must
	// stay far below that.
	if len(data) > 200_000 {
		t.Errorf("document with a subset font is %d bytes", len(data))
	}
}

func TestFontRefusesCFF(t *testing.T) {
	// An sfnt header with a CFF table and no glyf.
	var b []byte
	b = append(b, 'O', 'T', 'T', 'O', 0, 1, 0, 16, 0, 0, 0, 0)
	b = append(b, "CFF "...)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 4, 0, 0, 0, 0)
	if _, err := ParseFont(b, 0); err == nil {
		t.Fatal("parsed a font with no glyf table")
	}
}

func TestNum(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{{0, "0"}, {1, "1"}, {-0.00001, "0"}, {1.5, "1.5"}, {595.2756, "595.2756"}, {1e-9, "0"}, {1e9, "1000000000"}} {
		if got := Num(tc.in); got != tc.want {
			t.Errorf("Num(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestDeflatePooled: a pooled writer, used again at each level and from
// several goroutines at once, writes what a new one writes, and its
// stream inflates (with the standard library's reader) to the input.
func TestDeflatePooled(t *testing.T) {
	inputs := [][]byte{
		[]byte(strings.Repeat("q 595 0 0 842 0 0 cm /Im1 Do Q\n", 200)),
		{},
		bytes.Repeat([]byte{0, 1, 2, 3, 255}, 50000),
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for round := range 3 {
				for _, level := range []int{kzlib.BestSpeed, kzlib.DefaultCompression, kzlib.BestCompression} {
					in := inputs[(g+round)%len(inputs)]
					var fresh bytes.Buffer
					zw, _ := kzlib.NewWriterLevel(&fresh, level)
					zw.Write(in)
					zw.Close()
					got := deflate(in, level)
					if !bytes.Equal(got, fresh.Bytes()) {
						t.Errorf("level %d: pooled writer's stream differs from a new one's", level)
						return
					}
					zr, err := zlib.NewReader(bytes.NewReader(got))
					if err != nil {
						t.Error(err)
						return
					}
					back, err := io.ReadAll(zr)
					if err != nil || !bytes.Equal(back, in) {
						t.Errorf("level %d: inflates to %d bytes (%v), want %d", level, len(back), err, len(in))
						return
					}
				}
			}
		})
	}
	wg.Wait()
}
