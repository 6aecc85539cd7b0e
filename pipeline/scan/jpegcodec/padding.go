package jpegcodec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// The padding blocks of a JPEG are the blocks of an interleaved scan's
// last MCU row and column that lie wholly outside the image (a YCbCr 4:2:0
// image whose luminance is an odd number of blocks wide or high has them).
// No decoder shows them, so they could carry pixels of anything. libjpeg
// writes each one as its neighbour's DC and no AC coefficient, both when it
// encodes pixels and when it rewrites coefficients (Canonical): a DC
// difference of 0 and an end of block straight away. image/jpeg fills them
// with the image's edge pixels; Encode writes them again as libjpeg does
// (padLikeLibjpeg), so that both builds write the one form the packet
// verifier accepts (CheckPadding).

// jpegHuff is a Huffman table of a DHT segment, for decoding.
type jpegHuff struct {
	code    [256]uint32    // symbol → length<<16 | code, for writing; 0: none
	lut     [1 << 9]uint16 // first 9 bits → length<<8 | symbol; 0: a longer code
	maxcode [17]int32      // largest code of each length, -1 for none
	valptr  [17]int32      // index in vals of the first code of each length
	mincode [17]int32
	vals    []byte
}

func newJPEGHuff(counts []byte, vals []byte) (*jpegHuff, error) {
	h := &jpegHuff{vals: vals}
	code, k := int32(0), int32(0)
	for l := 1; l <= 16; l++ {
		n := int32(counts[l-1])
		h.maxcode[l] = -1
		if n > 0 {
			h.valptr[l], h.mincode[l] = k, code
			for i := range n {
				h.code[vals[k+i]] = uint32(l)<<16 | uint32(code+i)
				if l <= 9 {
					c := int(code+i) << (9 - l)
					for j := range 1 << (9 - l) {
						h.lut[c+j] = uint16(l)<<8 | uint16(vals[k+i])
					}
				}
			}
			code += n
			k += n
			h.maxcode[l] = code - 1
		}
		if code > 1<<l {
			return nil, errors.New("a Huffman table with too many codes")
		}
		code <<= 1
	}
	return h, nil
}

// jpegBits reads unstuffed entropy-coded data, most significant bit first.
type jpegBits struct {
	b   []byte
	pos int    // next byte of b to load
	acc uint64 // bits not yet read, at the top
	n   uint   // how many
}

func (r *jpegBits) fill() {
	if r.pos+8 <= len(r.b) {
		// Eight bytes at once; the bits beyond the whole bytes taken are
		// the ones the next fill puts in the same places.
		r.acc |= binary.BigEndian.Uint64(r.b[r.pos:]) >> r.n
		r.pos += int(63-r.n) >> 3
		r.n |= 56
		return
	}
	for r.n <= 56 {
		var x byte
		if r.pos < len(r.b) {
			x = r.b[r.pos]
		}
		r.pos++ // past the end: zeros, caught by overrun
		r.acc |= uint64(x) << (56 - r.n)
		r.n += 8
	}
}

func (r *jpegBits) take(k uint) uint64 {
	if k == 0 {
		return 0
	}
	if r.n < k {
		r.fill()
	}
	v := r.acc >> (64 - k)
	r.acc <<= k
	r.n -= k
	return v
}

// overrun reports whether more bits were read than the data holds.
func (r *jpegBits) overrun() bool { return 8*r.pos-int(r.n) > 8*len(r.b) }

func (r *jpegBits) symbol(h *jpegHuff) (byte, error) {
	if r.n < 16 {
		r.fill()
	}
	if e := h.lut[r.acc>>(64-9)]; e != 0 {
		r.acc <<= e >> 8
		r.n -= uint(e >> 8)
		return byte(e), nil
	}
	for l := 10; l <= 16; l++ {
		c := int32(r.acc >> (64 - l))
		if c <= h.maxcode[l] {
			r.acc <<= l
			r.n -= uint(l)
			return h.vals[h.valptr[l]+c-h.mincode[l]], nil
		}
	}
	return 0, errors.New("bad Huffman code")
}

// CheckPadding checks the padding blocks of a baseline or extended
// sequential JPEG with one scan: tables holds each DHT segment's body,
// frame the SOF body, scan the SOS body and data the entropy-coded bytes
// that follow it, up to the next marker, none of which but stuffed 0xFF
// 0x00. Every padding block must be as libjpeg writes it, and nothing but
// the bits that fill the last byte may follow the last block. A JPEG
// without padding blocks (one component, or whole MCUs) is not walked.
func CheckPadding(tables [][]byte, frame, scan, data []byte) error {
	_, err := walkPadding(tables, frame, scan, data, false)
	return err
}

