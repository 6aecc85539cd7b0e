package result

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/blindpack/blindpack/internal/strictjson"
)

// SchemaBatch is the schema name a batch document must carry.
const SchemaBatch = "blindpack/batch@1"

// MaxApproved bounds the persons in one batch. A year's whole campaign is a
// few thousand; the bound keeps a mistaken upload from building a
// thousand-page file.
const MaxApproved = 5000

// Batch is a blindpack/batch@1 document: one approval decision of the
// evaluation committee, published as one signed file. Everything in it is
// public.
type Batch struct {
	Schema    string `json:"schema"`
	Campaign  string `json:"campaign"`
	Authority string `json:"authority"`
	// DocNumber is the document number (发文字号), e.g. 头人社发〔2024〕12号.
	DocNumber string `json:"doc_number"`
	// Date is the date of issue (成文日期), YYYY-MM-DD.
	Date  string `json:"date"`
	Title string `json:"title"`
	// Body is the text before the table; paragraphs are separated by
	// newlines.
	Body     string   `json:"body"`
	Approved []Person `json:"approved"`

	// Addressee is the optional main recipient line (主送机关), e.g.
	// 各有关单位, written under the title. An extension of batch@1.
	Addressee string `json:"addressee,omitempty"`
	// Issuer is the name signed under the body (发文机关署名); default
	// Authority. An extension of batch@1.
	Issuer string `json:"issuer,omitempty"`
	// SealCode is the optional code along the bottom of the seal (印章编码,
	// digits). An extension of batch@1.
	SealCode string `json:"seal_code,omitempty"`

	// The 版记 (GB/T 9704 7.4) at the foot of the last page: CopyTo lists
	// the bodies that receive a copy (抄送机关), PrintedBy is the office
	// that issues the printed file (印发机关, default Authority) and
	// PrintedDate the day it does (印发日期, YYYY-MM-DD, default Date).
	// Extensions of batch@1.
	CopyTo      []string `json:"copy_to,omitempty"`
	PrintedBy   string   `json:"printed_by,omitempty"`
	PrintedDate string   `json:"printed_date,omitempty"`
}

// MaxCopyTo bounds the bodies a file is copied to.
const MaxCopyTo = 30

// PrinterName is the 印发机关 of the 版记.
func (b *Batch) PrinterName() string {
	if b.PrintedBy != "" {
		return b.PrintedBy
	}
	return b.Authority
}

// PrintedDay is the 印发日期; valid only after ParseBatch succeeded.
func (b *Batch) PrintedDay() time.Time {
	if b.PrintedDate == "" {
		return b.Day()
	}
	t, _ := time.Parse(time.DateOnly, b.PrintedDate)
	return t
}

// Person is one approved applicant as the file lists them.
type Person struct {
	Name          string `json:"name"`
	Employer      string `json:"employer"`
	Series        string `json:"series"`
	Speciality    string `json:"speciality"`
	Qualification string `json:"qualification"`
}

// seriesZH names the series in scope of the notice as the table shows them.
var seriesZH = map[string]string{
	"economics":   "经济",
	"audit":       "审计",
	"accounting":  "会计",
	"statistics":  "统计",
	"engineering": "工程",
}

// SeriesZH returns the Chinese name of a series ("engineering" → 工程), or
// "" for a series the notice does not cover.
func SeriesZH(series string) string { return seriesZH[series] }

// IssuerName is the name signed under the body.
func (b *Batch) IssuerName() string {
	if b.Issuer != "" {
		return b.Issuer
	}
	return b.Authority
}

// Day is the date of issue; valid only after ParseBatch succeeded.
func (b *Batch) Day() time.Time {
	t, _ := time.Parse(time.DateOnly, b.Date)
	return t
}

// DateZH formats t as the standard writes dates of issue: Arabic numerals,
// the full year, no leading zeros (2024年11月20日).
func DateZH(t time.Time) string {
	return fmt.Sprintf("%d年%d月%d日", t.Year(), int(t.Month()), t.Day())
}

// maxBatchBytes bounds a batch document: 5000 persons at ~200 bytes each.
const maxBatchBytes = 4 << 20

