// Package resulttest gives tests an issuer of result files signed with
// fresh development keys (result.GenerateDevKeys), as an authority's
// signer would sign them.
package resulttest

import (
	"path/filepath"
	"testing"

	"github.com/blindpack/blindpack/pipeline/result"
)

// DevIssuer makes development keys in a temporary directory and returns
// an issuer that signs with them and the path of their root (ca.pem).
func DevIssuer(t testing.TB) (*result.Issuer, string) {
	t.Helper()
	keys := DevKeys(t)
	return Issuer(t, keys, result.Config{}), filepath.Join(keys, result.CAFile)
}

// DevKeys makes development keys (root, signer, CRL) in a temporary
// directory and returns it.
func DevKeys(t testing.TB) string {
	t.Helper()
	keys := filepath.Join(t.TempDir(), "keys")
	if err := result.GenerateDevKeys(keys, result.DevKeyOptions{}); err != nil {
		t.Fatal(err)
	}
	return keys
}

// Issuer is an issuer that signs with the keys of the development key
// directory keys and the default fonts; the rest of cfg (CRLs, a TSA) is
// the caller's.
func Issuer(t testing.TB, keys string, cfg result.Config) *result.Issuer {
	t.Helper()
	signer, err := result.LoadKeyDir(keys)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Fonts, err = result.LoadFonts(result.FontConfig{}); err != nil {
		t.Fatal(err)
	}
	cfg.Signer = signer
	is, err := result.NewIssuer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return is
}
