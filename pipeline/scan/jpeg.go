package scan

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/scan/jpegcodec"
)

// JPEGInfo is what the segment walk learns of a JPEG without decoding it.
type JPEGInfo struct {
	Width, Height int
	// Components is 1 (grey), 3 (YCbCr/RGB) or 4 (CMYK/YCCK).
	Components int
	// Progressive is true for SOF2 files.
	Progressive bool
	// Adobe is true when an Adobe APP14 segment is present; with 4
	// components it means the samples are stored inverted.
	Adobe bool
	// Orientation from EXIF, 1 when there is none.
	Orientation Orientation
	// Quant holds the quantisation tables by destination (0–3), in the
	// zigzag order of the DQT segment, nil where the file defines none; a
	// table defined twice keeps its last definition. They tell how hard the
	// image was compressed (see JPEGQuality).
	Quant [4]*[64]uint16
	// LumaTable is the destination of the first component's table: the
	// luminance table of a YCbCr or grey JPEG.
	LumaTable int
	// OrientationConflict is empty when the file's orientation reads one
	// way only; otherwise it lists the readings that disagree (two EXIF
	// blocks, two Orientation tags in one, an XMP tiff:Orientation
	// against EXIF), and Orientation is only the first of them. An image
	// file with a conflict is refused (finding.AmbiguousOrientation);
	// inside a PDF, where viewers ignore it, it does not matter.
	OrientationConflict string
}

// Limits on the parts of a JPEG whose number drives the cost of reading it
// (a progressive scan is a pass over the whole image), checked by the
// segment walk before anything is decoded. Encoders write one scan per
// component for sequential files and about ten for progressive ones.
const (
	maxJPEGScans  = 64
	maxJPEGTables = 256 // DQT, DHT and DRI segments together
)

type tooComplexError string

func (e tooComplexError) Error() string { return "image too complex: " + string(e) }

var errJPEG = errors.New("malformed JPEG")

// CanonicalJPEG rewrites a page's JPEG in the form every JPEG of a packet
// has (see jpegcodec.Canonical): nothing but what the decoder shows, so
// that no byte of an upload that a viewer skips reaches a reviewer. It
// returns the new data and what the segment walk learns of it; quality is
// used only where the image has to be encoded again (builds without
// libjpeg-turbo). A file the codec refuses is a *finding.Error. A page
// measured by MeasureRewritePage at the same quality has its rewrite
// already, from the same reading of its coefficients.
func CanonicalJPEG(p *Page, quality int) ([]byte, JPEGInfo, error) {
	if c := p.canonical; c != nil && c.quality == quality && c.masks == nil {
		return c.data, c.info, c.err
	}
	var buf bytes.Buffer
	buf.Grow(len(p.JPEG))
	if err := jpegcodec.Canonical(&buf, p.JPEG, quality); err != nil {
		return nil, JPEGInfo{}, finding.Errorf(finding.CorruptFile, p.Number, "", err)
	}
	return canonicalForm(p, buf.Bytes())
}

// MaskedJPEG is the page's canonical JPEG with masks (in the stored
// image's pixels) burned into its coefficients, as MeasureMaskPage made it
// for the same masks; ok is false when it made none (the page is then to
// be decoded, masked in its pixels and encoded again).
func MaskedJPEG(p *Page, masks []image.Rectangle) (data []byte, info JPEGInfo, ok bool, err error) {
	c := p.canonical
	if c == nil || c.masks == nil || !slices.Equal(c.masks, masks) {
		return nil, JPEGInfo{}, false, nil
	}
	return c.data, c.info, true, c.err
}

// canonicalJPEG is a page's rewrite made while it was measured.
type canonicalJPEG struct {
	quality int
	masks   []image.Rectangle // burned in (MeasureMaskPage); nil: none
	data    []byte
	info    JPEGInfo
	err     error
}

// canonicalForm checks what the codec wrote for p: a JPEG the segment
// walk reads, of the page's size.
func canonicalForm(p *Page, data []byte) ([]byte, JPEGInfo, error) {
	out, info, err := stripJPEG(data, true)
	if err != nil {
		return nil, info, fmt.Errorf("scan: canonical JPEG unreadable: %w", err)
	}
	if info.Width != p.Width || info.Height != p.Height {
		return nil, info, fmt.Errorf("scan: canonical JPEG is %dx%d, page %dx%d", info.Width, info.Height, p.Width, p.Height)
	}
	return out, info, nil
}

// StripJPEG returns a copy of a JPEG reduced to what decoding needs: the
// quantisation and Huffman tables, frame and scan headers, entropy-coded
// data and the Adobe APP14 segment (which says how to read the colour
// channels). Every other APPn segment — JFIF and its thumbnail, EXIF with its
// thumbnail and camera data, XMP, ICC profiles, Photoshop IRBs — comment
// segments, and anything after the end-of-image marker are dropped: each
// can carry the applicant's name or an unmasked copy of the page.
func StripJPEG(data []byte) ([]byte, JPEGInfo, error) { return stripJPEG(data, false) }

