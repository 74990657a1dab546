package archive

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// sink receives a new archive as "<final>.partial" and, on commit, renames
// it to final after removing final's old manifest (so an old manifest never
// describes a new archive).
type sink interface {
	io.Writer
	commit(ctx context.Context) error
	// abort removes the partial file (best effort) and returns the reason
	// the destination failed, if it did.
	abort() error
}

func openSink(ctx context.Context, t transport.Transport, final string) (sink, error) {
	if directLocal(t) {
		return openLocalSink(final)
	}
	return openRemoteSink(ctx, t, final), nil
}

type localSink struct {
	final, partial  string
	f               *os.File
	w               *bufio.Writer
	written, kicked int64
}

// writebackChunk is how often a local sink starts the writeback of what it
// wrote, so that durability (fsync before the rename) costs little wall
// time at the end.
const writebackChunk = 16 << 20

func openLocalSink(final string) (*localSink, error) {
	partial := PartialPath(final)
	if err := os.MkdirAll(filepath.Dir(final), 0o750); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(partial, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	return &localSink{final: final, partial: partial, f: f, w: bufio.NewWriterSize(f, 1<<20)}, nil
}

func (s *localSink) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	s.written += int64(n)
	if s.written-s.kicked >= writebackChunk+1<<20 {
		// Only what bufio already handed to the file.
		upto := s.written - int64(s.w.Buffered())
		if upto > s.kicked {
			startWriteback(s.f, s.kicked, upto-s.kicked)
			s.kicked = upto
		}
	}
	return n, err
}

func (s *localSink) commit(context.Context) error {
	err := s.w.Flush()
	if err == nil {
		err = s.f.Sync()
	}
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if rerr := os.Remove(ManifestPath(s.final)); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = rerr
		}
	}
	if err == nil {
		err = os.Rename(s.partial, s.final)
	}
	if err != nil {
		_ = os.Remove(s.partial)
		return fmt.Errorf("write %s: %w", s.final, err)
	}
	if d, err := os.Open(filepath.Dir(s.final)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

func (s *localSink) abort() error {
	s.f.Close()
	_ = os.Remove(s.partial)
	return nil
}

// remoteSink streams into "cat > partial" on the destination host.
type remoteSink struct {
	t              transport.Transport
	final, partial string
	pw             *io.PipeWriter
	w              *bufio.Writer
	done           chan error
}

// errSinkEnded is what writes get once the destination command is gone.
var errSinkEnded = errors.New("destination stream ended")

const sinkScript = `umask 077; d=$(dirname -- "$1") && mkdir -p -- "$d" && exec cat > "$1"`

func openRemoteSink(ctx context.Context, t transport.Transport, final string) *remoteSink {
	pr, pw := io.Pipe()
	s := &remoteSink{t: t, final: final, partial: PartialPath(final), pw: pw,
		w: bufio.NewWriterSize(pw, 256<<10), done: make(chan error, 1)}
	argv := []string{"/bin/sh", "-c", sinkScript, "sh", s.partial}
	go func() {
		res, err := t.Run(ctx, transport.Command{Argv: argv, Stdin: pr})
		if err == nil {
			err = res.Err(t.Host(), argv)
		}
		if err != nil {
			err = fmt.Errorf("write %s on host %q: %w", s.partial, t.Host(), err)
		}
		// Whatever happened, writers must not block on a reader that left.
		pr.CloseWithError(errSinkEnded)
		s.done <- err
	}()
	return s
}

func (s *remoteSink) Write(p []byte) (int, error) { return s.w.Write(p) }

func (s *remoteSink) commit(ctx context.Context) error {
	err := s.w.Flush()
	_ = s.pw.Close()
	if derr := <-s.done; derr != nil {
		err = derr
	}
	if err != nil {
		s.cleanup()
		return err
	}
	script := `sync -- "$1" 2>/dev/null; rm -f -- "$3" && mv -f -- "$1" "$2"`
	if _, err := transport.RunOK(ctx, s.t, transport.Command{
		Argv: []string{"/bin/sh", "-c", script, "sh", s.partial, s.final, ManifestPath(s.final)},
	}); err != nil {
		s.cleanup()
		return fmt.Errorf("rename %s: %w", s.partial, err)
	}
	return nil
}

func (s *remoteSink) abort() error {
	s.pw.CloseWithError(errors.New("archive aborted"))
	err := <-s.done
	s.cleanup()
	return err
}

// cleanup removes the partial file with a fresh context: the caller's may
// be the one that was cancelled.
func (s *remoteSink) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _ = s.t.Run(ctx, transport.Command{Argv: []string{"rm", "-f", "--", s.partial}})
}
