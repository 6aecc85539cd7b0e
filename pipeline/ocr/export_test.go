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

// ScreenMargins returns every pair the screen sees on prepared page g for
// id at or above the threshold, for TestMeasureRivals: its strip and, for
// each of its two windows, the score and the best common character's
// (0 when less than the score and 0.1).
func ScreenMargins(id Identity, g *image.Gray) (strips []image.Rectangle, ends [][2][2]float32) {
	s, ok := newScreen(id)
	if !ok {
		return nil, nil
	}
	ls, _, _ := layout(g)
	rs := rivals()
	for _, o := range s.occurrences(g, ls, screenFloor) {
		if o.score < ScreenThreshold {
			continue
		}
		var e2 [2][2]float32
		for k, e := range o.ends {
			e2[k] = [2]float32{e.score, s.rivalScore(g, e, rs, e.score+0.1)}
		}
		strips = append(strips, o.strip)
		ends = append(ends, e2)
	}
	return strips, ends
}

// rivalScore is the best score of a common character other than e's own
// at e's windows (rivalReach either side) when it is at least floor, else
// 0.
func (s *screen) rivalScore(g *image.Gray, e end, rs *rivalSet, floor float32) float32 {
	self, has := rs.index[s.runes[e.r]]
	var best float32
	for _, v := range e.shapes(g) {
		for r, sc := range rs.ts.scores(&v, len(rs.runes), floor) {
			if !(has && r == self) {
				best = max(best, sc)
			}
		}
	}
	return best
}
