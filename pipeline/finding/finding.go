package finding

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Code is a stable finding code. Codes are part of the public report
// contract: add new ones freely, never rename or remove one.
type Code string

// Finding is one reason a submission is not accepted, or a remark on it.
// It never carries the applicant's name or employer.
type Finding struct {
	// Material is the 0-based index of the material in the submission, nil
	// for findings about the submission as a whole.
	Material *int `json:"material,omitempty"`
	// Type is the material type, when the finding is about one type.
	Type string `json:"type,omitempty"`
	// Page is 1-based within the material's file; 0 when not about a page.
	Page      int     `json:"page,omitempty"`
	Code      Code    `json:"code"`
	MessageZH string  `json:"message_zh"`
	MessageEN string  `json:"message_en"`
	Measured  *Number `json:"measured,omitempty"`
	Threshold *Number `json:"threshold,omitempty"`
	// Detail is a technical note for administrators (never identity text).
	Detail string `json:"detail,omitempty"`
	// Box is where on the page the finding is, [x0, y0, x1, y1] in
	// fractions of the displayed page from the top left (the frame of a
	// mask), for findings about a place on a page.
	Box *[4]float64 `json:"box,omitempty"`
}

// Number is a measured value or threshold, rounded for reports.
type Number float64

// Num returns v rounded to three significant digits, which is all a
// measure is good for and all an applicant needs to read.
func Num(v float64) *Number {
	if v != 0 && !math.IsNaN(v) && !math.IsInf(v, 0) {
		scale := math.Pow(10, 2-math.Floor(math.Log10(math.Abs(v))))
		v = math.Round(v*scale) / scale
	}
	n := Number(v)
	return &n
}

// String formats n as its shortest decimal, "" for nil.
func (n *Number) String() string {
	if n == nil {
		return ""
	}
	return strconv.FormatFloat(float64(*n), 'f', -1, 64)
}

// Codes about the submission document itself.
const (
	MalformedSubmission Code = "malformed_submission"
	SubmissionMissing   Code = "submission_missing"
	UnsupportedSchema   Code = "unsupported_schema"
	InvalidField        Code = "invalid_field"
	UnknownMaterialType Code = "unknown_material_type"
	DuplicateMaterial   Code = "duplicate_material"
	MissingMaterial     Code = "missing_material"
	MaskMissing         Code = "mask_missing"
	MaskInvalid         Code = "mask_invalid"
	MaskOutOfRange      Code = "mask_page_out_of_range"
	// PublicityTooShort: the employer publicised the application for
	// fewer working days than the notice asks (通知 三(三)); measured and
	// threshold are working days.
	PublicityTooShort Code = "publicity_too_short"
	// PublicityPeriodMissing: the policy requires the publicity period and
	// the submission does not give it.
	PublicityPeriodMissing Code = "publicity_period_missing"
)

// Codes about an uploaded file.
const (
	FileMissing              Code = "file_missing"
	EmptyFile                Code = "empty_file"
	FileTooLarge             Code = "file_too_large"
	UnsupportedFormat        Code = "unsupported_format"
	CorruptFile              Code = "corrupt_file"
	ImageTooLarge            Code = "image_too_large"
	EncryptedPDF             Code = "encrypted_pdf"
	MalformedPDF             Code = "malformed_pdf"
	DecompressionLimit       Code = "decompression_limit"
	TooManyPages             Code = "too_many_pages"
	UnsupportedPDFPage       Code = "unsupported_pdf_page"
	UnsupportedImageEncoding Code = "unsupported_image_encoding"
)

// RenderFailed: a PDF page that is not one scanned image could not be
// drawn into pixels: the sandboxed renderer could not read it, trapped,
// ran out of its memory cap or passed its deadline. A page drawn blank is
// blank_page, as for scans.
const RenderFailed Code = "render_failed"

// FontNotEmbedded: a PDF page has Chinese, Japanese or Korean text in a
// font the file does not embed, and the renderer has no fallback font to
// draw it with; accepting it would give reviewers the page without that
// text. Workers with the fallback fonts draw such pages instead.
const FontNotEmbedded Code = "font_not_embedded"

// AmbiguousOrientation: a file says which way up it is in more than one
// place (HEIC irot beside an EXIF orientation, two EXIF blocks, repeated
// TIFF tags) and the places disagree. Viewers pick different ones, so
// the page the applicant saw cannot be known; it is refused, not guessed.
const AmbiguousOrientation Code = "ambiguous_orientation"