// ParseBatch decodes and validates a batch document. Any problem gives a
// *BatchError (wrapping ErrInvalidBatch) that lists all of them.
func ParseBatch(data []byte) (*Batch, error) {
	if len(data) > maxBatchBytes {
		return nil, &BatchError{Problems: []Problem{{Field: "(document)",
			ZH: fmt.Sprintf("文件过大（超过%d MiB）", maxBatchBytes>>20),
			EN: fmt.Sprintf("document larger than %d MiB", maxBatchBytes>>20)}}}
	}
	var b Batch
	if err := strictjson.Decode(data, 0, &b); err != nil {
		return nil, &BatchError{Problems: []Problem{jsonProblem(err)}}
	}
	if err := b.Validate(); err != nil {
		return nil, err
	}
	return &b, nil
}

// jsonProblem describes why the document could not be decoded
// (strictjson: repeated, unknown or case-mismatched members, trailing
// data, wrong types, bad syntax).
func jsonProblem(err error) Problem {
	var e *strictjson.Error
	if !errors.As(err, &e) {
		return Problem{Field: "(document)", ZH: "不是有效的 JSON", EN: "not valid JSON"}
	}
	// Results are public: the member's name may be quoted.
	field := strings.TrimPrefix(e.Path, "/")
	if e.Member != "" {
		field = strings.TrimPrefix(field+"/"+e.Member, "/")
	}
	if field == "" {
		field = "(document)"
	}
	zh := map[string]string{"syntax": "JSON 语法错误", "duplicate_member": "字段重复", "unknown_member": "未知字段（拼写错误？字段名区分大小写）",
		"wrong_type": "类型错误", "trailing_data": "JSON 文档之后还有多余内容", "empty": "文档为空"}[e.Kind]
	return Problem{Field: field, ZH: fmt.Sprintf("%s（第%d字节）", zh, e.Offset), EN: e.Error()}
}

var (
	campaignPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	// docNumberPattern is 机关代字〔年份〕序号号: the year in hexagonal brackets,
	// the number without leading zeros and without 第 (GB/T 9704 7.2.4).
	docNumberPattern = regexp.MustCompile(`^(\p{Han}+)〔(\d{4})〕([1-9]\d*)号$`)
	sealCodePattern  = regexp.MustCompile(`^[0-9A-Za-z]{1,20}$`)
)

