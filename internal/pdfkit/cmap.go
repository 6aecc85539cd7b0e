package pdfkit

import (
	"encoding/binary"
	"errors"
	"strings"
	"unicode/utf16"
)

// parseCmap reads the Unicode mapping of a cmap table: format 12 (full
// Unicode) when there is one, else format 4 (the Basic Multilingual Plane).
// x/image/font/sfnt would do this, but refuses fonts whose tables are not
// 4-byte aligned, WenQuanYi Zen Hei among them.
func parseCmap(t []byte) (map[rune]uint16, error) {
	if len(t) < 4 {
		return nil, errors.New("missing or short cmap table")
	}
	n := int(binary.BigEndian.Uint16(t[2:]))
	var f4, f12 []byte
	for i := 0; i < n && 4+8*i+8 <= len(t); i++ {
		rec := t[4+8*i:]
		platform, encoding := binary.BigEndian.Uint16(rec), binary.BigEndian.Uint16(rec[2:])
		off := int(binary.BigEndian.Uint32(rec[4:]))
		if off+4 > len(t) {
			continue
		}
		sub := t[off:]
		unicode := platform == 0 || (platform == 3 && (encoding == 1 || encoding == 10))
		if !unicode {
			continue
		}
		switch binary.BigEndian.Uint16(sub) {
		case 4:
			f4 = sub
		case 12:
			f12 = sub
		}
	}
	switch {
	case f12 != nil:
		return cmapFormat12(f12)
	case f4 != nil:
		return cmapFormat4(f4)
	}
	return nil, errors.New("no Unicode subtable of format 4 or 12")
}

func cmapFormat4(t []byte) (map[rune]uint16, error) {
	if len(t) < 14 {
		return nil, errors.New("short format 4 subtable")
	}
	segs := int(binary.BigEndian.Uint16(t[6:])) / 2
	if 16+8*segs > len(t) {
		return nil, errors.New("format 4 segments out of range")
	}
	ends, starts := t[14:], t[16+2*segs:]
	deltas, rangeOffs := t[16+4*segs:], t[16+6*segs:]
	m := map[rune]uint16{}
	for s := 0; s < segs; s++ {
		end := int(binary.BigEndian.Uint16(ends[2*s:]))
		start := int(binary.BigEndian.Uint16(starts[2*s:]))
		delta := binary.BigEndian.Uint16(deltas[2*s:])
		ro := int(binary.BigEndian.Uint16(rangeOffs[2*s:]))
		for c := start; c <= end && c != 0xFFFF; c++ {
			var gid uint16
			if ro == 0 {
				gid = uint16(c) + delta
			} else {
				p := 16 + 6*segs + 2*s + ro + 2*(c-start)
				if p+2 > len(t) {
					break
				}
				if gid = binary.BigEndian.Uint16(t[p:]); gid != 0 {
					gid += delta
				}
			}
			if gid != 0 {
				m[rune(c)] = gid
			}
		}
	}
	return m, nil
}

func cmapFormat12(t []byte) (map[rune]uint16, error) {
	if len(t) < 16 {
		return nil, errors.New("short format 12 subtable")
	}
	groups := int(binary.BigEndian.Uint32(t[12:]))
	if groups < 0 || 16+12*groups > len(t) {
		return nil, errors.New("format 12 groups out of range")
	}
	m := map[rune]uint16{}
	for i := 0; i < groups; i++ {
		g := t[16+12*i:]
		start, end := binary.BigEndian.Uint32(g), binary.BigEndian.Uint32(g[4:])
		gid := binary.BigEndian.Uint32(g[8:])
		if end < start || end > 0x10FFFF || end-start > 0x10000 {
			continue
		}
		for c := start; c <= end; c++ {
			if id := gid + (c - start); id != 0 && id <= 0xFFFF {
				m[rune(c)] = uint16(id)
			}
		}
	}
	return m, nil
}

// postScriptName reads name id 6 from a name table, or gives a neutral
// placeholder when the font has none.
func postScriptName(t []byte) string {
	if len(t) >= 6 {
		n := int(binary.BigEndian.Uint16(t[2:]))
		strOff := int(binary.BigEndian.Uint16(t[4:]))
		for i := 0; i < n && 6+12*i+12 <= len(t); i++ {
			rec := t[6+12*i:]
			platform := binary.BigEndian.Uint16(rec)
			if binary.BigEndian.Uint16(rec[6:]) != 6 {
				continue
			}
			length, off := int(binary.BigEndian.Uint16(rec[8:])), int(binary.BigEndian.Uint16(rec[10:]))
			if strOff+off+length > len(t) {
				continue
			}
			raw := t[strOff+off : strOff+off+length]
			var s string
			if platform == 3 || platform == 0 {
				u := make([]uint16, len(raw)/2)
				for j := range u {
					u[j] = binary.BigEndian.Uint16(raw[2*j:])
				}
				s = string(utf16.Decode(u))
			} else {
				s = string(raw)
			}
			if s = sanitizeName(s); s != "" {
				return s
			}
		}
	}
	return "EmbeddedFont"
}

func sanitizeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r > ' ' && r < 0x7f && !strings.ContainsRune("()<>[]{}/%#", r) {
			return r
		}
		return -1
	}, s)
}

// advance is the advance width of a glyph in font units, from hmtx.
func (f *Font) advance(gid uint16) int {
	hmtx := f.tables["hmtx"]
	nh := int(binary.BigEndian.Uint16(f.tables["hhea"][34:]))
	i := int(gid)
	if i >= nh {
		i = nh - 1
	}
	if i < 0 || 4*i+2 > len(hmtx) {
		return 0
	}
	return int(binary.BigEndian.Uint16(hmtx[4*i:]))
}
