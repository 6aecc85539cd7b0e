package verify

import (
	"bytes"
	"fmt"
	"image"
	"math"
	"sync"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/blindpack/blindpack/internal/pdfkit"
	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/scan/jpegcodec"
)

// contentOps are the operators blindpack's pages use.
var contentOps = keySet("q", "Q", "cm", "Do", "BT", "ET", "Tf", "Tm", "Tj", "rg", "RG", "w", "m", "l", "S", "re", "f", "gs")

type drawn struct {
	name string
	ctm  [6]float64
}

func (v *verifier) pages() {
	xt := v.ctx.XRefTable
	for i := 1; i <= xt.PageCount; i++ {
		d, _, inh, err := xt.PageDict(i, false)
		if err != nil || d == nil || inh == nil || inh.MediaBox == nil {
			v.add(finding.UnverifiablePacket, i, "page dictionary: %v", err)
			continue
		}
		v.unexpectedKeys(d, pageKeys, i, "page")
		res, err := xt.DereferenceDict(d["Resources"])
		if err != nil {
			v.add(finding.UnverifiablePacket, i, "resources: %v", err)
			continue
		}
		fonts := v.resources(res, i)
		content, err := pdfkit.PageContents(xt, d, 64<<20)
		if err != nil {
			v.add(finding.UnverifiablePacket, i, "content: %v", err)
			continue
		}
		images := v.content(content, fonts, i)
		if rects := v.exp.Masks[i]; len(rects) > 0 {
			v.masks(i, inh.MediaBox, res, images, rects)
		}
	}
}

// resources checks a page's resources and returns its fonts' ToUnicode
// maps by resource name.
func (v *verifier) resources(res types.Dict, page int) map[string]pdfkit.ToUnicode {
	xt := v.ctx.XRefTable
	v.unexpectedKeys(res, resourceKeys, page, "resources")
	fonts := map[string]pdfkit.ToUnicode{}
	if fd, err := xt.DereferenceDict(res["Font"]); err == nil {
		for name, o := range fd {
			f, err := xt.DereferenceDict(o)
			if err != nil || f == nil || !v.fontOK(f) {
				v.add(finding.ForeignContent, page, "font /%s not embedded by blindpack", name)
				continue
			}
			ref, shared := f["ToUnicode"].(types.IndirectRef)
			if tu, ok := v.toUnicode[ref.ObjectNumber.Value()]; shared && ok {
				fonts[name] = tu
				continue
			}
			sd, _, err := xt.DereferenceStreamDict(f["ToUnicode"])
			if err != nil || sd == nil {
				continue
			}
			c := *sd
			if err := c.DecodeWithLimit(4 << 20); err == nil {
				fonts[name] = pdfkit.ParseToUnicode(c.Content)
				if shared {
					v.toUnicode[ref.ObjectNumber.Value()] = fonts[name]
				}
			}
		}
	}
	if xo, err := xt.DereferenceDict(res["XObject"]); err == nil {
		for name, o := range xo {
			sd, _, err := xt.DereferenceStreamDict(o)
			if err != nil || sd == nil {
				v.add(finding.ForeignContent, page, "XObject /%s", name)
				continue
			}
			if sub := sd.Dict.Subtype(); sub == nil || *sub != "Image" {
				v.add(finding.ForeignContent, page, "XObject /%s is not an image", name)
			}
			if sd.Dict["SMask"] != nil || sd.Dict["Mask"] != nil {
				v.add(finding.ForeignContent, page, "image /%s has a mask", name)
			}
			v.imageForm(sd, page, name)
		}
	}
	if gs, err := xt.DereferenceDict(res["ExtGState"]); err == nil {
		for name, o := range gs {
			if d, err := xt.DereferenceDict(o); err == nil {
				v.unexpectedKeys(d, extGStateKeys, page, "graphics state /"+name)
			}
		}
	}
	return fonts
}