// walkPadding is CheckPadding, or with fix the entropy-coded data written
// again with every padding block as libjpeg writes it (nil when there are
// none).
func walkPadding(tables [][]byte, frame, scan, data []byte, fix bool) ([]byte, error) {
	if len(frame) < 6 || len(frame) < 6+3*int(frame[5]) || len(scan) < 1 || len(scan) < 1+2*int(scan[0]) {
		return nil, errors.New("short frame or scan header")
	}
	h, w, nf := int(binary.BigEndian.Uint16(frame[1:])), int(binary.BigEndian.Uint16(frame[3:])), int(frame[5])
	type comp struct {
		id, hs, vs int
		bw, bh     int // blocks holding visible samples
		dc, ac     *jpegHuff
		predIn     int // DC predictions of the data read and written
		predOut    int
	}
	comps := make([]comp, nf)
	hmax, vmax := 1, 1
	for i := range comps {
		c := frame[6+3*i:]
		comps[i] = comp{id: int(c[0]), hs: int(c[1] >> 4), vs: int(c[1] & 15)}
		if comps[i].hs < 1 || comps[i].hs > 4 || comps[i].vs < 1 || comps[i].vs > 4 {
			return nil, fmt.Errorf("sampling factors %d×%d", comps[i].hs, comps[i].vs)
		}
		hmax, vmax = max(hmax, comps[i].hs), max(vmax, comps[i].vs)
	}
	ns := int(scan[0])
	if ns != nf {
		return nil, fmt.Errorf("a scan of %d of %d components", ns, nf)
	}
	mw, mh := (w+8*hmax-1)/(8*hmax), (h+8*vmax-1)/(8*vmax)
	padding := false
	for i := range comps {
		c := &comps[i]
		if int(scan[1+2*i]) != c.id {
			return nil, errors.New("scan components not in frame order")
		}
		c.bw = ((w*c.hs+hmax-1)/hmax + 7) / 8
		c.bh = ((h*c.vs+vmax-1)/vmax + 7) / 8
		padding = padding || ns > 1 && (mw*c.hs != c.bw || mh*c.vs != c.bh)
	}
	if !padding {
		return nil, nil
	}
	var huff [2][4]*jpegHuff
	for _, body := range tables {
		for len(body) >= 17 {
			class, id := body[0]>>4, body[0]&3
			n := 0
			for _, c := range body[1:17] {
				n += int(c)
			}
			if len(body) < 17+n {
				return nil, errors.New("malformed Huffman table")
			}
			t, err := newJPEGHuff(body[1:17], body[17:17+n])
			if err != nil {
				return nil, err
			}
			huff[class&1][id] = t
			body = body[17+n:]
		}
	}
	for i := range comps {
		td, ta := scan[2+2*i]>>4&3, scan[2+2*i]&3
		if comps[i].dc, comps[i].ac = huff[0][td], huff[1][ta]; comps[i].dc == nil || comps[i].ac == nil {
			return nil, errors.New("scan uses an undefined Huffman table")
		}
		if fix && (comps[i].dc.code[0] == 0 || comps[i].ac.code[0] == 0) {
			return nil, errors.New("no code for a zero DC difference or an end of block")
		}
	}
	// Unstuff: 0xFF 0x00 is a data byte 0xFF.
	plain := make([]byte, 0, len(data))
	for i := 0; i < len(data); i++ {
		plain = append(plain, data[i])
		if data[i] == 0xFF {
			i++
		}
	}
	r := &jpegBits{b: plain}
	var out jpegWriter
	if fix {
		out.b = make([]byte, 0, len(data))
	}
	for my := range mh {
		for mx := range mw {
			for ci := range comps {
				c := &comps[ci]
				for by := my * c.vs; by < (my+1)*c.vs; by++ {
					for bx := mx * c.hs; bx < (mx+1)*c.hs; bx++ {
						pad := bx >= c.bw || by >= c.bh
						s, err := r.symbol(c.dc)
						if err != nil {
							return nil, err
						}
						if s > 11 {
							return nil, fmt.Errorf("DC category %d", s)
						}
						diff := extend(r.take(uint(s)), s)
						c.predIn += diff
						if pad && !fix && s != 0 {
							return nil, fmt.Errorf("padding block (%d,%d) of component %d has a DC of its own", bx, by, c.id)
						}
						if fix {
							dc := c.predIn
							if pad {
								dc = c.predOut
							}
							if err := out.dc(c.dc, dc-c.predOut); err != nil {
								return nil, err
							}
							c.predOut = dc
						}
						for k := 1; k < 64; k++ {
							rs, err := r.symbol(c.ac)
							if err != nil {
								return nil, err
							}
							if pad && !fix && rs != 0 {
								return nil, fmt.Errorf("padding block (%d,%d) of component %d has AC coefficients", bx, by, c.id)
							}
							bits := r.take(uint(rs & 15))
							if fix && !pad {
								out.symbol(c.ac, rs)
								out.bits(bits, uint(rs&15))
							}
							if rs&15 == 0 {
								if rs != 0xF0 {
									break // end of block
								}
								k += 15
								continue
							}
							k += int(rs >> 4)
						}
						if fix && pad {
							out.symbol(c.ac, 0)
						}
						if r.overrun() {
							return nil, errors.New("entropy-coded data ends inside the image")
						}
					}
				}
			}
		}
	}
	// What is left: at most 7 bits, all ones, to fill the last byte.
	used := 8*r.pos - int(r.n)
	rest := 8*len(plain) - used
	if rest > 7 || r.take(uint(rest)) != 1<<rest-1 {
		return nil, fmt.Errorf("%d bits after the last block", rest)
	}
	if !fix {
		return nil, nil
	}
	return out.finish(), nil
}

