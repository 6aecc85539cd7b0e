// Burning masks into the coefficients (included by turbo.go's preamble,
// after bp_job and before copy.h).
//
// A masked page that came as a JPEG keeps its coefficients in every block
// no mask touches, and gets the masks burned into the blocks they touch: a
// block a mask covers wholly becomes a flat block of the fill (black
// luminance, neutral chroma); a block it covers in part is decoded, its
// covered samples painted with the fill and the block encoded again with
// the file's own quantisation table (bp_redo_block). Nothing of a covered
// sample survives: a repainted block is computed from the fill and the
// samples no mask covers. The samples of a subsampled component a mask
// covers are all those any of whose pixels it touches, as mask.Burn turns
// neutral every chroma sample it shares with a masked pixel.
//
// The rest of the page is the upload's coefficients: no second lossy
// encoding, and the copying path (copy.h) copies the entropy-coded data of
// every MCU no mask touches.

// bp_rect is a mask in the frame's pixels, or a component's samples:
// [x0, x1) × [y0, y1).
typedef struct bp_rect {
	int x0, y0, x1, y1;
} bp_rect;

// bp_mask_ok reports whether masks can be burned into d's coefficients:
// grey or YCbCr with the luminance at the frame's full rate, every
// component's sampling dividing the frame's (as the upsampler needs), and
// its quantisation table latched (a component no scan has had shows
// mid-grey, which no fill changes).
static int bp_mask_ok(j_decompress_ptr d) {
	if (!(d->num_components == 1 || (d->num_components == 3 && d->jpeg_color_space == JCS_YCbCr))) return 0;
	if (d->comp_info->h_samp_factor != d->max_h_samp_factor || d->comp_info->v_samp_factor != d->max_v_samp_factor) return 0;
	for (int ci = 0; ci < d->num_components; ci++) {
		jpeg_component_info *cp = d->comp_info + ci;
		if (cp->h_samp_factor < 1 || cp->v_samp_factor < 1 ||
				d->max_h_samp_factor % cp->h_samp_factor != 0 || d->max_v_samp_factor % cp->v_samp_factor != 0 ||
				cp->quant_table == NULL)
			return 0;
	}
	return 1;
}

// bp_mask_span sets s to the samples of component cp that mask m covers
// and reports whether there are any.
static int bp_mask_span(j_decompress_ptr d, jpeg_component_info *cp, const bp_rect *m, bp_rect *s) {
	int hs = d->max_h_samp_factor / cp->h_samp_factor, vs = d->max_v_samp_factor / cp->v_samp_factor;
	int w = cp->downsampled_width, h = cp->downsampled_height;
	s->x0 = m->x0 / hs;
	s->y0 = m->y0 / vs;
	s->x1 = (m->x1 + hs - 1) / hs;
	s->y1 = (m->y1 + vs - 1) / vs;
	if (s->x0 < 0) s->x0 = 0;
	if (s->y0 < 0) s->y0 = 0;
	if (s->x1 > w) s->x1 = w;
	if (s->y1 > h) s->y1 = h;
	return s->x0 < s->x1 && s->y0 < s->y1;
}

// bp_rows8 is the bits (8y+x) of rows y0 ≤ y < y1 of a block; bp_cols8 of
// columns x0 ≤ x < x1.
static uint64_t bp_rows8(int y0, int y1) {
	uint64_t b = 0;
	for (int y = y0; y < y1; y++) b |= 0xFFULL << (8 * y);
	return b;
}

static uint64_t bp_cols8(int x0, int x1) {
	uint64_t c = ((1u << x1) - 1) & ~((1u << x0) - 1) & 0xFF;
	return c * 0x0101010101010101ULL;
}

