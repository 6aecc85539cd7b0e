// Copying a file's entropy-coded data where it is already canonical
// (included by turbo.go's preamble, after bp_job; the streamed rewrite
// only).
//
// A streamed rewrite writes every block again with the standard Huffman
// tables. When the file was written with those very tables, no restart
// interval and every block coded as libjpeg's encoder codes it, the bytes
// it would write are the input's own: the rewrite then copies them instead
// of encoding, and encodes only the MCUs whose blocks it changes (those
// that straddle the right or bottom edge and the padding of the last
// MCUs), with an encoder of its own that writes what libjpeg's writes.
//
// "Coded as libjpeg codes it" is more than "decodes to the same
// coefficients": libjpeg's decoder also accepts a run of zeros (ZRL) that
// no coefficient follows, a run that goes past the 64th coefficient, zero
// bits to fill the last byte, an 0xFF byte stuffed as FF FF 00 and a few
// bytes after the last block: each could carry data that a decoder skips.
// So the copying path decodes with a Huffman decoder of its own
// (bp_fast_decode_one, in place of libjpeg's), which accepts only the one
// coding the encoder writes and, on anything else, gives up: the rewrite
// then starts again on libjpeg's decoder and encoder (bp_canonical returns
// BP_RETRY), which give what they always gave. The copy is byte for byte
// what libjpeg's encoder writes (TestCanonicalCopied, FuzzCanonicalStreamed
// against the whole-image path).
//
// It also takes the place of libjpeg's loops over the MCUs of an iMCU row
// on both sides (bp_fast_consume, bp_fast_compress), in the same order:
// one call an MCU through a function pointer, with the reader's state
// loaded and stored each time, cost as much as the copy itself, and a row
// of kept MCUs is taken at once.

#include <stdint.h>

#define BP_RETRY 4

// The rows the decoder writes and the compressor reads (turbo.go).
static JBLOCKARRAY bp_rows_in(j_common_ptr cinfo, jvirt_barray_ptr ptr, JDIMENSION first, JDIMENSION n, boolean writable);
static JBLOCKARRAY bp_rows_out(j_common_ptr cinfo, jvirt_barray_ptr ptr, JDIMENSION first, JDIMENSION n, boolean writable);

// bp_zigzag[k] is the natural-order index of the k-th coefficient in
// zigzag order.
static const int bp_zigzag[64] = {
	0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
};

// bp_huff is one Huffman table, for decoding and for encoding.
#define BP_LOOK 11 // bits looked ahead
typedef struct {
	uint16_t look[1 << BP_LOOK]; // the next BP_LOOK bits → length << 8 | symbol; 0: a longer code
	uint64_t fast[1 << BP_LOOK]; // the same → AC coefficients whose codes and values fit (BP_FAST_*); 0: none
	int32_t maxcode[17]; // the largest code of each length, -1 for none
	int32_t valoff[17];  // symbol index = code + valoff[length]
	uint8_t vals[256];
	uint32_t code[256];  // symbol → its code…
	uint8_t size[256];   // …and length (0: no code)
} bp_huff;

// A fast entry is an end of block, or one AC coefficient and perhaps a
// second one or an end of block after it, read at once:
//   bits 0–5   bits taken (at most BP_LOOK: a shift by the entry shifts by them)
//   bit 6      an end of block, and nothing else
//   bit 7      a coefficient, then an end of block
//   bits 8–11  the zeros before the first coefficient
//   bits 12–16 from the first coefficient to the second: 0 when there is
//              one, 1 + the zeros between when there are two, 1 before
//              an end of block (which writes the zero that is there)
//   bits 32–47 the first coefficient, bits 48–63 the second (the first
//              again when there is one, 0 before an end of block)
#define BP_FAST_EOB (1u << 6)
#define BP_FAST_EOB2 (1u << 7)

