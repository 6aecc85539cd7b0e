package scan

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"sync"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/filter"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/blindpack/blindpack/internal/pdfkit"
	"github.com/blindpack/blindpack/pipeline/finding"
)

var disableConfigDir sync.Once

// pdfConfig is the pdfcpu configuration for reading uploads. pdfcpu would
// otherwise create and read a configuration under the user's home
// directory; blindpack needs none of it (it embeds no pdfcpu fonts), so the
// directory is disabled once for the process and the limits come from here.
func pdfConfig(lim Limits) *model.Configuration {
	disableConfigDir.Do(api.DisableConfigDir)
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	conf.Limits.MaxStreamBytes = lim.MaxFileBytes
	conf.Limits.MaxDecodeBytes = lim.MaxDecodeBytes
	conf.Limits.MaxImagePixels = lim.MaxPagePixels
	conf.Limits.MaxImageBytes = lim.MaxDecodeBytes
	conf.Limits.MaxObjectCount = 1_000_000
	conf.Limits.MaxRecursionDepth = 64
	return conf
}

// maxContentBytes bounds one page's decoded content stream. A scanned page
// needs a few hundred bytes; an OCR text layer some tens of kilobytes.
const maxContentBytes = 16 << 20

type pdfFile struct {
	ctx      *model.Context
	numPages int
	limits   Limits
	data     []byte // the file, for the renderer
	text     TextNeed
}

// pdfErr turns a pdfcpu failure into a finding: decompression bombs and
// encryption get their own codes, anything else is a malformed PDF.
func pdfErr(err error, page int) error {
	var fe *finding.Error
	switch {
	case errors.As(err, &fe):
		return err
	case errors.Is(err, filter.ErrDecodeLimitExceeded):
		return finding.Errorf(finding.DecompressionLimit, page, "", err)
	case errors.Is(err, pdfcpu.ErrWrongPassword):
		return finding.Errorf(finding.EncryptedPDF, 0, "", err)
	}
	return finding.Errorf(finding.MalformedPDF, page, "", err)
}

func openPDF(data []byte, lim Limits) (f *pdfFile, err error) {
	// pdfcpu is defended against most malformed input, but a panic on a
	// file we have never seen must still end as a finding, not a crash.
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, finding.Errorf(finding.MalformedPDF, 0, "", fmt.Errorf("pdfcpu panic: %v", r))
		}
	}()
	ctx, err := api.ReadContext(bytes.NewReader(data), pdfConfig(lim))
	if err != nil {
		return nil, pdfErr(err, 0)
	}
	if ctx.XRefTable.Encrypt != nil || ctx.E != nil {
		return nil, finding.Errorf(finding.EncryptedPDF, 0, "", nil)
	}
	if err := ctx.XRefTable.EnsurePageCount(); err != nil {
		return nil, pdfErr(err, 0)
	}
	if ctx.PageCount < 1 {
		return nil, finding.Errorf(finding.MalformedPDF, 0, "", errors.New("no pages"))
	}
	return &pdfFile{ctx: ctx, numPages: ctx.PageCount, limits: lim, data: data}, nil
}

func (f *pdfFile) page(n int, lim Limits) (p *Page, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, finding.Errorf(finding.MalformedPDF, n, "", fmt.Errorf("pdfcpu panic: %v", r))
		}
	}()
	xt := f.ctx.XRefTable
	d, _, inh, err := xt.PageDict(n, false)
	if err != nil || d == nil || inh == nil || inh.MediaBox == nil {
		return nil, pdfErr(fmt.Errorf("page dictionary: %w", err), n)
	}
	box := inh.MediaBox
	if inh.CropBox != nil {
		if c := intersect(inh.CropBox, box); c != nil {
			box = c
		}
	}
	if box.Width() < 1 || box.Height() < 1 {
		return nil, finding.Errorf(finding.MalformedPDF, n, "", errors.New("empty page box"))
	}
	rot := ((inh.Rotate % 360) + 360) % 360
	if rot%90 != 0 {
		return nil, finding.Errorf(finding.MalformedPDF, n, "", fmt.Errorf("page /Rotate %d", inh.Rotate))
	}

	content, err := pdfkit.PageContents(f.ctx.XRefTable, d, maxContentBytes)
	if err != nil {
		return nil, pdfErr(err, n)
	}
	var pc pageContent
	interpret(content, identity, f.resolver(inh.Resources, 0), &pc, 0, nil)
	p, err = f.scannedPage(n, inh.Resources, box, rot, &pc, lim)
	if err == nil && f.shownAnnotation(d) {
		err = needsRender("annotations")
	}
	var nr needsRender
	if errors.As(err, &nr) {
		// Not exactly one image filling the visible box: the page is drawn
		// into pixels of blindpack's own, masks and all, in the sandbox.
		return f.renderPage(n, d, box, len(pc.images) > 0 || pc.visible == "inline image", lim)
	}
	return p, err
}

