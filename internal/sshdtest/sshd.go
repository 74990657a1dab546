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
	ClientPassword string // set only when started WithPassword (root can't)
	HostKey        string // the server's public key, authorized_keys format
	KnownHostsFile string // a known_hosts file listing HostKey for Addr
	cmd            *exec.Cmd
}

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
func StartT(t testing.TB) *Server {
	t.Helper()
	if Path() == "" {
		msg := "sshd not found: install openssh-server to run the SSH integration tests (SKIPPED — the SSH transport is NOT tested)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	s, err := Start(t.TempDir())
	if err != nil {
		t.Fatalf("start sshd: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Start starts sshd with its files in dir.
func Start(dir string) (*Server, error) {
	sshd := Path()
	if sshd == "" {
		return nil, errors.New("sshd not found")
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
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	conf := fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
PidFile %s
AuthorizedKeysFile %s
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
AllowUsers %s
MaxSessions 64
MaxStartups 100:30:200
LogLevel ERROR
Subsystem sftp internal-sftp
`, port, filepath.Join(dir, "host_ed25519"), filepath.Join(dir, "sshd.pid"),
		filepath.Join(dir, "authorized_keys"), u.Username)
	if err := os.WriteFile(filepath.Join(dir, "sshd_config"), []byte(conf), 0o600); err != nil {
		return nil, err
	}
	hostLine := strings.TrimSpace(hostPub)
	known := fmt.Sprintf("[127.0.0.1]:%d %s\n", port, hostLine)
	if err := os.WriteFile(filepath.Join(dir, "known_hosts"), []byte(known), 0o600); err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd := exec.Command(sshd, "-D", "-e", "-f", filepath.Join(dir, "sshd_config"))
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, Addr: addr, User: u.Username, ClientKey: clientPriv,
		HostKey: hostLine, KnownHostsFile: filepath.Join(dir, "known_hosts"), cmd: cmd}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return s, nil
		}
		if cmd.ProcessState != nil || time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("sshd did not come up on %s: %s", addr, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Port returns the listening port.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.Addr)
	n, _ := strconv.Atoi(p)
	return n
}

// DropConnections kills every per-connection sshd process (the listener
// survives), as a network fault would cut the sessions.
func (s *Server) DropConnections() {
	out, _ := exec.Command("pgrep", "-P", strconv.Itoa(s.cmd.Process.Pid)).Output()
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// Stop kills the server and its sessions.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.DropConnections()
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	_ = s.cmd.Process.Kill()
	_, _ = s.cmd.Process.Wait()
	s.cmd = nil
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

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