// bp_huff_build derives h from a DHT table as libjpeg derives its own
// (jpeg_make_d_derived_tbl, jpeg_make_c_derived_tbl). Returns 0, or 1 for
// a table that is not a valid prefix code.
static int bp_huff_build(const JHUFF_TBL *t, bp_huff *h) {
	memset(h, 0, sizeof(*h));
	int32_t code = 0, k = 0;
	for (int l = 1; l <= 16; l++) {
		int n = t->bits[l];
		h->maxcode[l] = -1;
		if (k + n > 256) return 1;
		if (n > 0) {
			h->valoff[l] = k - code;
			for (int i = 0; i < n; i++) {
				int sym = t->huffval[k + i];
				h->vals[k + i] = sym;
				h->code[sym] = code + i;
				h->size[sym] = l;
				if (l <= BP_LOOK) {
					int c = (code + i) << (BP_LOOK - l);
					for (int x = 0; x < 1 << (BP_LOOK - l); x++) h->look[c + x] = l << 8 | sym;
				}
			}
			code += n;
			k += n;
			h->maxcode[l] = code - 1;
		}
		if (code > (1 << l)) return 1;
		code <<= 1;
	}
	for (int x = 0; x < 1 << BP_LOOK; x++) {
		int l = h->look[x] >> 8, sym = h->look[x] & 0xFF, s = sym & 15;
		if (l != 0 && sym == 0) {
			h->fast[x] = BP_FAST_EOB | l;
			continue;
		}
		if (l == 0 || s == 0 || l + s > BP_LOOK) continue;
		int t = l + s, v = (x >> (BP_LOOK - t)) & ((1 << s) - 1);
		if (v < (1 << (s - 1))) v += 1 - (1 << s);
		uint64_t e = (uint64_t)(sym >> 4) << 8 | (uint64_t)(uint16_t)v << 32;
		h->fast[x] = e | t | (uint64_t)(uint16_t)v << 48;
		// What the bits left hold, when it fits in them: an end of block or
		// a coefficient (not a run of sixteen zeros).
		int rest = BP_LOOK - t, x2 = (x << t) & ((1 << BP_LOOK) - 1);
		int l2 = h->look[x2] >> 8, sym2 = h->look[x2] & 0xFF, s2 = sym2 & 15;
		if (l2 == 0 || l2 > rest) continue;
		if (sym2 == 0) {
			h->fast[x] = e | (t + l2) | BP_FAST_EOB2 | 1u << 12;
			continue;
		}
		if (s2 == 0 || l2 + s2 > rest) continue;
		int v2 = (x2 >> (BP_LOOK - l2 - s2)) & ((1 << s2) - 1);
		if (v2 < (1 << (s2 - 1))) v2 += 1 - (1 << s2);
		h->fast[x] = e | (t + l2 + s2) | (uint64_t)(1 + (sym2 >> 4)) << 12 | (uint64_t)(uint16_t)v2 << 48;
	}
	return 0;
}

// bp_br reads entropy-coded data, most significant bit first, taking the
// stuffed zero of every FF 00 away. It stops at anything else after an
// 0xFF (a marker) and then supplies zero bits, which it counts (fake).
typedef struct {
	const unsigned char *p, *end; // next byte to load
	uint64_t acc;                 // the bits not yet taken, at the top
	int n;                        // how many
	int fake;                     // how many of them (the last ones) are past the data
	int marker;                   // p is at an 0xFF not followed by 0 (or the end)
	uint64_t loaded;              // bits loaded so far, fake ones included
} bp_br;

static void bp_br_init(bp_br *b, const unsigned char *p, const unsigned char *end) {
	memset(b, 0, sizeof(*b));
	b->p = p;
	b->end = end;
}

static void bp_br_slow(bp_br *b) {
	while (b->n <= 56) {
		unsigned c = 0;
		if (!b->marker) {
			if (b->p < b->end && b->p[0] != 0xFF) {
				c = *b->p++;
			} else if (b->end - b->p >= 2 && b->p[1] == 0) {
				c = 0xFF;
				b->p += 2;
			} else {
				b->marker = 1;
			}
		}
		if (b->marker) b->fake += 8;
		b->acc |= (uint64_t)c << (56 - b->n);
		b->n += 8;
		b->loaded += 8;
	}
}

// bp_br_fill loads at least 32 bits.
static inline void bp_br_fill(bp_br *b) {
	if (b->n > 56) return;
	if (!b->marker && b->end - b->p >= 8) {
		uint64_t x;
		memcpy(&x, b->p, 8);
		x = __builtin_bswap64(x);
		int k = (63 - b->n) >> 3; // whole bytes that fit: 1–7
		uint64_t keep = ~0ULL << (64 - 8 * k);
		uint64_t inv = ~x; // a byte of inv is 0 where x has 0xFF
		// A set high bit flags an 0xFF in the first k bytes (or, rarely,
		// one before an 0xFF further on: the slow path then takes them).
		if (((inv - 0x0101010101010101ULL) & ~inv & 0x8080808080808080ULL & keep) == 0) {
			b->acc |= (x & keep) >> b->n;
			b->p += k;
			b->n += 8 * k;
			b->loaded += 8 * k;
			return;
		}
	}
	bp_br_slow(b);
}

// bp_br_take takes k (1–32) bits; there must be as many loaded.
static inline uint32_t bp_br_take(bp_br *b, int k) {
	uint32_t v = (uint32_t)(b->acc >> (64 - k));
	b->acc <<= k;
	b->n -= k;
	return v;
}

// bp_sym decodes one symbol from the bits at the top of *acc (*n of
// them, at least 16), or returns -1.
static inline int bp_sym(uint64_t *acc, int *n, const bp_huff *h) {
	unsigned e = h->look[*acc >> (64 - BP_LOOK)];
	if (e != 0) {
		*acc <<= e >> 8;
		*n -= e >> 8;
		return e & 0xFF;
	}
	for (int l = BP_LOOK + 1; l <= 16; l++) {
		int32_t c = (int32_t)(*acc >> (64 - l));
		if (c <= h->maxcode[l]) {
			*acc <<= l;
			*n -= l;
			return h->vals[c + h->valoff[l]];
		}
	}
	return -1;
}