// needsRender is why a PDF page cannot take the fast path of extracting
// its one image: what the page shows is not that image as it is stored.
type needsRender string

func (e needsRender) Error() string { return "scan: page needs rendering: " + string(e) }

// scannedPage is the fast path: a page that is exactly one image drawn
// into the visible box, with nothing else painted and nothing that hides
// or changes part of it (clip, soft mask, /Decode, palette, stencil), is
// that image. Any other page is a needsRender error.
func (f *pdfFile) scannedPage(n int, res types.Dict, box *types.Rectangle, rot int, pc *pageContent, lim Limits) (*Page, error) {
	switch {
	case pc.visible != "":
		return nil, needsRender(pc.visible)
	case pc.hidden != "":
		return nil, needsRender(pc.hidden)
	case len(pc.images) == 0:
		return nil, needsRender("no image")
	case len(pc.images) > 1:
		return nil, needsRender(fmt.Sprintf("%d images on one page", len(pc.images)))
	case len(pc.images[0].form) > 0:
		return nil, needsRender("image inside a form XObject") // its /BBox clips
	}
	im := pc.images[0]

	p := &Page{Number: n, WidthPt: box.Width(), HeightPt: box.Height()}
	if rot == 90 || rot == 270 {
		p.WidthPt, p.HeightPt = p.HeightPt, p.WidthPt
	}
	if err := p.place(im.ctm, box, rot); err != nil {
		return nil, err
	}
	sd, err := f.imageStream(res, im)
	if err != nil {
		return nil, pdfErr(err, n)
	}
	if err := f.loadImage(p, sd, lim); err != nil {
		return nil, err
	}
	return p, nil
}

// shownAnnotation reports whether a viewer draws any of the page's
// annotations — one with an appearance stream, not hidden (flags Hidden,
// NoView), not a link or a pop-up: a filled-in form field or a stamp over
// a scan is part of what the page shows, which the render path draws (and
// reads) with it. An /Annots that cannot be read counts as shown.
func (f *pdfFile) shownAnnotation(d types.Dict) bool {
	const hidden, noView = 2, 32
	annots, err := f.ctx.DereferenceArray(d["Annots"])
	if err != nil {
		return true
	}
	for _, o := range annots {
		a, err := f.ctx.DereferenceDict(o)
		if err != nil || a == nil || a["AP"] == nil {
			continue
		}
		if st := a.NameEntry("Subtype"); st != nil && (*st == "Link" || *st == "Popup") {
			continue
		}
		if fl, err := f.ctx.DereferenceNumber(a["F"]); err == nil && int(fl)&(hidden|noView) != 0 {
			continue
		}
		return true
	}
	return false
}

func intersect(a, b *types.Rectangle) *types.Rectangle {
	llx, lly := math.Max(a.LL.X, b.LL.X), math.Max(a.LL.Y, b.LL.Y)
	urx, ury := math.Min(a.UR.X, b.UR.X), math.Min(a.UR.Y, b.UR.Y)
	if urx <= llx || ury <= lly {
		return nil
	}
	return types.NewRectangle(llx, lly, urx, ury)
}

