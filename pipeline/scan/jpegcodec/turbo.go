//go:build cgo && !purego

package jpegcodec

/*
#cgo LDFLAGS: -ljpeg -lm
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#define JPEG_INTERNALS // struct jpeg_inverse_dct (bp_gray), jpeg_input_controller (bp_stream_start)
#include <jpeglib.h>

// Errors unwind with longjmp to the C function that set the jump: never
// across a Go frame. Warnings (corrupt entropy data, a premature end) are
// counted and turned into errors by the caller, so that a damaged file is
// refused rather than decoded with grey patches.
typedef struct {
	struct jpeg_error_mgr pub;
	jmp_buf jb;
	char msg[JMSG_LENGTH_MAX];
	int warnings;
} bp_err;

static void bp_error_exit(j_common_ptr c) {
	bp_err *e = (bp_err *)c->err;
	(*c->err->format_message)(c, e->msg);
	longjmp(e->jb, 1);
}

static void bp_emit_message(j_common_ptr c, int level) {
	bp_err *e = (bp_err *)c->err;
	if (level < 0) {
		if (e->warnings == 0) {
			(*c->err->format_message)(c, e->msg);
		}
		e->warnings++;
	}
}

static void bp_init_err(bp_err *e, struct jpeg_decompress_struct *d) {
	d->err = jpeg_std_error(&e->pub);
	e->pub.error_exit = bp_error_exit;
	e->pub.emit_message = bp_emit_message;
	e->warnings = 0;
	e->msg[0] = 0;
}

// bp_info reads the header and the output size at scale num/8.
// gray asks for luminance only. Returns 0, or 1 with msg set.
static int bp_info(const unsigned char *data, unsigned long n, int num, int gray,
		int *w, int *h, int *comps, int *colorspace, char *msg) {
	struct jpeg_decompress_struct d;
	bp_err e;
	bp_init_err(&e, &d);
	if (setjmp(e.jb)) {
		strncpy(msg, e.msg, JMSG_LENGTH_MAX);
		jpeg_destroy_decompress(&d);
		return 1;
	}
	jpeg_create_decompress(&d);
	jpeg_mem_src(&d, data, n);
	jpeg_read_header(&d, TRUE);
	*comps = d.num_components;
	*colorspace = d.jpeg_color_space;
	d.scale_num = num;
	d.scale_denom = 8;
	if (gray) {
		d.out_color_space = JCS_GRAYSCALE;
	}
	jpeg_calc_output_dimensions(&d);
	*w = d.output_width;
	*h = d.output_height;
	jpeg_destroy_decompress(&d);
	return 0;
}

// bp_decode decodes into out (stride bytes a row): grey when gray, else
// RGBA (alpha 255). Every scan is read to the end-of-image marker.
//
// With nbands > 0 only the iMCU rows that hold the rows of the bands
// ([bands[2i], bands[2i+1]), ascending, apart, within the image) are
// written: the rows between are skipped (jpeg_skip_scanlines: their data
// is Huffman-decoded, not transformed), and the last iMCU row is read so
// that the data is decoded to its end, as a whole decode decodes it.
static int bp_decode(const unsigned char *data, unsigned long n, int num, int gray,
		unsigned char *out, int w, int h, int stride, const int *bands, int nbands, char *msg) {
	struct jpeg_decompress_struct d;
	bp_err e;
	bp_init_err(&e, &d);
	if (setjmp(e.jb)) {
		strncpy(msg, e.msg, JMSG_LENGTH_MAX);
		jpeg_destroy_decompress(&d);
		return 1;
	}
	jpeg_create_decompress(&d);
	jpeg_mem_src(&d, data, n);
	jpeg_read_header(&d, TRUE);
	d.scale_num = num;
	d.scale_denom = 8;
	d.out_color_space = gray ? JCS_GRAYSCALE : JCS_EXT_RGBA;
	d.dct_method = JDCT_ISLOW;
	jpeg_start_decompress(&d);
	if ((int)d.output_width != w || (int)d.output_height != h) {
		snprintf(msg, JMSG_LENGTH_MAX, "output size changed");
		jpeg_destroy_decompress(&d);
		return 1;
	}
	// Skips go from one iMCU row's start to another's, libjpeg-turbo's
	// simplest case (within a row it moves the main controller's row
	// groups, which was seen to go wrong for a grey file sampled 2x2), and
	// never where the upsampler needs the rows around (it has to read them).
	JDIMENSION unit = (JDIMENSION)(d.max_v_samp_factor * d.min_DCT_scaled_size);
	if (d.upsample->need_context_rows || unit == 0) nbands = 0;
	int b = 0;
	while (d.output_scanline < d.output_height) {
		JDIMENSION y = d.output_scanline, end = d.output_height;
		if (nbands > 0) {
			while (b < nbands && (JDIMENSION)bands[2 * b + 1] <= y) b++;
			JDIMENSION want = b < nbands ? (JDIMENSION)bands[2 * b] : d.output_height - 1;
			want -= want % unit;
			if (want > y) {
				jpeg_skip_scanlines(&d, want - y);
				continue;
			}
			if (b < nbands) {
				end = (JDIMENSION)bands[2 * b + 1];
				end += (unit - end % unit) % unit;
				if (end > d.output_height) end = d.output_height;
			}
		}
		JSAMPROW rows[16];
		int k = 0;
		for (; k < 16 && y + k < end; k++) {
			rows[k] = out + (size_t)(y + k) * stride;
		}
		jpeg_read_scanlines(&d, rows, k);
	}
	jpeg_finish_decompress(&d);
	jpeg_destroy_decompress(&d);
	if (e.warnings > 0) {
		strncpy(msg, e.msg, JMSG_LENGTH_MAX);
		return 1;
	}
	return 0;
}

// bp_encode compresses grey (comps 1) or RGBX (comps 4) samples. No JFIF
// or Adobe marker is written. *outbuf is malloc'd; the caller frees it.
static int bp_encode(const unsigned char *pix, int w, int h, int stride, int comps, int quality,
		unsigned char **outbuf, unsigned long *outlen, char *msg) {
	struct jpeg_compress_struct c;
	bp_err e;
	c.err = jpeg_std_error(&e.pub);
	e.pub.error_exit = bp_error_exit;
	e.pub.emit_message = bp_emit_message;
	e.warnings = 0;
	*outbuf = NULL;
	*outlen = 0;
	if (setjmp(e.jb)) {
		strncpy(msg, e.msg, JMSG_LENGTH_MAX);
		jpeg_destroy_compress(&c);
		if (*outbuf) { free(*outbuf); *outbuf = NULL; }
		return 1;
	}
	jpeg_create_compress(&c);
	jpeg_mem_dest(&c, outbuf, outlen);
	c.image_width = w;
	c.image_height = h;
	c.input_components = comps;
	c.in_color_space = comps == 1 ? JCS_GRAYSCALE : JCS_EXT_RGBX;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, quality, TRUE);
	c.write_JFIF_header = FALSE;
	c.write_Adobe_marker = FALSE;
	c.dct_method = JDCT_ISLOW;
	jpeg_start_compress(&c, TRUE);
	while (c.next_scanline < c.image_height) {
		JSAMPROW rows[16];
		int k = 0;
		for (; k < 16 && c.next_scanline + k < c.image_height; k++) {
			rows[k] = (JSAMPROW)(pix + (size_t)(c.next_scanline + k) * stride);
		}
		jpeg_write_scanlines(&c, rows, k);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	return 0;
}

// Canonical transcoding: the coefficients of every block are kept as they
// are, except in the blocks that straddle the right or bottom edge of a
// component, whose invisible samples are replaced by copies of the last
// visible ones (the block is decoded, edge-extended and encoded again),
// so that nothing outside the declared size can hold data. Blocks wholly
// outside it (padding of the last MCU) are written by jpeg_write_coefficients
// as DC-only dummies.
#include <math.h>
#include <stdint.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static double bp_cos[8][8];  // bp_cos[x][u] = C(u)/2 · cos((2x+1)uπ/16)
static double bp_cost[8][8]; // bp_cost[u][x] = bp_cos[x][u]

// bp_cos_init fills bp_cos and bp_cost; called once, from the package's
// init.
static void bp_cos_init(void) {
	for (int x = 0; x < 8; x++) {
		for (int u = 0; u < 8; u++) {
			double cu = u == 0 ? sqrt(0.5) : 1.0;
			bp_cos[x][u] = cu / 2 * cos((2 * x + 1) * u * M_PI / 16);
			bp_cost[u][x] = bp_cos[x][u];
		}
	}
}

// bp_gray decodes the first component (the luminance of a grey or YCbCr
// JPEG, sampled at the frame's full rate) at n/8 of its size from its
// coefficients into out, w × h samples of stride bytes, with the very
// inverse DCT libjpeg-turbo's reduced decode uses (its SIMD one where it
// has one): that of a second decompressor t, set up on tiny, a small grey
// JPEG, given the page's luminance quantisation table before its output
// pass begins. The samples are those DecodeGrayScaled gives, bit for bit.
// It works a block row at a time, so that a streamed rewrite can feed it.
typedef struct {
	struct jpeg_decompress_struct t;
	int live;  // t is created: the rewrite's error handler destroys it
	int flat;  // no scan had the quantisation table: a decoder shows mid-grey
	inverse_DCT_method_ptr idct;
	int n, w, h, stride;
	unsigned char *out;
} bp_gray;

// bp_gray_open sets up g for the first component of d, whose quantisation
// table is latched (its scan has begun). Errors of t's set-up go to a
// handler of their own (returns 1 with msg set); once set up, t shares
// d's error manager, and whoever handles d's errors calls bp_gray_close.
static int bp_gray_open(bp_gray *g, struct jpeg_decompress_struct *d, int n,
		const unsigned char *tiny, unsigned long ntiny,
		unsigned char *out, int w, int h, int stride, char *msg) {
	jpeg_component_info *cp = d->comp_info;
	g->n = n; g->w = w; g->h = h; g->stride = stride; g->out = out;
	if (cp->quant_table == NULL) {
		g->flat = 1;
		for (int y = 0; y < h; y++) memset(out + (size_t)y * stride, 128, w);
		return 0;
	}
	struct jpeg_decompress_struct *t = &g->t;
	bp_err e;
	bp_init_err(&e, t);
	if (setjmp(e.jb)) {
		strncpy(msg, e.msg, JMSG_LENGTH_MAX);
		jpeg_destroy_decompress(t);
		return 1;
	}
	jpeg_create_decompress(t);
	jpeg_mem_src(t, tiny, ntiny);
	jpeg_read_header(t, TRUE);
	if (t->num_components != 1 || t->quant_tbl_ptrs[0] == NULL || t->comp_info[0].quant_tbl_no != 0) {
		snprintf(msg, JMSG_LENGTH_MAX, "tiny JPEG not as made");
		jpeg_destroy_decompress(t);
		return 1;
	}
	// Latched into the component when the output pass is set up.
	memcpy(t->quant_tbl_ptrs[0]->quantval, cp->quant_table->quantval, sizeof(cp->quant_table->quantval));
	t->scale_num = n;
	t->scale_denom = 8;
	t->out_color_space = JCS_GRAYSCALE;
	t->dct_method = JDCT_ISLOW;
	jpeg_start_decompress(t);
	if (t->comp_info->DCT_scaled_size != n) {
		snprintf(msg, JMSG_LENGTH_MAX, "IDCT of %d for %d/8", t->comp_info->DCT_scaled_size, n);
		jpeg_destroy_decompress(t);
		return 1;
	}
	g->idct = t->idct->inverse_DCT[0];
	t->err = d->err;
	g->live = 1;
	return 0;
}

// bp_gray_row decodes block row by of the first component.
static void bp_gray_row(bp_gray *g, struct jpeg_decompress_struct *d, JBLOCKROW row, int by) {
	int n = g->n, w = g->w, h = g->h;
	if (g->flat || by >= (int)d->comp_info->height_in_blocks || by * n >= h) return;
	jpeg_component_info *tc = g->t.comp_info;
	JSAMPLE edge[8][8];
	JSAMPROW rows[8], edges[8];
	int oh = h - by * n < n ? h - by * n : n;
	// The output's rows, the same for every whole block of the row (there
	// are whole blocks only when oh is n).
	for (int y = 0; y < n; y++) {
		if (y < oh) rows[y] = g->out + (size_t)(by * n + y) * g->stride;
		edges[y] = edge[y];
	}
	for (int bx = 0; bx < (int)d->comp_info->width_in_blocks && bx * n < w; bx++) {
		int ow = w - bx * n < n ? w - bx * n : n;
		if (ow == n && oh == n) {
			g->idct(&g->t, tc, row[bx], rows, bx * n);
			continue;
		}
		g->idct(&g->t, tc, row[bx], edges, 0);
		for (int y = 0; y < oh; y++) memcpy(g->out + (size_t)(by * n + y) * g->stride + bx * n, edge[y], ow);
	}
}

static void bp_gray_close(bp_gray *g) {
	if (g->live) jpeg_destroy_decompress(&g->t);
	g->live = 0;
}

// bp_mat8 sets out[o][i] = Σ_k a[o·ao + k·ak + i·ai] · b[o·bo + k·bk + i·bi]
// for 8 × 8 o, i and k: an 8-point transform of each row or each column
// of a block. Each output sums its products in order from 0, the first
// first, with the outputs of a row in the inner loop: the same doubles as
// a sum per output, eight at a time (SSE2's lanes are IEEE doubles as a
// scalar's are).
static inline __attribute__((always_inline)) void bp_mat8(const double *a, int ao, int ak, int ai,
		const double *b, int bo, int bk, int bi, double *out) {
	for (int o = 0; o < 8; o++) {
#if defined(__SSE2__)
		__m128d s[4] = {_mm_setzero_pd(), _mm_setzero_pd(), _mm_setzero_pd(), _mm_setzero_pd()};
		for (int k = 0; k < 8; k++) {
			const double *pa = a + o * ao + k * ak, *pb = b + o * bo + k * bk;
			for (int i = 0; i < 8; i += 2) {
				__m128d va = _mm_set_pd(pa[(i + 1) * ai], pa[i * ai]), vb = _mm_set_pd(pb[(i + 1) * bi], pb[i * bi]);
				s[i / 2] = _mm_add_pd(s[i / 2], _mm_mul_pd(va, vb));
			}
		}
		for (int i = 0; i < 4; i++) _mm_storeu_pd(out + o * 8 + 2 * i, s[i]);
#else
		double s[8] = {0};
		for (int k = 0; k < 8; k++)
			for (int i = 0; i < 8; i++) s[i] += a[o * ao + k * ak + i * ai] * b[o * bo + k * bk + i * bi];
		memcpy(out + o * 8, s, sizeof(s));
#endif
	}
}

// bp_block_samples decodes a block's samples as a decoder shows them
// (within a level of libjpeg's integer inverse DCT).
static void bp_block_samples(const JCOEF *blk, const UINT16 *q, double px[64]) {
	double f[64], t[64], s[64];
	for (int k = 0; k < 64; k++) f[k] = (double)blk[k] * q[k];
	// Inverse DCT: rows of frequencies (v) to rows of samples (y), then columns.
	bp_mat8(&bp_cost[0][0], 0, 8, 1, f, 8, 1, 0, t); // t[v][x] = Σ_u bp_cos[x][u]·f[v][u]
	bp_mat8(&bp_cos[0][0], 8, 1, 0, t, 0, 8, 1, s);  // s[y][x] = Σ_v bp_cos[y][v]·t[v][x]
	for (int k = 0; k < 64; k++) {
		// The sample as a decoder shows it: rounded, level-shifted, clamped.
		double p = floor(s[k] + 128.5);
		px[k] = p < 0 ? 0 : p > 255 ? 255 : p;
	}
}

// bp_redo_block re-encodes one block of which only vw columns and vh rows
// (1–8) are visible, with the samples whose bits are set in paint (bit
// 8y+x) replaced by fill (a level-shifted sample: -128 black, 0 mid-grey)
// first. q is the quantisation table in natural order.
static void bp_redo_block(JCOEF *blk, const UINT16 *q, int vw, int vh, uint64_t paint, double fill) {
	double t[64], px[64], ext[64], s[64];
	bp_block_samples(blk, q, px);
	for (int k = 0; k < 64; k++)
		if (paint >> k & 1) px[k] = fill + 128;
	// The invisible samples repeat the last visible row and column.
	for (int y = 0; y < 8; y++)
		for (int x = 0; x < 8; x++)
			ext[y * 8 + x] = px[(y < vh ? y : vh - 1) * 8 + (x < vw ? x : vw - 1)] - 128;
	// Forward DCT: rows of samples (x) to frequencies (u), then columns.
	bp_mat8(&bp_cos[0][0], 0, 8, 1, ext, 8, 1, 0, t); // t[y][u] = Σ_x bp_cos[x][u]·ext[y][x]
	bp_mat8(&bp_cost[0][0], 8, 1, 0, t, 0, 8, 1, s);  // s[v][u] = Σ_y bp_cos[y][v]·t[y][u]
	for (int k = 0; k < 64; k++) {
		double c = floor(s[k] / q[k] + 0.5);
		blk[k] = (JCOEF)(c < -32767 ? -32767 : c > 32767 ? 32767 : c);
	}
}

// bp_edge_rows reports whether block row by of component cp has blocks
// that straddle its right or bottom edge; bp_edge_row re-encodes them.
static int bp_edge_rows(jpeg_component_info *cp, int by, int *vw, int *vh) {
	int bw = cp->width_in_blocks, bh = cp->height_in_blocks;
	int lastvh = cp->downsampled_height - 8 * (bh - 1); // visible rows of the last block row
	*vw = cp->downsampled_width - 8 * (bw - 1);         // visible columns of the last block column
	*vh = by == bh - 1 ? lastvh : 8;
	if (cp->quant_table == NULL || by >= bh) return 0;
	if (*vw < 1 || *vw > 8 || lastvh < 1 || lastvh > 8) return 0; // cannot happen for a valid header
	return *vw < 8 || *vh < 8;
}

static void bp_edge_row(jpeg_component_info *cp, JBLOCKROW row, int vw, int vh) {
	int bw = cp->width_in_blocks;
	const UINT16 *q = cp->quant_table->quantval;
	if (vw < 8) bp_redo_block(row[bw - 1], q, vw, vh, 0, 0);
	if (vh < 8) {
		for (int bx = 0; bx < bw - (vw < 8 ? 1 : 0); bx++) bp_redo_block(row[bx], q, 8, vh, 0, 0);
	}
}

// bp_dest collects the rewritten JPEG in one malloc'd buffer, sized for
// about the input at the start so that it rarely grows.
typedef struct {
	struct jpeg_destination_mgr pub;
	unsigned char *buf;
	size_t cap;
} bp_dest;

static void bp_dest_init(j_compress_ptr c) {
	bp_dest *d = (bp_dest *)c->dest;
	d->pub.next_output_byte = d->buf;
	d->pub.free_in_buffer = d->cap;
}

static boolean bp_dest_grow(j_compress_ptr c) {
	bp_dest *d = (bp_dest *)c->dest;
	unsigned char *b = realloc(d->buf, 2 * d->cap);
	if (b == NULL) ERREXIT1(c, JERR_OUT_OF_MEMORY, 10);
	d->buf = b;
	d->pub.next_output_byte = b + d->cap;
	d->pub.free_in_buffer = d->cap;
	d->cap *= 2;
	return TRUE;
}

static void bp_dest_term(j_compress_ptr c) {}

// A streamed rewrite (a sequential file with one scan of every component,
// Huffman-coded: what scanners write) holds one iMCU row of coefficients
// instead of the whole image's. libjpeg's transcoding API is used as it
// is, with its memory manager's virtual coefficient arrays replaced by
// bp_rows: the compressor pulls iMCU row r (jctrans.c compress_output), and
// bp_rows_out runs the decoder (jdcoefct.c consume_data, one iMCU row per
// call) until it has written row r into the same buffer, which then gets
// the luminance and the edges as the whole-image path applies them. The
// output is byte for byte that path's (TestCanonicalStreamed,
// FuzzCanonicalStreamed).
typedef struct {
	JBLOCKARRAY rows; // the iMCU row: maxaccess block rows
	JDIMENSION width, nrows;
	JDIMENSION first; // block row of rows[0]
	int held;         // rows hold the decoder's blocks of first…
	int done;         // …and the luminance and edges have been applied
	int ci;
} bp_rows;

typedef struct {
	struct jpeg_decompress_struct d;
	struct jpeg_compress_struct c;
	bp_err e;
	bp_gray g;
	bp_dest dest;
	// Streaming: the first jpeg_read_coefficients suspends for want of
	// data (it sets up the decoder and returns), then the data is given.
	boolean (*fill)(j_decompress_ptr);
	int holding;
	size_t withheld;
	jvirt_barray_ptr arrays[MAX_COMPONENTS];
	int narrays;
	int gray; // bp_rows_out feeds g
	// Copying the entropy-coded data (copy.h).
	struct bp_fast *fast;
	int retry; // the copying path gave up: start again without it
	// Masks burned into the coefficients (mask.h).
	const struct bp_rect *masks;
	int nmasks;
	uint64_t *cover;
	struct bp_mask_stat *stat;
} bp_job;

#include "mask.h"
#include "copy.h"

static boolean bp_fill_held(j_decompress_ptr d) {
	bp_job *j = (bp_job *)d->client_data;
	return j->holding ? FALSE : (*j->fill)(d);
}

static jvirt_barray_ptr bp_rows_request(j_common_ptr cinfo, int pool, boolean pre_zero,
		JDIMENSION width, JDIMENSION height, JDIMENSION maxaccess) {
	bp_job *j = (bp_job *)cinfo->client_data;
	if (j->narrays == MAX_COMPONENTS) ERREXIT(cinfo, JERR_BAD_VIRTUAL_ACCESS);
	bp_rows *r = (*cinfo->mem->alloc_small)(cinfo, pool, sizeof(bp_rows));
	r->rows = (*cinfo->mem->alloc_barray)(cinfo, pool, width, maxaccess);
	r->width = width;
	r->nrows = maxaccess;
	r->held = 0;
	r->ci = j->narrays;
	j->arrays[j->narrays++] = (jvirt_barray_ptr)r;
	return (jvirt_barray_ptr)r;
}

// bp_rows_in is the decoder's access: a new iMCU row starts zeroed, as in
// a pre-zeroed virtual array (the Huffman decoder writes only non-zero
// coefficients); the same row again (after a suspension) is kept.
static JBLOCKARRAY bp_rows_in(j_common_ptr cinfo, jvirt_barray_ptr ptr, JDIMENSION first,
		JDIMENSION n, boolean writable) {
	bp_rows *r = (bp_rows *)ptr;
	if (n > r->nrows || !writable) ERREXIT(cinfo, JERR_BAD_VIRTUAL_ACCESS);
	if (!r->held || r->first != first) {
		for (JDIMENSION i = 0; i < r->nrows; i++) memset(r->rows[i], 0, r->width * sizeof(JBLOCK));
		r->first = first;
		r->held = 1;
		r->done = 0;
	}
	return r->rows;
}

// bp_row_changes does to block row by of component ci, as the decoder left
// it, what the rewrite does to every row, in its order, on both paths: the
// luminance (j->gray), the masks (mask.h), then the edges — so that the
// invisible samples of an edge block under a mask repeat masked ones — and
// what the finished luminance shows under the masks.
static void bp_row_changes(bp_job *j, int ci, JBLOCKROW row, int by) {
	struct jpeg_decompress_struct *d = &j->d;
	jpeg_component_info *cp = d->comp_info + ci;
	int vw, vh;
	if (ci == 0 && j->gray) bp_gray_row(&j->g, d, row, by);
	bp_mask_row(d, j->masks, j->nmasks, j->cover, ci, row, by);
	if (bp_edge_rows(cp, by, &vw, &vh)) bp_edge_row(cp, row, vw, vh);
	if (ci == 0) bp_mask_measure(d, j->masks, j->nmasks, j->stat, row, by);
}

// bp_rows_out is the compressor's access: it reads the input until the
// decoder has completed the iMCU row asked for.
static JBLOCKARRAY bp_rows_out(j_common_ptr cinfo, jvirt_barray_ptr ptr, JDIMENSION first,
		JDIMENSION n, boolean writable) {
	bp_job *j = (bp_job *)cinfo->client_data;
	bp_rows *r = (bp_rows *)ptr;
	struct jpeg_decompress_struct *d = &j->d;
	jpeg_component_info *cp = d->comp_info + r->ci;
	JDIMENSION row = first / cp->v_samp_factor;
	while (d->input_iMCU_row <= row) {
		if (j->fast != NULL) { // the copying path's decoder (copy.h)
			bp_fast_consume(j);
			continue;
		}
		int rc = (*d->inputctl->consume_input)(d);
		if (rc != JPEG_ROW_COMPLETED && rc != JPEG_SCAN_COMPLETED) break;
	}
	if (d->input_iMCU_row <= row || !r->held || r->first != first || n > r->nrows)
		ERREXIT(cinfo, JERR_BAD_VIRTUAL_ACCESS);
	if (!r->done) {
		for (JDIMENSION i = 0; i < r->nrows; i++) bp_row_changes(j, r->ci, r->rows[i], first + i);
		r->done = 1;
	}
	return r->rows;
}

// bp_stream_start sets up a streamed rewrite after jpeg_read_header, or
// returns 0 for a file that needs the whole image (progressive, more than
// one scan, arithmetic coding, which cannot suspend).
static int bp_stream_start(bp_job *j) {
	struct jpeg_decompress_struct *d = &j->d;
	if (d->progressive_mode || d->arith_code || d->inputctl->has_multiple_scans) return 0;
	d->client_data = j;
	j->c.client_data = j;
	j->fill = d->src->fill_input_buffer;
	d->src->fill_input_buffer = bp_fill_held;
	j->holding = 1;
	j->withheld = d->src->bytes_in_buffer;
	d->src->bytes_in_buffer = 0;
	d->mem->request_virt_barray = bp_rows_request;
	d->mem->access_virt_barray = bp_rows_in;
	if (jpeg_read_coefficients(d) != NULL || j->narrays != d->num_components)
		ERREXIT1(d, JERR_BAD_STATE, d->global_state);
	j->holding = 0;
	d->src->bytes_in_buffer = j->withheld;
	return 1;
}

// bp_stream_finish reads the file to its end once the compressor has had
// every row, and refuses what the whole-image path refuses after the scan:
// a quantisation table redefined after the scan that used it
// (jpeg_copy_critical_parameters, which that path calls at the end).
static void bp_stream_finish(bp_job *j) {
	struct jpeg_decompress_struct *d = &j->d;
	if (jpeg_read_coefficients(d) == NULL) ERREXIT1(d, JERR_BAD_STATE, d->global_state);
	for (int ci = 0; ci < d->num_components; ci++) {
		jpeg_component_info *cp = d->comp_info + ci;
		JQUANT_TBL *slot = d->quant_tbl_ptrs[cp->quant_tbl_no];
		if (cp->quant_table != NULL && memcmp(cp->quant_table->quantval, slot->quantval, sizeof(slot->quantval)) != 0)
			ERREXIT1(&j->c, JERR_MISMATCHED_QUANT_TABLE, cp->quant_tbl_no);
	}
}

// bp_canonical rewrites a JPEG from its coefficients: one set of tables
// (the quantisation tables the frame uses, the standard Huffman tables), one
// sequential scan, no JFIF, APPn or comment segment, nothing after the
// end of the image; an Adobe marker only where the colour transform needs
// it (RGB, CMYK, YCCK). *outbuf is malloc'd; the caller frees it.
//
// With gray set, it also decodes the luminance at num/8 of its size from
// the same coefficients into gray (gw × gh samples, stride bytes a row):
// one reading of the entropy-coded data for both. It returns 2, before
// reading any, for a file whose luminance is not its first component at
// the full rate (RGB, CMYK, YCCK, an unusual sampling).
//
// A file that allows it is streamed (bp_stream_start) unless whole is
// set; *streamed says which way it went. A streamed file whose scan is
// coded as the rewrite codes it has its entropy-coded data copied where
// the blocks are kept (copy.h) when copy is set: *copied is then the
// number of MCUs copied, else -1. BP_RETRY: the copying path gave up;
// call again without it.
//
// masks (nmasks x0, y0, x1, y1 quadruples, in the frame's pixels) are
// burned into the coefficients (mask.h); it returns 5 for a file they
// cannot be burned into so (not grey or YCbCr, an unusual sampling, a
// quantisation too coarse for a mask to stay black).
static int bp_canonical(const unsigned char *data, unsigned long n,
		int num, const unsigned char *tiny, unsigned long ntiny, unsigned char *gray, int gw, int gh, int stride,
		const int *masks, int nmasks,
		int whole, int copy, int *streamed, int *copied, unsigned char **outbuf, unsigned long *outlen, char *msg) {
	bp_job job;
	bp_job *j = &job;
	memset(j, 0, sizeof(*j));
	bp_init_err(&j->e, &j->d);
	j->c.err = j->d.err;
	*outbuf = NULL;
	*outlen = 0;
	*streamed = 0;
	*copied = -1;
	if (setjmp(j->e.jb)) {
		strncpy(msg, j->e.msg, JMSG_LENGTH_MAX);
		bp_gray_close(&j->g);
		jpeg_destroy_compress(&j->c);
		jpeg_destroy_decompress(&j->d);
		free(j->dest.buf);
		return j->retry ? BP_RETRY : 1;
	}
	jpeg_create_decompress(&j->d);
	jpeg_create_compress(&j->c);
	jpeg_mem_src(&j->d, data, n);
	jpeg_read_header(&j->d, TRUE);
	struct jpeg_decompress_struct *d = &j->d;
	if (gray != NULL) {
		jpeg_component_info *y = d->comp_info;
		int lum = d->num_components == 1 || (d->num_components == 3 && d->jpeg_color_space == JCS_YCbCr);
		if (!lum || y->h_samp_factor != d->max_h_samp_factor || y->v_samp_factor != d->max_v_samp_factor ||
				(int)((d->image_width * num + 7) / 8) != gw || (int)((d->image_height * num + 7) / 8) != gh) {
			jpeg_destroy_compress(&j->c);
			jpeg_destroy_decompress(d);
			return 2;
		}
	}
	jvirt_barray_ptr *coefs = j->arrays;
	if (!whole && bp_stream_start(j)) {
		*streamed = 1;
	} else {
		coefs = jpeg_read_coefficients(d);
		if (j->e.warnings > 0) {
			strncpy(msg, j->e.msg, JMSG_LENGTH_MAX);
			jpeg_destroy_compress(&j->c);
			jpeg_destroy_decompress(d);
			return 1;
		}
	}
	if (gray != NULL) {
		if (bp_gray_open(&j->g, d, num, tiny, ntiny, gray, gw, gh, stride, msg) != 0) {
			jpeg_destroy_compress(&j->c);
			jpeg_destroy_decompress(d);
			return 3;
		}
		j->gray = 1;
	}
	if (nmasks > 0) {
		// The tables are latched: the (first) scan has begun.
		if (!bp_mask_ok(d)) {
			bp_gray_close(&j->g);
			jpeg_destroy_compress(&j->c);
			jpeg_destroy_decompress(d);
			return 5;
		}
		// The luminance is at the full rate: the widest component.
		JDIMENSION wide = d->comp_info->width_in_blocks;
		j->cover = (*d->mem->alloc_large)((j_common_ptr)d, JPOOL_IMAGE, wide * sizeof(uint64_t));
		memset(j->cover, 0, wide * sizeof(uint64_t));
		j->stat = (*d->mem->alloc_large)((j_common_ptr)d, JPOOL_IMAGE, nmasks * sizeof(bp_mask_stat));
		memset(j->stat, 0, nmasks * sizeof(bp_mask_stat));
		j->masks = (const bp_rect *)masks;
		j->nmasks = nmasks;
	}
	for (int ci = 0; !*streamed && ci < d->num_components; ci++) {
		for (int by = 0; by < (int)d->comp_info[ci].height_in_blocks; by++) {
			JBLOCKARRAY row = (*d->mem->access_virt_barray)((j_common_ptr)d, coefs[ci], by, 1, TRUE);
			bp_row_changes(j, ci, row[0], by);
		}
	}
	jpeg_copy_critical_parameters(d, &j->c);
	j->c.write_JFIF_header = FALSE;
	// The standard Huffman tables (jpeg_set_defaults): optimised ones would
	// save a few per cent of bytes for a second pass over every block.
	j->c.optimize_coding = FALSE;
	j->c.restart_interval = 0;
	j->c.restart_in_rows = 0;
	if (*streamed) j->c.mem->access_virt_barray = bp_rows_out;
	j->dest.cap = n + n / 8 + 4096;
	j->dest.buf = malloc(j->dest.cap);
	if (j->dest.buf == NULL) ERREXIT1(&j->c, JERR_OUT_OF_MEMORY, 10);
	j->dest.pub.init_destination = bp_dest_init;
	j->dest.pub.empty_output_buffer = bp_dest_grow;
	j->dest.pub.term_destination = bp_dest_term;
	j->c.dest = &j->dest.pub;
	jpeg_write_coefficients(&j->c, coefs);
	int fast = copy && *streamed && bp_fast_setup(j);
	jpeg_finish_compress(&j->c);
	if (fast) *copied = j->fast->copied;
	if (*streamed) bp_stream_finish(j);
	// The image pool holds the statistics until the decompressor goes.
	int dark = j->nmasks == 0 || bp_mask_dark(j->stat, j->nmasks);
	bp_gray_close(&j->g);
	jpeg_destroy_compress(&j->c);
	jpeg_finish_decompress(d);
	jpeg_destroy_decompress(d);
	if (j->e.warnings > 0) {
		strncpy(msg, j->e.msg, JMSG_LENGTH_MAX);
		free(j->dest.buf);
		return 1;
	}
	if (!dark) {
		// The file's quantisation is too coarse for repainted blocks to
		// stay black under a mask: the page is masked in its pixels.
		free(j->dest.buf);
		return 5;
	}
	*outbuf = j->dest.buf;
	*outlen = j->dest.cap - j->dest.pub.free_in_buffer;
	return 0;
}
*/
import "C"