// bp_fast is the copying path's state (allocated in d's image pool).
typedef struct bp_fast {
	bp_huff tables[4]; // DC 0, 1 and AC 0, 1: the standard ones
	const bp_huff *dc[MAX_COMPS_IN_SCAN], *ac[MAX_COMPS_IN_SCAN];
	int member[D_MAX_BLOCKS_IN_MCU]; // the component of each block of an MCU
	int nblocks;
	long long mcus, perrow; // MCUs in the scan, in an MCU row
	long long goodcols, goodrows; // MCUs before the first column and row with a changed block
	unsigned char *masked;        // per MCU: a mask touches one of its blocks (NULL: no masks)
	// Decoding.
	bp_br br;
	const unsigned char *start, *stop; // the entropy-coded data (stop: the 0xFF after it)
	int pred[MAX_COMPS_IN_SCAN];       // the decoder's DC predictions
	long long ndec;
	uint64_t *ends; // the bit after each MCU, by index modulo ring
	int *preds;     // the DC predictions each MCU was coded with, by index modulo ring
	long long ring;
	long long dring, ering; // the decoder's and the encoder's next MCU modulo ring
	// Encoding.
	void (*start_pass)(j_compress_ptr, boolean);
	long long nenc;
	JDIMENSION imcu;    // the encoder's next iMCU row…
	long long row;      // …and MCU row
	JBLOCK *dummy;      // C_MAX_BLOCKS_IN_MCU blocks of zeros (but their DC): bp_fast_mcu
	uint64_t from;      // where the encoder's next MCU starts in the input
	int aligned;    // the output's entropy-coded data so far is the input's (copied at the end)
	uint64_t pfrom, pto; // not aligned: the input's bits of the MCUs copied but not yet written (bp_fast_flush)
	bp_br cr;       // the input, read again for copying once no longer aligned
	uint64_t cpos;  // the bit cr is at
	uint64_t wacc;  // bits to write, the last wn of them
	int wn;
	int last[MAX_COMPS_IN_SCAN]; // the encoder's DC predictions
	int copied;     // MCUs copied rather than encoded
} bp_fast;

// bp_fast_giveup leaves the copying path: bp_canonical starts again on
// libjpeg's own decoder and encoder.
static void bp_fast_giveup(bp_job *j) {
	j->retry = 1;
	snprintf(j->e.msg, JMSG_LENGTH_MAX, "not in canonical coding");
	longjmp(j->e.jb, 1);
}

// bp_fast_end checks what follows the last MCU: the last byte filled
// with one bits, then a marker; and hands the rest of the file back to
// libjpeg's marker reader.
static void bp_fast_end(bp_job *j, j_decompress_ptr d) {
	bp_fast *f = j->fast;
	bp_br *b = &f->br;
	int real = b->n - b->fake;
	if (real < 0 || real > 7) bp_fast_giveup(j);
	if (real > 0 && (b->acc >> (64 - real)) != (1u << real) - 1) bp_fast_giveup(j);
	if (b->end - b->p < 2 || b->p[0] != 0xFF || b->p[1] == 0) bp_fast_giveup(j);
	f->stop = b->p;
	d->src->next_input_byte = b->p;
	d->src->bytes_in_buffer = b->end - b->p;
}

