package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/blindpack/blindpack/pipeline/result"
	"github.com/blindpack/blindpack/workers"
)

// signerFlags say where the signing key comes from: a development key
// directory, PEM files, or a PKCS#12 file whose password is best given in
// the environment (BLINDPACK_SIGNER_P12_PASSWORD) or a file.
type signerFlags struct {
	keysDir      string
	certFile     string
	keyFile      string
	p12File      string
	p12Password  string
	p12PassFile  string
	songFont     string
	songIndex    int
	heiFont      string
	heiIndex     int
	sealDiameter float64
	location     string
	tsaURL       string
	tsaCA        string
	tsaUser      string
	tsaPassword  string
	tsaTimeout   time.Duration
	signerCRL    string
}

func (s *signerFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.keysDir, "keys", "", "development key `directory` from `blindpack keys init` (ca.pem, signer.pem, signer.key)")
	fs.StringVar(&s.certFile, "signer-cert", "", "signing certificate `file` (PEM; the chain may follow the certificate)")
	fs.StringVar(&s.keyFile, "signer-key", "", "signing key `file` (PEM, unencrypted; prefer --signer-p12)")
	fs.StringVar(&s.p12File, "signer-p12", "", "signing key and chain as PKCS#12 `file` (.p12/.pfx)")
	fs.StringVar(&s.p12Password, "signer-p12-password", "", "PKCS#12 password (prefer the environment: BLINDPACK_SIGNER_P12_PASSWORD)")
	fs.StringVar(&s.p12PassFile, "signer-p12-password-file", "", "`file` holding the PKCS#12 password")
	fs.StringVar(&s.songFont, "body-font", "", "Song/Ming TrueType `file` for text and seal (default: AR PL UMing, else WenQuanYi Zen Hei)")
	fs.IntVar(&s.songIndex, "body-font-index", 0, "member of a .ttc body font")
	fs.StringVar(&s.heiFont, "heading-font", "", "Hei TrueType `file` for headings (default: WenQuanYi Zen Hei)")
	fs.IntVar(&s.heiIndex, "heading-font-index", 0, "member of a .ttc heading font")
	fs.Float64Var(&s.sealDiameter, "seal-diameter", 0, "seal diameter in mm (default 42)")
	fs.StringVar(&s.location, "signing-location", "", "location shown with the signature (ASCII)")
	fs.StringVar(&s.tsaURL, "tsa", "", "RFC 3161 time-stamping authority `URL`: timestamp every signature (PAdES B-T) and embed chains and CRLs (B-LT)")
	fs.StringVar(&s.tsaCA, "tsa-ca", "", "`file` (PEM) of the TSA's root and intermediates, checked at signing and embedded in the file")
	fs.StringVar(&s.tsaUser, "tsa-user", "", "user name for a TSA that wants HTTP basic authentication")
	fs.StringVar(&s.tsaPassword, "tsa-password", "", "password for the TSA (prefer the environment: BLINDPACK_TSA_PASSWORD)")
	fs.DurationVar(&s.tsaTimeout, "tsa-timeout", 30*time.Second, "how long to wait for the TSA and for each CRL fetched")
	fs.StringVar(&s.signerCRL, "signer-crl", "", "CRL `file` (DER or PEM) of the signer's CA to embed; default: --keys DIR/ca.crl, else fetched from the certificate's distribution point")
}

// crls reads the CRLs to embed: --signer-crl, else a key directory's.
func (s *signerFlags) crls() ([][]byte, error) {
	path := s.signerCRL
	if path == "" && s.keysDir != "" {
		path = filepath.Join(s.keysDir, result.CRLFile)
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, nil // a key directory made before CRLs were kept
		}
	}
	if path == "" {
		return nil, nil
	}
	c, err := readCRL(path)
	if err != nil {
		return nil, err
	}
	return [][]byte{c}, nil
}

// readCRL reads a CRL file, DER or PEM ("X509 CRL").
func readCRL(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if b, _ := pem.Decode(data); b != nil {
		if b.Type != "X509 CRL" {
			return nil, fmt.Errorf("%s: PEM block %q, want X509 CRL", path, b.Type)
		}
		data = b.Bytes
	}
	return data, nil
}

// tsa builds the TSA configuration from the flags.
func (s *signerFlags) tsa() (result.TSAConfig, error) {
	c := result.TSAConfig{URL: s.tsaURL, Username: s.tsaUser, Password: s.tsaPassword, Timeout: s.tsaTimeout}
	if s.tsaCA != "" {
		if s.tsaURL == "" {
			return c, errors.New("--tsa-ca needs --tsa")
		}
		data, err := os.ReadFile(s.tsaCA)
		if err != nil {
			return c, err
		}
		if c.Roots, err = result.ParseCertificates(data); err != nil {
			return c, err
		}
		if len(c.Roots) == 0 {
			return c, fmt.Errorf("%s: no certificate", s.tsaCA)
		}
	}
	return c, nil
}