// ImageTooComplex: an image is built of more parts than any scanner or
// camera writes (JPEG scans or tables, PNG chunks), and decoding it would
// cost time in proportion; it is refused before it is decoded.
const ImageTooComplex Code = "image_too_complex"

// RepeatedPageUnmasked: a page repeats another page of the submission (a
// perceptual hash of the displayed pages) and one copy has masks while
// this one has none: the applicant masked only the first copy.
const RepeatedPageUnmasked Code = "repeated_page_unmasked"

// Codes about the clarity of a page. Their findings carry the measured
// value and the policy's threshold, both in the units the policy file
// gives them.
const (
	BlankPage        Code = "blank_page"
	LowResolution    Code = "low_resolution"
	HeavyCompression Code = "heavy_compression"
	Blurry           Code = "blurry"
	TooDark          Code = "too_dark"
	Overexposed      Code = "overexposed"
	LowContrast      Code = "low_contrast"
)

// Codes about a photographed page: the sheet found in the frame is too
// far from facing the camera, or part of it is outside the frame. Their
// findings carry the measured value and the limit.
const (
	PageSkewed Code = "page_skewed"
	PageCutOff Code = "page_cut_off"
)

// Codes of the packet verifier: the finished packet failed a check and was
// not published. None is the applicant's doing unless said so; the message
// says an administrator will look at it.
const (
	IdentityLeak           Code = "identity_leak"
	MaskNotApplied         Code = "mask_not_applied"
	MetadataPresent        Code = "metadata_present"
	IncrementalUpdate      Code = "incremental_update"
	AnnotationPresent      Code = "annotation_present"
	FormPresent            Code = "form_present"
	AttachmentPresent      Code = "attachment_present"
	JavaScriptPresent      Code = "javascript_present"
	OptionalContentPresent Code = "optional_content_present"
	ForeignContent         Code = "foreign_content"
	ImageMetadata          Code = "image_metadata"
	TrailingData           Code = "trailing_data"
	UnverifiablePacket     Code = "unverifiable_packet"
	// NoncanonicalImage: an image stream is not in the form blindpack
	// writes (a segment, table or byte that no decoder uses, a size that
	// differs from the image's dictionary): something copied an upload's
	// bytes through.
	NoncanonicalImage Code = "noncanonical_image"
)

// IdentityUnmasked: the page's text layer holds the applicant's name or
// employer where no mask covers it. The finding carries the box, and its
// message says where on the page, never the text.
const IdentityUnmasked Code = "identity_unmasked"

// Args fill in a message.
type Args struct {
	// MaterialZH and MaterialEN name the material, e.g. "申报表" and
	// "application form".
	MaterialZH, MaterialEN string
	Page                   int
	// Value is free text the message quotes, e.g. a field name or a type;
	// ValueEN replaces it in the English sentence when the words differ.
	Value, ValueEN string
	// Measured and Threshold fill {measured} and {threshold} and are copied
	// into the finding; nil for findings that measure nothing.
	Measured, Threshold *Number
}

type text struct{ zh, en string }