// bp_fast_decode_one decodes one MCU into the zeroed blocks mcu[] as
// libjpeg's decoder would, or gives up where the coding is not the one
// libjpeg's encoder writes. It notes the DC predictions the MCU was coded
// with and the bit after it, for the encoder. The reader's bits not yet
// taken are the caller's *pacc and *pn (f->br's acc and n are not kept
// up to date between fills): locals of bp_fast_consume's, which stay in
// registers from one MCU to the next.
static inline void bp_fast_decode_one(bp_job *j, bp_fast *f, JBLOCKROW *mcu, uint64_t *pacc, int *pn) {
	bp_br *b = &f->br;
	if (f->ndec >= f->mcus) bp_fast_giveup(j);
	memcpy(f->preds + f->dring * MAX_COMPS_IN_SCAN, f->pred, sizeof(f->pred));
	uint64_t acc = *pacc;
	int n = *pn;
#define BP_FILL() do { if (n < 32) { b->acc = acc; b->n = n; bp_br_fill(b); acc = b->acc; n = b->n; } } while (0)
	for (int blkn = 0; blkn < f->nblocks; blkn++) {
		JCOEF *blk = mcu[blkn][0];
		int ci = f->member[blkn];
		BP_FILL();
		int s = bp_sym(&acc, &n, f->dc[ci]);
		if (s < 0 || s > 11) bp_fast_giveup(j);
		int v = 0;
		if (s > 0) {
			v = (int)(acc >> (64 - s));
			acc <<= s;
			n -= s;
			if (v < (1 << (s - 1))) v += 1 - (1 << s);
		}
		f->pred[ci] += v;
		// Beyond a JCOEF, libjpeg's encoder would code another difference.
		if (f->pred[ci] < -32768 || f->pred[ci] > 32767) bp_fast_giveup(j);
		blk[0] = (JCOEF)f->pred[ci];
		const bp_huff *ac = f->ac[ci];
		int zrl = 0;
		for (int k = 1; k < 64; k++) {
			BP_FILL();
			uint64_t fe = ac->fast[acc >> (64 - BP_LOOK)];
			if (fe != 0) {
				if (fe & BP_FAST_EOB) {
					acc <<= fe & 63;
					n -= (int)(fe & 63);
					if (zrl) bp_fast_giveup(j);
					break;
				}
				int k1 = k + (int)(fe >> 8 & 15), k2 = k1 + (int)(fe >> 12 & 31);
				// Past the block, the bits are the next block's: one
				// symbol at a time below.
				if (k2 <= 63) {
					acc <<= fe & 63;
					n -= (int)(fe & 63);
					blk[bp_zigzag[k1]] = (JCOEF)(fe >> 32);
					blk[bp_zigzag[k2]] = (JCOEF)(fe >> 48);
					k = k2;
					zrl = 0;
					if (fe & BP_FAST_EOB2) break;
					continue;
				}
			}
			int rs = bp_sym(&acc, &n, ac);
			if (rs < 0) bp_fast_giveup(j);
			int r = rs >> 4;
			s = rs & 15;
			if (s > 0) {
				k += r;
				if (k > 63 || s > 10) bp_fast_giveup(j);
				v = (int)(acc >> (64 - s));
				acc <<= s;
				n -= s;
				if (v < (1 << (s - 1))) v += 1 - (1 << s);
				blk[bp_zigzag[k]] = (JCOEF)v;
				zrl = 0;
			} else if (r == 15) {
				// Sixteen zeros: the encoder writes them only before a
				// coefficient, which must then still fit in the block.
				k += 15;
				zrl = 1;
				if (k >= 63) bp_fast_giveup(j);
			} else {
				if (r != 0 || zrl) bp_fast_giveup(j);
				break;
			}
		}
	}
#undef BP_FILL
	*pacc = acc;
	*pn = n;
	if (n < b->fake) bp_fast_giveup(j); // read past the data
	f->ends[f->dring] = b->loaded - n;
	f->dring = f->dring + 1 == f->ring ? 0 : f->dring + 1;
	f->ndec++;
}

// bp_fast_rows points buf at iMCU row r of the scan's components — the
// decoder's rows (bp_rows_in) with in set, else the compressor's
// (bp_rows_out) — and returns how many MCU rows it has, as jdcoefct.c and
// jctrans.c count them: an interleaved scan one, a scan of one component
// (one block an MCU) one for each row of blocks.
static int bp_fast_rows(bp_job *j, j_common_ptr cinfo, int in, int comps, jpeg_component_info **comp,
		JDIMENSION r, JDIMENSION total, JBLOCKARRAY *buf) {
	for (int ci = 0; ci < comps; ci++) {
		jvirt_barray_ptr a = j->arrays[comp[ci]->component_index];
		JDIMENSION first = r * comp[ci]->v_samp_factor, n = comp[ci]->v_samp_factor;
		buf[ci] = in ? bp_rows_in(cinfo, a, first, n, TRUE) : bp_rows_out(cinfo, a, first, n, FALSE);
	}
	return comps > 1 ? 1 : r < total - 1 ? comp[0]->v_samp_factor : comp[0]->last_row_height;
}

// bp_fast_consume is the decoder's consume_data (jdcoefct.c) on the
// copying path: it decodes the next iMCU row into the rows the decoder
// accesses (bp_rows_in), MCU by MCU in the order libjpeg's would, with
// bp_fast_decode_one in place of libjpeg's decode_mcu; after the last, it
// hands the rest of the file back to libjpeg's marker reader.
static void bp_fast_consume(bp_job *j) {
	j_decompress_ptr d = &j->d;
	bp_fast *f = j->fast;
	JDIMENSION r = d->input_iMCU_row;
	if (r >= d->total_iMCU_rows) bp_fast_giveup(j); // cannot happen: the compressor asks for each row once
	if (f->ndec == 0) {
		if (d->unread_marker != 0) bp_fast_giveup(j);
		f->start = d->src->next_input_byte;
		bp_br_init(&f->br, f->start, f->start + d->src->bytes_in_buffer);
	}
	JBLOCKARRAY buf[MAX_COMPS_IN_SCAN];
	int rows = bp_fast_rows(j, (j_common_ptr)d, 1, d->comps_in_scan, d->cur_comp_info, r, d->total_iMCU_rows, buf);
	JBLOCKROW mcu[D_MAX_BLOCKS_IN_MCU];
	uint64_t acc = f->br.acc;
	int n = f->br.n;
	for (int y = 0; y < rows; y++) {
		for (JDIMENSION x = 0; x < d->MCUs_per_row; x++) {
			int blkn = 0;
			for (int ci = 0; ci < d->comps_in_scan; ci++) {
				jpeg_component_info *cp = d->cur_comp_info[ci];
				for (int yi = 0; yi < cp->MCU_height; yi++) {
					JBLOCKROW p = buf[ci][yi + y] + x * cp->MCU_width;
					for (int xi = 0; xi < cp->MCU_width; xi++) mcu[blkn++] = p++;
				}
			}
			bp_fast_decode_one(j, f, mcu, &acc, &n);
		}
	}
	f->br.acc = acc;
	f->br.n = n;
	if (++d->input_iMCU_row < d->total_iMCU_rows) return;
	if (f->ndec != f->mcus) bp_fast_giveup(j);
	bp_fast_end(j, d);
	(*d->inputctl->finish_input_pass)(d);
}

