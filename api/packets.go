package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/blindpack/blindpack/api/review"
	"github.com/blindpack/blindpack/api/wire"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/stamp"
	"github.com/blindpack/blindpack/pipeline/verify"
	"github.com/blindpack/blindpack/state"
	"github.com/blindpack/blindpack/storage"
)

// listPackets lists the packets assigned to the reviewer the token names.
func (s *Server) listPackets(w http.ResponseWriter, r *http.Request, p Principal) {
	ctx := r.Context()
	pk, err := s.reviewerPackets(ctx, p.Subject)
	if err != nil {
		s.internalError(w, r, "assigned to", err)
		return
	}
	out := make([]wire.Packet, 0, len(pk))
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	for _, x := range pk {
		v := wire.Packet{AnonCode: x.AnonCode, Campaign: x.Campaign, Series: x.Series, Level: x.Level, Pages: x.Pages,
			Available: x.Available, AssignedAt: opt(x.AssignedAt), ReviewedAt: opt(x.ReviewedAt), Href: "/v1/packets/" + x.AnonCode}
		if c, ok, err := s.d.State.CopyOf(ctx, x.AnonCode, p.Subject); err == nil && ok && c.SHA256 != "" {
			v.CopyMadeAt = opt(c.At)
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, wire.Packets{Reviewer: p.Subject, Packets: out})
}

// getPacket streams the reviewer's personal copy, made now if this is
// their first download of this packet, with the assignment checked on
// this very request — so that an unassigned reviewer, or a link passed
// on, gets nothing — and no address of the object store ever shown. A
// packet not assigned to the reviewer is 403, whether or not it exists,
// and the attempt is audited. Every download is audited with the
// reviewer, the copy and the address it came from, before a byte is sent.
func (s *Server) getPacket(w http.ResponseWriter, r *http.Request, p Principal) {
	anon := r.PathValue("anon")
	if _, ok := anonCampaign(anon); !ok {
		s.metrics.downloads.WithLabelValues("bad_request").Inc()
		writeError(w, wire.CodeInvalidParameter, "not an anonymous code")
		return
	}
	ctx := r.Context()
	c, err := s.reviewerCopy(ctx, anon, p.Subject)
	switch {
	case errors.Is(err, review.ErrNotAssigned):
		s.refuseDownload(w, r, p, anon)
		return
	case errors.Is(err, errNoApplication):
		s.metrics.downloads.WithLabelValues("unavailable").Inc()
		writeError(w, wire.CodeUnknownAnonCode, "")
		return
	case errors.Is(err, review.ErrUnavailable):
		s.metrics.downloads.WithLabelValues("unavailable").Inc()
		writeError(w, wire.CodePacketUnavailable, "")
		return
	case err != nil:
		s.metrics.downloads.WithLabelValues("error").Inc()
		s.internalError(w, r, "personal copy", err)
		return
	}
	rc, info, err := s.d.Buckets.Packets.Get(ctx, c.Key)
	if err != nil {
		s.metrics.downloads.WithLabelValues("error").Inc()
		s.internalError(w, r, "open copy", err)
		return
	}
	defer rc.Close()
	cp, _, _ := s.d.State.CopyOf(ctx, anon, p.Subject)
	detail := fmt.Sprintf("packet %s: personal copy %s (sha256 %s, file id %s, stamped %s); streamed",
		anon, c.Key, c.SHA256, cp.FileID, c.At.UTC().Format(time.RFC3339))
	if c.Made {
		detail += "; copy made on this download"
	}
	ev := state.Event{Actor: p.Actor(), Action: "downloaded", Submission: c.Submission, Detail: detail, From: s.clientAddr(r)}
	if err := s.auditPacket(ctx, anon, ev); err != nil {
		// No audit, no download: every download must be attributable.
		s.metrics.downloads.WithLabelValues("error").Inc()
		s.internalError(w, r, "audit download", err)
		return
	}
	s.metrics.downloads.WithLabelValues("streamed").Inc()
	if err := review.ServeCopy(w, rc, info.Size, anon); err != nil {
		s.log.Warn("download cut short", "anon_code", anon, "reviewer", p.Subject, "err", err)
	}
}

// copyInfo is a stored personal copy and the submission it comes from.
type copyInfo struct {
	state.Copy
	submission string
	pages      int
}

// lockCopy serialises the makers of one copy within this process, on one
// of a fixed set of locks chosen by the key's hash (two copies may share a
// lock; that only orders them); across processes, ClaimCopy makes racing
// makers write the same bytes.
func (s *Server) lockCopy(key string) func() {
	h := fnv.New32a()
	h.Write([]byte(key))
	m := &s.copyLocks[h.Sum32()%uint32(len(s.copyLocks))]
	m.Lock()
	return m.Unlock
}

// personalCopy returns the reviewer's copy of the application's current
// packet, making and storing it first when there is none for this packet
// version. It reports whether it made the copy.
func (s *Server) personalCopy(ctx context.Context, campaign, applicant, anon, reviewer string) (copyInfo, bool, error) {
	app, err := s.d.State.Get(ctx, campaign, applicant)
	if err != nil {
		return copyInfo{}, false, err
	}
	if app.Status != pipeline.AppAccepted || app.Last == "" {
		return copyInfo{}, false, errUnavailable
	}
	rep, _, err := s.report(ctx, campaign, applicant, app.Last)
	if errors.Is(err, storage.ErrNotFound) {
		return copyInfo{}, false, errUnavailable
	} else if err != nil {
		return copyInfo{}, false, err
	}
	if rep.Status != pipeline.Accepted || rep.Packet == nil || rep.AnonCode != anon {
		return copyInfo{}, false, errUnavailable
	}
	// A packet taken down (the submission no longer passes) is not handed
	// out, through old copies either.
	if _, err := s.d.Buckets.Packets.Stat(ctx, storage.PacketKey(campaign, anon)); errors.Is(err, storage.ErrNotFound) {
		return copyInfo{}, false, errUnavailable
	} else if err != nil {
		return copyInfo{}, false, err
	}
	key := storage.ReviewerCopyKey(campaign, anon, reviewer)
	defer s.lockCopy(key)()
	rec, ok, err := s.d.State.CopyOf(ctx, anon, reviewer)
	if err != nil {
		return copyInfo{}, false, err
	}
	if ok && rec.PacketSHA256 == rep.Packet.SHA256 && rec.SHA256 != "" {
		if _, err := s.d.Buckets.Packets.Stat(ctx, key); err == nil {
			return copyInfo{Copy: rec, submission: app.Last, pages: rep.Packet.Pages}, false, nil
		} else if !errors.Is(err, storage.ErrNotFound) {
			return copyInfo{}, false, err
		}
	}
	start := time.Now()
	c, err := s.makeCopy(ctx, campaign, applicant, anon, reviewer, app.Last, rep)
	s.metrics.copyTime.Observe(time.Since(start).Seconds())
	if err != nil {
		s.metrics.copies.WithLabelValues("failed").Inc()
		return copyInfo{}, false, err
	}
	s.metrics.copies.WithLabelValues("made").Inc()
	return copyInfo{Copy: c, submission: app.Last, pages: rep.Packet.Pages}, true, nil
}

// makeCopy stamps the published packet for reviewer, checks the copy with
// the fail-closed packet verifier against the submission's identity and
// masks, and stores it in one PUT. The time stamped is claimed in Redis
// first, so that any number of makers racing produce identical bytes.
func (s *Server) makeCopy(ctx context.Context, campaign, applicant, anon, reviewer, submission string, rep *pipeline.Report) (state.Copy, error) {
	claim, err := s.d.State.ClaimCopy(ctx, anon, reviewer, rep.Packet.SHA256, s.now().UTC().Truncate(time.Minute))
	if err != nil {
		return state.Copy{}, err
	}
	src, err := s.tempFile("blindpack-packet-*.pdf")
	if err != nil {
		return state.Copy{}, err
	}
	defer removeTemp(src)
	size, sum, err := s.fetch(ctx, storage.PacketKey(campaign, anon), src)
	if errors.Is(err, storage.ErrNotFound) {
		return state.Copy{}, errUnavailable
	} else if err != nil {
		return state.Copy{}, err
	}
	if sum != rep.Packet.SHA256 {
		// Published after the report was read, or damaged: not the packet
		// the report (and the verifier's expectations) describe.
		return state.Copy{}, fmt.Errorf("%w: the stored packet's digest differs from its report's", errUnavailable)
	}
	dst, err := s.tempFile("blindpack-copy-*.pdf")
	if err != nil {
		return state.Copy{}, err
	}
	defer removeTemp(dst)
	res, err := stamp.Copy(dst, src, size, stamp.Mark{Reviewer: reviewer, At: claim.At}, s.d.Font)
	if err != nil {
		return state.Copy{}, err
	}
	exp, err := s.expectation(ctx, campaign, applicant, submission, rep)
	if err != nil {
		return state.Copy{}, err
	}
	// One verification at a time in the process, as for packets: a burst
	// of first downloads must not hold many packets' streams at once.
	probs, err := verify.Packet(ctx, dst, res.Bytes, exp)
	if err != nil {
		return state.Copy{}, err
	}
	if len(probs) > 0 {
		// Problems name a code and a place, never the identity.
		s.log.Error("personal copy failed verification; not stored", "anon_code", anon, "reviewer", reviewer,
			"problems", len(probs), "first", probs[0].String())
		return state.Copy{}, errCopyRefused
	}
	if _, err := dst.Seek(0, io.SeekStart); err != nil {
		return state.Copy{}, fmt.Errorf("api: rewind copy: %w", err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, dst); err != nil {
		return state.Copy{}, fmt.Errorf("api: hash copy: %w", err)
	}
	if _, err := dst.Seek(0, io.SeekStart); err != nil {
		return state.Copy{}, fmt.Errorf("api: rewind copy: %w", err)
	}
	key := storage.ReviewerCopyKey(campaign, anon, reviewer)
	if err := s.d.Buckets.Packets.Put(ctx, key, dst, res.Bytes, storage.PutOptions{ContentType: "application/pdf"}); err != nil {
		return state.Copy{}, fmt.Errorf("api: store copy: %w", err)
	}
	c := state.Copy{Anon: anon, Reviewer: reviewer, PacketSHA256: rep.Packet.SHA256, At: claim.At,
		SHA256: hex.EncodeToString(h.Sum(nil)), FileID: res.FileID}
	if err := s.d.State.CopyStored(ctx, c); err != nil {
		return state.Copy{}, err
	}
	s.log.Info("personal copy made", "anon_code", anon, "reviewer", reviewer, "pages", res.Pages, "bytes", res.Bytes)
	return c, nil
}

// expectation is what the verifier checks a copy against: the identity in
// the submission document (read from uploads, kept in memory only) and the
// masks by packet page.
func (s *Server) expectation(ctx context.Context, campaign, applicant, submission string, rep *pipeline.Report) (verify.Expect, error) {
	key := storage.SubmissionKey(campaign, applicant, submission)
	if loc, err := s.d.State.Locate(ctx, submission); err == nil {
		key = loc.Key
	}
	sub, err := s.submissionDoc(ctx, key)
	if err != nil {
		return verify.Expect{}, fmt.Errorf("api: for verification: %w", err)
	}
	for _, e := range rep.Packet.Index {
		if e.Material < 0 || e.Material >= len(sub.Materials) {
			return verify.Expect{}, errors.New("api: report index does not match the submission")
		}
	}
	return pipeline.Expectation(sub, rep.Packet), nil
}

// fetch copies an object of the packets bucket into f and returns its size
// and SHA-256.
func (s *Server) fetch(ctx context.Context, key string, f *os.File) (int64, string, error) {
	rc, _, err := s.d.Buckets.Packets.Get(ctx, key)
	if err != nil {
		return 0, "", err
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), rc)
	if err != nil {
		return 0, "", fmt.Errorf("api: download packet: %w", err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

func (s *Server) tempFile(pattern string) (*os.File, error) {
	f, err := os.CreateTemp(s.cfg.TempDir, pattern)
	if err != nil {
		return nil, fmt.Errorf("api: temp file: %w", err)
	}
	return f, nil
}

func removeTemp(f *os.File) {
	f.Close()
	os.Remove(f.Name())
}