// place works out the page's orientation and placement from the matrix the
// image was painted with, the page box and /Rotate.
func (p *Page) place(ctm matrix, box *types.Rectangle, rot int) error {
	toDisplayed := func(x, y float64) (float64, float64) {
		X, Y := ctm.apply(x, y)
		u, v := (X-box.LL.X)/box.Width(), (box.UR.Y-Y)/box.Height()
		switch rot {
		case 90:
			return 1 - v, u
		case 180:
			return 1 - u, 1 - v
		case 270:
			return v, 1 - u
		}
		return u, v
	}
	u0, v0 := toDisplayed(0, 0)
	u1, v1 := toDisplayed(1, 0)
	u2, v2 := toDisplayed(0, 1)
	o, ok := fromMatrix(u1-u0, v1-v0, u2-u0, v2-v0)
	if !ok {
		return needsRender("image is rotated or skewed on the page")
	}
	u3, v3 := toDisplayed(1, 1)
	p.Orientation = o
	p.Placement = [4]float64{
		math.Min(math.Min(u0, u1), math.Min(u2, u3)), math.Min(math.Min(v0, v1), math.Min(v2, v3)),
		math.Max(math.Max(u0, u1), math.Max(u2, u3)), math.Max(math.Max(v0, v1), math.Max(v2, v3)),
	}
	// The visible part of the image must be most of the page: a small
	// picture on an otherwise blank page is not a scan of the page.
	w := math.Min(p.Placement[2], 1) - math.Max(p.Placement[0], 0)
	h := math.Min(p.Placement[3], 1) - math.Max(p.Placement[1], 0)
	if w <= 0 || h <= 0 || w*h < 0.5 {
		return needsRender("image covers only part of the page")
	}
	// An image reaching past the visible box would carry what nobody saw
	// into the packet (a rounding error of a thousandth is no such part).
	const slack = 1e-3
	if p.Placement[0] < -slack || p.Placement[1] < -slack || p.Placement[2] > 1+slack || p.Placement[3] > 1+slack {
		return needsRender("image larger than the visible page")
	}
	for i, v := range p.Placement {
		p.Placement[i] = math.Max(0, math.Min(1, v))
	}
	return nil
}

// decode applies a stream's filters with an output limit.
func (f *pdfFile) decode(sd *types.StreamDict, limit int64) ([]byte, error) {
	return pdfkit.DecodeStream(sd, limit)
}

// resolver looks XObject names up in a resource dictionary.
func (f *pdfFile) resolver(res types.Dict, depth int) xobjectResolver {
	return func(name string) (string, *formXObject) {
		sd := f.xobject(res, name)
		if sd == nil {
			return "", nil
		}
		sub := sd.Dict.NameEntry("Subtype")
		if sub == nil {
			return "", nil
		}
		if *sub != "Form" {
			return *sub, nil
		}
		content, err := f.decode(sd, maxContentBytes)
		if err != nil {
			return "Form", &formXObject{name: name, matrix: identity, resolve: func(string) (string, *formXObject) { return "", nil },
				content: []byte("0 0 m S")} // unreadable form: count it as visible drawing
		}
		m := identity
		if a := sd.Dict.ArrayEntry("Matrix"); len(a) == 6 {
			for i, o := range a {
				if v, err := f.ctx.DereferenceNumber(o); err == nil {
					m[i] = v
				}
			}
		}
		formRes := res
		if r, err := f.ctx.DereferenceDict(sd.Dict["Resources"]); err == nil && r != nil {
			formRes = r
		}
		return "Form", &formXObject{name: name, content: content, matrix: m, resolve: f.resolver(formRes, depth+1)}
	}
}

func (f *pdfFile) xobject(res types.Dict, name string) *types.StreamDict {
	if res == nil {
		return nil
	}
	xo, err := f.ctx.DereferenceDict(res["XObject"])
	if err != nil || xo == nil {
		return nil
	}
	o, ok := xo[name]
	if !ok {
		return nil
	}
	sd, _, err := f.ctx.DereferenceStreamDict(o)
	if err != nil {
		return nil
	}
	return sd
}

