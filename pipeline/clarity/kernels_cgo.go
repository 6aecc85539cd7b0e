//go:build cgo && !purego

package clarity

/*
#cgo CFLAGS: -O3
#include <stdint.h>
#include <stddef.h>
#include <string.h>

// The clarity measure's two hot loops in C, where the compiler vectorises
// them (Go does not): the same integer arithmetic as pass1 and energies in
// measure.go, so the same numbers to the bit (TestMeasureMatchesReference
// checks it). On x86-64 an AVX2 version is chosen at run time where the
// processor has it.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define BP_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define BP_CLONES
#endif

// A tile as Go lays out clarity.tile: lo, hi, bg, class, one byte each.
typedef struct { uint8_t lo, hi, bg, cls; } bp_tile;

enum { TILE = 16, OFF_PAGE = 2 };

BP_CLONES
static void bp_pass1(const uint8_t *img, int w, int h, uint16_t *sm, bp_tile *tiles, int tw,
		int64_t *levels, uint16_t *t, uint8_t *lohi) {
	// A tile's darkest and lightest smoothed level: per column over the
	// rows of a tile row first (lohi: w lows, then w highs), across each
	// tile's columns once at the end of the tile row.
	uint8_t *vlo = lohi, *vhi = lohi + w;
	// The levels' sum and the pixels clipped to black and to white, a row
	// at a time in 32 bits (a row has at most maxWorkPixels < 2³²/255).
	int64_t sum = 0, dark = 0, white = 0;
	for (int y = 0; y < h; y++) {
		const uint8_t *in = img + (size_t)y * w;
		uint32_t rs = 0, rd = 0, rw = 0;
		int x;
		for (x = 0; x < w; x++) {
			uint8_t v = in[x];
			rs += v;
			rd += v <= 8;
			rw += v >= 250;
		}
		sum += rs;
		dark += rd;
		white += rw;
		uint16_t *out = sm + (size_t)y * w;
		if (w < 2) {
			out[0] = (uint16_t)(16 * in[0]);
		} else {
			const uint8_t *up = img + (size_t)(y > 0 ? y - 1 : 0) * w;
			const uint8_t *dn = img + (size_t)(y < h - 1 ? y + 1 : h - 1) * w;
			for (x = 0; x < w; x++) {
				t[x] = (uint16_t)(up[x] + 2 * in[x] + dn[x]);
			}
			out[0] = (uint16_t)(3 * t[0] + t[1]);
			for (x = 1; x < w - 1; x++) {
				out[x] = (uint16_t)(t[x - 1] + 2 * t[x] + t[x + 1]);
			}
			out[w - 1] = (uint16_t)(t[w - 2] + 3 * t[w - 1]);
		}
		if (y % TILE == 0) {
			memset(vlo, 255, w);
			memset(vhi, 0, w);
		}
		for (x = 0; x < w; x++) {
			uint8_t v = (uint8_t)((out[x] + 8) >> 4);
			vlo[x] = v < vlo[x] ? v : vlo[x];
			vhi[x] = v > vhi[x] ? v : vhi[x];
		}
		if (y % TILE != TILE - 1 && y != h - 1) {
			continue;
		}
		bp_tile *trow = tiles + (size_t)(y / TILE) * tw;
		for (int tx = 0; tx < tw; tx++) {
			int x0 = tx * TILE, x1 = x0 + TILE < w ? x0 + TILE : w;
			uint8_t lo = trow[tx].lo, hi = trow[tx].hi;
			for (x = x0; x < x1; x++) {
				lo = vlo[x] < lo ? vlo[x] : lo;
				hi = vhi[x] > hi ? vhi[x] : hi;
			}
			trow[tx].lo = lo;
			trow[tx].hi = hi;
		}
	}
	levels[0] = sum;
	levels[1] = dark;
	levels[2] = white;
}

// bp_segment adds the Laplacian and gradient energies of row c's pixels
// x0 to x1 (one segment) to *L and *G. A segment is at most TILE pixels,
// so its sums fit 32 bits: a Laplacian of the ×16 image is at most
// 4·4080 in size, 16 squares of it < 2³².
static inline __attribute__((always_inline)) void bp_segment(const uint16_t *u, const uint16_t *c, const uint16_t *d,
		int x0, int x1, int64_t *L, int64_t *G) {
	uint32_t l2 = 0, g2 = 0;
	for (int x = x0; x < x1; x++) {
		int32_t l = (int32_t)u[x] + d[x] + c[x - 1] + c[x + 1] - 4 * (int32_t)c[x];
		int32_t gx = (int32_t)c[x + 1] - c[x - 1];
		int32_t gy = (int32_t)d[x] - u[x];
		l2 += (uint32_t)(l * l);
		g2 += (uint32_t)(gx * gx + gy * gy);
	}
	*L += l2;
	*G += g2;
}

#if defined(__x86_64__)
#include <emmintrin.h>
#define BP_SSE2 1

// bp_tile_sse2 adds the energies of a whole tile of a row (16 pixels)
// to the 64-bit lanes of *vl and *vg, eight pixels at a time in 16-bit
// lanes — the ×16 image is at most 4080, so a Laplacian is within
// ±16320 and a difference within ±4080 — their squares summed in pairs
// (pmaddwd) and the two halves' pairs added (at most 4·16320² < 2³¹)
// before they widen: the scalar loop's integers. SSE2 is in every
// x86-64; the AVX2 clone writes the same with VEX encodings.
static inline __attribute__((always_inline)) void bp_half_sse2(const uint16_t *u, const uint16_t *c, const uint16_t *d,
		int x, __m128i *l2, __m128i *g2) {
	__m128i vu = _mm_loadu_si128((const __m128i *)(u + x));
	__m128i vd = _mm_loadu_si128((const __m128i *)(d + x));
	__m128i vc = _mm_loadu_si128((const __m128i *)(c + x));
	__m128i vw = _mm_loadu_si128((const __m128i *)(c + x - 1));
	__m128i ve = _mm_loadu_si128((const __m128i *)(c + x + 1));
	__m128i lap = _mm_sub_epi16(_mm_add_epi16(_mm_add_epi16(vu, vd), _mm_add_epi16(vw, ve)), _mm_slli_epi16(vc, 2));
	__m128i gx = _mm_sub_epi16(ve, vw), gy = _mm_sub_epi16(vd, vu);
	*l2 = _mm_add_epi32(*l2, _mm_madd_epi16(lap, lap));
	*g2 = _mm_add_epi32(*g2, _mm_add_epi32(_mm_madd_epi16(gx, gx), _mm_madd_epi16(gy, gy)));
}

static inline __attribute__((always_inline)) void bp_tile_sse2(const uint16_t *u, const uint16_t *c, const uint16_t *d,
		int x0, __m128i *vl, __m128i *vg) {
	const __m128i zero = _mm_setzero_si128();
	__m128i l2 = zero, g2 = zero;
	bp_half_sse2(u, c, d, x0, &l2, &g2);
	bp_half_sse2(u, c, d, x0 + 8, &l2, &g2);
	*vl = _mm_add_epi64(*vl, _mm_add_epi64(_mm_unpacklo_epi32(l2, zero), _mm_unpackhi_epi32(l2, zero)));
	*vg = _mm_add_epi64(*vg, _mm_add_epi64(_mm_unpacklo_epi32(g2, zero), _mm_unpackhi_epi32(g2, zero)));
}
#endif

BP_CLONES
static void bp_energies(const uint16_t *s, int w, int h, const bp_tile *tiles, int tw,
		int64_t *lap2, int64_t *grad2, int64_t *count) {
	// The sums by class in locals, which no store through the pointers
	// can change: added to the caller's at the end.
	int64_t L[3] = {0}, G[3] = {0}, N[3] = {0};
#ifdef BP_SSE2
	__m128i vl[3] = {_mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128()};
	__m128i vg[3] = {_mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128()};
#endif
	for (int y = 2; y < h - 2; y++) {
		const bp_tile *trow = tiles + (size_t)(y / TILE) * tw;
		const uint16_t *c = s + (size_t)y * w, *u = c - w, *d = c + w;
		for (int tx = 0; tx * TILE < w; tx++) {
			int cls = trow[tx].cls;
			if (cls >= OFF_PAGE) { // classes are 0–2
				continue;
			}
			int x0 = tx * TILE > 2 ? tx * TILE : 2;
			int x1 = (tx + 1) * TILE < w - 2 ? (tx + 1) * TILE : w - 2;
			if (x1 <= x0) {
				continue;
			}
			N[cls] += x1 - x0;
#ifdef BP_SSE2
			if (x1 - x0 == TILE) {
				bp_tile_sse2(u, c, d, x0, &vl[cls], &vg[cls]);
				continue;
			}
#endif
			bp_segment(u, c, d, x0, x1, &L[cls], &G[cls]);
		}
	}
	for (int k = 0; k < 3; k++) {
#ifdef BP_SSE2
		int64_t a[2], b[2];
		_mm_storeu_si128((__m128i *)a, vl[k]);
		_mm_storeu_si128((__m128i *)b, vg[k]);
		L[k] += a[0] + a[1];
		G[k] += b[0] + b[1];
#endif
		lap2[k] += L[k];
		grad2[k] += G[k];
		count[k] += N[k];
	}
}

// bp_inkcount: measure's second pass in measure.go, the smoothed samples
// (sm, 16 × the level) of ink tiles below their background less delta.
enum { INK_TILE = 1 };

BP_CLONES
static int64_t bp_inkcount(const uint16_t *sm, int w, int h, const bp_tile *tiles, int tw, int delta) {
	int64_t ink = 0;
	for (int y = 0; y < h; y++) {
		const uint16_t *row = sm + (size_t)y * w;
		const bp_tile *trow = tiles + (size_t)(y / TILE) * tw;
		for (int tx = 0; tx < tw; tx++) {
			if (trow[tx].cls != INK_TILE) continue;
			uint16_t cut = (uint16_t)(16 * (uint8_t)(trow[tx].bg - delta));
			int x1 = (tx + 1) * TILE < w ? (tx + 1) * TILE : w;
			int32_t n = 0;
			for (int x = tx * TILE; x < x1; x++) n += (uint16_t)(row[x] + 8) < cut;
			ink += n;
		}
	}
	return ink;
}

// bp_cellsums: cellSums in pagehash.go, the page hash's cell sums (start:
// HASH+1 column bounds; sum: HASH×HASH, added to). A row's part of a cell
// is at most 255 × w, so its sum fits 32 bits.
enum { HASH = 32 };

BP_CLONES
static void bp_cellsums(const uint8_t *img, int w, int h, const int64_t *start, int64_t *sum) {
	for (int y = 0; y < h; y++) {
		const uint8_t *row = img + (size_t)y * w;
		int64_t *out = sum + (size_t)((int64_t)y * HASH / h) * HASH;
		for (int cx = 0; cx < HASH; cx++) {
			uint32_t s = 0;
			for (int64_t x = start[cx]; x < start[cx + 1]; x++) s += row[x];
			out[cx] += s;
		}
	}
}
*/
import "C"

