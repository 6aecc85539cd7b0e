package scan

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"io"
	"slices"

	xtiff "golang.org/x/image/tiff"

	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/scan/jpegcodec"
)

// A TIFF is read as a chain of image file directories (IFDs), each a page,
// walked here with every offset and count checked. A page is decoded by
// golang.org/x/image/tiff (none, LZW, Deflate, PackBits, CCITT G3 1-D and
// G4; bilevel, grey, palette, RGB; strips and tiles), which reads only a
// file's first IFD and knows neither CMYK nor orientation: it is handed a
// view of the file whose header points at a fresh copy of the page's IFD,
// with CMYK presented as four-sample RGB. JPEG-compressed pages
// (compression 7) are put together here, strip by strip or tile by tile,
// and decoded by package jpegcodec.

// TIFF tags read.
const (
	tagNewSubfileType   = 254
	tagImageWidth       = 256
	tagImageLength      = 257
	tagBitsPerSample    = 258
	tagCompression      = 259
	tagPhotometric      = 262
	tagFillOrder        = 266
	tagStripOffsets     = 273
	tagOrientation      = 274
	tagSamplesPerPixel  = 277
	tagRowsPerStrip     = 278
	tagStripByteCounts  = 279
	tagPlanarConfig     = 284
	tagT4Options        = 292
	tagT6Options        = 293
	tagPredictor        = 317
	tagColorMap         = 320
	tagTileWidth        = 322
	tagTileLength       = 323
	tagTileOffsets      = 324
	tagTileByteCounts   = 325
	tagExtraSamples     = 338
	tagSampleFormat     = 339
	tagJPEGTables       = 347
	tagYCbCrSubSampling = 530
)

// Compression and photometric values.
const (
	tiffNone       = 1
	tiffG3         = 3
	tiffG4         = 4
	tiffLZW        = 5
	tiffOldJPEG    = 6
	tiffJPEG       = 7
	tiffDeflate    = 8
	tiffPackBits   = 32773
	tiffDeflateOld = 32946

	photoWhiteIsZero = 0
	photoBlackIsZero = 1
	photoRGB         = 2
	photoPalette     = 3
	photoCMYK        = 5
	photoYCbCr       = 6
)

// xtiffTags are the tags golang.org/x/image/tiff reads; only they are
// copied into the IFD it is shown.
var xtiffTags = []uint16{tagImageWidth, tagImageLength, tagBitsPerSample, tagCompression, tagPhotometric,
	tagFillOrder, tagStripOffsets, tagSamplesPerPixel, tagRowsPerStrip, tagStripByteCounts, tagPredictor,
	tagColorMap, tagTileWidth, tagTileLength, tagTileOffsets, tagTileByteCounts, tagExtraSamples, tagSampleFormat}

// maxTIFFPixels bounds the pixels of all pages of one file together:
// pages are each within the page limit, and a file of 300 pages that all
// point at one well-compressed huge strip must not cost 300 decodes of it.
// It is 300 A4 pages at 400 ppi.
const maxTIFFPixels = 300 * 15_500_000

type tiffEntry struct {
	tag, typ uint16
	count    uint32
	field    [4]byte // the value, or the offset of the values, as stored
}

type tiffFile struct {
	data []byte
	bo   binary.ByteOrder
}

// tiffTypeSize is the size of a TIFF field type, 0 for types not read.
func tiffTypeSize(typ uint16) int {
	switch typ {
	case 1, 2, 6, 7: // BYTE, ASCII, SBYTE, UNDEFINED
		return 1
	case 3, 8: // SHORT, SSHORT
		return 2
	case 4, 9, 13: // LONG, SLONG, IFD
		return 4
	case 5, 10, 12: // RATIONAL, SRATIONAL, DOUBLE
		return 8
	case 11: // FLOAT
		return 4
	}
	return 0
}

var errTIFF = errors.New("malformed TIFF")

