package pdfkit

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"sync"

	"github.com/klauspost/compress/zlib"
)

// Ref is the number of an indirect object. The zero Ref is "no object".
type Ref int

// String formats r as an indirect reference, "12 0 R".
func (r Ref) String() string { return strconv.Itoa(int(r)) + " 0 R" }

// ErrWritten is returned when an object is written twice.
var ErrWritten = errors.New("pdfkit: object already written")

// objWriter is the low-level file writer: it numbers objects, records their
// byte offsets and hashes everything it writes, so that the trailer's /ID is a
// digest of the content.
type objWriter struct {
	w       io.Writer
	n       int64
	sum     hash.Hash
	offsets []int64 // index = object number; -1 reserved, not yet written
	err     error

	trailerExtra string
}

func newObjWriter(w io.Writer) *objWriter {
	ow := &objWriter{w: w, sum: sha256.New(), offsets: []int64{0}}
	// The binary comment tells transfer tools the file is not text.
	ow.write([]byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"))
	return ow
}

func (ow *objWriter) write(p []byte) {
	if ow.err != nil {
		return
	}
	n, err := ow.w.Write(p)
	ow.n += int64(n)
	ow.sum.Write(p[:n])
	if err != nil {
		ow.err = fmt.Errorf("pdfkit: write: %w", err)
	}
}

func (ow *objWriter) reserve() Ref {
	ow.offsets = append(ow.offsets, -1)
	return Ref(len(ow.offsets) - 1)
}

func (ow *objWriter) begin(r Ref) bool {
	if ow.err != nil {
		return false
	}
	if int(r) <= 0 || int(r) >= len(ow.offsets) || ow.offsets[r] != -1 {
		ow.err = fmt.Errorf("%w: %d", ErrWritten, r)
		return false
	}
	ow.offsets[r] = ow.n
	ow.write([]byte(strconv.Itoa(int(r)) + " 0 obj\n"))
	return true
}

// object writes a non-stream object whose body is already serialised.
func (ow *objWriter) object(r Ref, body string) {
	if ow.begin(r) {
		ow.write([]byte(body))
		ow.write([]byte("\nendobj\n"))
	}
}

// stream writes a stream object. dict is the dictionary body without the
// surrounding << >> and without /Length, which is added here.
func (ow *objWriter) stream(r Ref, dict string, data []byte) {
	if ow.begin(r) {
		ow.write([]byte("<<" + dict + " /Length " + strconv.Itoa(len(data)) + ">>\nstream\n"))
		ow.write(data)
		ow.write([]byte("\nendstream\nendobj\n"))
	}
}

// flateStream writes data Flate-compressed at the default level.
func (ow *objWriter) flateStream(r Ref, dict string, data []byte) {
	ow.stream(r, dict+" /Filter /FlateDecode", deflate(data, zlib.DefaultCompression))
}

// deflate compresses data as one zlib stream. klauspost/compress writes
// ordinary zlib in about half the CPU time of compress/zlib at BestSpeed (a
// rendered typed A4 page: 11 against 20 ms), and its streams inflate faster.
//
// Its writers are pooled by level: a new one allocates about a megabyte of
// tables, and a packet deflates one content stream a page — fresh tables
// each time were most of the page faults of writing a packet.
func deflate(data []byte, level int) []byte {
	var b bytes.Buffer
	pool := &zlibWriters[level-zlib.HuffmanOnly]
	zw, _ := pool.Get().(*zlib.Writer)
	if zw == nil {
		zw, _ = zlib.NewWriterLevel(&b, level)
	} else {
		zw.Reset(&b)
	}
	zw.Write(data)
	zw.Close()
	pool.Put(zw)
	return b.Bytes()
}

// zlibWriters holds deflate's writers, one pool for each level from
// zlib.HuffmanOnly to zlib.BestCompression.
var zlibWriters [zlib.BestCompression - zlib.HuffmanOnly + 1]sync.Pool

// finish writes the cross-reference table and trailer.
func (ow *objWriter) finish(root Ref) error {
	for i, off := range ow.offsets[1:] {
		if off < 0 && ow.err == nil {
			ow.err = fmt.Errorf("pdfkit: object %d reserved but never written", i+1)
		}
	}
	if ow.err != nil {
		return ow.err
	}
	id := fmt.Sprintf("%x", ow.sum.Sum(nil)[:16])
	xref := ow.n
	var b bytes.Buffer
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f\r\n", len(ow.offsets))
	for _, off := range ow.offsets[1:] {
		fmt.Fprintf(&b, "%010d 00000 n\r\n", off)
	}
	fmt.Fprintf(&b, "trailer\n<</Size %d /Root %s%s /ID [<%s> <%s>]>>\nstartxref\n%d\n%%%%EOF\n",
		len(ow.offsets), root, ow.trailerExtra, id, id, xref)
	ow.write(b.Bytes())
	return ow.err
}

// finishWithInfo is finish with an /Info entry in the trailer.
func (ow *objWriter) finishWithInfo(root, info Ref) error {
	ow.trailerExtra = " /Info " + info.String()
	return ow.finish(root)
}