import (
	"unsafe"

	"github.com/blindpack/blindpack/pipeline/scan/jpegcodec"
)

// The C code reads tile as four bytes in this order.
var _ = [1]struct{}{}[unsafe.Sizeof(tile{})-4]
var _ = [1]struct{}{}[unsafe.Offsetof(tile{}.class)-3]

// nativeKernels reports whether the C kernels are used: in a cgo build,
// unless jpegcodec.SetPureGo(true) asked for pure Go throughout.
func nativeKernels() bool { return jpegcodec.Native() }

func nativePass1(img []uint8, w, h int, sm []uint16, tiles []tile, tw int) (lv levels) {
	if w <= 0 || h <= 0 {
		return
	}
	t := make([]uint16, w)
	lohi := make([]uint8, 2*w)
	var out [3]int64
	C.bp_pass1((*C.uint8_t)(&img[0]), C.int(w), C.int(h), (*C.uint16_t)(&sm[0]), (*C.bp_tile)(unsafe.Pointer(&tiles[0])), C.int(tw),
		(*C.int64_t)(&out[0]), (*C.uint16_t)(&t[0]), (*C.uint8_t)(&lohi[0]))
	return levels{sum: int(out[0]), dark: int(out[1]), white: int(out[2])}
}

func nativeEnergies(s []uint16, w, h int, tiles []tile, tw int) (lap2, grad2, count [3]int64) {
	if w < 5 || h < 5 {
		return
	}
	var l, g, n [3]C.int64_t
	C.bp_energies((*C.uint16_t)(&s[0]), C.int(w), C.int(h), (*C.bp_tile)(unsafe.Pointer(&tiles[0])), C.int(tw), &l[0], &g[0], &n[0])
	for i := range 3 {
		lap2[i], grad2[i], count[i] = int64(l[i]), int64(g[i]), int64(n[i])
	}
	return
}

func nativeInkCount(sm []uint16, w, h int, tiles []tile, tw int) int {
	if w <= 0 || h <= 0 {
		return 0
	}
	return int(C.bp_inkcount((*C.uint16_t)(&sm[0]), C.int(w), C.int(h), (*C.bp_tile)(unsafe.Pointer(&tiles[0])), C.int(tw), inkDelta))
}

func nativeCellSums(pix []uint8, w, h int, start *[hashGrid + 1]int, sum *[hashGrid][hashGrid]int) {
	var st [hashGrid + 1]int64
	for i, v := range start {
		st[i] = int64(v)
	}
	var out [hashGrid * hashGrid]int64
	C.bp_cellsums((*C.uint8_t)(&pix[0]), C.int(w), C.int(h), (*C.int64_t)(&st[0]), (*C.int64_t)(&out[0]))
	for i, v := range out {
		sum[i/hashGrid][i%hashGrid] = int(v)
	}
}
