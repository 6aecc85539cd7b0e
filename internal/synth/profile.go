package synth

import (
	"math/rand/v2"
	"strings"
)

// profile is a fictional career: everything on the pages that is not the
// identity but must agree across one applicant's documents.
type profile struct {
	series, level, target string // 申报系列, 申报级别, 申报资格名称
	speciality            string
	gender                string
	birth, workStart      string // 1986年03月
	birthCN               string // 一九八六年三月
	current, currentDate  string // title held now and when
	currentYear           string
	school, major, degree string
	degreeCN              string // discipline in the degree sentence
	studyFrom, gradDate   string
	gradDateCN            string
	qualName, qualLevel   string // a professional qualification certificate
	invention             string
	project               string
	dept                  string
	objects, results      []string
}

// profiles are chosen by Options.Seed modulo their number: seed 0 is the
// engineering applicant of sample eng-intermediate, seed 1 the accountant of
// acct-senior.
var profiles = []profile{
	{
		series: "工程系列", level: "中级", target: "工程师",
		speciality: "机械工程", gender: "男",
		birth: "1986年03月", birthCN: "一九八六年三月", workStart: "2008年07月",
		current: "助理工程师", currentDate: "2016年12月", currentYear: "2016",
		school: "新疆大学", major: "机械设计制造及其自动化", degree: "工学学士", degreeCN: "工学",
		studyFrom: "2004.09", gradDate: "2008.06", gradDateCN: "二〇〇八年六月三十日",
		qualName: "注册安全工程师", qualLevel: "中级",
		invention: "一种重型机械液压系统的节能控制装置",
		project:   "大型矿用挖掘机回转平台焊接工艺优化",
		dept:      "技术研发部",
		objects: []string{
			"重型液压挖掘机结构件的焊接工艺优化", "数控加工中心的工艺编程与调试",
			"关键零部件的有限元强度校核", "生产线设备预防性维护体系的建设",
			"新产品三维建模与工程图设计", "质量管理体系的持续改进",
			"减速器箱体铸造缺陷的分析与处理", "装配工艺流程的标准化",
			"液压系统的故障诊断与维修", "工装夹具的设计与改进",
		},
		results: []string{
			"使产品一次交验合格率提高了百分之五", "累计为企业节约生产成本约八十万元",
			"有效缩短了新产品的研制周期", "解决了长期困扰生产的技术难题",
			"相关成果已在生产中推广应用", "得到了用户单位的一致好评",
			"设备综合效率明显提升", "形成了企业内部技术标准两项",
		},
	},
	{
		series: "会计系列", level: "副高级", target: "高级会计师",
		speciality: "会计", gender: "女",
		birth: "1987年08月", birthCN: "一九八七年八月", workStart: "2009年07月",
		current: "会计师", currentDate: "2017年05月", currentYear: "2017",
		school: "新疆财经大学", major: "会计学", degree: "管理学学士", degreeCN: "管理学",
		studyFrom: "2005.09", gradDate: "2009.06", gradDateCN: "二〇〇九年六月三十日",
		qualName: "会计专业技术资格", qualLevel: "中级",
		invention: "一种财务凭证智能归档装置",
		project:   "企业集团资金集中管理平台建设",
		dept:      "审计部",
		objects: []string{
			"企业全面预算管理制度的建立与实施", "年度财务决算报告的编制与审核",
			"增值税及企业所得税的纳税筹划", "内部控制制度的梳理与完善",
			"财务共享中心的信息化建设", "成本核算体系的优化",
			"应收账款的动态监控与清理", "审计项目的现场执行与底稿复核",
			"资金集中管理方案的设计", "管理会计报告体系的搭建",
		},
		results: []string{
			"使资金使用效率明显提高", "为企业节约税费支出约六十万元",
			"有效防范了财务风险", "相关做法在行业内得到推广",
			"得到了主管部门的肯定", "财务报告的及时性和准确性显著提升",
			"坏账比例下降了三个百分点", "形成了规范的工作流程和制度文件",
		},
	},
}

func (o Options) profile() profile { return profiles[o.Seed%uint64(len(profiles))] }

var (
	openers = []string{"任现职以来，本人", "在此期间，本人", "近年来，本人", "同时，本人", "此外，本人", "工作中，本人"}
	verbs   = []string{"负责", "主持", "参与", "组织开展", "牵头完成"}
	links   = []string{"通过反复试验和数据分析，", "在深入调研的基础上，", "结合企业实际，", "经过团队的共同努力，", ""}
)

// sentence makes one plausible sentence of a work summary.
func (p profile) sentence(r *rand.Rand) string {
	pick := func(l []string) string { return l[r.IntN(len(l))] }
	return pick(openers) + pick(verbs) + pick(p.objects) + "工作，" + pick(links) + pick(p.results) + "。"
}

// paragraph makes n sentences of plausible text.
func (p profile) paragraph(r *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		b.WriteString(p.sentence(r))
	}
	return b.String()
}

// digits returns n random decimal digits, for certificate numbers.
func digits(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	return string(b)
}