// bytesOf returns the stored values of e, checked to lie in the file.
func (t *tiffFile) bytesOf(e tiffEntry) ([]byte, error) {
	size := tiffTypeSize(e.typ)
	if size == 0 {
		return nil, fmt.Errorf("%w: tag %d has type %d", errTIFF, e.tag, e.typ)
	}
	n := int64(e.count) * int64(size)
	if n <= 4 {
		return e.field[:n], nil
	}
	off := int64(t.bo.Uint32(e.field[:]))
	if off < 8 || off+n > int64(len(t.data)) {
		return nil, fmt.Errorf("%w: tag %d points outside the file", errTIFF, e.tag)
	}
	return t.data[off : off+n], nil
}

// ints returns the values of an integer tag; at most max of them.
func (t *tiffFile) ints(e tiffEntry, max int) ([]uint32, error) {
	if e.typ != 1 && e.typ != 3 && e.typ != 4 {
		return nil, fmt.Errorf("%w: tag %d is not an integer (type %d)", errTIFF, e.tag, e.typ)
	}
	if int64(e.count) > int64(max) {
		return nil, fmt.Errorf("%w: tag %d has %d values, at most %d expected", errTIFF, e.tag, e.count, max)
	}
	b, err := t.bytesOf(e)
	if err != nil {
		return nil, err
	}
	out := make([]uint32, e.count)
	for i := range out {
		switch e.typ {
		case 1:
			out[i] = uint32(b[i])
		case 3:
			out[i] = uint32(t.bo.Uint16(b[2*i:]))
		case 4:
			out[i] = t.bo.Uint32(b[4*i:])
		}
	}
	return out, nil
}

// tiffPage is one IFD, read.
type tiffPage struct {
	offset  int64
	entries []tiffEntry
	tags    map[uint16]tiffEntry // the first entry of each tag
}

// first returns the first value of an integer tag, or def when absent.
func (t *tiffFile) first(p *tiffPage, tag uint16, def uint32) (uint32, error) {
	e, ok := p.tags[tag]
	if !ok {
		return def, nil
	}
	if e.count == 0 || e.typ != 1 && e.typ != 3 && e.typ != 4 {
		return 0, fmt.Errorf("%w: tag %d: %d values of type %d", errTIFF, tag, e.count, e.typ)
	}
	b, err := t.bytesOf(e)
	if err != nil {
		return 0, err
	}
	switch e.typ {
	case 1:
		return uint32(b[0]), nil
	case 3:
		return uint32(t.bo.Uint16(b)), nil
	}
	return t.bo.Uint32(b), nil
}

// readIFDs walks the IFD chain from the header, refusing loops, entries
// outside the file and more directories than the page limit allows.
func (t *tiffFile) readIFDs(maxIFDs int) ([]*tiffPage, error) {
	var pages []*tiffPage
	seen := map[uint32]bool{}
	off := t.bo.Uint32(t.data[4:])
	for off != 0 {
		if seen[off] {
			return nil, finding.Errorf(finding.CorruptFile, len(pages)+1, "", fmt.Errorf("%w: IFD chain loops", errTIFF))
		}
		seen[off] = true
		if len(pages) == maxIFDs {
			return nil, finding.Errorf(finding.TooManyPages, 0, fmt.Sprintf("> %d", maxIFDs), nil)
		}
		if int64(off)+2 > int64(len(t.data)) || off < 8 {
			return nil, finding.Errorf(finding.CorruptFile, len(pages)+1, "", fmt.Errorf("%w: IFD offset %d outside the file", errTIFF, off))
		}
		n := int(t.bo.Uint16(t.data[off:]))
		end := int64(off) + 2 + 12*int64(n)
		if n == 0 || end+4 > int64(len(t.data)) {
			return nil, finding.Errorf(finding.CorruptFile, len(pages)+1, "", fmt.Errorf("%w: IFD of %d entries at %d", errTIFF, n, off))
		}
		p := &tiffPage{offset: int64(off), tags: map[uint16]tiffEntry{}}
		for i := range n {
			b := t.data[int64(off)+2+12*int64(i):]
			e := tiffEntry{tag: t.bo.Uint16(b), typ: t.bo.Uint16(b[2:]), count: t.bo.Uint32(b[4:]), field: [4]byte(b[8:12])}
			p.entries = append(p.entries, e)
			if _, dup := p.tags[e.tag]; !dup {
				p.tags[e.tag] = e
			}
		}
		pages = append(pages, p)
		off = t.bo.Uint32(t.data[end:])
	}
	return pages, nil
}

