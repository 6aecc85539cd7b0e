package pdfkit

import "testing"

// FuzzLexer: the lexer ends on any input, every token moves it forward
// (so there are at most as many tokens as bytes, plus one), decoded strings
// are no longer than the input, and skipping an inline image anywhere never
// runs off the end.
func FuzzLexer(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		l := NewLexer(data)
		n := 0
		for {
			tok, ok := l.Next()
			if !ok {
				break
			}
			if n++; n > len(data)+1 {
				t.Fatalf("more than %d tokens from %d bytes", n, len(data))
			}
			if len(tok.Str) > len(data) || len(tok.Text) > len(data) {
				t.Fatalf("token longer than the input")
			}
			if tok.Kind == TokOperator && tok.Text == "ID" {
				l.SkipInlineImage()
			}
			if l.p > len(data)+1 {
				t.Fatalf("position %d past the end %d", l.p, len(data))
			}
		}
	})
}