// stripJPEG is StripJPEG; with alias, a file that loses nothing is
// returned as data itself rather than a copy — for a caller that owns data
// (blindpack's own canonical rewrite, read again as a check).
func stripJPEG(data []byte, alias bool) ([]byte, JPEGInfo, error) {
	info := JPEGInfo{Orientation: 1}
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return nil, info, fmt.Errorf("%w: no start-of-image marker", errJPEG)
	}
	out := strippedJPEG{src: data}
	if !alias {
		out.copy()
	}
	out.add(data[:2])
	p := 2
	sawFrame, sawScan := false, false
	scans, tables := 0, 0
	var exif []Orientation // one reading per EXIF block, 1 for a block without the tag
	var xmp []Orientation
	for {
		// Skip fill bytes between segments.
		for p < len(data) && data[p] == 0xFF && p+1 < len(data) && data[p+1] == 0xFF {
			p++
		}
		if p+2 > len(data) {
			return nil, info, fmt.Errorf("%w: truncated before end-of-image", errJPEG)
		}
		if data[p] != 0xFF {
			return nil, info, fmt.Errorf("%w: expected a marker at offset %d", errJPEG, p)
		}
		marker := data[p+1]
		if marker == 0xD9 { // EOI
			if !sawFrame || !sawScan {
				return nil, info, fmt.Errorf("%w: no frame or scan", errJPEG)
			}
			out.add(data[p : p+2])
			info.Orientation, info.OrientationConflict = orientationReadings(exif, xmp)
			return out.bytes(), info, nil
		}
		if marker >= 0xD0 && marker <= 0xD7 || marker == 0x01 {
			out.add(data[p : p+2]) // standalone markers
			p += 2
			continue
		}
		if p+4 > len(data) {
			return nil, info, fmt.Errorf("%w: truncated segment", errJPEG)
		}
		n := int(binary.BigEndian.Uint16(data[p+2:]))
		if n < 2 || p+2+n > len(data) {
			return nil, info, fmt.Errorf("%w: segment length out of range", errJPEG)
		}
		seg, body := data[p:p+2+n], data[p+4:p+2+n]
		p += 2 + n
		switch {
		case marker == 0xE1 && bytes.HasPrefix(body, []byte("Exif\x00\x00")):
			tags := exifOrientations(body[6:])
			if len(tags) == 0 {
				tags = []Orientation{1}
			}
			exif = append(exif, tags...)
			continue
		case marker == 0xE1 && (bytes.HasPrefix(body, []byte(xmpNamespace)) || bytes.HasPrefix(body, []byte(xmpExtension))):
			xmp = append(xmp, xmpOrientations(body)...)
			continue
		case marker == 0xEE && bytes.HasPrefix(body, []byte("Adobe")):
			info.Adobe = true
			// Keep only the fixed 12-byte payload: version, flags, transform.
			if len(body) >= 12 {
				out.add([]byte{0xFF, 0xEE, 0, 14})
				out.add(body[:12])
			}
			continue
		case marker >= 0xE0 && marker <= 0xEF, marker == 0xFE:
			continue // other APPn, COM
		case marker == 0xC0 || marker == 0xC1 || marker == 0xC2:
			if len(body) < 6 {
				return nil, info, fmt.Errorf("%w: short frame header", errJPEG)
			}
			if body[0] != 8 {
				return nil, info, unsupportedJPEG(fmt.Sprintf("%d-bit samples", body[0]))
			}
			info.Height = int(binary.BigEndian.Uint16(body[1:]))
			info.Width = int(binary.BigEndian.Uint16(body[3:]))
			info.Components = int(body[5])
			info.Progressive = marker == 0xC2
			if len(body) >= 9 {
				info.LumaTable = int(body[8] & 0x0F)
			}
			sawFrame = true
		case marker == 0xDB:
			readDQT(body, &info)
			tables++
		case marker == 0xC4 || marker == 0xDD:
			tables++
		case marker >= 0xC3 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC:
			return nil, info, unsupportedJPEG(fmt.Sprintf("SOF%d (lossless, hierarchical or arithmetic-coded)", marker-0xC0))
		}
		if tables > maxJPEGTables {
			return nil, info, tooComplexError(fmt.Sprintf("more than %d table segments", maxJPEGTables))
		}
		out.add(seg)
		if marker == 0xDA { // SOS: entropy-coded data follows, up to the next marker
			sawScan = true
			if scans++; scans > maxJPEGScans {
				return nil, info, tooComplexError(fmt.Sprintf("more than %d scans", maxJPEGScans))
			}
			start := p // the data kept since the last fill bytes dropped
			for {
				i := bytes.IndexByte(data[p:], 0xFF)
				if i < 0 {
					return nil, info, fmt.Errorf("%w: truncated scan data", errJPEG)
				}
				q := p + i
				// Fill bytes (more 0xFF) may come before what follows;
				// they are dropped, as decoders skip them and the packet
				// verifier expects none.
				r := q + 1
				for r < len(data) && data[r] == 0xFF {
					r++
				}
				if r >= len(data) {
					return nil, info, fmt.Errorf("%w: truncated scan data", errJPEG)
				}
				if data[r] == 0x00 || data[r] >= 0xD0 && data[r] <= 0xD7 {
					// A stuffed 0xFF data byte or a restart marker: the
					// scan goes on.
					if r > q+1 {
						out.add(data[start : q+1])
						start = r
					}
					p = r + 1
					continue
				}
				out.add(data[start:q])
				p = q // a marker, read by the loop above
				break
			}
		}
	}
}

