package state

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Filter narrows the list of applications needing attention. Zero fields
// match everything.
type Filter struct {
	Campaign, Series, Level string
	// Status is a listing (pipeline.Listings): an application status
	// needing attention, or the status of a latest submission that needs
	// it without deciding anything (refused).
	Status string
	// Code matches applications whose latest submission has this finding.
	Code string
	// Since and Until bound the time of the latest change.
	Since, Until time.Time
}

func (f Filter) match(a Application) bool {
	status, _ := a.Listed()
	switch {
	case f.Campaign != "" && a.Campaign != f.Campaign,
		f.Series != "" && a.Meta.Series != f.Series,
		f.Level != "" && a.Meta.Level != f.Level,
		f.Status != "" && status != f.Status,
		f.Code != "" && !slices.Contains(a.Meta.Codes, f.Code),
		!f.Since.IsZero() && a.Updated.Before(f.Since),
		!f.Until.IsZero() && a.Updated.After(f.Until):
		return false
	}
	return true
}

// Attention lists applications an administrator should look at —
// returned, abandoned, or whose latest submission was refused — newest
// first, with at most limit after filtering (0: all).
func (s *Store) Attention(ctx context.Context, f Filter, limit int) ([]Application, error) {
	members, err := s.rdb.ZRevRange(ctx, s.attentionKey(), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("state: attention: %w", err)
	}
	var out []Application
	for _, m := range members {
		campaign, applicant, ok := strings.Cut(m, "\x00")
		if !ok {
			continue
		}
		if f.Campaign != "" && campaign != f.Campaign {
			continue
		}
		a, err := s.Get(ctx, campaign, applicant)
		if err != nil {
			return nil, err
		}
		if _, listed := a.Listed(); !listed {
			continue // decided since it was listed
		}
		if f.match(a) {
			out = append(out, a)
			if limit > 0 && len(out) == limit {
				break
			}
		}
	}
	return out, nil
}

// CodeCounts counts the finding codes of the applications a filter lists,
// for the figures at the top of the console.
func CodeCounts(apps []Application) map[string]int {
	counts := map[string]int{}
	for _, a := range apps {
		for _, c := range a.Meta.Codes {
			counts[c]++
		}
	}
	return counts
}
