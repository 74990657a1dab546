// Package sshdtest starts a real OpenSSH sshd on 127.0.0.1 for tests, the
// demo and benchmarks: random port, fresh host and user keys, its own
// sshd_config. It is a test tool; the provider never imports it.
package sshdtest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// Server is a running sshd.
type Server struct {
	Dir            string // its files
	Addr           string // 127.0.0.1:port
	User           string // the user tests log in as (the current user)
	ClientKey      string // OpenSSH private key accepted for User
	HostKey        string // the server's public key, authorized_keys format
	KnownHostsFile string // a known_hosts file listing HostKey for Addr
	// PasswordUser and ClientPassword are set only when started
	// WithPassword: a throwaway system user that logs in with that password
	// (User is root under CI, and sshd never lets root in by password here).
	PasswordUser   string
	ClientPassword string
	cmd            *exec.Cmd
	exited         chan struct{} // closed once sshd has been waited for
}

// Option changes how a server is started.
type Option func(*options)

type options struct {
	password    bool
	maxSessions int
}

// WithPassword enables PasswordAuthentication for a throwaway system user
// (created with useradd, removed by Stop). It needs root.
func WithPassword() Option { return func(o *options) { o.password = true } }

// WithMaxSessions sets sshd's MaxSessions (sessions per connection; 64 by
// default here, 10 in a stock sshd).
func WithMaxSessions(n int) Option { return func(o *options) { o.maxSessions = n } }

// ErrNeedsRoot is returned by Start for options only root can provide.
var ErrNeedsRoot = errors.New("sshdtest: this option needs root (it creates a system user)")