// content reads a page's content: only blindpack's operators, its text as a
// reader extracts it (searched for the identity as one string, so a name
// split across operators is still found), and the images it paints.
func (v *verifier) content(content []byte, fonts map[string]pdfkit.ToUnicode, page int) []drawn {
	type state struct{ ctm [6]float64 }
	st := state{ctm: [6]float64{1, 0, 0, 1, 0, 0}}
	var stack []state
	var ops []pdfkit.Token
	var text bytes.Buffer
	var font pdfkit.ToUnicode
	var images []drawn
	lex := pdfkit.NewLexer(content)
	for {
		tok, ok := lex.Next()
		if !ok {
			break
		}
		if tok.Kind != pdfkit.TokOperator {
			ops = append(ops, tok)
			if tok.Kind == pdfkit.TokString {
				v.text(tok.Str, fmt.Sprintf("page %d content string", page))
			}
			continue
		}
		if !contentOps[tok.Text] {
			v.add(finding.ForeignContent, page, "operator %s", tok.Text)
			if tok.Text == "ID" {
				lex.SkipInlineImage()
			}
		}
		switch tok.Text {
		case "q":
			stack = append(stack, st)
		case "Q":
			if len(stack) > 0 {
				st, stack = stack[len(stack)-1], stack[:len(stack)-1]
			}
		case "cm":
			if len(ops) >= 6 {
				var m [6]float64
				for i, o := range ops[len(ops)-6:] {
					m[i] = o.Num
				}
				st.ctm = multiply(m, st.ctm)
			}
		case "Tf":
			if len(ops) >= 2 && ops[len(ops)-2].Kind == pdfkit.TokName {
				font = fonts[ops[len(ops)-2].Text]
			}
		case "Tj":
			if len(ops) >= 1 && ops[len(ops)-1].Kind == pdfkit.TokString {
				text.WriteString(font.Decode(ops[len(ops)-1].Str))
			}
		case "Do":
			if len(ops) >= 1 && ops[len(ops)-1].Kind == pdfkit.TokName {
				images = append(images, drawn{name: ops[len(ops)-1].Text, ctm: st.ctm})
			}
		}
		ops = ops[:0]
	}
	v.text(bytes.Join(bytes.Fields(text.Bytes()), nil), fmt.Sprintf("page %d text", page))
	return images
}

// multiply returns m × n: first m, then n.
func multiply(m, n [6]float64) [6]float64 {
	return [6]float64{
		m[0]*n[0] + m[1]*n[2], m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2], m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4], m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

// masks checks that the pixels under each mask, in the image the page
// paints, are black.
func (v *verifier) masks(page int, box *types.Rectangle, res types.Dict, images []drawn, rects [][4]float64) {
	if len(images) != 1 {
		v.add(finding.MaskNotApplied, page, "%d images on a masked page", len(images))
		return
	}
	im := images[0]
	xt := v.ctx.XRefTable
	xo, _ := xt.DereferenceDict(res["XObject"])
	sd, _, err := xt.DereferenceStreamDict(xo[im.name])
	if err != nil || sd == nil {
		v.add(finding.MaskNotApplied, page, "image /%s not found", im.name)
		return
	}
	m := im.ctm
	det := m[0]*m[3] - m[1]*m[2]
	if math.Abs(det) < 1e-9 {
		v.add(finding.MaskNotApplied, page, "image /%s has no area", im.name)
		return
	}
	iw, ih := sd.Dict.IntEntry("Width"), sd.Dict.IntEntry("Height")
	if iw == nil || ih == nil || *iw <= 0 || *ih <= 0 || int64(*iw)*int64(*ih) > 200_000_000 {
		v.add(finding.UnverifiablePacket, page, "image /%s: bad image size", im.name)
		return
	}
	b := image.Rect(0, 0, *iw, *ih)
	w, h := float64(*iw), float64(*ih)
	toPixel := func(x, y float64) (float64, float64) {
		// Displayed fractions → user space → image unit square → pixels.
		X, Y := box.LL.X+x*box.Width(), box.UR.Y-y*box.Height()
		X, Y = X-m[4], Y-m[5]
		ix, iy := (m[3]*X-m[2]*Y)/det, (-m[1]*X+m[0]*Y)/det
		return ix * w, (1 - iy) * h
	}
	// JPEG blocks straddling a mask's edge ring a little into it; the
	// check starts two pixels inside.
	inset := 0
	if isJPEG(sd) {
		inset = 2
	}
	type check struct {
		r  [4]float64
		px image.Rectangle
	}
	var checks []check
	var bands [][2]int
	for _, r := range rects {
		x0, y0 := toPixel(r[0], r[1])
		x1, y1 := toPixel(r[2], r[3])
		px := image.Rect(int(math.Ceil(math.Min(x0, x1)))+inset, int(math.Ceil(math.Min(y0, y1)))+inset,
			int(math.Floor(math.Max(x0, x1)))-inset, int(math.Floor(math.Max(y0, y1)))-inset).Intersect(b)
		if px.Empty() {
			continue // the mask lies off the image, on blank page
		}
		checks = append(checks, check{r, px})
		bands = append(bands, [2]int{px.Min.Y, px.Max.Y})
	}
	buf := lumPool.Get().(*[]byte)
	defer lumPool.Put(buf)
	lum, err := v.luminance(sd, *buf, bands)
	if err != nil {
		v.add(finding.UnverifiablePacket, page, "image /%s: %v", im.name, err)
		return
	}
	*buf = lum.Pix
	if lum.Bounds() != b {
		v.add(finding.UnverifiablePacket, page, "image /%s: decoded %v, dictionary says %v", im.name, lum.Bounds(), b)
		return
	}
	for _, c := range checks {
		r, px := c.r, c.px
		var sum, lit, n int
		for y := px.Min.Y; y < px.Max.Y; y++ {
			row := lum.Pix[(y-b.Min.Y)*lum.Stride:]
			for x := px.Min.X; x < px.Max.X; x++ {
				l := int(row[x-b.Min.X])
				sum += l
				if l > 64 {
					lit++
				}
				n++
			}
		}
		if mean := float64(sum) / float64(n); mean > 16 || lit > n/500 {
			v.add(finding.MaskNotApplied, page, "mask [%.3f %.3f %.3f %.3f]: mean luminance %.0f, %d of %d pixels light", r[0], r[1], r[2], r[3], mean, lit, n)
		}
	}
}

