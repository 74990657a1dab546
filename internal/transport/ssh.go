package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SSHConfig describes one remote host.
type SSHConfig struct {
	Name           string
	Address        string // host or host:port (default port 22)
	User           string
	PrivateKey     string // PEM/OpenSSH private key
	Password       string
	KnownHostsFile string // used when HostKey is empty; "~" is expanded
	HostKey        string // pinned key, authorized_keys format
	UseAgent       bool   // also try the agent at $SSH_AUTH_SOCK
	Sudo           bool
	Env            map[string]string
	KeepAlive      time.Duration // 0 = 30s
	DialTimeout    time.Duration // 0 = 20s
}

// Secrets returns the configured secrets, for masking.
func (c SSHConfig) Secrets() []string {
	var s []string
	if c.PrivateKey != "" {
		s = append(s, c.PrivateKey)
	}
	if c.Password != "" {
		s = append(s, c.Password)
	}
	return s
}

// HostPort returns the address with the default port added.
func (c SSHConfig) HostPort() string {
	if _, _, err := net.SplitHostPort(c.Address); err == nil {
		return c.Address
	}
	return net.JoinHostPort(strings.Trim(c.Address, "[]"), "22")
}

// SSH runs commands on a remote host over one pooled connection, opened on
// first use (or ahead of it, by Warm) and opened again when it dropped
// between commands.
type SSH struct {
	cfg      SSHConfig
	Observer func(host string, argv []string)

	mu      sync.Mutex
	cur     *sshConn
	pending *pendingDial // the dial in flight, shared by whoever needs it

	// idleTimer starts the timer of Warm's idle period (time.NewTimer
	// unless a test injects its own); warmChecked, when set, hears
	// whether Warm closed its connection once the period was over.
	idleTimer   func(time.Duration) (c <-chan time.Time, stop func() bool)
	warmChecked func(closed bool)
}

func (s *SSH) startIdleTimer(d time.Duration) (<-chan time.Time, func() bool) {
	if s.idleTimer != nil {
		return s.idleTimer(d)
	}
	t := time.NewTimer(d)
	return t.C, t.Stop
}

// pendingDial is one dial that several callers wait for: a host that does
// not answer costs one dial timeout, not one per caller in turn.
type pendingDial struct {
	done chan struct{}
	ctx  context.Context // the dialler's: its cancellation is not the waiters'
	c    *sshConn
	err  error
}

// sshConn is one connection with the goroutines that watch it.
type sshConn struct {
	*ssh.Client
	dead   chan struct{} // closed once the connection has ended
	active atomic.Int32  // sessions open on it
	used   bool          // handed to a caller (guarded by SSH.mu)

	mu    sync.Mutex
	freed chan struct{} // closed (and forgotten) when a session ends
}

// release counts a session as ended and wakes those waiting for one.
func (c *sshConn) release() {
	c.active.Add(-1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.freed != nil {
		close(c.freed)
		c.freed = nil
	}
}

// nextFree returns a channel closed when the next session ends.
func (c *sshConn) nextFree() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.freed == nil {
		c.freed = make(chan struct{})
	}
	return c.freed
}

var _ Transport = (*SSH)(nil)

// NewSSH returns a transport for cfg; nothing is dialled until first use.
func NewSSH(cfg SSHConfig) *SSH { return &SSH{cfg: cfg} }

// Host implements Transport.
func (s *SSH) Host() string { return s.cfg.Name }

// Connect dials now (if not connected) and reports any error.
func (s *SSH) Connect(ctx context.Context) error {
	_, err := s.conn(ctx, nil)
	return err
}