// Path finds sshd, or returns "".
func Path() string {
	for _, p := range []string{"/usr/sbin/sshd", "/usr/local/sbin/sshd", "/sbin/sshd"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("sshd"); err == nil {
		return p
	}
	return ""
}

// StartT starts a server for a test and stops it at cleanup. When sshd is
// missing the test is skipped with a loud message, except under CI, where
// it fails: .ci/run installs openssh-server.
func StartT(t testing.TB, opts ...Option) *Server {
	t.Helper()
	if Path() == "" {
		msg := "sshd not found: install openssh-server to run the SSH integration tests (SKIPPED — the SSH transport is NOT tested)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	s, err := Start(t.TempDir(), opts...)
	if errors.Is(err, ErrNeedsRoot) {
		msg := "password login needs a throwaway system user, which only root can create (SKIPPED — SSH password authentication is NOT tested)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if err != nil {
		t.Fatalf("start sshd: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Start starts sshd with its files in dir.
func Start(dir string, opts ...Option) (*Server, error) {
	o := options{maxSessions: 64}
	for _, opt := range opts {
		opt(&o)
	}
	sshd := Path()
	if sshd == "" {
		return nil, errors.New("sshd not found")
	}
	if o.password && os.Geteuid() != 0 {
		return nil, ErrNeedsRoot
	}
	u, err := user.Current()
	if err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		_ = os.MkdirAll("/run/sshd", 0o755)
	}
	// sshd refuses key files readable by others and, under StrictModes,
	// loose directories: keep everything private.
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, err
	}
	hostPriv, hostPub, err := newKey()
	if err != nil {
		return nil, err
	}
	clientPriv, clientPub, err := newKey()
	if err != nil {
		return nil, err
	}
	files := map[string]string{
		"host_ed25519":    hostPriv,
		"authorized_keys": clientPub,
		"client_ed25519":  clientPriv,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			return nil, err
		}
	}
	allow := u.Username
	passwordAuth := "no"
	var pwUser, pw string
	if o.password {
		pwUser, pw, err = addPasswordUser()
		if err != nil {
			return nil, err
		}
		allow += " " + pwUser
		passwordAuth = "yes"
	}
	config := func(port int) string {
		return fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
PidFile %s
AuthorizedKeysFile %s
PubkeyAuthentication yes
PasswordAuthentication %s
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
AllowUsers %s
MaxSessions %d
MaxStartups 100:30:200
LogLevel ERROR
Subsystem sftp internal-sftp
# bash, started by sshd, reads ~/.bashrc (Debian's SSH_SOURCE_BASHRC) unless
# it is nested: the test sessions do not depend on the login user's
# dotfiles, which on a build machine may take 300 ms per command (pyenv).
SetEnv SHLVL=1
`, port, filepath.Join(dir, "host_ed25519"), filepath.Join(dir, "sshd.pid"),
			filepath.Join(dir, "authorized_keys"), passwordAuth, allow, o.maxSessions)
	}
	hostLine := strings.TrimSpace(hostPub)
	hostKey, _, _, _, err := ssh.ParseAuthorizedKey([]byte(hostPub))
	if err != nil {
		delUser(pwUser)
		return nil, err
	}
	args := append([]string{"-D", "-e", "-f", filepath.Join(dir, "sshd_config")}, noReexec(sshd)...)
	// The port is found free and released for sshd to bind: in between,
	// another process may take it (another test's server, or an outgoing
	// connection given it as its local port). Such a start is tried again
	// on another port.
	for attempt := 1; ; attempt++ {
		port, err := pickPort()
		if err != nil {
			delUser(pwUser)
			return nil, err
		}
		addr := "127.0.0.1:" + strconv.Itoa(port)
		known := fmt.Sprintf("[127.0.0.1]:%d %s\n", port, hostLine)
		if err := os.WriteFile(filepath.Join(dir, "sshd_config"), []byte(config(port)), 0o600); err != nil {
			delUser(pwUser)
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, "known_hosts"), []byte(known), 0o600); err != nil {
			delUser(pwUser)
			return nil, err
		}
		s := &Server{Dir: dir, Addr: addr, User: u.Username, ClientKey: clientPriv,
			HostKey: hostLine, KnownHostsFile: filepath.Join(dir, "known_hosts"),
			PasswordUser: pwUser, ClientPassword: pw}
		err = s.launch(sshd, args, hostKey)
		if err == nil {
			return s, nil
		}
		if !errors.Is(err, errPortTaken) || attempt == 5 {
			delUser(pwUser)
			return nil, err
		}
	}
}

// errPortTaken: sshd could not listen on the port it was given.
var errPortTaken = errors.New("port taken")

// launch starts sshd and waits until it answers on s.Addr with hostKey.
func (s *Server) launch(sshd string, args []string, hostKey ssh.PublicKey) error {
	var stderr bytes.Buffer
	cmd := exec.Command(sshd, args...)
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s.cmd, s.exited = cmd, exited
	// stopped stops this sshd (not the password user: Start decides about
	// that); its stderr can be read after that.
	stopped := func() string {
		s.stopProcess()
		return strings.TrimSpace(stderr.String())
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-exited:
			msg := stopped()
			if strings.Contains(msg, "Address already in use") {
				return errPortTaken
			}
			return fmt.Errorf("sshd exited at start on %s: %s", s.Addr, msg)
		default:
		}
		switch answersWith(s.Addr, hostKey) {
		case probeOurs:
			return nil
		case probeOther:
			// Another server holds the port; this sshd is about to give up.
			select {
			case <-exited:
			case <-time.After(2 * time.Second):
			}
			stopped()
			return errPortTaken
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sshd did not come up on %s: %s", s.Addr, stopped())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type probeResult int

const (
	probeNothing probeResult = iota // no SSH server answers (yet)
	probeOurs                       // an SSH server with our host key
	probeOther                      // an SSH server with another host key
)

// answersWith runs a key exchange with addr (no login) to see whose
// server answers there.
func answersWith(addr string, hostKey ssh.PublicKey) probeResult {
	conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return probeNothing
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	result := probeNothing
	cfg := &ssh.ClientConfig{User: "probe", HostKeyCallback: func(_ string, _ net.Addr, k ssh.PublicKey) error {
		result = probeOther
		if bytes.Equal(k.Marshal(), hostKey.Marshal()) {
			result = probeOurs
		}
		return errors.New("probe: no login wanted")
	}}
	_, _, _, _ = ssh.NewClientConn(conn, addr, cfg)
	return result
}

// noReexec returns -r for an sshd that takes it (OpenSSH before 9.8): the
// listener then serves each connection from a fork of itself instead of
// executing sshd anew, which costs about 12 ms of CPU per connection
// (loading the binary, its libraries and OpenSSL, the configuration and
// the host key). This sshd stands in for remote hosts, whose CPU is not
// the CPU terraform runs on; on a 2-core machine every connection's CPU is
// taken from terraform and the tests. The protocol, key exchange,
// authentication and sessions are the same either way. From 9.8 the
// per-connection work is a separate program (sshd-session) and -r is gone.
func noReexec(sshd string) []string {
	reexecOnce.Do(func() {
		out, _ := exec.Command(sshd, "-V").CombinedOutput()
		reexecFlag = noReexecFor(string(out))
	})
	return reexecFlag
}

var (
	reexecOnce sync.Once
	reexecFlag []string
)

// noReexecFor decides from the output of "sshd -V" ("OpenSSH_9.2p1
// Debian-2+deb12u3, OpenSSL 3.0.15 ..."); anything it cannot read keeps
// the default.
func noReexecFor(version string) []string {
	_, rest, ok := strings.Cut(version, "OpenSSH_")
	if !ok {
		return nil
	}
	var major, minor int
	if n, _ := fmt.Sscanf(rest, "%d.%d", &major, &minor); n != 2 {
		return nil
	}
	if major < 9 || major == 9 && minor < 8 {
		return []string{"-r"}
	}
	return nil
}

// Port returns the listening port.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.Addr)
	n, _ := strconv.Atoi(p)
	return n
}

// DropConnections kills every per-connection sshd process (the listener
// survives), as a network fault would cut the sessions. Commands that were
// running are left alone, as they would be on a real server; a test that
// drops a connection under a long command cleans that command up itself.
func (s *Server) DropConnections() { s.signalConnections(syscall.SIGKILL) }

// PauseConnections stops (SIGSTOP) every per-connection sshd process: the
// TCP connections stay open but nothing answers, like a silent network
// partition. ResumeConnections undoes it; Stop and DropConnections still
// work on paused connections.
func (s *Server) PauseConnections() { s.signalConnections(syscall.SIGSTOP) }

// ResumeConnections continues connections paused by PauseConnections.
func (s *Server) ResumeConnections() { s.signalConnections(syscall.SIGCONT) }

// signalConnections signals every sshd process below the listener. After
// authentication a non-root login has two (the monitor and the
// unprivileged child holding the socket), so children of children count.
func (s *Server) signalConnections(sig syscall.Signal) {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	for _, pid := range descendants(s.cmd.Process.Pid) {
		if comm(pid) == "sshd" {
			_ = syscall.Kill(pid, sig)
		}
	}
}

// Stop kills the server and its sessions and removes a password user.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.stopProcess()
	delUser(s.PasswordUser)
}

// stopProcess kills sshd and its sessions and waits for sshd to end.
func (s *Server) stopProcess() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.DropConnections()
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// descendants lists the processes below pid, read from /proc (no procps
// needed on a fresh machine).
func descendants(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pp := ppid(p); pp > 0 {
			children[pp] = append(children[pp], p)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// ppid reads the parent pid from /proc/pid/stat ("pid (comm) state ppid ...";
// comm may hold spaces and parentheses, so parse after the last ')').
func ppid(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

func comm(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return strings.TrimSpace(string(b))
}

// addPasswordUser creates a throwaway user with a random password. useradd locks /etc/passwd, which other test processes may
// hold for a moment: retry a while.
func addPasswordUser() (name, password string, err error) {
	var rb [12]byte
	if _, err := rand.Read(rb[:]); err != nil {
		return "", "", err
	}
	name = fmt.Sprintf("bctl%x", rb[:4])
	password = fmt.Sprintf("%x", rb[4:])
	// Home is "/": the user owns no files, and sshd, which chdirs there
	// before running a command, finds it (the test dir is private to root).
	if err := retryLocked(func() ([]byte, error) {
		return exec.Command("useradd", "-M", "-d", "/", "-s", "/bin/sh", "-U", name).CombinedOutput()
	}); err != nil {
		return "", "", fmt.Errorf("useradd %s: %w", name, err)
	}
	if err := retryLocked(func() ([]byte, error) {
		c := exec.Command("chpasswd")
		c.Stdin = strings.NewReader(name + ":" + password + "\n")
		return c.CombinedOutput()
	}); err != nil {
		delUser(name)
		return "", "", fmt.Errorf("chpasswd %s: %w", name, err)
	}
	return name, password, nil
}

func retryLocked(run func() ([]byte, error)) error {
	var out []byte
	var err error
	for i := 0; i < 100; i++ {
		out, err = run()
		if err == nil {
			return nil
		}
		if !bytes.Contains(out, []byte("lock")) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%v: %s", err, bytes.TrimSpace(out))
}

// delUser removes a user made by addPasswordUser (and its group).
func delUser(name string) {
	if name == "" {
		return
	}
	_ = retryLocked(func() ([]byte, error) {
		return exec.Command("userdel", "-f", name).CombinedOutput()
	})
}

func newKey() (priv, pub string, err error) {
	pk, sk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", err
	}
	block, err := ssh.MarshalPrivateKey(sk, "")
	if err != nil {
		return "", "", err
	}
	sp, err := ssh.NewPublicKey(pk)
	if err != nil {
		return "", "", err
	}
	return string(pem.EncodeToMemory(block)), string(ssh.MarshalAuthorizedKey(sp)), nil
}

// pickPort chooses the port of a new server (tests replace it).
var pickPort = freePort

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
