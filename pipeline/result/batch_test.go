package result

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

func sampleBatchJSON(t testing.TB) map[string]any {
	t.Helper()
	data, err := os.ReadFile("testdata/batch.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestParseBatch(t *testing.T) {
	person := func(m map[string]any, i int) map[string]any { return m["approved"].([]any)[i].(map[string]any) }
	tests := []struct {
		name string
		edit func(m map[string]any)
		// fields that must be named in the error, in any order; none means valid.
		fields []string
	}{
		{"Valid", func(map[string]any) {}, nil},
		{"TitleWithLineBreak", func(m map[string]any) { m["title"] = "关于公布2024年度评审结果\n的通知" }, nil},
		{"NoOptionalFields", func(m map[string]any) { delete(m, "addressee") }, nil},
		{"WrongSchema", func(m map[string]any) { m["schema"] = "blindpack/batch@2" }, []string{"schema"}},
		{"BadCampaign", func(m map[string]any) { m["campaign"] = "../2024" }, []string{"campaign"}},
		{"SquareBrackets", func(m map[string]any) { m["doc_number"] = "头人社发[2024]12号" }, []string{"doc_number"}},
		{"LeadingZero", func(m map[string]any) { m["doc_number"] = "头人社发〔2024〕012号" }, []string{"doc_number"}},
		{"WithDi", func(m map[string]any) { m["doc_number"] = "头人社发〔2024〕第12号" }, []string{"doc_number"}},
		{"YearMismatch", func(m map[string]any) { m["doc_number"] = "头人社发〔2023〕12号" }, []string{"doc_number"}},
		{"BadDate", func(m map[string]any) { m["date"] = "2024/11/20" }, []string{"date"}},
		{"EmptyTitle", func(m map[string]any) { m["title"] = " " }, []string{"title"}},
		{"ControlInAuthority", func(m map[string]any) { m["authority"] = "人社\u0007局" }, []string{"authority"}},
		{"NoPersons", func(m map[string]any) { m["approved"] = []any{} }, []string{"approved"}},
		{"BadSeries", func(m map[string]any) { person(m, 1)["series"] = "medicine" }, []string{"approved[1].series"}},
		{"MissingName", func(m map[string]any) { delete(person(m, 2), "name") }, []string{"approved[2].name"}},
		{"Duplicate", func(m map[string]any) {
			m["approved"] = append(m["approved"].([]any), person(m, 0))
		}, []string{"approved[8]"}},
		{"UnknownField", func(m map[string]any) { m["titel"] = "x" }, []string{"titel"}},
		{"BadSealCode", func(m map[string]any) { m["seal_code"] = "65-01" }, []string{"seal_code"}},
		{"NoColophonFields", func(m map[string]any) { delete(m, "copy_to"); delete(m, "printed_by"); delete(m, "printed_date") }, nil},
		{"PrintedBeforeIssued", func(m map[string]any) { m["printed_date"] = "2024-11-19" }, []string{"printed_date"}},
		{"BadPrintedDate", func(m map[string]any) { m["printed_date"] = "2024年11月21日" }, []string{"printed_date"}},
		{"CopyToJoined", func(m map[string]any) { m["copy_to"] = []any{"自治区人社厅，市人社局"} }, []string{"copy_to[0]"}},
		{"CopyToEmpty", func(m map[string]any) { m["copy_to"] = []any{"自治区人社厅", " "} }, []string{"copy_to[1]"}},
		{"CopyToNotList", func(m map[string]any) { m["copy_to"] = "自治区人社厅" }, []string{"copy_to"}},
		{"EveryProblemListed", func(m map[string]any) {
			m["schema"] = ""
			m["date"] = "tomorrow"
			person(m, 0)["series"] = ""
			person(m, 3)["qualification"] = ""
		}, []string{"schema", "date", "approved[0].series", "approved[3].qualification"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := sampleBatchJSON(t)
			tt.edit(m)
			data, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			b, err := ParseBatch(data)
			if len(tt.fields) == 0 {
				if err != nil {
					t.Fatalf("ParseBatch: %v", err)
				}
				if b.IssuerName() != b.Authority {
					t.Errorf("IssuerName = %q, want the authority", b.IssuerName())
				}
				return
			}
			var be *BatchError
			if !errors.As(err, &be) || !errors.Is(err, ErrInvalidBatch) {
				t.Fatalf("err = %v, want a *BatchError wrapping ErrInvalidBatch", err)
			}
			got := map[string]bool{}
			for _, p := range be.Problems {
				got[p.Field] = true
				if p.ZH == "" || p.EN == "" {
					t.Errorf("problem %q lacks a message in both languages", p.Field)
				}
			}
			for _, f := range tt.fields {
				if !got[f] {
					t.Errorf("no problem for %s in:\n%v", f, err)
				}
			}
			if len(be.Problems) != len(tt.fields) {
				t.Errorf("%d problems, want %d:\n%v", len(be.Problems), len(tt.fields), err)
			}
			t.Log(err)
		})
	}
}

func TestParseBatchNotJSON(t *testing.T) {
	for name, doc := range map[string]string{
		"Garbage":   "not json",
		"Trailing":  `{"schema":"blindpack/batch@1"} {}`,
		"WrongType": `{"approved": "张三"}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseBatch([]byte(doc))
			if !errors.Is(err, ErrInvalidBatch) {
				t.Fatalf("err = %v, want ErrInvalidBatch", err)
			}
			if !strings.Contains(err.Error(), "/") {
				t.Errorf("error is not bilingual: %v", err)
			}
		})
	}
}

func TestDateZH(t *testing.T) {
	b := &Batch{Date: "2024-01-05"}
	if got := DateZH(b.Day()); got != "2024年1月5日" {
		t.Errorf("DateZH = %q, want 2024年1月5日 (no leading zeros)", got)
	}
}
