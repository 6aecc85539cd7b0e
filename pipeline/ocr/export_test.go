package ocr

import "image"

// ScreenScores runs the screen alone on prepared page g for id, for
// TestMeasureScreen: every pair it sees scoring at least thr (its strip
// and score), and the page's lines.
func ScreenScores(id Identity, g *image.Gray, thr float32) (strips []image.Rectangle, scores []float32, lines []image.Rectangle) {
	s, ok := newScreen(id)
	if !ok {
		return nil, nil, nil
	}
	ls, _, _ := layout(g)
	for _, o := range s.occurrences(g, ls, thr) {
		strips = append(strips, o.strip)
		scores = append(scores, o.score)
	}
	for _, l := range ls {
		lines = append(lines, l.box)
	}
	return strips, scores, lines
}

// ScreenRead returns what the engine would read of prepared page g for
// id: the strips, or whole.
func ScreenRead(id Identity, g *image.Gray) (strips []image.Rectangle, whole bool) {
	s, ok := newScreen(id)
	if !ok {
		return nil, true
	}
	return s.candidates(g)
}

// candidates returns the strips of page g that plan picks, for tests.
func (s *screen) candidates(g *image.Gray) (strips []image.Rectangle, full bool) {
	cs, full := s.plan(g)
	for _, c := range cs {
		strips = append(strips, c.strip)
	}
	return strips, full
}
