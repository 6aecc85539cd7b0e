package spotcheck

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("A2024-%06d", i+1)
	}
	return out
}

func picked(p []Pick) []string {
	out := make([]string, len(p))
	for i, x := range p {
		out[i] = x.ApplicantID
	}
	return out
}

// TestKnownAnswer pins the algorithm to a vector computed independently,
// in Python, from the description in the README:
//
//	import hmac, hashlib, math
//	seed = bytes(range(32)); ids = ["A2024-%06d" % i for i in range(1, 21)]
//	key = lambda i: (hmac.new(seed, b"2024\x00" + i.encode(), hashlib.sha256).digest(), i)
//	print(sorted(ids, key=key)[:math.ceil(0.25 * len(ids))])
func TestKnownAnswer(t *testing.T) {
	seed := make([]byte, 32)
	for i := range seed {
		seed[i] = byte(i)
	}
	got, err := Draw(seed, "2024", ids(20), 0.25)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"A2024-000011", "A2024-000002", "A2024-000013", "A2024-000006", "A2024-000019"}
	if !slices.Equal(picked(got), want) {
		t.Errorf("Draw = %v, want %v", picked(got), want)
	}
	if s := hex.EncodeToString(Score(seed, "2024", "A2024-000001")); s != "ef076786e5101cf43438a0e428da3ef5a002dc27fac4e647be3a42cdc5fadeec" {
		t.Errorf("Score = %s", s)
	}
}

func TestDrawIsReproducible(t *testing.T) {
	pop := ids(120)
	seed, err := NewSeed()
	if err != nil {
		t.Fatal(err)
	}
	a, _ := Draw(seed, "2024", pop, 0.1)
	if len(a) != 12 {
		t.Fatalf("%d drawn of 120 at 0.1, want 12", len(a))
	}
	// The same seed, the population in another order: the same list.
	shuffled := slices.Clone(pop)
	rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	b, _ := Draw(seed, "2024", shuffled, 0.1)
	if !slices.Equal(picked(a), picked(b)) {
		t.Errorf("same seed, another order: %v then %v", picked(a), picked(b))
	}
	// Another seed, or another campaign: another list.
	other, _ := NewSeed()
	c, _ := Draw(other, "2024", pop, 0.1)
	d, _ := Draw(seed, "2025", pop, 0.1)
	if slices.Equal(picked(a), picked(c)) || slices.Equal(picked(a), picked(d)) {
		t.Error("another seed or campaign drew the same list")
	}
}

func TestSize(t *testing.T) {
	for _, tt := range []struct {
		n    int
		rate float64
		want int
	}{{120, 0.1, 12}, {121, 0.1, 13}, {7, 0.1, 1}, {0, 0.1, 0}, {10, 1, 10}, {3, 0.3, 1}, {10, 0.3, 3}} {
		if got := Size(tt.n, tt.rate); got != tt.want {
			t.Errorf("Size(%d, %g) = %d, want %d", tt.n, tt.rate, got, tt.want)
		}
	}
}

func TestBadInput(t *testing.T) {
	seed := make([]byte, 32)
	for _, tt := range []struct {
		name string
		err  error
	}{
		{"RateZero", func() error { _, err := Draw(seed, "2024", ids(3), 0); return err }()},
		{"RateOverOne", func() error { _, err := Draw(seed, "2024", ids(3), 1.5); return err }()},
		{"ShortSeed", func() error { _, err := Draw(seed[:8], "2024", ids(3), 0.5); return err }()},
		{"Duplicate", func() error { _, err := Draw(seed, "2024", []string{"A", "A"}, 0.5); return err }()},
		{"SeedNotHex", func() error { _, err := ParseSeed("xyz"); return err }()},
		{"SeedTooShort", func() error { _, err := ParseSeed("00ff"); return err }()},
	} {
		if !errors.Is(tt.err, ErrBadInput) {
			t.Errorf("%s: err = %v", tt.name, tt.err)
		}
	}
	if s, err := ParseSeed(hex.EncodeToString(seed)); err != nil || len(s) != 32 {
		t.Errorf("ParseSeed of a recorded seed: %v", err)
	}
}
