package scan

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"runtime"
	"testing"

	"github.com/blindpack/blindpack/pipeline/clarity"
	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/scan/heif"
)

// The seed corpora are in testdata/fuzz/<target>; `go test` runs them,
// `make fuzz` explores from them. Each target states what must hold for
// any input at all.

// jpegSegments walks a JPEG's markers the way a reader would, independently
// of StripJPEG, and returns the APPn/COM markers it meets and whether it
// reached the end-of-image marker with nothing but white space after it.
func jpegSegments(t *testing.T, data []byte) (meta []byte, clean bool) {
	t.Helper()
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		t.Fatalf("output does not start with SOI")
	}
	p := 2
	for p+2 <= len(data) {
		if data[p] != 0xFF {
			t.Fatalf("no marker at %d", p)
		}
		m := data[p+1]
		switch {
		case m == 0xD9:
			return meta, len(bytes.TrimSpace(data[p+2:])) == 0
		case m == 0xFF: // a fill byte
			p++
			continue
		case m == 0x01, m >= 0xD0 && m <= 0xD7:
			p += 2
			continue
		}
		if p+4 > len(data) {
			t.Fatalf("truncated segment at %d", p)
		}
		n := int(binary.BigEndian.Uint16(data[p+2:]))
		if (m >= 0xE0 && m <= 0xEF) || m == 0xFE {
			meta = append(meta, m)
			if m == 0xEE && n != 14 {
				t.Fatalf("APP14 of %d bytes: only Adobe's fixed 12-byte payload may stay", n-2)
			}
		}
		p += 2 + n
		if m == 0xDA {
			for p+1 < len(data) && !(data[p] == 0xFF && data[p+1] != 0 && (data[p+1] < 0xD0 || data[p+1] > 0xD7)) {
				p++
			}
			if p+1 < len(data) && data[p+1] == 0xFF {
				t.Fatalf("fill bytes after the scan at %d: the verifier's walk would stop there", p)
			}
		}
	}
	t.Fatalf("no end-of-image marker")
	return nil, false
}

// FuzzStripJPEG: StripJPEG never panics; what it returns is a JPEG whose
// only APPn segment is Adobe's APP14, with no comment and nothing after
// the end-of-image marker, no longer than its input, and stripping it
// again changes nothing. Its aliasing form (stripJPEG with alias) says
// the same, returns its input itself only when that is what the copy is,
// and reads what it returned without copying it.
func FuzzStripJPEG(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		out, info, err := StripJPEG(data)
		aliased, infoA, errA := stripJPEG(data, true)
		if (err == nil) != (errA == nil) || err != nil && err.Error() != errA.Error() {
			t.Fatalf("errors differ: %v / %v", err, errA)
		}
		if err != nil {
			return
		}
		if !bytes.Equal(aliased, out) || !reflect.DeepEqual(info, infoA) {
			t.Fatalf("aliasing strip differs")
		}
		if len(out) > 0 && &out[0] == &data[0] {
			t.Fatalf("StripJPEG returned its input, not a copy")
		}
		if shares := &aliased[0] == &data[0]; shares != bytes.HasPrefix(data, out) {
			t.Fatalf("aliasing strip: shares its input %v, input starts with the output %v", shares, !shares)
		}
		if again, _, err := stripJPEG(out, true); err != nil || &again[0] != &out[0] || len(again) != len(out) {
			t.Fatalf("reading a stripped file again copied it")
		}
		if len(out) > len(data) {
			t.Fatalf("output %d bytes, input %d", len(out), len(data))
		}
		meta, clean := jpegSegments(t, out)
		for _, m := range meta {
			if m != 0xEE {
				t.Fatalf("marker %#x survived", m)
			}
		}
		if !clean {
			t.Fatalf("data after end of image")
		}
		again, info2, err := StripJPEG(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %v", err)
		}
		if info2.Width != info.Width || info2.Height != info.Height || info2.Components != info.Components {
			t.Fatalf("header changed: %+v → %+v", info, info2)
		}
	})
}

