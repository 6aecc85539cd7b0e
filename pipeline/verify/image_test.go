package verify

import (
	"bytes"
	"compress/zlib"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

func TestInvertedCMYK(t *testing.T) {
	ints := func(v ...int) types.Array {
		var a types.Array
		for _, n := range v {
			a = append(a, types.Integer(n))
		}
		return a
	}
	for _, c := range []struct {
		o    types.Object
		want bool
	}{
		{ints(1, 0, 1, 0, 1, 0, 1, 0), true},
		{ints(0, 1, 0, 1, 0, 1, 0, 1), false},
		{ints(1, 0, 1, 0, 1, 0), false},
		{types.Name("Decode"), false},
	} {
		if got := invertedCMYK(c.o); got != c.want {
			t.Errorf("%v: %v, want %v", c.o, got, c.want)
		}
	}
}

func TestFlateForm(t *testing.T) {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(make([]byte, 100))
	zw.Close()
	good := z.Bytes()
	for name, c := range map[string]struct {
		data []byte
		n    int64
		ok   bool
	}{
		"exact":         {good, 100, true},
		"short":         {good, 101, false},
		"long":          {good, 99, false},
		"trailing data": {append(bytes.Clone(good), "name"...), 100, false},
		"not zlib":      {[]byte("name"), 100, false},
	} {
		if err := flateForm(c.data, c.n); (err == nil) != c.ok {
			t.Errorf("%s: %v", name, err)
		}
	}
}
