package verify

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zlib"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/scan/jpegcodec"
)

// imageForm checks that an image XObject is in the form blindpack writes,
// so that no byte of an upload can ride through in a part of the stream a
// viewer skips: 8-bit samples in a device colour space, one filter —
// DCTDecode (a JPEG as jpegFormFor allows) or FlateDecode with no
// predictor, whose zlib stream holds exactly the samples and ends where
// the stream ends.
func (v *verifier) imageForm(sd *types.StreamDict, page int, name string) {
	bad := func(format string, a ...any) {
		v.add(finding.NoncanonicalImage, page, "image /%s: "+format, append([]any{name}, a...)...)
	}
	w, h := sd.Dict.IntEntry("Width"), sd.Dict.IntEntry("Height")
	bpc := sd.Dict.IntEntry("BitsPerComponent")
	if w == nil || h == nil || *w <= 0 || *h <= 0 || *w > 65535 || *h > 65535 || bpc == nil || *bpc != 8 {
		bad("size or sample depth not blindpack's")
		return
	}
	comps := 0
	if cs := sd.Dict.NameEntry("ColorSpace"); cs != nil {
		comps = map[string]int{"DeviceGray": 1, "DeviceRGB": 3, "DeviceCMYK": 4}[*cs]
	}
	if comps == 0 {
		bad("colour space not a device space")
		return
	}
	if sd.Dict["DecodeParms"] != nil {
		bad("decode parameters")
	}
	if len(sd.FilterPipeline) != 1 {
		bad("%d filters", len(sd.FilterPipeline))
		return
	}
	switch sd.FilterPipeline[0].Name {
	case "DCTDecode":
		if d := sd.Dict["Decode"]; d != nil && (comps != 4 || !invertedCMYK(d)) {
			bad("decode array")
		}
		v.jpegForm(sd.Raw, *w, *h, comps, page, name)
	case "FlateDecode":
		if sd.Dict["Decode"] != nil {
			bad("decode array")
		}
		n := int64(*w) * int64(*h) * int64(comps)
		var err error
		if end, ok := v.inflatedEnd(sd); ok {
			err = end.form(n)
		} else {
			err = flateForm(sd.Raw, n)
		}
		if err != nil {
			bad("%v", err)
		}
	default:
		bad("filter %s", sd.FilterPipeline[0].Name)
	}
}

// flateEnd is how a Flate stream ended when inflated.
type flateEnd struct {
	n   int64 // bytes inflated
	err error // nil when one zlib stream ended, checksum and all, where the data ends
}

// form checks that the stream is one zlib stream that inflates to exactly
// n bytes and ends with the data.
func (e flateEnd) form(n int64) error {
	if e.err != nil {
		return e.err
	}
	if e.n != n {
		return fmt.Errorf("%d bytes of samples, %d expected", e.n, n)
	}
	return nil
}

// inflatedEnd returns how stream found sd's data to end, if it inflated it.
func (v *verifier) inflatedEnd(sd *types.StreamDict) (flateEnd, bool) {
	if len(sd.Raw) == 0 {
		return flateEnd{}, false
	}
	end, ok := v.inflated[&sd.Raw[0]]
	return end, ok
}

// plainFlate reports whether a stream has one filter, FlateDecode, with no
// parameters: its data is a zlib stream and nothing else.
func plainFlate(sd *types.StreamDict) bool {
	return len(sd.FilterPipeline) == 1 && sd.FilterPipeline[0].Name == "FlateDecode" && sd.FilterPipeline[0].DecodeParms == nil
}

// sampleBytes is the size of an image's samples as its dictionary states
// it (0 when it does not, or is not an image): room to inflate it into.
func sampleBytes(sd *types.StreamDict) int {
	w, h := sd.Dict.IntEntry("Width"), sd.Dict.IntEntry("Height")
	cs := sd.Dict.NameEntry("ColorSpace")
	if w == nil || h == nil || cs == nil || *w <= 0 || *h <= 0 || *w > 65535 || *h > 65535 {
		return 0
	}
	return *w * *h * map[string]int{"DeviceGray": 1, "DeviceRGB": 3, "DeviceCMYK": 4}[*cs]
}