// The encoder's output: bytes through the destination manager, 0xFF
// followed by a stuffed 0.
static inline void bp_fast_byte(j_compress_ptr c, unsigned v) {
	struct jpeg_destination_mgr *dm = c->dest;
	if (dm->free_in_buffer == 0 && !(*dm->empty_output_buffer)(c)) ERREXIT(c, JERR_CANT_SUSPEND);
	*dm->next_output_byte++ = (JOCTET)v;
	dm->free_in_buffer--;
	if (v == 0xFF) bp_fast_byte(c, 0);
}

// bp_fast_put writes the low k (0–32) bits of v.
static inline void bp_fast_put(j_compress_ptr c, bp_fast *f, uint32_t v, int k) {
	if (k == 0) return;
	f->wacc = f->wacc << k | (v & (uint32_t)(0xFFFFFFFFu >> (32 - k)));
	f->wn += k;
	while (f->wn >= 8) {
		f->wn -= 8;
		bp_fast_byte(c, (unsigned)(f->wacc >> f->wn) & 0xFF);
	}
}

// bp_fast_put48 writes the low 48 bits of v (at most 7 bits are pending):
// six bytes at once where the buffer has room and none of them is 0xFF,
// one by one, stuffed, otherwise.
static inline void bp_fast_put48(j_compress_ptr c, bp_fast *f, uint64_t v) {
	// The pending bits move up by 48 and stay below bit 56; the top 48
	// of them go out and the low wn stay pending.
	f->wacc = f->wacc << 48 | (v & 0xFFFFFFFFFFFFULL);
	uint64_t out = (f->wacc >> f->wn) & 0xFFFFFFFFFFFFULL;
	struct jpeg_destination_mgr *dm = c->dest;
	uint64_t inv = ~out << 16; // the six bytes at the top; a byte of inv is 0 where out has 0xFF
	if (dm->free_in_buffer >= 8 && ((inv - 0x0101010101010101ULL) & ~inv & 0x8080808080808080ULL & 0xFFFFFFFFFFFF0000ULL) == 0) {
		uint64_t be = __builtin_bswap64(out << 16);
		memcpy(dm->next_output_byte, &be, 8); // two bytes too many, overwritten next
		dm->next_output_byte += 6;
		dm->free_in_buffer -= 6;
		return;
	}
	for (int i = 5; i >= 0; i--) bp_fast_byte(c, (unsigned)(out >> (8 * i)) & 0xFF);
}

// bp_fast_raw writes n bytes that are already stuffed.
static void bp_fast_raw(j_compress_ptr c, const unsigned char *p, size_t n) {
	struct jpeg_destination_mgr *dm = c->dest;
	while (n > 0) {
		if (dm->free_in_buffer == 0 && !(*dm->empty_output_buffer)(c)) ERREXIT(c, JERR_CANT_SUSPEND);
		size_t k = n < dm->free_in_buffer ? n : dm->free_in_buffer;
		memcpy(dm->next_output_byte, p, k);
		dm->next_output_byte += k;
		dm->free_in_buffer -= k;
		p += k;
		n -= k;
	}
}

// bp_fast_block codes one block as libjpeg's encode_one_block does; a
// coefficient libjpeg cannot code in a baseline file sends the file back
// to it.
static void bp_fast_block(j_compress_ptr c, bp_job *j, const JCOEF *blk, int ci) {
	bp_fast *f = j->fast;
	const bp_huff *dc = f->dc[ci], *ac = f->ac[ci];
	int t = blk[0] - f->last[ci], t2 = t;
	f->last[ci] = blk[0];
	if (t < 0) { t = -t; t2--; }
	int nb = t ? 32 - __builtin_clz((unsigned)t) : 0;
	if (nb > 11 || dc->size[nb] == 0) bp_fast_giveup(j);
	bp_fast_put(c, f, dc->code[nb], dc->size[nb]);
	bp_fast_put(c, f, (uint32_t)t2, nb);
	int r = 0;
	for (int k = 1; k < 64; k++) {
		t = blk[bp_zigzag[k]];
		if (t == 0) { r++; continue; }
		while (r > 15) {
			bp_fast_put(c, f, ac->code[0xF0], ac->size[0xF0]);
			r -= 16;
		}
		t2 = t;
		if (t < 0) { t = -t; t2--; }
		nb = 32 - __builtin_clz((unsigned)t);
		int sym = r << 4 | nb;
		if (nb > 10 || ac->size[sym] == 0) bp_fast_giveup(j);
		bp_fast_put(c, f, ac->code[sym], ac->size[sym]);
		bp_fast_put(c, f, (uint32_t)t2, nb);
		r = 0;
	}
	if (r > 0) bp_fast_put(c, f, ac->code[0], ac->size[0]);
}

