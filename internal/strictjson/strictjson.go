package strictjson

import (
	"errors"
	"fmt"
	"strings"

	json "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// ErrTooLarge is returned for a document over the limit.
var ErrTooLarge = errors.New("strictjson: document too large")

// Error is a document that cannot be decoded. Its message names the kind
// of problem, a byte offset and, where there is one, the path of the
// member by the schema's own names: never a value, nor a member name the
// schema does not have (either may be the applicant's name).
type Error struct {
	// Kind is one of "syntax", "duplicate_member", "unknown_member",
	// "wrong_type", "trailing_data", "empty".
	Kind string
	// Offset is the byte offset where the problem was found.
	Offset int64
	// Path is a JSON pointer (RFC 6901) made of known member names and
	// array indices; "" for the document itself.
	Path string
	// Member is the name of the unknown or repeated member. The document's
	// author chose it: show it only where the document is not secret.
	Member string
	err    error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(strings.ReplaceAll(e.Kind, "_", " "))
	if e.Path != "" {
		fmt.Fprintf(&b, " in %s", e.Path)
	}
	fmt.Fprintf(&b, " at byte %d", e.Offset)
	return b.String()
}

// Unwrap returns the decoder's error. Its text may quote the document:
// keep it out of logs and answers.
func (e *Error) Unwrap() error { return e.err }

// options are the decoder's: encoding/json/v2 already refuses duplicate
// names, case-insensitive matches, invalid UTF-8 and trailing data by
// default; unknown members are refused on top.
var options = json.JoinOptions(json.DefaultOptionsV2(), json.RejectUnknownMembers(true))

// Decode decodes data, which must be exactly one JSON value of at most
// limit bytes (limit ≤ 0: no limit), into v.
func Decode(data []byte, limit int64, v any) error {
	if limit > 0 && int64(len(data)) > limit {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(data), limit)
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return &Error{Kind: "empty"}
	}
	if err := json.Unmarshal(data, v, options); err != nil {
		return describe(err)
	}
	return nil
}

// describe turns a decoder error into an Error that quotes nothing.
func describe(err error) error {
	var syn *jsontext.SyntacticError
	var sem *json.SemanticError
	switch {
	case errors.As(err, &syn):
		e := &Error{Kind: "syntax", Offset: syn.ByteOffset, err: err}
		switch {
		case errors.Is(syn.Err, jsontext.ErrDuplicateName):
			// The pointer ends with the repeated name, a schema name or
			// not; keep only the parent.
			e.Kind, e.Path, e.Member = "duplicate_member", string(syn.JSONPointer.Parent()), syn.JSONPointer.LastToken()
		case strings.Contains(syn.Err.Error(), "after top-level value"):
			e.Kind = "trailing_data"
		}
		return e
	case errors.As(err, &sem):
		e := &Error{Kind: "wrong_type", Offset: sem.ByteOffset, Path: string(sem.JSONPointer), err: err}
		if errors.Is(sem.Err, json.ErrUnknownName) {
			e.Kind, e.Path, e.Member = "unknown_member", string(sem.JSONPointer.Parent()), sem.JSONPointer.LastToken()
		}
		return e
	}
	return &Error{Kind: "syntax", err: err}
}
