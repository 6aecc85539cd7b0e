package scan

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"slices"

	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/scan/heif"
)

// A HEIC file is read in two steps. Its boxes are walked here first, with
// every size and count checked: which item is the primary image, what it is
// coded with, its size (ispe) and its tiles, its rotation and mirroring
// (irot, imir, in the order the file lists them) and the orientation of any
// EXIF block attached to it. Only then is it handed to libheif, in the
// WebAssembly sandbox of package heif, which decodes the primary image and
// turns it as the file says.
//
// Which way up: the HEIF standard makes irot/imir the orientation, and
// every HEIF viewer (libheif, macOS and iOS, Windows) applies them. iPhones
// write the same turn a second time as EXIF orientation, which a viewer
// must not apply again; libheif's encoder writes EXIF orientation 1. So an
// EXIF orientation of 1, or one equal to what irot/imir do, agrees; any
// other value means viewers that read EXIF show the page differently, and
// the file is refused as ambiguous rather than guessed.

var errHEIF = errors.New("malformed HEIF")

// Bounds on what a HEIF header may make us read: iPhone photos have about
// 60 items (48 tiles, a thumbnail, EXIF), 200 for a 48-Mpx ProRAW-size
// grid.
const (
	maxHEIFBoxes      = 10_000
	maxHEIFItems      = 4096
	maxHEIFProperties = 4096
	maxHEIFTiles      = 2048
	maxHEIFDepth      = 8
)

type heifBox struct {
	typ  string
	body []byte // after the header (and, for full boxes, not yet past version/flags)
}

type heifReader struct {
	boxes int
}

// children splits data into boxes.
func (r *heifReader) children(data []byte) ([]heifBox, error) {
	var out []heifBox
	for len(data) > 0 {
		if r.boxes++; r.boxes > maxHEIFBoxes {
			return nil, fmt.Errorf("%w: more than %d boxes", errHEIF, maxHEIFBoxes)
		}
		if len(data) < 8 {
			return nil, fmt.Errorf("%w: truncated box header", errHEIF)
		}
		size := uint64(binary.BigEndian.Uint32(data))
		typ := string(data[4:8])
		hdr := uint64(8)
		switch size {
		case 0:
			size = uint64(len(data))
		case 1:
			if len(data) < 16 {
				return nil, fmt.Errorf("%w: truncated large box header", errHEIF)
			}
			size, hdr = binary.BigEndian.Uint64(data[8:]), 16
		}
		if size < hdr || size > uint64(len(data)) {
			return nil, fmt.Errorf("%w: box %q of %d bytes in %d", errHEIF, typ, size, len(data))
		}
		out = append(out, heifBox{typ: typ, body: data[hdr:size]})
		data = data[size:]
	}
	return out, nil
}

// full splits a full box's version and flags from its body.
func full(b []byte) (version byte, flags uint32, rest []byte, err error) {
	if len(b) < 4 {
		return 0, 0, nil, fmt.Errorf("%w: truncated full box", errHEIF)
	}
	return b[0], binary.BigEndian.Uint32(b) & 0xFFFFFF, b[4:], nil
}

// cursor reads big-endian fields, remembering the first overrun.
type cursor struct {
	b   []byte
	err error
}

func (c *cursor) uint(n int) uint64 {
	if n == 0 {
		return 0
	}
	if c.err != nil || len(c.b) < n {
		c.err = fmt.Errorf("%w: truncated field", errHEIF)
		return 0
	}
	var v uint64
	for _, x := range c.b[:n] {
		v = v<<8 | uint64(x)
	}
	c.b = c.b[n:]
	return v
}

// heifItem is what the header says of one item.
type heifItem struct {
	typ     string
	props   []int // 1-based indices into ipco, in ipma order
	extents [][2]uint64
	method  uint64 // iloc construction method: 0 file offset, 1 idat
	base    uint64
}

type heifFile struct {
	data    []byte
	primary uint32
	items   map[uint32]*heifItem
	props   []heifBox
	refs    map[string]map[uint32][]uint32 // type → from → to
	idat    []byte
}

