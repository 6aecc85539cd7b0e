package result

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/digitorus/pdf"
	"github.com/digitorus/pkcs7"
)

// VerifyOptions configures Verify. The zero value checks the chain against
// the system's trusted roots.
type VerifyOptions struct {
	// Roots are the trusted roots; nil means the system's.
	Roots *x509.CertPool
	// RootsName says where Roots came from, for the report (e.g. a file).
	RootsName string
}

// Signature is what Verify found out about one signature of a file.
type Signature struct {
	SubFilter string
	// Signer is the signing certificate; Chain the path to a trusted root
	// when one was found.
	Signer *x509.Certificate
	Chain  []*x509.Certificate
	// SigningTime is the time the signer claims (the CMS signing-time
	// attribute, else the dictionary's /M); no trusted timestamp is used.
	SigningTime time.Time
	ByteRange   [4]int64
	// Intact: the signed bytes are unchanged and the signature matches them.
	Intact bool
	// WholeFile: the signed ranges cover every byte of the file except the
	// signature value itself, so nothing was appended after signing.
	WholeFile bool
	// Trusted: the signer's chain leads to one of the trusted roots.
	Trusted bool
	// Problems explains every check that failed.
	Problems []string
}

// Verification is the result of Verify.
type Verification struct {
	Size       int64
	Signatures []Signature
	RootsName  string
	// Document is what the file says it is, from its document information
	// (trust it only when OK: the signature covers it then).
	Document Document
}

// Keys of the document information dictionary that blindpack writes
// beside Title (the title), Author (the authority) and Subject (the
// document number).
const (
	InfoDate     = "BlindpackDate"
	InfoCampaign = "BlindpackCampaign"
	InfoPersons  = "BlindpackPersons"
)

// Document is what a result file says of itself.
type Document struct {
	Title, Authority, DocNumber string
	// Date is the document's date (YYYY-MM-DD) and Campaign its
	// campaign; Persons the number of persons approved (-1 when the file
	// does not say: one issued before these keys were written).
	Date, Campaign string
	Persons        int
}

// OK reports whether the file is signed, every signature is intact and
// trusted, and one of them covers the whole file.
func (v *Verification) OK() bool {
	if len(v.Signatures) == 0 {
		return false
	}
	whole := false
	for _, s := range v.Signatures {
		if !s.Intact || !s.Trusted || len(s.Problems) > 0 {
			return false
		}
		whole = whole || s.WholeFile
	}
	return whole
}

// Verify checks the signatures of a PDF file held in data, independently
// of the code that made it: each signature's bytes, its coverage and its
// chain. A file without signatures gives an error wrapping ErrUnsigned;
// failed checks are listed in the result, not returned as errors.
func Verify(data []byte, o VerifyOptions) (res *Verification, err error) {
	defer func() {
		// The PDF reader panics on some malformed files.
		if p := recover(); p != nil {
			res, err = nil, fmt.Errorf("result: verify: malformed PDF: %v", p)
		}
	}()
	rd, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("result: verify: %w", err)
	}
	res = &Verification{Size: int64(len(data)), RootsName: o.RootsName}
	if res.RootsName == "" {
		res.RootsName = "the system's trusted roots"
	}
	for _, x := range rd.Xref() {
		v := rd.Resolve(x.Ptr(), x.Ptr())
		if v.Kind() != pdf.Dict || v.Key("ByteRange").IsNull() || v.Key("Contents").IsNull() {
			continue
		}
		if t := v.Key("Type").Name(); t != "Sig" && v.Key("Filter").Name() != "Adobe.PPKLite" {
			continue
		}
		res.Signatures = append(res.Signatures, verifyOne(data, v, o))
	}
	if len(res.Signatures) == 0 {
		return nil, ErrUnsigned
	}
	res.Document = document(rd.Trailer().Key("Info"))
	return res, nil
}