func openTIFF(data []byte, lim Limits) ([]*Page, error) {
	if len(data) < 8 {
		return nil, finding.Errorf(finding.CorruptFile, 1, "", fmt.Errorf("%w: no header", errTIFF))
	}
	t := &tiffFile{data: data, bo: binary.LittleEndian}
	if data[0] == 'M' {
		t.bo = binary.BigEndian
	}
	if t.bo.Uint16(data[2:]) == 43 {
		return nil, finding.Errorf(finding.UnsupportedImageEncoding, 1, "BigTIFF", nil)
	}
	// Thumbnails (reduced-resolution images) are directories too: allow a
	// few beyond the pages.
	ifds, err := t.readIFDs(lim.MaxPages + 16)
	if err != nil {
		return nil, err
	}
	var pages []*Page
	var total int64
	for _, ifd := range ifds {
		sub, err := t.first(ifd, tagNewSubfileType, 0)
		if err != nil {
			return nil, finding.Errorf(finding.CorruptFile, len(pages)+1, "", err)
		}
		if sub&1 != 0 && len(ifds) > 1 {
			continue // a reduced-resolution copy of another page
		}
		n := len(pages) + 1
		if n > lim.MaxPages {
			return nil, finding.Errorf(finding.TooManyPages, 0, fmt.Sprintf("> %d", lim.MaxPages), nil)
		}
		p, err := t.page(ifd, n, lim)
		if err != nil {
			return nil, err
		}
		if total += int64(p.Width) * int64(p.Height); total > maxTIFFPixels {
			return nil, finding.Errorf(finding.ImageTooLarge, n, fmt.Sprintf("%d pixels in all pages", total), nil)
		}
		pages = append(pages, p)
	}
	if len(pages) == 0 {
		return nil, finding.Errorf(finding.CorruptFile, 1, "", fmt.Errorf("%w: no image", errTIFF))
	}
	return pages, nil
}

