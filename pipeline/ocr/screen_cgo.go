//go:build cgo && !purego

package ocr

/*
#cgo CFLAGS: -O3
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#endif
#include <stdint.h>
#include <stddef.h>
#include <math.h>
#include <string.h>

// The screen's inner loop in C, where the compiler vectorises it (Go does
// not): sample every window of a line to 32×32, finish it and correlate
// it with every template. The same float32 arithmetic in the same order
// as sample, finish and dot in Go (no fused multiply-add), so the same
// scores (TestScreenKernelMatchesGo). On x86-64 an AVX2 version is chosen
// at run time where the processor has it.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define BP_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define BP_CLONES
#endif

enum { CELL = 32, N = CELL * CELL };

// Everything the line's loop calls is inlined into it, and so into each
// of its clones.
#define BP_INLINE static inline __attribute__((always_inline))

// bp_ink[p]: the ink of grey level p, (255-p)/255 as sample computes it;
// filled when the program starts.
static float bp_ink[256];

__attribute__((constructor)) static void bp_ink_init(void) {
	for (int p = 0; p < 256; p++) bp_ink[p] = (float)(255 - p) / 255.0f;
}

// bp_spans: the first and one-past-last sample of each of the CELL cells
// of a side of n, as span in sample (screen.go).
static void bp_spans(int n, int *lo, int *hi) {
	for (int c = 0; c < CELL; c++) {
		lo[c] = c * n / CELL;
		hi[c] = (c + 1) * n / CELL;
		if (hi[c] < lo[c] + 1) hi[c] = lo[c] + 1;
	}
}

// bp_sum8a: sum8 in glyphs.go, eight running sums.
BP_INLINE float bp_sum8a(const float *a) {
	float s[8] = {0};
	for (int i = 0; i < N; i += 8)
		for (int j = 0; j < 8; j++) s[j] += a[i + j];
	return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

// bp_sample: as sample in screen.go, for the square of side n at (rx, ry)
// of a w×h page (outside is paper), its cells' spans in lo and hi.
// Returns 0 for a window with almost no ink. A square of at most CELL
// pixels inside the page (a line at 150 dpi) has one pixel a cell: a
// plain gather.
BP_INLINE int bp_sample(const uint8_t *pix, int stride, int w, int h, int rx, int ry, int n,
		const int *lo, const int *hi, float *raw) {
	int inside = rx >= 0 && ry >= 0 && rx + n <= w && ry + n <= h;
	if (inside && n <= CELL) {
		for (int cy = 0; cy < CELL; cy++) {
			const uint8_t *row = pix + (size_t)(ry + lo[cy]) * stride + rx;
			for (int cx = 0; cx < CELL; cx++) raw[cy * CELL + cx] = bp_ink[row[lo[cx]]];
		}
	} else {
		for (int cy = 0; cy < CELL; cy++) {
			int y0 = lo[cy], y1 = hi[cy];
			for (int cx = 0; cx < CELL; cx++) {
				int x0 = lo[cx], x1 = hi[cx];
				float sum = 0;
				for (int y = y0; y < y1; y++) {
					int py = ry + y;
					const uint8_t *row = pix + (size_t)py * stride;
					for (int x = x0; x < x1; x++) {
						int px = rx + x;
						float v = 0;
						if (inside || (px >= 0 && px < w && py >= 0 && py < h)) {
							v = bp_ink[row[px]];
						}
						sum += v;
					}
				}
				int cnt = (y1 - y0) * (x1 - x0);
				raw[cy * CELL + cx] = cnt == 1 ? sum : sum / (float)cnt; // the same: x/1 is x
			}
		}
	}
	return !(bp_sum8a(raw) < (float)(N / 50));
}

// bp_blur: finish's [1 2 1] kernel along rows (stride 1) or columns
// (stride CELL), the edges weighted by what they have: the same sums in
// the same order as k in finish.
BP_INLINE void bp_blur(const float *a, float *out, int stride, int step) {
	for (int j = 0; j < CELL; j++) {
		const float *in = a + j * step;
		float *o = out + j * step;
		o[0] = (2 * in[0] + in[stride]) / 3;
		for (int i = 1; i < CELL - 1; i++)
			o[i * stride] = (2 * in[i * stride] + in[(i - 1) * stride] + in[(i + 1) * stride]) / 4;
		o[(CELL - 1) * stride] = (2 * in[(CELL - 1) * stride] + in[(CELL - 2) * stride]) / 3;
	}
}

BP_INLINE void bp_finish(const float *raw, float *v) {
	float tmp[N], out[N];
	bp_blur(raw, tmp, 1, CELL);
	bp_blur(tmp, out, CELL, 1);
	float mean = bp_sum8a(out) / N;
	for (int i = 0; i < N; i++) out[i] -= mean;
	double sq[8] = {0};
	for (int i = 0; i < N; i += 8)
		for (int j = 0; j < 8; j++) sq[j] += (double)out[i + j] * (double)out[i + j];
	double norm = ((sq[0] + sq[1]) + (sq[2] + sq[3])) + ((sq[4] + sq[5]) + (sq[6] + sq[7]));
	if (norm == 0) {
		for (int i = 0; i < N; i++) v[i] = 0;
		return;
	}
	float inv = (float)(1 / sqrt(norm));
	for (int i = 0; i < N; i++) v[i] = out[i] * inv;
}

// bp_dot4: dot in glyphs.go of v with four templates at once, each with
// its own eight running sums (one vector of eight lanes) in the same order
// as dot's: four chains of additions the processor can overlap instead
// of one.
typedef float bp_v8 __attribute__((vector_size(32)));

// Vectors are passed by address: by value, their ABI depends on the
// target (GCC warns).
BP_INLINE void bp_mac(bp_v8 *s, const bp_v8 *x, const float *t) {
	bp_v8 y;
	memcpy(&y, t, sizeof y);
	*s += *x * y;
}

BP_INLINE float bp_sum8(const bp_v8 *v) {
	const float *s = (const float *)v;
	return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

BP_INLINE void bp_dot4(const float *a, const float *t0, const float *t1, const float *t2, const float *t3, int n, float *d) {
	bp_v8 s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
	for (int i = 0; i < n; i += 8) {
		bp_v8 x;
		memcpy(&x, a + i, sizeof x);
		bp_mac(&s0, &x, t0 + i);
		bp_mac(&s1, &x, t1 + i);
		bp_mac(&s2, &x, t2 + i);
		bp_mac(&s3, &x, t3 + i);
	}
	d[0] = bp_sum8(&s0);
	d[1] = bp_sum8(&s1);
	d[2] = bp_sum8(&s2);
	d[3] = bp_sum8(&s3);
}

// bp_dot: dot (or dotc, n = NC) of a and b alone, the same sums.
BP_INLINE float bp_dot(const float *a, const float *b, int n) {
	bp_v8 s = {0};
	for (int i = 0; i < n; i += 8) {
		bp_v8 x;
		memcpy(&x, a + i, sizeof x);
		bp_mac(&s, &x, b + i);
	}
	return bp_sum8(&s);
}

enum { NC = (CELL / 2) * (CELL / 2) };

// bp_pool: pool in bound.go, v's 2×2 block means.
BP_INLINE void bp_pool(const float *v, float *p) {
	for (int y = 0; y < CELL / 2; y++) {
		for (int x = 0; x < CELL / 2; x++) {
			int i = 2 * y * CELL + 2 * x;
			p[y * (CELL / 2) + x] = ((v[i] + v[i + 1]) + (v[i + CELL] + v[i + CELL + 1])) / 4;
		}
	}
}

// bp_rest: rest in bound.go.
BP_INLINE float bp_rest(const float *v, const float *p) {
	float x = bp_dot(v, v, N) - 4 * bp_dot(p, p, NC);
	if (x < 0) x = 0;
	return (float)sqrt((double)x);
}

#define BP_SLACK 1e-3f

// bp_scores: templates.scores in bound.go for the finished window v:
// for each rune its templates' best correlation when at least thr, else
// 0, in sc. The bound is computed four templates at a time, the
// correlations it leaves four at a time (cand: scratch of ntmpl).
BP_INLINE void bp_scores(const float *v, const float *tmpl, const float *pooled, const float *resid,
		const int32_t *tmplRune, int ntmpl, int nrunes, float thr, int32_t *cand, float *sc) {
	float p[NC];
	bp_pool(v, p);
	float vr = bp_rest(v, p);
	for (int r = 0; r < nrunes; r++) sc[r] = 0;
	int nc = 0;
	for (int t = 0; t < ntmpl; t += 4) {
		// The last group repeats its last template to make four.
		const float *tt[4];
		for (int q = 0; q < 4; q++) tt[q] = pooled + (size_t)(t + q < ntmpl ? t + q : ntmpl - 1) * NC;
		float d[4];
		bp_dot4(p, tt[0], tt[1], tt[2], tt[3], NC, d);
		for (int q = 0; q < 4 && t + q < ntmpl; q++) {
			if (!(4 * d[q] + vr * resid[t + q] + BP_SLACK < thr)) cand[nc++] = t + q;
		}
	}
	for (int c = 0; c < nc; c += 4) {
		const float *tt[4];
		for (int q = 0; q < 4; q++) tt[q] = tmpl + (size_t)cand[c + q < nc ? c + q : nc - 1] * N;
		float d[4];
		bp_dot4(v, tt[0], tt[1], tt[2], tt[3], N, d);
		for (int q = 0; q < 4 && c + q < nc; q++) {
			int r = tmplRune[cand[c + q]];
			if (d[q] >= thr && d[q] > sc[r]) sc[r] = d[q];
		}
	}
}

// bp_screen_line scores the windows of one line: squares of side n whose
// left edges are at x0, x0+step, … up to xlast, rows y0…y0+n. For each
// window with ink it writes its left edge to at[k] and, for each rune, the
// best correlation of the rune's templates if at least thr, else 0, to
// scores[k*nrunes+rune]. Returns k, the windows written.
BP_CLONES
static int bp_screen_line(const uint8_t *pix, int stride, int w, int h, int x0, int xlast, int step, int y0, int n,
		const float *tmpl, const float *pooled, const float *resid, const int32_t *tmplRune, int ntmpl, int nrunes,
		float thr, int32_t *cand, int32_t *at, float *scores) {
	float raw[N], v[N];
	int lo[CELL], hi[CELL];
	bp_spans(n, lo, hi);
	int k = 0;
	for (int x = x0; x <= xlast; x += step) {
		if (!bp_sample(pix, stride, w, h, x, y0, n, lo, hi, raw)) continue;
		bp_finish(raw, v);
		bp_scores(v, tmpl, pooled, resid, tmplRune, ntmpl, nrunes, thr, cand, scores + (size_t)k * nrunes);
		at[k++] = x;
	}
	return k;
}

// bp_rivals: templates.beaten in bound.go for each of nw windows (finished
// vectors, v + w*N): hit[w] = 1 when a template of a rune other than
// skip[w] correlates at least thr[w]. The templates are read once, four
// at a time, for every window still undecided (the windows stay in
// cache, the templates are tens of megabytes); pv and vr are scratch for
// the windows' block means and rests.
BP_CLONES
static void bp_rivals(const float *v, const int32_t *skip, const float *thr, int nw,
		const float *tmpl, const float *pooled, const float *resid, const int32_t *tmplRune, int ntmpl,
		float *pv, float *vr, int32_t *hit) {
	for (int w = 0; w < nw; w++) {
		bp_pool(v + (size_t)w * N, pv + (size_t)w * NC);
		vr[w] = bp_rest(v + (size_t)w * N, pv + (size_t)w * NC);
	}
	for (int t = 0; t < ntmpl; t += 4) {
		const float *tt[4];
		for (int q = 0; q < 4; q++) tt[q] = pooled + (size_t)(t + q < ntmpl ? t + q : ntmpl - 1) * NC;
		int open = 0;
		for (int w = 0; w < nw; w++) {
			if (hit[w]) continue;
			open = 1;
			float d[4];
			bp_dot4(pv + (size_t)w * NC, tt[0], tt[1], tt[2], tt[3], NC, d);
			for (int q = 0; q < 4 && t + q < ntmpl && !hit[w]; q++) {
				if (tmplRune[t + q] == skip[w] || 4 * d[q] + vr[w] * resid[t + q] + BP_SLACK < thr[w]) continue;
				if (bp_dot(v + (size_t)w * N, tmpl + (size_t)(t + q) * N, N) >= thr[w]) hit[w] = 1;
			}
		}
		if (!open) break;
	}
}
*/
import "C"

