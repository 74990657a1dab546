package transport

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"sync"
)

// pidMarker starts the line that a remote command line prints on stderr
// before it execs the command: the pid of the session's shell, which sshd
// made a process group leader, so that a cancelled command can be killed
// by process group (see SSH.kill). pidSniffer takes the line out again.
const pidMarker = "backupctl-pid:"

// remoteLine prefixes a command line (CommandLine) with the pid report. The
// command replaces the shell, so the pid is the command's own.
func remoteLine(line string) string {
	return fmt.Sprintf(`printf '%s%%d\n' "$$" >&2; exec %s`, pidMarker, line)
}

// pidSniffer passes stderr through to w, minus the pid marker line. Lines
// before it (a noisy login script) are passed on; if no marker shows up in
// the first few KiB, it gives up and passes everything.
type pidSniffer struct {
	w    io.Writer
	mu   sync.Mutex
	buf  []byte
	pid  int
	done bool
	got  chan struct{} // closed once the marker was seen or given up on
}

func newPIDSniffer(w io.Writer) *pidSniffer {
	return &pidSniffer{w: w, got: make(chan struct{})}
}

// PID is the remote pid, or 0 when unknown.
func (p *pidSniffer) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pid
}

func (p *pidSniffer) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return p.w.Write(b)
	}
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		line := p.buf[:i]
		if rest, ok := bytes.CutPrefix(line, []byte(pidMarker)); ok {
			p.pid, _ = strconv.Atoi(string(rest))
			after := p.buf[i+1:]
			p.finishLocked()
			if _, err := p.w.Write(after); err != nil {
				return 0, err
			}
			return len(b), nil
		}
		if _, err := p.w.Write(p.buf[:i+1]); err != nil {
			return 0, err
		}
		p.buf = p.buf[i+1:]
	}
	if len(p.buf) > 4096 {
		rest := p.buf
		p.finishLocked()
		if _, err := p.w.Write(rest); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}

// flush passes on what is still held back (a last line without newline).
func (p *pidSniffer) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.done {
		rest := p.buf
		p.finishLocked()
		_, _ = p.w.Write(rest)
	}
}

func (p *pidSniffer) finishLocked() {
	p.done = true
	p.buf = nil
	close(p.got)
}