// page reads one IFD's header into a page that decodes on demand.
func (t *tiffFile) page(ifd *tiffPage, n int, lim Limits) (*Page, error) {
	corrupt := func(err error) error { return finding.Errorf(finding.CorruptFile, n, "", err) }
	unsupported := func(what string) error { return finding.Errorf(finding.UnsupportedImageEncoding, n, what, nil) }
	var v [8]uint32
	for i, tag := range []struct {
		tag uint16
		def uint32
	}{{tagImageWidth, 0}, {tagImageLength, 0}, {tagCompression, tiffNone}, {tagPhotometric, 99},
		{tagSamplesPerPixel, 1}, {tagPlanarConfig, 1}, {tagBitsPerSample, 1}, {tagSampleFormat, 1}} {
		var err error
		if v[i], err = t.first(ifd, tag.tag, tag.def); err != nil {
			return nil, corrupt(err)
		}
	}
	w, h, comp, photo, spp, planar, bps, format := int(v[0]), int(v[1]), v[2], v[3], v[4], v[5], v[6], v[7]
	if err := checkPixels(w, h, lim, n); err != nil {
		return nil, err
	}
	o, err := t.orientation(ifd, n)
	if err != nil {
		return nil, err
	}
	p := newPixelPage(n, w, h, o)
	switch {
	case format != 1:
		return nil, unsupported("floating-point or signed samples")
	case spp > 1 && planar == 2:
		return nil, unsupported("separate colour planes")
	case comp == tiffOldJPEG:
		return nil, unsupported("old-style JPEG (compression 6)")
	case comp == tiffG3:
		opts, err := t.first(ifd, tagT4Options, 0)
		if err != nil {
			return nil, corrupt(err)
		}
		if opts&1 != 0 {
			return nil, unsupported("CCITT Group 3 2-D")
		}
		if opts&4 != 0 {
			return nil, unsupported("CCITT Group 3 with fill bits")
		}
	case comp == tiffG4:
		if opts, err := t.first(ifd, tagT6Options, 0); err != nil {
			return nil, corrupt(err)
		} else if opts&2 != 0 {
			return nil, unsupported("CCITT Group 4 uncompressed mode")
		}
	case comp == tiffNone, comp == tiffLZW, comp == tiffDeflate, comp == tiffDeflateOld, comp == tiffPackBits, comp == tiffJPEG:
	default:
		return nil, unsupported(fmt.Sprintf("TIFF compression %d", comp))
	}
	switch photo {
	case photoWhiteIsZero, photoBlackIsZero, photoPalette:
		if spp != 1 {
			return nil, unsupported(fmt.Sprintf("%d samples per grey pixel", spp))
		}
	case photoRGB, photoYCbCr:
		p.Photographic = true
	case photoCMYK:
		if spp != 4 || bps != 8 {
			return nil, unsupported(fmt.Sprintf("CMYK of %d×%d bits", spp, bps))
		}
		p.Photographic = true
	default:
		return nil, unsupported(fmt.Sprintf("TIFF photometric interpretation %d", photo))
	}
	if comp == tiffJPEG {
		p.Photographic = true
		if bps != 8 || !(photo == photoBlackIsZero && spp == 1 || (photo == photoRGB || photo == photoYCbCr) && spp == 3) {
			return nil, unsupported(fmt.Sprintf("JPEG-in-TIFF of %d×%d bits, photometric %d", spp, bps, photo))
		}
		blocks, err := t.jpegBlocks(ifd, w, h)
		if err != nil {
			return nil, corrupt(err)
		}
		if p.JPEGInfo, err = blocks.check(t); err != nil {
			var fe *finding.Error
			if errors.As(err, &fe) {
				fe.Page = n
				return nil, fe
			}
			return nil, corrupt(err)
		}
		p.decode = func() (image.Image, error) { return blocks.decode(t, photo == photoBlackIsZero) }
		return p, nil
	}
	if photo == photoYCbCr {
		return nil, unsupported("YCbCr without JPEG compression")
	}
	view, err := t.view(ifd, photo == photoCMYK)
	if err != nil {
		return nil, corrupt(err)
	}
	// golang.org/x/image/tiff decodes a CCITT page marked BlackIsZero as
	// its negative (see ccittNegative).
	negative := (comp == tiffG3 || comp == tiffG4) && photo == photoBlackIsZero
	p.decode = func() (image.Image, error) { return decodeXTIFF(view, n, photo == photoCMYK, negative) }
	return p, nil
}

// orientation reads tag 274. Several entries, or several values, that
// disagree make the page ambiguous; a value outside 1–8 is taken as 1, as
// libtiff does.
func (t *tiffFile) orientation(ifd *tiffPage, n int) (Orientation, error) {
	var found []uint32
	for _, e := range ifd.entries {
		if e.tag != tagOrientation {
			continue
		}
		vals, err := t.ints(e, 8)
		if err != nil {
			return 0, finding.Errorf(finding.CorruptFile, n, "", err)
		}
		found = append(found, vals...)
	}
	slices.Sort(found)
	found = slices.Compact(found)
	switch {
	case len(found) > 1:
		return 0, finding.Errorf(finding.AmbiguousOrientation, n, fmt.Sprintf("TIFF orientation %v", found), nil)
	case len(found) == 1 && Orientation(found[0]).valid():
		return Orientation(found[0]), nil
	}
	return 1, nil
}

