// Package transport runs commands and moves files on the hosts backupctl
// manages: this machine (local) or a remote one over SSH. Every command is an
// argv; values are always quoted as data, never glued into a shell string.
package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// DefaultMaxOutput caps how much of stdout and of stderr a Run captures when
// the caller gives no writer of its own.
const DefaultMaxOutput = 16 << 20

// Command is one program invocation.
type Command struct {
	// Argv is the program and its arguments. Argv[0] is looked up in PATH.
	Argv []string
	// Env adds variables for this command only (on top of the host's env).
	Env map[string]string
	// Dir, when set, is the working directory.
	Dir string
	// Stdin, when set, is streamed to the command's standard input, which
	// is closed at its EOF. When reading it fails, the command is killed
	// before it could take the cut stream for a complete one, and Run
	// returns that error. Run does not wait for a Read that blocks after
	// the command ended.
	Stdin io.Reader
	// Stdout and Stderr, when set, receive the streams as they come; the
	// Result then holds nothing for that stream.
	Stdout io.Writer
	Stderr io.Writer
	// MaxOutput caps each captured stream (DefaultMaxOutput when 0).
	MaxOutput int64
	// Secrets are masked in anything logged about this command.
	Secrets []string
}

// Shell returns a Command that runs script with /bin/sh -c. The script is a
// user-written command (stop, start, verify...), passed as one argument.
func Shell(script string) Command {
	return Command{Argv: []string{"/bin/sh", "-c", script}}
}

// Result is what a finished command left behind.
type Result struct {
	Stdout     []byte
	Stderr     []byte
	ExitStatus int
	// Truncated reports that a captured stream went past MaxOutput.
	Truncated bool
}

// Err returns an *ExitError when the command exited non-zero.
func (r Result) Err(host string, argv []string) error {
	if r.ExitStatus == 0 {
		return nil
	}
	return &ExitError{Host: host, Argv: argv, Status: r.ExitStatus, Stdout: string(r.Stdout), Stderr: string(r.Stderr)}
}

// ExitError is a command that ran and failed.
type ExitError struct {
	Host   string
	Argv   []string
	Status int
	Stdout string
	Stderr string
}

func (e *ExitError) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if msg == "" {
		msg = strings.TrimSpace(e.Stdout)
	}
	if len(msg) > 2000 {
		msg = msg[:2000] + "..."
	}
	prog := ""
	if len(e.Argv) > 0 {
		prog = e.Argv[0]
		if prog == "/bin/sh" && len(e.Argv) > 2 {
			prog = e.Argv[2]
			if len(prog) > 120 {
				prog = prog[:120] + "..."
			}
		}
	}
	if msg == "" {
		return fmt.Sprintf("host %q: %s exited with status %d", e.Host, prog, e.Status)
	}
	return fmt.Sprintf("host %q: %s exited with status %d: %s", e.Host, prog, e.Status, msg)
}

// ErrHostKey is wrapped by host key verification failures.
var ErrHostKey = errors.New("host key verification failed")

// ErrConnection is wrapped by failures of the connection itself: the host
// could not be reached, the connection broke or the server dropped a
// session. Not by refusals (host key, authentication) nor by what a
// command reported. A read-only command that failed so may be run again.
var ErrConnection = errors.New("connection failed")

// connFailed marks err as a connection failure, its message unchanged.
func connFailed(err error) error { return &connError{err} }

type connError struct{ err error }

func (e *connError) Error() string   { return e.err.Error() }
func (e *connError) Unwrap() []error { return []error{e.err, ErrConnection} }

// Transport runs commands and moves files on one host. Implementations are
// safe for concurrent use.
type Transport interface {
	// Host is the configured name of the host ("local", "gds1"...).
	Host() string
	// Run runs cmd and waits for it. A non-nil error means the command could
	// not be run or was cut short (context, connection); a command that ran
	// and exited non-zero returns a nil error and its status in Result.
	// When ctx ends first the command's process group is killed; a ctx
	// already done runs nothing.
	Run(ctx context.Context, cmd Command) (Result, error)
	// Put writes r to path (mode as given, e.g. 0o600), replacing it.
	Put(ctx context.Context, path string, r io.Reader, mode uint32) error
	// Get copies the file at path into w.
	Get(ctx context.Context, path string, w io.Writer) error
	// Close releases connections. Further use reconnects.
	Close() error
}

// RunOK runs cmd and turns a non-zero exit into an *ExitError.
func RunOK(ctx context.Context, t Transport, cmd Command) (Result, error) {
	res, err := t.Run(ctx, cmd)
	if err != nil {
		return res, err
	}
	return res, res.Err(t.Host(), cmd.Argv)
}

// capWriter keeps at most max bytes and counts the rest.
type capWriter struct {
	buf       []byte
	max       int64
	truncated bool
}

func (w *capWriter) Write(p []byte) (int, error) {
	room := w.max - int64(len(w.buf))
	if room <= 0 {
		w.truncated = w.truncated || len(p) > 0
		return len(p), nil
	}
	if int64(len(p)) > room {
		w.buf = append(w.buf, p[:room]...)
		w.truncated = true
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// outputs prepares the stdout/stderr writers for cmd; collect fills res.
func outputs(cmd Command) (stdout, stderr io.Writer, collect func(*Result)) {
	limit := cmd.MaxOutput
	if limit <= 0 {
		limit = DefaultMaxOutput
	}
	var so, se *capWriter
	stdout, stderr = cmd.Stdout, cmd.Stderr
	if stdout == nil {
		so = &capWriter{max: limit}
		stdout = so
	}
	if stderr == nil {
		se = &capWriter{max: limit}
		stderr = se
	}
	return stdout, stderr, func(r *Result) {
		if so != nil {
			r.Stdout = so.buf
			r.Truncated = r.Truncated || so.truncated
		}
		if se != nil {
			r.Stderr = se.buf
			r.Truncated = r.Truncated || se.truncated
		}
	}
}

// Wrapper is a Transport that adds behaviour (logging, counting) around
// another one.
type Wrapper interface {
	Transport
	Unwrap() Transport
}

// Base returns the innermost transport under any Wrappers, so that code
// which takes a shortcut for one implementation (plain system calls on the
// local host) still sees it through a logging wrapper.
func Base(t Transport) Transport {
	for {
		w, ok := t.(Wrapper)
		if !ok {
			return t
		}
		t = w.Unwrap()
	}
}