// bp_fast_copy writes the input's bits from..to (after skipping those
// before from): the MCUs between are copied.
static void bp_fast_copy(j_compress_ptr c, bp_fast *f, uint64_t from, uint64_t to) {
	bp_br *b = &f->cr;
	while (f->cpos < from) {
		if (b->n < 32) bp_br_fill(b);
		int k = from - f->cpos < 32 ? (int)(from - f->cpos) : 32;
		bp_br_take(b, k);
		f->cpos += k;
	}
	// Six bytes at a time while there are (bp_br_fill leaves at least 57
	// bits loaded; only bp_fast_put's at most 7 are pending).
	while (to - f->cpos >= 48) {
		if (b->n < 48) bp_br_fill(b);
		uint64_t v = b->acc >> 16;
		b->acc <<= 48;
		b->n -= 48;
		bp_fast_put48(c, f, v);
		f->cpos += 48;
	}
	while (f->cpos < to) {
		if (b->n < 32) bp_br_fill(b);
		int k = to - f->cpos < 32 ? (int)(to - f->cpos) : 32;
		bp_fast_put(c, f, bp_br_take(b, k), k);
		f->cpos += k;
	}
}

// bp_fast_unalign ends the aligned stretch: the first upto bits of the
// input, which the output so far stands for, are written (whole bytes as
// they are, stuffing included), and what follows is written bit by bit.
static void bp_fast_unalign(j_compress_ptr c, bp_fast *f, uint64_t upto) {
	const unsigned char *q = f->start;
	uint64_t left = upto / 8; // data bytes
	while (left > 0) {
		const unsigned char *ff = memchr(q, 0xFF, left);
		if (ff == NULL) {
			q += left;
			break;
		}
		left -= ff - q + 1;
		q = ff + 2; // FF 00: decoded through, so the 00 is there
	}
	bp_fast_raw(c, f->start, q - f->start);
	bp_br_init(&f->cr, q, f->br.end);
	f->cpos = upto - upto % 8;
	f->aligned = 0;
	bp_fast_copy(c, f, f->cpos, upto);
}

// bp_fast_flush writes the copied MCUs waiting: out of alignment,
// bp_fast_take gathers each run of them, to copy it in one stretch.
static void bp_fast_flush(j_compress_ptr c, bp_fast *f) {
	if (f->pfrom < f->pto) bp_fast_copy(c, f, f->pfrom, f->pto);
	f->pfrom = f->pto;
}

// bp_fast_mcu points mcu at the blocks of MCU x of MCU row y of the iMCU
// row r held in buf, as libjpeg's compress_output (jctrans.c) does: past
// the right or bottom edge of an interleaved scan, dummy blocks of zeros
// whose DC repeats the block before.
static void bp_fast_mcu(j_compress_ptr c, bp_fast *f, JBLOCKARRAY *buf, JDIMENSION r, int y, JDIMENSION x, JBLOCKROW *mcu) {
	int blkn = 0;
	for (int ci = 0; ci < c->comps_in_scan; ci++) {
		jpeg_component_info *cp = c->cur_comp_info[ci];
		int cnt = x < c->MCUs_per_row - 1 ? cp->MCU_width : cp->last_col_width;
		for (int yi = 0; yi < cp->MCU_height; yi++) {
			int xi = 0;
			if (r < c->total_iMCU_rows - 1 || yi + y < cp->last_row_height) {
				JBLOCKROW p = buf[ci][yi + y] + x * cp->MCU_width;
				for (; xi < cnt; xi++) mcu[blkn++] = p++;
			}
			for (; xi < cp->MCU_width; xi++) {
				mcu[blkn] = f->dummy + blkn;
				mcu[blkn][0][0] = mcu[blkn - 1][0][0];
				blkn++;
			}
		}
	}
}

// bp_fast_take takes the next k MCUs, x … x+k-1 of MCU row y, whose bits
// are the input's: their blocks as decoded, the first coded with the DC
// predictions the encoder has, and so each next one (the DCs of the one
// before, unchanged). Aligned, nothing is written; else they join the run
// waiting to be copied, or start one.
static void bp_fast_take(j_compress_ptr c, bp_job *j, JBLOCKARRAY *buf, JDIMENSION r, int y, JDIMENSION x, long long k) {
	bp_fast *f = j->fast;
	f->nenc += k;
	if (f->nenc > f->ndec) bp_fast_giveup(j); // cannot happen: the row was decoded
	uint64_t from = f->from;
	long long e = (f->ering + k - 1) % f->ring; // the last one's
	f->from = f->ends[e];
	f->ering = e + 1 == f->ring ? 0 : e + 1;
	if (!f->aligned) {
		if (f->pto != from) {
			bp_fast_flush(c, f);
			f->pfrom = from;
		}
		f->pto = f->from;
	}
	JBLOCKROW mcu[C_MAX_BLOCKS_IN_MCU];
	bp_fast_mcu(c, f, buf, r, y, x + k - 1, mcu);
	for (int blkn = 0; blkn < f->nblocks; blkn++) f->last[f->member[blkn]] = mcu[blkn][0][0];
	f->copied += k;
}