// view is the file as golang.org/x/image/tiff is to read it: the header
// points at a copy of the page's IFD, placed after the end of the file,
// holding only the tags that decoder reads, sorted and once each. A CMYK
// page is shown as RGB with an unassociated fourth sample, which that
// decoder stores untouched as *image.NRGBA.
func (t *tiffFile) view(ifd *tiffPage, cmyk bool) (*tiffView, error) {
	var entries []tiffEntry
	for _, tag := range xtiffTags {
		e, ok := ifd.tags[tag]
		if !ok {
			continue
		}
		if cmyk && tag == tagPhotometric {
			e = tiffEntry{tag: tag, typ: 3, count: 1}
			t.bo.PutUint16(e.field[:], photoRGB)
		}
		if cmyk && tag == tagExtraSamples {
			continue
		}
		entries = append(entries, e)
	}
	if cmyk {
		e := tiffEntry{tag: tagExtraSamples, typ: 3, count: 1}
		t.bo.PutUint16(e.field[:], 2)
		entries = append(entries, e)
	}
	slices.SortFunc(entries, func(a, b tiffEntry) int { return int(a.tag) - int(b.tag) })
	ifdBytes := make([]byte, 2+12*len(entries)+4)
	t.bo.PutUint16(ifdBytes, uint16(len(entries)))
	for i, e := range entries {
		b := ifdBytes[2+12*i:]
		t.bo.PutUint16(b, e.tag)
		t.bo.PutUint16(b[2:], e.typ)
		t.bo.PutUint32(b[4:], e.count)
		copy(b[8:12], e.field[:])
	}
	at := (int64(len(t.data)) + 1) &^ 1
	if at > 1<<32-int64(len(ifdBytes)) {
		return nil, fmt.Errorf("%w: file too large for a TIFF", errTIFF)
	}
	v := &tiffView{data: t.data, ifd: ifdBytes, at: at}
	copy(v.header[:4], t.data[:4])
	t.bo.PutUint32(v.header[4:], uint32(at))
	return v, nil
}

// tiffView is a TIFF file with its header replaced and an IFD appended.
type tiffView struct {
	data   []byte
	header [8]byte
	ifd    []byte
	at     int64
}

// ReadAt reads the view: the new header, the file, a byte of padding and
// the new IFD.
func (v *tiffView) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("tiff view: negative offset")
	}
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		var src []byte
		switch {
		case pos < 8:
			src = v.header[pos:]
		case pos < int64(len(v.data)):
			src = v.data[pos:]
		case pos < v.at:
			src = []byte{0}
		case pos < v.at+int64(len(v.ifd)):
			src = v.ifd[pos-v.at:]
		default:
			return n, io.EOF
		}
		n += copy(p[n:], src)
	}
	return n, nil
}

// Read is never called by the decoder, which reads at offsets; it is
// there to make a *tiffView an io.Reader.
func (v *tiffView) Read([]byte) (int, error) { return 0, errors.New("tiff view: Read") }

func decodeXTIFF(v *tiffView, n int, cmyk, negative bool) (img image.Image, err error) {
	defer func() {
		// golang.org/x/image/tiff is fuzzed upstream, but a panic on a file
		// it has never seen must still be a finding.
		if r := recover(); r != nil {
			img, err = nil, finding.Errorf(finding.CorruptFile, n, "", fmt.Errorf("tiff decoder panic: %v", r))
		}
	}()
	img, err = xtiff.Decode(v)
	if err != nil {
		var u xtiff.UnsupportedError
		return nil, imageErr(n, err, errors.As(err, &u), "TIFF "+string(u))
	}
	if cmyk {
		m, ok := img.(*image.NRGBA)
		if !ok {
			return nil, finding.Errorf(finding.UnsupportedImageEncoding, n, "16-bit CMYK", nil)
		}
		return &image.CMYK{Pix: m.Pix, Stride: m.Stride, Rect: m.Rect}, nil
	}
	img = opaque(img)
	if g, ok := img.(*image.Gray); ok && negative {
		ccittNegative(g)
	}
	return img, nil
}

