package synth

import "fmt"

const (
	a4W = 210.0
	a4H = 297.0
)

// row is one line of a ruled form: label/value pairs laid into columns.
type row struct {
	h     float64
	cells []formCell
}

type formCell struct {
	x0, x1 float64
	label  bool
	spans  []span
}

func (c *canvas) rows(y float64, rows []row) float64 {
	for _, r := range rows {
		for _, cl := range r.cells {
			c.box(cl.x0, y, cl.x1, y+r.h, rule)
			a := left
			if cl.label {
				a = center
			}
			c.cell(cl.x0, y, cl.x1, y+r.h, 10.5, a, cl.spans...)
		}
		y += r.h
	}
	return y
}

func lbl(x0, x1 float64, s string) formCell { return formCell{x0, x1, true, []span{txt(s)}} }
func val(x0, x1 float64, sp ...span) formCell {
	return formCell{x0, x1, false, sp}
}

// ApplicationForm draws page 1 or 2 of the two-page application form
// (专业技术职务任职资格评审申报表), the one material every reviewer reads first
// and the only one the contract requires masks on. Page 1 has the name and
// the employer in table rows; page 2 repeats the employer in the work
// history and the name in the applicant's signature.
func ApplicationForm(id Identity, page int, o Options) (Page, error) {
	if page != 1 && page != 2 {
		return Page{}, fmt.Errorf("synth: application form has pages 1 and 2, not %d", page)
	}
	c, err := newCanvas(a4W, a4H, id, o)
	if err != nil {
		return Page{}, err
	}
	p := o.profile()
	r := rng(o, "form", page)
	x0, x1 := 20.0, 190.0
	if page == 1 {
		c.draw(x0, 16, 10.5, left, false, txt("附件1"))
		c.draw(a4W/2, 32, 20, center, true, txt("专业技术职务任职资格评审申报表"))
		c.draw(a4W/2, 42, 12, center, false, txt("（2024年度）"))
		c.draw(x0, 52, 10.5, left, false, txt("申报编号：XJ2024-"+digits(r, 6)))
		c.draw(x1, 52, 10.5, right, false, txt("填表日期：2024年9月10日"))
		// Columns: label, value, label, value, photo.
		a, b, cc, d, e := x0, 48.0, 92.0, 120.0, 162.0
		y := 56.0
		const h = 11.0
		yPhoto := y
		y = c.rows(y, []row{
			{h, []formCell{lbl(a, b, "姓名"), val(b, cc, c.name()), lbl(cc, d, "性别"), val(d, e, txt(p.gender))}},
			{h, []formCell{lbl(a, b, "出生年月"), val(b, cc, txt(p.birth)), lbl(cc, d, "民族"), val(d, e, txt("汉族"))}},
			{h, []formCell{lbl(a, b, "政治面貌"), val(b, cc, txt("群众")), lbl(cc, d, "参加工作时间"), val(d, e, txt(p.workStart))}},
			{h, []formCell{lbl(a, b, "身份证号"), val(b, e, txt("650102"+p.birth[:4]+p.birth[7:9]+digits(r, 6)))}},
		})
		c.box(e, yPhoto, x1, y, rule)
		c.draw((e+x1)/2, (yPhoto+y)/2+1.5, 10.5, center, false, txt("照片"))
		y = c.rows(y, []row{
			{h, []formCell{lbl(a, b, "工作单位"), val(b, x1, c.employer())}},
			{h, []formCell{lbl(a, b, "单位性质"), val(b, cc, txt("民营企业")), lbl(cc, d, "单位所在地"), val(d, x1, txt("乌鲁木齐市"))}},
			{h, []formCell{lbl(a, b, "现从事专业"), val(b, cc, txt(p.speciality)), lbl(cc, d, "从事专业年限"), val(d, x1, txt(fmt.Sprintf("%d年", 2024-atoi(p.workStart[:4]))))}},
			{h, []formCell{lbl(a, b, "现专业技术职务"), val(b, cc, txt(p.current)), lbl(cc, d, "取得时间"), val(d, x1, txt(p.currentDate))}},
			{h, []formCell{lbl(a, b, "申报系列"), val(b, cc, txt(p.series)), lbl(cc, d, "申报级别"), val(d, x1, txt(p.level))}},
			{h, []formCell{lbl(a, b, "申报专业"), val(b, cc, txt(p.speciality)), lbl(cc, d, "申报资格名称"), val(d, x1, txt(p.target))}},
			{h, []formCell{lbl(a, b, "最高学历"), val(b, cc, txt("大学本科")), lbl(cc, d, "毕业时间"), val(d, x1, txt(p.gradDate))}},
			{h, []formCell{lbl(a, b, "毕业院校"), val(b, cc, txt(p.school)), lbl(cc, d, "所学专业"), val(d, x1, txt(p.major))}},
			{h, []formCell{lbl(a, b, "学位"), val(b, cc, txt(p.degree)), lbl(cc, d, "评审方式"), val(d, x1, txt("评审"))}},
			{h, []formCell{lbl(a, b, "联系电话"), val(b, cc, txt("139"+digits(r, 8))), lbl(cc, d, "是否破格"), val(d, x1, txt("否"))}},
		})
		// A tall free-text cell.
		yEnd := 272.0
		c.box(a, y, b, yEnd, rule)
		c.box(b, y, x1, yEnd, rule)
		for i, s := range []string{"任现职", "以来主要", "专业技术", "工作"} {
			c.draw((a+b)/2, (y+yEnd)/2-9+float64(i)*6, 10.5, center, false, txt(s))
		}
		c.para(b+2, y+7, x1-b-4, 10.5, 6.2, txt(p.paragraph(r, 5)))
		c.draw(a4W/2, 285, 9, center, false, txt("第 1 页  共 2 页"))
		return c.finish("form", page)
	}

	// Page 2: education and work history, achievements, pledge, opinion.
	y := 22.0
	c.draw(x0, y, 12, left, true, txt("一、学习经历"))
	y += 4
	hist := func(y float64, cols []float64, head []string, rowsData [][]span) float64 {
		var rs []row
		hr := row{h: 9}
		for i, s := range head {
			hr.cells = append(hr.cells, lbl(cols[i], cols[i+1], s))
		}
		rs = append(rs, hr)
		for _, rd := range rowsData {
			rr := row{h: 10}
			for i, sp := range rd {
				rr.cells = append(rr.cells, val(cols[i], cols[i+1], sp))
			}
			rs = append(rs, rr)
		}
		return c.rows(y, rs)
	}
	y = hist(y, []float64{x0, 55, 100, 150, x1}, []string{"起止时间", "学校", "专业", "学历（学位）"}, [][]span{
		{txt(p.studyFrom + "—" + p.gradDate), txt(p.school), txt(p.major), txt("本科（" + p.degree + "）")},
		{txt("2019.09—2022.06"), txt("继续教育（网络学习）"), txt(p.speciality), txt("结业")},
	})
	y += 10
	c.draw(x0, y, 12, left, true, txt("二、工作经历"))
	y += 4
	ws := p.workStart[:4] + "." + p.workStart[7:9]
	cy := p.currentYear
	// The employer column is wide enough for a long name at full size.
	y = hist(y, []float64{x0, 55, 132, 162, x1}, []string{"起止时间", "工作单位", "从事专业技术工作", "职务（职称）"}, [][]span{
		{txt(ws + "—" + cy + ".12"), c.employer(), txt(p.speciality), txt("技术员")},
		{txt(cy + ".12—至今"), c.employer(), txt(p.speciality), txt(p.current)},
	})
	y += 10
	c.draw(x0, y, 12, left, true, txt("三、任现职以来主要专业技术业绩"))
	y += 4
	c.box(x0, y, x1, y+64, rule)
	c.para(x0+3, y+8, x1-x0-6, 10.5, 6.2, txt(p.paragraph(r, 6)))
	y += 64 + 10
	c.draw(x0, y, 12, left, true, txt("四、申报人承诺"))
	y += 4
	c.box(x0, y, x1, y+34, rule)
	c.para(x0+3, y+8, x1-x0-6, 10.5, 6.2, txt("本人承诺：以上所填内容及提交的全部材料真实、准确、完整，如有虚假，本人愿意承担相应责任。"))
	c.draw(120, y+24, 10.5, left, false, txt("申报人签名："), c.name())
	c.draw(x1-4, y+31, 10.5, right, false, txt("2024年9月10日"))
	y += 34 + 10
	c.draw(x0, y, 12, left, true, txt("五、推荐单位意见"))
	y += 4
	c.box(x0, y, x1, 276, rule)
	c.para(x0+3, y+8, x1-x0-6, 10.5, 6.2, txt("经审核，该同志所填内容及提交材料真实有效，已在本单位公示五个工作日，无异议，同意推荐。"))
	c.draw(x1-24, 276-14, 10.5, center, false, txt("（单位盖章）"))
	c.draw(x1-4, 276-5, 10.5, right, false, txt("2024年9月10日"))
	c.ring(x1-24, 276-16, 12, 0.6, 150)
	c.draw(a4W/2, 285, 9, center, false, txt("第 2 页  共 2 页"))
	return c.finish("form", page)
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}
