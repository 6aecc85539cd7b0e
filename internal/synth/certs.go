package synth

import "fmt"

// frame draws the double border certificates have.
func (c *canvas) frame(inset float64) {
	c.box(inset, inset, c.w-inset, c.h-inset, 1.2)
	c.box(inset+3, inset+3, c.w-inset-3, c.h-inset-3, 0.3)
}

// field draws "label：value" with the label right-aligned at x, the way
// certificates line up their entries.
func (c *canvas) field(x, y, pt float64, label string, value ...span) {
	c.draw(x, y, pt, right, false, txt(label+"："))
	c.draw(x, y, pt, left, false, value...)
}

// DegreeCertificate draws a bachelor's degree certificate (学士学位证书), A4
// landscape. It names the applicant and a university that is not the
// employer: a check that also masked the school would be masking too much.
func DegreeCertificate(id Identity, o Options) (Page, error) {
	c, err := newCanvas(a4H, a4W, id, o)
	if err != nil {
		return Page{}, err
	}
	p := o.profile()
	r := rng(o, "degree", 0)
	c.frame(10)
	c.draw(c.w/2, 48, 30, center, true, txt("学士学位证书"))
	c.photo(32, 72, 62, 112)
	c.para(78, 82, 190, 16, 12, c.name(), txt("，"+p.gender+"，"+p.birthCN+"生。在"+p.school+p.major+
		"专业完成了四年制本科学习计划，业已毕业，经审核符合《中华人民共和国学位条例》的规定，授予"+p.degreeCN+"学士学位。"))
	c.draw(205, 158, 16, center, false, txt(p.school))
	c.draw(205, 170, 14, center, false, txt("校长（学位评定委员会主席）"))
	c.draw(205, 182, 14, center, false, txt(p.gradDateCN))
	c.ring(205, 160, 20, 0.8, 150)
	c.draw(30, 182, 11, left, false, txt("证书编号："+"10755"+p.gradDate[:4]+digits(r, 6)))
	return c.finish("degree", 0)
}

// TitleCertificate draws the certificate of the professional title held now
// (专业技术职务任职资格证书): name and employer in its entries, issued by the
// provincial HR department.
func TitleCertificate(id Identity, o Options) (Page, error) {
	c, err := newCanvas(a4W, a4H, id, o)
	if err != nil {
		return Page{}, err
	}
	p := o.profile()
	r := rng(o, "title", 0)
	c.frame(12)
	c.draw(a4W/2, 50, 24, center, true, txt("专业技术职务任职资格证书"))
	c.photo(88, 64, 122, 108)
	x, y, pt, lead := 80.0, 126.0, 13.0, 11.5
	entries := []struct {
		label string
		value []span
	}{
		{"姓　　名", []span{c.name()}},
		{"性　　别", []span{txt(p.gender)}},
		{"出生年月", []span{txt(p.birth)}},
		{"工作单位", []span{c.employer()}},
		{"专　　业", []span{txt(p.speciality)}},
		{"资格名称", []span{txt(p.current)}},
		{"评审时间", []span{txt(p.currentDate)}},
		{"批准文号", []span{txt("新人社职〔" + p.currentYear + "〕" + fmt.Sprint(10+r.IntN(190)) + "号")}},
		{"证书编号", []span{txt("XJZC" + p.currentYear + digits(r, 8))}},
	}
	for _, e := range entries {
		c.field(x, y, pt, e.label, e.value...)
		y += lead
	}
	c.para(30, y+8, 150, 12, 8, txt("经自治区"+p.series+"专业技术职务任职资格评审委员会评审通过，具备"+p.current+"任职资格。特发此证。"))
	c.draw(138, 262, 13, center, false, txt("新疆维吾尔自治区人力资源和社会保障厅"))
	c.draw(138, 272, 13, center, false, txt(p.currentDate))
	c.ring(138, 262, 20, 0.8, 150)
	return c.finish("title", 0)
}

