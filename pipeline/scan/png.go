package scan

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// PNGInfo is what the chunk walk learns of a PNG without decoding it.
type PNGInfo struct {
	Width, Height int
	BitDepth      int
	ColorType     int // 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA
	Interlaced    bool
	Transparency  bool // a tRNS chunk
	// IDAT is the concatenated image data: zlib-compressed, PNG-filtered
	// scanlines. Text, time, EXIF and every other ancillary chunk are not
	// kept anywhere.
	IDAT []byte
}

var errPNG = errors.New("malformed PNG")

// maxPNGChunks bounds the chunks of a PNG, checked as they are walked: an
// encoder writes a few dozen (image data in chunks of 8–64 KiB), and each
// chunk costs a CRC and a copy.
const maxPNGChunks = 20000

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// ParsePNG walks the chunks of a PNG, checking every CRC, and keeps only
// the header and the image data.
func ParsePNG(data []byte) (PNGInfo, error) {
	var info PNGInfo
	if !bytes.HasPrefix(data, pngSignature) {
		return info, fmt.Errorf("%w: no signature", errPNG)
	}
	p := len(pngSignature)
	var idat [][]byte
	sawHeader := false
	for chunks := 1; ; chunks++ {
		if chunks > maxPNGChunks {
			return info, tooComplexError(fmt.Sprintf("more than %d PNG chunks", maxPNGChunks))
		}
		if p+12 > len(data) {
			return info, fmt.Errorf("%w: truncated before IEND", errPNG)
		}
		n := int(binary.BigEndian.Uint32(data[p:]))
		if n < 0 || n > len(data)-p-12 {
			return info, fmt.Errorf("%w: chunk length out of range", errPNG)
		}
		typ := string(data[p+4 : p+8])
		body := data[p+8 : p+8+n]
		if crc32.ChecksumIEEE(data[p+4:p+8+n]) != binary.BigEndian.Uint32(data[p+8+n:]) {
			return info, fmt.Errorf("%w: bad CRC in %q chunk", errPNG, typ)
		}
		p += 12 + n
		switch typ {
		case "IHDR":
			if n != 13 {
				return info, fmt.Errorf("%w: IHDR length %d", errPNG, n)
			}
			info.Width = int(binary.BigEndian.Uint32(body))
			info.Height = int(binary.BigEndian.Uint32(body[4:]))
			info.BitDepth = int(body[8])
			info.ColorType = int(body[9])
			info.Interlaced = body[12] == 1
			sawHeader = true
		case "tRNS":
			info.Transparency = true
		case "IDAT":
			idat = append(idat, body)
		case "IEND":
			if !sawHeader || len(idat) == 0 {
				return info, fmt.Errorf("%w: no header or no image data", errPNG)
			}
			info.IDAT = bytes.Join(idat, nil)
			return info, nil
		}
	}
}

// passThrough reports whether the image data can go into a PDF as it is:
// PDF's PNG predictors read 8-bit grey or RGB, non-interlaced, opaque.
func (i PNGInfo) passThrough() bool {
	return i.BitDepth == 8 && (i.ColorType == 0 || i.ColorType == 2) && !i.Interlaced && !i.Transparency
}