// extend turns s bits v into the signed value they code (F.2.2.1).
func extend(v uint64, s byte) int {
	if s == 0 {
		return 0
	}
	if v < 1<<(s-1) {
		return int(v) - 1<<s + 1
	}
	return int(v)
}

// jpegWriter writes entropy-coded data, stuffing a 0x00 after each 0xFF.
type jpegWriter struct {
	b   []byte
	acc uint64
	n   uint
}

func (w *jpegWriter) bits(v uint64, k uint) {
	w.acc = w.acc<<k | v&(1<<k-1)
	w.n += k
	for w.n >= 8 {
		x := byte(w.acc >> (w.n - 8))
		w.b = append(w.b, x)
		if x == 0xFF {
			w.b = append(w.b, 0)
		}
		w.n -= 8
	}
}

func (w *jpegWriter) symbol(h *jpegHuff, s byte) {
	c := h.code[s]
	w.bits(uint64(c&0xFFFF), uint(c>>16))
}

func (w *jpegWriter) dc(h *jpegHuff, diff int) error {
	s, v := byte(0), diff
	for a := max(diff, -diff); a > 0; a >>= 1 {
		s++
	}
	if diff < 0 {
		v = diff + 1<<s - 1
	}
	if h.code[s] == 0 {
		return fmt.Errorf("no code for DC category %d", s)
	}
	w.symbol(h, s)
	w.bits(uint64(v), uint(s))
	return nil
}

// finish pads the last byte with ones.
func (w *jpegWriter) finish() []byte {
	if w.n > 0 {
		w.bits(1<<(8-w.n)-1, 8-w.n)
	}
	return w.b
}

// padLikeLibjpeg rewrites the padding blocks of a JPEG of one sequential
// scan (image/jpeg's output) as libjpeg writes them. A JPEG without
// padding blocks comes back as it is.
func padLikeLibjpeg(jpg []byte) ([]byte, error) {
	var dht [][]byte
	var frame, scan []byte
	p := 2
	for p+4 <= len(jpg) && jpg[p] == 0xFF {
		m := jpg[p+1]
		n := int(binary.BigEndian.Uint16(jpg[p+2:]))
		if n < 2 || p+2+n > len(jpg) {
			break
		}
		body := jpg[p+4 : p+2+n]
		p += 2 + n
		switch m {
		case 0xC4:
			dht = append(dht, body)
		case 0xC0, 0xC1:
			frame = body
		case 0xDA:
			scan = body
			end := len(jpg) - 2 // image/jpeg: the data runs to EOI
			if end < p || jpg[end] != 0xFF || jpg[end+1] != 0xD9 {
				return nil, errors.New("jpegcodec: padding: no end of image after the scan")
			}
			data, err := walkPadding(dht, frame, scan, jpg[p:end], true)
			if err != nil || data == nil {
				return jpg, err
			}
			return slices.Concat(jpg[:p], data, jpg[end:]), nil
		}
	}
	return nil, errors.New("jpegcodec: padding: no scan")
}

// dropUnusedQuant removes from a JPEG's DQT segments the quantisation
// tables its frame does not use: image/jpeg always writes a luminance and
// a chrominance table, and a grey image uses only the first, while the
// packet verifier refuses a table no component uses.
func dropUnusedQuant(jpg []byte) ([]byte, error) {
	type seg struct{ at, end int }
	var dqts []seg
	var used [4]bool
	p := 2
	for p+4 <= len(jpg) && jpg[p] == 0xFF && jpg[p+1] != 0xDA {
		n := int(binary.BigEndian.Uint16(jpg[p+2:]))
		if n < 2 || p+2+n > len(jpg) {
			return nil, errors.New("jpegcodec: quantisation tables: truncated segment")
		}
		body := jpg[p+4 : p+2+n]
		switch jpg[p+1] {
		case 0xDB:
			dqts = append(dqts, seg{p, p + 2 + n})
		case 0xC0, 0xC1:
			if len(body) < 6 || len(body) < 6+3*int(body[5]) {
				return nil, errors.New("jpegcodec: quantisation tables: short frame")
			}
			for c := range int(body[5]) {
				used[body[6+3*c+2]&3] = true
			}
		}
		p += 2 + n
	}
	out := jpg[:2:2]
	last := 2
	for _, s := range dqts {
		out = append(out, jpg[last:s.at]...)
		var tables []byte
		for q := s.at + 4; q < s.end; {
			size := 65
			if jpg[q]>>4 != 0 {
				size = 129
			}
			if q+size > s.end {
				return nil, errors.New("jpegcodec: quantisation tables: truncated table")
			}
			if used[jpg[q]&3] {
				tables = append(tables, jpg[q:q+size]...)
			}
			q += size
		}
		if len(tables) > 0 {
			out = append(out, 0xFF, 0xDB, byte((len(tables)+2)>>8), byte(len(tables)+2))
			out = append(out, tables...)
		}
		last = s.end
	}
	return append(out, jpg[last:]...), nil
}