// messages hold templates: {m} material, {p} page, {v} value, {measured}
// and {threshold} the numbers of a measured finding. A sentence says what
// is wrong and what to do.
var messages = map[Code]text{
	MalformedSubmission: {"申报数据格式错误（{v}），请通过平台重新提交。", "The submission document is malformed ({v}); submit it again through the platform."},
	SubmissionMissing:   {"申报数据未找到，请通过平台重新提交。", "The submission document was not found; submit it again through the platform."},
	UnsupportedSchema:   {"申报数据版本不受支持（{v}）。", "The submission schema {v} is not supported."},
	InvalidField:        {"申报数据字段“{v}”无效，请检查后重新提交。", "The submission field {v} is invalid; check it and submit again."},
	UnknownMaterialType: {"材料类型“{v}”无法识别。", "The material type {v} is unknown."},
	DuplicateMaterial:   {"{m}重复上传，该材料只能提交一份。", "The {m} was uploaded more than once; it may appear only once."},
	MissingMaterial:     {"缺少必需材料：{m}，请补充上传。", "A required material is missing: {m}. Please upload it."},
	MaskMissing:         {"{m}缺少“{v}”遮盖区域：盲评要求遮盖本人姓名和工作单位，请使用遮盖工具后重新提交。", "The {m} has no {v} mask; blind review requires covering your name and employer with the masking tool."},
	MaskInvalid:         {"{m}第{p}页的遮盖区域无效（{v}），请重新标注。", "A masking rectangle on page {p} of the {m} is invalid ({v}); mark it again."},
	MaskOutOfRange:      {"{m}只有{v}页，遮盖区域标在了第{p}页，请重新标注。", "The {m} has {v} page(s) but a mask is on page {p}; mark it again."},
	PublicityTooShort: {"推荐单位公示期（{v}）只有{measured}个工作日，不足{threshold}个工作日（节假日不计，调休上班日计入），请单位重新公示满{threshold}个工作日后上传公示材料。",
		"The employer's publicity ({v}) lasted {measured} working days, fewer than {threshold} (public holidays do not count, adjusted working days do); the employer must publicise the application again for at least {threshold} working days before you upload the notice."},
	PublicityPeriodMissing: {"{m}未填写公示起止日期，请补充（公示期不少于{threshold}个工作日）。", "The {m} does not give the publicity's start and end dates; add them (at least {threshold} working days)."},

	FileMissing:              {"{m}的文件未找到，请重新上传。", "The file of the {m} was not found; upload it again."},
	EmptyFile:                {"{m}的文件为空，请重新上传。", "The file of the {m} is empty; upload it again."},
	FileTooLarge:             {"{m}的文件过大（{v}），请压缩或分开上传。", "The file of the {m} is too large ({v}); reduce its size."},
	UnsupportedFormat:        {"{m}的文件不是JPEG、PNG、PDF、TIFF、HEIC、WebP或BMP格式，请转换后上传。", "The file of the {m} is not a JPEG, PNG, PDF, TIFF, HEIC, WebP or BMP file; convert it and upload again."},
	CorruptFile:              {"{m}第{p}页文件损坏或不完整，无法打开，请重新扫描上传。", "Page {p} of the {m} is damaged or incomplete and cannot be opened; scan and upload it again."},
	ImageTooLarge:            {"{m}第{p}页图像尺寸过大（{v}），请以300dpi左右重新扫描。", "Page {p} of the {m} has too many pixels ({v}); scan it again at about 300 dpi."},
	EncryptedPDF:             {"{m}的PDF文件设置了密码或加密，请上传未加密的文件。", "The PDF of the {m} is encrypted or password-protected; upload an unprotected file."},
	MalformedPDF:             {"{m}的PDF文件结构损坏，无法读取，请重新生成后上传。", "The PDF of the {m} is damaged and cannot be read; create it again and upload."},
	DecompressionLimit:       {"{m}的文件解压后数据量异常，已拒绝处理，请重新扫描上传。", "The file of the {m} expands to an abnormal size and was refused; scan and upload it again."},
	TooManyPages:             {"{m}页数过多（{v}），请精简后上传。", "The {m} has too many pages ({v}); reduce them."},
	UnsupportedPDFPage:       {"{m}第{p}页不是扫描图像（{v}），请上传纸质材料的扫描件。", "Page {p} of the {m} is not a scanned image ({v}); upload a scan of the paper document."},
	IdentityLeak:             {"材料包校验未通过：在{v}发现申报人身份信息，材料包未发布，管理员将核查处理。", "Packet check failed: applicant identity found in {v}; the packet was not published and an administrator will look into it."},
	MaskNotApplied:           {"材料包校验未通过：第{p}页遮盖区域未完全涂黑，材料包未发布，管理员将核查处理。", "Packet check failed: a mask on packet page {p} is not solid black; the packet was not published and an administrator will look into it."},
	MetadataPresent:          {"材料包校验未通过：文件含有元数据（{v}），材料包未发布。", "Packet check failed: the file carries metadata ({v}); the packet was not published."},
	IncrementalUpdate:        {"材料包校验未通过：文件含有多个修订版本，材料包未发布。", "Packet check failed: the file has more than one revision; the packet was not published."},
	AnnotationPresent:        {"材料包校验未通过：文件含有批注（{v}），材料包未发布。", "Packet check failed: the file has annotations ({v}); the packet was not published."},
	FormPresent:              {"材料包校验未通过：文件含有表单（{v}），材料包未发布。", "Packet check failed: the file has form fields ({v}); the packet was not published."},
	AttachmentPresent:        {"材料包校验未通过：文件含有附件（{v}），材料包未发布。", "Packet check failed: the file has attachments ({v}); the packet was not published."},
	JavaScriptPresent:        {"材料包校验未通过：文件含有脚本或动作（{v}），材料包未发布。", "Packet check failed: the file has JavaScript or actions ({v}); the packet was not published."},
	OptionalContentPresent:   {"材料包校验未通过：文件含有可选内容图层（{v}），材料包未发布。", "Packet check failed: the file has optional-content layers ({v}); the packet was not published."},
	ForeignContent:           {"材料包校验未通过：文件含有非本系统生成的内容（{v}），材料包未发布。", "Packet check failed: the file holds content blindpack does not write ({v}); the packet was not published."},
	ImageMetadata:            {"材料包校验未通过：图像含有元数据（{v}），材料包未发布。", "Packet check failed: an image carries metadata ({v}); the packet was not published."},
	TrailingData:             {"材料包校验未通过：文件末尾有多余数据，材料包未发布。", "Packet check failed: data follows the end of the file; the packet was not published."},
	UnverifiablePacket:       {"材料包无法校验（{v}），材料包未发布，管理员将核查处理。", "The packet could not be checked ({v}); it was not published and an administrator will look into it."},
	NoncanonicalImage:        {"材料包校验未通过：图像数据不是本系统生成的规范格式（{v}），材料包未发布，管理员将核查处理。", "Packet check failed: an image is not in the form blindpack writes ({v}); the packet was not published and an administrator will look into it."},
	UnsupportedImageEncoding: {"{m}第{p}页的图像编码不受支持（{v}），请以普通JPEG或PNG格式重新扫描。", "Page {p} of the {m} uses an unsupported image encoding ({v}); scan it again as plain JPEG or PNG."},
	FontNotEmbedded:          {"{m}第{p}页的中文（或日文、韩文）文字使用了未嵌入文件的字体，无法按原样显示，请在导出PDF时选择“嵌入字体”（或用“打印为PDF”）后重新上传。", "Page {p} of the {m} has Chinese (or Japanese, Korean) text in a font that is not embedded in the file, so it cannot be shown as written; export the PDF again with \"embed fonts\" chosen (or with \"Print to PDF\") and upload it."},
	RenderFailed:             {"{m}第{p}页无法转换为图像（{v}），请用其他软件重新导出PDF（如“打印为PDF”）后上传。", "Page {p} of the {m} could not be drawn into an image ({v}); export the PDF again from another program (e.g. \"Print to PDF\") and upload it."},
	ImageTooComplex:          {"{m}第{p}页图像的内部结构过于复杂（{v}），无法处理，请用常用软件另存为普通JPEG或PNG后重新上传。", "Page {p} of the {m} is built of too many parts ({v}) to be processed; save it again as a plain JPEG or PNG with common software and upload it again."},
	RepeatedPageUnmasked:     {"{m}第{p}页与{v}内容相同，但{v}已做遮盖而此页没有，请同样遮盖此页的姓名和单位，或删除重复的页面后重新提交。", "Page {p} of the {m} repeats {v}, which has masks while this copy has none; mask the name and employer on this copy too, or remove the repeated page, and submit again."},
	AmbiguousOrientation:     {"{m}第{p}页图像的方向信息相互矛盾（{v}），无法确定哪一边朝上，请将图片旋转到正确方向后另存为JPEG或PNG再上传。", "Page {p} of the {m} records its orientation in more than one place and they disagree ({v}), so which way up it is cannot be known; turn the picture upright, save it as JPEG or PNG and upload it again."},

	BlankPage:        {"{m}第{p}页似乎是空白页（有字迹的面积 {measured}%，需 ≥ {threshold}%），请确认扫描的是有内容的一面后重新上传。", "Page {p} of the {m} looks blank (writing covers {measured}% of it, at least {threshold}% expected); check that you scanned the side with the content and upload it again."},
	LowResolution:    {"{m}第{p}页分辨率过低（{measured} ppi，需 ≥ {threshold} ppi），请以200–300 dpi重新扫描，或上传未经压缩的原图。", "Page {p} of the {m} has too low a resolution ({measured} ppi, at least {threshold} needed); scan it again at 200–300 dpi, or upload the original photo rather than a reduced copy."},
	HeavyCompression: {"{m}第{p}页图像压缩过度（JPEG质量约 {measured}，需 ≥ {threshold}），细节已丢失，请以较高质量重新扫描或保存。", "Page {p} of the {m} is compressed too heavily (JPEG quality about {measured}, at least {threshold} needed) and has lost detail; scan or save it again at a higher quality."},
	Blurry:           {"{m}第{p}页图像模糊（清晰度 {measured}，需 ≥ {threshold}），请放平材料、对准焦点、保持稳定后重新扫描或拍摄。", "Page {p} of the {m} is blurry (sharpness {measured}, at least {threshold} needed); lay the page flat, focus and hold still, then scan or photograph it again."},
	TooDark:          {"{m}第{p}页图像过暗（纸面亮度 {measured}，需 ≥ {threshold}），请在光线充足处重新扫描或拍摄。", "Page {p} of the {m} is too dark (paper brightness {measured}, at least {threshold} needed); scan or photograph it again in good light."},
	Overexposed:      {"{m}第{p}页图像过亮、字迹发白（字迹亮度 {measured}，需 ≤ {threshold}），请调低亮度或避开强光后重新扫描或拍摄。", "Page {p} of the {m} is washed out (the writing is as light as {measured}, at most {threshold} allowed); lower the brightness or avoid glare, then scan or photograph it again."},
	PageSkewed:       {"{m}第{p}页是斜着拍的，纸张边缘与画面倾斜过大（{measured}°，最多 {threshold}°），请将手机正对纸面、与纸边对齐后重新拍摄，或使用扫描仪。", "Page {p} of the {m} was photographed at too steep an angle (the sheet's edges turn {measured}° from the photo's, at most {threshold}° allowed); hold the phone straight above the page, lined up with its edges, and photograph it again, or use a scanner."},
	PageCutOff:       {"{m}第{p}页照片没有拍全，字迹在画面边缘被截断（占纸张边缘的 {measured}%，最多 {threshold}%），请将整张纸放入画面内后重新拍摄。", "Page {p} of the {m} is cut off: writing runs off the edge of the photo ({measured}% of the sheet's outline, at most {threshold}% allowed); photograph it again with the whole sheet inside the frame."},
	IdentityUnmasked: {"{m}第{p}页{v}没有被遮盖区域完全盖住，请使用遮盖工具遮盖后重新提交。", "Page {p} of the {m}: {v} is not fully covered by a mask; cover it with the masking tool and submit again."},
	LowContrast:      {"{m}第{p}页字迹与纸面对比度过低（对比度 {measured}，需 ≥ {threshold}），请调整扫描设置（如使用“文本/黑白文档”模式）后重新扫描。", "Page {p} of the {m} has too little contrast between writing and paper ({measured}, at least {threshold} needed); change the scanner settings (e.g. a text or document mode) and scan it again."},
}

