package transport

import (
	"errors"
	"io"
	"sync"
)

// stdinPump copies a command's input in the background.
type stdinPump struct {
	mu  sync.Mutex
	err error // the first error reading the source
}

// pumpStdin copies src to dst and closes dst at EOF, so the command sees the
// end of its input. When reading src fails, abort is called instead and dst
// is left open: closing it would hand the command a clean EOF, and a
// "cat > tmp && mv tmp file" would then install a truncated file. abort must
// kill the command before anything closes its input.
//
// The pump does not outlive the command by more than one Read: once the
// command is gone, the next write fails and the pump stops. Run does not wait
// for it, so a source whose Read blocks forever keeps one goroutine until it
// returns.
func pumpStdin(src io.Reader, dst io.WriteCloser, abort func()) *stdinPump {
	p := &stdinPump{}
	go func() {
		r := &readErrRecorder{r: src}
		_, err := io.Copy(dst, r)
		if r.err != nil {
			p.mu.Lock()
			p.err = r.err
			p.mu.Unlock()
			abort()
			return
		}
		_ = err // a write error: the command closed its input or ended
		_ = dst.Close()
	}()
	return p
}

// readErr returns the source's read error, if any (nil-safe).
func (p *stdinPump) readErr() error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// readErrRecorder tells read errors apart from write errors in io.Copy.
type readErrRecorder struct {
	r   io.Reader
	err error
}

func (e *readErrRecorder) Read(b []byte) (int, error) {
	n, err := e.r.Read(b)
	if err != nil && !errors.Is(err, io.EOF) {
		e.err = err
	}
	return n, err
}
