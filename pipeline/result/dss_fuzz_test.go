package result

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/blindpack/blindpack/internal/pdfkit"
)

// updateFuzzSeed rewrites the committed seed of FuzzReadUpdates:
//
//	go test ./pipeline/result -run TestAppendDSSRoundTrip -update-fuzz-seed
var updateFuzzSeed = flag.Bool("update-fuzz-seed", false, "rewrite testdata/fuzz/FuzzReadUpdates/dss-update")

// fuzzBase is a small signed file, and a document security store update
// of it, for the fuzz target's base and seed.
func fuzzBase(t testing.TB) (signed, update []byte) {
	t.Helper()
	// Keys of its own, not the fixture's: the fixture loads fonts, which
	// is slow under the fuzzer's instrumentation.
	dir := filepath.Join(t.TempDir(), "keys")
	if err := GenerateDevKeys(dir, DevKeyOptions{}); err != nil {
		t.Fatal(err)
	}
	s, err := LoadKeyDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var unsigned bytes.Buffer
	d := pdfkit.New(&unsigned)
	d.AddPage(595, 842, d.NewCanvas())
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Sign(context.Background(), unsigned.Bytes(), &out, s, SignOptions{}); err != nil {
		t.Fatal(err)
	}
	crl, err := os.ReadFile(filepath.Join(dir, CRLFile))
	if err != nil {
		t.Fatal(err)
	}
	fields, err := signatureFields(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	store := &dss{certs: [][]byte{s.Certificate.Raw, s.Chain[0].Raw}, crls: [][]byte{crl},
		vri: map[string]vriEntry{vriKey(fields[0].contents): {certs: []int{0, 1}, crls: []int{0}}}}
	full, err := appendDSS(out.Bytes(), store)
	if err != nil {
		t.Fatal(err)
	}
	return out.Bytes(), full[out.Len():]
}

// FuzzReadUpdates appends arbitrary bytes to a signed file and reads them
// as updates after the signature: no panic, bounded work, and whatever is
// accepted is a store within its limits whose objects are all accounted
// for. Verify of the whole file must not panic either.
func FuzzReadUpdates(f *testing.F) {
	base, update := fuzzBase(f)
	f.Add(update)
	f.Add([]byte("\n"))
	f.Add([]byte("% appended\n"))
	f.Fuzz(func(t *testing.T, tail []byte) {
		data := append(append([]byte(nil), base...), tail...)
		store, rerr := readUpdates(data, len(base))
		if rerr == nil && store != nil {
			if len(store.certs) > maxDSSItems || len(store.crls) > maxDSSItems || len(store.ocsps) > maxDSSItems {
				t.Fatalf("store over its limits: %d certs, %d CRLs", len(store.certs), len(store.crls))
			}
		}
		if v, err := Verify(data, VerifyOptions{}); err == nil && len(v.Signatures) == 1 && v.Signatures[0].DSS != (store != nil && rerr == nil) {
			t.Fatalf("Verify and readUpdates disagree about the store")
		}
	})
}

func TestAppendDSSRoundTrip(t *testing.T) {
	base, update := fuzzBase(t)
	store, err := readUpdates(append(append([]byte(nil), base...), update...), len(base))
	if err != nil {
		t.Fatal(err)
	}
	if len(store.certs) != 2 || len(store.crls) != 1 || len(store.vri) != 1 {
		t.Errorf("store read back: %d certs, %d CRLs, %d VRI entries", len(store.certs), len(store.crls), len(store.vri))
	}
	for _, e := range store.vri {
		if len(e.certs) != 2 || len(e.crls) != 1 {
			t.Errorf("VRI entry read back: %+v", e)
		}
	}
	// A second store on top of the first is refused by the writer.
	if _, err := appendDSS(append(base, update...), &dss{}); err == nil {
		t.Error("appendDSS wrote a second store")
	}
	if *updateFuzzSeed {
		dir := filepath.Join("testdata", "fuzz", "FuzzReadUpdates")
		os.MkdirAll(dir, 0o755)
		seed := "go test fuzz v1\n[]byte(" + quoteGo(update) + ")\n"
		os.WriteFile(filepath.Join(dir, "dss-update"), []byte(seed), 0o644)
	}
}

func quoteGo(b []byte) string {
	var s bytes.Buffer
	s.WriteByte('"')
	for _, c := range b {
		switch {
		case c == '"' || c == '\\':
			s.WriteByte('\\')
			s.WriteByte(c)
		case c >= 0x20 && c < 0x7f:
			s.WriteByte(c)
		default:
			s.WriteString(`\x`)
			s.WriteString("0123456789abcdef"[c>>4 : c>>4+1])
			s.WriteString("0123456789abcdef"[c&15 : c&15+1])
		}
	}
	s.WriteByte('"')
	return s.String()
}
