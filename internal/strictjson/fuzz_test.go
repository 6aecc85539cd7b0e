package strictjson_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/blindpack/blindpack/internal/strictjson"
)

// FuzzDecode: any bytes give a value or an *Error (never a panic), the
// error never quotes a string of the input, and what decodes is what
// encoding/json reads too (the strict decoder accepts a subset).
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"id":"a","page":1,"items":[{"name":"x","rect":[1,2]}]}`,
		`{"id":"a","id":"b"}`, `{"ID":"a"}`, `{"id":"a"}}`, `{"items":[{"rect":[1,2,3]}]}`,
		"{\"id\":\"\xff\"}", `[]`, `null`, `{"items":null}`, `{"page":1e400}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v doc
		err := strictjson.Decode(data, 1<<16, &v)
		if err == nil {
			var lax doc
			if lerr := json.Unmarshal(data, &lax); lerr != nil {
				t.Fatalf("strict accepted what encoding/json refuses: %v", lerr)
			}
			return
		}
		var e *strictjson.Error
		if !errors.As(err, &e) && !errors.Is(err, strictjson.ErrTooLarge) {
			t.Fatalf("error of another type: %v", err)
		}
		if e != nil && strings.ContainsAny(e.Error(), `"'`) {
			t.Fatalf("error quotes the input: %s", e.Error())
		}
	})
}