// signer loads the signing key from exactly one of the sources.
func (s *signerFlags) signer() (*result.Signer, error) {
	n := 0
	for _, set := range []bool{s.keysDir != "", s.certFile != "" || s.keyFile != "", s.p12File != ""} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		return nil, errors.New("no signing key: give --keys DIR (development), --signer-cert and --signer-key, or --signer-p12")
	case n > 1:
		return nil, errors.New("give only one of --keys, --signer-cert/--signer-key and --signer-p12")
	case s.keysDir != "":
		return result.LoadKeyDir(s.keysDir)
	case s.p12File != "":
		data, err := os.ReadFile(s.p12File)
		if err != nil {
			return nil, err
		}
		pw := s.p12Password
		if s.p12PassFile != "" {
			b, err := os.ReadFile(s.p12PassFile)
			if err != nil {
				return nil, err
			}
			pw = strings.TrimRight(string(b), "\r\n")
		}
		return result.LoadSignerPKCS12(data, pw)
	}
	if s.certFile == "" || s.keyFile == "" {
		return nil, errors.New("--signer-cert and --signer-key go together")
	}
	cert, err := os.ReadFile(s.certFile)
	if err != nil {
		return nil, err
	}
	key, err := os.ReadFile(s.keyFile)
	if err != nil {
		return nil, err
	}
	return result.LoadSignerPEM(cert, key)
}

// issuer builds the result issuer from the flags.
func (s *signerFlags) issuer(log *slog.Logger) (*result.Issuer, error) {
	signer, err := s.signer()
	if err != nil {
		return nil, err
	}
	fonts, err := result.LoadFonts(result.FontConfig{SongFile: s.songFont, SongIndex: s.songIndex, HeiFile: s.heiFont, HeiIndex: s.heiIndex})
	if err != nil {
		return nil, err
	}
	if !strings.Contains(fonts.SongPath, "uming") && s.songFont == "" {
		log.Warn("AR PL UMing not found: setting the body in WenQuanYi Zen Hei; apt-get install fonts-arphic-uming for a Song face", "font", fonts.SongPath)
	}
	tsa, err := s.tsa()
	if err != nil {
		return nil, err
	}
	crls, err := s.crls()
	if err != nil {
		return nil, err
	}
	if tsa.URL == "" {
		log.Warn("no --tsa: result files carry the signer's claimed time only (PAdES B-B), not a trusted timestamp")
	}
	return result.NewIssuer(result.Config{Fonts: fonts, Signer: signer, SealDiameter: s.sealDiameter, Location: s.location,
		TSA: tsa, CRLs: crls, Log: log})
}

// runResult dispatches `blindpack result issue|certificates|enqueue`. The
// subcommand comes first (each has flags of its own); its flags follow in
// any order.
func runResult(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return exitError{code: 2, err: errors.New("usage: blindpack result issue --batch B.json --keys DIR --out result.pdf | result certificates --batch B.json --keys DIR --out DIR | result enqueue --batch B.json [flags]")}
	}
	switch args[0] {
	case "issue":
		return runResultIssue(ctx, args[1:])
	case "certificates":
		return runResultCertificates(ctx, args[1:])
	case "enqueue":
		return runResultEnqueue(ctx, args[1:])
	}
	return exitError{code: 2, err: fmt.Errorf("result: unknown subcommand %q (want issue, certificates or enqueue)", args[0])}
}

// writeSigned writes a signed file through a temporary name and renames
// it: a half-written or unsigned file never sits at the output path.
func writeSigned(path string, issue func(io.Writer) (result.Issued, error)) (result.Issued, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".result-*.pdf")
	if err != nil {
		return result.Issued{}, err
	}
	defer os.Remove(tmp.Name())
	info, err := issue(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	return info, err
}

// resultJob is what `result issue` and `result certificates` share: the
// signer's flags, a batch and where to write.
type resultJob struct {
	batch  *result.Batch
	issuer *result.Issuer
	out    string
}

// parseResultJob reads the flags of a `result` subcommand that signs
// locally, the batch, and builds the issuer.
func parseResultJob(name, outUsage string, args []string) (resultJob, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	var sf signerFlags
	sf.register(fs)
	batchFile := fs.String("batch", "", "batch `file` (blindpack/batch@1)")
	out := fs.String("out", "", outUsage)
	logFormat := fs.String("log-format", "text", "log format: json or text")
	if err := parseFlags(fs, args); err != nil {
		return resultJob{}, exitError{code: 2, err: err}
	}
	if *batchFile == "" || *out == "" {
		fs.Usage()
		return resultJob{}, exitError{code: 2, err: errors.New("--batch and --out are required")}
	}
	c := common{logFormat: *logFormat, logLevel: "info"}
	log, err := c.logger(os.Stderr)
	if err != nil {
		return resultJob{}, err
	}
	doc, err := os.ReadFile(*batchFile)
	if err != nil {
		return resultJob{}, err
	}
	b, err := result.ParseBatch(doc)
	if err != nil {
		return resultJob{}, err
	}
	is, err := sf.issuer(log)
	if err != nil {
		return resultJob{}, err
	}
	return resultJob{batch: b, issuer: is, out: *out}, nil
}

