package ocr

import "math"

// Most of a window's correlations with templates are far below any
// threshold, and each costs 1,024 multiplications. A cheap bound settles
// them first: split a shape vector v into its 2×2 block means v̄ (a
// 16×16 shape, replicated) and the rest v−v̄, orthogonal to it. Then
//
//	v·t = v̄·t̄ + (v−v̄)·(t−t̄) ≤ 4·(pool v · pool t) + |v−v̄|·|t−t̄|
//
// (Cauchy–Schwarz), where pool takes the block means: 256
// multiplications, and the templates' |t−t̄| are computed once. The
// shapes are blurred, so the rest is small and the bound close. A
// correlation whose bound is below the threshold (less a margin for
// rounding) cannot reach it and is not computed; every other one is
// computed in full, so the scores at or above the threshold are exactly
// those of the full computation.

// coarse is a shape's 2×2 block means.
const coarse = (cell / 2) * (cell / 2)

type cvec [coarse]float32

// boundSlack covers the rounding of the bound's float32 sums.
const boundSlack = 1e-3

// pool returns v's 2×2 block means.
func pool(v *vec) cvec {
	var p cvec
	for y := range cell / 2 {
		for x := range cell / 2 {
			i := 2*y*cell + 2*x
			p[y*(cell/2)+x] = ((v[i] + v[i+1]) + (v[i+cell] + v[i+cell+1])) / 4
		}
	}
	return p
}

// rest returns |v−v̄| from |v|² and pool(v): |v|² − 4|pool v|², at
// least 0.
func rest(vv float32, p *cvec) float32 {
	return float32(math.Sqrt(float64(max(0, vv-4*dotc(p, p)))))
}

// dotc is dot for 16×16 shapes.
func dotc(a, b *cvec) float32 { return dot8(a[:], b[:]) }

// templates is a set of character templates laid out for the kernels:
// template t is flat[t*1024:], of the character rune[t] (an index the
// owner defines), with its block means pooled[t*256:] and its rest
// resid[t].
type templates struct {
	flat   []float32
	rune   []int32
	pooled []float32
	resid  []float32
}

func (ts *templates) add(v *vec, r int) {
	ts.flat = append(ts.flat, v[:]...)
	ts.rune = append(ts.rune, int32(r))
	p := pool(v)
	ts.pooled = append(ts.pooled, p[:]...)
	ts.resid = append(ts.resid, rest(dot(v, v), &p))
}

func (ts *templates) grow(n int) {
	ts.flat = make([]float32, 0, n*len(vec{}))
	ts.rune = make([]int32, 0, n)
	ts.pooled = make([]float32, 0, n*coarse)
	ts.resid = make([]float32, 0, n)
}

func (ts *templates) len() int { return len(ts.rune) }

func (ts *templates) vec(t int) *vec { return (*vec)(ts.flat[t*len(vec{}):]) }

func (ts *templates) cvec(t int) *cvec { return (*cvec)(ts.pooled[t*coarse:]) }

// scores returns, for each of nr characters, the best correlation of
// v with its templates when it is at least thr, else 0 — in Go; the C
// kernels do the same.
func (ts *templates) scores(v *vec, nr int, thr float32) []float32 {
	out := make([]float32, nr)
	p := pool(v)
	vr := rest(dot(v, v), &p)
	for t, r := range ts.rune {
		if 4*dotc(&p, ts.cvec(t))+vr*ts.resid[t]+boundSlack < thr {
			continue
		}
		if d := dot(v, ts.vec(t)); d >= thr && d > out[r] {
			out[r] = d
		}
	}
	return out
}

// beaten reports whether a template of a character other than skip
// correlates with v at least thr — in Go; bp_rivals does the same.
func (ts *templates) beaten(v *vec, skip int32, thr float32) bool {
	p := pool(v)
	vr := rest(dot(v, v), &p)
	for t, r := range ts.rune {
		if r == skip || 4*dotc(&p, ts.cvec(t))+vr*ts.resid[t]+boundSlack < thr {
			continue
		}
		if dot(v, ts.vec(t)) >= thr {
			return true
		}
	}
	return false
}