// document reads the document information dictionary.
func document(info pdf.Value) Document {
	d := Document{Title: info.Key("Title").Text(), Authority: info.Key("Author").Text(), DocNumber: info.Key("Subject").Text(),
		Date: info.Key(InfoDate).Text(), Campaign: info.Key(InfoCampaign).Text(), Persons: -1}
	if n, err := strconv.Atoi(info.Key(InfoPersons).Text()); err == nil && n >= 0 {
		d.Persons = n
	}
	return d
}

// derPrefix returns the DER element at the start of b (a SEQUENCE, as a
// CMS ContentInfo is), without what follows it.
func derPrefix(b []byte) ([]byte, bool) {
	if len(b) < 2 || b[0] != 0x30 {
		return nil, false
	}
	n, head := int(b[1]), 2
	if n >= 0x80 {
		k := n & 0x7f
		if k == 0 || k > 4 || len(b) < 2+k {
			return nil, false
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		head += k
	}
	if n < 0 || head+n > len(b) {
		return nil, false
	}
	return b[:head+n], true
}

var oidSigningTime = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}

func verifyOne(data []byte, v pdf.Value, o VerifyOptions) Signature {
	s := Signature{SubFilter: v.Key("SubFilter").Name()}
	bad := func(format string, a ...any) { s.Problems = append(s.Problems, fmt.Sprintf(format, a...)) }
	switch s.SubFilter {
	case "adbe.pkcs7.detached", "ETSI.CAdES.detached":
	default:
		bad("unsupported signature kind %q (want adbe.pkcs7.detached or ETSI.CAdES.detached)", s.SubFilter)
		return s
	}

	br := v.Key("ByteRange")
	size := int64(len(data))
	if br.Len() != 4 {
		bad("ByteRange has %d numbers, want 4 (one gap for the signature)", br.Len())
		return s
	}
	for i := range 4 {
		s.ByteRange[i] = br.Index(i).Int64()
	}
	a, b, c, d := s.ByteRange[0], s.ByteRange[1], s.ByteRange[2], s.ByteRange[3]
	if a != 0 || b <= 0 || c <= b || d < 0 || c+d > size {
		bad("ByteRange %v is not two ranges around a gap within the file", s.ByteRange)
		return s
	}
	s.WholeFile = c+d == size
	if !s.WholeFile {
		bad("the signature covers bytes up to %d but the file has %d: %d bytes were added after signing", c+d, size, size-(c+d))
	}
	// The gap must hold exactly the hex string that is the signature, so no
	// unsigned bytes can hide there.
	gap := data[b:c]
	contents := []byte(v.Key("Contents").RawString())
	if len(gap) < 2 || gap[0] != '<' || gap[len(gap)-1] != '>' {
		bad("the unsigned gap of the ByteRange is not the signature's hex string")
		return s
	}
	if raw, err := hex.DecodeString(string(gap[1 : len(gap)-1])); err != nil || !bytes.Equal(raw, contents) {
		bad("the unsigned gap of the ByteRange is not this signature's value")
		return s
	}

	// The signature is padded with zeros to the size reserved for it; its
	// own DER length says where it ends. (Trimming the zeros instead
	// would also cut a signature whose last bytes are zeros — about one
	// in 256 — and call a genuine file damaged.)
	der, ok := derPrefix(contents)
	if !ok {
		bad("signature value is not DER: its length runs past the space reserved for it")
		return s
	}
	p7, err := pkcs7.Parse(der)
	if err != nil {
		bad("signature value is not CMS/PKCS#7: %v", err)
		return s
	}
	if len(p7.Signers) != 1 {
		bad("%d signers in one signature, want 1", len(p7.Signers))
		return s
	}
	s.Signer = p7.GetOnlySigner()
	if s.Signer == nil {
		bad("the signer's certificate is not embedded")
		return s
	}
	var st time.Time
	if err := p7.UnmarshalSignedAttribute(oidSigningTime, &st); err == nil {
		s.SigningTime = st
	} else if m := v.Key("M").Text(); m != "" {
		s.SigningTime, _ = parsePDFDate(m)
	}

	p7.Content = append(append([]byte(nil), data[a:a+b]...), data[c:c+d]...)
	if err := p7.Verify(); err != nil {
		bad("signature does not match the signed bytes (the file was changed, or the signature is damaged): %v", err)
	} else {
		s.Intact = true
	}
	if alg := p7.Signers[0].DigestAlgorithm.Algorithm; !strongDigest(alg) {
		bad("weak digest algorithm %v (want SHA-256 or stronger)", alg)
	}

	if ku := s.Signer.KeyUsage; ku != 0 && ku&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		bad("the signer's certificate may not sign documents (key usage)")
	}
	inter := x509.NewCertPool()
	for _, cert := range p7.Certificates {
		inter.AddCert(cert)
	}
	when := s.SigningTime
	if when.IsZero() {
		when = time.Now()
	}
	// Checked at the signing time: an approval file stays valid after its
	// signing certificate expires. Without a trusted timestamp that time is
	// the signer's word, which a trusted signer's word is.
	chains, err := s.Signer.Verify(x509.VerifyOptions{
		Roots: o.Roots, Intermediates: inter, CurrentTime: when,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		bad("the signer's chain does not lead to a trusted root: %v", err)
	} else {
		s.Trusted = true
		s.Chain = chains[0]
	}
	return s
}