import (
	"bytes"
	"fmt"
	"image"
	"io"
	"unsafe"
)

const haveTurbo = true

// tinyJPEG is an 8×8 grey JPEG whose decompressor lends its inverse DCT
// to turboCanonicalGray.
var tinyJPEG []byte

func init() {
	C.bp_cos_init()
	var b bytes.Buffer
	if err := turboEncode(&b, image.NewGray(image.Rect(0, 0, 8, 8)), 50); err != nil {
		panic("jpegcodec: " + err.Error())
	}
	tinyJPEG = b.Bytes()
}

// maxJPEGBytes keeps lengths within C's unsigned long on every platform
// cgo builds for; uploads are far smaller.
const maxJPEGBytes = 1 << 31

func cmsg(b []C.char) string { return C.GoString(&b[0]) }

// turboInfo returns the output size of data at scale num/8.
func turboInfo(data []byte, num int, gray bool) (w, h, comps, cs int, err error) {
	if len(data) == 0 || len(data) >= maxJPEGBytes {
		return 0, 0, 0, 0, fmt.Errorf("%w: %d bytes", ErrCorrupt, len(data))
	}
	var cw, ch, cc, ccs C.int
	msg := make([]C.char, C.JMSG_LENGTH_MAX)
	g := C.int(0)
	if gray {
		g = 1
	}
	if C.bp_info((*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)), C.int(num), g, &cw, &ch, &cc, &ccs, &msg[0]) != 0 {
		return 0, 0, 0, 0, fmt.Errorf("%w: %s", ErrCorrupt, cmsg(msg))
	}
	return int(cw), int(ch), int(cc), int(ccs), nil
}

