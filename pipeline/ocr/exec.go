package ocr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"time"
)

// tool is an external program run once per call, the way gotenberg runs
// its converters: in a process group of its own, so that cancelling ctx
// kills it and everything it started, with stderr kept for the error.
type tool struct {
	op   string // operation name for errors: "tesseract", "pdftoppm"
	path string
	args []string
	// env is added to the inherited environment.
	env []string
	// maxOut bounds stdout; a program writing more is killed.
	maxOut int64
}

// stderrTail is how much of a tool's stderr an error keeps: enough for its
// message, not for a flood of warnings.
const stderrTail = 2048

// waitDelay is how long a killed tool's pipes may stay open before Wait
// gives up on them (a grandchild holding them, say).
const waitDelay = 2 * time.Second

func (t tool) run(ctx context.Context, stdin io.Reader) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("ocr: %s: %w", t.op, err)
	}
	cmd := exec.CommandContext(ctx, t.path, t.args...)
	cmd.Stdin = stdin
	out := &capWriter{max: t.maxOut}
	errTail := &tailWriter{max: stderrTail}
	cmd.Stdout, cmd.Stderr = out, errTail
	if len(t.env) > 0 {
		// Passing the environment through unchanged is not reading
		// configuration: the tools need PATH, locale and TESSDATA_PREFIX
		// exactly as the worker was started with.
		cmd.Env = append(os.Environ(), t.env...)
	}
	ownProcessGroup(cmd)
	cmd.WaitDelay = waitDelay
	err := cmd.Run()
	switch {
	case errors.Is(err, exec.ErrNotFound), cmd.Process == nil && errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%w: %s: %v", ErrToolMissing, t.op, err)
	case ctx.Err() != nil:
		// Killed because the context ended: say so, rather than "signal:
		// killed", so that callers can tell a timeout from a crash.
		return nil, &ToolError{Op: t.op, Err: ctx.Err(), Stderr: errTail.String()}
	case out.overflow:
		return nil, &ToolError{Op: t.op, Err: fmt.Errorf("%w: more than %d bytes of output", ErrPageTooLarge, t.maxOut), Stderr: errTail.String()}
	case err != nil:
		return nil, &ToolError{Op: t.op, Err: err, Stderr: errTail.String()}
	}
	return out.buf.Bytes(), nil
}

// capWriter keeps at most max bytes and then fails the write, which makes
// exec stop copying and the tool die of a closed pipe.
type capWriter struct {
	buf      bytes.Buffer
	max      int64
	overflow bool
}

func (w *capWriter) Write(p []byte) (int, error) {
	if w.max > 0 && int64(w.buf.Len()+len(p)) > w.max {
		w.overflow = true
		return 0, errors.New("output limit reached")
	}
	return w.buf.Write(p)
}

// tailWriter keeps the last max bytes written to it.
type tailWriter struct {
	buf []byte
	max int
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	if len(w.buf) > w.max {
		w.buf = append(w.buf[:0], w.buf[len(w.buf)-w.max:]...)
	}
	return len(p), nil
}

func (w *tailWriter) String() string { return string(bytes.ToValidUTF8(w.buf, nil)) }
