// Package dbtest starts throwaway PostgreSQL and MariaDB servers on
// 127.0.0.1 for tests, benchmarks and the demo: a fresh data directory in a
// temp dir, a random port, a socket beside the data, a superuser password
// for TCP logins. It is a test tool; the provider never imports it.
//
// When the process runs as root (CI does), PostgreSQL runs as the
// "postgres" OS user (created when missing) because initdb refuses root;
// MariaDB runs as root with --user=root.
package dbtest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startTimeout bounds how long a server may take to accept connections.
const startTimeout = 60 * time.Second

// requireT fails the test when a server cannot be started. Tests never skip:
// .ci/run installs the servers; a missing binary is a broken machine.
func requireT(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("dbtest: start %s: %v", what, err)
	}
}

// tempDir makes a directory under os.TempDir that other local users can
// traverse (a server running as another OS user must reach its data).
func tempDir(prefix string) (string, error) {
	d, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", err
	}
	if err := os.Chmod(d, 0o755); err != nil {
		_ = os.RemoveAll(d)
		return "", err
	}
	return d, nil
}

// randomPassword returns a password with characters that need quoting in
// pgpass and option files, so that escaping is exercised by every test.
func randomPassword() string {
	b := make([]byte, 9)
	_, _ = rand.Read(b)
	return "pw:" + hex.EncodeToString(b) + `\"#'; x`
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// osUser is an OS account a server runs as.
type osUser struct {
	name     string
	uid, gid uint32
}

func (u *osUser) cred() *syscall.Credential {
	if u == nil {
		return nil
	}
	return &syscall.Credential{Uid: u.uid, Gid: u.gid}
}

// serviceUser returns the account to run a server as when we are root, or
// nil when we are not (the server then runs as ourselves).
func serviceUser(name string) (*osUser, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		out, cerr := exec.Command("useradd", "--system", "--no-create-home",
			"--shell", "/usr/sbin/nologin", name).CombinedOutput()
		if cerr != nil {
			return nil, fmt.Errorf("create OS user %s: %v: %s", name, cerr, out)
		}
		if u, err = user.Lookup(name); err != nil {
			return nil, err
		}
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &osUser{name: name, uid: uint32(uid), gid: uint32(gid)}, nil
}

// chown hands paths to u (nothing to do when u is nil).
func chown(u *osUser, paths ...string) error {
	if u == nil {
		return nil
	}
	for _, p := range paths {
		if err := os.Chown(p, int(u.uid), int(u.gid)); err != nil {
			return err
		}
	}
	return nil
}

// run runs a helper program (initdb, install-db, a client) and returns
// its combined output on failure.
func run(u *osUser, env []string, stdin []byte, argv ...string) (string, error) {
	c := exec.Command(argv[0], argv[1:]...)
	c.Env = append(os.Environ(), env...)
	if stdin != nil {
		c.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if cr := u.cred(); cr != nil {
		c.SysProcAttr = &syscall.SysProcAttr{Credential: cr}
	}
	if err := c.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		return stdout.String(), fmt.Errorf("%s: %v: %s", argv[0], err, msg)
	}
	return stdout.String(), nil
}

// server is a started daemon process.
type server struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  *bytes.Buffer
}

func startDaemon(u *osUser, argv []string) (*server, error) {
	c := exec.Command(argv[0], argv[1:]...)
	var log bytes.Buffer
	c.Stdout, c.Stderr = &log, &log
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: u.cred()}
	if err := c.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: c, done: make(chan struct{}), log: &log}
	go func() { _ = c.Wait(); close(s.done) }()
	return s, nil
}

func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// stop asks the daemon to shut down with sig, then kills its process group
// if it has not gone after a while.
func (s *server) stop(sig syscall.Signal) {
	if s == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(sig)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
	// Children that outlived the postmaster (none expected) go too.
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
}

// waitFor polls ready until it reports true, the daemon exits, or the
// start timeout passes.
func waitFor(s *server, what string, ready func() bool) error {
	deadline := time.Now().Add(startTimeout)
	for {
		if ready() {
			return nil
		}
		if s.exited() {
			return fmt.Errorf("%s exited during start-up: %s", what, tail(s.log.String()))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not become ready within %s: %s", what, startTimeout, tail(s.log.String()))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tail(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 3000 {
		s = "..." + s[len(s)-3000:]
	}
	return s
}

// firstExisting returns the first path that exists, or "".
func firstExisting(paths ...string) string {
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

var errNotFound = errors.New("not installed")