// grayable reports whether libjpeg-turbo turns a colour space into grey.
func grayable(comps, cs int) bool {
	return comps == 1 || (comps == 3 && (cs == C.JCS_YCbCr || cs == C.JCS_RGB))
}

func turboDecode(data []byte) (image.Image, error) {
	w, h, comps, cs, err := turboInfo(data, 8, false)
	if err != nil {
		return nil, err
	}
	switch {
	case comps == 1:
		g := image.NewGray(image.Rect(0, 0, w, h))
		return g, turboRead(data, 8, true, g.Pix, w, h, g.Stride)
	case comps == 3 && (cs == C.JCS_YCbCr || cs == C.JCS_RGB):
		m := image.NewRGBA(image.Rect(0, 0, w, h))
		return m, turboRead(data, 8, false, m.Pix, w, h, m.Stride)
	}
	return nil, errUnsupported
}

func turboDecodeGray(data []byte, num int, dst []byte, bands ...[2]int) (*image.Gray, error) {
	w, h, comps, cs, err := turboInfo(data, num, true)
	if err != nil {
		return nil, err
	}
	if !grayable(comps, cs) {
		return nil, errUnsupported
	}
	g := &image.Gray{Pix: dst[:0], Stride: w, Rect: image.Rect(0, 0, w, h)}
	if cap(dst) >= w*h {
		g.Pix = dst[:w*h]
	} else {
		g.Pix = make([]byte, w*h)
	}
	return g, turboRead(data, num, true, g.Pix, w, h, g.Stride, bands...)
}

