package pdfkit

import (
	"reflect"
	"testing"
)

func TestLexer(t *testing.T) {
	in := "q 1 0 0 -1.5 .5 +2 cm /Im0 Do Q BT /F1 12 Tf (a\\(b\\)\\101\\\n c) Tj <48 65 6c6> Tj [(x) -120 <0041>] TJ ET % comment\n<</MCID 0>> BDC BI /W 2 ID \x00EI\xff EI EMC"
	var got []Token
	l := NewLexer([]byte(in))
	for {
		tok, ok := l.Next()
		if !ok {
			break
		}
		if tok.Kind == TokOperator && tok.Text == "ID" {
			l.SkipInlineImage()
		}
		got = append(got, tok)
	}
	want := []Token{
		{Kind: TokOperator, Text: "q"}, {Kind: TokNumber, Num: 1}, {Kind: TokNumber}, {Kind: TokNumber}, {Kind: TokNumber, Num: -1.5},
		{Kind: TokNumber, Num: .5}, {Kind: TokNumber, Num: 2}, {Kind: TokOperator, Text: "cm"}, {Kind: TokName, Text: "Im0"},
		{Kind: TokOperator, Text: "Do"}, {Kind: TokOperator, Text: "Q"}, {Kind: TokOperator, Text: "BT"}, {Kind: TokName, Text: "F1"},
		{Kind: TokNumber, Num: 12}, {Kind: TokOperator, Text: "Tf"}, {Kind: TokString, Str: []byte("a(b)A c")}, {Kind: TokOperator, Text: "Tj"},
		{Kind: TokString, Str: []byte("Hel`")}, {Kind: TokOperator, Text: "Tj"}, {Kind: TokOpen}, {Kind: TokString, Str: []byte("x")},
		{Kind: TokNumber, Num: -120}, {Kind: TokString, Str: []byte{0, 'A'}}, {Kind: TokClose}, {Kind: TokOperator, Text: "TJ"},
		{Kind: TokOperator, Text: "ET"}, {Kind: TokDict, Text: "<<"}, {Kind: TokName, Text: "MCID"}, {Kind: TokNumber}, {Kind: TokDict, Text: ">>"},
		{Kind: TokOperator, Text: "BDC"}, {Kind: TokOperator, Text: "BI"}, {Kind: TokName, Text: "W"}, {Kind: TokNumber, Num: 2},
		{Kind: TokOperator, Text: "ID"}, {Kind: TokOperator, Text: "EMC"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}
