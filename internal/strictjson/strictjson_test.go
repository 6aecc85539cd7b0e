package strictjson_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/blindpack/blindpack/internal/strictjson"
)

type inner struct {
	Name string     `json:"name"`
	Rect [2]float64 `json:"rect"`
}

type doc struct {
	ID    string  `json:"id"`
	Page  int     `json:"page"`
	Items []inner `json:"items"`
}

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name, in, kind, path string
	}{
		{"good", `{"id":"a","page":1,"items":[{"name":"x","rect":[1,2]}]}`, "", ""},
		{"white space around", " \n{\"id\":\"a\"}\n ", "", ""},
		{"duplicate key", `{"id":"a","id":"b"}`, "duplicate_member", ""},
		{"duplicate nested key", `{"items":[{"name":"张三","name":"李四"}]}`, "duplicate_member", "/items/0"},
		{"case-insensitive match", `{"ID":"a"}`, "unknown_member", ""},
		{"unknown member", `{"id":"a","张三":1}`, "unknown_member", ""},
		{"unknown nested member", `{"items":[{"employer":"x"}]}`, "unknown_member", "/items/0"},
		{"trailing garbage", `{"id":"a"} x`, "trailing_data", ""},
		{"trailing brace", `{"id":"a"}}`, "trailing_data", ""},
		{"second value", `{"id":"a"}{"id":"b"}`, "trailing_data", ""},
		{"wrong type", `{"page":"1"}`, "wrong_type", "/page"},
		{"array too long", `{"items":[{"rect":[1,2,3]}]}`, "wrong_type", "/items/0/rect"},
		{"invalid UTF-8", "{\"id\":\"\xff\"}", "syntax", ""},
		{"not JSON", `{`, "syntax", ""},
		{"empty", ``, "empty", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v doc
			err := strictjson.Decode([]byte(tc.in), 1<<10, &v)
			if tc.kind == "" {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				return
			}
			var e *strictjson.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want a *strictjson.Error", err)
			}
			if e.Kind != tc.kind || e.Path != tc.path {
				t.Errorf("kind %q path %q, want %q %q (%v)", e.Kind, e.Path, tc.kind, tc.path, e.Unwrap())
			}
			// The description never quotes the document.
			for _, s := range []string{"张三", "李四", "employer", `"a"`, `"1"`} {
				if strings.Contains(e.Error(), s) {
					t.Errorf("%q quotes %q", e.Error(), s)
				}
			}
		})
	}
	// The offending member's name is kept apart, for documents that are
	// not secret.
	var e *strictjson.Error
	var v doc
	if err := strictjson.Decode([]byte(`{"id":"a","张三":1}`), 0, &v); !errors.As(err, &e) || e.Member != "张三" {
		t.Errorf("unknown member: %v", err)
	}
	if err := strictjson.Decode([]byte(`{"items":[{"name":"x","name":"y"}]}`), 0, &v); !errors.As(err, &e) || e.Member != "name" {
		t.Errorf("repeated member: %v", err)
	}
	if err := strictjson.Decode([]byte(`{"id":"`+strings.Repeat("a", 2000)+`"}`), 1<<10, &v); !errors.Is(err, strictjson.ErrTooLarge) {
		t.Errorf("over the limit: %v", err)
	}
}