// ccittNegative works around a golang.org/x/image/tiff bug (v0.48.0): in
// CCITT data a white run is a 0 bit of the raster, whatever the page's
// photometric interpretation says (libtiff's fax codec, and so every TIFF
// a scanner or libtiff writes); x/image/tiff decodes white runs to 1 bits
// when the page is BlackIsZero, so such a page comes out as its negative.
// Turning it back here keeps the workaround in one place.
func ccittNegative(g *image.Gray) {
	for y := range g.Rect.Dy() {
		row := g.Pix[y*g.Stride:][:g.Rect.Dx()]
		for x, v := range row {
			row[x] = 255 - v
		}
	}
}

// tiffJPEGPage is a JPEG-compressed page: its blocks (strips or tiles) and
// the tables they share.
type tiffJPEGPage struct {
	width, height int
	blockW        int
	blockH        int
	across        int
	offsets       []uint32
	counts        []uint32
	tables        []byte // JPEGTables without its SOI and EOI, or nil
}

func (t *tiffFile) jpegBlocks(ifd *tiffPage, w, h int) (*tiffJPEGPage, error) {
	b := &tiffJPEGPage{width: w, height: h, blockW: w, blockH: h, across: 1}
	offTag, countTag := uint16(tagStripOffsets), uint16(tagStripByteCounts)
	if _, tiled := ifd.tags[tagTileWidth]; tiled {
		tw, err := t.first(ifd, tagTileWidth, 0)
		if err != nil {
			return nil, err
		}
		th, err := t.first(ifd, tagTileLength, 0)
		if err != nil {
			return nil, err
		}
		if tw < 8 || th < 8 || tw > 4096 || th > 4096 {
			return nil, fmt.Errorf("%w: tiles of %d×%d", errTIFF, tw, th)
		}
		b.blockW, b.blockH = int(tw), int(th)
		b.across = (w + b.blockW - 1) / b.blockW
		offTag, countTag = tagTileOffsets, tagTileByteCounts
	} else {
		rows, err := t.first(ifd, tagRowsPerStrip, uint32(h))
		if err != nil {
			return nil, err
		}
		if rows < 8 && int(rows) < h {
			return nil, fmt.Errorf("%w: %d rows per JPEG strip", errTIFF, rows)
		}
		b.blockH = min(h, int(max(rows, 1)))
	}
	blocks := b.across * ((h + b.blockH - 1) / b.blockH)
	oe, ok1 := ifd.tags[offTag]
	ce, ok2 := ifd.tags[countTag]
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%w: no strip or tile offsets", errTIFF)
	}
	var err error
	if b.offsets, err = t.ints(oe, blocks); err != nil {
		return nil, err
	}
	if b.counts, err = t.ints(ce, blocks); err != nil {
		return nil, err
	}
	if len(b.offsets) != blocks || len(b.counts) != blocks {
		return nil, fmt.Errorf("%w: %d offsets and %d counts for %d blocks", errTIFF, len(b.offsets), len(b.counts), blocks)
	}
	for i := range b.offsets {
		if int64(b.offsets[i])+int64(b.counts[i]) > int64(len(t.data)) || b.counts[i] < 4 {
			return nil, fmt.Errorf("%w: block %d outside the file", errTIFF, i)
		}
	}
	if e, ok := ifd.tags[tagJPEGTables]; ok {
		tb, err := t.bytesOf(e)
		if err != nil {
			return nil, err
		}
		if len(tb) < 4 || tb[0] != 0xFF || tb[1] != 0xD8 || tb[len(tb)-2] != 0xFF || tb[len(tb)-1] != 0xD9 {
			return nil, fmt.Errorf("%w: JPEGTables is not a tables-only JPEG", errTIFF)
		}
		b.tables = tb[2 : len(tb)-2]
	}
	return b, nil
}