// bp_fast_encode encodes the next MCU, whose blocks mcu holds: one that
// changed, or was coded with other DC predictions than the encoder's.
static void bp_fast_encode(j_compress_ptr c, bp_job *j, JBLOCKROW *mcu) {
	bp_fast *f = j->fast;
	if (f->nenc >= f->ndec) bp_fast_giveup(j); // cannot happen: the row was decoded
	f->nenc++;
	uint64_t from = f->from;
	f->from = f->ends[f->ering];
	f->ering = f->ering + 1 == f->ring ? 0 : f->ering + 1;
	if (f->aligned) bp_fast_unalign(c, f, from);
	bp_fast_flush(c, f);
	for (int blkn = 0; blkn < f->nblocks; blkn++) bp_fast_block(c, j, mcu[blkn][0], f->member[blkn]);
}

// bp_fast_compress is the compressor's compress_data on the copying path,
// in place of libjpeg's compress_output (jctrans.c): it takes the next
// iMCU row (bp_rows_out decodes it) and its MCUs in libjpeg's order,
// each run of good ones at once — kept, not masked, and coded with the
// encoder's DC predictions — and encodes the others.
static boolean bp_fast_compress(j_compress_ptr c, JSAMPIMAGE unused) {
	bp_job *j = (bp_job *)c->client_data;
	bp_fast *f = j->fast;
	JDIMENSION r = f->imcu;
	if (c->comps_in_scan != j->d.comps_in_scan || (long long)c->MCUs_per_row != f->perrow || r >= c->total_iMCU_rows)
		bp_fast_giveup(j); // cannot happen: the same frame, one scan
	JBLOCKARRAY buf[MAX_COMPS_IN_SCAN];
	int rows = bp_fast_rows(j, (j_common_ptr)c, 0, c->comps_in_scan, c->cur_comp_info, r, c->total_iMCU_rows, buf);
	JBLOCKROW mcu[C_MAX_BLOCKS_IN_MCU];
	for (int y = 0; y < rows; y++, f->row++) {
		const unsigned char *masked = f->masked == NULL ? NULL : f->masked + f->row * f->perrow;
		long long x = 0;
		while (x < f->perrow) {
			long long end = x;
			if (f->row < f->goodrows &&
					memcmp(f->last, f->preds + f->ering * MAX_COMPS_IN_SCAN, sizeof(f->last)) == 0) {
				while (end < f->goodcols && (masked == NULL || !masked[end])) end++;
			}
			if (end > x) {
				bp_fast_take(c, j, buf, r, y, (JDIMENSION)x, end - x);
				x = end;
				continue;
			}
			bp_fast_mcu(c, f, buf, r, y, (JDIMENSION)x, mcu);
			bp_fast_encode(c, j, mcu);
			x++;
		}
	}
	f->imcu++;
	return TRUE;
}

// bp_fast_finish ends the data as libjpeg's encoder does: the last byte
// filled with one bits.
static void bp_fast_finish(j_compress_ptr c) {
	bp_job *j = (bp_job *)c->client_data;
	bp_fast *f = j->fast;
	if (f->nenc != f->mcus) bp_fast_giveup(j);
	if (f->aligned) {
		bp_fast_raw(c, f->start, f->stop - f->start);
		return;
	}
	bp_fast_flush(c, f);
	if (f->wn > 0) bp_fast_put(c, f, 0xFF, 8 - f->wn);
}

// bp_fast_start_pass lets libjpeg's encoder set up its pass (the markers
// are written next), then ends the pass in its place.
static void bp_fast_start_pass(j_compress_ptr c, boolean gather) {
	bp_job *j = (bp_job *)c->client_data;
	(*j->fast->start_pass)(c, gather);
	c->entropy->finish_pass = bp_fast_finish;
}

static int bp_same_table(const JHUFF_TBL *a, const JHUFF_TBL *b) {
	if (a == NULL || b == NULL || memcmp(a->bits, b->bits, sizeof(a->bits)) != 0) return 0;
	int n = 0;
	for (int l = 1; l <= 16; l++) n += a->bits[l];
	return n <= 256 && memcmp(a->huffval, b->huffval, n) == 0;
}

