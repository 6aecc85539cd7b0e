//go:build cgo && !purego

package jpegcodec

/*
#cgo LDFLAGS: -ljpeg -lm
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#define JPEG_INTERNALS // struct jpeg_inverse_dct: see bp_gray_scaled
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
static int bp_decode(const unsigned char *data, unsigned long n, int num, int gray,
		unsigned char *out, int w, int h, int stride, char *msg) {
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
	while (d.output_scanline < d.output_height) {
		JSAMPROW rows[16];
		int k = 0;
		for (; k < 16 && d.output_scanline + k < d.output_height; k++) {
			rows[k] = out + (size_t)(d.output_scanline + k) * stride;
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

static double bp_cos[8][8]; // bp_cos[x][u] = C(u)/2 · cos((2x+1)uπ/16)

// bp_cos_init fills bp_cos; called once, from the package's init.
static void bp_cos_init(void) {
	for (int x = 0; x < 8; x++) {
		for (int u = 0; u < 8; u++) {
			double cu = u == 0 ? sqrt(0.5) : 1.0;
			bp_cos[x][u] = cu / 2 * cos((2 * x + 1) * u * M_PI / 16);
		}
	}
}

// bp_gray_scaled decodes the first component (the luminance of a grey or
// YCbCr JPEG, sampled at the frame's full rate) at n/8 of its size from
// its coefficients into out, w × h samples of stride bytes, with the very
// inverse DCT libjpeg-turbo's reduced decode uses (its SIMD one where it
// has one): that of a second decompressor, set up on tiny, a small grey
// JPEG, given the page's luminance quantisation table before its output
// pass begins. The samples are those DecodeGrayScaled gives, bit for bit.
// Returns 0, or 1 with msg set.
static int bp_gray_scaled(struct jpeg_decompress_struct *d, jvirt_barray_ptr *coefs, int n,
		const unsigned char *tiny, unsigned long ntiny,
		unsigned char *out, int w, int h, int stride, char *msg) {
	jpeg_component_info *cp = d->comp_info;
	if (cp->quant_table == NULL) { // no scan had it: a decoder shows mid-grey
		for (int y = 0; y < h; y++) memset(out + (size_t)y * stride, 128, w);
		return 0;
	}
	struct jpeg_decompress_struct t;
	bp_err e;
	bp_init_err(&e, &t);
	if (setjmp(e.jb)) {
		strncpy(msg, e.msg, JMSG_LENGTH_MAX);
		jpeg_destroy_decompress(&t);
		return 1;
	}
	jpeg_create_decompress(&t);
	jpeg_mem_src(&t, tiny, ntiny);
	jpeg_read_header(&t, TRUE);
	if (t.num_components != 1 || t.quant_tbl_ptrs[0] == NULL || t.comp_info[0].quant_tbl_no != 0) {
		snprintf(msg, JMSG_LENGTH_MAX, "tiny JPEG not as made");
		jpeg_destroy_decompress(&t);
		return 1;
	}
	// Latched into the component when the output pass is set up.
	memcpy(t.quant_tbl_ptrs[0]->quantval, cp->quant_table->quantval, sizeof(cp->quant_table->quantval));
	t.scale_num = n;
	t.scale_denom = 8;
	t.out_color_space = JCS_GRAYSCALE;
	t.dct_method = JDCT_ISLOW;
	jpeg_start_decompress(&t);
	jpeg_component_info *tc = t.comp_info;
	if (tc->DCT_scaled_size != n) {
		snprintf(msg, JMSG_LENGTH_MAX, "IDCT of %d for %d/8", tc->DCT_scaled_size, n);
		jpeg_destroy_decompress(&t);
		return 1;
	}
	inverse_DCT_method_ptr idct = t.idct->inverse_DCT[0];
	JSAMPLE edge[8][8];
	JSAMPROW rows[8];
	for (int by = 0; by < (int)cp->height_in_blocks && by * n < h; by++) {
		JBLOCKARRAY row = (*d->mem->access_virt_barray)((j_common_ptr)d, coefs[0], by, 1, FALSE);
		int oh = h - by * n < n ? h - by * n : n;
		for (int bx = 0; bx < (int)cp->width_in_blocks && bx * n < w; bx++) {
			int ow = w - bx * n < n ? w - bx * n : n;
			if (ow == n && oh == n) {
				for (int y = 0; y < n; y++) rows[y] = out + (size_t)(by * n + y) * stride;
				idct(&t, tc, row[0][bx], rows, bx * n);
				continue;
			}
			for (int y = 0; y < n; y++) rows[y] = edge[y];
			idct(&t, tc, row[0][bx], rows, 0);
			for (int y = 0; y < oh; y++) memcpy(out + (size_t)(by * n + y) * stride + bx * n, edge[y], ow);
		}
	}
	jpeg_destroy_decompress(&t);
	return 0;
}

// bp_edge_block re-encodes one block of which only vw columns and vh rows
// (1–8) are visible. q is the quantisation table in natural order.
static void bp_edge_block(JCOEF *blk, const UINT16 *q, int vw, int vh) {
	double f[64], t[64], px[64], ext[64];
	for (int k = 0; k < 64; k++) f[k] = (double)blk[k] * q[k];
	// Inverse DCT: rows of frequencies (v) to rows of samples (y), then columns.
	for (int v = 0; v < 8; v++)
		for (int x = 0; x < 8; x++) {
			double s = 0;
			for (int u = 0; u < 8; u++) s += bp_cos[x][u] * f[v * 8 + u];
			t[v * 8 + x] = s;
		}
	for (int y = 0; y < 8; y++)
		for (int x = 0; x < 8; x++) {
			double s = 0;
			for (int v = 0; v < 8; v++) s += bp_cos[y][v] * t[v * 8 + x];
			// The sample as a decoder shows it: rounded, level-shifted, clamped.
			double p = floor(s + 128.5);
			px[y * 8 + x] = p < 0 ? 0 : p > 255 ? 255 : p;
		}
	// The invisible samples repeat the last visible row and column.
	for (int y = 0; y < 8; y++)
		for (int x = 0; x < 8; x++)
			ext[y * 8 + x] = px[(y < vh ? y : vh - 1) * 8 + (x < vw ? x : vw - 1)] - 128;
	for (int y = 0; y < 8; y++)
		for (int u = 0; u < 8; u++) {
			double s = 0;
			for (int x = 0; x < 8; x++) s += bp_cos[x][u] * ext[y * 8 + x];
			t[y * 8 + u] = s;
		}
	for (int v = 0; v < 8; v++)
		for (int u = 0; u < 8; u++) {
			double s = 0;
			for (int y = 0; y < 8; y++) s += bp_cos[y][v] * t[y * 8 + u];
			double c = floor(s / q[v * 8 + u] + 0.5);
			blk[v * 8 + u] = (JCOEF)(c < -32767 ? -32767 : c > 32767 ? 32767 : c);
		}
}

static void bp_edges(struct jpeg_decompress_struct *d, jvirt_barray_ptr *coefs) {
	for (int ci = 0; ci < d->num_components; ci++) {
		jpeg_component_info *cp = d->comp_info + ci;
		JQUANT_TBL *qt = cp->quant_table;
		if (qt == NULL) continue;
		int bw = cp->width_in_blocks, bh = cp->height_in_blocks;
		int vw = cp->downsampled_width - 8 * (bw - 1);   // visible columns of the last block column
		int vh = cp->downsampled_height - 8 * (bh - 1);  // visible rows of the last block row
		if (vw < 1 || vw > 8 || vh < 1 || vh > 8) continue; // cannot happen for a valid header
		for (int by = 0; by < bh; by++) {
			int rows = by == bh - 1 ? vh : 8;
			if (vw == 8 && rows == 8) continue;
			JBLOCKARRAY row = (*d->mem->access_virt_barray)((j_common_ptr)d, coefs[ci], by, 1, TRUE);
			if (vw < 8) bp_edge_block(row[0][bw - 1], qt->quantval, vw, rows);
			if (rows < 8) {
				for (int bx = 0; bx < bw - (vw < 8 ? 1 : 0); bx++) bp_edge_block(row[0][bx], qt->quantval, 8, rows);
			}
		}
	}
}

// bp_canonical rewrites a JPEG from its coefficients: one set of tables
// (the quantisation tables the frame uses, the standard Huffman tables), one
// sequential scan, no JFIF, APPn or comment segment, nothing after the
// end of the image; an Adobe marker only where the colour transform needs
// it (RGB, CMYK, YCCK). *outbuf is malloc'd; the caller frees it.
//
// With gray set, it first decodes the luminance at num/8 of its size from
// the same coefficients into gray (gw × gh samples, stride bytes a row):
// one reading of the entropy-coded data for both. It returns 2, before
// reading any, for a file whose luminance is not its first component at
// the full rate (RGB, CMYK, YCCK, an unusual sampling).
static int bp_canonical(const unsigned char *data, unsigned long n,
		int num, const unsigned char *tiny, unsigned long ntiny, unsigned char *gray, int gw, int gh, int stride,
		unsigned char **outbuf, unsigned long *outlen, char *msg) {
	struct jpeg_decompress_struct d;
	struct jpeg_compress_struct c;
	bp_err e;
	bp_init_err(&e, &d);
	c.err = d.err;
	*outbuf = NULL;
	*outlen = 0;
	if (setjmp(e.jb)) {
		strncpy(msg, e.msg, JMSG_LENGTH_MAX);
		jpeg_destroy_compress(&c);
		jpeg_destroy_decompress(&d);
		if (*outbuf) { free(*outbuf); *outbuf = NULL; }
		return 1;
	}
	jpeg_create_decompress(&d);
	jpeg_create_compress(&c);
	jpeg_mem_src(&d, data, n);
	jpeg_read_header(&d, TRUE);
	if (gray != NULL) {
		jpeg_component_info *y = d.comp_info;
		int lum = d.num_components == 1 || (d.num_components == 3 && d.jpeg_color_space == JCS_YCbCr);
		if (!lum || y->h_samp_factor != d.max_h_samp_factor || y->v_samp_factor != d.max_v_samp_factor ||
				(int)((d.image_width * num + 7) / 8) != gw || (int)((d.image_height * num + 7) / 8) != gh) {
			jpeg_destroy_compress(&c);
			jpeg_destroy_decompress(&d);
			return 2;
		}
	}
	jvirt_barray_ptr *coefs = jpeg_read_coefficients(&d);
	if (e.warnings > 0) {
		strncpy(msg, e.msg, JMSG_LENGTH_MAX);
		jpeg_destroy_compress(&c);
		jpeg_destroy_decompress(&d);
		return 1;
	}
	if (gray != NULL && bp_gray_scaled(&d, coefs, num, tiny, ntiny, gray, gw, gh, stride, msg) != 0) {
		jpeg_destroy_compress(&c);
		jpeg_destroy_decompress(&d);
		return 3;
	}
	jpeg_copy_critical_parameters(&d, &c);
	c.write_JFIF_header = FALSE;
	// The standard Huffman tables (jpeg_set_defaults): optimised ones would
	// save a few per cent of bytes for a second pass over every block.
	c.optimize_coding = FALSE;
	c.restart_interval = 0;
	c.restart_in_rows = 0;
	bp_edges(&d, coefs);
	jpeg_mem_dest(&c, outbuf, outlen);
	jpeg_write_coefficients(&c, coefs);
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	jpeg_finish_decompress(&d);
	jpeg_destroy_decompress(&d);
	if (e.warnings > 0) {
		strncpy(msg, e.msg, JMSG_LENGTH_MAX);
		free(*outbuf);
		*outbuf = NULL;
		return 1;
	}
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

func turboDecodeGray(data []byte, num int, dst []byte) (*image.Gray, error) {
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
	return g, turboRead(data, num, true, g.Pix, w, h, g.Stride)
}

func turboRead(data []byte, num int, gray bool, out []byte, w, h, stride int) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("%w: no pixels", ErrCorrupt)
	}
	msg := make([]C.char, C.JMSG_LENGTH_MAX)
	g := C.int(0)
	if gray {
		g = 1
	}
	if C.bp_decode((*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)), C.int(num), g,
		(*C.uchar)(unsafe.Pointer(&out[0])), C.int(w), C.int(h), C.int(stride), &msg[0]) != 0 {
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

func turboCanonical(wr io.Writer, data []byte) error {
	if len(data) == 0 || len(data) >= maxJPEGBytes {
		return fmt.Errorf("%w: %d bytes", ErrCorrupt, len(data))
	}
	var out *C.uchar
	var n C.ulong
	msg := make([]C.char, C.JMSG_LENGTH_MAX)
	if C.bp_canonical((*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)), 0, nil, 0, nil, 0, 0, 0, &out, &n, &msg[0]) != 0 {
		return fmt.Errorf("%w: %s", ErrCorrupt, cmsg(msg))
	}
	defer C.free(unsafe.Pointer(out))
	_, err := wr.Write(unsafe.Slice((*byte)(unsafe.Pointer(out)), int(n)))
	return err
}

func turboCanonicalGray(wr io.Writer, data []byte, num int, dst []byte) (*image.Gray, error) {
	w, h, comps, cs, err := turboInfo(data, num, true)
	if err != nil {
		return nil, err
	}
	if !grayable(comps, cs) || cs == C.JCS_RGB || w <= 0 || h <= 0 {
		return nil, errUnsupported
	}
	g := &image.Gray{Pix: dst[:0], Stride: w, Rect: image.Rect(0, 0, w, h)}
	if cap(dst) >= w*h {
		g.Pix = dst[:w*h]
	} else {
		g.Pix = make([]byte, w*h)
	}
	var out *C.uchar
	var n C.ulong
	msg := make([]C.char, C.JMSG_LENGTH_MAX)
	switch C.bp_canonical((*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)), C.int(num),
		(*C.uchar)(unsafe.Pointer(&tinyJPEG[0])), C.ulong(len(tinyJPEG)),
		(*C.uchar)(unsafe.Pointer(&g.Pix[0])), C.int(w), C.int(h), C.int(g.Stride), &out, &n, &msg[0]) {
	case 0:
	case 2:
		return nil, errUnsupported
	case 3:
		return nil, fmt.Errorf("jpegcodec: reduced inverse DCT: %s", cmsg(msg))
	default:
		return nil, fmt.Errorf("%w: %s", ErrCorrupt, cmsg(msg))
	}
	defer C.free(unsafe.Pointer(out))
	_, err = wr.Write(unsafe.Slice((*byte)(unsafe.Pointer(out)), int(n)))
	return g, err
}
