package pdfkit

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
)

// ErrFont is returned (wrapped) for a font file that cannot be embedded.
var ErrFont = errors.New("pdfkit: unusable font")

// Font is a TrueType font, parsed once and shared by every document and
// goroutine of a process. Only TrueType outlines (glyf) are supported:
// OpenType-CFF fonts, such as Debian's Noto CJK, are refused, as PDF would
// need them embedded as FontFile3 with a different subsetter.
type Font struct {
	// PostScriptName is the font's name, used as the PDF BaseFont.
	PostScriptName string

	cmap       map[rune]uint16
	tables     map[string][]byte // tables of the chosen member, sliced from the file
	unitsPerEm int
	numGlyphs  int
	longLoca   bool
	bbox       [4]int // font units
	ascent     int
	descent    int
	capHeight  int

	mu     sync.Mutex // guards glyphs
	glyphs map[rune]glyph
}

type glyph struct {
	gid   uint16
	width int // thousandths of an em
}

// LoadFont reads the font file at path. For a TrueType collection (.ttc),
// index chooses the member; it is ignored for a single font.
func LoadFont(path string, index int) (*Font, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pdfkit: load font: %w", err)
	}
	return ParseFont(data, index)
}

// ParseFont parses a TrueType font or collection held in data, which the
// Font keeps and must not be changed afterwards.
func ParseFont(data []byte, index int) (*Font, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrFont}, a...)...)
	}
	if len(data) < 12 {
		return nil, bad("file too short")
	}
	offset := 0
	if string(data[:4]) == "ttcf" {
		n := int(binary.BigEndian.Uint32(data[8:]))
		if index < 0 || index >= n || len(data) < 12+4*n {
			return nil, bad("collection has no member %d", index)
		}
		offset = int(binary.BigEndian.Uint32(data[12+4*index:]))
	}
	tables, err := tableDirectory(data, offset)
	if err != nil {
		return nil, bad("%v", err)
	}
	for _, tag := range []string{"head", "hhea", "maxp", "hmtx", "loca", "glyf"} {
		if tables[tag] == nil {
			if tag == "glyf" && tables["CFF "] != nil {
				return nil, bad("OpenType-CFF outlines are not supported; use a TrueType font")
			}
			return nil, bad("missing %q table", tag)
		}
	}
	f := &Font{tables: tables, glyphs: map[rune]glyph{}}
	head := tables["head"]
	if len(head) < 54 || len(tables["maxp"]) < 6 || len(tables["hhea"]) < 36 {
		return nil, bad("short head, hhea or maxp table")
	}
	f.unitsPerEm = int(binary.BigEndian.Uint16(head[18:]))
	if f.unitsPerEm == 0 {
		return nil, bad("unitsPerEm is 0")
	}
	for i := range f.bbox {
		f.bbox[i] = int(int16(binary.BigEndian.Uint16(head[36+2*i:])))
	}
	f.longLoca = binary.BigEndian.Uint16(head[50:]) == 1
	f.numGlyphs = int(binary.BigEndian.Uint16(tables["maxp"][4:]))
	if want := (f.numGlyphs + 1) * 2; f.longLoca {
		if len(tables["loca"]) < 2*want {
			return nil, bad("short loca table")
		}
	} else if len(tables["loca"]) < want {
		return nil, bad("short loca table")
	}
	hhea := tables["hhea"]
	f.ascent = int(int16(binary.BigEndian.Uint16(hhea[4:])))
	f.descent = -int(int16(binary.BigEndian.Uint16(hhea[6:])))
	f.capHeight = f.ascent
	if os2 := tables["OS/2"]; len(os2) >= 90 && binary.BigEndian.Uint16(os2) >= 2 {
		if ch := int(int16(binary.BigEndian.Uint16(os2[88:]))); ch > 0 {
			f.capHeight = ch
		}
	}
	if f.cmap, err = parseCmap(tables["cmap"]); err != nil {
		return nil, bad("cmap: %v", err)
	}
	f.PostScriptName = postScriptName(tables["name"])
	return f, nil
}

// tableDirectory returns the tables of the font whose offset table starts at
// offset, as slices of data.
func tableDirectory(data []byte, offset int) (map[string][]byte, error) {
	if offset < 0 || offset+12 > len(data) {
		return nil, errors.New("offset table out of range")
	}
	n := int(binary.BigEndian.Uint16(data[offset+4:]))
	if offset+12+16*n > len(data) {
		return nil, errors.New("table directory out of range")
	}
	tables := make(map[string][]byte, n)
	for i := 0; i < n; i++ {
		rec := data[offset+12+16*i:]
		tag := string(rec[:4])
		off := int(binary.BigEndian.Uint32(rec[8:]))
		length := int(binary.BigEndian.Uint32(rec[12:]))
		if off < 0 || length < 0 || off+length > len(data) || off+length < off {
			return nil, fmt.Errorf("table %q out of range", tag)
		}
		tables[tag] = data[off : off+length : off+length]
	}
	return tables, nil
}

