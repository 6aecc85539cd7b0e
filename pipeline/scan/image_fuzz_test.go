package scan

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/scan/heif"
)

// The image fuzz targets open their bytes as the one format whatever they
// start with, so that the fuzzer spends its time in that reader, and hold
// them to what openAll holds every upload to: no panic, every failure a
// finding, no page past the limits, bounded allocations. Their seeds are
// files made by tiffcp, ImageMagick, heif-enc and cwebp
// (testdata/make-image-seeds.sh).

// FuzzOpenTIFF: any bytes after a TIFF header.
func FuzzOpenTIFF(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		if Sniff(data) != TIFF {
			data = append([]byte("II*\x00\x08\x00\x00\x00"), data...)
		}
		openAll(t, data)
	})
}

// FuzzOpenHEIC: any bytes after a HEIF file-type box, through the box walk
// and, when it lets them, libheif in its sandbox.
func FuzzOpenHEIC(f *testing.F) {
	// Compiling the module takes a second or more: done before fuzzing,
	// it is not charged to the first input, which the fuzzer would
	// otherwise take for a hang (10 s).
	if err := heif.Warm(heif.Limits{}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if Sniff(data) != HEIC {
			data = append([]byte("\x00\x00\x00\x10ftypheic\x00\x00\x00\x00"), data...)
		}
		openAll(t, data)
	})
}

// FuzzOpenWebP: any bytes as the body of a RIFF WebP container.
func FuzzOpenWebP(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		if Sniff(data) != WebP {
			hdr := binary.LittleEndian.AppendUint32([]byte("RIFF"), uint32(len(data)+4))
			data = append(append(hdr, "WEBP"...), data...)
		}
		openAll(t, data)
	})
}

// FuzzOpenBMP: any bytes after a bitmap file header.
func FuzzOpenBMP(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		if Sniff(data) != BMP {
			hdr := binary.LittleEndian.AppendUint32([]byte("BM"), uint32(len(data)+14))
			hdr = binary.LittleEndian.AppendUint32(hdr, 0)
			hdr = binary.LittleEndian.AppendUint32(hdr, 54)
			data = append(hdr, data...)
		}
		openAll(t, data)
	})
}

// FuzzParseHEIF: the box walk alone, which runs before any byte reaches
// libheif: no panic, and a header it accepts names a primary image.
func FuzzParseHEIF(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := parseHEIF(data)
		if err != nil {
			return
		}
		if h.items[h.primary] == nil {
			t.Fatal("accepted without a primary item")
		}
		_, _, err = heicHeader(data, fuzzLimits.withDefaults())
		var fe *finding.Error
		if err != nil && !errors.As(err, &fe) {
			t.Fatalf("not a finding: %v", err)
		}
	})
}