// turboRead decodes data at num/8 into out; with bands, only their rows
// (and the last).
func turboRead(data []byte, num int, gray bool, out []byte, w, h, stride int, bands ...[2]int) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("%w: no pixels", ErrCorrupt)
	}
	msg := make([]C.char, C.JMSG_LENGTH_MAX)
	g := C.int(0)
	if gray {
		g = 1
	}
	var rows []C.int
	if len(bands) > 0 {
		for _, b := range mergeBands(bands, h) {
			rows = append(rows, C.int(b[0]), C.int(b[1]))
		}
	}
	var rp *C.int
	if len(rows) > 0 {
		rp = &rows[0]
	}
	if C.bp_decode((*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)), C.int(num), g,
		(*C.uchar)(unsafe.Pointer(&out[0])), C.int(w), C.int(h), C.int(stride), rp, C.int(len(rows)/2), &msg[0]) != 0 {
		return fmt.Errorf("%w: %s", ErrCorrupt, cmsg(msg))
	}
	return nil
}

func turboEncode(wr io.Writer, img image.Image, quality int) error {
	var pix []byte
	var stride, comps int
	b := img.Bounds()
	switch m := img.(type) {
	case *image.Gray:
		pix, stride, comps = m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, 1
	case *image.RGBA: // opaque: blindpack's masked pages are
		pix, stride, comps = m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, 4
	default:
		return errUnsupported
	}
	if b.Empty() {
		return fmt.Errorf("jpegcodec: encode: empty image")
	}
	quality = min(100, max(1, quality))
	var out *C.uchar
	var n C.ulong
	msg := make([]C.char, C.JMSG_LENGTH_MAX)
	if C.bp_encode((*C.uchar)(unsafe.Pointer(&pix[0])), C.int(b.Dx()), C.int(b.Dy()), C.int(stride), C.int(comps), C.int(quality), &out, &n, &msg[0]) != 0 {
		return fmt.Errorf("jpegcodec: encode: %s", cmsg(msg))
	}
	defer C.free(unsafe.Pointer(out))
	_, err := wr.Write(unsafe.Slice((*byte)(unsafe.Pointer(out)), int(n)))
	return err
}

