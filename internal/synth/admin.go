package synth

import "strconv"

// Documents below go to administrators only: they are checked but never
// reach a reviewer, so samples carry no masks for them. They still report
// their Rects, which tests use.

// PublicityNotice draws the employer's internal publicity notice
// (推荐单位公示): the employer as the issuer, the name in the list of
// candidates.
func PublicityNotice(id Identity, o Options) (Page, error) {
	c, err := newCanvas(a4W, a4H, id, o)
	if err != nil {
		return Page{}, err
	}
	p := o.profile()
	r := rng(o, "publicity", 0)
	c.draw(a4W/2, 38, 17, center, true, c.employer())
	c.draw(a4W/2, 50, 17, center, true, txt("关于2024年度专业技术职务任职资格"))
	c.draw(a4W/2, 61, 17, center, true, txt("评审推荐人选的公示"))
	y := c.para(25, 80, 160, 12, 8, txt("根据《关于做好2024年度企业专业技术人员职称评审工作的通知》要求，经个人申报、单位审核，现将我单位拟推荐人选情况予以公示："))
	cols := []float64{25, 40, 75, 115, 145, 185}
	head := []string{"序号", "姓名", "申报系列", "申报级别", "申报资格"}
	var hr row
	hr.h = 10
	for i, s := range head {
		hr.cells = append(hr.cells, lbl(cols[i], cols[i+1], s))
	}
	y = c.rows(y, []row{hr, {10, []formCell{
		lbl(cols[0], cols[1], "1"), lbl(cols[1], cols[2], ""), lbl(cols[2], cols[3], p.series),
		lbl(cols[3], cols[4], p.level), lbl(cols[4], cols[5], p.target),
	}}})
	c.draw((cols[1]+cols[2])/2, baseline(y-10, y, 10.5), 10.5, center, false, c.name())
	y = c.para(25, y+12, 160, 12, 8, txt("公示时间：2024年8月26日至2024年9月1日（5个工作日）。公示期间，如对公示对象有异议，请以书面形式向单位人力资源部反映。反映情况须实事求是，并署真实姓名和联系方式。"))
	c.para(25, y, 160, 12, 8, txt("联系电话：0991-3"+digits(r, 6)))
	c.draw(182, 220, 12, right, false, c.employer())
	c.draw(182, 231, 12, right, false, txt("2024年8月26日"))
	c.ring(150, 222, 20, 0.8, 150)
	return c.finish("publicity", 0)
}

// PublicityResult draws the publicity result (推荐单位公示结果): the employer
// certifies that nobody objected to the named candidate.
func PublicityResult(id Identity, o Options) (Page, error) {
	c, err := newCanvas(a4W, a4H, id, o)
	if err != nil {
		return Page{}, err
	}
	p := o.profile()
	c.draw(a4W/2, 45, 20, center, true, txt("推荐人选公示结果"))
	y := c.para(25, 72, 160, 13, 9, txt("我单位于2024年8月26日至2024年9月1日，在单位内部对"), c.name(),
		txt("同志申报"+p.series+p.level+"专业技术职务任职资格的有关情况进行了公示，公示期为5个工作日。公示期间，未收到任何单位和个人的异议。"))
	c.para(25, y+2, 160, 13, 9, txt("特此证明。"))
	c.draw(182, 150, 13, right, false, c.employer())
	c.draw(182, 162, 13, right, false, txt("2024年9月2日"))
	c.ring(150, 150, 20, 0.8, 150)
	return c.finish("publicity-result", 0)
}

// RecommendationOpinion draws the competent unit's recommendation
// (主管单位推荐意见), a small form naming the applicant and the employer.
func RecommendationOpinion(id Identity, o Options) (Page, error) {
	c, err := newCanvas(a4W, a4H, id, o)
	if err != nil {
		return Page{}, err
	}
	p := o.profile()
	c.draw(a4W/2, 40, 20, center, true, txt("主管单位推荐意见"))
	a, b, cc, d, e := 20.0, 50.0, 100.0, 130.0, 190.0
	const h = 12.0
	y := c.rows(55, []row{
		{h, []formCell{lbl(a, b, "申报人姓名"), val(b, cc, c.name()), lbl(cc, d, "申报系列"), val(d, e, txt(p.series))}},
		{h, []formCell{lbl(a, b, "工作单位"), val(b, e, c.employer())}},
		{h, []formCell{lbl(a, b, "申报级别"), val(b, cc, txt(p.level)), lbl(cc, d, "申报资格"), val(d, e, txt(p.target))}},
	})
	yEnd := y + 110
	c.box(a, y, b, yEnd, rule)
	c.box(b, y, e, yEnd, rule)
	c.draw((a+b)/2, (y+yEnd)/2-3, 10.5, center, false, txt("推荐"))
	c.draw((a+b)/2, (y+yEnd)/2+4, 10.5, center, false, txt("意见"))
	c.para(b+3, y+10, e-b-6, 12, 8, txt("经审核，该同志申报材料真实、完整，符合申报条件，其所在单位已按规定进行公示，无异议。同意推荐参加2024年度"+p.series+p.level+"专业技术职务任职资格评审。"))
	c.draw(e-30, yEnd-22, 12, center, false, txt("主管单位（盖章）"))
	c.draw(e-5, yEnd-10, 12, right, false, txt("2024年9月5日"))
	c.ring(e-30, yEnd-24, 20, 0.8, 150)
	c.draw(a, yEnd+10, 10.5, left, false, txt("主管单位：经开区（头屯河区）产业发展局"))
	return c.finish("recommendation", 0)
}