// Validate checks every field and returns a *BatchError listing all
// problems, or nil.
func (b *Batch) Validate() error {
	var ps []Problem
	add := func(field, zh, en string) { ps = append(ps, Problem{Field: field, ZH: zh, EN: en}) }
	text := func(field, v string, maxRunes int, required, multiline bool) {
		switch {
		case strings.TrimSpace(v) == "":
			if required {
				add(field, "必填，不能为空", "required, must not be empty")
			}
			return
		case utf8.RuneCountInString(v) > maxRunes:
			add(field, fmt.Sprintf("过长（最多%d字）", maxRunes), fmt.Sprintf("too long (at most %d characters)", maxRunes))
		case v != strings.TrimSpace(v):
			add(field, "首尾不能有空白", "must not start or end with white space")
		}
		for _, r := range v {
			if r == '\n' && multiline {
				continue
			}
			if unicode.IsControl(r) || r == utf8.RuneError {
				add(field, "含有控制字符或无效字符", "contains a control or invalid character")
				return
			}
		}
	}

	if b.Schema != SchemaBatch {
		add("schema", fmt.Sprintf("应为 %q", SchemaBatch), fmt.Sprintf("must be %q", SchemaBatch))
	}
	if !campaignPattern.MatchString(b.Campaign) || strings.Contains(b.Campaign, "..") {
		add("campaign", "应为字母、数字、点、下划线或连字符（如 2024）", "must be letters, digits, '.', '_' or '-' (e.g. 2024)")
	}
	text("authority", b.Authority, 40, true, false)
	text("issuer", b.Issuer, 40, false, false)
	text("title", b.Title, 120, true, true)
	text("body", b.Body, 5000, true, true)
	text("addressee", b.Addressee, 60, false, false)
	if b.SealCode != "" && !sealCodePattern.MatchString(b.SealCode) {
		add("seal_code", "印章编码应为1至20位字母或数字", "the seal code must be 1 to 20 letters or digits")
	}

	day, dateErr := time.Parse(time.DateOnly, b.Date)
	if dateErr != nil {
		add("date", "日期格式应为 YYYY-MM-DD（如 2024-11-20）", "date must be YYYY-MM-DD (e.g. 2024-11-20)")
	}
	text("printed_by", b.PrintedBy, 40, false, false)
	if b.PrintedDate != "" {
		printed, err := time.Parse(time.DateOnly, b.PrintedDate)
		switch {
		case err != nil:
			add("printed_date", "日期格式应为 YYYY-MM-DD（如 2024-11-20）", "date must be YYYY-MM-DD (e.g. 2024-11-20)")
		case dateErr == nil && printed.Before(day):
			add("printed_date", "印发日期不能早于成文日期", "the printing date cannot be before the date of issue")
		}
	}
	if len(b.CopyTo) > MaxCopyTo {
		add("copy_to", fmt.Sprintf("抄送机关过多（最多%d个）", MaxCopyTo), fmt.Sprintf("too many bodies (at most %d)", MaxCopyTo))
	}
	for i, c := range b.CopyTo {
		f := fmt.Sprintf("copy_to[%d]", i)
		text(f, c, 40, true, false)
		if strings.ContainsAny(c, "，、,。；;") {
			add(f, "每项只写一个机关名称（分隔符由系统添加）", "one body per entry (the separators are added)")
		}
	}
	if m := docNumberPattern.FindStringSubmatch(b.DocNumber); m == nil {
		add("doc_number", docNumberHint(b.DocNumber), "must be like 头人社发〔2024〕12号: year in 〔〕, number without leading zeros, ending in 号")
	} else if year, _ := strconv.Atoi(m[2]); dateErr == nil && year != day.Year() {
		add("doc_number", fmt.Sprintf("发文字号年份%d与成文日期年份%d不一致", year, day.Year()),
			fmt.Sprintf("year %d in the document number differs from the date's year %d", year, day.Year()))
	}

	switch n := len(b.Approved); {
	case n == 0:
		add("approved", "至少列出一名通过人员", "must list at least one approved person")
	case n > MaxApproved:
		add("approved", fmt.Sprintf("人数过多（最多%d人）", MaxApproved), fmt.Sprintf("too many persons (at most %d)", MaxApproved))
	}
	seen := map[[2]string]int{}
	for i, p := range b.Approved {
		f := func(name string) string { return fmt.Sprintf("approved[%d].%s", i, name) }
		text(f("name"), p.Name, 20, true, false)
		text(f("employer"), p.Employer, 60, true, false)
		text(f("speciality"), p.Speciality, 30, true, false)
		text(f("qualification"), p.Qualification, 30, true, false)
		if _, ok := seriesZH[p.Series]; !ok {
			add(f("series"), "系列应为 economics、audit、accounting、statistics 或 engineering",
				"series must be economics, audit, accounting, statistics or engineering")
		}
		k := [2]string{p.Name, p.Employer}
		if j, dup := seen[k]; dup && p.Name != "" {
			add(fmt.Sprintf("approved[%d]", i), fmt.Sprintf("与第%d项重复（姓名和工作单位相同）", j),
				fmt.Sprintf("duplicates approved[%d] (same name and employer)", j))
		} else {
			seen[k] = i
		}
	}
	if len(ps) > 0 {
		return &BatchError{Problems: ps}
	}
	return nil
}

// docNumberHint explains the commonest mistakes in a document number.
func docNumberHint(s string) string {
	switch {
	case s == "":
		return "必填，如 头人社发〔2024〕12号"
	case strings.ContainsAny(s, "[]【】()（）{}"):
		return "年份应使用六角括号〔〕，如 头人社发〔2024〕12号"
	case strings.Contains(s, "第"):
		return "序号前不加“第”字，如 头人社发〔2024〕12号"
	case regexp.MustCompile(`〕0\d`).MatchString(s):
		return "序号不编虚位（1不编为01），如 头人社发〔2024〕12号"
	}
	return "格式应为 机关代字〔年份〕序号号，如 头人社发〔2024〕12号"
}
