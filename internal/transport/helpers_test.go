package transport

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/sshdtest"
)

var (
	hostNamesMu sync.Mutex
	hostNames   = map[*testing.T]string{}
	hostSeq     int
)

// hostName gives each test (and each run of it, under -count) its own host
// name, so that the process-wide counters (Snapshot) do not mix.
func hostName(t *testing.T) string {
	hostNamesMu.Lock()
	defer hostNamesMu.Unlock()
	if n, ok := hostNames[t]; ok {
		return n
	}
	hostSeq++
	n := fmt.Sprintf("%s#%d", strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()), hostSeq)
	hostNames[t] = n
	t.Cleanup(func() {
		hostNamesMu.Lock()
		defer hostNamesMu.Unlock()
		delete(hostNames, t)
	})
	return n
}

// newSSH returns an SSH transport logging in to s with its client key and
// known_hosts file; mod adjusts the config. It is closed at cleanup.
func newSSH(t *testing.T, s *sshdtest.Server, mod func(*SSHConfig)) *SSH {
	t.Helper()
	cfg := SSHConfig{
		Name:           hostName(t),
		Address:        s.Addr,
		User:           s.User,
		PrivateKey:     s.ClientKey,
		KnownHostsFile: s.KnownHostsFile,
	}
	if mod != nil {
		mod(&cfg)
	}
	tr := NewSSH(cfg)
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

// bothTransports runs f as two subtests: through Local and through SSH to a
// fresh loopback sshd. The server runs as this user, so the files a test
// makes are seen the same way by both.
func bothTransports(t *testing.T, f func(t *testing.T, tr Transport)) {
	t.Run("local", func(t *testing.T) {
		t.Parallel()
		f(t, &Local{Name: hostName(t)})
	})
	t.Run("ssh", func(t *testing.T) {
		t.Parallel()
		s := sshdtest.StartT(t)
		f(t, newSSH(t, s, nil))
	})
}

// waitFor polls cond until it holds; the deadline is only a safety net
// against a hung test, never a measurement.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// readPid reads a pid file written by a test command ("" while missing).
func readPid(path string) int {
	b, err := os.ReadFile(path)
	if err != nil || !bytes.HasSuffix(b, []byte("\n")) {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}

// procStat returns the state letter and parent pid of pid ("" when gone).
func procStat(pid int) (state string, ppid int) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", 0
	}
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return "", 0
	}
	n, _ := strconv.Atoi(f[1])
	return f[0], n
}

// gone reports whether pid has ended. A zombie counts as ended: in a
// container the reaper of orphans may be slow or absent.
func gone(pid int) bool {
	st, _ := procStat(pid)
	return st == "" || st == "Z" || st == "X"
}

// childrenOf lists the live processes whose parent is pid.
func childrenOf(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if _, pp := procStat(p); pp == pid && !gone(p) {
			out = append(out, p)
		}
	}
	return out
}

// killAtCleanup makes sure a test's long-running process does not outlive it
// (a dropped SSH connection leaves its command running, as on a real host).
func killAtCleanup(t *testing.T, pidfile string) {
	t.Cleanup(func() {
		if pid := readPid(pidfile); pid > 0 {
			for _, c := range childrenOf(pid) {
				_ = syscall.Kill(c, syscall.SIGKILL)
			}
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
}

// syncBuffer is a bytes.Buffer safe to write from the transport's goroutines
// while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
