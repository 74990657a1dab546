package transport

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/backupctl/terraform-provider-backupctl/internal/sshdtest"
)

func dialsOf(host string) int64    { return Snapshot().Dials[host] }
func commandsOf(host string) int64 { return Snapshot().Commands[host] }

func mustRun(t *testing.T, tr Transport, argv ...string) string {
	t.Helper()
	res, err := RunOK(context.Background(), tr, Command{Argv: argv})
	if err != nil {
		t.Fatal(err)
	}
	return string(res.Stdout)
}

// otherHostKey returns an authorized_keys line that is not the server's.
func otherHostKey(t *testing.T) string {
	t.Helper()
	pk, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pk)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp)))
}

func TestSSHHostKeyRefused(t *testing.T) {
	t.Parallel()
	s := sshdtest.StartT(t)
	serverFP, err := FingerprintOf(s.HostKey)
	if err != nil {
		t.Fatal(err)
	}
	wrong := otherHostKey(t)
	wrongFP, _ := FingerprintOf(wrong)
	dir := t.TempDir()
	wrongKnown := filepath.Join(dir, "wrong_known_hosts")
	hostPort := fmt.Sprintf("[127.0.0.1]:%d", s.Port())
	if err := os.WriteFile(wrongKnown, []byte(hostPort+" "+wrong+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	otherKnown := filepath.Join(dir, "other_known_hosts")
	if err := os.WriteFile(otherKnown, []byte(fmt.Sprintf("[127.0.0.1]:%d %s\n", s.Port()+1, s.HostKey)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		mod  func(*SSHConfig)
		want []string
	}{
		{"known_hosts mismatch", func(c *SSHConfig) { c.KnownHostsFile = wrongKnown },
			[]string{"mismatch", serverFP, wrongFP, wrongKnown}},
		{"unknown host", func(c *SSHConfig) { c.KnownHostsFile = otherKnown },
			[]string{"is not in", serverFP, otherKnown}},
		{"pinned key mismatch", func(c *SSHConfig) { c.HostKey = wrong },
			[]string{"mismatch", serverFP, wrongFP, "host_key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newSSH(t, s, tc.mod)
			canary := filepath.Join(dir, "ran-"+hostName(t))
			_, err := tr.Run(context.Background(), Command{Argv: []string{"touch", canary}})
			if !errors.Is(err, ErrHostKey) {
				t.Fatalf("got %v, want ErrHostKey", err)
			}
			for _, w := range append(tc.want, tr.Host(), s.Addr) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not name %q", err, w)
				}
			}
			if _, err := os.Stat(canary); err == nil {
				t.Fatal("the command ran despite the host key")
			}
			if n := dialsOf(tr.Host()); n != 0 {
				t.Fatalf("%d connections counted as dialled", n)
			}
		})
	}
	t.Run("pinned key matches", func(t *testing.T) {
		tr := newSSH(t, s, func(c *SSHConfig) { c.KnownHostsFile = wrongKnown; c.HostKey = s.HostKey })
		if out := mustRun(t, tr, "echo", "ok"); out != "ok\n" {
			t.Fatalf("got %q", out)
		}
	})
	t.Run("no known_hosts file", func(t *testing.T) {
		tr := newSSH(t, s, func(c *SSHConfig) { c.KnownHostsFile = filepath.Join(dir, "absent") })
		_, err := tr.Run(context.Background(), Command{Argv: []string{"true"}})
		if err == nil || !strings.Contains(err.Error(), "known_hosts_file") || !strings.Contains(err.Error(), "absent") {
			t.Fatalf("got %v", err)
		}
	})
}

// A connection dropped between commands is opened again, once.
func TestSSHReconnectAfterDrop(t *testing.T) {
	t.Parallel()
	s := sshdtest.StartT(t)
	tr := newSSH(t, s, nil)
	host := tr.Host()
	mustRun(t, tr, "true")
	if n := dialsOf(host); n != 1 {
		t.Fatalf("dials after first command: %d", n)
	}
	for i := 0; i < 3; i++ {
		s.DropConnections()
		if out := mustRun(t, tr, "echo", "again"); out != "again\n" {
			t.Fatalf("got %q", out)
		}
		if n := dialsOf(host); n != int64(2+i) {
			t.Fatalf("after drop %d: %d dials, want %d", i+1, n, 2+i)
		}
	}
	// Commands in between reuse the connection.
	mustRun(t, tr, "true")
	mustRun(t, tr, "true")
	if n := dialsOf(host); n != 4 {
		t.Fatalf("dials: %d, want 4", n)
	}
}

// When many commands find the connection dead at once, one dials and the
// others use its connection (they used to close it under each other).
func TestSSHConcurrentReconnect(t *testing.T) {
	t.Parallel()
	s := sshdtest.StartT(t)
	tr := newSSH(t, s, nil)
	mustRun(t, tr, "true")
	s.DropConnections()
	runParallel(t, tr, 20, func(int) []string { return []string{"echo", "ok"} })
	if n := dialsOf(tr.Host()); n != 2 {
		t.Fatalf("dials: %d, want 2 (one first, one after the drop)", n)
	}
}

func runParallel(t *testing.T, tr Transport, n int, argv func(i int) []string) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = RunOK(context.Background(), tr, Command{Argv: argv(i)})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("command %d: %v", i, err)
		}
	}
}