// strippedJPEG is stripJPEG's output: while every piece added is the
// next stretch of src (or the same bytes as it), only its length; at the
// first piece that is not, a copy.
type strippedJPEG struct {
	src    []byte
	n      int
	buf    []byte
	copied bool
}

// copy starts the copy with what was added so far.
func (o *strippedJPEG) copy() {
	o.buf = append(make([]byte, 0, len(o.src)), o.src[:o.n]...)
	o.copied = true
}

func (o *strippedJPEG) add(b []byte) {
	if !o.copied {
		if len(b) == 0 {
			return
		}
		if rest := o.src[o.n:]; len(rest) >= len(b) && (&rest[0] == &b[0] || bytes.Equal(rest[:len(b)], b)) {
			o.n += len(b)
			return
		}
		o.copy()
	}
	o.buf = append(o.buf, b...)
}

func (o *strippedJPEG) bytes() []byte {
	if o.copied {
		return o.buf
	}
	return o.src[:o.n:o.n]
}

// readDQT records the tables of a DQT segment, 8- or 16-bit; a malformed
// segment is left for the decoder to refuse.
func readDQT(body []byte, info *JPEGInfo) {
	for len(body) > 0 {
		prec, dest := body[0]>>4, int(body[0]&0x0F)
		size := 64
		if prec == 1 {
			size = 128
		}
		if prec > 1 || dest > 3 || len(body) < 1+size {
			return
		}
		var t [64]uint16
		for i := range t {
			if prec == 1 {
				t[i] = binary.BigEndian.Uint16(body[1+2*i:])
			} else {
				t[i] = uint16(body[1+i])
			}
		}
		info.Quant[dest] = &t
		body = body[1+size:]
	}
}

type unsupportedJPEGError string

func (e unsupportedJPEGError) Error() string { return "unsupported JPEG: " + string(e) }

func unsupportedJPEG(what string) error { return unsupportedJPEGError(what) }

// exifOrientation reads tag 0x0112 from IFD0 of a TIFF-structured EXIF
// block: the first one, 0 when there is none.
func exifOrientation(tiff []byte) Orientation {
	if o := exifOrientations(tiff); len(o) > 0 {
		return o[0]
	}
	return 0
}

// exifOrientations returns every Orientation tag (0x0112, SHORT) of IFD0,
// in order; a well-formed block has at most one.
func exifOrientations(tiff []byte) []Orientation {
	if len(tiff) < 8 {
		return nil
	}
	var bo binary.ByteOrder
	switch string(tiff[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return nil
	}
	ifd := int(bo.Uint32(tiff[4:]))
	if ifd < 8 || ifd+2 > len(tiff) {
		return nil
	}
	var out []Orientation
	n := int(bo.Uint16(tiff[ifd:]))
	for i := 0; i < n; i++ {
		e := ifd + 2 + 12*i
		if e+12 > len(tiff) {
			break
		}
		if bo.Uint16(tiff[e:]) == 0x0112 && bo.Uint16(tiff[e+2:]) == 3 {
			out = append(out, Orientation(bo.Uint16(tiff[e+8:])))
		}
	}
	return out
}

// The APP1 identifiers of XMP and of its extension segments.
const (
	xmpNamespace = "http://ns.adobe.com/xap/1.0/\x00"
	xmpExtension = "http://ns.adobe.com/xmp/extension/\x00"
)

// xmpOrientation matches tiff:Orientation as an attribute or an element.
var xmpOrientation = regexp.MustCompile(`tiff:Orientation\s*(?:=\s*["']|>)\s*(\d+)`)

// xmpOrientations returns the tiff:Orientation values of an XMP packet.
func xmpOrientations(body []byte) []Orientation {
	var out []Orientation
	for _, m := range xmpOrientation.FindAllSubmatch(body, -1) {
		o, _ := strconv.Atoi(string(m[1]))
		out = append(out, Orientation(o))
	}
	return out
}

// orientationReadings decides a JPEG's orientation from every place that
// states one. A file without EXIF reads as 1 to a browser, whatever its
// XMP says; an invalid value reads as 1. The readings must agree: if they
// do not, the second return names them.
func orientationReadings(exif, xmp []Orientation) (Orientation, string) {
	if len(exif) == 0 {
		exif = []Orientation{1}
	}
	first := Orientation(0)
	var desc []string
	conflict := false
	for i, list := range [][]Orientation{exif, xmp} {
		for _, o := range list {
			if !o.valid() {
				o = 1
			}
			if first == 0 {
				first = o
			}
			conflict = conflict || o != first
			desc = append(desc, fmt.Sprintf("%s %d", [2]string{"EXIF", "XMP"}[i], o))
		}
	}
	if !conflict {
		return first, ""
	}
	return first, strings.Join(desc, ", ")
}