// Register adds message templates for codes defined elsewhere (later
// stages). It panics on a duplicate, which is a programming error.
func Register(code Code, zh, en string) {
	if _, ok := messages[code]; ok {
		panic(fmt.Sprintf("finding: code %q registered twice", code))
	}
	messages[code] = text{zh, en}
}

// Known reports whether code has messages.
func Known(code Code) bool { _, ok := messages[code]; return ok }

// New makes a finding with its messages filled in.
func New(code Code, a Args) Finding {
	t, ok := messages[code]
	if !ok {
		t = text{"处理失败（" + string(code) + "）。", "Processing failed (" + string(code) + ")."}
	}
	zhM, enM := a.MaterialZH, a.MaterialEN
	if zhM == "" {
		zhM = "材料"
	}
	if enM == "" {
		enM = "material"
	}
	fill := func(s, m, v string) string {
		return strings.NewReplacer("{m}", m, "{p}", fmt.Sprint(a.Page), "{v}", v,
			"{measured}", a.Measured.String(), "{threshold}", a.Threshold.String()).Replace(s)
	}
	vEN := a.Value
	if a.ValueEN != "" {
		vEN = a.ValueEN
	}
	en := fill(t.en, enM, vEN)
	if len(en) > 0 && en[0] >= 'a' && en[0] <= 'z' {
		en = strings.ToUpper(en[:1]) + en[1:]
	}
	return Finding{Code: code, Page: a.Page, MessageZH: fill(t.zh, zhM, a.Value), MessageEN: en,
		Measured: a.Measured, Threshold: a.Threshold}
}

// Error is a bad-input error from a stage: it becomes a finding in the
// report instead of failing the task.
type Error struct {
	Code Code
	// Page is 1-based within the file, 0 for the whole file.
	Page int
	// Value fills the {v} of the message.
	Value string
	// Measured and Threshold are the numbers of a measured finding, nil
	// for others.
	Measured, Threshold *Number
	// Err is the underlying cause, for logs and the finding's detail.
	Err error
}

func (e *Error) Error() string {
	s := string(e.Code)
	if e.Page > 0 {
		s += fmt.Sprintf(" (page %d)", e.Page)
	}
	if e.Value != "" {
		s += ": " + e.Value
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error for code on page with a value and a cause.
func Errorf(code Code, page int, value string, cause error) *Error {
	return &Error{Code: code, Page: page, Value: value, Err: cause}
}