// 20 commands run at the same time (each waits until all 20 have started)
// over one connection.
func TestSSHConcurrentShareOneConnection(t *testing.T) {
	t.Parallel()
	s := sshdtest.StartT(t) // MaxSessions 64
	tr := newSSH(t, s, nil)
	dir := t.TempDir()
	const n = 20
	// Each command checks in, then waits for the test to see all 20.
	script := `touch "$1/$2"; i=0
while [ ! -e "$1/go" ]; do i=$((i+1)); [ $i -gt 1200 ] && exit 9; sleep 0.05; done`
	release := make(chan struct{})
	go func() {
		defer close(release)
		waitFor(t, "all commands to check in", func() bool {
			e, _ := os.ReadDir(dir)
			return len(e) == n
		})
		_ = os.WriteFile(filepath.Join(dir, "go"), nil, 0o600)
	}()
	runParallel(t, tr, n, func(i int) []string {
		return []string{"/bin/sh", "-c", script, "sh", dir, fmt.Sprint(i)}
	})
	<-release
	if d, c := dialsOf(tr.Host()), commandsOf(tr.Host()); d != 1 || c != n {
		t.Fatalf("dials %d (want 1), commands %d (want %d)", d, c, n)
	}
}

// A server at its MaxSessions refuses more sessions; commands wait for a
// free one instead of failing, and the connection is not dropped under the
// commands running on it.
func TestSSHMoreCommandsThanMaxSessions(t *testing.T) {
	t.Parallel()
	s := sshdtest.StartT(t, sshdtest.WithMaxSessions(2))
	tr := newSSH(t, s, nil)
	runParallel(t, tr, 8, func(i int) []string { return []string{"/bin/sh", "-c", "sleep 0.05; echo $1", "sh", fmt.Sprint(i)} })
	if d := dialsOf(tr.Host()); d != 1 {
		t.Fatalf("dials %d, want 1", d)
	}
}

// A drop in the middle of a command fails that command clearly; the next
// one reconnects.
func TestSSHDropDuringCommand(t *testing.T) {
	t.Parallel()
	s := sshdtest.StartT(t)
	tr := newSSH(t, s, nil)
	pidfile := filepath.Join(t.TempDir(), "pid")
	killAtCleanup(t, pidfile)
	done := make(chan error, 1)
	go func() {
		_, err := tr.Run(context.Background(), Command{Argv: []string{"/bin/sh", "-c", `echo $$ > "$1"; exec sleep 300`, "sh", pidfile}})
		done <- err
	}()
	waitFor(t, "the command to start", func() bool { return readPid(pidfile) > 0 })
	s.DropConnections()
	err := <-done
	if err == nil || !strings.Contains(err.Error(), "connection lost") || !strings.Contains(err.Error(), tr.Host()) {
		t.Fatalf("got %v", err)
	}
	if !errors.Is(err, ErrConnection) {
		t.Errorf("a dropped connection is not an ErrConnection: %v", err)
	}
	if out := mustRun(t, tr, "echo", "back"); out != "back\n" {
		t.Fatalf("got %q", out)
	}
	if d := dialsOf(tr.Host()); d != 2 {
		t.Fatalf("dials %d, want 2", d)
	}
}

// A connection that silently stops answering (no FIN, no RST) is noticed by
// the keepalive and replaced. Only dials, no commands, are checked after the
// short keepalive is on: a loaded machine may be slow to answer one.
func TestSSHKeepaliveDropsSilentConnection(t *testing.T) {
	t.Parallel()
	s := sshdtest.StartT(t)
	tr := newSSH(t, s, func(c *SSHConfig) { c.KeepAlive = 100 * time.Millisecond })
	ctx := context.Background()
	if err := tr.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	tr.mu.Lock()
	first := tr.cur
	tr.mu.Unlock()
	s.PauseConnections()
	t.Cleanup(s.ResumeConnections)
	waitFor(t, "the keepalive to give up on the connection", func() bool {
		select {
		case <-first.dead:
			return true
		default:
			return false
		}
	})
	s.ResumeConnections()
	if err := tr.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	tr.mu.Lock()
	second := tr.cur
	tr.mu.Unlock()
	if second == first || dialsOf(tr.Host()) != 2 {
		t.Fatalf("dials %d, want 2 (a new connection)", dialsOf(tr.Host()))
	}
}

