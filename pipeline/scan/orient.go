package scan

// Orientation says how a stored image is turned to be displayed, with the
// meaning of the EXIF Orientation tag (1 = as stored, 6 = turned 90°
// clockwise, 3 = 180°, 8 = 90° anticlockwise; 2, 4, 5 and 7 mirror).
type Orientation int

// Swapped reports whether the displayed width is the stored height.
func (o Orientation) Swapped() bool { return o >= 5 && o <= 8 }

// valid reports whether o is one of the eight EXIF values.
func (o Orientation) valid() bool { return o >= 1 && o <= 8 }

// ToStored maps a point (u, v) of the displayed page, as fractions with the
// origin at the top left, to the same point of the stored image.
func (o Orientation) ToStored(u, v float64) (s, t float64) {
	switch o {
	case 2:
		return 1 - u, v
	case 3:
		return 1 - u, 1 - v
	case 4:
		return u, 1 - v
	case 5:
		return v, u
	case 6:
		return v, 1 - u
	case 7:
		return 1 - v, 1 - u
	case 8:
		return 1 - v, u
	}
	return u, v
}

// ToDisplayed maps a point (s, t) of the stored image to the displayed page.
func (o Orientation) ToDisplayed(s, t float64) (u, v float64) {
	switch o {
	case 2:
		return 1 - s, t
	case 3:
		return 1 - s, 1 - t
	case 4:
		return s, 1 - t
	case 5:
		return t, s
	case 6:
		return 1 - t, s
	case 7:
		return 1 - t, 1 - s
	case 8:
		return t, 1 - s
	}
	return s, t
}

// fromMatrix classifies an axis-aligned mapping of the image's unit square
// to displayed fractions (u right, v down). It reports false for a matrix
// that shears or turns by other than a multiple of 90°.
func fromMatrix(a, b, c, d float64) (Orientation, bool) {
	const eps = 1e-6
	zero := func(x float64) bool { return x < eps && x > -eps }
	// In PDF image space, x grows along a stored row and y grows from the
	// last row to the first, so stored (s, t) is unit (s, 1-t).
	// u = a*x + c*y + e, v = b*x + d*y + f.
	switch {
	case zero(b) && zero(c) && a > 0 && d < 0:
		return 1, true
	case zero(b) && zero(c) && a < 0 && d < 0:
		return 2, true
	case zero(b) && zero(c) && a < 0 && d > 0:
		return 3, true
	case zero(b) && zero(c) && a > 0 && d > 0:
		return 4, true
	case zero(a) && zero(d) && b > 0 && c < 0:
		return 5, true
	case zero(a) && zero(d) && b > 0 && c > 0:
		return 6, true
	case zero(a) && zero(d) && b < 0 && c > 0:
		return 7, true
	case zero(a) && zero(d) && b < 0 && c < 0:
		return 8, true
	}
	return 0, false
}