// bp_fast_setup takes the copying path for a streamed rewrite whose
// scan is coded as the compressor c will code it: one sequential scan of
// every component in the frame's order, no restart interval, the
// standard Huffman tables. Called between jpeg_write_coefficients and
// jpeg_finish_compress; returns whether it did.
static int bp_fast_setup(bp_job *j) {
	j_decompress_ptr d = &j->d;
	j_compress_ptr c = &j->c;
	if (d->comps_in_scan != d->num_components || c->num_components != d->num_components ||
			d->restart_interval != 0 || d->Ss != 0 || d->Se != 63 || d->Ah != 0 || d->Al != 0 ||
			d->blocks_in_MCU > D_MAX_BLOCKS_IN_MCU || d->comps_in_scan > MAX_COMPS_IN_SCAN)
		return 0;
	bp_fast *f = (*d->mem->alloc_small)((j_common_ptr)d, JPOOL_IMAGE, sizeof(bp_fast));
	memset(f, 0, sizeof(*f));
	int built[4] = {0}; // f->tables[i] is made
	for (int ci = 0; ci < d->comps_in_scan; ci++) {
		jpeg_component_info *dp = d->cur_comp_info[ci], *cp = c->comp_info + ci;
		if (dp != d->comp_info + ci || dp->MCU_width < 1 || dp->MCU_height < 1) return 0;
		if (cp->dc_tbl_no < 0 || cp->dc_tbl_no > 1 || cp->ac_tbl_no < 0 || cp->ac_tbl_no > 1) return 0;
		JHUFF_TBL *cdc = c->dc_huff_tbl_ptrs[cp->dc_tbl_no], *cac = c->ac_huff_tbl_ptrs[cp->ac_tbl_no];
		if (!bp_same_table(d->dc_huff_tbl_ptrs[dp->dc_tbl_no], cdc) || !bp_same_table(d->ac_huff_tbl_ptrs[dp->ac_tbl_no], cac))
			return 0;
		int kd = cp->dc_tbl_no, ka = 2 + cp->ac_tbl_no;
		if (!built[kd] && bp_huff_build(cdc, &f->tables[kd])) return 0;
		if (!built[ka] && bp_huff_build(cac, &f->tables[ka])) return 0;
		built[kd] = built[ka] = 1;
		f->dc[ci] = &f->tables[kd];
		f->ac[ci] = &f->tables[ka];
	}
	f->nblocks = d->blocks_in_MCU;
	for (int b = 0; b < f->nblocks; b++) f->member[b] = d->MCU_membership[b];
	f->perrow = d->MCUs_per_row;
	f->mcus = (long long)d->MCUs_per_row * d->MCU_rows_in_scan;
	// The MCUs that hold a block the rewrite changes (bp_edge_row) or a
	// padding block (the compressor's dummies) are encoded.
	f->goodcols = d->MCUs_per_row;
	f->goodrows = d->MCU_rows_in_scan;
	for (int ci = 0; ci < d->comps_in_scan; ci++) {
		jpeg_component_info *cp = d->cur_comp_info[ci];
		int vw = cp->downsampled_width - 8 * (cp->width_in_blocks - 1);
		int vh = cp->downsampled_height - 8 * (cp->height_in_blocks - 1);
		long long gc = (cp->width_in_blocks - (vw < 8)) / cp->MCU_width;
		long long gr = (cp->height_in_blocks - (vh < 8)) / cp->MCU_height;
		if (gc < f->goodcols) f->goodcols = gc;
		if (gr < f->goodrows) f->goodrows = gr;
	}
	// And those with a block a mask touches (mask.h).
	if (j->nmasks > 0) {
		f->masked = (*d->mem->alloc_large)((j_common_ptr)d, JPOOL_IMAGE, f->mcus);
		memset(f->masked, 0, f->mcus);
		for (int ci = 0; ci < d->comps_in_scan; ci++) {
			jpeg_component_info *cp = d->cur_comp_info[ci];
			for (int i = 0; i < j->nmasks; i++) {
				bp_rect s;
				if (!bp_mask_span(d, cp, j->masks + i, &s)) continue;
				long long c0 = s.x0 / 8 / cp->MCU_width, c1 = (s.x1 - 1) / 8 / cp->MCU_width;
				long long r0 = s.y0 / 8 / cp->MCU_height, r1 = (s.y1 - 1) / 8 / cp->MCU_height;
				if (c1 >= f->perrow) c1 = f->perrow - 1;
				if (r1 >= f->mcus / f->perrow) r1 = f->mcus / f->perrow - 1;
				for (long long r = r0; r <= r1; r++) memset(f->masked + r * f->perrow + c0, 1, c1 - c0 + 1);
			}
		}
	}
	f->ring = 2 * (long long)d->MCUs_per_row * d->max_v_samp_factor + 2;
	f->ends = (*d->mem->alloc_large)((j_common_ptr)d, JPOOL_IMAGE, f->ring * sizeof(uint64_t));
	f->preds = (*d->mem->alloc_large)((j_common_ptr)d, JPOOL_IMAGE, f->ring * sizeof(f->pred));
	f->dummy = (*d->mem->alloc_large)((j_common_ptr)d, JPOOL_IMAGE, C_MAX_BLOCKS_IN_MCU * sizeof(JBLOCK));
	memset(f->dummy, 0, C_MAX_BLOCKS_IN_MCU * sizeof(JBLOCK));
	f->aligned = 1;
	f->start_pass = c->entropy->start_pass;
	j->fast = f;
	c->entropy->start_pass = bp_fast_start_pass;
	c->coef->compress_data = bp_fast_compress;
	return 1;
}