func parseHEIF(data []byte) (*heifFile, error) {
	r := &heifReader{}
	top, err := r.children(data)
	if err != nil {
		return nil, err
	}
	h := &heifFile{data: data, items: map[uint32]*heifItem{}, refs: map[string]map[uint32][]uint32{}}
	var meta []byte
	for _, b := range top {
		if b.typ == "meta" {
			if meta != nil {
				return nil, fmt.Errorf("%w: two meta boxes", errHEIF)
			}
			meta = b.body
		}
	}
	if meta == nil {
		return nil, fmt.Errorf("%w: no meta box", errHEIF)
	}
	_, _, body, err := full(meta)
	if err != nil {
		return nil, err
	}
	boxes, err := r.children(body)
	if err != nil {
		return nil, err
	}
	item := func(id uint32) *heifItem {
		it := h.items[id]
		if it == nil {
			it = &heifItem{}
			h.items[id] = it
		}
		return it
	}
	sawPrimary := false
	for _, b := range boxes {
		switch b.typ {
		case "pitm":
			v, _, rest, err := full(b.body)
			if err != nil {
				return nil, err
			}
			c := cursor{b: rest}
			h.primary = uint32(c.uint(map[bool]int{true: 2, false: 4}[v == 0]))
			if c.err != nil {
				return nil, c.err
			}
			sawPrimary = true
		case "iinf":
			if err := h.readIINF(r, b.body, item); err != nil {
				return nil, err
			}
		case "iloc":
			if err := h.readILOC(b.body, item); err != nil {
				return nil, err
			}
		case "iref":
			if err := h.readIREF(r, b.body); err != nil {
				return nil, err
			}
		case "iprp":
			if err := h.readIPRP(r, b.body, item); err != nil {
				return nil, err
			}
		case "idat":
			h.idat = b.body
		}
	}
	if !sawPrimary || h.items[h.primary] == nil || h.items[h.primary].typ == "" {
		return nil, fmt.Errorf("%w: no primary image", errHEIF)
	}
	if len(h.items) > maxHEIFItems {
		return nil, fmt.Errorf("%w: more than %d items", errHEIF, maxHEIFItems)
	}
	return h, nil
}

func (h *heifFile) readIINF(r *heifReader, body []byte, item func(uint32) *heifItem) error {
	v, _, rest, err := full(body)
	if err != nil {
		return err
	}
	c := cursor{b: rest}
	n := c.uint(map[bool]int{true: 2, false: 4}[v == 0])
	if c.err != nil {
		return c.err
	}
	if n > maxHEIFItems {
		return fmt.Errorf("%w: %d items", errHEIF, n)
	}
	infes, err := r.children(c.b)
	if err != nil {
		return err
	}
	for _, b := range infes {
		if b.typ != "infe" {
			continue
		}
		v, _, rest, err := full(b.body)
		if err != nil {
			return err
		}
		if v < 2 {
			continue // item info of version 0 and 1 names no item type
		}
		c := cursor{b: rest}
		id := uint32(c.uint(map[bool]int{true: 2, false: 4}[v == 2]))
		c.uint(2) // protection index
		typ := c.uint(4)
		if c.err != nil {
			return c.err
		}
		if len(h.items) >= maxHEIFItems && h.items[id] == nil {
			return fmt.Errorf("%w: more than %d items", errHEIF, maxHEIFItems)
		}
		item(id).typ = string(binary.BigEndian.AppendUint32(nil, uint32(typ)))
	}
	return nil
}

