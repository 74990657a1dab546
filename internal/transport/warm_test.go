package transport

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/sshdtest"
)

func warmsOf(host string) int64 { return Snapshot().Warm[host] }

// A command issued while the warm-up dial is in flight, and one issued
// after it, both run on the warm connection: one login in all.
func TestSSHWarmConnectionServesCommands(t *testing.T) {
	t.Parallel()
	s := sshdtest.StartT(t)
	tr := newSSH(t, s, nil)
	h := tr.Host()
	tr.Warm(time.Minute)
	if got := mustRun(t, tr, "echo", "one"); got != "one\n" {
		t.Fatalf("first command printed %q", got)
	}
	waitFor(t, "the warm dial to be counted", func() bool { return warmsOf(h) == 1 })
	if got := mustRun(t, tr, "echo", "two"); got != "two\n" {
		t.Fatalf("second command printed %q", got)
	}
	if d, w := dialsOf(h), warmsOf(h); d != 1 || w != 1 {
		t.Errorf("connections opened %d (warm %d); want 1, the warm one", d, w)
	}
	tr.Warm(time.Minute) // connected already: nothing to do (decided before Warm returns)
	tr.mu.Lock()
	pending := tr.pending
	tr.mu.Unlock()
	if pending != nil {
		t.Errorf("warming a connected host started another dial")
	}
}

// idleByHand replaces the timer of tr's warm-up idle period with one the
// test fires, and returns it with what the check after it decided.
func idleByHand(t *testing.T, tr *SSH) (endIdle func(), closed <-chan bool) {
	f := make(chan time.Time)
	c := make(chan bool, 1)
	tr.idleTimer = func(time.Duration) (<-chan time.Time, func() bool) { return f, func() bool { return true } }
	tr.warmChecked = func(closedIt bool) { c <- closedIt }
	return func() {
		select {
		case f <- time.Now():
		case <-time.After(20 * time.Second):
			t.Fatal("the warm-up is not waiting out an idle period")
		}
	}, c
}

// A warm connection that no command asks for is closed after the idle
// period; the next command dials its own.
func TestSSHWarmConnectionUnusedIsClosed(t *testing.T) {
	t.Parallel()
	s := sshdtest.StartT(t)
	tr := newSSH(t, s, nil)
	h := tr.Host()
	endIdle, closed := idleByHand(t, tr)
	tr.Warm(time.Hour)
	waitFor(t, "the warm dial", func() bool { return warmsOf(h) == 1 })
	tr.mu.Lock()
	c := tr.cur
	tr.mu.Unlock()
	if c == nil {
		t.Fatal("no connection after the warm dial")
	}
	endIdle() // nobody used the connection
	if !<-closed {
		t.Fatal("the unused warm connection was kept")
	}
	select {
	case <-c.dead:
	case <-time.After(20 * time.Second):
		t.Fatal("the unused warm connection is still open")
	}
	if got := mustRun(t, tr, "echo", "later"); got != "later\n" {
		t.Fatalf("command printed %q", got)
	}
	if d, w := dialsOf(h), warmsOf(h); d != 2 || w != 1 {
		t.Errorf("connections %d (warm %d); want 2: the closed warm one and the command's", d, w)
	}
}

// A used warm connection stays open after the idle period.
func TestSSHWarmConnectionUsedStaysOpen(t *testing.T) {
	t.Parallel()
	s := sshdtest.StartT(t)
	tr := newSSH(t, s, nil)
	h := tr.Host()
	endIdle, closed := idleByHand(t, tr)
	tr.Warm(time.Hour)
	mustRun(t, tr, "true")
	endIdle() // after the command
	if <-closed {
		t.Error("the used warm connection was closed")
	}
	mustRun(t, tr, "true")
	if d := dialsOf(h); d != 1 {
		t.Errorf("connections %d; want 1 (the used warm connection was closed)", d)
	}
}