// runResultCertificates makes one signed certificate page per approved
// person of a batch: DIR/001-张三.pdf, … in the batch's order.
func runResultCertificates(ctx context.Context, args []string) error {
	job, err := parseResultJob("result certificates", "`directory` for the certificates (made if missing)", args)
	if err != nil {
		return err
	}
	b := job.batch
	if err := os.MkdirAll(job.out, 0o755); err != nil {
		return err
	}
	for i, p := range b.Approved {
		name := fmt.Sprintf("%03d-%s.pdf", i+1, strings.Map(func(r rune) rune {
			if strings.ContainsRune(`/\:*?"<>|`, r) || r < ' ' {
				return '_'
			}
			return r
		}, p.Name))
		path := filepath.Join(job.out, name)
		if _, err := writeSigned(path, func(w io.Writer) (result.Issued, error) { return job.issuer.IssueCertificate(ctx, b, i, w) }); err != nil {
			return fmt.Errorf("certificate %d of %d: %w", i+1, len(b.Approved), err)
		}
	}
	fmt.Printf("issued %d certificates of %s in %s\n", len(b.Approved), b.DocNumber, job.out)
	return nil
}

func runResultIssue(ctx context.Context, args []string) error {
	job, err := parseResultJob("result issue", "signed result `file` to write", args)
	if err != nil {
		return err
	}
	b, out := job.batch, &job.out
	info, err := writeSigned(*out, func(w io.Writer) (result.Issued, error) { return job.issuer.Issue(ctx, b, w) })
	if err != nil {
		return err
	}
	fmt.Printf("issued: %s\n  %s, %d persons, %d page(s), %d bytes\n  sha256 %s\n  signed by %q\n",
		*out, b.DocNumber, len(b.Approved), info.Pages, info.Bytes, info.SHA256, info.Signer)
	if !info.Timestamp.IsZero() {
		fmt.Printf("  timestamp %s by %q\n", info.Timestamp.UTC().Format(time.RFC3339), info.TSA)
	}
	fmt.Printf("  PAdES %s\n", info.Level)
	return nil
}

// runResultEnqueue is what an administrator runs in production: the batch
// goes to the uploads bucket and a worker with the signing keys issues it
// into the results bucket.
func runResultEnqueue(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("result enqueue", flag.ContinueOnError)
	var s services
	s.register(fs)
	batchFile := fs.String("batch", "", "batch `file` (blindpack/batch@1)")
	if err := parseFlags(fs, args); err != nil {
		return exitError{code: 2, err: err}
	}
	if *batchFile == "" {
		return exitError{code: 2, err: errors.New("--batch is required")}
	}
	doc, err := os.ReadFile(*batchFile)
	if err != nil {
		return err
	}
	if _, err := result.ParseBatch(doc); err != nil {
		return err
	}
	buckets, err := s.openBuckets(ctx)
	if err != nil {
		return err
	}
	client := asynq.NewClient(s.redis())
	defer client.Close()
	sub := workers.ResultSubmitter{Uploads: buckets.Uploads, Client: client}
	p, err := sub.Submit(ctx, doc)
	if err != nil {
		return err
	}
	fmt.Printf("queued: %s\nsigned file will be at %s/%s\n", p.BatchKey, s.buckets.Results, p.OutputKey)
	return nil
}