import (
	"image"
	"unsafe"
)

// nativeScreen reports whether the C kernel scores windows: in every cgo
// build.
const nativeScreen = true

// windowsNative is windows through bp_screen_line.
func (s *screen) windowsNative(g *image.Gray, l image.Rectangle, thr float32) []window {
	h, step, first, last := windowSpan(l)
	ts := &s.ts
	if h <= 0 || last < first || ts.len() == 0 {
		return nil
	}
	n := (last-first)/step + 1
	nr := len(s.runes)
	at := make([]int32, n)
	scores := make([]float32, n*nr)
	cand := make([]int32, ts.len())
	b := g.Bounds()
	k := int(C.bp_screen_line((*C.uint8_t)(unsafe.Pointer(&g.Pix[0])), C.int(g.Stride), C.int(b.Dx()), C.int(b.Dy()),
		C.int(first-h/2-b.Min.X), C.int(last-h/2-b.Min.X), C.int(step), C.int(l.Min.Y-b.Min.Y), C.int(h),
		(*C.float)(unsafe.Pointer(&ts.flat[0])), (*C.float)(unsafe.Pointer(&ts.pooled[0])), (*C.float)(unsafe.Pointer(&ts.resid[0])),
		(*C.int32_t)(unsafe.Pointer(&ts.rune[0])), C.int(ts.len()), C.int(nr), C.float(thr),
		(*C.int32_t)(unsafe.Pointer(&cand[0])), (*C.int32_t)(unsafe.Pointer(&at[0])), (*C.float)(unsafe.Pointer(&scores[0]))))
	out := make([]window, k)
	for i := range out {
		out[i] = window{cx: int(at[i]) + b.Min.X + h/2, scores: scores[i*nr : (i+1)*nr : (i+1)*nr]}
	}
	return out
}

// rivalHitsNative is rivalHits through bp_rivals.
func rivalHitsNative(vs []vec, skip []int32, thr []float32, ts *templates) []bool {
	hit := make([]int32, len(vs))
	pv := make([]float32, len(vs)*coarse)
	vr := make([]float32, len(vs))
	C.bp_rivals((*C.float)(unsafe.Pointer(&vs[0][0])), (*C.int32_t)(unsafe.Pointer(&skip[0])), (*C.float)(unsafe.Pointer(&thr[0])),
		C.int(len(vs)), (*C.float)(unsafe.Pointer(&ts.flat[0])), (*C.float)(unsafe.Pointer(&ts.pooled[0])),
		(*C.float)(unsafe.Pointer(&ts.resid[0])), (*C.int32_t)(unsafe.Pointer(&ts.rune[0])), C.int(ts.len()),
		(*C.float)(unsafe.Pointer(&pv[0])), (*C.float)(unsafe.Pointer(&vr[0])), (*C.int32_t)(unsafe.Pointer(&hit[0])))
	out := make([]bool, len(vs))
	for i, h := range hit {
		out[i] = h != 0
	}
	return out
}