// conn returns the pooled connection, dialling when there is none, when it
// has ended, or when it is stale (the caller found it dead). Comparing with
// stale, rather than always redialling, matters when several commands find
// the connection dead at once: the first one dials, the others take its
// new connection instead of closing it under it and dialling again.
// Callers arriving while a dial is in flight wait for it and share its
// outcome, its error included.
func (s *SSH) conn(ctx context.Context, stale *sshConn) (*sshConn, error) {
	for {
		s.mu.Lock()
		if c := s.cur; c != nil && c != stale {
			select {
			case <-c.dead:
			default:
				c.used = true
				s.mu.Unlock()
				return c, nil
			}
		}
		if pd := s.pending; pd != nil {
			s.mu.Unlock()
			select {
			case <-pd.done:
			case <-ctx.Done():
				return nil, fmt.Errorf("host %q: waiting for the connection: %w", s.cfg.Name, ctx.Err())
			}
			if pd.err != nil && pd.ctx.Err() != nil && ctx.Err() == nil {
				continue // the dialler gave up, not the host: dial for ourselves
			}
			if pd.err != nil {
				return nil, pd.err
			}
			continue // take the new connection (or find it already dead)
		}
		if s.cur != nil {
			_ = s.cur.Close()
			s.cur = nil
		}
		pd := s.beginDial(ctx)
		s.mu.Unlock()
		s.finishDial(pd, false)
		return pd.c, pd.err
	}
}

// beginDial records a dial in flight; s.mu is held.
func (s *SSH) beginDial(ctx context.Context) *pendingDial {
	pd := &pendingDial{done: make(chan struct{}), ctx: ctx}
	s.pending = pd
	return pd
}

// finishDial dials for pd, makes the connection the pooled one and wakes
// those waiting for it. A warm connection is not yet used by anyone.
func (s *SSH) finishDial(pd *pendingDial, warm bool) {
	pd.c, pd.err = s.open(pd.ctx, warm)
	s.mu.Lock()
	s.pending = nil
	if pd.err == nil {
		pd.c.used = !warm
		s.cur = pd.c
	}
	s.mu.Unlock()
	close(pd.done)
}

// open dials and starts the goroutines that watch the new connection.
func (s *SSH) open(ctx context.Context, warm bool) (*sshConn, error) {
	client, err := s.dial(ctx)
	if err != nil {
		return nil, err
	}
	countDial(s.cfg.Name, warm)
	c := &sshConn{Client: client, dead: make(chan struct{})}
	go func() {
		_ = client.Wait()
		close(c.dead)
	}()
	go s.keepalive(c)
	return c, nil
}

// Warm dials in the background, so that the handshake overlaps whatever the
// caller does before its first command. It reports nothing itself: a
// command issued while the dial is in flight waits for it and shares its
// outcome, one issued after a failed dial dials again. A connection that no
// command has used after idle is closed: warming a host that the run turns
// out not to need costs one short-lived login, and no session.
//
// A host that logs in through the ssh-agent alone is not warmed: the agent
// may ask its user (a confirmation, a touch on a hardware key), and only a
// host that is really used should ask.
func (s *SSH) Warm(idle time.Duration) {
	if s.cfg.PrivateKey == "" && s.cfg.Password == "" {
		return
	}
	s.mu.Lock()
	if s.cur != nil || s.pending != nil {
		s.mu.Unlock()
		return
	}
	// No deadline of its own: dial bounds the connect and the handshake
	// by DialTimeout, and a failure is then the host's, for waiters too.
	pd := s.beginDial(context.Background())
	s.mu.Unlock()
	go func() {
		s.finishDial(pd, true)
		if pd.err != nil {
			return
		}
		expired, stop := s.startIdleTimer(idle)
		defer stop()
		select {
		case <-pd.c.dead:
			return
		case <-expired:
		}
		s.mu.Lock()
		closed := !pd.c.used && s.cur == pd.c
		if closed {
			_ = pd.c.Close()
			s.cur = nil
		}
		s.mu.Unlock()
		if s.warmChecked != nil {
			s.warmChecked(closed)
		}
	}()
}

func (s *SSH) keepAliveEvery() time.Duration {
	if s.cfg.KeepAlive > 0 {
		return s.cfg.KeepAlive
	}
	return 30 * time.Second
}

// keepalive pings the server; a connection that does not answer within one
// interval is closed, which fails what runs on it and makes the next
// command dial again. It ends with the connection.
func (s *SSH) keepalive(c *sshConn) {
	every := s.keepAliveEvery()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.dead:
			return
		case <-t.C:
		}
		if !c.alive(every) {
			_ = c.Close()
			return
		}
	}
}