func (h *heifFile) readILOC(body []byte, item func(uint32) *heifItem) error {
	v, _, rest, err := full(body)
	if err != nil {
		return err
	}
	if v > 2 {
		return fmt.Errorf("%w: iloc version %d", errHEIF, v)
	}
	c := cursor{b: rest}
	sizes := c.uint(2)
	offSize, lenSize, baseSize, idxSize := int(sizes>>12), int(sizes>>8&15), int(sizes>>4&15), int(sizes&15)
	if v == 0 {
		idxSize = 0
	}
	for _, s := range []int{offSize, lenSize, baseSize, idxSize} {
		if s != 0 && s != 4 && s != 8 {
			return fmt.Errorf("%w: iloc field size %d", errHEIF, s)
		}
	}
	n := c.uint(map[bool]int{true: 2, false: 4}[v < 2])
	if n > maxHEIFItems {
		return fmt.Errorf("%w: iloc of %d items", errHEIF, n)
	}
	for range n {
		id := uint32(c.uint(map[bool]int{true: 2, false: 4}[v < 2]))
		var method uint64
		if v >= 1 {
			method = c.uint(2) & 15
		}
		c.uint(2) // data reference index
		base := c.uint(baseSize)
		extents := c.uint(2)
		if c.err != nil {
			return c.err
		}
		if len(h.items) >= maxHEIFItems && h.items[id] == nil {
			return fmt.Errorf("%w: more than %d items", errHEIF, maxHEIFItems)
		}
		it := item(id)
		it.method, it.base, it.extents = method, base, nil
		for range extents {
			c.uint(idxSize)
			off, length := c.uint(offSize), c.uint(lenSize)
			if c.err != nil {
				return c.err
			}
			it.extents = append(it.extents, [2]uint64{off, length})
		}
	}
	return c.err
}

func (h *heifFile) readIREF(r *heifReader, body []byte) error {
	v, _, rest, err := full(body)
	if err != nil {
		return err
	}
	refs, err := r.children(rest)
	if err != nil {
		return err
	}
	idSize := map[bool]int{true: 2, false: 4}[v == 0]
	for _, b := range refs {
		c := cursor{b: b.body}
		from := uint32(c.uint(idSize))
		n := c.uint(2)
		if c.err != nil {
			return c.err
		}
		if h.refs[b.typ] == nil {
			h.refs[b.typ] = map[uint32][]uint32{}
		}
		if n > maxHEIFTiles || len(h.refs[b.typ][from])+int(n) > maxHEIFTiles {
			return fmt.Errorf("%w: %d references", errHEIF, n)
		}
		for range n {
			h.refs[b.typ][from] = append(h.refs[b.typ][from], uint32(c.uint(idSize)))
		}
		if c.err != nil {
			return c.err
		}
	}
	return nil
}

func (h *heifFile) readIPRP(r *heifReader, body []byte, item func(uint32) *heifItem) error {
	boxes, err := r.children(body)
	if err != nil {
		return err
	}
	for _, b := range boxes {
		switch b.typ {
		case "ipco":
			props, err := r.children(b.body)
			if err != nil {
				return err
			}
			if len(props) > maxHEIFProperties {
				return fmt.Errorf("%w: %d properties", errHEIF, len(props))
			}
			h.props = append(h.props, props...)
		case "ipma":
			v, flags, rest, err := full(b.body)
			if err != nil {
				return err
			}
			c := cursor{b: rest}
			n := c.uint(4)
			if n > maxHEIFItems {
				return fmt.Errorf("%w: ipma of %d items", errHEIF, n)
			}
			for range n {
				id := uint32(c.uint(map[bool]int{true: 2, false: 4}[v < 1]))
				k := c.uint(1)
				if c.err != nil {
					return c.err
				}
				if len(h.items) >= maxHEIFItems && h.items[id] == nil {
					return fmt.Errorf("%w: more than %d items", errHEIF, maxHEIFItems)
				}
				it := item(id)
				for range k {
					var idx uint64
					if flags&1 != 0 {
						idx = c.uint(2) & 0x7FFF
					} else {
						idx = c.uint(1) & 0x7F
					}
					if idx != 0 {
						it.props = append(it.props, int(idx))
					}
				}
				if c.err != nil {
					return c.err
				}
			}
		}
	}
	return nil
}

// prop returns the properties of item of type typ, in association order.
func (h *heifFile) prop(it *heifItem, typ string) []heifBox {
	var out []heifBox
	for _, i := range it.props {
		if i >= 1 && i <= len(h.props) && h.props[i-1].typ == typ {
			out = append(out, h.props[i-1])
		}
	}
	return out
}

