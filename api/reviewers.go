package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/blindpack/blindpack/api/review"
	"github.com/blindpack/blindpack/api/wire"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/ocr"
	"github.com/blindpack/blindpack/state"
	"github.com/blindpack/blindpack/storage"
)

// What reviewers reach — their list, their personal copies, the audit of
// what they did — is answered here once, for the /v1/packets routes and
// for the reviewers' portal (package review) alike.

// reviewerPackets lists the packets assigned to reviewer, with what a
// reviewer may know of each: anonymous code, series, level, pages, when it
// was assigned, whether it can be opened, and the reviewer's own mark.
func (s *Server) reviewerPackets(ctx context.Context, reviewer string) ([]review.Packet, error) {
	codes, err := s.d.State.AssignedTo(ctx, reviewer)
	if err != nil {
		return nil, err
	}
	at, err := s.d.State.AssignedAt(ctx, reviewer)
	if err != nil {
		return nil, err
	}
	done, err := s.d.State.Reviewed(ctx, reviewer)
	if err != nil {
		return nil, err
	}
	out := make([]review.Packet, 0, len(codes))
	for _, anon := range codes {
		campaign, _ := anonCampaign(anon)
		p := review.Packet{AnonCode: anon, Campaign: campaign, AssignedAt: at[anon], ReviewedAt: done[anon]}
		if _, applicant, err := s.resolve(ctx, anon); err == nil {
			if app, err := s.d.State.Get(ctx, campaign, applicant); err == nil {
				p.Series, p.Level = app.Meta.Series, app.Meta.Level
				if app.Status == pipeline.AppAccepted && app.Last != "" {
					if rep, _, err := s.report(ctx, campaign, applicant, app.Last); err == nil && rep.Packet != nil && rep.AnonCode == anon {
						p.Available, p.Pages = true, rep.Packet.Pages
					}
				}
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// reviewerCopy returns reviewer's personal copy of the packet of anon,
// made now if needed, after checking — on this request — that the packet
// is assigned to them.
func (s *Server) reviewerCopy(ctx context.Context, anon, reviewer string) (review.Copy, error) {
	if _, ok := anonCampaign(anon); !ok {
		return review.Copy{}, review.ErrUnavailable
	}
	assigned, err := s.d.State.IsAssigned(ctx, anon, reviewer)
	if err != nil {
		return review.Copy{}, err
	}
	if !assigned {
		return review.Copy{}, review.ErrNotAssigned
	}
	campaign, applicant, err := s.resolve(ctx, anon)
	if errors.Is(err, errNoApplication) {
		// Unavailable to the portal; the API names it (unknown_anon_code).
		return review.Copy{}, fmt.Errorf("%w: %w", review.ErrUnavailable, err)
	} else if err != nil {
		return review.Copy{}, err
	}
	c, made, err := s.personalCopy(ctx, campaign, applicant, anon, reviewer)
	if errors.Is(err, errUnavailable) {
		return review.Copy{}, review.ErrUnavailable
	} else if err != nil {
		return review.Copy{}, err
	}
	key := storage.ReviewerCopyKey(campaign, anon, reviewer)
	info, err := s.d.Buckets.Packets.Stat(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return review.Copy{}, review.ErrUnavailable
	} else if err != nil {
		return review.Copy{}, err
	}
	return review.Copy{Key: key, SHA256: c.SHA256, Size: info.Size, Pages: c.pages, At: c.At, Made: made, Submission: c.submission}, nil
}

// auditPacket records ev in the trail of the application the packet of
// anon belongs to; a code no application has (a guess) goes to the
// security trail.
func (s *Server) auditPacket(ctx context.Context, anon string, ev state.Event) error {
	campaign, applicant, err := s.resolve(ctx, anon)
	if errors.Is(err, errNoApplication) {
		return s.d.State.SecurityAudit(ctx, ev)
	} else if err != nil {
		return err
	}
	return s.d.State.Audit(ctx, campaign, applicant, ev)
}

// refuseDownload answers 403 for a packet not assigned to the caller,
// whether or not it exists, and records the attempt in the audit trail.
func (s *Server) refuseDownload(w http.ResponseWriter, r *http.Request, p Principal, anon string) {
	s.metrics.downloads.WithLabelValues("denied").Inc()
	s.log.Warn("download refused: packet not assigned", "reviewer", p.Subject, "anon_code", anon, "remote", s.clientAddr(r))
	ev := state.Event{Actor: p.Actor(), Action: "access_refused", From: s.clientAddr(r),
		Detail: fmt.Sprintf("packet %s: download refused, not assigned to this reviewer (API)", anon)}
	if err := s.auditPacket(r.Context(), anon, ev); err != nil {
		s.log.Error("audit a refused download", "err", err)
	}
	writeError(w, wire.CodeNotAssigned, "")
}

// reviewSource is the portal's view of the server.
type reviewSource struct{ s *Server }

func (rs reviewSource) Packets(ctx context.Context, reviewer string) ([]review.Packet, error) {
	return rs.s.reviewerPackets(ctx, reviewer)
}

func (rs reviewSource) Copy(ctx context.Context, anon, reviewer string) (review.Copy, error) {
	return rs.s.reviewerCopy(ctx, anon, reviewer)
}

func (rs reviewSource) Audit(ctx context.Context, anon string, ev state.Event) error {
	if ev.At.IsZero() {
		ev.At = time.Now()
	}
	return rs.s.auditPacket(ctx, anon, ev)
}

// renderer draws the reviewers' pages: Deps.Renderer, or poppler's
// pdftoppm in colour.
func (s *Server) renderer() review.Renderer {
	if s.d.Renderer != nil {
		return s.d.Renderer
	}
	return &ocr.Poppler{Color: true}
}