// alive asks the server for a reply (any reply, even a refusal, proves the
// connection works) and waits at most timeout.
func (c *sshConn) alive(timeout time.Duration) bool {
	done := make(chan error, 1)
	go func() {
		_, _, err := c.SendRequest("keepalive@openssh.com", true, nil)
		done <- err
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-done:
		return err == nil
	case <-c.dead:
		return false
	case <-t.C:
		return false
	}
}

func (s *SSH) dial(ctx context.Context) (*ssh.Client, error) {
	addr := s.cfg.HostPort()
	hostKeyCB, algos, err := s.hostKeyCallback(addr)
	if err != nil {
		return nil, err
	}
	auth, done, err := s.authMethods()
	if err != nil {
		return nil, err
	}
	defer done()
	timeout := s.cfg.DialTimeout
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	conf := &ssh.ClientConfig{
		User:              s.cfg.User,
		Auth:              auth,
		HostKeyCallback:   hostKeyCB,
		HostKeyAlgorithms: algos,
		Timeout:           timeout,
	}
	d := net.Dialer{Timeout: timeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, connFailed(fmt.Errorf("host %q: connect %s: %w", s.cfg.Name, addr, err))
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	} else {
		_ = nc.SetDeadline(time.Now().Add(timeout))
	}
	cc, chans, reqs, err := ssh.NewClientConn(quickAck(nc), addr, conf)
	if err != nil {
		_ = nc.Close()
		if errors.Is(err, ErrHostKey) {
			return nil, err
		}
		var hk *hostKeyError
		if errors.As(err, &hk) {
			return nil, hk
		}
		err = fmt.Errorf("host %q: ssh handshake with %s@%s: %w", s.cfg.Name, s.cfg.User, addr, err)
		if strings.Contains(err.Error(), "unable to authenticate") {
			return nil, err // refused, not a network failure
		}
		return nil, connFailed(err)
	}
	_ = nc.SetDeadline(time.Time{})
	return ssh.NewClient(cc, chans, reqs), nil
}

// hostKeyError names the host, the address and the offered fingerprint.
type hostKeyError struct{ msg string }

func (e *hostKeyError) Error() string { return e.msg }
func (e *hostKeyError) Unwrap() error { return ErrHostKey }

func (s *SSH) hostKeyCallback(addr string) (ssh.HostKeyCallback, []string, error) {
	name := s.cfg.Name
	if s.cfg.HostKey != "" {
		want, _, _, _, err := ssh.ParseAuthorizedKey([]byte(s.cfg.HostKey))
		if err != nil {
			return nil, nil, fmt.Errorf("host %q: host_key: %w", name, err)
		}
		cb := func(_ string, _ net.Addr, got ssh.PublicKey) error {
			if bytes.Equal(got.Marshal(), want.Marshal()) {
				return nil
			}
			return &hostKeyError{fmt.Sprintf(
				"host %q (%s): host key mismatch: the server offered %s %s but host_key pins %s %s; "+
					"if the server's key really changed, update host_key after checking the new fingerprint out of band",
				name, addr, got.Type(), ssh.FingerprintSHA256(got), want.Type(), ssh.FingerprintSHA256(want))}
		}
		return cb, algorithmsFor([]ssh.PublicKey{want}), nil
	}
	file := ExpandHome(s.cfg.KnownHostsFile)
	if file == "" {
		file = ExpandHome("~/.ssh/known_hosts")
	}
	kh, err := knownhosts.New(file)
	if err != nil {
		return nil, nil, fmt.Errorf("host %q: known_hosts_file %s: %w (host keys are always verified: give a readable known_hosts_file or a pinned host_key)", name, file, err)
	}
	// Ask the file which key types it knows for this address, so that the
	// server is asked for one of those.
	var known []ssh.PublicKey
	var ke *knownhosts.KeyError
	probe := probeKey{}
	if err := kh(addr, &net.TCPAddr{}, probe); errors.As(err, &ke) {
		for _, k := range ke.Want {
			known = append(known, k.Key)
		}
	}
	cb := func(hostname string, remote net.Addr, got ssh.PublicKey) error {
		err := kh(hostname, remote, got)
		if err == nil {
			return nil
		}
		var ke *knownhosts.KeyError
		if errors.As(err, &ke) && len(ke.Want) > 0 {
			var wants []string
			for _, w := range ke.Want {
				wants = append(wants, fmt.Sprintf("%s %s (%s:%d)", w.Key.Type(), ssh.FingerprintSHA256(w.Key), w.Filename, w.Line))
			}
			return &hostKeyError{fmt.Sprintf(
				"host %q (%s): host key mismatch: the server offered %s %s, but %s expects %s; "+
					"this may be a man-in-the-middle attack or a reinstalled server: check the fingerprint out of band before updating known_hosts",
				name, addr, got.Type(), ssh.FingerprintSHA256(got), file, strings.Join(wants, ", "))}
		}
		if errors.As(err, &ke) {
			return &hostKeyError{fmt.Sprintf(
				"host %q (%s): host key %s %s is not in %s; add it (for example with ssh-keyscan, after checking the fingerprint) or pin it with host_key",
				name, addr, got.Type(), ssh.FingerprintSHA256(got), file)}
		}
		return &hostKeyError{fmt.Sprintf("host %q (%s): %v", name, addr, err)}
	}
	return cb, algorithmsFor(known), nil
}

