package console

import (
	"html/template"
	"net/http"
	"time"

	"github.com/blindpack/blindpack/api/people"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/policy"
)

// pageNames are the templates, each rendered inside people's layout.
var pageNames = []string{"list", "submission", "page", "confirm"}

// audience is the console's frame: its title and navigation.
var audience = people.Audience{Name: "console", TitleZH: "职称评审材料管理控制台", TitleEN: "Administrators' console", Home: Prefix,
	Nav: []people.Link{{Href: Prefix, ZH: "待处理", EN: "Attention", ID: "nav-attention"}}}

func parseTemplates(site *people.Site) (*people.Pages, error) {
	funcs := template.FuncMap{
		"bj":       beijing,
		"codeZH":   codeZH,
		"statusZH": statusZH,
	}
	return site.Pages(audience, templateFS, funcs, pageNames...)
}

// show renders a page inside the shared layout.
func (c *Console) show(w http.ResponseWriter, r *http.Request, _ *visitor, code int, name string, body any) {
	c.pages.Show(w, r, code, name, titles[name], body)
}

var titles = map[string]string{
	"list": "待处理 Attention", "submission": "申报 Submission", "page": "页面 Page", "confirm": "确认 Confirm",
}

// errorPage answers an error as a small page in both languages.
func (c *Console) errorPage(w http.ResponseWriter, r *http.Request, _ *visitor, code int, zh, en string) {
	c.pages.Error(w, r, code, zh, en)
}

// internalError logs err (errors here come from Redis, S3 and our own
// code, never identity) and answers 500 without details.
func (c *Console) internalError(w http.ResponseWriter, r *http.Request, op string, err error) {
	c.pages.InternalError(w, r, op, err)
}

// beijing formats a time as the notice states times: Beijing time.
func beijing(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(policy.Beijing).Format("2006-01-02 15:04")
}

// label is a name in both languages.
type label struct{ ZH, EN string }

func (c *Console) material(typ string) label {
	if m, ok := c.pol.Material(typ); ok {
		return label{m.ShortZH, m.EN}
	}
	// Unknown types are the applicant's text: shown as they are (the
	// template escapes them), not translated.
	return label{"", typ}
}

func (c *Console) series(s string) label {
	if l, ok := c.pol.Series(s); ok {
		return label{l.ZH, l.EN}
	}
	return label{"", s}
}

func (c *Console) level(s string) label {
	if l, ok := c.pol.Level(s); ok {
		return label{l.ZH, l.EN}
	}
	return label{"", s}
}

// clarityCodes are the findings an administrator may set aside by
// accepting the page: the pipeline applies overrides to clarity only.
var clarityCodes = map[finding.Code]bool{
	finding.BlankPage: true, finding.LowResolution: true, finding.HeavyCompression: true, finding.Blurry: true,
	finding.TooDark: true, finding.Overexposed: true, finding.LowContrast: true,
}

var codeNames = map[finding.Code]string{
	finding.BlankPage: "空白页", finding.LowResolution: "分辨率不足", finding.HeavyCompression: "压缩过度",
	finding.Blurry: "图像模糊", finding.TooDark: "过暗", finding.Overexposed: "过曝", finding.LowContrast: "对比度不足",
	finding.MalformedSubmission: "申报数据格式错误", finding.SubmissionMissing: "申报数据缺失", finding.UnsupportedSchema: "版本不支持",
	finding.InvalidField: "字段无效", finding.UnknownMaterialType: "材料类型未知", finding.DuplicateMaterial: "材料重复",
	finding.MissingMaterial: "缺少材料", finding.MaskMissing: "缺少遮盖", finding.MaskInvalid: "遮盖无效",
	finding.MaskOutOfRange: "遮盖页码越界", finding.FileMissing: "文件缺失", finding.EmptyFile: "空文件",
	finding.FileTooLarge: "文件过大", finding.UnsupportedFormat: "格式不支持", finding.CorruptFile: "文件损坏",
	finding.ImageTooLarge: "图像过大", finding.EncryptedPDF: "PDF已加密", finding.MalformedPDF: "PDF损坏",
	finding.DecompressionLimit: "解压超限", finding.TooManyPages: "页数过多", finding.UnsupportedPDFPage: "非扫描页",
	finding.UnsupportedImageEncoding: "图像编码不支持", finding.IdentityLeak: "身份信息泄露", finding.MaskNotApplied: "遮盖未生效",
	pipeline.TooManyReturns: "退回超过3次", pipeline.ResubmissionOverdue: "逾期重交", pipeline.ApplicationAbandoned: "已视为放弃",
	pipeline.AlreadyAccepted: "已通过", pipeline.OutsideSubmissionWindow: "不在申报期", pipeline.UnknownCampaign: "未知年度",
	finding.RenderFailed: "无法转换为图像", finding.FontNotEmbedded: "字体未嵌入",
}

// codeZH names a finding code in Chinese ("" when there is no name).
func codeZH(code string) string { return codeNames[finding.Code(code)] }

// taskStateNames name asynq's task states, which the console shows beside
// failed tasks.
var taskStateNames = map[string]string{
	"archived": "已归档", "active": "处理中", "scheduled": "已计划", "retry": "重试中", "completed": "已完成", "pending": "待处理",
}

// statusZH names in Chinese a value of the domain's status vocabularies
// (a submission's state or outcome, an application's status or listing),
// or a task's state.
func statusZH(s string) string {
	if zh := pipeline.SubmissionState(s).ZH(); zh != "" {
		return zh
	}
	if zh := pipeline.ApplicationStatus(s).ZH(); zh != "" {
		return zh
	}
	return taskStateNames[s]
}
