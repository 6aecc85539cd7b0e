package spotcheck

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Algorithm names the draw, for the audit trail and the report.
const Algorithm = "blindpack/spotcheck@1: score = HMAC-SHA256(key = seed, message = campaign || 0x00 || applicant_id); ascending score; the first ceil(rate × N)"

// Seed sizes: 32 random bytes are drawn; a seed given to re-run a draw
// may be 16 to 64 bytes.
const (
	SeedBytes    = 32
	minSeedBytes = 16
	maxSeedBytes = 64
)

// ErrBadInput is wrapped by every error about a seed, rate or population.
var ErrBadInput = errors.New("spotcheck: bad input")

// NewSeed draws a fresh seed from the operating system's random source.
func NewSeed() ([]byte, error) {
	seed := make([]byte, SeedBytes)
	if _, err := rand.Read(seed); err != nil {
		return nil, fmt.Errorf("spotcheck: seed: %w", err)
	}
	return seed, nil
}

// ParseSeed reads a seed written in hexadecimal, as it is recorded.
func ParseSeed(s string) ([]byte, error) {
	seed, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(seed) < minSeedBytes || len(seed) > maxSeedBytes {
		return nil, fmt.Errorf("%w: a seed is %d to %d bytes in hexadecimal", ErrBadInput, minSeedBytes, maxSeedBytes)
	}
	return seed, nil
}

// Size is how many of n applicants a rate draws: ceil(rate × n), so that a
// campaign with any applicant has at least one checked. The product is
// rounded to 1e-9 first, so that 0.1 × 120 is 12, not 13.
func Size(n int, rate float64) int {
	return min(n, int(math.Ceil(math.Round(rate*float64(n)*1e9)/1e9)))
}

// Pick is one drawn applicant and the score that placed them.
type Pick struct {
	ApplicantID string
	Score       string // hex
}

// Draw draws ceil(rate × N) of the population (applicant ids of campaign)
// under seed, in draw order.
func Draw(seed []byte, campaign string, population []string, rate float64) ([]Pick, error) {
	if len(seed) < minSeedBytes {
		return nil, fmt.Errorf("%w: seed of %d bytes", ErrBadInput, len(seed))
	}
	if !(rate > 0 && rate <= 1) {
		return nil, fmt.Errorf("%w: rate %g: want more than 0 and at most 1", ErrBadInput, rate)
	}
	type scored struct {
		id    string
		score []byte
	}
	all := make([]scored, 0, len(population))
	seen := map[string]bool{}
	for _, id := range population {
		if seen[id] {
			return nil, fmt.Errorf("%w: applicant %s listed twice", ErrBadInput, id)
		}
		seen[id] = true
		all = append(all, scored{id, Score(seed, campaign, id)})
	}
	slices.SortFunc(all, func(a, b scored) int {
		if c := bytes.Compare(a.score, b.score); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	out := make([]Pick, 0, Size(len(all), rate))
	for _, s := range all[:Size(len(all), rate)] {
		out = append(out, Pick{ApplicantID: s.id, Score: hex.EncodeToString(s.score)})
	}
	return out, nil
}

// Score is an applicant's score under seed.
func Score(seed []byte, campaign, applicantID string) []byte {
	m := hmac.New(sha256.New, seed)
	m.Write([]byte(campaign))
	m.Write([]byte{0})
	m.Write([]byte(applicantID))
	return m.Sum(nil)
}

// PopulationDigest fingerprints the population a draw was made from: the
// SHA-256 of the ids sorted and joined by newlines. Recorded with the
// seed, it shows whether a re-run drew from the same applicants.
func PopulationDigest(population []string) string {
	ids := slices.Clone(population)
	slices.Sort(ids)
	sum := sha256.Sum256([]byte(strings.Join(ids, "\n")))
	return hex.EncodeToString(sum[:])
}
