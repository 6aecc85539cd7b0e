package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

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
	return result.NewIssuer(result.Config{Fonts: fonts, Signer: signer, SealDiameter: s.sealDiameter, Location: s.location, Log: log})
}

// runResult dispatches `blindpack result issue|enqueue`. The subcommand
// comes first (each has flags of its own); its flags follow in any order.
func runResult(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return exitError{code: 2, err: errors.New("usage: blindpack result issue --batch B.json --keys DIR --out result.pdf | result enqueue --batch B.json [flags]")}
	}
	switch args[0] {
	case "issue":
		return runResultIssue(ctx, args[1:])
	case "enqueue":
		return runResultEnqueue(ctx, args[1:])
	}
	return exitError{code: 2, err: fmt.Errorf("result: unknown subcommand %q (want issue or enqueue)", args[0])}
}

func runResultIssue(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("result issue", flag.ContinueOnError)
	var sf signerFlags
	sf.register(fs)
	batchFile := fs.String("batch", "", "batch `file` (blindpack/batch@1)")
	out := fs.String("out", "", "signed result `file` to write")
	logFormat := fs.String("log-format", "text", "log format: json or text")
	if err := parseFlags(fs, args); err != nil {
		return exitError{code: 2, err: err}
	}
	if *batchFile == "" || *out == "" {
		fs.Usage()
		return exitError{code: 2, err: errors.New("--batch and --out are required")}
	}
	c := common{logFormat: *logFormat, logLevel: "info"}
	log, err := c.logger(os.Stderr)
	if err != nil {
		return err
	}
	doc, err := os.ReadFile(*batchFile)
	if err != nil {
		return err
	}
	b, err := result.ParseBatch(doc)
	if err != nil {
		return err
	}
	is, err := sf.issuer(log)
	if err != nil {
		return err
	}
	// Written under a temporary name and renamed: a half-written or
	// unsigned file never sits at the output path.
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".result-*.pdf")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	info, err := is.Issue(ctx, b, tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return err
	}
	fmt.Printf("issued: %s\n  %s, %d persons, %d page(s), %d bytes\n  sha256 %s\n  signed by %q\n",
		*out, b.DocNumber, len(b.Approved), info.Pages, info.Bytes, info.SHA256, info.Signer)
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

// runKeys dispatches `blindpack keys init`.
func runKeys(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("keys", flag.ContinueOnError)
	dir := fs.String("dir", "", "`directory` for ca.pem, signer.pem and signer.key (made mode 0700)")
	org := fs.String("org", "", "organisation in the certificates (default \"blindpack development\")")
	name := fs.String("name", "", "signer's common name (default \"blindpack development signer\")")
	force := fs.Bool("force", false, "replace existing files")
	if err := parse(fs, args); err != nil {
		return exitError{code: 2, err: err}
	}
	if fs.NArg() != 1 || fs.Arg(0) != "init" {
		return exitError{code: 2, err: errors.New("usage: blindpack keys init --dir DIR [--force]")}
	}
	if *dir == "" {
		return exitError{code: 2, err: errors.New("--dir is required")}
	}
	if err := result.GenerateDevKeys(*dir, result.DevKeyOptions{Organization: *org, SignerName: *name, Force: *force}); err != nil {
		return err
	}
	fmt.Printf("wrote %s (root CA: give it to `blindpack verify --ca`), %s and %s (mode 0600)\n",
		filepath.Join(*dir, result.CAFile), filepath.Join(*dir, result.SignerCertFile), filepath.Join(*dir, result.SignerKeyFile))
	fmt.Println("These keys are for development: the root's private key was not kept, and nobody else trusts it.")
	return nil
}

// errNotValid is the error of a result file that failed verification; the
// report already says why.
var errNotValid = errors.New("verify: the file's signature is NOT valid")

// verifyResult checks the signature of a signed result file and prints the
// report to w. caFile names the trusted root (PEM); empty means the
// system's roots. It returns result.ErrUnsigned (wrapped) for a file
// without a signature, and an error for any failed check.
func verifyResult(ctx context.Context, path, caFile string, w io.Writer) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var opts result.VerifyOptions
	if caFile != "" {
		pemData, err := os.ReadFile(caFile)
		if err != nil {
			return err
		}
		if opts.Roots, err = result.CertPool(pemData); err != nil {
			return err
		}
		opts.RootsName = caFile
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