// size is an item's ispe.
func (h *heifFile) size(it *heifItem) (int, int, error) {
	ps := h.prop(it, "ispe")
	if len(ps) == 0 {
		return 0, 0, fmt.Errorf("%w: image without ispe", errHEIF)
	}
	_, _, rest, err := full(ps[0].body)
	if err != nil {
		return 0, 0, err
	}
	c := cursor{b: rest}
	w, ht := c.uint(4), c.uint(4)
	if c.err != nil {
		return 0, 0, c.err
	}
	return int(min(w, 1<<31)), int(min(ht, 1<<31)), nil
}

// transform is the orientation, in EXIF's terms, that the item's irot and
// imir properties give, applied in the order they are listed.
func (h *heifFile) transform(it *heifItem) (Orientation, error) {
	m := [4]int{1, 0, 0, 1} // x' = m0 x + m1 y, y' = m2 x + m3 y; y grows down
	for _, i := range it.props {
		if i < 1 || i > len(h.props) {
			continue
		}
		p := h.props[i-1]
		var step [4]int
		switch p.typ {
		case "irot":
			if len(p.body) < 1 {
				return 0, fmt.Errorf("%w: empty irot", errHEIF)
			}
			// Anticlockwise, in quarter turns.
			step = [][4]int{{1, 0, 0, 1}, {0, 1, -1, 0}, {-1, 0, 0, -1}, {0, -1, 1, 0}}[p.body[0]&3]
		case "imir":
			if len(p.body) < 1 {
				return 0, fmt.Errorf("%w: empty imir", errHEIF)
			}
			// Axis 0 is vertical: left and right swap.
			step = [][4]int{{-1, 0, 0, 1}, {1, 0, 0, -1}}[p.body[0]&1]
		default:
			continue
		}
		m = [4]int{step[0]*m[0] + step[1]*m[2], step[0]*m[1] + step[1]*m[3], step[2]*m[0] + step[3]*m[2], step[2]*m[1] + step[3]*m[3]}
	}
	for o, want := range map[Orientation][4]int{
		1: {1, 0, 0, 1}, 2: {-1, 0, 0, 1}, 3: {-1, 0, 0, -1}, 4: {1, 0, 0, -1},
		5: {0, 1, 1, 0}, 6: {0, -1, 1, 0}, 7: {0, -1, -1, 0}, 8: {0, 1, -1, 0},
	} {
		if m == want {
			return o, nil
		}
	}
	return 0, fmt.Errorf("%w: transform %v", errHEIF, m)
}

// itemData returns an item's bytes from the file or the idat box, bounded.
func (h *heifFile) itemData(it *heifItem, limit uint64) ([]byte, error) {
	src := h.data
	if it.method == 1 {
		src = h.idat
	} else if it.method != 0 {
		return nil, fmt.Errorf("%w: item construction method %d", errHEIF, it.method)
	}
	var out []byte
	for _, e := range it.extents {
		off, n := it.base+e[0], e[1]
		if n == 0 { // to the end of the source
			if off > uint64(len(src)) {
				return nil, fmt.Errorf("%w: item extent outside the file", errHEIF)
			}
			n = uint64(len(src)) - off
		}
		if off > uint64(len(src)) || n > uint64(len(src))-off || uint64(len(out))+n > limit {
			return nil, fmt.Errorf("%w: item extent outside the file", errHEIF)
		}
		out = append(out, src[off:off+n]...)
	}
	return out, nil
}

// exifOrientations are the orientations of the EXIF blocks describing the
// primary image, one per block that has one.
func (h *heifFile) exifOrientations() []Orientation {
	var out []Orientation
	ids := make([]uint32, 0, len(h.items))
	for id := range h.items {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		it := h.items[id]
		if it.typ != "Exif" || !slices.Contains(h.refs["cdsc"][id], h.primary) {
			continue
		}
		b, err := h.itemData(it, 1<<20)
		if err != nil || len(b) < 4 {
			continue
		}
		off := uint64(binary.BigEndian.Uint32(b))
		if off > uint64(len(b)-4) {
			continue
		}
		if o := exifOrientation(b[4+off:]); o != 0 {
			out = append(out, o)
		}
	}
	return out
}