// ContinuingEducation draws a continuing-education record (继续教育学时证明)
// with hours per year, as printed from the training platform.
func ContinuingEducation(id Identity, o Options) (Page, error) {
	c, err := newCanvas(a4W, a4H, id, o)
	if err != nil {
		return Page{}, err
	}
	r := rng(o, "ce", 0)
	c.draw(a4W/2, 40, 18, center, true, txt("专业技术人员继续教育学时证明"))
	c.draw(25, 60, 12, left, false, txt("姓名："), c.name())
	c.draw(25, 70, 12, left, false, txt("工作单位："), c.employer())
	c.draw(25, 80, 12, left, false, txt("证明编号：JX2024"+digits(r, 8)))
	cols := []float64{25, 55, 90, 125, 155, 185}
	rows := []row{{10, nil}}
	for i, s := range []string{"年度", "公需科目", "专业科目", "合计学时", "考核结果"} {
		rows[0].cells = append(rows[0].cells, lbl(cols[i], cols[i+1], s))
	}
	for _, year := range []string{"2021", "2022", "2023"} {
		pub, pro := 30, 60+10*r.IntN(3)
		vals := []string{year, strconv.Itoa(pub), strconv.Itoa(pro), strconv.Itoa(pub + pro), "合格"}
		rr := row{h: 10}
		for i, s := range vals {
			rr.cells = append(rr.cells, lbl(cols[i], cols[i+1], s))
		}
		rows = append(rows, rr)
	}
	y := c.rows(90, rows)
	c.para(25, y+12, 160, 12, 8, txt("经核查，该同志已按规定完成上述年度继续教育学时，考核合格。本证明由继续教育管理平台打印，仅用于职称申报。"))
	c.draw(182, y+50, 12, right, false, txt("新疆专业技术人员继续教育管理平台"))
	c.draw(182, y+61, 12, right, false, txt("2024年9月1日"))
	return c.finish("ce", 0)
}

// CEExemption draws the continuing-education exemption form
// (继续教育免试审批表, attachment 5 of the notice).
func CEExemption(id Identity, o Options) (Page, error) {
	c, err := newCanvas(a4W, a4H, id, o)
	if err != nil {
		return Page{}, err
	}
	p := o.profile()
	c.draw(25, 22, 10.5, left, false, txt("附件5"))
	c.draw(a4W/2, 40, 20, center, true, txt("继续教育免试审批表"))
	a, b, cc, d, e := 20.0, 50.0, 100.0, 130.0, 190.0
	const h = 12.0
	y := c.rows(52, []row{
		{h, []formCell{lbl(a, b, "姓名"), val(b, cc, c.name()), lbl(cc, d, "性别"), val(d, e, txt(p.gender))}},
		{h, []formCell{lbl(a, b, "工作单位"), val(b, e, c.employer())}},
		{h, []formCell{lbl(a, b, "申报系列"), val(b, cc, txt(p.series)), lbl(cc, d, "申报级别"), val(d, e, txt(p.level))}},
	})
	box := func(y, hh float64, label1, label2, body, sign string) float64 {
		c.box(a, y, b, y+hh, rule)
		c.box(b, y, e, y+hh, rule)
		c.draw((a+b)/2, y+hh/2-3, 10.5, center, false, txt(label1))
		c.draw((a+b)/2, y+hh/2+4, 10.5, center, false, txt(label2))
		c.para(b+3, y+10, e-b-6, 12, 8, txt(body))
		if sign != "" {
			c.draw(e-5, y+hh-14, 12, right, false, txt(sign))
		}
		c.draw(e-5, y+hh-5, 12, right, false, txt("2024年9月3日"))
		return y + hh
	}
	y = box(y, 70, "免试", "理由", "本人2021年至2023年每年均按要求完成继续教育学时，考核合格，且任现职以来取得的专业技术成果已通过单位认定，符合继续教育免试条件，特申请免试。", "申请人签字：")
	y = box(y, 50, "单位", "意见", "情况属实，同意申请免试。", "（单位盖章）")
	box(y, 50, "主管部门", "意见", "同意。", "（盖章）")
	return c.finish("ce-exemption", 0)
}

// IDCard draws the front of a resident ID card (身份证) as a small card-sized
// image, not A4: phone photos of ID cards are uploaded that way.
func IDCard(id Identity, o Options) (Page, error) {
	c, err := newCanvas(85.6, 54, id, o)
	if err != nil {
		return Page{}, err
	}
	p := o.profile()
	r := rng(o, "idcard", 0)
	c.fill(0, 0, c.w, c.h, 232)
	c.box(0.5, 0.5, c.w-0.5, c.h-0.5, 0.3)
	const lpt, vpt = 6.5, 9.0
	label := func(x, y float64, s string) { c.draw(x, y, lpt, left, false, txt(s)) }
	label(6, 10, "姓　名")
	c.draw(17, 10.3, vpt+1, left, true, c.name())
	label(6, 17, "性　别")
	c.draw(17, 17, vpt-1, left, false, txt(p.gender))
	label(28, 17, "民　族")
	c.draw(38, 17, vpt-1, left, false, txt("汉"))
	label(6, 24, "出　生")
	c.draw(17, 24, vpt-1, left, false, txt(p.birth[:4]+" 年 "+p.birth[7:9]+" 月 "+strconv.Itoa(1+r.IntN(28))+" 日"))
	label(6, 31, "住　址")
	c.draw(17, 31, vpt-1, left, false, txt("新疆乌鲁木齐市头屯河区"))
	c.draw(17, 36, vpt-1, left, false, txt("某某路"+strconv.Itoa(1+r.IntN(200))+"号"))
	label(6, 47, "公民身份号码")
	c.draw(24, 47, vpt, left, false, txt("650106"+p.birth[:4]+p.birth[7:9]+digits(r, 6)))
	c.photo(58, 7, 80, 37)
	return c.finish("idcard", 0)
}