type probeKey struct{}

func (probeKey) Type() string                            { return "backupctl-probe" }
func (probeKey) Marshal() []byte                         { return []byte("backupctl-probe") }
func (probeKey) Verify(_ []byte, _ *ssh.Signature) error { return errors.New("probe") }

func algorithmsFor(keys []ssh.PublicKey) []string {
	var out []string
	seen := map[string]bool{}
	add := func(a string) {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	for _, k := range keys {
		switch k.Type() {
		case ssh.KeyAlgoRSA:
			add(ssh.KeyAlgoRSASHA512)
			add(ssh.KeyAlgoRSASHA256)
			add(ssh.KeyAlgoRSA)
		default:
			add(k.Type())
		}
	}
	return out
}

// authMethods returns the ways to log in; done releases what they hold (the
// agent connection, needed only during the handshake).
func (s *SSH) authMethods() (m []ssh.AuthMethod, done func(), err error) {
	done = func() {}
	if s.cfg.PrivateKey != "" {
		signer, err := ssh.ParsePrivateKey([]byte(s.cfg.PrivateKey))
		if err != nil {
			var pe *ssh.PassphraseMissingError
			if errors.As(err, &pe) {
				return nil, nil, fmt.Errorf("host %q: private_key is protected by a passphrase: load it into ssh-agent instead", s.cfg.Name)
			}
			// x/crypto's parse errors describe the format, never the key
			// material (errors.Unwrap gave "<nil>" for most of them).
			return nil, nil, fmt.Errorf("host %q: private_key cannot be parsed: %v", s.cfg.Name, err)
		}
		m = append(m, ssh.PublicKeys(signer))
	}
	if s.cfg.UseAgent {
		if sock := os.Getenv("SSH_AUTH_SOCK"); sock != "" {
			if conn, err := net.Dial("unix", sock); err == nil {
				// Closed after the handshake: it used to leak, one per dial.
				done = func() { _ = conn.Close() }
				m = append(m, ssh.PublicKeysCallback(agent.NewClient(conn).Signers))
			}
		}
	}
	if s.cfg.Password != "" {
		pw := s.cfg.Password
		m = append(m, ssh.Password(pw), ssh.KeyboardInteractive(func(_, _ string, qs []string, _ []bool) ([]string, error) {
			a := make([]string, len(qs))
			for i := range a {
				a[i] = pw
			}
			return a, nil
		}))
	}
	if len(m) == 0 {
		return nil, nil, fmt.Errorf("host %q: no way to authenticate: set private_key or password, or run an ssh-agent (SSH_AUTH_SOCK)", s.cfg.Name)
	}
	return m, done, nil
}

// session opens a session, reconnecting once when the pooled connection
// turns out to be dead (nothing has run yet, so retrying is safe). A server
// that refuses the session while others are open on the connection is at
// its MaxSessions (10 in a stock sshd): wait for one to end, do not drop the
// connection under the commands that run on it.
func (s *SSH) session(ctx context.Context) (*sshConn, *ssh.Session, error) {
	var stale *sshConn
	wait := 20 * time.Millisecond
	idleRefusals := 0
	for {
		c, err := s.conn(ctx, stale)
		if err != nil {
			return nil, nil, err
		}
		freed := c.nextFree() // taken first, so no release is missed
		c.active.Add(1)
		sess, err := c.NewSession()
		if err == nil {
			return c, sess, nil
		}
		c.release()
		var oce *ssh.OpenChannelError
		if errors.As(err, &oce) {
			// OpenSSH gives no telling reason (9.2: "connect failed"); that
			// sessions are open on this connection is what tells. With none
			// open, the server may still be freeing ones just closed: a
			// few tries, then it is a real refusal.
			if c.active.Load() == 0 {
				if idleRefusals++; idleRefusals > 4 {
					return nil, nil, fmt.Errorf("host %q: the server refused a session: %w", s.cfg.Name, err)
				}
			}
			// Wake when a session of ours ends; the timer covers a server
			// that frees its slot a moment after our side did.
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, nil, fmt.Errorf("host %q: waiting for a free session: %w", s.cfg.Name, ctx.Err())
			case <-freed:
			case <-t.C:
			}
			t.Stop()
			wait = min(2*wait, 500*time.Millisecond)
			continue
		}
		if stale != nil {
			return nil, nil, connFailed(fmt.Errorf("host %q: open session: %w", s.cfg.Name, err))
		}
		stale = c
	}
}