// rewriteMode chooses how bp_canonical reads the coefficients.
type rewriteMode int

const (
	// rewriteStream streams the files that allow it (bp_stream_start) and
	// reads the others whole.
	rewriteStream rewriteMode = iota
	// rewriteWhole reads every file into libjpeg's whole-image arrays: the
	// streamed rewrite's oracle in the tests.
	rewriteWhole
	// rewriteEncode streams as rewriteStream does but encodes every MCU
	// again, never copying: what the copy is measured against.
	rewriteEncode
)

func turboCanonical(wr io.Writer, data []byte, mode rewriteMode) (rewritten, error) {
	_, r, err := turboRewrite(wr, data, 0, nil, nil, mode)
	return r, err
}

// turboCanonicalGray is turboRewrite of a file whose luminance is its
// first component, with g at num/8 made in dst; masks (in the frame's
// pixels, within it) are burned in.
func turboCanonicalGray(wr io.Writer, data []byte, num int, dst []byte, masks []image.Rectangle, mode rewriteMode) (*image.Gray, rewritten, error) {
	w, h, comps, cs, err := turboInfo(data, num, true)
	if err != nil {
		return nil, rewritten{copied: -1}, err
	}
	if !grayable(comps, cs) || cs == C.JCS_RGB || w <= 0 || h <= 0 {
		return nil, rewritten{copied: -1}, errUnsupported
	}
	g := &image.Gray{Pix: dst[:0], Stride: w, Rect: image.Rect(0, 0, w, h)}
	if cap(dst) >= w*h {
		g.Pix = dst[:w*h]
	} else {
		g.Pix = make([]byte, w*h)
	}
	return turboRewrite(wr, data, num, g, masks, mode)
}

