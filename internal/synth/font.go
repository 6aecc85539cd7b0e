package synth

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"sync"

	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
)

// FontPath is the TrueType collection the pages are drawn with. It is a
// variable so that a test can point it at a missing file; it is read once,
// on the first page drawn.
var FontPath = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"

// ErrFontMissing is returned (wrapped) when FontPath does not exist, so that
// callers can tell a machine set-up problem from a bug.
var ErrFontMissing = errors.New("synth: CJK font missing (apt-get install fonts-wqy-zenhei)")

var (
	fontOnce sync.Once
	fontVal  *sfnt.Font
	fontErr  error
)

// loadFont parses member 0 ("WenQuanYi Zen Hei") of FontPath once per
// process. The parsed font is safe for concurrent use as long as each
// goroutine has its own faces, which every page does.
func loadFont() (*sfnt.Font, error) {
	fontOnce.Do(func() {
		fontVal, fontErr = parseFont(FontPath)
	})
	return fontVal, fontErr
}

func parseFont(path string) (*sfnt.Font, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s not found", ErrFontMissing, path)
	}
	if err != nil {
		return nil, fmt.Errorf("synth: read font: %w", err)
	}
	// opentype.ParseCollection accepts the wqy-zenhei collection, but its
	// members fail to load: x/image/font/sfnt insists that every table start
	// on a 4-byte boundary and this file's tables do not. Copying member 0's
	// tables into an aligned stand-alone font fixes that without touching
	// the glyph data.
	ttf, err := collectionMember(b, 0)
	if err != nil {
		return nil, fmt.Errorf("synth: font %s: %w", path, err)
	}
	f, err := opentype.Parse(ttf)
	if err != nil {
		return nil, fmt.Errorf("synth: font %s: %w", path, err)
	}
	return f, nil
}

// collectionMember returns font i of a TrueType collection as a single font
// file with 4-byte aligned tables. A plain font file is returned as is.
func collectionMember(b []byte, i int) ([]byte, error) {
	be := binary.BigEndian
	if len(b) < 12 || string(b[:4]) != "ttcf" {
		return b, nil
	}
	n := int(be.Uint32(b[8:]))
	if i >= n || 12+4*(i+1) > len(b) {
		return nil, fmt.Errorf("collection has %d fonts, want member %d", n, i)
	}
	off := int(be.Uint32(b[12+4*i:]))
	if off+12 > len(b) {
		return nil, errors.New("collection offset out of range")
	}
	numTables := int(be.Uint16(b[off+4:]))
	if off+12+16*numTables > len(b) {
		return nil, errors.New("table directory out of range")
	}
	type table struct {
		tag, sum  uint32
		off, size int
	}
	tables := make([]table, numTables)
	for k := range tables {
		d := b[off+12+16*k:]
		t := table{be.Uint32(d), be.Uint32(d[4:]), int(be.Uint32(d[8:])), int(be.Uint32(d[12:]))}
		if t.off < 0 || t.size < 0 || t.off+t.size > len(b) {
			return nil, fmt.Errorf("table %d out of range", k)
		}
		tables[k] = t
	}
	sort.Slice(tables, func(a, c int) bool { return tables[a].tag < tables[c].tag })
	out := make([]byte, 12+16*numTables)
	copy(out, b[off:off+12])
	for k, t := range tables {
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
		d := out[12+16*k:]
		be.PutUint32(d, t.tag)
		be.PutUint32(d[4:], t.sum)
		be.PutUint32(d[8:], uint32(len(out)))
		be.PutUint32(d[12:], uint32(t.size))
		out = append(out, b[t.off:t.off+t.size]...)
	}
	return out, nil
}