// imageStream finds the painted image's stream, following the form chain.
func (f *pdfFile) imageStream(res types.Dict, im painted) (*types.StreamDict, error) {
	for _, form := range im.form {
		sd := f.xobject(res, form)
		if sd == nil {
			return nil, errors.New("form XObject vanished")
		}
		if r, err := f.ctx.DereferenceDict(sd.Dict["Resources"]); err == nil && r != nil {
			res = r
		}
	}
	sd := f.xobject(res, im.name)
	if sd == nil {
		return nil, errors.New("image XObject not found")
	}
	return sd, nil
}

// loadImage reads the image stream into the page: JPEG data as it is, other
// encodings decoded into pixels.
func (f *pdfFile) loadImage(p *Page, sd *types.StreamDict, lim Limits) error {
	n := p.Number
	d := sd.Dict
	w, h := d.IntEntry("Width"), d.IntEntry("Height")
	if w == nil || h == nil {
		return finding.Errorf(finding.MalformedPDF, n, "", errors.New("image without /Width or /Height"))
	}
	if err := checkPixels(*w, *h, lim, n); err != nil {
		return err
	}
	p.Width, p.Height = *w, *h
	if b := d.BooleanEntry("ImageMask"); b != nil && *b {
		return needsRender("stencil mask")
	}
	if d["SMask"] != nil || d["Mask"] != nil {
		return needsRender("image with transparency mask")
	}
	if _, ok := d["SMaskInData"]; ok {
		return needsRender("image with transparency mask")
	}
	if len(sd.FilterPipeline) > 0 {
		switch last := sd.FilterPipeline[len(sd.FilterPipeline)-1].Name; last {
		case filter.JPX, filter.JBIG2:
			return needsRender(last)
		case filter.DCT:
			return f.loadJPEG(p, sd, lim)
		case filter.CCITTFax:
			fp := &sd.FilterPipeline[len(sd.FilterPipeline)-1]
			if fp.DecodeParms == nil {
				fp.DecodeParms = types.Dict{}
			}
			if _, ok := fp.DecodeParms["Rows"]; !ok {
				fp.DecodeParms["Rows"] = types.Integer(*h)
			}
			if _, ok := fp.DecodeParms["Columns"]; !ok {
				fp.DecodeParms["Columns"] = types.Integer(*w)
			}
		}
	}
	cs, err := f.colorSpace(d["ColorSpace"])
	if err != nil {
		return needsRender(err.Error())
	}
	if cs.indexed != nil {
		return needsRender("indexed colour space")
	}
	bpc := 8
	if v := d.IntEntry("BitsPerComponent"); v != nil {
		bpc = *v
	}
	if ccitt := len(sd.FilterPipeline) > 0 && sd.FilterPipeline[len(sd.FilterPipeline)-1].Name == filter.CCITTFax; ccitt {
		bpc = 1
		if cs.base == 0 {
			cs = pdfColorSpace{base: 1}
		}
	}
	if bpc != 1 && bpc != 2 && bpc != 4 && bpc != 8 && bpc != 16 {
		return finding.Errorf(finding.MalformedPDF, n, "", fmt.Errorf("BitsPerComponent %d", bpc))
	}
	rowBytes := (int64(*w)*int64(cs.components())*int64(bpc) + 7) / 8
	want := rowBytes * int64(*h)
	// A stream may hold a little more than its samples, never much more:
	// anything beyond is a decompression bomb and stops the decoder early.
	data, err := f.decode(sd, min(want+4096, lim.MaxDecodeBytes))
	if err != nil {
		return pdfErr(err, n)
	}
	if int64(len(data)) < want {
		return finding.Errorf(finding.CorruptFile, n, "", fmt.Errorf("image data has %d of %d bytes", len(data), want))
	}
	decodeArr := f.numbers(d["Decode"])
	if !identityDecode(decodeArr) {
		return needsRender("/Decode array")
	}
	img, err := samplesToImage(data, *w, *h, bpc, cs, decodeArr)
	if err != nil {
		return finding.Errorf(finding.UnsupportedImageEncoding, n, err.Error(), nil)
	}
	p.Encoding, p.pixels = EncPixels, img
	return nil
}

