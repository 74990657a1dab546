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
	"strings"
	"sync"
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
// first use and opened again when it dropped between commands.
type SSH struct {
	cfg      SSHConfig
	Observer func(host string, argv []string)

	mu     sync.Mutex
	client *ssh.Client
	stop   chan struct{}
}

var _ Transport = (*SSH)(nil)

// NewSSH returns a transport for cfg; nothing is dialled until first use.
func NewSSH(cfg SSHConfig) *SSH { return &SSH{cfg: cfg} }

// Host implements Transport.
func (s *SSH) Host() string { return s.cfg.Name }

// Connect dials now (if not connected) and reports any error.
func (s *SSH) Connect(ctx context.Context) error {
	_, err := s.conn(ctx, false)
	return err
}

func (s *SSH) conn(ctx context.Context, fresh bool) (*ssh.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client != nil && !fresh {
		return s.client, nil
	}
	if s.client != nil {
		s.closeLocked()
	}
	c, err := s.dial(ctx)
	if err != nil {
		return nil, err
	}
	s.client = c
	s.stop = make(chan struct{})
	go s.keepalive(c, s.stop)
	return c, nil
}

func (s *SSH) closeLocked() {
	if s.client != nil {
		close(s.stop)
		_ = s.client.Close()
		s.client = nil
	}
}

// drop forgets c if it is still the current client.
func (s *SSH) drop(c *ssh.Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == c {
		s.closeLocked()
	}
}

func (s *SSH) keepalive(c *ssh.Client, stop chan struct{}) {
	every := s.cfg.KeepAlive
	if every <= 0 {
		every = 30 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			done := make(chan error, 1)
			go func() {
				_, _, err := c.SendRequest("keepalive@openssh.com", true, nil)
				done <- err
			}()
			select {
			case err := <-done:
				if err != nil {
					s.drop(c)
					return
				}
			case <-time.After(every):
				s.drop(c)
				return
			case <-stop:
				return
			}
		}
	}
}

func (s *SSH) dial(ctx context.Context) (*ssh.Client, error) {
	addr := s.cfg.HostPort()
	hostKeyCB, algos, err := s.hostKeyCallback(addr)
	if err != nil {
		return nil, err
	}
	auth, err := s.authMethods()
	if err != nil {
		return nil, err
	}
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
		return nil, fmt.Errorf("host %q: connect %s: %w", s.cfg.Name, addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	} else {
		_ = nc.SetDeadline(time.Now().Add(timeout))
	}
	cc, chans, reqs, err := ssh.NewClientConn(nc, addr, conf)
	if err != nil {
		_ = nc.Close()
		if errors.Is(err, ErrHostKey) {
			return nil, err
		}
		var hk *hostKeyError
		if errors.As(err, &hk) {
			return nil, hk
		}
		return nil, fmt.Errorf("host %q: ssh handshake with %s@%s: %w", s.cfg.Name, s.cfg.User, addr, err)
	}
	_ = nc.SetDeadline(time.Time{})
	countDial(s.cfg.Name)
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

func (s *SSH) authMethods() ([]ssh.AuthMethod, error) {
	var m []ssh.AuthMethod
	if s.cfg.PrivateKey != "" {
		signer, err := ssh.ParsePrivateKey([]byte(s.cfg.PrivateKey))
		if err != nil {
			var pe *ssh.PassphraseMissingError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("host %q: private_key is protected by a passphrase: load it into ssh-agent instead", s.cfg.Name)
			}
			return nil, fmt.Errorf("host %q: private_key cannot be parsed: %v", s.cfg.Name, errors.Unwrap(err))
		}
		m = append(m, ssh.PublicKeys(signer))
	}
	if s.cfg.UseAgent {
		if sock := os.Getenv("SSH_AUTH_SOCK"); sock != "" {
			if conn, err := net.Dial("unix", sock); err == nil {
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
		return nil, fmt.Errorf("host %q: no way to authenticate: set private_key or password, or run an ssh-agent (SSH_AUTH_SOCK)", s.cfg.Name)
	}
	return m, nil
}

// session opens a session, reconnecting once when the pooled connection
// turns out to be dead (nothing has run yet, so retrying is safe).
func (s *SSH) session(ctx context.Context) (*ssh.Client, *ssh.Session, error) {
	c, err := s.conn(ctx, false)
	if err != nil {
		return nil, nil, err
	}
	sess, err := c.NewSession()
	if err == nil {
		return c, sess, nil
	}
	s.drop(c)
	c, err = s.conn(ctx, true)
	if err != nil {
		return nil, nil, err
	}
	sess, err = c.NewSession()
	if err != nil {
		s.drop(c)
		return nil, nil, fmt.Errorf("host %q: open session: %w", s.cfg.Name, err)
	}
	return c, sess, nil
}

// Run implements Transport. On cancellation the remote process group is sent
// SIGKILL (sshd delivers channel signals with killpg) and the channel closed.
func (s *SSH) Run(ctx context.Context, cmd Command) (Result, error) {
	if len(cmd.Argv) == 0 {
		return Result{}, errors.New("transport: empty command")
	}
	if s.Observer != nil {
		s.Observer(s.Host(), cmd.Argv)
	}
	countCommand(s.cfg.Name)
	c, sess, err := s.session(ctx)
	if err != nil {
		return Result{}, err
	}
	defer sess.Close()
	line := CommandLine(cmd.Argv, MergeEnv(s.cfg.Env, cmd.Env), s.cfg.Sudo, cmd.Dir)
	stdout, stderr, collect := outputs(cmd)
	sess.Stdout, sess.Stderr = stdout, stderr
	if cmd.Stdin != nil {
		w, err := sess.StdinPipe()
		if err != nil {
			return Result{}, err
		}
		go func() {
			_, _ = io.Copy(w, cmd.Stdin)
			_ = w.Close()
		}()
	}
	if err := sess.Start(line); err != nil {
		s.drop(c)
		return Result{}, fmt.Errorf("host %q: start %s: %w", s.cfg.Name, cmd.Argv[0], err)
	}
	waited := make(chan error, 1)
	go func() { waited <- sess.Wait() }()
	var werr error
	select {
	case werr = <-waited:
	case <-ctx.Done():
		_ = sess.Signal(ssh.SIGKILL)
		_ = sess.Close()
		select {
		case <-waited:
		case <-time.After(5 * time.Second):
		}
		var res Result
		collect(&res)
		return res, fmt.Errorf("host %q: %s: %w", s.cfg.Name, cmd.Argv[0], ctx.Err())
	}
	var res Result
	collect(&res)
	var ee *ssh.ExitError
	switch {
	case werr == nil:
	case errors.As(werr, &ee):
		res.ExitStatus = ee.ExitStatus()
		if ee.Signal() != "" && res.ExitStatus == 0 {
			res.ExitStatus = 128 + 9
		}
	default:
		var em *ssh.ExitMissingError
		if errors.As(werr, &em) || errors.Is(werr, io.EOF) {
			s.drop(c)
			return res, fmt.Errorf("host %q: connection lost while %s was running: the command may or may not have completed", s.cfg.Name, cmd.Argv[0])
		}
		return res, fmt.Errorf("host %q: %s: %w", s.cfg.Name, cmd.Argv[0], werr)
	}
	return res, nil
}

// Put implements Transport.
func (s *SSH) Put(ctx context.Context, path string, r io.Reader, mode uint32) error {
	return put(ctx, s, path, r, mode)
}

// Get implements Transport.
func (s *SSH) Get(ctx context.Context, path string, w io.Writer) error {
	return get(ctx, s, path, w)
}

// Close implements Transport.
func (s *SSH) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeLocked()
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
