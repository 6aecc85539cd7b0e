package result

import (
	"math"
	"strings"
	"testing"
)

// longNames are Uyghur names as they are transliterated into Chinese
// characters, the interpunct · between the parts: the longest names a
// Xinjiang batch has.
var longNames = []string{
	"阿不都热合曼·托合提", "买买提·艾力·吐尔逊", "努尔买买提·阿不都热依木", "迪丽努尔·阿不都沙拉木",
	"热依拉·阿不都克热木", "艾克拜尔·吐尔洪江", "阿依古丽·买买提明", "古丽娜尔·艾力",
}

// batch120 is a 120-person batch with long names.
func batch120(t testing.TB) *Batch { return batchOf(t, 120, true) }

// batchOf is a batch of n distinct persons, two- and three-character
// names and, when long is set, a long Uyghur name every fifteenth.
func batchOf(t testing.TB, n int, long bool) *Batch {
	t.Helper()
	b := loadBatch(t, "testdata/batch.json")
	base := b.Approved
	b.Approved = nil
	surnames := []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
	given := []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂")
	for i := range n {
		p := base[i%len(base)]
		switch {
		case long && i%15 == 7:
			p.Name = longNames[(i/15)%len(longNames)]
		case long && i%3 == 0:
			p.Name = string(surnames[i%len(surnames)]) + string(given[(i*7)%len(given)])
		default:
			p.Name = string(surnames[i%len(surnames)]) + string(given[(i/len(surnames))%len(given)]) + string(given[(i*7)%len(given)])
		}
		b.Approved = append(b.Approved, p)
	}
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNamesWhole issues a 120-person batch with long Uyghur names and
// checks with pdftotext that every name comes out whole, on one line, as
// a reader's search would find it.
func TestNamesWhole(t *testing.T) {
	b := batch120(t)
	path := writeTemp(t, "result.pdf", issue(t, b))
	text, err := run(t, "pdftotext", "-layout", path, "-")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := run(t, "pdftotext", path, "-")
	if err != nil {
		t.Fatal(err)
	}
	long := 0
	for i, p := range b.Approved {
		if !strings.Contains(text, p.Name) || !strings.Contains(raw, p.Name) {
			t.Errorf("person %d: %s is not whole in pdftotext's text", i+1, p.Name)
		}
		if len([]rune(p.Name)) >= 7 {
			long++
		}
	}
	if long < 6 {
		t.Fatalf("only %d long names in the batch", long)
	}
}

// TestNameColumn: the name column is widened for long names, as far as
// its bound, the same for the whole document; a batch of short names keeps
// the base layout; and no name, up to the 20 characters a batch allows,
// takes more than one line.
func TestNameColumn(t *testing.T) {
	f, _ := fixture(t)
	short := loadBatch(t, "testdata/batch-onepage.json")
	if cols := columnsFor(short, f.Song); cols[nameCol].width != nameMinWidth || cols[employerCol].width != columns[employerCol].width {
		t.Errorf("short names changed the columns: %+v", cols)
	}
	long := batch120(t)
	cols := columnsFor(long, f.Song)
	if cols[nameCol].width != nameMaxWidth {
		t.Errorf("name column %g mm, want the bound %g", cols[nameCol].width, nameMaxWidth)
	}
	total := 0.0
	for _, c := range cols {
		total += c.width
	}
	if math.Abs(total-blockW/mmToPt) > 1e-9 {
		t.Errorf("columns add up to %g mm, want the text block's %g", total, blockW/mmToPt)
	}
	r := &renderer{f: f, cols: cols}
	for _, name := range append(longNames, "阿卜杜热依木·阿卜杜克热木·买买提", strings.Repeat("买", 20)) {
		texts := []string{"120", name, "新疆天山重工机械有限公司", "工程", "机械工程", "工程师"}
		rw := r.measureRow(texts, f.Song)
		if len(rw.cells[nameCol]) != 1 || rw.cells[nameCol][0] != name {
			t.Errorf("%s set as %q", name, rw.cells[nameCol])
		}
		size := rw.size[nameCol]
		if size == 0 {
			size = tableSize
		}
		scale := rw.hscale[nameCol]
		if scale == 0 {
			scale = 100
		}
		if w := f.Song.Width(name, size) * scale / 100; w > cols[nameCol].width*mmToPt-2*cellPadX+1e-6 {
			t.Errorf("%s is %.1f pt wide in a %.1f pt cell", name, w, cols[nameCol].width*mmToPt-2*cellPadX)
		}
	}
}