// The host's env reaches commands through the command line (env K=V): the
// test sshd, like most, has no AcceptEnv.
func TestSSHHostEnvThroughCommandLine(t *testing.T) {
	t.Parallel()
	s := sshdtest.StartT(t)
	conf, err := os.ReadFile(filepath.Join(s.Dir, "sshd_config"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToLower(string(conf)), "acceptenv") {
		t.Fatal("the test sshd must not accept env, or this test proves nothing")
	}
	tr := newSSH(t, s, func(c *SSHConfig) { c.Env = map[string]string{"BCTL_SITE": "tokyo 'dc1'", "LANG": "C"} })
	out := mustRun(t, tr, "/bin/sh", "-c", `printf '%s|%s' "$BCTL_SITE" "$LANG"`)
	if out != "tokyo 'dc1'|C" {
		t.Fatalf("got %q", out)
	}
}

// Sudo puts "sudo -n --" in front of the command line (after it, env).
// Where sudo is installed on the host it runs the command as root; where it
// is not, the shell's "not found" shows it was asked for.
func TestSSHSudo(t *testing.T) {
	t.Parallel()
	s := sshdtest.StartT(t)
	tr := newSSH(t, s, func(c *SSHConfig) { c.Sudo = true; c.Env = map[string]string{"BCTL_X": "1"} })
	res, err := tr.Run(context.Background(), Command{Argv: []string{"/bin/sh", "-c", `echo "$(id -u) $BCTL_X"`}})
	if err != nil {
		t.Fatal(err)
	}
	if _, lerr := os.Stat("/usr/bin/sudo"); lerr == nil {
		if res.ExitStatus != 0 || string(res.Stdout) != "0 1\n" {
			t.Fatalf("sudo run: %+v", res)
		}
		// A cancelled command under sudo is killed too, with its children.
		cancelShellAndChild(t, tr)
		return
	}
	if res.ExitStatus != 127 || !strings.Contains(string(res.Stderr), "sudo") {
		t.Fatalf("without sudo on the host the command must fail for want of sudo: %+v", res)
	}
}

func TestSSHAuthErrors(t *testing.T) {
	t.Parallel()
	s := sshdtest.StartT(t)
	_, sk, _ := ed25519.GenerateKey(rand.Reader)
	block, err := ssh.MarshalPrivateKeyWithPassphrase(sk, "", []byte("phrase"))
	if err != nil {
		t.Fatal(err)
	}
	protected := string(pem.EncodeToMemory(block))
	garbage := "-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbCBidXQgc2VjcmV0Cg==\n-----END OPENSSH PRIVATE KEY-----\n"
	otherKey := testPrivateKey(t)
	for _, tc := range []struct {
		name    string
		mod     func(*SSHConfig)
		want    string
		secrets []string
	}{
		{"passphrase", func(c *SSHConfig) { c.PrivateKey = protected }, "protected by a passphrase", keyBody(protected)},
		{"garbage key", func(c *SSHConfig) { c.PrivateKey = garbage }, "cannot be parsed", keyBody(garbage)},
		{"no method", func(c *SSHConfig) { c.PrivateKey = "" }, "no way to authenticate", nil},
		{"key not authorized", func(c *SSHConfig) { c.PrivateKey = otherKey }, "unable to authenticate", keyBody(otherKey)},
		{"wrong password", func(c *SSHConfig) { c.PrivateKey = ""; c.Password = "hunter2-wrong" }, "unable to authenticate", []string{"hunter2-wrong"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newSSH(t, s, tc.mod)
			_, err := tr.Run(context.Background(), Command{Argv: []string{"true"}})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tr.Host()) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "<nil>") || errors.Is(err, ErrHostKey) {
				t.Fatalf("unclear error: %v", err)
			}
			if errors.Is(err, ErrConnection) {
				t.Errorf("a refusal counts as a connection failure (it would be retried): %v", err)
			}
			assertNoSecret(t, err.Error(), tc.secrets...)
		})
	}
}

