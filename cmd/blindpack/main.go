// Command blindpack is the document pipeline for blind review of
// professional-title applications: it checks uploaded scans, burns in the
// applicants' masks and assembles masked review packets, in-process or as
// queue workers. Run `blindpack help` for the commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// exitRejected is the exit status of `process` for a submission that was
// rejected or refused: the run worked, the submission did not pass.
const exitRejected = 3

type command struct {
	name, args, summary string
	run                 func(ctx context.Context, args []string) error
	// dev marks a development command, built only with -tags dev
	// (devcmds.go).
	dev bool
}

var commands []command

func init() {
	commands = []command{
		{"process", "--submission S.json --input DIR --out DIR", "run the whole pipeline in-process on one submission, no services", runProcess, false},
		{"demo", "[--out DIR]", "process the sample submissions through the real queue code on an embedded Redis and a local directory", runDemo, true},
		{"worker", "[flags]", "run a queue worker against Redis and S3", runWorker, false},
		{"submit", "S.json [--api URL --token-file F] [flags]", "enqueue a submission: through the HTTP API, or straight to the uploads bucket and the queue", runSubmit, false},
		{"status", "APPLICANT_ID --campaign C | SUBMISSION_ID", "an application's state, returns used, deadline, last report and audit trail", runStatus, false},
		{"reprocess", "SUBMISSION_ID --by ADMIN [--accept-page M:P --reason TEXT]", "run a submission again, optionally accepting flagged pages (audited)", runReprocess, false},
		{"tasks", "failed [--queue Q] | rerun TASK_ID [--queue Q]", "list failed (archived) tasks of every queue (or one), or run one again", runTasks, false},
		{"sample", "--campaign C --rate R --by ADMIN [--seed HEX]", "draw the paper spot-check sample of accepted applicants, reproducibly, the seed audited first", runSample, false},
		{"serve", "--tokens FILE [--listen ADDR] [flags]", "the HTTP API: upload service, administrators, reviewers' stamped downloads", runServe, false},
		{"users", "list | add NAME --role ROLE --by ADMIN | disable|enable|reset-password|reset-totp|unlock NAME --by ADMIN | audit", "accounts of administrators and reviewers for the web pages (password + second factor); changes take effect at once", runUsers, false},
		{"tokens", "new --role ROLE --subject WHO | hash < TOKEN", "make an API bearer token and its tokens-file entry (only the hash is stored)", runTokens, false},
		{"webhooks", "secret | check FILE", "make a webhook signing secret (whsec_…), or check a webhooks file", runWebhooks, false},
		{"calibrate", "[--policy FILE]", "print how the clarity thresholds do on the labelled synthetic set", runCalibrate, true},
		{"bench", "[--applicants N --pages N --masked N --ppi N]", "time blindpack against an ImageMagick/img2pdf/qpdf pipeline and the libjpeg-turbo floor on a generated workload", runBench, true},
		{"ocr", "--packet P.pdf --submission S.json --report R.json", "read a packet with OCR and list where the name or employer is still visible (exit 1 if anywhere)", runOCR, false},
		{"masks", "suggest FILE --name N --employer E [--no-ocr]", "where the name and employer are in a file, as masks (JSON) for the masking tool to pre-fill: text layers exactly, OCR otherwise", runMasks, false},
		{"verify", "FILE.pdf [--ca ROOT.pem] [--crl CA.crl]", "check a signed result file offline: signature, coverage, chain, timestamp, revocation", runVerify, false},
		{"result", "issue --batch B.json --keys DIR --out result.pdf | certificates … --out DIR | enqueue --batch B.json", "lay out, seal and sign the red-header approval file of a batch (or queue it), or one certificate per person", runResult, false},
		{"keys", "init --dir DIR | revoke --dir DIR [--compromised-at T]", "make a development root CA, signing certificate and CRL, or revoke in that CRL", runKeys, false},
	}
}

// exitError carries an exit status other than 1.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e exitError) Unwrap() error { return e.err }

func usage() {
	fmt.Fprintln(os.Stderr, "usage: blindpack <command> [arguments]\n\ncommands:")
	for _, c := range commands {
		summary := c.summary
		if c.dev && !devBuild {
			summary += " (development build only: make demo / make bench)"
		}
		fmt.Fprintf(os.Stderr, "  %-8s %s\n           %s\n", c.name, c.args, summary)
	}
	fmt.Fprintln(os.Stderr, "\nRun `blindpack <command> -h` for a command's flags. Flags may come before or after a")
	fmt.Fprintln(os.Stderr, "command's arguments (`--` ends them); every flag can also be set from the environment")
	fmt.Fprintln(os.Stderr, "as BLINDPACK_<FLAG> (dashes become underscores).")
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "help" || os.Args[1] == "-h" || os.Args[1] == "--help" {
		usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	for _, c := range commands {
		if c.name != os.Args[1] {
			continue
		}
		err := c.run(ctx, os.Args[2:])
		var ee exitError
		switch {
		case err == nil:
			return
		case errors.As(err, &ee):
			if ee.err != nil {
				fmt.Fprintln(os.Stderr, "blindpack:", ee.err)
			}
			os.Exit(ee.code)
		default:
			fmt.Fprintln(os.Stderr, "blindpack:", err)
			os.Exit(1)
		}
	}
	fmt.Fprintf(os.Stderr, "blindpack: unknown command %q\n\n", os.Args[1])
	usage()
	os.Exit(2)
}
