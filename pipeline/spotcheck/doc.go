// Package spotcheck draws the random sample of applicants whose paper
// materials are checked against their uploads (通知 五(四): 对申报材料进行
// 随机抽查). The draw is reproducible and auditable: it depends only on a
// seed, the campaign and the list of applicants, so anyone holding the
// seed recorded in the audit trail can run it again and get the same list,
// and nobody can steer it without changing the seed, which is recorded
// before the draw.
//
// The algorithm (Algorithm) in full: for each applicant id, the score is
// HMAC-SHA256 keyed with the seed over the campaign name, a zero byte and
// the applicant id; applicants are ordered by score (bytes, ascending) and
// the first ceil(rate × N) are drawn. The order of the input does not
// matter, and a different seed gives an unrelated order.
package spotcheck