// Password login, for a throwaway user (sshd never takes root's password).
func TestSSHPassword(t *testing.T) {
	t.Parallel()
	s := sshdtest.StartT(t, sshdtest.WithPassword())
	tr := newSSH(t, s, func(c *SSHConfig) { c.User = s.PasswordUser; c.PrivateKey = ""; c.Password = s.ClientPassword })
	if out := mustRun(t, tr, "id", "-un"); out != s.PasswordUser+"\n" {
		t.Fatalf("logged in as %q, want %s", out, s.PasswordUser)
	}
	// Cancellation works for a non-root login too (there sshd also
	// delivers the channel signal).
	pidfile := filepath.Join("/tmp", "bctl-pw-"+s.PasswordUser+".pid")
	t.Cleanup(func() { _ = os.Remove(pidfile) })
	pid, _ := runCancelled(t, tr, pidfile, []string{"/bin/sh", "-c", `echo $$ > "$1"; exec sleep 300`, "sh", pidfile})
	waitFor(t, "the process to be gone", func() bool { return gone(pid) })
	// Dropping the connections of a non-root login (monitor and child).
	s.DropConnections()
	if out := mustRun(t, tr, "echo", "again"); out != "again\n" {
		t.Fatalf("got %q", out)
	}
	bad := newSSH(t, s, func(c *SSHConfig) { c.User = s.PasswordUser; c.PrivateKey = ""; c.Password = s.ClientPassword + "x" })
	_, err := bad.Run(context.Background(), Command{Argv: []string{"true"}})
	if err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("wrong password: %v", err)
	}
	assertNoSecret(t, err.Error(), s.ClientPassword)
}

// Agent auth, with an in-process agent on a unix socket.
func TestSSHAgent(t *testing.T) {
	s := sshdtest.StartT(t)
	key, err := ssh.ParseRawPrivateKey([]byte(s.ClientKey))
	if err != nil {
		t.Fatal(err)
	}
	kr := agent.NewKeyring()
	if err := kr.Add(agent.AddedKey{PrivateKey: key}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	var served sync.WaitGroup
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			served.Add(1)
			go func() {
				defer served.Done()
				_ = agent.ServeAgent(kr, c)
				_ = c.Close()
			}()
		}
	}()
	t.Setenv("SSH_AUTH_SOCK", sock)
	tr := newSSH(t, s, func(c *SSHConfig) { c.PrivateKey = ""; c.UseAgent = true })
	if out := mustRun(t, tr, "echo", "agent"); out != "agent\n" {
		t.Fatalf("got %q", out)
	}
	s.DropConnections()
	mustRun(t, tr, "true")
	// The agent connections of both dials were closed after their handshake.
	done := make(chan struct{})
	go func() { served.Wait(); close(done) }()
	waitFor(t, "the agent connections to be closed", func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	})
}

func TestPoolSharesTransports(t *testing.T) {
	t.Parallel()
	s := sshdtest.StartT(t)
	name := hostName(t)
	p := NewPool(map[string]HostConfig{name: {SSHConfig: SSHConfig{
		Address: s.Addr, User: s.User, PrivateKey: s.ClientKey, KnownHostsFile: s.KnownHostsFile,
	}}})
	t.Cleanup(func() { _ = p.Close() })
	if !p.Has(LocalHost) || !p.Has(name) || p.Has("nope") {
		t.Fatalf("names: %v", p.Names())
	}
	a, err := p.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := p.Get(name)
	if a != b {
		t.Fatal("two transports for one host")
	}
	runParallel(t, a, 5, func(int) []string { return []string{"true"} })
	runParallel(t, b, 5, func(int) []string { return []string{"true"} })
	if d := dialsOf(name); d != 1 {
		t.Fatalf("dials %d, want 1", d)
	}
	if _, err := p.Get("nope"); err == nil || !strings.Contains(err.Error(), name) {
		t.Fatalf("unknown host: %v", err)
	}
	l, _ := p.Get(LocalHost)
	if _, ok := l.(*Local); !ok {
		t.Fatalf("local is %T", l)
	}
	if secs := p.Secrets(); len(secs) != 1 || secs[0] != s.ClientKey {
		t.Fatalf("secrets: %d", len(secs))
	}
}

// An address where nothing listens is a connection failure (retried by
// read-only polls); a host key refusal is not.
func TestSSHConnectionFailureKinds(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := sshdtest.StartT(t)
	tr := newSSH(t, s, func(c *SSHConfig) { c.Address = addr })
	_, err = tr.Run(context.Background(), Command{Argv: []string{"true"}})
	if err == nil || !errors.Is(err, ErrConnection) || !strings.Contains(err.Error(), "connect") {
		t.Errorf("closed port: %v (want an ErrConnection)", err)
	}
	tr = newSSH(t, s, func(c *SSHConfig) { c.HostKey = otherHostKey(t) })
	_, err = tr.Run(context.Background(), Command{Argv: []string{"true"}})
	if err == nil || !errors.Is(err, ErrHostKey) || errors.Is(err, ErrConnection) {
		t.Errorf("host key mismatch: %v (want ErrHostKey only)", err)
	}
}