// FuzzCanonicalJPEG: the canonical rewrite never panics or crashes in C,
// and whatever it writes is a JPEG of the same size carrying no APPn but
// the Adobe marker, no comment, nothing after its end.
func FuzzCanonicalJPEG(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		stripped, info, err := StripJPEG(data)
		if err != nil || info.Width <= 0 || info.Height <= 0 || info.Width*info.Height > 1<<20 {
			return
		}
		out, info2, err := CanonicalJPEG(&Page{Number: 1, JPEG: stripped, JPEGInfo: info, Width: info.Width, Height: info.Height}, 90)
		if err != nil {
			return
		}
		meta, clean := jpegSegments(t, out)
		for _, m := range meta {
			if m != 0xEE {
				t.Fatalf("marker %#x written", m)
			}
		}
		if !clean {
			t.Fatalf("data after end of image")
		}
		if info2.Width != info.Width || info2.Height != info.Height {
			t.Fatalf("size changed: %+v → %+v", info, info2)
		}
	})
}

// FuzzParsePNG: ParsePNG never panics, and keeps no more than the file's
// image data.
func FuzzParsePNG(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := ParsePNG(data)
		if err != nil {
			return
		}
		if len(info.IDAT) > len(data) {
			t.Fatalf("IDAT %d bytes from a %d-byte file", len(info.IDAT), len(data))
		}
		if info.passThrough() && (info.BitDepth != 8 || info.Interlaced || info.Transparency) {
			t.Fatalf("pass-through of %+v", info)
		}
	})
}

// fuzzLimits keep one input's cost small enough for fuzzing while still
// letting real pages through.
var fuzzLimits = Limits{MaxFileBytes: 1 << 20, MaxPages: 8, MaxPagePixels: 1 << 20, MaxDecodeBytes: 8 << 20}

// maxFuzzAlloc bounds what reading one input may allocate: decoded pages
// and streams are bounded by fuzzLimits, and a parser that allocates in
// proportion to a length field it has not checked stands out.
func maxFuzzAlloc(n int) uint64 { return 256<<20 + 64*uint64(n) }

// openAll opens data and reads, measures and decodes every page, checking
// that every failure is a finding (the applicant's mistake, reported) and
// that nothing panics.
func openAll(t *testing.T, data []byte) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	isFinding := func(err error) {
		var fe *finding.Error
		if err != nil && !errors.As(err, &fe) {
			t.Fatalf("not a finding: %v", err)
		}
	}
	f, err := Open(data, fuzzLimits)
	isFinding(err)
	if err != nil {
		return
	}
	if n := f.NumPages(); n < 1 || n > fuzzLimits.MaxPages {
		t.Fatalf("%d pages", n)
	}
	for n := 1; n <= f.NumPages(); n++ {
		p, err := f.Page(n)
		if err != nil {
			var fe *finding.Error
			if !errors.As(err, &fe) {
				t.Fatalf("page %d: not a finding: %v", n, err)
			}
			continue
		}
		if p.Width < 1 || p.Height < 1 || int64(p.Width)*int64(p.Height) > fuzzLimits.MaxPagePixels {
			t.Fatalf("page %d: %dx%d passed the limits", n, p.Width, p.Height)
		}
		// A page whose image is far smaller than its page box is enlarged
		// to the working resolution to be measured, up to 9 Mpx a page: a
		// second of CPU that fuzzing would spend on every mutation of such
		// a file. Its reading and decoding are still exercised.
		if x, y := storedPPI(p, p.Width, p.Height); min(x, y) >= clarity.WorkingPPI/4 {
			if _, err := MeasurePage(p); err != nil {
				isFinding(err)
				continue
			}
		}
		img, err := p.Decode()
		isFinding(err)
		if err == nil {
			if b := img.Bounds(); b.Dx() != p.Width || b.Dy() != p.Height {
				t.Fatalf("page %d: decoded %v, header %dx%d", n, b, p.Width, p.Height)
			}
		}
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > maxFuzzAlloc(len(data)) {
		t.Fatalf("allocated %d MiB for a %d-byte file", got>>20, len(data))
	}
}

// FuzzOpen: any bytes at all, opened as an upload.
func FuzzOpen(f *testing.F) {
	if err := heif.Warm(heif.Limits{}); err != nil { // see FuzzOpenHEIC
		f.Fatal(err)
	}
	f.Add([]byte{})
	f.Add([]byte("%PDF-1.4\n%%EOF"))
	f.Add([]byte("\xff\xd8\xff\xd9"))
	f.Fuzz(openAll)
}

// FuzzOpenPDF: bytes read as a PDF whatever they start with, so that the
// fuzzer spends its time inside the PDF reader.
func FuzzOpenPDF(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		if Sniff(data) != PDF {
			data = append([]byte("%PDF-1.7\n"), data...)
		}
		openAll(t, data)
	})
}