// glyph maps a rune to its glyph and width, caching the answer.
func (f *Font) glyph(r rune) glyph {
	f.mu.Lock()
	defer f.mu.Unlock()
	if g, ok := f.glyphs[r]; ok {
		return g
	}
	g := glyph{gid: f.cmap[r]}
	g.width = f.advance(g.gid) * 1000 / f.unitsPerEm
	f.glyphs[r] = g
	return g
}

// Has reports whether the font has a glyph for every rune of s that is not
// a control character.
func (f *Font) Has(s string) bool {
	for _, r := range s {
		if r >= ' ' && f.glyph(r).gid == 0 {
			return false
		}
	}
	return true
}

// Width returns the width of s set at size points.
func (f *Font) Width(s string, size float64) float64 {
	w := 0
	for _, r := range s {
		w += f.glyph(r).width
	}
	return float64(w) * size / 1000
}

// Ascent and Descent return the font's extent above and below the baseline
// at size points; Descent is positive.
func (f *Font) Ascent(size float64) float64 { return float64(f.ascent) * size / float64(f.unitsPerEm) }
func (f *Font) Descent(size float64) float64 {
	return float64(f.descent) * size / float64(f.unitsPerEm)
}

// subset returns a copy of the font program in which every glyph outside
// used (and the components of used composite glyphs) is empty. Glyph ids do
// not change, so the PDF can map character codes to glyphs with /Identity.
// Tables a PDF reader does not need (cmap, names, bitmaps, layout) are left
// out; WenQuanYi Zen Hei's embedded bitmaps alone are megabytes.
func (f *Font) subset(used map[uint16]bool) ([]byte, error) {
	keep := make(map[uint16]bool, len(used)+1)
	keep[0] = true // .notdef must stay
	for gid := range used {
		keep[gid] = true
	}
	// Composite glyphs refer to component glyphs, which must stay too.
	queue := make([]uint16, 0, len(keep))
	for gid := range keep {
		queue = append(queue, gid)
	}
	for len(queue) > 0 {
		gid := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		data, err := f.glyphData(gid)
		if err != nil {
			return nil, err
		}
		for _, c := range components(data) {
			if !keep[c] && int(c) < f.numGlyphs {
				keep[c] = true
				queue = append(queue, c)
			}
		}
	}

	var glyf []byte
	loca := make([]byte, 0, (f.numGlyphs+1)*4)
	putLoca := func(off int) {
		if f.longLoca {
			loca = binary.BigEndian.AppendUint32(loca, uint32(off))
		} else {
			loca = binary.BigEndian.AppendUint16(loca, uint16(off/2))
		}
	}
	for gid := 0; gid < f.numGlyphs; gid++ {
		putLoca(len(glyf))
		if !keep[uint16(gid)] {
			continue
		}
		data, err := f.glyphData(uint16(gid))
		if err != nil {
			return nil, err
		}
		glyf = append(glyf, data...)
		for len(glyf)%4 != 0 {
			glyf = append(glyf, 0)
		}
	}
	putLoca(len(glyf))
	if !f.longLoca && len(glyf) > 0x1FFFE {
		return nil, fmt.Errorf("%w: subset too large for short loca", ErrFont)
	}

	// Unused glyphs get zero metrics, so the table compresses to almost nothing.
	hmtx := append([]byte(nil), f.tables["hmtx"]...)
	nh := int(binary.BigEndian.Uint16(f.tables["hhea"][34:]))
	for gid := 0; gid < f.numGlyphs; gid++ {
		if keep[uint16(gid)] {
			continue
		}
		if gid < nh {
			if 4*gid+4 <= len(hmtx) {
				clear(hmtx[4*gid : 4*gid+4])
			}
		} else if p := 4*nh + 2*(gid-nh); p+2 <= len(hmtx) {
			clear(hmtx[p : p+2])
		}
	}

	head := append([]byte(nil), f.tables["head"]...)
	clear(head[8:12]) // checkSumAdjustment, recomputed below
	out := map[string][]byte{
		"head": head, "hhea": f.tables["hhea"], "maxp": f.tables["maxp"],
		"hmtx": hmtx, "loca": loca, "glyf": glyf,
	}
	for _, tag := range []string{"cvt ", "fpgm", "prep"} {
		if t := f.tables[tag]; t != nil {
			out[tag] = t
		}
	}
	font := buildSFNT(out)
	// head.checkSumAdjustment makes the whole file sum to 0xB1B0AFBA.
	adj := 0xB1B0AFBA - checksum(font)
	headOff := sfntTableOffset(font, "head")
	binary.BigEndian.PutUint32(font[headOff+8:], adj)
	return font, nil
}

