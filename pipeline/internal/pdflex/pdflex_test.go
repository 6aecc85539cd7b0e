package pdflex

import (
	"reflect"
	"testing"
)

func TestLexer(t *testing.T) {
	in := "q 1 0 0 -1.5 .5 +2 cm /Im0 Do Q BT /F1 12 Tf (a\\(b\\)\\101\\\n c) Tj <48 65 6c6> Tj [(x) -120 <0041>] TJ ET % comment\n<</MCID 0>> BDC BI /W 2 ID \x00EI\xff EI EMC"
	var got []Token
	l := New([]byte(in))
	for {
		tok, ok := l.Next()
		if !ok {
			break
		}
		if tok.Kind == Operator && tok.Text == "ID" {
			l.SkipInlineImage()
		}
		got = append(got, tok)
	}
	want := []Token{
		{Kind: Operator, Text: "q"}, {Kind: Number, Num: 1}, {Kind: Number}, {Kind: Number}, {Kind: Number, Num: -1.5},
		{Kind: Number, Num: .5}, {Kind: Number, Num: 2}, {Kind: Operator, Text: "cm"}, {Kind: Name, Text: "Im0"},
		{Kind: Operator, Text: "Do"}, {Kind: Operator, Text: "Q"}, {Kind: Operator, Text: "BT"}, {Kind: Name, Text: "F1"},
		{Kind: Number, Num: 12}, {Kind: Operator, Text: "Tf"}, {Kind: String, Str: []byte("a(b)A c")}, {Kind: Operator, Text: "Tj"},
		{Kind: String, Str: []byte("Hel`")}, {Kind: Operator, Text: "Tj"}, {Kind: Open}, {Kind: String, Str: []byte("x")},
		{Kind: Number, Num: -120}, {Kind: String, Str: []byte{0, 'A'}}, {Kind: Close}, {Kind: Operator, Text: "TJ"},
		{Kind: Operator, Text: "ET"}, {Kind: Dict, Text: "<<"}, {Kind: Name, Text: "MCID"}, {Kind: Number}, {Kind: Dict, Text: ">>"},
		{Kind: Operator, Text: "BDC"}, {Kind: Operator, Text: "BI"}, {Kind: Name, Text: "W"}, {Kind: Number, Num: 2},
		{Kind: Operator, Text: "ID"}, {Kind: Operator, Text: "EMC"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}
