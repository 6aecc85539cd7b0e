package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/blindpack/blindpack/api/wire"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/contact"
	"github.com/blindpack/blindpack/pipeline/ocr"
	"github.com/blindpack/blindpack/storage"
	"github.com/blindpack/blindpack/workers"
)

// heldDPI is the resolution a held packet page is drawn at: an A4 page is
// 827×1169 pixels, enough to judge a name, small enough to send.
const heldDPI = 100

// hitRed outlines OCR hits, as the contact sheet does.
var hitRed = color.RGBA{0xD0, 0x10, 0x10, 0xFF}

// heldPage is one packet page of a held submission where OCR read the
// identity outside the masks, with its hits.
type heldPage struct {
	PacketPage     int
	Position, Page int
	Type           label
	Image          string
	Hits           []heldHit
}

type heldHit struct {
	KindZH, Kind string
	Box          string
}

// heldPages lists the pages of a held submission's OCR document that have
// hits, in packet order.
func (c *Console) heldPages(ctx context.Context, l *loaded) ([]heldPage, error) {
	doc, err := c.ocrDocument(ctx, l)
	if err != nil {
		return nil, err
	}
	var out []heldPage
	for _, h := range doc.Hits {
		i := slices.IndexFunc(out, func(p heldPage) bool { return p.PacketPage == h.PacketPage })
		if i < 0 {
			p := heldPage{PacketPage: h.PacketPage, Page: h.Page, Type: c.material(h.Type),
				Image: fmt.Sprintf("%ssubmissions/%s/held/%d/image", Prefix, l.id, h.PacketPage)}
			if h.Material != nil {
				p.Position = *h.Material + 1
			}
			out = append(out, p)
			i = len(out) - 1
		}
		kindZH := "工作单位"
		if h.Kind == ocr.KindName {
			kindZH = "姓名"
		}
		out[i].Hits = append(out[i].Hits, heldHit{KindZH: kindZH, Kind: string(h.Kind),
			Box: fmt.Sprintf("[%.3f %.3f %.3f %.3f]", h.Box[0], h.Box[1], h.Box[2], h.Box[3])})
	}
	slices.SortStableFunc(out, func(a, b heldPage) int { return a.PacketPage - b.PacketPage })
	return out, nil
}

// ocrDocument reads the OCR document of a held submission: the packet it
// describes must be the held report's.
func (c *Console) ocrDocument(ctx context.Context, l *loaded) (*ocr.Document, error) {
	data, err := readAll(ctx, c.d.Buckets.Reports, workers.OCRReportKey(l.loc.Campaign, l.loc.ApplicantID, l.id), maxReportBytes)
	if err != nil {
		return nil, err
	}
	doc, err := ocr.ParseDocument(data)
	if err != nil {
		return nil, err
	}
	if l.rep == nil || l.rep.Packet == nil || doc.PacketSHA256 != l.rep.Packet.SHA256 {
		return nil, errors.New("console: the OCR document describes another packet than the held report")
	}
	return doc, nil
}