func (f *Font) glyphData(gid uint16) ([]byte, error) {
	loca, glyf := f.tables["loca"], f.tables["glyf"]
	var start, end int
	if f.longLoca {
		start = int(binary.BigEndian.Uint32(loca[4*int(gid):]))
		end = int(binary.BigEndian.Uint32(loca[4*int(gid)+4:]))
	} else {
		start = 2 * int(binary.BigEndian.Uint16(loca[2*int(gid):]))
		end = 2 * int(binary.BigEndian.Uint16(loca[2*int(gid)+2:]))
	}
	if start > end || end > len(glyf) {
		return nil, fmt.Errorf("%w: glyph %d out of range", ErrFont, gid)
	}
	return glyf[start:end], nil
}

// components lists the glyphs a composite glyph is built from.
func components(data []byte) []uint16 {
	if len(data) < 10 || int16(binary.BigEndian.Uint16(data)) >= 0 {
		return nil
	}
	var out []uint16
	p := 10
	for p+4 <= len(data) {
		flags := binary.BigEndian.Uint16(data[p:])
		out = append(out, binary.BigEndian.Uint16(data[p+2:]))
		p += 4
		if flags&0x0001 != 0 { // ARG_1_AND_2_ARE_WORDS
			p += 4
		} else {
			p += 2
		}
		switch {
		case flags&0x0008 != 0: // WE_HAVE_A_SCALE
			p += 2
		case flags&0x0040 != 0: // WE_HAVE_AN_X_AND_Y_SCALE
			p += 4
		case flags&0x0080 != 0: // WE_HAVE_A_TWO_BY_TWO
			p += 8
		}
		if flags&0x0020 == 0 { // MORE_COMPONENTS
			break
		}
	}
	return out
}

// buildSFNT lays out an sfnt file from its tables, sorted by tag.
func buildSFNT(tables map[string][]byte) []byte {
	tags := make([]string, 0, len(tables))
	for t := range tables {
		tags = append(tags, t)
	}
	sort.Strings(tags)
	n := len(tags)
	sr, es := 1, 0
	for sr*2 <= n {
		sr *= 2
		es++
	}
	out := binary.BigEndian.AppendUint32(nil, 0x00010000)
	out = binary.BigEndian.AppendUint16(out, uint16(n))
	out = binary.BigEndian.AppendUint16(out, uint16(sr*16))
	out = binary.BigEndian.AppendUint16(out, uint16(es))
	out = binary.BigEndian.AppendUint16(out, uint16(n*16-sr*16))
	off := 12 + 16*n
	for _, t := range tags {
		data := tables[t]
		out = append(out, t...)
		out = binary.BigEndian.AppendUint32(out, checksum(data))
		out = binary.BigEndian.AppendUint32(out, uint32(off))
		out = binary.BigEndian.AppendUint32(out, uint32(len(data)))
		off += (len(data) + 3) &^ 3
	}
	for _, t := range tags {
		out = append(out, tables[t]...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
	}
	return out
}

func sfntTableOffset(font []byte, tag string) int {
	n := int(binary.BigEndian.Uint16(font[4:]))
	for i := 0; i < n; i++ {
		rec := font[12+16*i:]
		if string(rec[:4]) == tag {
			return int(binary.BigEndian.Uint32(rec[8:]))
		}
	}
	return -1
}

func checksum(b []byte) uint32 {
	var sum uint32
	for i := 0; i < len(b); i += 4 {
		var w [4]byte
		copy(w[:], b[i:])
		sum += binary.BigEndian.Uint32(w[:])
	}
	return sum
}

// subsetTag derives the six-letter subset prefix from the glyphs used, so
// that it is the same on every run (PDF 32000 9.6.4 only asks that it differ
// between different subsets).
func subsetTag(used []uint16) string {
	h := sha256.New()
	for _, g := range used {
		h.Write([]byte{byte(g >> 8), byte(g)})
	}
	sum := h.Sum(nil)
	tag := make([]byte, 6)
	for i := range tag {
		tag[i] = 'A' + sum[i]%26
	}
	return string(tag)
}