// Run implements Transport. On cancellation the remote process group is
// killed (see kill) before the channel is closed.
func (s *SSH) Run(ctx context.Context, cmd Command) (Result, error) {
	if len(cmd.Argv) == 0 {
		return Result{}, errors.New("transport: empty command")
	}
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("host %q: %s: %w", s.cfg.Name, cmd.Argv[0], err)
	}
	env := MergeEnv(s.cfg.Env, cmd.Env)
	if err := CheckEnv(env); err != nil {
		return Result{}, fmt.Errorf("host %q: %w", s.cfg.Name, err)
	}
	if s.Observer != nil {
		s.Observer(s.Host(), cmd.Argv)
	}
	countCommand(s.cfg.Name)
	c, sess, err := s.session(ctx)
	if err != nil {
		return Result{}, err
	}
	defer func() {
		_ = sess.Close()
		c.release()
	}()
	line := remoteLine(CommandLine(cmd.Argv, env, s.cfg.Sudo, cmd.Dir))
	stdout, stderr, collect := outputs(cmd)
	sniff := newPIDSniffer(stderr)
	sess.Stdout, sess.Stderr = stdout, sniff
	var stdin io.WriteCloser
	if cmd.Stdin != nil {
		if stdin, err = sess.StdinPipe(); err != nil {
			return Result{}, err
		}
	}
	if err := sess.Start(line); err != nil {
		// A dead connection is noticed by its watcher and replaced by the
		// next command; a live one stays for the commands running on it.
		return Result{}, connFailed(fmt.Errorf("host %q: start %s: %w", s.cfg.Name, cmd.Argv[0], err))
	}
	waited := make(chan error, 1)
	ended := make(chan struct{})
	go func() {
		waited <- sess.Wait()
		close(ended)
	}()
	var once sync.Once
	kill := func() { once.Do(func() { s.kill(c, sess, sniff, ended) }) }
	var pump *stdinPump
	if stdin != nil {
		// Started only now: an abort before the exec request would have
		// nothing to kill.
		pump = pumpStdin(cmd.Stdin, stdin, kill)
	}
	var werr error
	select {
	case werr = <-waited:
	case <-ctx.Done():
		kill()
		var res Result
		select {
		case <-ended:
			collect(&res)
		case <-time.After(5 * time.Second):
			// A hung connection: x/crypto's copiers may still write into
			// the capture buffers, so nothing is collected.
		}
		return res, fmt.Errorf("host %q: %s: %w", s.cfg.Name, cmd.Argv[0], ctx.Err())
	}
	sniff.flush()
	var res Result
	collect(&res)
	if rerr := pump.readErr(); rerr != nil {
		return res, fmt.Errorf("host %q: %s: reading its input: %w (the command was killed)", s.cfg.Name, cmd.Argv[0], rerr)
	}
	var ee *ssh.ExitError
	switch {
	case werr == nil:
	case errors.As(werr, &ee):
		// x/crypto already maps exit-signal to 128+signal number.
		res.ExitStatus = ee.ExitStatus()
	default:
		var em *ssh.ExitMissingError
		if errors.As(werr, &em) || errors.Is(werr, io.EOF) {
			// Usually the connection died under the command; check before
			// closing it, as other commands may be running on it.
			if !c.alive(s.keepAliveEvery()) {
				_ = c.Close()
				return res, connFailed(fmt.Errorf("host %q: connection lost while %s was running: the command may or may not have completed", s.cfg.Name, cmd.Argv[0]))
			}
			return res, connFailed(fmt.Errorf("host %q: %s ended without an exit status (the server closed the session)", s.cfg.Name, cmd.Argv[0]))
		}
		return res, fmt.Errorf("host %q: %s: %w", s.cfg.Name, cmd.Argv[0], werr)
	}
	return res, nil
}