// bp_mask_row burns the masks into block row by of component ci. cover
// holds a zero word for every block of the widest component, and is left
// so.
static void bp_mask_row(j_decompress_ptr d, const bp_rect *masks, int nmasks, uint64_t *cover,
		int ci, JBLOCKROW row, int by) {
	jpeg_component_info *cp = d->comp_info + ci;
	int bw = cp->width_in_blocks, bh = cp->height_in_blocks;
	if (nmasks == 0 || by >= bh) return;
	int lo = bw, hi = -1;
	for (int i = 0; i < nmasks; i++) {
		bp_rect s;
		if (!bp_mask_span(d, cp, masks + i, &s) || s.y1 <= by * 8 || s.y0 >= by * 8 + 8) continue;
		uint64_t rows = bp_rows8(s.y0 > by * 8 ? s.y0 - by * 8 : 0, s.y1 < by * 8 + 8 ? s.y1 - by * 8 : 8);
		for (int bx = s.x0 / 8; bx <= (s.x1 - 1) / 8 && bx < bw; bx++) {
			cover[bx] |= rows & bp_cols8(s.x0 > bx * 8 ? s.x0 - bx * 8 : 0, s.x1 < bx * 8 + 8 ? s.x1 - bx * 8 : 8);
			if (bx < lo) lo = bx;
			if (bx > hi) hi = bx;
		}
	}
	if (hi < 0) return;
	// bp_mask_ok made sure of the table before any row was changed.
	const UINT16 *q = cp->quant_table->quantval;
	double fill = ci == 0 ? -128 : 0; // black luminance, neutral chroma
	int vw = cp->downsampled_width - 8 * (bw - 1), vh = cp->downsampled_height - 8 * (bh - 1);
	for (int bx = lo; bx <= hi; bx++) {
		uint64_t c = cover[bx];
		if (c == 0) continue;
		cover[bx] = 0;
		uint64_t visible = bp_rows8(0, by == bh - 1 ? vh : 8) & bp_cols8(0, bx == bw - 1 ? vw : 8);
		if ((c & visible) != visible) {
			bp_redo_block(row[bx], q, 8, 8, c, fill);
			continue;
		}
		// Wholly covered: the flat block of the fill (the invisible samples
		// of an edge block follow, as they repeat the visible ones).
		memset(row[bx], 0, sizeof(JBLOCK));
		row[bx][0] = (JCOEF)floor(8 * fill / q[0] + 0.5);
	}
}

// bp_mask_stat is what a decoder shows under one mask, two pixels in from
// its edges, where the verifier's mask check looks (it rounds the mask
// inward, mask.Stored outward).
typedef struct bp_mask_stat {
	long long sum, lit, n;
} bp_mask_stat;

// bp_mask_measure adds block row by of the luminance (component 0, at the
// frame's full rate), as finally written, to the statistics of the masks
// over it: a block a mask covers in part rings a little into the mask,
// the more the coarser the file's quantisation, and bp_mask_dark then
// tells whether the verifier would still call the mask black.
static void bp_mask_measure(j_decompress_ptr d, const bp_rect *masks, int nmasks, bp_mask_stat *stat,
		JBLOCKROW row, int by) {
	jpeg_component_info *cp = d->comp_info;
	int w = cp->downsampled_width, h = cp->downsampled_height;
	if (nmasks == 0 || by >= (int)cp->height_in_blocks) return;
	const UINT16 *q = cp->quant_table->quantval;
	for (int i = 0; i < nmasks; i++) {
		bp_rect r = {masks[i].x0 + 2, masks[i].y0 + 2, masks[i].x1 - 2, masks[i].y1 - 2};
		if (r.x0 < 0) r.x0 = 0;
		if (r.y0 < 0) r.y0 = 0;
		if (r.x1 > w) r.x1 = w;
		if (r.y1 > h) r.y1 = h;
		int y0 = r.y0 > by * 8 ? r.y0 : by * 8, y1 = r.y1 < by * 8 + 8 ? r.y1 : by * 8 + 8;
		if (r.x0 >= r.x1 || y0 >= y1) continue;
		double px[64], flat[64];
		int flatdc = 0, haveflat = 0;
		for (int bx = r.x0 / 8; bx <= (r.x1 - 1) / 8; bx++) {
			// Most blocks under a mask are the flat black ones: decoded
			// once for each DC value met.
			const double *dec = px;
			int k = 1;
			while (k < 64 && row[bx][k] == 0) k++;
			if (k == 64) {
				if (!haveflat || row[bx][0] != flatdc) {
					bp_block_samples(row[bx], q, flat);
					flatdc = row[bx][0];
					haveflat = 1;
				}
				dec = flat;
			} else {
				bp_block_samples(row[bx], q, px);
			}
			int x0 = r.x0 > bx * 8 ? r.x0 : bx * 8, x1 = r.x1 < bx * 8 + 8 ? r.x1 : bx * 8 + 8;
			for (int y = y0; y < y1; y++)
				for (int x = x0; x < x1; x++) {
					double v = dec[(y - by * 8) * 8 + (x - bx * 8)];
					stat[i].sum += (long long)v;
					stat[i].lit += v > 64;
					stat[i].n++;
				}
		}
	}
}

// bp_mask_dark reports whether every mask is dark enough, with a margin,
// for the verifier's check (mean at most 16, at most one pixel in 500
// lighter than 64): a mean of at most 12 and one in 1000.
static int bp_mask_dark(const bp_mask_stat *stat, int nmasks) {
	for (int i = 0; i < nmasks; i++)
		if (stat[i].sum > 12 * stat[i].n || stat[i].lit > stat[i].n / 1000) return 0;
	return 1;
}
