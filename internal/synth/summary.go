package synth

import "fmt"

// flowItem is something placed in the text column of a flowing document.
type flowItem struct {
	h        float64
	keepNext float64 // extra room it needs below it (a heading and its first lines)
	draw     func(c *canvas, y float64)
}

// flow places items on pages from top to bottom and returns, per page, the
// items and the y at which each goes.
func flow(items []flowItem, top1, top, bottom float64) [][]placed {
	var pages [][]placed
	var cur []placed
	y := top1
	for _, it := range items {
		if y+it.h+it.keepNext > bottom && len(cur) > 0 {
			pages = append(pages, cur)
			cur, y = nil, top
		}
		cur = append(cur, placed{it, y})
		y += it.h
	}
	return append(pages, cur)
}

// lastFill is how much of the last page's text column is used, 0 to 1.
func lastFill(pages [][]placed) float64 {
	last := pages[len(pages)-1]
	end := last[len(last)-1]
	top := sumTop
	if len(pages) == 1 {
		top = sumTop1
	}
	return (end.y + end.it.h - top) / (sumBottom - top)
}

type placed struct {
	it flowItem
	y  float64
}

const (
	sumX0, sumX1 = 25.0, 185.0
	sumPt        = 12.0
	sumLead      = 7.8
	sumTop1      = 52.0 // first baseline on page 1, below the title
	sumTop       = 30.0
	sumBottom    = 272.0
)

// summaryItems lays out the work summary at a given amount of text: level 0
// is the shortest; each level above adds text. The layout is computed with
// the page's own canvas (for text widths) without drawing anything.
func summaryItems(c *canvas, o Options, level int) []flowItem {
	p := o.profile()
	var items []flowItem
	paraItems := func(spans ...span) {
		em := sumPt * mmPerPt
		lines := c.wrap(sumX1-sumX0-em, 2*em, sumPt, spans...)
		for i, ln := range lines {
			x := sumX0
			if i == 0 {
				x += 2 * em
			}
			items = append(items, flowItem{h: sumLead, draw: func(c *canvas, y float64) { c.drawLine(x, y, sumPt, ln) }})
		}
	}
	heading := func(s string) {
		items = append(items, flowItem{h: sumLead + 1.5, keepNext: 2 * sumLead, draw: func(c *canvas, y float64) {
			c.draw(sumX0, y+1.5, sumPt, left, true, txt(s))
		}})
	}
	sentences := 2
	extra := 0
	if level >= 1 {
		sentences = 3
	}
	if level >= 2 {
		extra = level - 1
	}
	random := func(section, n int) {
		for j := range n {
			r := rng(o, "summary/para", section*100+j)
			n := sentences
			if level > 0 {
				n += r.IntN(2)
			}
			paraItems(txt(p.paragraph(r, n)))
		}
	}
	paraItems(txt("本人于"+p.workStart+"参加工作，现就职于"), c.employer(),
		txt("，主要从事"+p.speciality+"专业技术工作。"+p.currentYear+"年取得"+p.current+
			"任职资格以来，本人认真履行岗位职责，努力钻研业务，较好地完成了各项工作任务。现将任现职以来的专业技术工作总结如下："))
	heading("一、思想政治表现")
	paraItems(txt("本人遵纪守法，爱岗敬业，团结同事，具有良好的职业道德和敬业精神。积极参加单位组织的各项学习活动，不断提高自身的综合素质和业务水平。"))
	heading("二、履行岗位职责情况")
	random(2, 1+(extra+1)/2)
	heading("三、主要专业技术业绩")
	random(3, 1+extra/2)
	heading("四、继续教育与学术交流")
	paraItems(txt("任现职以来，本人按要求参加专业技术人员继续教育，每年完成规定学时，考核合格。积极参加行业组织的技术交流活动，及时了解本专业的新技术、新方法。"))
	heading("五、存在的不足及今后打算")
	paraItems(txt("回顾几年来的工作，本人在专业理论水平和解决复杂问题的能力方面仍有不足。今后，本人将继续加强专业知识学习，不断总结工作经验，努力提高专业技术水平，为企业发展作出更大的贡献。"))
	items = append(items, flowItem{h: 24, draw: func(c *canvas, y float64) {
		c.draw(sumX1-8, y+10, sumPt, right, false, txt("总结人："), c.name())
		c.draw(sumX1-8, y+19, sumPt, right, false, txt("2024年9月8日"))
	}})
	return items
}

// PerformanceSummary draws page `page` of a work summary (专业技术工作总结)
// that is `pages` pages long. The employer is named inside the first
// paragraph — where a careless applicant forgets to mask it — and the name
// only in the signature "总结人：" at the end, on the last page. The amount of
// text is chosen so that the summary fills about half of its last page.
func PerformanceSummary(id Identity, page, pages int, o Options) (Page, error) {
	if pages < 1 || page < 1 || page > pages {
		return Page{}, fmt.Errorf("synth: performance summary page %d of %d", page, pages)
	}
	c, err := newCanvas(a4W, a4H, id, o)
	if err != nil {
		return Page{}, err
	}
	// The shortest text that fills the last page to about half: last
	// pages of real documents are seldom full, nor nearly empty.
	layout := flow(summaryItems(c, o, 0), sumTop1, sumTop, sumBottom)
	for level := 1; level < 60; level++ {
		if len(layout) == pages && lastFill(layout) >= 0.4 {
			break
		}
		l := flow(summaryItems(c, o, level), sumTop1, sumTop, sumBottom)
		if len(l) > pages {
			break
		}
		layout = l
	}
	if len(layout) != pages {
		return Page{}, fmt.Errorf("synth: performance summary takes %d pages, not %d", len(layout), pages)
	}
	if page == 1 {
		c.draw(a4W/2, 32, 20, center, true, txt("专业技术工作总结"))
	}
	for _, pl := range layout[page-1] {
		pl.it.draw(c, pl.y)
	}
	c.draw(a4W/2, 285, 10.5, center, false, txt(fmt.Sprintf("— %d —", page)))
	return c.finish("summary", page)
}