var (
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
)

func strongDigest(oid asn1.ObjectIdentifier) bool {
	return oid.Equal(oidSHA256) || oid.Equal(oidSHA384) || oid.Equal(oidSHA512)
}

// parsePDFDate reads D:YYYYMMDDHHmmSS+HH'mm'.
func parsePDFDate(s string) (time.Time, error) {
	s = strings.TrimPrefix(s, "D:")
	for _, layout := range []string{"20060102150405-07'00'", "20060102150405Z07'00'", "20060102150405Z", "20060102150405"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("result: bad PDF date %q", s)
}

// Write prints v for a person: per signature the signer, time, coverage,
// integrity and trust, and every problem.
func (v *Verification) Write(w io.Writer) error {
	var b strings.Builder
	for i, s := range v.Signatures {
		fmt.Fprintf(&b, "signature %d (%s)\n", i+1, s.SubFilter)
		if s.Signer != nil {
			fmt.Fprintf(&b, "  signer:        %s\n", s.Signer.Subject)
			fmt.Fprintf(&b, "  issued by:     %s\n", s.Signer.Issuer)
		}
		if !s.SigningTime.IsZero() {
			fmt.Fprintf(&b, "  signing time:  %s (claimed by the signer)\n", s.SigningTime.UTC().Format(time.RFC3339))
		}
		fmt.Fprintf(&b, "  byte range:    %v of %d bytes\n", s.ByteRange, v.Size)
		fmt.Fprintf(&b, "  whole file:    %s\n", yesNo(s.WholeFile))
		fmt.Fprintf(&b, "  intact:        %s\n", yesNo(s.Intact))
		fmt.Fprintf(&b, "  trusted:       %s (roots: %s)\n", yesNo(s.Trusted), v.RootsName)
		for j, c := range s.Chain {
			fmt.Fprintf(&b, "    chain[%d]:    %s\n", j, c.Subject)
		}
		for _, p := range s.Problems {
			fmt.Fprintf(&b, "  problem:       %s\n", p)
		}
	}
	if d := v.Document; d.DocNumber != "" || d.Title != "" {
		fmt.Fprintf(&b, "document: %s %s, dated %s", d.DocNumber, d.Title, d.Date)
		if d.Persons >= 0 {
			fmt.Fprintf(&b, ", %d person(s)", d.Persons)
		}
		b.WriteString("\n")
	}
	if v.OK() {
		b.WriteString("result: VALID — signed, unchanged, whole file covered, chain trusted\n")
	} else {
		b.WriteString("result: NOT VALID\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "NO"
}
