package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/blindpack/blindpack/pipeline/spotcheck"
	"github.com/blindpack/blindpack/state"
)

// runSample draws the paper spot-check sample of a campaign (通知 五(四)):
// the seed is recorded in the campaign's audit trail before the draw, so
// that anyone can run it again with --seed and get the same list.
func runSample(ctx context.Context, args []string) error {
	fs := newFlagSet("sample")
	var s services
	s.register(fs)
	campaign := fs.String("campaign", "", "campaign whose accepted applications are drawn from (required)")
	rate := fs.Float64("rate", 0, "share of the accepted applications to draw, more than 0 and at most 1 (required; e.g. 0.1)")
	seedHex := fs.String("seed", "", "re-run a draw: the seed (hex) recorded in the audit trail; default: a new random seed")
	by := fs.String("by", "", "the administrator drawing (required; goes into the audit trail)")
	if err := parseFlags(fs, args); err != nil {
		return exitError{code: 2, err: err}
	}
	if *campaign == "" || *by == "" {
		return exitError{code: 2, err: errors.New("usage: blindpack sample --campaign C --rate R --by ADMIN [--seed HEX]")}
	}
	st, closeState := s.state(time.Now)
	defer closeState()
	return drawSample(ctx, st, sampleRequest{campaign: *campaign, rate: *rate, seedHex: *seedHex, actor: "admin:" + *by}, os.Stdout)
}

type sampleRequest struct {
	campaign string
	rate     float64
	seedHex  string
	actor    string
}

// drawSample records the seed, draws, records the draw (in the campaign's
// trail and each drawn applicant's), and prints the list.
func drawSample(ctx context.Context, st *state.Store, r sampleRequest, w io.Writer) error {
	if !(r.rate > 0 && r.rate <= 1) {
		return exitError{code: 2, err: fmt.Errorf("--rate %g: want more than 0 and at most 1", r.rate)}
	}
	seed, rerun := []byte(nil), r.seedHex != ""
	var err error
	if rerun {
		if seed, err = spotcheck.ParseSeed(r.seedHex); err != nil {
			return exitError{code: 2, err: err}
		}
	} else if seed, err = spotcheck.NewSeed(); err != nil {
		return err
	}
	population, err := st.AcceptedApplicants(ctx, r.campaign)
	if err != nil {
		return err
	}
	if len(population) == 0 {
		return fmt.Errorf("sample: campaign %s has no accepted application to draw from", r.campaign)
	}
	digest := spotcheck.PopulationDigest(population)
	size := spotcheck.Size(len(population), r.rate)
	kind := "new seed"
	if rerun {
		kind = "seed given (a re-run)"
	}
	// The seed and what it will be applied to, before the draw.
	seedID, err := st.CampaignAudit(ctx, r.campaign, state.Event{Actor: r.actor, Action: "spot_check_seed",
		Detail: fmt.Sprintf("seed=%x (%s) rate=%s draws %d of %d accepted applications, population sha256=%s; %s; applicants: %s",
			seed, kind, strconv.FormatFloat(r.rate, 'f', -1, 64), size, len(population), digest, spotcheck.Algorithm, strings.Join(population, ","))})
	if err != nil {
		return err
	}
	picks, err := spotcheck.Draw(seed, r.campaign, population, r.rate)
	if err != nil {
		return err
	}
	ids := make([]string, len(picks))
	for i, p := range picks {
		ids[i] = p.ApplicantID
	}
	drawID, err := st.CampaignAudit(ctx, r.campaign, state.Event{Actor: r.actor, Action: "spot_check_drawn",
		Detail: fmt.Sprintf("seed entry %s: %d of %d: %s", seedID, len(ids), len(population), strings.Join(ids, ","))})
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := st.Audit(ctx, r.campaign, id, state.Event{Actor: r.actor, Action: "spot_check_selected",
			Detail: fmt.Sprintf("drawn for the paper materials spot check (通知 五(四)); seed entry %s of campaign %s", seedID, r.campaign)}); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "campaign %s: %d accepted applications (population sha256 %s)\n", r.campaign, len(population), digest)
	fmt.Fprintf(w, "seed %x (%s), recorded before the draw as audit entry %s of the campaign\n", seed, kind, seedID)
	fmt.Fprintf(w, "%s\n", spotcheck.Algorithm)
	fmt.Fprintf(w, "drawn %d of %d (audit entry %s):\n", len(picks), len(population), drawID)
	for i, p := range picks {
		fmt.Fprintf(w, "%4d  %s  %s\n", i+1, p.ApplicantID, p.Score[:16])
	}
	fmt.Fprintf(w, "re-run: blindpack sample --campaign %s --rate %s --seed %s --by NAME\n",
		r.campaign, strconv.FormatFloat(r.rate, 'f', -1, 64), hex.EncodeToString(seed))
	return nil
}
