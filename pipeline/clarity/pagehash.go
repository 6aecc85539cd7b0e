package clarity

import "math/bits"

// hashGrid is the side of the grid of cells a PageHash compares: a cell of
// an A4 page at 32 × 32 is about 6 × 9 mm, a few words of text, so two
// different pages of one form differ in many cells while a page scanned or
// saved again moves in few.
const hashGrid = 32

// hashStep is how much lighter or darker (in grey levels) a cell must be
// than its right-hand neighbour to count: blank paper, whose cells differ
// by noise alone, sets no bit, so that two blank areas neither match nor
// differ by chance.
const hashStep = 3

// PageHash is a difference hash of a page as displayed (after its
// orientation, before masks): over a grid of cells, one bit where a cell is
// clearly darker than the next to its right, one where it is clearly
// lighter. Pages that are copies of each other — one file uploaded twice, a
// page saved again at another quality or size — have nearly the same bits.
type PageHash [2 * hashGrid * (hashGrid - 1) / 64]uint64

// Repeats reports whether two pages look like copies of one: each has
// enough structure to tell (a blank page repeats nothing), and they differ
// in fewer than one in eight of the bits either sets.
func (h PageHash) Repeats(o PageHash) bool {
	var diff, union, a, b int
	for i := range h {
		diff += bits.OnesCount64(h[i] ^ o[i])
		union += bits.OnesCount64(h[i] | o[i])
		a += bits.OnesCount64(h[i])
		b += bits.OnesCount64(o[i])
	}
	const minBits = 48
	return a >= minBits && b >= minBits && diff*8 < union
}

// pageHash hashes a stored image's luminance (w × h, row stride w) as it is
// displayed, toDisplayed mapping a stored point to the displayed page.
func pageHash(pix []uint8, w, h int, toDisplayed func(s, t float64) (u, v float64)) PageHash {
	var h0 PageHash
	if w < hashGrid || h < hashGrid {
		return h0
	}
	// Cell means on the stored grid; a stored cell (sx, sy) is displayed at
	// the cell its centre maps to.
	var rows, cols [hashGrid]int // pixels in each row and column of cells
	var start [hashGrid + 1]int  // the first column of each column of cells
	for x := range w {
		cols[x*hashGrid/w]++
	}
	for cx := range hashGrid {
		start[cx+1] = start[cx] + cols[cx]
	}
	for y := range h {
		rows[y*hashGrid/h]++
	}
	var sum [hashGrid][hashGrid]int
	if nativeKernels() {
		nativeCellSums(pix, w, h, &start, &sum)
	} else {
		cellSums(pix, w, h, &start, &sum)
	}
	var disp [hashGrid][hashGrid]int
	for sy := range hashGrid {
		for sx := range hashGrid {
			u, v := toDisplayed((float64(sx)+0.5)/hashGrid, (float64(sy)+0.5)/hashGrid)
			dx, dy := min(hashGrid-1, int(u*hashGrid)), min(hashGrid-1, int(v*hashGrid))
			disp[dy][dx] = sum[sy][sx] / max(1, rows[sy]*cols[sx])
		}
	}
	k := 0
	set := func(b bool) {
		if b {
			h0[k/64] |= 1 << (k % 64)
		}
		k++
	}
	for y := range hashGrid {
		for x := range hashGrid - 1 {
			d := disp[y][x+1] - disp[y][x]
			set(d > hashStep)
			set(d < -hashStep)
		}
	}
	return h0
}

// cellSums adds up pix (w × h) in the hash's cells: row y belongs to the
// row of cells y·hashGrid/h, columns start[cx] to start[cx+1] to column
// cx. nativeCellSums is the same in C (the same integers).
func cellSums(pix []uint8, w, h int, start *[hashGrid + 1]int, sum *[hashGrid][hashGrid]int) {
	for y := range h {
		cy := y * hashGrid / h
		row := pix[y*w : y*w+w]
		for cx := range hashGrid {
			s := 0
			for _, v := range row[start[cx]:start[cx+1]] {
				s += int(v)
			}
			sum[cy][cx] += s
		}
	}
}