// turboRewrite runs bp_canonical, computing g (at num/8) too when it is
// not nil and burning masks in; errUnmaskable when they cannot be burned
// into the coefficients.
func turboRewrite(wr io.Writer, data []byte, num int, g *image.Gray, masks []image.Rectangle, mode rewriteMode) (*image.Gray, rewritten, error) {
	if len(data) == 0 || len(data) >= maxJPEGBytes {
		return nil, rewritten{copied: -1}, fmt.Errorf("%w: %d bytes", ErrCorrupt, len(data))
	}
	var out *C.uchar
	var n C.ulong
	var st C.int
	msg := make([]C.char, C.JMSG_LENGTH_MAX)
	var pix *C.uchar
	var w, h, stride int
	if g != nil {
		pix, w, h, stride = (*C.uchar)(unsafe.Pointer(&g.Pix[0])), g.Rect.Dx(), g.Rect.Dy(), g.Stride
	}
	whole, copying := C.int(0), C.int(0)
	switch mode {
	case rewriteWhole:
		whole = 1
	case rewriteStream:
		copying = 1
	}
	var copied C.int
	var quads []C.int
	for _, m := range masks {
		// Within the largest frame a JPEG can declare, in C ints; the C
		// code clips to the image.
		if m = m.Canon().Intersect(image.Rect(0, 0, 1<<16, 1<<16)); !m.Empty() {
			quads = append(quads, C.int(m.Min.X), C.int(m.Min.Y), C.int(m.Max.X), C.int(m.Max.Y))
		}
	}
	var mp *C.int
	if len(quads) > 0 {
		mp = &quads[0]
	}
	call := func() C.int {
		return C.bp_canonical((*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)), C.int(num),
			(*C.uchar)(unsafe.Pointer(&tinyJPEG[0])), C.ulong(len(tinyJPEG)),
			pix, C.int(w), C.int(h), C.int(stride), mp, C.int(len(quads)/4), whole, copying, &st, &copied, &out, &n, &msg[0])
	}
	rc := call()
	if rc == C.BP_RETRY {
		copying = 0
		rc = call()
	}
	r := rewritten{streamed: st != 0, copied: int(copied)}
	switch rc {
	case 0:
	case 2:
		return nil, rewritten{copied: -1}, errUnsupported
	case 3:
		return nil, rewritten{copied: -1}, fmt.Errorf("jpegcodec: reduced inverse DCT: %s", cmsg(msg))
	case 5:
		return nil, rewritten{copied: -1}, ErrUnmaskable
	default:
		return nil, r, fmt.Errorf("%w: %s", ErrCorrupt, cmsg(msg))
	}
	defer C.free(unsafe.Pointer(out))
	_, err := wr.Write(unsafe.Slice((*byte)(unsafe.Pointer(out)), int(n)))
	return g, r, err
}