// runKeys runs `blindpack keys init|revoke`: one flag set, the
// subcommand an argument anywhere among the flags, as every command takes
// them; a flag of the other subcommand is refused.
func runKeys(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("keys", flag.ContinueOnError)
	dir := fs.String("dir", "", "development key `directory`: init writes ca.pem, ca.key, ca.crl, signer.pem and signer.key (made mode 0700)")
	org := fs.String("org", "", "init: organisation in the certificates (default \"blindpack development\")")
	name := fs.String("name", "", "init: signer's common name (default \"blindpack development signer\")")
	force := fs.Bool("force", false, "init: replace existing files")
	serialHex := fs.String("serial", "", "revoke: serial number (hex) of the certificate to revoke (default: the directory's signer)")
	reason := fs.String("reason", "unspecified", "revoke: RFC 5280 reason: unspecified, keyCompromise, caCompromise, affiliationChanged, superseded, cessationOfOperation")
	var at, compromised clockFlag // RFC 3339 times, as --clock is
	fs.Var(&at, "at", "revoke: revocation `time` (RFC 3339; default now)")
	fs.Var(&compromised, "compromised-at", "revoke: invalidity `time` (RFC 3339): when the key was compromised; signatures timestamped after it are invalid")
	usage := exitError{code: 2, err: errors.New("usage: blindpack keys init --dir DIR [--force] | keys revoke --dir DIR [--serial HEX] [--reason R] [--compromised-at TIME]")}
	if err := parse(fs, args); err != nil {
		return exitError{code: 2, err: err}
	}
	if fs.NArg() != 1 || (fs.Arg(0) != "init" && fs.Arg(0) != "revoke") {
		return usage
	}
	sub := fs.Arg(0)
	var wrong []string
	fs.Visit(func(f *flag.Flag) {
		if f.Name != "dir" && !strings.HasPrefix(f.Usage, sub+":") {
			wrong = append(wrong, "--"+f.Name)
		}
	})
	if len(wrong) > 0 {
		return exitError{code: 2, err: fmt.Errorf("keys %s does not take %s", sub, strings.Join(wrong, ", "))}
	}
	if *dir == "" {
		return exitError{code: 2, err: errors.New("--dir is required")}
	}
	if sub == "init" {
		if err := result.GenerateDevKeys(*dir, result.DevKeyOptions{Organization: *org, SignerName: *name, Force: *force}); err != nil {
			return err
		}
		fmt.Printf("wrote %s (root CA: give it to `blindpack verify --ca`), %s (its CRL), %s and %s (mode 0600)\n",
			filepath.Join(*dir, result.CAFile), filepath.Join(*dir, result.CRLFile), filepath.Join(*dir, result.SignerCertFile), filepath.Join(*dir, result.SignerKeyFile))
		fmt.Println("These keys are for development: nobody else trusts this root. Its key (ca.key, 0600) signs the CRL that `keys revoke` updates.")
		return nil
	}
	code, ok := result.CRLReasons[*reason]
	if !ok {
		return exitError{code: 2, err: fmt.Errorf("--reason %q: unknown", *reason)}
	}
	o := result.RevokeOptions{Now: at.at, Reason: code, CompromisedAt: compromised.at}
	if *serialHex != "" {
		n, ok := new(big.Int).SetString(strings.TrimPrefix(strings.ReplaceAll(*serialHex, ":", ""), "0x"), 16)
		if !ok {
			return exitError{code: 2, err: fmt.Errorf("--serial %q: not hexadecimal", *serialHex)}
		}
		o.Serial = n
	}
	der, err := result.RevokeDev(*dir, o)
	if err != nil {
		return err
	}
	l, err := x509.ParseRevocationList(der)
	if err != nil {
		return err
	}
	fmt.Printf("revoked; %s is now CRL number %v with %d revoked certificate(s), next update %s\n",
		filepath.Join(*dir, result.CRLFile), l.Number, len(l.RevokedCertificateEntries), l.NextUpdate.UTC().Format(time.RFC3339))
	fmt.Println("Files signed and timestamped before the revocation (or the compromise time) stay valid: check them with `blindpack verify --crl " + filepath.Join(*dir, result.CRLFile) + "`.")
	return nil
}

// errNotValid is the error of a result file that failed verification; the
// report already says why.
var errNotValid = errors.New("verify: the file's signature is NOT valid")

// verifyOptions are the trust settings of `blindpack verify` for signed
// result files.
type verifyOptions struct {
	caFile    string
	tsaCAFile string
	crlFiles  []string
}

// verifyResult checks the signature of a signed result file and prints the
// report to w. o.caFile names the trusted root (PEM); empty means the
// system's roots. It returns result.ErrUnsigned (wrapped) for a file
// without a signature, and an error for any failed check. It never uses
// the network.
func verifyResult(ctx context.Context, path string, o verifyOptions, w io.Writer) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var opts result.VerifyOptions
	if o.caFile != "" {
		pemData, err := os.ReadFile(o.caFile)
		if err != nil {
			return err
		}
		if opts.Roots, err = result.CertPool(pemData); err != nil {
			return err
		}
		opts.RootsName = o.caFile
	}
	if o.tsaCAFile != "" {
		pemData, err := os.ReadFile(o.tsaCAFile)
		if err != nil {
			return err
		}
		if opts.TSARoots, err = result.CertPool(pemData); err != nil {
			return err
		}
	}
	for _, f := range o.crlFiles {
		c, err := readCRL(f)
		if err != nil {
			return err
		}
		opts.CRLs = append(opts.CRLs, c)
	}
	v, err := result.Verify(data, opts)
	if err != nil {
		return fmt.Errorf("verify %s: %w", path, err)
	}
	fmt.Fprintf(w, "%s\n", path)
	if err := v.Write(w); err != nil {
		return err
	}
	if !v.OK() {
		return errNotValid
	}
	return nil
}
