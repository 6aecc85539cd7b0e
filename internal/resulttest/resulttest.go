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
	keys := filepath.Join(t.TempDir(), "keys")
	if err := result.GenerateDevKeys(keys, result.DevKeyOptions{}); err != nil {
		t.Fatal(err)
	}
	signer, err := result.LoadKeyDir(keys)
	if err != nil {
		t.Fatal(err)
	}
	fonts, err := result.LoadFonts(result.FontConfig{})
	if err != nil {
		t.Fatal(err)
	}
	is, err := result.NewIssuer(result.Config{Fonts: fonts, Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	return is, filepath.Join(keys, result.CAFile)
}
