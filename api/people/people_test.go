package people

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

func TestPasswordHash(t *testing.T) {
	p := Argon2{MemoryKiB: 64, Time: 1, Threads: 1}
	h, err := HashPassword("correct horse battery", p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("not a PHC argon2id string: %s", h)
	}
	h2, _ := HashPassword("correct horse battery", p)
	if h == h2 {
		t.Error("two hashes of one password are equal: no salt")
	}
	for _, tc := range []struct {
		pw   string
		want bool
	}{{"correct horse battery", true}, {"correct horse batterY", false}, {"", false}} {
		if ok, err := CheckPassword(h, tc.pw); err != nil || ok != tc.want {
			t.Errorf("CheckPassword(%q) = %v, %v", tc.pw, ok, err)
		}
	}
	// The default parameters are what the docs say.
	def, err := HashPassword("x", Argon2{})
	if err != nil || !strings.HasPrefix(def, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Errorf("default hash %s %v", def, err)
	}
	for _, bad := range []string{"", "$2a$10$abc", "$argon2id$v=19$m=99999999,t=1,p=1$AAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",
		"$argon2i$v=19$m=64,t=1,p=1$AAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", strings.Replace(h, "v=19", "v=16", 1)} {
		if _, err := CheckPassword(bad, "x"); !errors.Is(err, errBadHash) {
			t.Errorf("CheckPassword(%q): %v", bad, err)
		}
	}
	for _, tc := range []struct {
		pw string
		ok bool
	}{{"short", false}, {"wang.li.123", true}, {"WANG.LI.ABC", true}, {"Wang.Li.Xy", true}, {strings.Repeat("x", 129), false}, {"abcdefghij\n", false}} {
		if err := CheckNewPassword("wang.li", tc.pw); (err == nil) != tc.ok {
			t.Errorf("CheckNewPassword(%q) = %v", tc.pw, err)
		}
	}
	if err := CheckNewPassword("wang.li.xyz", "Wang.Li.Xyz"); err == nil {
		t.Error("the user name was accepted as the password")
	}
	seen := map[string]bool{}
	for range 50 {
		pw, err := RandomPassword()
		if err != nil || len(pw) != 16 || CheckNewPassword("x", pw) != nil || seen[pw] {
			t.Fatalf("RandomPassword %q %v", pw, err)
		}
		seen[pw] = true
	}
}

// TestRFC6238Vectors checks the TOTP arithmetic against the table of RFC
// 6238 appendix B (SHA-1, 8 digits, the ASCII secret "12345678901234567890").
func TestRFC6238Vectors(t *testing.T) {
	const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" // base32 of 12345678901234567890
	for _, v := range []struct {
		unix int64
		code string
	}{{59, "94287082"}, {1111111109, "07081804"}, {1111111111, "14050471"}, {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"}} {
		got, err := totp.GenerateCodeCustom(secret, time.Unix(v.unix, 0).UTC(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsEight, Algorithm: otp.AlgorithmSHA1})
		if err != nil || got != v.code {
			t.Errorf("T=%d: %s %v, want %s", v.unix, got, err, v.code)
		}
	}
	// Six digits are the last six of eight; checkCode accepts one step of
	// skew either way and says which step matched.
	at := time.Unix(1111111111, 0)
	for _, tc := range []struct {
		code string
		step int64
		ok   bool
	}{{"050471", 1111111111 / 30, true}, {"050 471", 1111111111 / 30, true}, {"081804", 1111111109 / 30, true}, {"000000", 0, false}, {"05047", 0, false}} {
		step, ok := checkCode(secret, tc.code, at)
		if ok != tc.ok || ok && step != tc.step {
			t.Errorf("checkCode(%q) = %d %v", tc.code, step, ok)
		}
	}
	// Two steps away is too far.
	if _, ok := checkCode(secret, "050471", at.Add(61*time.Second)); ok {
		t.Error("a code two steps old was accepted")
	}
}

func TestSeal(t *testing.T) {
	s, err := newSealer([]byte("a server secret of enough bytes"))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := s.seal("E-0042", "JBSWY3DPEHPK3PXP")
	if err != nil || strings.Contains(sealed, "JBSWY3DPEHPK3PXP") {
		t.Fatalf("sealed %q %v", sealed, err)
	}
	if got, err := s.open("E-0042", sealed); err != nil || got != "JBSWY3DPEHPK3PXP" {
		t.Errorf("open: %q %v", got, err)
	}
	if _, err := s.open("E-0077", sealed); err == nil {
		t.Error("a secret sealed for one account opened for another")
	}
	other, _ := newSealer([]byte("another server secret, 32 bytes"))
	if _, err := other.open("E-0042", sealed); err == nil {
		t.Error("a secret opened under another server secret")
	}
	if _, err := newSealer([]byte("short")); err == nil {
		t.Error("a short secret was accepted")
	}
}

func TestSafeNext(t *testing.T) {
	for _, tc := range []struct{ next, want string }{
		{"/review/packets/2024-AAAA-AAAA", "/review/packets/2024-AAAA-AAAA"},
		{"/console/", "/review/"}, {"//evil.example/review/", "/review/"}, {"https://evil.example/", "/review/"},
		{"/review//evil", "/review/"}, {"", "/review/"},
	} {
		if got := safeNext(tc.next, "reviewer"); got != tc.want {
			t.Errorf("safeNext(%q) = %q", tc.next, got)
		}
	}
}

// BenchmarkHashPassword is the cost of one sign-in's password check at
// the default parameters (64 MiB, 3 passes, 2 lanes).
func BenchmarkHashPassword(b *testing.B) {
	h, err := HashPassword("correct horse battery", Argon2{})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if ok, err := CheckPassword(h, "correct horse battery"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
