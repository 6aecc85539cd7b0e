package pipeline_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"

	"github.com/blindpack/blindpack/pipeline/finding"
)

func itoa(i int) string { return strconv.Itoa(i) }

func fmtV(v any) string     { return fmt.Sprintf("%v %s", v, v) }
func fmtPlusV(v any) string { return fmt.Sprintf("%+v %#v", v, v) }

func asFinding(err error, fe **finding.Error) bool { return errors.As(err, fe) }

// hugePNG is a valid PNG header claiming 60000×60000 pixels over a few bytes.
func hugePNG() []byte {
	chunk := func(typ string, body []byte) []byte {
		var b bytes.Buffer
		binary.Write(&b, binary.BigEndian, uint32(len(body)))
		b.WriteString(typ)
		b.Write(body)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), body...)))
		return b.Bytes()
	}
	var ihdr bytes.Buffer
	binary.Write(&ihdr, binary.BigEndian, []uint32{60000, 60000})
	ihdr.Write([]byte{8, 0, 0, 0, 0})
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	b.Write(chunk("IHDR", ihdr.Bytes()))
	b.Write(chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01}))
	b.Write(chunk("IEND", nil))
	return b.Bytes()
}

// buffer is an in-memory packet Output.
type buffer struct{ bytes.Buffer }

func (b *buffer) ReadAt(p []byte, off int64) (int, error) {
	return bytes.NewReader(b.Bytes()).ReadAt(p, off)
}
