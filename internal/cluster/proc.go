package cluster

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Proc is one external process that can be killed and started again with
// the same command line. Its output goes to a log file.
type Proc struct {
	name    string
	path    string
	args    []string
	env     []string
	logPath string

	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{}
	killing bool
	// cpu is the CPU time of every incarnation that has exited.
	cpu time.Duration
	// starts counts incarnations; unexpected counts those that exited
	// without being killed or stopped by us.
	starts, unexpected int
}

// Start starts a new incarnation. It is an error to start a running Proc.
func (p *Proc) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return fmt.Errorf("cluster: %s is already running (pid %d)", p.name, p.cmd.Process.Pid)
	}
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(p.path, p.args...)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = logf, logf
	// The child dies with us, whatever way we end.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("cluster: start %s: %w", p.name, err)
	}
	done := make(chan struct{})
	p.cmd, p.done, p.killing = cmd, done, false
	p.starts++
	go func() {
		cmd.Wait()
		logf.Close()
		p.mu.Lock()
		if ps := cmd.ProcessState; ps != nil {
			p.cpu += ps.UserTime() + ps.SystemTime()
		}
		if !p.killing {
			p.unexpected++
		}
		p.cmd = nil
		p.mu.Unlock()
		close(done)
	}()
	return nil
}

// Kill sends SIGKILL and waits for the process to be gone. Killing a
// stopped Proc does nothing.
func (p *Proc) Kill() error { return p.signal(syscall.SIGKILL, 0) }

// Stop sends SIGTERM and waits up to grace for the process to exit, then
// kills it.
func (p *Proc) Stop(grace time.Duration) error { return p.signal(syscall.SIGTERM, grace) }

func (p *Proc) signal(sig syscall.Signal, grace time.Duration) error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	if cmd == nil {
		p.mu.Unlock()
		return nil
	}
	p.killing = true
	p.mu.Unlock()
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("cluster: signal %s: %w", p.name, err)
	}
	if sig == syscall.SIGKILL {
		<-done
		return nil
	}
	select {
	case <-done:
	case <-time.After(grace):
		cmd.Process.Kill()
		<-done
	}
	return nil
}

// Running reports whether an incarnation is running.
func (p *Proc) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil
}

// PID returns the process id of the running incarnation, or 0.
func (p *Proc) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Starts is how many times the Proc was started.
func (p *Proc) Starts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.starts
}

// Unexpected is how many incarnations exited on their own: crashes.
func (p *Proc) Unexpected() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.unexpected
}

// CPU is the CPU time (user + system) used by every incarnation so far,
// the running one included (read from /proc).
func (p *Proc) CPU() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.cpu
	if p.cmd != nil {
		d += procCPU(p.cmd.Process.Pid)
	}
	return d
}

// LogPath is the file the process writes its output to.
func (p *Proc) LogPath() string { return p.logPath }

// clockTicks is USER_HZ, the unit of /proc/PID/stat times: 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// procCPU reads utime + stime of a running process.
func procCPU(pid int) time.Duration {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name is in parentheses and may hold spaces.
	s := string(data)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) < 13 { // fields 3…: state is f[0], utime f[11], stime f[12]
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTicks
}

// freePort asks the kernel for a loopback port nobody listens on.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitPort waits until something accepts connections on addr, or the
// process exits, or timeout passes.
func waitPort(p *Proc, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if !p.Running() {
			return fmt.Errorf("cluster: %s exited before listening on %s (log: %s)", p.name, addr, p.logPath)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster: %s not listening on %s after %s (log: %s)", p.name, addr, timeout, p.logPath)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cleanEnv is our environment without any BLINDPACK_ variable, so that
// what a child is told comes from us alone.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BLINDPACK_") {
			env = append(env, kv)
		}
	}
	return env
}