// inflate decodes a plain Flate stream once for both uses: the data as a
// PDF reader (pdfcpu) reads it, which tolerates a stream cut short, for
// the identity search; and how the stream ended, for the image form
// check. err is what makes the stream unreadable: a bad header or
// checksum, corrupt data, more than limit bytes. size is the expected
// length: room is made for it, as far as the raw data can inflate to.
func inflate(raw []byte, limit int64, size int) (data []byte, end flateEnd, err error) {
	br := bytes.NewReader(raw)
	zr, err := zlib.NewReader(br)
	if err != nil {
		return nil, flateEnd{}, err
	}
	// Deflate inflates at most 1032 to 1.
	buf := bytes.NewBuffer(make([]byte, 0, min(int64(size), 1032*int64(len(raw)), limit)))
	n, err := buf.ReadFrom(io.LimitReader(zr, limit+1))
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return buf.Bytes(), flateEnd{n: n, err: err}, nil
	case err != nil:
		return nil, flateEnd{}, err
	case n > limit:
		return nil, flateEnd{}, fmt.Errorf("inflates to more than %d bytes", limit)
	case br.Len() > 0:
		return buf.Bytes(), flateEnd{n: n, err: fmt.Errorf("%d bytes after the zlib stream", br.Len())}, nil
	}
	return buf.Bytes(), flateEnd{n: n}, nil
}

// flateForm checks that data is one zlib stream that inflates to exactly
// n bytes and ends with the data.
func flateForm(data []byte, n int64) error {
	_, end, err := inflate(data, n, 0)
	if err != nil {
		return err
	}
	return end.form(n)
}

