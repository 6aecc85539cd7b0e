package result

import (
	"bytes"
	"crypto"
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
// the system's trusted roots, with only the revocation data the file
// carries. Verify never uses the network: a file is checked with what it
// holds and what the caller gives.
type VerifyOptions struct {
	// Roots are the trusted roots; nil means the system's.
	Roots *x509.CertPool
	// RootsName says where Roots came from, for the report (e.g. a file).
	RootsName string
	// TSARoots are the roots trusted for timestamps; nil means Roots.
	TSARoots *x509.CertPool
	// CRLs are revocation lists from the caller (DER), e.g. the CA's
	// current CRL: newer than the one in the file, it knows of
	// revocations after signing.
	CRLs [][]byte
	// Now is the time of verification (default time.Now), used only for
	// a signature without a trusted timestamp.
	Now time.Time
}

// Signature is what Verify found out about one signature of a file.
type Signature struct {
	SubFilter string
	// Signer is the signing certificate; Chain the path to a trusted root
	// when one was found.
	Signer *x509.Certificate
	Chain  []*x509.Certificate
	// SigningTime is the time the signer claims (the CMS signing-time
	// attribute, else the dictionary's /M).
	SigningTime time.Time
	// Timestamp is the RFC 3161 token on the signature, if it has one.
	Timestamp *Timestamp
	ByteRange [4]int64
	// Intact: the signed bytes are unchanged and the signature matches them.
	Intact bool
	// WholeFile: the signed ranges cover every byte of the file except the
	// signature value itself, so nothing was appended after signing.
	WholeFile bool
	// DSS: what follows the signed bytes is only a document security
	// store (validation data), the one addition PAdES allows after
	// signing; DSSCerts and DSSCRLs count what it holds.
	DSS               bool
	DSSCerts, DSSCRLs int
	// Trusted: the signer's chain leads to one of the trusted roots.
	Trusted bool
	// Revocation is what the revocation data says about the signer.
	Revocation Revocation
	// Problems explains every check that failed.
	Problems []string
}

// Timestamp is a verified RFC 3161 timestamp on a signature.
type Timestamp struct {
	// Time is the TSA's time (genTime).
	Time time.Time
	TSA  *x509.Certificate
	// Chain is the TSA's path to a trusted root when one was found.
	Chain []*x509.Certificate
	// Valid: the token is intact, signed by a certificate allowed to
	// stamp time, and stamps exactly this signature's value.
	Valid bool
	// Trusted: the TSA's chain leads to a trusted root at Time.
	Trusted    bool
	Revocation Revocation
}

// Revocation says what the revocation data found said about a
// certificate.
type Revocation struct {
	// Checked: a CRL of the certificate's issuer was found.
	Checked bool
	// Source says where that CRL came from and when it was issued.
	Source string
	// Revoked, since At (the invalidity date when the CA gave one), for
	// Reason (RFC 5280 code).
	Revoked bool
	At      time.Time
	Reason  int
}

// Proven reports whether the signature's time is proven by a valid,
// trusted timestamp rather than claimed by the signer.
func (s *Signature) Proven() bool {
	return s.Timestamp != nil && s.Timestamp.Valid && s.Timestamp.Trusted
}

// Level names the PAdES baseline level the signature reaches: B-B signed,
// B-T with a timestamp, B-LT with the chains and revocation data of signer
// and TSA in the file, so that it verifies offline.
func (s *Signature) Level() string {
	switch {
	case !s.Proven():
		return "B-B"
	case s.DSS && s.Revocation.Checked && s.Timestamp.Revocation.Checked:
		return "B-LT"
	}
	return "B-T"
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
// trusted, and one of them covers the whole file (or all of it but a
// document security store added after signing).
func (v *Verification) OK() bool {
	if len(v.Signatures) == 0 {
		return false
	}
	whole := false
	for _, s := range v.Signatures {
		if !s.Intact || !s.Trusted || len(s.Problems) > 0 {
			return false
		}
		whole = whole || s.WholeFile || s.DSS
	}
	return whole
}

// sigField is a signature dictionary of a file.
type sigField struct {
	subFilter string
	byteRange pdf.Value
	contents  []byte // the /Contents string, padding included
	m         string
}

// signatureFields lists the signature dictionaries of a PDF file.
func signatureFields(data []byte) (fields []sigField, err error) {
	fields, _, err = readSignatures(data)
	return fields, err
}

// readSignatures is signatureFields with the file's document information.
func readSignatures(data []byte) (fields []sigField, doc Document, err error) {
	defer func() {
		// The PDF reader panics on some malformed files.
		if p := recover(); p != nil {
			fields, err = nil, fmt.Errorf("malformed PDF: %v", p)
		}
	}()
	rd, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, doc, err
	}
	doc = document(rd.Trailer().Key("Info"))
	for _, x := range rd.Xref() {
		// An object the reader cannot load (a cross-reference entry that
		// points at another object) is skipped here; whether it matters
		// is for the coverage check to say.
		v, ok := func() (v pdf.Value, ok bool) {
			defer func() { ok = recover() == nil }()
			return rd.Resolve(x.Ptr(), x.Ptr()), true
		}()
		if !ok || v.Kind() != pdf.Dict || v.Key("ByteRange").IsNull() || v.Key("Contents").IsNull() {
			continue
		}
		if t := v.Key("Type").Name(); t != "Sig" && v.Key("Filter").Name() != "Adobe.PPKLite" {
			continue
		}
		fields = append(fields, sigField{subFilter: v.Key("SubFilter").Name(), byteRange: v.Key("ByteRange"),
			contents: []byte(v.Key("Contents").RawString()), m: v.Key("M").Text()})
	}
	return fields, doc, nil
}

// Verify checks the signatures of a PDF file held in data, independently
// of the code that made it: each signature's bytes, its coverage, its
// chain, its timestamp and the revocation data. A file without signatures
// gives an error wrapping ErrUnsigned; failed checks are listed in the
// result, not returned as errors.
func Verify(data []byte, o VerifyOptions) (res *Verification, err error) {
	defer func() {
		if p := recover(); p != nil {
			res, err = nil, fmt.Errorf("result: verify: malformed PDF: %v", p)
		}
	}()
	fields, doc, err := readSignatures(data)
	if err != nil {
		return nil, fmt.Errorf("result: verify: %w", err)
	}
	res = &Verification{Size: int64(len(data)), RootsName: o.RootsName}
	if res.RootsName == "" {
		res.RootsName = "the system's trusted roots"
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.TSARoots == nil {
		o.TSARoots = o.Roots
	}
	for _, f := range fields {
		res.Signatures = append(res.Signatures, verifyOne(data, f, o))
	}
	if len(res.Signatures) == 0 {
		return nil, ErrUnsigned
	}
	res.Document = doc
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

func verifyOne(data []byte, f sigField, o VerifyOptions) Signature {
	s := Signature{SubFilter: f.subFilter}
	bad := func(format string, a ...any) { s.Problems = append(s.Problems, fmt.Sprintf(format, a...)) }
	switch s.SubFilter {
	case "adbe.pkcs7.detached", "ETSI.CAdES.detached":
	default:
		bad("unsupported signature kind %q (want adbe.pkcs7.detached or ETSI.CAdES.detached)", s.SubFilter)
		return s
	}

	br := f.byteRange
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
	// The gap must hold exactly the hex string that is the signature, so no
	// unsigned bytes can hide there.
	gap := data[b:c]
	contents := f.contents
	if len(gap) < 2 || gap[0] != '<' || gap[len(gap)-1] != '>' {
		bad("the unsigned gap of the ByteRange is not the signature's hex string")
		return s
	}
	if raw, err := hex.DecodeString(string(gap[1 : len(gap)-1])); err != nil || !bytes.Equal(raw, contents) {
		bad("the unsigned gap of the ByteRange is not this signature's value")
		return s
	}
	s.WholeFile = c+d == size
	var store *dss
	if !s.WholeFile {
		var err error
		store, err = readUpdates(data, int(c+d))
		if err != nil {
			bad("the signature covers bytes up to %d but the file has %d: %d bytes were added after signing, and they are not only validation data (%v)",
				c+d, size, size-(c+d), err)
		} else if store != nil {
			s.DSS, s.DSSCerts, s.DSSCRLs = true, len(store.certs), len(store.crls)
		} else {
			s.WholeFile = true // only white space follows
		}
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
	} else if f.m != "" {
		s.SigningTime, _ = parsePDFDate(f.m)
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

	// Certificates that help build paths (never trusted by being here):
	// the signature's, the timestamp's and the store's.
	inter := x509.NewCertPool()
	for _, cert := range p7.Certificates {
		inter.AddCert(cert)
	}
	var crls []*crl
	addCRL := func(raw []byte, where string) {
		if c, err := parseCRL(raw); err == nil {
			c.source = where
			crls = append(crls, c)
		} else {
			bad("a revocation list %s cannot be read: %v", where, err)
		}
	}
	if store != nil {
		certs, err := parseCerts(store.certs)
		if err != nil {
			bad("%v", err)
		}
		for _, cert := range certs {
			inter.AddCert(cert)
		}
		for _, raw := range store.crls {
			addCRL(raw, "in the file's document security store")
		}
		if len(store.ocsps) > 0 {
			bad("the document security store holds OCSP responses, which this verifier does not read")
		}
	}
	for _, raw := range o.CRLs {
		addCRL(raw, "given for verification")
	}

	// The timestamp: it proves when the signature existed.
	raw, err := signatureToken(p7)
	if err != nil {
		bad("%v", err)
	} else if raw != nil {
		s.Timestamp = verifyToken(raw, p7.Signers[0].EncryptedDigest, inter, crls, o, bad)
	}

	when := s.SigningTime
	if s.Proven() {
		when = s.Timestamp.Time
	} else if when.IsZero() {
		when = o.Now
	}
	// Checked at the time of signing: an approval file stays valid after
	// its signing certificate expires. That time is the TSA's when a
	// trusted timestamp proves it, else the signer's claim.
	chains, err := s.Signer.Verify(x509.VerifyOptions{
		Roots: o.Roots, Intermediates: inter, CurrentTime: when,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		bad("the signer's chain does not lead to a trusted root: %v", err)
		return s
	}
	s.Trusted = true
	s.Chain = chains[0]
	if len(s.Chain) > 1 {
		s.Revocation = revocationOf(s.Chain[0], s.Chain[1], crls, bad)
		if r := s.Revocation; r.Revoked {
			switch {
			case !s.Proven():
				bad("the signer's certificate was revoked at %s, and no trusted timestamp proves the signature was made before that",
					r.At.UTC().Format(time.RFC3339))
			case !r.At.After(when):
				bad("the signer's certificate was revoked at %s, before the signature was made (timestamp %s): not valid",
					r.At.UTC().Format(time.RFC3339), when.UTC().Format(time.RFC3339))
			}
		}
	}
	return s
}

// revocationOf looks cert up in the CRLs of issuer.
func revocationOf(cert, issuer *x509.Certificate, crls []*crl, bad func(string, ...any)) Revocation {
	r, ok, wrong := status(crls, cert, issuer)
	for _, w := range wrong {
		bad("a revocation list claims to be of %s but is not: %s", issuer.Subject.CommonName, w)
	}
	if !ok {
		return Revocation{}
	}
	return Revocation{Checked: true, Revoked: r.revoked, At: r.at, Reason: r.reason,
		Source: fmt.Sprintf("CRL of %s no. %v issued %s, %s", issuer.Subject.CommonName, r.crl.l.Number,
			r.crl.l.ThisUpdate.UTC().Format(time.RFC3339), r.crl.source)}
}

// verifyToken checks a signature's timestamp token: intact, for exactly
// the signature value sig, from a TSA that may stamp, trusted and not
// revoked before it stamped.
func verifyToken(raw, sig []byte, inter *x509.CertPool, crls []*crl, o VerifyOptions, bad func(string, ...any)) *Timestamp {
	tok, err := readToken(raw)
	if err != nil {
		bad("timestamp: %v", err)
		return &Timestamp{}
	}
	t := &Timestamp{Time: tok.ts.Time, TSA: tok.signer}
	h := tok.ts.HashAlgorithm
	if h != crypto.SHA256 && h != crypto.SHA384 && h != crypto.SHA512 {
		bad("timestamp: weak hash %v", h)
		return t
	}
	sum := h.New()
	sum.Write(sig)
	if !bytes.Equal(sum.Sum(nil), tok.ts.HashedMessage) {
		bad("timestamp: it stamps another message, not this signature")
		return t
	}
	t.Valid = true
	for _, c := range tok.certs {
		inter.AddCert(c)
	}
	chains, err := tok.signer.Verify(x509.VerifyOptions{Roots: o.TSARoots, Intermediates: inter, CurrentTime: t.Time,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}})
	if err != nil {
		bad("timestamp: the TSA's chain does not lead to a trusted root: %v", err)
		return t
	}
	t.Trusted, t.Chain = true, chains[0]
	if len(t.Chain) > 1 {
		t.Revocation = revocationOf(t.Chain[0], t.Chain[1], crls, bad)
		if r := t.Revocation; r.Revoked && !r.At.After(t.Time) {
			bad("timestamp: the TSA's certificate was revoked at %s, before it stamped %s", r.At.UTC().Format(time.RFC3339), t.Time.UTC().Format(time.RFC3339))
			t.Trusted = false
		}
	}
	return t
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

var reasonNames = map[int]string{0: "unspecified", 1: "keyCompromise", 2: "caCompromise", 3: "affiliationChanged",
	4: "superseded", 5: "cessationOfOperation", 6: "certificateHold", 8: "removeFromCRL", 9: "privilegeWithdrawn", 10: "aACompromise"}

func (r Revocation) describe(signed time.Time, proven bool) string {
	switch {
	case !r.Checked:
		return "not checked (no revocation list of the issuer in the file or given)"
	case !r.Revoked:
		return "not revoked (" + r.Source + ")"
	}
	s := fmt.Sprintf("REVOKED at %s (%s; %s)", r.At.UTC().Format(time.RFC3339), reasonNames[r.Reason], r.Source)
	if proven && r.At.After(signed) {
		s += " — after the timestamp: the signature stays valid"
	}
	return s
}

// Write prints v for a person: per signature the signer, times, coverage,
// integrity, trust, revocation and level, and every problem.
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
		if t := s.Timestamp; t != nil {
			state := "trusted"
			switch {
			case !t.Valid:
				state = "NOT valid"
			case !t.Trusted:
				state = "NOT trusted"
			}
			name := "?"
			if t.TSA != nil {
				name = t.TSA.Subject.String()
			}
			fmt.Fprintf(&b, "  timestamp:     %s by %s (RFC 3161, %s)\n", t.Time.UTC().Format(time.RFC3339), name, state)
			if t.Valid {
				fmt.Fprintf(&b, "  TSA revocation: %s\n", t.Revocation.describe(t.Time, t.Trusted))
			}
		} else {
			fmt.Fprintf(&b, "  timestamp:     none (the signing time is only the signer's claim)\n")
		}
		fmt.Fprintf(&b, "  byte range:    %v of %d bytes\n", s.ByteRange, v.Size)
		switch {
		case s.WholeFile:
			fmt.Fprintf(&b, "  whole file:    yes\n")
		case s.DSS:
			fmt.Fprintf(&b, "  whole file:    yes, but for validation data added after signing (document security store: %d certificates, %d CRLs)\n", s.DSSCerts, s.DSSCRLs)
		default:
			fmt.Fprintf(&b, "  whole file:    NO\n")
		}
		fmt.Fprintf(&b, "  intact:        %s\n", yesNo(s.Intact))
		fmt.Fprintf(&b, "  trusted:       %s (roots: %s)\n", yesNo(s.Trusted), v.RootsName)
		for j, c := range s.Chain {
			fmt.Fprintf(&b, "    chain[%d]:    %s\n", j, c.Subject)
		}
		if s.Trusted {
			signed := s.SigningTime
			if s.Proven() {
				signed = s.Timestamp.Time
			}
			fmt.Fprintf(&b, "  revocation:    %s\n", s.Revocation.describe(signed, s.Proven()))
		}
		fmt.Fprintf(&b, "  level:         PAdES %s\n", s.Level())
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
