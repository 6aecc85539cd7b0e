package synth

// MeasureApplicants are the fictional applicants of the OCR measurements
// (detection and mask suggestions): a three-character name, a compound
// surname, a two-character name (matched exactly only), and employers
// with and without a region and legal form.
var MeasureApplicants = []Identity{
	{Name: "张三丰", Employer: "新疆天山重工机械有限公司"},
	{Name: "李静怡", Employer: "乌鲁木齐经开区恒信会计师事务所有限公司"},
	{Name: "欧阳明轩", Employer: "新疆准东能源化工股份有限公司"},
	{Name: "王建", Employer: "乌鲁木齐宏达建设工程有限责任公司"},
}

// PageKind is one kind of page of the measurements and how to draw it.
type PageKind struct {
	Name string
	Draw func(Identity, Options) (Page, error)
}

// MeasureKinds are the pages reviewers read, as the measurements draw
// them: the two pages of the application form, a performance summary and
// five kinds of certificate.
var MeasureKinds = []PageKind{
	{"form-1", func(id Identity, o Options) (Page, error) { return ApplicationForm(id, 1, o) }},
	{"form-2", func(id Identity, o Options) (Page, error) { return ApplicationForm(id, 2, o) }},
	{"summary", func(id Identity, o Options) (Page, error) { return PerformanceSummary(id, 1, 1, o) }},
	{"degree", DegreeCertificate},
	{"title", TitleCertificate},
	{"qualification", QualificationCertificate},
	{"patent", PatentCertificate},
	{"achievement", AchievementProof},
}
