package pdfkit

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf16"
)

// docFont is a Font as used by one document: it remembers which glyphs the
// document drew so that only those are embedded and mapped back to text.
type docFont struct {
	f    *Font
	ref  Ref
	used map[uint16]rune
}

// encode returns s as a hex string of 2-byte glyph ids (Identity-H).
func (df *docFont) encode(s string) string {
	var b strings.Builder
	b.WriteByte('<')
	for _, r := range s {
		g := df.f.glyph(r)
		if _, ok := df.used[g.gid]; !ok && g.gid != 0 {
			df.used[g.gid] = r
		}
		fmt.Fprintf(&b, "%04X", g.gid)
	}
	b.WriteByte('>')
	return b.String()
}

// write embeds the subset font program, its descriptor, widths and a
// ToUnicode map covering every glyph used.
func (df *docFont) write(ow *objWriter) error {
	gids := make([]uint16, 0, len(df.used))
	for g := range df.used {
		gids = append(gids, g)
	}
	sort.Slice(gids, func(i, j int) bool { return gids[i] < gids[j] })
	used := make(map[uint16]bool, len(gids))
	for _, g := range gids {
		used[g] = true
	}
	program, err := df.f.subset(used)
	if err != nil {
		return err
	}
	f := df.f
	base := subsetTag(gids) + "+" + f.PostScriptName
	scale := func(v int) int { return v * 1000 / f.unitsPerEm }

	file := ow.reserve()
	ow.flateStream(file, fmt.Sprintf("/Length1 %d", len(program)), program)
	desc := ow.reserve()
	// Flags 4: symbolic, the right choice for a CID font.
	ow.object(desc, fmt.Sprintf("<</Type /FontDescriptor /FontName %s /Flags 4 /FontBBox [%d %d %d %d] /ItalicAngle 0 /Ascent %d /Descent %d /CapHeight %d /StemV 80 /FontFile2 %s>>",
		Name(base), scale(f.bbox[0]), scale(f.bbox[1]), scale(f.bbox[2]), scale(f.bbox[3]),
		scale(f.ascent), -scale(f.descent), scale(f.capHeight), file))

	var w strings.Builder
	for _, g := range gids {
		fmt.Fprintf(&w, "%d [%d] ", g, f.glyph(df.used[g]).width)
	}
	cid := ow.reserve()
	ow.object(cid, fmt.Sprintf("<</Type /Font /Subtype /CIDFontType2 /BaseFont %s /CIDSystemInfo <</Registry (Adobe) /Ordering (Identity) /Supplement 0>> /FontDescriptor %s /DW 1000 /W [%s] /CIDToGIDMap /Identity>>",
		Name(base), desc, strings.TrimSpace(w.String())))

	toUni := ow.reserve()
	ow.flateStream(toUni, "", toUnicodeCMap(gids, df.used))
	ow.object(df.ref, fmt.Sprintf("<</Type /Font /Subtype /Type0 /BaseFont %s /Encoding /Identity-H /DescendantFonts [%s] /ToUnicode %s>>",
		Name(base), cid, toUni))
	return ow.err
}

// toUnicodeCMap maps each glyph id to the character it was drawn for.
// A bfchar block holds at most 100 entries (PDF 32000, 9.10.3); every block
// here declares exactly the entries it has. pdfcpu's writer declares one
// entry too many after the first block, which makes poppler drop the rest,
// so names set with it past the 100th distinct glyph do not extract.
func toUnicodeCMap(gids []uint16, used map[uint16]rune) []byte {
	var b strings.Builder
	b.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n" +
		"/CIDSystemInfo <</Registry (Adobe) /Ordering (UCS) /Supplement 0>> def\n" +
		"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n" +
		"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	for start := 0; start < len(gids); start += 100 {
		end := min(start+100, len(gids))
		fmt.Fprintf(&b, "%d beginbfchar\n", end-start)
		for _, g := range gids[start:end] {
			fmt.Fprintf(&b, "<%04X> <", g)
			for _, u := range utf16.Encode([]rune{used[g]}) {
				fmt.Fprintf(&b, "%04X", u)
			}
			b.WriteString(">\n")
		}
		b.WriteString("endbfchar\n")
	}
	b.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
	return []byte(b.String())
}