// heldImage draws a page of a held submission's staged packet, as a
// reviewer would see it, with every OCR hit on it outlined in red. Only
// pages with a hit are served; every view is audited.
func (c *Console) heldImage(w http.ResponseWriter, r *http.Request, v *visitor) {
	ctx := r.Context()
	l, ok := c.loadOrFail(w, r, v)
	if !ok {
		return
	}
	page, err := strconv.Atoi(r.PathValue("page"))
	if err != nil || l.rep == nil || l.rep.Status != pipeline.Held || l.rep.Packet == nil {
		c.errorPage(w, r, v, http.StatusNotFound, "这一页无法显示。", "This page cannot be shown.")
		return
	}
	doc, err := c.ocrDocument(ctx, l)
	if err != nil {
		c.internalError(w, r, "OCR document", err)
		return
	}
	var boxes [][4]float64
	for _, h := range doc.Hits {
		if h.PacketPage == page {
			boxes = append(boxes, h.Box)
		}
	}
	if len(boxes) == 0 {
		c.errorPage(w, r, v, http.StatusNotFound, "这一页无法显示。", "This page cannot be shown.")
		return
	}
	select {
	case c.render <- struct{}{}:
	case <-ctx.Done():
		return
	}
	img, err := c.drawStaged(ctx, l, page)
	<-c.render
	if err != nil {
		c.internalError(w, r, "draw held page", err)
		return
	}
	out := image.NewRGBA(img.Bounds())
	draw.Draw(out, out.Bounds(), img, img.Bounds().Min, draw.Src)
	contact.Outline(out, out.Bounds(), boxes, hitRed, 4)
	var b bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&b, out); err != nil {
		c.internalError(w, r, "encode page", err)
		return
	}
	if err := c.audit(r, v, l, fmt.Sprintf("held packet page %d: staged packet, %d OCR hit(s) outlined", page, len(boxes))); err != nil {
		c.internalError(w, r, "audit view", err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Write(b.Bytes())
}

// drawStaged renders one page of the staged packet (pdftoppm needs a
// file: the packet is copied to a temporary one and removed).
func (c *Console) drawStaged(ctx context.Context, l *loaded, page int) (image.Image, error) {
	rc, _, err := c.d.Buckets.Uploads.Get(ctx, storage.StagedPacketKey(l.loc.Campaign, l.loc.ApplicantID, l.id))
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	f, err := os.CreateTemp("", "blindpack-held-*.pdf")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	_, err = io.Copy(f, rc)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return (&ocr.Poppler{Color: true}).Render(ctx, f.Name(), page, heldDPI)
}

// release and giveBack are an administrator's decisions on a held
// submission, after a confirmation step, through workers.Resolve (which
// audits them with the reason and the address).
func (c *Console) release(w http.ResponseWriter, r *http.Request, v *visitor) {
	c.resolveHeld(w, r, v, workers.Release)
}

func (c *Console) giveBack(w http.ResponseWriter, r *http.Request, v *visitor) {
	c.resolveHeld(w, r, v, workers.Return)
}

func (c *Console) resolveHeld(w http.ResponseWriter, r *http.Request, v *visitor, d workers.Decision) {
	l, ok := c.loadOrFail(w, r, v)
	if !ok {
		return
	}
	if l.rep == nil || l.rep.Status != pipeline.Held {
		zh, en := wire.CodeNotHeld.Messages()
		c.errorPage(w, r, v, http.StatusConflict, zh, en)
		return
	}
	// One line in the audit trail, as for a reprocess.
	reason := strings.Join(strings.Fields(r.PostForm.Get("reason")), " ")
	if err := pipeline.CheckReason(reason, true); err != nil {
		zh, en := wire.CodeInvalidReason.Messages()
		c.errorPage(w, r, v, http.StatusBadRequest, zh, en)
		return
	}
	action := Prefix + "submissions/" + l.id + "/" + string(d)
	if r.PostForm.Get("confirm") != "yes" {
		cv := &confirmView{ID: l.id, Action: action, Reason: reason, Fields: []hidden{{"reason", reason}},
			Back: Prefix + "submissions/" + l.id, CSRF: v.CSRF,
			HeadZH: "放行：发布材料包", HeadEN: "Release: publish the packet",
			Lines:     []label{{"OCR 识别有误，材料包将发布给评审专家，申报计为通过。", "The OCR hit is a misreading: the packet is published to reviewers and the submission accepted."}},
			ConfirmZH: "确认放行", ConfirmEN: "Confirm and release"}
		if d == workers.Return {
			cv.HeadZH, cv.HeadEN = "退回申请人", "Return to the applicant"
			cv.Lines = []label{{"申请人将收到每处可见信息的位置并须补充遮盖；计为一次退回。", "The applicant is told where each visible name or employer is and must mask it; this counts as a return."}}
			cv.ConfirmZH, cv.ConfirmEN = "确认退回", "Confirm and return"
		}
		c.show(w, r, v, http.StatusOK, "confirm", cv)
		return
	}
	task, err := workers.Resolve(r.Context(), c.d.Queue, c.d.State, c.d.Buckets.Reports, l.id, d, v.Actor(), reason, c.d.ClientAddr(r))
	switch {
	case errors.Is(err, workers.ErrNotHeld):
		zh, en := wire.CodeNotHeld.Messages()
		c.errorPage(w, r, v, http.StatusConflict, zh, en)
		return
	case err != nil:
		c.internalError(w, r, string(d), err)
		return
	}
	c.log.Info("console: held submission resolved", "by", v.Actor(), "submission", l.id, "decision", d, "task", task)
	c.follow(w, r, l.id, task, workers.QueueCritical)
}
