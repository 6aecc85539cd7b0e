package result

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"io"
	"time"

	"github.com/digitorus/pdf"
	"github.com/digitorus/pdfsign/sign"
)

// SignOptions place and describe a signature.
type SignOptions struct {
	// Page (1-based) and Rect ([llx lly urx ury], points) locate the
	// visible signature; a zero Rect makes it invisible.
	Page int
	Rect [4]float64
	// Appearance is a PNG shown in Rect: the seal, for a result file.
	Appearance []byte
	// Time is the signing time written into the signature dictionary.
	Time time.Time
	// Reason, Location and Name are optional ASCII texts readers show with
	// the signature (the signing library cannot write other text safely).
	Reason, Location, Name string
	// TSA, when its URL is set, puts an RFC 3161 timestamp of the
	// signature value in the signature (PAdES B-T).
	TSA TSAConfig
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// Sign writes unsigned, a complete PDF file, to w with an incremental
// update that adds an approval signature (adbe.pkcs7.detached, SHA-256)
// over every byte of the result but its own value, with the signer's
// chain embedded, and a timestamp when o.TSA names a TSA. Nothing may
// change the file after it but an incremental update that adds validation
// data (appendDSS): any other rewrite, even by a tool that changes nothing
// visible, invalidates it.
func Sign(ctx context.Context, unsigned []byte, w io.Writer, s *Signer, o SignOptions) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if err := o.TSA.validate(); err != nil {
		return err
	}
	for _, t := range []string{o.Reason, o.Location, o.Name} {
		if !ascii(t) {
			return fmt.Errorf("%w: signature texts must be printable ASCII, got %q", ErrConfig, t)
		}
	}
	rd, err := pdf.NewReader(bytes.NewReader(unsigned), int64(len(unsigned)))
	if err != nil {
		return fmt.Errorf("result: sign: read unsigned file: %w", err)
	}
	page := o.Page
	if page <= 0 {
		page = 1
	}
	chain := append([]*x509.Certificate{s.Certificate}, s.Chain...)
	data := sign.SignData{
		Signature: sign.SignDataSignature{
			// An approval signature is the kind that may have a visible
			// appearance; any change after it still breaks it.
			CertType: sign.ApprovalSignature,
			Info: sign.SignDataSignatureInfo{
				Name: o.Name, Location: o.Location, Reason: o.Reason, Date: o.Time,
			},
		},
		Signer:            s.Key,
		DigestAlgorithm:   crypto.SHA256,
		Certificate:       s.Certificate,
		CertificateChains: [][]*x509.Certificate{chain},
		Appearance: sign.Appearance{
			Visible:    o.Rect != [4]float64{},
			Page:       uint32(page),
			LowerLeftX: o.Rect[0], LowerLeftY: o.Rect[1], UpperRightX: o.Rect[2], UpperRightY: o.Rect[3],
			Image: o.Appearance,
		},
	}
	var job *tsaJob
	if o.TSA.URL != "" {
		var url string
		var done func()
		job, url, done, err = newTSAJob(ctx, o.TSA)
		if err != nil {
			return err
		}
		defer done()
		data.TSA = sign.TSA{URL: url}
	}
	var out bytes.Buffer
	if err := sign.Sign(bytes.NewReader(unsigned), &out, rd, int64(len(unsigned)), data); err != nil {
		if job != nil && job.lastErr() != nil {
			return fmt.Errorf("result: sign: %w", job.lastErr())
		}
		return fmt.Errorf("result: sign: %w", err)
	}
	if _, err := w.Write(out.Bytes()); err != nil {
		return fmt.Errorf("result: sign: write: %w", err)
	}
	return nil
}