func (f *pdfFile) loadJPEG(p *Page, sd *types.StreamDict, lim Limits) error {
	raw := sd.Raw
	if len(sd.FilterPipeline) > 1 { // e.g. ASCII85 around the JPEG
		c := *sd
		c.FilterPipeline = sd.FilterPipeline[:len(sd.FilterPipeline)-1]
		var err error
		if raw, err = f.decode(&c, lim.MaxFileBytes); err != nil {
			return pdfErr(err, p.Number)
		}
	}
	stripped, info, err := StripJPEG(raw)
	if err != nil {
		return jpegErr(err, p.Number)
	}
	if info.Width != p.Width || info.Height != p.Height {
		return finding.Errorf(finding.CorruptFile, p.Number, "", fmt.Errorf("JPEG is %dx%d, image dictionary says %dx%d", info.Width, info.Height, p.Width, p.Height))
	}
	if !identityDecode(f.numbers(sd.Dict["Decode"])) {
		return needsRender("/Decode array")
	}
	if info.Components == 4 {
		// CMYK JPEGs in PDFs disagree on conventions between producers;
		// decoding them once here is simpler than carrying the convention
		// along.
		img, err := jpeg.Decode(bytes.NewReader(stripped))
		if err != nil {
			return finding.Errorf(finding.CorruptFile, p.Number, "", err)
		}
		p.Encoding, p.pixels = EncPixels, img
		return nil
	}
	// The exif orientation of a JPEG inside a PDF is ignored by PDF
	// readers, and so here: the page matrix alone places the image.
	info.Orientation = 1
	p.Encoding, p.JPEG, p.JPEGInfo = EncJPEG, stripped, info
	return nil
}

func (f *pdfFile) numbers(o types.Object) []float64 {
	a, err := f.ctx.DereferenceArray(o)
	if err != nil || a == nil {
		return nil
	}
	out := make([]float64, 0, len(a))
	for _, e := range a {
		v, err := f.ctx.DereferenceNumber(e)
		if err != nil {
			return nil
		}
		out = append(out, v)
	}
	return out
}

// pdfColorSpace is a colour space reduced to what decoding samples needs.
type pdfColorSpace struct {
	base    int    // components of the base space: 1, 3 or 4
	indexed []byte // palette for /Indexed, base components per entry
}

func (c pdfColorSpace) components() int {
	if c.indexed != nil {
		return 1
	}
	return c.base
}

func (f *pdfFile) colorSpace(o types.Object) (pdfColorSpace, error) {
	o, err := f.ctx.Dereference(o)
	if err != nil {
		return pdfColorSpace{}, err
	}
	switch o := o.(type) {
	case nil:
		return pdfColorSpace{}, nil // filled in for CCITT, refused otherwise
	case types.Name:
		switch o {
		case "DeviceGray", "G", "CalGray":
			return pdfColorSpace{base: 1}, nil
		case "DeviceRGB", "RGB", "CalRGB":
			return pdfColorSpace{base: 3}, nil
		case "DeviceCMYK", "CMYK":
			return pdfColorSpace{base: 4}, nil
		}
		return pdfColorSpace{}, fmt.Errorf("colour space %s", o)
	case types.Array:
		if len(o) == 0 {
			break
		}
		name, _ := o[0].(types.Name)
		switch name {
		case "CalGray":
			return pdfColorSpace{base: 1}, nil
		case "CalRGB":
			return pdfColorSpace{base: 3}, nil
		case "ICCBased":
			if len(o) < 2 {
				break
			}
			sd, _, err := f.ctx.DereferenceStreamDict(o[1])
			if err != nil || sd == nil {
				break
			}
			if n := sd.Dict.IntEntry("N"); n != nil && (*n == 1 || *n == 3 || *n == 4) {
				return pdfColorSpace{base: *n}, nil
			}
		case "Indexed", "I":
			if len(o) < 4 {
				break
			}
			base, err := f.colorSpace(o[1])
			if err != nil || base.indexed != nil || base.base == 0 {
				break
			}
			hival, err := f.ctx.DereferenceNumber(o[2])
			if err != nil || hival < 0 || hival > 255 {
				break
			}
			var lut []byte
			switch l, _ := f.ctx.Dereference(o[3]); l := l.(type) {
			case types.StringLiteral:
				b, err := types.Unescape(string(l))
				if err == nil {
					lut = b
				}
			case types.HexLiteral:
				lut, _ = l.Bytes()
			case types.StreamDict:
				lut, _ = f.decode(&l, 4096)
			}
			need := (int(hival) + 1) * base.base
			if len(lut) < need {
				break
			}
			base.indexed = lut[:need]
			return base, nil
		}
		return pdfColorSpace{}, fmt.Errorf("colour space %s", name)
	}
	return pdfColorSpace{}, errors.New("unsupported colour space")
}

