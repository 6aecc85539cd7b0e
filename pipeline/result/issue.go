package result

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image/color"
	"io"
	"log/slog"
	"time"
)

// Config configures an Issuer. Fonts and Signer are required; the zero
// value of everything else is the default.
type Config struct {
	Fonts  *Fonts
	Signer *Signer
	// SealDiameter in millimetres (default 42).
	SealDiameter float64
	// SealDPI is the resolution of the seal image in the signature's
	// appearance (default 600, print quality).
	SealDPI float64
	// Reason and Location are shown with the signature; printable ASCII
	// (default Reason: "Approval of professional title evaluation results").
	Reason, Location string
	// Now gives the signing time (default time.Now).
	Now func() time.Time
	// TSA, when its URL is set, timestamps every signature (PAdES B-T)
	// and adds the chains and revocation data of signer and TSA to the
	// file's document security store (B-LT), so that it verifies offline
	// years later.
	TSA TSAConfig
	// CRLs are revocation lists of the signer's issuer known locally
	// (DER), e.g. a development key directory's ca.crl. With a TSA, a CRL
	// not given is fetched from the certificate's distribution point.
	CRLs [][]byte
	Log  *slog.Logger
}

// Validate checks the configuration.
func (c Config) Validate() error {
	switch {
	case c.Fonts == nil || c.Fonts.Song == nil || c.Fonts.Hei == nil:
		return fmt.Errorf("%w: fonts are required (LoadFonts)", ErrConfig)
	case c.SealDiameter != 0 && (c.SealDiameter < 20 || c.SealDiameter > 60):
		return fmt.Errorf("%w: seal diameter %g mm out of 20–60 mm", ErrConfig, c.SealDiameter)
	case c.SealDPI < 0 || c.SealDPI > 2400:
		return fmt.Errorf("%w: seal resolution %g dpi out of range", ErrConfig, c.SealDPI)
	case !ascii(c.Reason) || !ascii(c.Location):
		return fmt.Errorf("%w: reason and location must be printable ASCII", ErrConfig)
	}
	if err := c.TSA.validate(); err != nil {
		return err
	}
	for i, raw := range c.CRLs {
		if _, err := parseCRL(raw); err != nil {
			return fmt.Errorf("%w: CRL %d: %v", ErrConfig, i+1, err)
		}
	}
	return c.Signer.Validate()
}

// Issuer lays out, seals and signs result files. It is safe for concurrent
// use.
type Issuer struct {
	cfg Config
	log *slog.Logger
}

// NewIssuer checks cfg and returns an Issuer.
func NewIssuer(cfg Config) (*Issuer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.SealDPI == 0 {
		cfg.SealDPI = 600
	}
	if cfg.Reason == "" {
		cfg.Reason = "Approval of professional title evaluation results"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Issuer{cfg: cfg, log: log}, nil
}

// Issued describes a signed result file.
type Issued struct {
	Pages    int
	Bytes    int64
	SHA256   string
	SignedAt time.Time
	Signer   string
	// Timestamp is the TSA's time on the signature (zero without a TSA),
	// TSA the name in its certificate.
	Timestamp time.Time
	TSA       string
	// Level is the PAdES level the file reaches: B-B, B-T or B-LT.
	Level string
}

// sealRGBA is the seal's red as an image colour, the same as the page's.
var sealRGBA = color.NRGBA{R: uint8(red.R * 255), G: uint8(red.G * 255), B: uint8(red.B * 255), A: 255}

// Issue writes the signed result file of b to w. A batch that cannot be
// set (a character the fonts lack) gives a *BatchError. Nothing is written
// to w unless the whole file was made and signed.
func (is *Issuer) Issue(ctx context.Context, b *Batch, w io.Writer) (Issued, error) {
	out, err := is.issue(ctx, b, w, func(buf *bytes.Buffer, seal *Seal) (Layout, error) {
		return render(buf, b, is.cfg.Fonts, seal)
	})
	if err != nil {
		return out, err
	}
	is.log.Info("result issued", "doc_number", b.DocNumber, "campaign", b.Campaign, "persons", len(b.Approved),
		"pages", out.Pages, "bytes", out.Bytes, "sha256", out.SHA256, "signer", out.Signer, "level", out.Level, "timestamp", out.Timestamp)
	return out, nil
}

// issue checks b, sets the document with set, seals and signs it — with
// a timestamp and validation data when a TSA is configured — reads it
// back, and only then writes it to w.
func (is *Issuer) issue(ctx context.Context, b *Batch, w io.Writer, set func(*bytes.Buffer, *Seal) (Layout, error)) (Issued, error) {
	if err := b.Validate(); err != nil {
		return Issued{}, err
	}
	if ps := missingGlyphs(b, is.cfg.Fonts); len(ps) > 0 {
		return Issued{}, &BatchError{Problems: ps}
	}
	seal, err := NewSeal(SealSpec{Name: b.Authority, Code: b.SealCode, Diameter: is.cfg.SealDiameter}, is.cfg.Fonts.Song)
	if err != nil {
		return Issued{}, err
	}
	var unsigned bytes.Buffer
	lay, err := set(&unsigned, seal)
	if err != nil {
		return Issued{}, err
	}
	if err := ctx.Err(); err != nil {
		return Issued{}, fmt.Errorf("result: issue: %w", err)
	}
	img, err := seal.PNG(is.cfg.SealDPI, sealRGBA)
	if err != nil {
		return Issued{}, err
	}
	now := is.cfg.Now()
	ltv := is.cfg.TSA.URL != ""
	var signerCRL *crl
	if ltv {
		// The signer's revocation status first: a revoked key signs nothing.
		if signerCRL, err = is.signerCRL(ctx, now); err != nil {
			return Issued{}, err
		}
	}
	var signed bytes.Buffer
	err = Sign(ctx, unsigned.Bytes(), &signed, is.cfg.Signer, SignOptions{
		Page: lay.SealPage, Rect: lay.SealRect, Appearance: img, Time: now,
		Reason: is.cfg.Reason, Location: is.cfg.Location, TSA: is.cfg.TSA,
	})
	if err != nil {
		return Issued{}, err
	}
	file := signed.Bytes()
	level := "B-B"
	if ltv {
		var got validationData
		if file, got, err = is.addValidationData(ctx, file, signerCRL, now); err != nil {
			return Issued{}, err
		}
		level = "B-T"
		if got.signerCRL && got.tsaCRL {
			level = "B-LT"
		}
	}
	// Read back what is about to be published, as a verifier will.
	check, err := is.selfCheck(file)
	if err != nil {
		return Issued{}, err
	}
	sum := sha256.Sum256(file)
	n, err := w.Write(file)
	if err != nil {
		return Issued{}, fmt.Errorf("result: issue: write: %w", err)
	}
	out := Issued{Pages: lay.Pages, Bytes: int64(n), SHA256: hex.EncodeToString(sum[:]), SignedAt: now,
		Signer: is.cfg.Signer.Certificate.Subject.CommonName, Level: level}
	if t := check.Timestamp; t != nil {
		out.Timestamp, out.TSA = t.Time, t.TSA.Subject.CommonName
	}
	return out, nil
}