// Callers waiting for a dial share its failure: a host that accepts TCP
// and then says nothing costs one dial timeout, not one per caller.
func TestSSHWaitersShareAFailedDial(t *testing.T) {
	t.Parallel()
	addr, accepted := silentListener(t)
	s := sshdtest.StartT(t)
	tr := newSSH(t, s, func(c *SSHConfig) { c.Address = addr; c.DialTimeout = 500 * time.Millisecond })
	tr.Warm(time.Minute)
	waitFor(t, "the warm dial to connect", func() bool { return accepted.Load() == 1 })
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = tr.Run(context.Background(), Command{Argv: []string{"true"}})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err == nil || !errors.Is(err, ErrConnection) {
			t.Errorf("command %d: %v; want the warm dial's connection error", i, err)
		}
	}
	if n := accepted.Load(); n != 1 {
		t.Errorf("%d TCP connections for 1 warm dial and 3 waiting commands; want 1", n)
	}
	// The failure is not remembered: the next command tries again.
	_, _ = tr.Run(context.Background(), Command{Argv: []string{"true"}})
	if n := accepted.Load(); n != 2 {
		t.Errorf("after the shared failure a new command made %d connections in all; want 2", n)
	}
}

// A caller whose own context ends stops waiting for someone else's dial.
func TestSSHWaiterCancelled(t *testing.T) {
	t.Parallel()
	addr, _ := silentListener(t)
	s := sshdtest.StartT(t)
	tr := newSSH(t, s, func(c *SSHConfig) { c.Address = addr; c.DialTimeout = time.Second })
	tr.Warm(time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	// Waiting out the other dial would end in its handshake timeout.
	_, err := tr.Run(ctx, Command{Argv: []string{"true"}})
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrConnection) {
		t.Errorf("got %v; want the caller's own deadline", err)
	}

}

// Close waits for a dial in flight and closes what it opened.
func TestSSHCloseDuringWarmDial(t *testing.T) {
	t.Parallel()
	s := sshdtest.StartT(t)
	tr := newSSH(t, s, nil)
	tr.Warm(time.Minute)
	_ = tr.Close()
	tr.mu.Lock()
	cur, pending := tr.cur, tr.pending
	tr.mu.Unlock()
	if cur != nil || pending != nil {
		t.Errorf("after Close: connection %v, dial in flight %v; want neither", cur != nil, pending != nil)
	}
}

// Only the agent can log in: Warm leaves the host alone.
func TestSSHWarmSkipsAgentOnlyHosts(t *testing.T) {
	t.Parallel()
	s := sshdtest.StartT(t)
	tr := newSSH(t, s, func(c *SSHConfig) { c.PrivateKey = ""; c.UseAgent = true })
	tr.Warm(time.Minute)
	tr.mu.Lock()
	cur, pending := tr.cur, tr.pending
	tr.mu.Unlock()
	if cur != nil || pending != nil {
		t.Errorf("an agent-only host was dialled ahead of use")
	}
}

// silentListener accepts TCP connections and never says a word (no SSH
// banner): a handshake with it hangs until the dial timeout. It counts the
// connections it accepted.
func silentListener(t *testing.T) (string, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var accepted atomic.Int32
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			_ = c.Close()
		}
	})
	return ln.Addr().String(), &accepted
}

// Pool.Warm connects every SSH host but the lazy ones; a lazy host is
// connected by its first command.
func TestPoolWarmSkipsLazyHosts(t *testing.T) {
	t.Parallel()
	s := sshdtest.StartT(t)
	eager, lazy := hostName(t)+"-eager", hostName(t)+"-lazy"
	cfg := SSHConfig{Address: s.Addr, User: s.User, PrivateKey: s.ClientKey, KnownHostsFile: s.KnownHostsFile}
	p := NewPool(map[string]HostConfig{eager: {SSHConfig: cfg}, lazy: {SSHConfig: cfg, Lazy: true}})
	t.Cleanup(func() { _ = p.Close() })
	p.Warm(time.Minute) // decides, for each host, before it returns
	started := func(name string) bool {
		tr, err := p.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		s := tr.(*SSH)
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.pending != nil || s.cur != nil
	}
	if !started(eager) {
		t.Error("the eager host is not being connected")
	}
	if started(lazy) {
		t.Error("the lazy host is being connected before any command")
	}
	waitFor(t, "the eager host's warm dial", func() bool { return warmsOf(eager) == 1 })
	lt, _ := p.Get(lazy)
	mustRun(t, lt, "true")
	if d, w := dialsOf(lazy), warmsOf(lazy); d != 1 || w != 0 {
		t.Errorf("lazy host: %d connections (%d warm); want 1, by its command", d, w)
	}
}
