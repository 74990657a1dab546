package provider

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestMain only adds the suite summaries (fault injection, bad-input
// corpus) after the tests ran.
func TestMain(m *testing.M) {
	code := m.Run()
	printSummaries(code)
	os.Exit(code)
}

// summaries are one-line results of whole suites, printed once at the end.
var summaries struct {
	mu    sync.Mutex
	lines []string
}

func addSummary(line string) {
	summaries.mu.Lock()
	defer summaries.mu.Unlock()
	summaries.lines = append(summaries.lines, line)
}

// printSummaries writes the summary lines to standard output. In package
// list mode (`go test ./...`, as `make test` runs it) the go command shows
// a passing package's output only with -v, so the lines are then also
// written to the go command's own standard output, where its "ok" line goes.
func printSummaries(code int) {
	summaries.mu.Lock()
	text := strings.Join(summaries.lines, "\n")
	summaries.mu.Unlock()
	if text == "" {
		return
	}
	text += "\n"
	fmt.Print(text)
	if code != 0 || testing.Verbose() {
		// The go command prints our output itself.
		return
	}
	if f := goCommandStdout(); f != nil {
		_, _ = f.WriteString(text)
		_ = f.Close()
	}
}

// goCommandStdout returns the standard output of the go command that runs
// this test binary, or nil when it is not needed (the binary writes to the
// same file already) or not reachable.
func goCommandStdout() *os.File {
	ppid := os.Getppid()
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", ppid))
	if err != nil || strings.TrimSpace(string(comm)) != "go" {
		return nil
	}
	fd1 := fmt.Sprintf("/proc/%d/fd/1", ppid)
	var ours, theirs syscall.Stat_t
	if syscall.Fstat(1, &ours) != nil || syscall.Stat(fd1, &theirs) != nil {
		return nil
	}
	if ours.Dev == theirs.Dev && ours.Ino == theirs.Ino {
		return nil
	}
	// A duplicate of the go command's descriptor shares its file offset,
	// so a regular file is appended to, not overwritten.
	if pidfd, err := unix.PidfdOpen(ppid, 0); err == nil {
		fd, err := unix.PidfdGetfd(pidfd, 1, 0)
		_ = unix.Close(pidfd)
		if err == nil {
			return os.NewFile(uintptr(fd), "go command stdout")
		}
	}
	// Otherwise only a pipe or a terminal can be opened again safely.
	if m := theirs.Mode & syscall.S_IFMT; m != syscall.S_IFIFO && m != syscall.S_IFCHR {
		return nil
	}
	f, err := os.OpenFile(fd1, os.O_WRONLY, 0)
	if err != nil {
		return nil
	}
	return f
}

// snippetLine matches the lines of a terraform diagnostic that quote the
// configuration ("with ...", "on main.tf line 3, in ...", "  3:   keep = 0")
// rather than say something about it.
var snippetLine = regexp.MustCompile(`^[\s│╷╵]*(with \S+,|on \S+ line \d+|\d+:|\(sensitive value\))`)

// diagText is an error from terraform without the quoted configuration
// (what the diagnostics themselves say), on one line: terraform wraps
// long details at spaces.
func diagText(err error) string {
	var keep []string
	for _, l := range strings.Split(err.Error(), "\n") {
		if !snippetLine.MatchString(l) {
			keep = append(keep, strings.Trim(l, " \t│╷╵"))
		}
	}
	return strings.Join(strings.Fields(strings.Join(keep, " ")), " ")
}