// QualificationCertificate draws a professional qualification certificate
// (职业资格证书 / 专业技术资格证书), which counts as a title for some
// applicants instead of a TitleCertificate.
func QualificationCertificate(id Identity, o Options) (Page, error) {
	c, err := newCanvas(a4W, a4H, id, o)
	if err != nil {
		return Page{}, err
	}
	p := o.profile()
	r := rng(o, "qualification", 0)
	c.frame(12)
	c.draw(a4W/2, 44, 14, center, false, txt("中华人民共和国"))
	c.draw(a4W/2, 60, 24, center, true, txt("专业技术资格证书"))
	c.photo(88, 72, 122, 116)
	x, y, pt, lead := 80.0, 138.0, 13.0, 12.0
	entries := []struct {
		label string
		value []span
	}{
		{"姓　　名", []span{c.name()}},
		{"性　　别", []span{txt(p.gender)}},
		{"出生年月", []span{txt(p.birth)}},
		{"工作单位", []span{c.employer()}},
		{"资格名称", []span{txt(p.qualName)}},
		{"级　　别", []span{txt(p.qualLevel)}},
		{"批准日期", []span{txt(p.currentDate)}},
		{"管 理 号", []span{txt(p.currentYear + "65" + digits(r, 10))}},
	}
	for _, e := range entries {
		c.field(x, y, pt, e.label, e.value...)
		y += lead
	}
	c.para(30, y+8, 150, 12, 8, txt("本证书表明持证人通过国家统一组织的考试，取得"+p.qualName+"（"+p.qualLevel+"）资格，在全国范围内有效。"))
	c.draw(a4W/2, 268, 12, center, false, txt("人力资源和社会保障部　监制"))
	return c.finish("qualification", 0)
}

// PatentCertificate draws an invention patent certificate (发明专利证书), the
// achievement most applicants attach: the name among the inventors and the
// employer as patentee.
func PatentCertificate(id Identity, o Options) (Page, error) {
	c, err := newCanvas(a4W, a4H, id, o)
	if err != nil {
		return Page{}, err
	}
	p := o.profile()
	r := rng(o, "patent", 0)
	c.frame(12)
	c.draw(a4W/2, 48, 26, center, true, txt("发明专利证书"))
	c.draw(a4W/2, 62, 12, center, false, txt("证书号第"+digits(r, 7)+"号"))
	year := fmt.Sprint(2019 + r.IntN(3))
	x0, y, pt, lead := 30.0, 84.0, 12.0, 11.0
	items := [][]span{
		{txt("发明名称：" + p.invention)},
		{txt("发 明 人："), c.name(), txt("；王建国；赵晓梅")},
		{txt("专 利 号：ZL " + year + " 1 " + digits(r, 7) + "." + digits(r, 1))},
		{txt("专利申请日：" + year + "年03月15日")},
		{txt("专利权人："), c.employer()},
		{txt("地　　址：新疆乌鲁木齐经济技术开发区" + fmt.Sprint(10+r.IntN(80)) + "号")},
		{txt("授权公告日：" + fmt.Sprint(atoi(year)+2) + "年06月20日")},
		{txt("授权公告号：CN " + digits(r, 9) + " B")},
	}
	for _, it := range items {
		c.draw(x0, y, pt, left, false, it...)
		y += lead
	}
	y = c.para(x0, y+10, 150, 11, 7.5, txt("国家知识产权局依照中华人民共和国专利法进行审查，决定授予专利权，颁发发明专利证书并在专利登记簿上予以登记。专利权自授权公告之日起生效。专利权期限为二十年，自申请日起算。"))
	c.para(x0, y+4, 150, 11, 7.5, txt("专利证书记载专利权登记时的法律状况。专利权的转移、质押、无效、终止、恢复和专利权人的姓名或名称、国籍、地址变更等事项记载在专利登记簿上。"))
	c.draw(150, 255, 14, center, false, txt("国家知识产权局"))
	c.draw(150, 266, 12, center, false, txt("局长（签章）"))
	c.ring(150, 256, 18, 0.8, 150)
	return c.finish("patent", 0)
}

// AchievementProof draws a proof of achievement (业绩证明) issued by the
// employer, which names the employer twice — in the body and in the
// signature — as such letters do.
func AchievementProof(id Identity, o Options) (Page, error) {
	c, err := newCanvas(a4W, a4H, id, o)
	if err != nil {
		return Page{}, err
	}
	p := o.profile()
	r := rng(o, "proof", 0)
	c.draw(a4W/2, 45, 22, center, true, txt("业绩证明"))
	y := c.para(25, 70, 160, 13, 9, txt("兹证明"), c.name(), txt("同志自"+p.currentYear+"年起在我单位（"), c.employer(),
		txt("）"+p.dept+"工作，期间主持完成了“"+p.project+"”项目。"+p.paragraph(r, 4)))
	y = c.para(25, y+2, 160, 13, 9, txt("该项目取得了良好的经济效益和社会效益，经单位技术委员会评议，认定为本单位年度重点技术成果。"))
	c.para(25, y+2, 160, 13, 9, txt("特此证明。"))
	c.draw(182, 236, 13, right, false, c.employer())
	c.draw(182, 248, 13, right, false, txt("2024年8月20日"))
	c.ring(150, 236, 20, 0.8, 150)
	return c.finish("proof", 0)
}