// kill ends a running command, before its session is closed (closing it
// first would hand the command the end of its input). The channel signal
// alone is not enough: sshd refuses it for sessions without post-auth
// privilege separation, which means every root login, so the process group
// is also killed from a second session, by the pid the command line
// printed. Under sudo the group is root's: the kill goes through sudo too,
// with SIGTERM first, which sudo relays to a command it may have put in a
// process group of its own.
func (s *SSH) kill(c *sshConn, sess *ssh.Session, sniff *pidSniffer, ended <-chan struct{}) {
	defer func() { _ = sess.Close() }()
	_ = sess.Signal(ssh.SIGKILL)
	var pid int
	select {
	case <-sniff.got:
		pid = sniff.PID()
	case <-ended:
		return
	case <-time.After(10 * time.Second):
	}
	if pid <= 1 {
		return
	}
	// "kill -SIG -pgid", without "--": dash's kill takes "--" for a pid.
	script := `kill -KILL "-$1" 2>/dev/null; exit 0`
	if s.cfg.Sudo {
		script = `kill -TERM "-$1" 2>/dev/null || exit 0; i=0
while [ $i -lt 20 ] && kill -0 "-$1" 2>/dev/null; do sleep 0.1; i=$((i+1)); done
kill -KILL "-$1" 2>/dev/null; exit 0`
	}
	line := CommandLine([]string{"/bin/sh", "-c", script, "sh", strconv.Itoa(pid)}, nil, s.cfg.Sudo, "")
	// On the command's own connection only: dialling again to kill would
	// delay the cancellation, and a dead connection has ended the session
	// anyway. The server may be at MaxSessions: retry while a slot may free
	// up. All of it bounded, as the connection may hang.
	killed := make(chan struct{})
	go func() {
		defer close(killed)
		for i := 0; i < 50; i++ {
			ks, err := c.NewSession()
			if err == nil {
				_ = ks.Run(line)
				_ = ks.Close()
				return
			}
			var oce *ssh.OpenChannelError
			if !errors.As(err, &oce) {
				return
			}
			select {
			case <-ended:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	select {
	case <-killed:
	case <-ended:
	case <-time.After(10 * time.Second):
	}
}

// Put implements Transport.
func (s *SSH) Put(ctx context.Context, path string, r io.Reader, mode uint32) error {
	return put(ctx, s, path, r, mode)
}

// Get implements Transport.
func (s *SSH) Get(ctx context.Context, path string, w io.Writer) error {
	return get(ctx, s, path, w)
}

// Close implements Transport. A dial in flight is waited for, then closed.
func (s *SSH) Close() error {
	s.mu.Lock()
	for s.pending != nil {
		pd := s.pending
		s.mu.Unlock()
		<-pd.done
		s.mu.Lock()
	}
	defer s.mu.Unlock()
	if s.cur != nil {
		_ = s.cur.Close()
		s.cur = nil
	}
	return nil
}

// ExpandHome expands a leading "~/" with the user's home directory.
func ExpandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, strings.TrimPrefix(p, "~"))
		}
	}
	return p
}

// FingerprintOf returns the SHA256 fingerprint of an authorized_keys line.
func FingerprintOf(authorizedKey string) (string, error) {
	k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(authorizedKey))
	if err != nil {
		return "", err
	}
	return ssh.FingerprintSHA256(k), nil
}