// heicHeader checks a HEIF file's primary image before it is decoded: its
// coding, its size and its tiles within the limits, its orientation
// unambiguous. It returns the displayed size the header promises.
func heicHeader(data []byte, lim Limits) (w, h int, err error) {
	f, err := parseHEIF(data)
	if err != nil {
		return 0, 0, finding.Errorf(finding.CorruptFile, 1, "", err)
	}
	primary := f.items[f.primary]
	switch primary.typ {
	case "hvc1":
	case "grid":
		tiles := f.refs["dimg"][f.primary]
		if len(tiles) == 0 {
			return 0, 0, finding.Errorf(finding.CorruptFile, 1, "", fmt.Errorf("%w: grid without tiles", errHEIF))
		}
		var pixels int64
		for _, id := range tiles {
			t := f.items[id]
			if t == nil || t.typ != "hvc1" {
				typ := "?"
				if t != nil {
					typ = t.typ
				}
				return 0, 0, finding.Errorf(finding.UnsupportedImageEncoding, 1, "HEIF grid of "+typ, nil)
			}
			tw, th, err := f.size(t)
			if err != nil {
				return 0, 0, finding.Errorf(finding.CorruptFile, 1, "", err)
			}
			if pixels += int64(tw) * int64(th); pixels > 2*lim.MaxPagePixels {
				return 0, 0, finding.Errorf(finding.ImageTooLarge, 1, fmt.Sprintf("%d tiles of %d×%d", len(tiles), tw, th), nil)
			}
		}
	case "av01":
		return 0, 0, finding.Errorf(finding.UnsupportedImageEncoding, 1, "AVIF (AV1)", nil)
	default:
		return 0, 0, finding.Errorf(finding.UnsupportedImageEncoding, 1, "HEIF item "+primary.typ, nil)
	}
	sw, sh, err := f.size(primary)
	if err != nil {
		return 0, 0, finding.Errorf(finding.CorruptFile, 1, "", err)
	}
	o, err := f.transform(primary)
	if err != nil {
		return 0, 0, finding.Errorf(finding.CorruptFile, 1, "", err)
	}
	if o.Swapped() {
		sw, sh = sh, sw
	}
	if err := checkPixels(sw, sh, lim, 1); err != nil {
		return 0, 0, err
	}
	exif := f.exifOrientations()
	for _, e := range exif {
		if e != 1 && e != o {
			return 0, 0, finding.Errorf(finding.AmbiguousOrientation, 1,
				fmt.Sprintf("HEIF irot/imir say %d, EXIF says %d", o, e), nil)
		}
	}
	return sw, sh, nil
}

// heifErr maps the sandbox's failures to findings: a file libheif cannot
// read is corrupt, one that runs it out of time or memory is a bomb, and
// anything else (the module failed to compile or start) is the engine's
// failure, not the file's.
func heifErr(err error) error {
	switch {
	case errors.Is(err, heif.ErrDecode):
		return finding.Errorf(finding.CorruptFile, 1, "", err)
	case errors.Is(err, heif.ErrTimeout), errors.Is(err, heif.ErrMemory):
		return finding.Errorf(finding.DecompressionLimit, 1, "", err)
	}
	return fmt.Errorf("%w: heic: %w", ErrEngine, err)
}

func openHEIC(data []byte, lim Limits) (*Page, error) {
	w, h, err := heicHeader(data, lim)
	if err != nil {
		return nil, err
	}
	hl := heif.Limits{MaxPixels: lim.MaxPagePixels}
	// libheif's own reading of the header gives the size as displayed,
	// a clean-aperture crop included.
	info, err := heif.Config(context.Background(), data, hl)
	if err != nil {
		return nil, heifErr(err)
	}
	if info.Width > w || info.Height > h || info.Width < 1 || info.Height < 1 {
		return nil, finding.Errorf(finding.CorruptFile, 1, "", fmt.Errorf("%w: libheif reads %dx%d, the header %dx%d", errHEIF, info.Width, info.Height, w, h))
	}
	p := newPixelPage(1, info.Width, info.Height, 1)
	p.Photographic = true
	p.decode = func() (image.Image, error) {
		img, err := heif.Decode(context.Background(), data, hl)
		if err != nil {
			return nil, heifErr(err)
		}
		return opaque(img), nil
	}
	return p, nil
}
