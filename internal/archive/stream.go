package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// directLocal reports whether t is this machine without sudo, where files
// are read and written with plain system calls instead of commands.
func directLocal(t transport.Transport) bool {
	l, ok := transport.Base(t).(*transport.Local)
	return ok && !l.Sudo
}

// exitMissing is the status the scripts below use for "no such file".
const exitMissing = 44

// cmdReader streams a command's stdout. When the command fails, the reader
// returns its error instead of io.EOF, so a truncated stream is never
// mistaken for a complete one.
type cmdReader struct {
	pr     *io.PipeReader
	cancel context.CancelFunc
	done   chan error
	err    error
	waited bool
}

func startReader(ctx context.Context, t transport.Transport, cmd transport.Command, what string) *cmdReader {
	ctx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	r := &cmdReader{pr: pr, cancel: cancel, done: make(chan error, 1)}
	cmd.Stdout = pw
	go func() {
		res, err := t.Run(ctx, cmd)
		if err == nil && res.ExitStatus == exitMissing {
			err = fmt.Errorf("%w: %s on host %q", ErrMissing, what, t.Host())
		} else if err == nil {
			err = res.Err(t.Host(), cmd.Argv)
		}
		if err != nil {
			pw.CloseWithError(err)
		} else {
			_ = pw.Close()
		}
		r.done <- err
	}()
	return r
}

func (r *cmdReader) Read(p []byte) (int, error) { return r.pr.Read(p) }

// wait drains what is left, waits for the command and returns its error.
func (r *cmdReader) wait() error {
	if r.waited {
		return r.err
	}
	_, _ = io.Copy(io.Discard, r.pr)
	r.err = <-r.done
	r.waited = true
	r.cancel()
	return r.err
}

// Close stops the command (if still running) and waits for it.
func (r *cmdReader) Close() error {
	if r.waited {
		return nil
	}
	r.cancel()
	r.pr.CloseWithError(errors.New("reader closed"))
	r.err = <-r.done
	r.waited = true
	return nil
}

// openArchive opens an archive file on t for reading.
func openArchive(ctx context.Context, t transport.Transport, p string) (io.ReadCloser, func() error, error) {
	if directLocal(t) {
		f, err := os.Open(p)
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("%w: %s", ErrMissing, p)
		}
		if err != nil {
			return nil, nil, err
		}
		return f, func() error { return nil }, nil
	}
	r := startReader(ctx, t, transport.Command{
		Argv: []string{"/bin/sh", "-c", `[ -f "$1" ] || exit 44; exec cat -- "$1"`, "sh", p},
	}, p)
	return r, r.wait, nil
}

// readFile reads a whole (small) file on t; a missing file is ErrMissing.
func readFile(ctx context.Context, t transport.Transport, p string) ([]byte, error) {
	if directLocal(t) {
		b, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s", ErrMissing, p)
		}
		return b, err
	}
	var buf strings.Builder
	res, err := t.Run(ctx, transport.Command{
		Argv:   []string{"/bin/sh", "-c", `[ -f "$1" ] || exit 44; exec cat -- "$1"`, "sh", p},
		Stdout: &buf,
	})
	if err != nil {
		return nil, err
	}
	if res.ExitStatus == exitMissing {
		return nil, fmt.Errorf("%w: %s on host %q", ErrMissing, p, t.Host())
	}
	if err := res.Err(t.Host(), []string{"cat", p}); err != nil {
		return nil, err
	}
	return []byte(buf.String()), nil
}

// writeFileAtomic replaces p on t with data (mode 0600), through a
// temporary name so that p is either absent, old, or complete.
func writeFileAtomic(ctx context.Context, t transport.Transport, p string, data []byte) error {
	if !directLocal(t) {
		return t.Put(ctx, p, strings.NewReader(string(data)), 0o600)
	}
	tmp := fmt.Sprintf("%s.tmp.%d", p, os.Getpid())
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}