// jpegForm checks a JPEG as blindpack's codec writes it: start of image;
// quantisation and Huffman tables, each destination defined once and used
// by the frame or a scan; one baseline or extended sequential frame of the
// image dictionary's size and components; scans whose entropy-coded data
// holds no marker, padding blocks as libjpeg writes them (jpegcodec.CheckPadding);
// the end of the image as the last two bytes. The only
// APPn segment allowed is the fixed-form Adobe marker a colour transform
// needs; APPn and comment segments are reported as metadata, anything
// else as non-canonical.
func (v *verifier) jpegForm(data []byte, w, h, comps, page int, name string) {
	bad := func(format string, a ...any) {
		v.add(finding.NoncanonicalImage, page, "image /%s: "+format, append([]any{name}, a...)...)
	}
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		bad("not a JPEG")
		return
	}
	var quant [4]bool   // defined, by destination
	var huff [2][4]bool // defined, by class and id
	var usedQuant [4]bool
	var usedHuff [2][4]bool
	frames, scans := 0, 0
	var dht [][]byte       // DHT bodies, for jpegPadding
	var frame, scan []byte // the SOF and SOS bodies
	var entropy []byte     // the scan's entropy-coded data
	p := 2
	for {
		if p+2 > len(data) || data[p] != 0xFF {
			bad("no marker at offset %d", p)
			return
		}
		m := data[p+1]
		if m == 0xD9 {
			if p+2 != len(data) {
				bad("%d bytes after the end of the image", len(data)-p-2)
			}
			break
		}
		if p+4 > len(data) {
			bad("truncated segment")
			return
		}
		n := int(binary.BigEndian.Uint16(data[p+2:]))
		if n < 2 || p+2+n > len(data) {
			bad("segment length out of range")
			return
		}
		body := data[p+4 : p+2+n]
		p += 2 + n
		switch {
		case m == 0xEE:
			if !adobeForm(body) {
				v.add(finding.ImageMetadata, page, "image /%s: APP14 segment", name)
			}
		case m >= 0xE0 && m <= 0xEF:
			v.add(finding.ImageMetadata, page, "image /%s: APP%d segment", name, m-0xE0)
		case m == 0xFE:
			v.add(finding.ImageMetadata, page, "image /%s: comment segment", name)
		case m == 0xDB:
			for len(body) > 0 {
				prec, dest := body[0]>>4, body[0]&0x0F
				size := 65 + 64*int(prec)
				if prec > 1 || dest > 3 || len(body) < size {
					bad("malformed quantisation table")
					return
				}
				if quant[dest] {
					bad("quantisation table %d defined twice", dest)
				}
				quant[dest] = true
				body = body[size:]
			}
		case m == 0xC4:
			dht = append(dht, body)
			for len(body) >= 17 {
				class, id := body[0]>>4, body[0]&0x0F
				count := 0
				for _, c := range body[1:17] {
					count += int(c)
				}
				if class > 1 || id > 3 || len(body) < 17+count {
					break
				}
				if huff[class][id] {
					bad("Huffman table %d/%d defined twice", class, id)
				}
				huff[class][id] = true
				body = body[17+count:]
			}
			if len(body) > 0 {
				bad("malformed Huffman table")
				return
			}
		case m == 0xC0 || m == 0xC1:
			frames++
			if len(body) < 6 || body[0] != 8 {
				bad("frame header")
				return
			}
			frame = body
			fh, fw, nc := int(binary.BigEndian.Uint16(body[1:])), int(binary.BigEndian.Uint16(body[3:])), int(body[5])
			if fw != w || fh != h {
				bad("frame is %dx%d, the image %dx%d", fw, fh, w, h)
			}
			if nc != comps || len(body) != 6+3*nc {
				bad("frame has %d components for %d", nc, comps)
				return
			}
			for i := range nc {
				if q := body[6+3*i+2]; q < 4 {
					usedQuant[q] = true
				}
			}
		case m == 0xDA:
			scans++
			if len(body) < 1 || len(body) != 1+2*int(body[0])+3 {
				bad("scan header")
				return
			}
			for i := range int(body[0]) {
				t := body[2+2*i]
				usedHuff[0][(t>>4)&3], usedHuff[1][t&3] = true, true
			}
			scan = body
			start := p
			// Entropy-coded data: 0xFF only as a stuffed 0xFF 0x00.
			for {
				i := bytes.IndexByte(data[p:], 0xFF)
				if i < 0 || p+i+1 >= len(data) {
					bad("truncated scan")
					return
				}
				p += i
				if data[p+1] != 0 {
					break
				}
				p += 2
			}
			entropy = data[start:p]
		default:
			bad("segment %#02x", m)
		}
	}
	if frames != 1 || scans != 1 {
		// blindpack writes one sequential scan of every component.
		bad("%d frames, %d scans", frames, scans)
	} else if err := jpegcodec.CheckPadding(dht, frame, scan, entropy); err != nil {
		bad("%v", err)
	}
	for i := range 4 {
		if quant[i] && !usedQuant[i] {
			bad("quantisation table %d unused", i)
		}
		for c := range 2 {
			if huff[c][i] && !usedHuff[c][i] {
				bad("Huffman table %d/%d unused", c, i)
			}
		}
	}
}

// adobeForm reports whether an APP14 body is the one libjpeg writes:
// "Adobe", version 100, no flags, a transform of 0–2.
func adobeForm(b []byte) bool {
	return len(b) == 12 && bytes.Equal(b[:11], []byte("Adobe\x00\x64\x00\x00\x00\x00")) && b[11] <= 2
}

// invertedCMYK reports whether a /Decode array is [1 0 1 0 1 0 1 0], the one
// blindpack writes for Adobe's inverted CMYK JPEGs.
func invertedCMYK(o types.Object) bool {
	a, ok := o.(types.Array)
	if !ok || len(a) != 8 {
		return false
	}
	for i, e := range a {
		n, ok := e.(types.Integer)
		if !ok || int(n) != 1-i%2 {
			return false
		}
	}
	return true
}