// block returns block i as a whole JPEG: start of image, the shared
// tables, then the block's own segments and data.
func (b *tiffJPEGPage) block(t *tiffFile, i int) ([]byte, error) {
	seg := t.data[b.offsets[i] : b.offsets[i]+b.counts[i]]
	if seg[0] != 0xFF || seg[1] != 0xD8 {
		return nil, fmt.Errorf("%w: JPEG block %d has no start-of-image", errTIFF, i)
	}
	out := make([]byte, 0, 2+len(b.tables)+len(seg))
	out = append(out, 0xFF, 0xD8)
	out = append(out, b.tables...)
	return append(out, seg[2:]...), nil
}

// size is the size block i must decode to: tiles are whole, the last
// strip may be cut to the image.
func (b *tiffJPEGPage) size(i int) (image.Rectangle, []int) {
	x0, y0 := (i%b.across)*b.blockW, (i/b.across)*b.blockH
	r := image.Rect(x0, y0, x0+b.blockW, y0+b.blockH)
	if b.across == 1 && b.blockW == b.width { // strips
		return r.Intersect(image.Rect(0, 0, b.width, b.height)), []int{b.blockH, min(b.blockH, b.height-y0)}
	}
	return r, []int{b.blockH}
}

// check walks every block's markers (no decoding) to prove each a JPEG of
// the block's size, and returns the first block's header, whose
// quantisation tables tell how hard the page was compressed.
func (b *tiffJPEGPage) check(t *tiffFile) (JPEGInfo, error) {
	var first JPEGInfo
	for i := range b.offsets {
		data, err := b.block(t, i)
		if err != nil {
			return first, err
		}
		_, info, err := stripJPEG(data, true) // only its reading: no copy
		if err != nil {
			var u unsupportedJPEGError
			if errors.As(err, &u) {
				return first, finding.Errorf(finding.UnsupportedImageEncoding, 0, string(u), err)
			}
			return first, err
		}
		r, heights := b.size(i)
		if info.Width != r.Dx() && info.Width != b.blockW || !slices.Contains(heights, info.Height) {
			return first, fmt.Errorf("%w: JPEG block %d is %dx%d, expected %dx%v", errTIFF, i, info.Width, info.Height, r.Dx(), heights)
		}
		if i == 0 {
			first = info
		}
	}
	first.Width, first.Height = b.width, b.height
	return first, nil
}

// decode decodes every block into the page.
func (b *tiffJPEGPage) decode(t *tiffFile, grey bool) (image.Image, error) {
	rect := image.Rect(0, 0, b.width, b.height)
	var page draw.Image
	if grey {
		page = image.NewGray(rect)
	} else {
		page = image.NewRGBA(rect)
	}
	for i := range b.offsets {
		data, err := b.block(t, i)
		if err != nil {
			return nil, err
		}
		img, err := jpegcodec.Decode(data)
		if err != nil {
			return nil, err
		}
		r, _ := b.size(i)
		r = r.Intersect(rect)
		if img.Bounds().Dx() < r.Dx() || img.Bounds().Dy() < r.Dy() {
			return nil, fmt.Errorf("%w: JPEG block %d decoded to %v", errTIFF, i, img.Bounds())
		}
		if g, ok := page.(*image.Gray); ok {
			src := jpegcodec.Gray(img)
			for y := r.Min.Y; y < r.Max.Y; y++ {
				copy(g.Pix[g.PixOffset(r.Min.X, y):][:r.Dx()], src.Pix[src.PixOffset(src.Rect.Min.X, src.Rect.Min.Y+y-r.Min.Y):])
			}
			continue
		}
		draw.Draw(page, r, img, img.Bounds().Min, draw.Src)
	}
	if g, ok := page.(*image.Gray); ok {
		return g, nil
	}
	return opaque(page), nil
}