// samplesToImage unpacks decoded PDF image samples.
func samplesToImage(data []byte, w, h, bpc int, cs pdfColorSpace, decodeArr []float64) (image.Image, error) {
	if cs.base == 0 {
		return nil, errors.New("missing colour space")
	}
	nc := cs.components()
	rowBytes := (w*nc*bpc + 7) / 8
	maxV := (1 << bpc) - 1
	sample := func(row []byte, i int) int {
		switch bpc {
		case 8:
			return int(row[i])
		case 16:
			return int(row[2*i])<<8 | int(row[2*i+1])
		}
		bit := i * bpc
		return int(row[bit/8]>>(8-bpc-bit%8)) & maxV
	}
	// to8 scales a sample to 0..255, honouring a /Decode array.
	to8 := func(v, comp int) uint8 {
		lo, hi := 0.0, 1.0
		if cs.indexed != nil {
			return uint8(v) // an index, looked up below
		}
		if len(decodeArr) >= 2*(comp+1) {
			lo, hi = decodeArr[2*comp], decodeArr[2*comp+1]
		}
		f := lo + float64(v)*(hi-lo)/float64(maxV)
		return uint8(math.Round(math.Max(0, math.Min(1, f)) * 255))
	}
	rect := image.Rect(0, 0, w, h)
	switch {
	case cs.indexed != nil:
		img := image.NewRGBA(rect)
		for y := 0; y < h; y++ {
			row := data[y*rowBytes:]
			for x := 0; x < w; x++ {
				idx := sample(row, x)
				var c [4]uint8
				for k := 0; k < cs.base; k++ {
					if p := idx*cs.base + k; p < len(cs.indexed) {
						c[k] = cs.indexed[p]
					}
				}
				img.SetRGBA(x, y, toRGBA(c[:cs.base]))
			}
		}
		return img, nil
	case nc == 1:
		img := image.NewGray(rect)
		for y := 0; y < h; y++ {
			row := data[y*rowBytes:]
			out := img.Pix[y*img.Stride:]
			for x := 0; x < w; x++ {
				out[x] = to8(sample(row, x), 0)
			}
		}
		return img, nil
	case nc == 3:
		img := image.NewRGBA(rect)
		for y := 0; y < h; y++ {
			row := data[y*rowBytes:]
			out := img.Pix[y*img.Stride:]
			for x := 0; x < w; x++ {
				out[4*x] = to8(sample(row, 3*x), 0)
				out[4*x+1] = to8(sample(row, 3*x+1), 1)
				out[4*x+2] = to8(sample(row, 3*x+2), 2)
				out[4*x+3] = 255
			}
		}
		return img, nil
	case nc == 4:
		img := image.NewCMYK(rect)
		for y := 0; y < h; y++ {
			row := data[y*rowBytes:]
			out := img.Pix[y*img.Stride:]
			for x := 0; x < 4*w; x++ {
				out[x] = to8(sample(row, x), x%4)
			}
		}
		return img, nil
	}
	return nil, fmt.Errorf("%d colour components", nc)
}

func toRGBA(c []uint8) color.RGBA {
	switch len(c) {
	case 1:
		return color.RGBA{c[0], c[0], c[0], 255}
	case 4:
		r, g, b := color.CMYKToRGB(c[0], c[1], c[2], c[3])
		return color.RGBA{r, g, b, 255}
	}
	return color.RGBA{c[0], c[1], c[2], 255}
}

// identityDecode reports whether a /Decode array maps every sample to
// itself ([0 1 0 1 …]), or is absent.
func identityDecode(a []float64) bool {
	for i, v := range a {
		if v != float64(i%2) {
			return false
		}
	}
	return true
}