// lumPool holds the buffers masked pages are decoded into: a page at 300
// ppi is megabytes, and a worker checks page after page.
var lumPool = sync.Pool{New: func() any { return new([]byte) }}

// isJPEG reports whether an image XObject is stored as JPEG (lossy).
func isJPEG(sd *types.StreamDict) bool {
	return len(sd.FilterPipeline) == 1 && sd.FilterPipeline[0].Name == "DCTDecode"
}

// luminance decodes an image XObject (of a size its dictionary gives and
// the caller checked) to grey. Of a JPEG only the rows of bands are sure
// to be decoded (the others are skipped, though all of its data is read),
// into dst when it has the capacity.
func (v *verifier) luminance(sd *types.StreamDict, dst []byte, bands [][2]int) (*image.Gray, error) {
	w, h := sd.Dict.IntEntry("Width"), sd.Dict.IntEntry("Height")
	if isJPEG(sd) {
		// Luminance only, full size: libjpeg-turbo skips the chroma.
		return jpegcodec.DecodeGrayRows(sd.Raw, bands, dst)
	}
	c := *sd
	if err := c.DecodeWithLimit(int64(*w) * int64(*h) * 4); err != nil {
		return nil, err
	}
	cs := sd.Dict.NameEntry("ColorSpace")
	bpc := sd.Dict.IntEntry("BitsPerComponent")
	if cs == nil || bpc == nil || *bpc != 8 {
		return nil, fmt.Errorf("image samples not 8-bit grey or RGB")
	}
	g := image.NewGray(image.Rect(0, 0, *w, *h))
	switch *cs {
	case "DeviceGray":
		if len(c.Content) < len(g.Pix) {
			return nil, fmt.Errorf("short image data")
		}
		copy(g.Pix, c.Content)
	case "DeviceRGB":
		if len(c.Content) < 3*len(g.Pix) {
			return nil, fmt.Errorf("short image data")
		}
		for i := range g.Pix {
			r, gg, b := int(c.Content[3*i]), int(c.Content[3*i+1]), int(c.Content[3*i+2])
			g.Pix[i] = uint8((299*r + 587*gg + 114*b) / 1000)
		}
	default:
		return nil, fmt.Errorf("colour space %s", *cs)
	}
	return g, nil
}
