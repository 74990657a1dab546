package gds

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/gdsemu"
	"github.com/backupctl/terraform-provider-backupctl/internal/sshdtest"
	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func layout() gdsemu.Config {
	return gdsemu.Config{
		Nodes:        []string{"node1", "node2"},
		CopyRateMBps: 100,
		Classes: []gdsemu.ClassConfig{{
			Name: "Class1", Type: "shared",
			Groups: []gdsemu.GroupConfig{
				{Name: "Group1", Disks: []string{"Disk1", "Disk2"}, Volumes: []gdsemu.VolumeConfig{{Name: "Volume1", SizeMB: 1000}, {Name: "Volume3", SizeMB: 500}}},
				{Name: "Group2", Disks: []string{"Disk3", "Disk4"}, Volumes: []gdsemu.VolumeConfig{{Name: "Volume2", SizeMB: 1000}, {Name: "Other", SizeMB: 1000}}},
				{Name: "Group3", Disks: []string{"Disk5", "Disk6"}},
				{Name: "Group5", Type: "single", Disks: []string{"Disk8"}, Volumes: []gdsemu.VolumeConfig{{Name: "Volume5", SizeMB: 1000}}},
			},
		}},
	}
}

// emuClock is the emulator's clock file: Sleep advances it instead of
// waiting, so copies "take" their time without any wall time passing.
type emuClock struct {
	t      *testing.T
	root   string
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
	// onSleep, when set, runs before each sleep (e.g. to cancel).
	onSleep func(n int)
}

func newEmuClock(t *testing.T, root string) *emuClock {
	c := &emuClock{t: t, root: root, now: t0}
	c.set()
	return c
}

func (c *emuClock) set() {
	if err := gdsemu.SetClock(c.root, c.now); err != nil {
		c.t.Fatal(err)
	}
}

func (c *emuClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *emuClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	n := len(c.sleeps)
	c.mu.Unlock()
	if c.onSleep != nil {
		c.onSleep(n)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.set()
	c.mu.Unlock()
	return nil
}

// fixture: an emulator, a transport to it and a client with the fake clock.
type fixture struct {
	emu    *gdsemu.Emu
	clock  *emuClock
	client *Client
	t      transport.Transport
}

func localFixture(t *testing.T) *fixture {
	emu := gdsemu.StartT(t, layout())
	// transport.Local looks argv[0] up in this process's PATH, not in the
	// host env's: put the emulator there too.
	t.Setenv("PATH", emu.BinDir+":"+os.Getenv("PATH"))
	tr := &transport.Local{Name: "gds1", Env: emu.HostEnv()}
	return newFixture(t, emu, tr)
}

func sshFixture(t *testing.T) *fixture {
	emu := gdsemu.StartT(t, layout())
	s := sshdtest.StartT(t)
	tr := transport.NewSSH(transport.SSHConfig{Name: "gds1", Address: s.Addr, User: s.User, PrivateKey: s.ClientKey,
		KnownHostsFile: s.KnownHostsFile, Env: emu.HostEnv()})
	t.Cleanup(func() { tr.Close() })
	return newFixture(t, emu, tr)
}

func newFixture(t *testing.T, emu *gdsemu.Emu, tr transport.Transport) *fixture {
	clk := newEmuClock(t, emu.Root)
	c := New(tr)
	c.Clock = clk
	return &fixture{emu: emu, clock: clk, client: c, t: tr}
}

// logHooks writes quiesce markers into the emulator's call log, so that
// their order relative to the sdx commands can be asserted.
func (f *fixture) logHooks(beforeFails bool) Hooks {
	log := filepath.Join(f.emu.Root, gdsemu.CallsFile)
	before := []string{"echo quiesce-before-1 >> " + log, "echo quiesce-before-2 >> " + log}
	if beforeFails {
		before = []string{"echo quiesce-before-1 >> " + log, "exit 3", "echo never >> " + log}
	}
	after := []string{"echo quiesce-after-1 >> " + log, "false", "echo quiesce-after-2 >> " + log}
	return ShellHooks(f.t, before, after)
}

// changes lists the recorded calls without the read-only sdxinfo ones.
func (f *fixture) changes() []string {
	var out []string
	for _, c := range f.emu.Calls() {
		if !strings.HasPrefix(c, "sdxinfo") {
			out = append(out, c)
		}
	}
	f.emu.Calls()
	return out
}

func (f *fixture) reset(t *testing.T) {
	if err := gdsemu.ResetCalls(f.emu.Root); err != nil {
		t.Fatal(err)
	}
}

func volumePair() Desired {
	return Desired{Pair: Pair{Class: "Class1", Master: "Volume1", Proxy: "Volume2"}, AllNodes: true, State: StateJoined}
}

func eqList(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s:\n got  %q\n want %q", what, got, want)
	}
}

func TestEnsureLifecycleLocal(t *testing.T) { testEnsureLifecycle(t, localFixture(t)) }
func TestEnsureLifecycleSSH(t *testing.T)   { testEnsureLifecycle(t, sshFixture(t)) }

func testEnsureLifecycle(t *testing.T, f *fixture) {
	ctx := context.Background()
	// create joined: stop (all nodes), Join, wait until STOP
	d := volumePair()
	out, err := f.client.Ensure(ctx, d, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	eqList(t, "steps", out.Steps, "stop", "join", "wait")
	eqList(t, "commands", f.changes(),
		"sdxvolume -F -c Class1 -v Volume2 -e allnodes",
		"sdxproxy Join -c Class1 -m Volume1 -p Volume2")
	if out.Status.State != StateJoined || out.Status.CopyStatus != SliceStop || !out.PartedAt.IsZero() {
		t.Fatalf("%+v", out.Status)
	}
	if el := f.clock.Now().Sub(t0); el < 10*time.Second {
		t.Fatalf("returned %s after Join, the copy takes 10s", el)
	}
	// the back-off: few polls for a 10 s copy, growing intervals
	if n := f.emu.Count("sdxinfo", ""); n > 8 {
		t.Fatalf("%d sdxinfo calls for one 10 s copy: %v", n, f.emu.Calls())
	}
	for i := 1; i < len(f.clock.sleeps); i++ {
		if f.clock.sleeps[i] < time.Second {
			t.Fatalf("polled faster than the initial interval: %v", f.clock.sleeps)
		}
	}

	// part, with quiesce around it
	f.reset(t)
	d.State = StateParted
	out, err = f.client.Ensure(ctx, d, f.logHooks(false))
	if err == nil || !strings.Contains(err.Error(), "quiesce.after failed") {
		t.Fatalf("a failing after command must be reported, got %v", err)
	}
	eqList(t, "order", f.changes(), "quiesce-before-1", "quiesce-before-2",
		"sdxproxy Part -c Class1 -p Volume2", "quiesce-after-1", "quiesce-after-2")
	if out.Status.State != StateParted || out.PartedAt.IsZero() {
		t.Fatalf("%+v", out)
	}
	// parted and not fresh: nothing to do
	f.reset(t)
	out, err = f.client.Ensure(ctx, d, f.logHooks(false))
	if err != nil || len(out.Steps) != 0 || len(f.changes()) != 0 {
		t.Fatalf("no-op expected: %v %v %v", err, out.Steps, f.changes())
	}
	// a fresh snapshot: stop, Rejoin, wait, quiesce, Part
	f.reset(t)
	d.Fresh = true
	_, _ = f.client.Ensure(ctx, d, f.logHooks(false))
	eqList(t, "fresh snapshot", f.changes(),
		"sdxvolume -F -c Class1 -v Volume2 -e allnodes",
		"sdxproxy Rejoin -c Class1 -p Volume2",
		"quiesce-before-1", "quiesce-before-2",
		"sdxproxy Part -c Class1 -p Volume2", "quiesce-after-1", "quiesce-after-2")
	// back to joined
	f.reset(t)
	d.State, d.Fresh = StateJoined, false
	out, err = f.client.Ensure(ctx, d, Hooks{})
	if err != nil || out.Status.State != StateJoined {
		t.Fatal(err)
	}
	eqList(t, "rejoin", out.Steps, "stop", "rejoin", "wait")
	// destroy: Break, then nothing
	f.reset(t)
	if err := f.client.Dissolve(ctx, "Class1", "Volume2"); err != nil {
		t.Fatal(err)
	}
	if err := f.client.Dissolve(ctx, "Class1", "Volume2"); err != nil {
		t.Fatal(err)
	}
	eqList(t, "destroy", f.changes(), "sdxproxy Break -c Class1 -p Volume2")
	st, err := f.client.Status(ctx, "Class1", "Volume2")
	if err != nil || st.State != StateNone {
		t.Fatalf("%v %+v", err, st)
	}
}

func TestQuiesceAfterRunsWhenPartFails(t *testing.T) {
	f := localFixture(t)
	ctx := context.Background()
	d := volumePair()
	d.State = StateParted
	if err := gdsemu.InjectFault(f.emu.Root, gdsemu.Fault{Command: "sdxproxy", Op: "Part", Times: 1}); err != nil {
		t.Fatal(err)
	}
	out, err := f.client.Ensure(ctx, d, f.logHooks(false))
	if err == nil || !strings.Contains(err.Error(), "injected fault") {
		t.Fatalf("want the Part failure, got %v", err)
	}
	var ge *Error
	if !errors.As(err, &ge) || ge.Kind != ErrUnknownFailure {
		t.Fatalf("Part failure not a classified *Error: %#v", err)
	}
	if out.Status == nil || out.Status.State != StateJoined {
		t.Fatalf("after a failed Part the pair is joined: %+v", out.Status)
	}
	ch := f.changes()
	eqList(t, "tail", ch[len(ch)-3:], "sdxproxy Part -c Class1 -p Volume2", "quiesce-after-1", "quiesce-after-2")
	// the next run converges: no second Join
	f.reset(t)
	out, err = f.client.Ensure(ctx, d, f.logHooks(false))
	if out.Status == nil || out.Status.State != StateParted {
		t.Fatalf("%v %+v", err, out)
	}
	eqList(t, "steps", out.Steps, "wait", "quiesce.before", "part", "quiesce.after")
}

func TestQuiesceBeforeFailureSkipsPart(t *testing.T) {
	f := localFixture(t)
	d := volumePair()
	d.State = StateParted
	_, err := f.client.Ensure(context.Background(), d, f.logHooks(true))
	if err == nil || !strings.Contains(err.Error(), "quiesce.before failed") {
		t.Fatal(err)
	}
	ch := f.changes()
	eqList(t, "tail", ch[len(ch)-3:], "quiesce-before-1", "quiesce-after-1", "quiesce-after-2")
	if n := f.emu.Count("sdxproxy", "Part"); n != 0 {
		t.Fatalf("Part ran %d times after a failed quiesce.before", n)
	}
}

// An apply cancelled during the copy leaves a joined pair; the next run
// waits and parts without joining again.
func TestCancelledDuringCopyConverges(t *testing.T) {
	f := localFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	f.clock.onSleep = func(n int) {
		if n == 2 {
			cancel()
		}
	}
	d := volumePair()
	d.State = StateParted
	_, err := f.client.Ensure(ctx, d, Hooks{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want cancellation, got %v", err)
	}
	f.clock.onSleep = nil
	f.reset(t)
	out, err := f.client.Ensure(context.Background(), d, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	eqList(t, "resumed", out.Steps, "wait", "part")
	if f.emu.Count("sdxproxy", "Join") != 0 {
		t.Fatal("joined twice")
	}
}

func TestGroupPair(t *testing.T) {
	f := localFixture(t)
	ctx := context.Background()
	d := Desired{Pair: Pair{Class: "Class1", Master: "Group1", Proxy: "Group3",
		VolumeMap: map[string]string{"Volume1": "Proxy1", "Volume3": "Proxy3"}}, State: StateParted, AllNodes: true}
	out, err := f.client.Ensure(ctx, d, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	eqList(t, "group create", f.changes(),
		"sdxproxy Join -c Class1 -m Group1 -p Group3 -a Volume1=Proxy1:on,Volume3=Proxy3:on",
		"sdxproxy Part -c Class1 -p Group3")
	st := out.Status
	if !st.Group || st.State != StateParted || st.Master != "Group1" || len(st.Volumes) != 2 || st.VolumeMap["Volume3"] != "Proxy3" {
		t.Fatalf("%+v", st)
	}
	// one proxy volume rejoined out of band: mixed; Ensure(parted, not
	// fresh) rejoins it and parts the group again
	f.emu.MustRun(t, "sdxvolume", "-F", "-c", "Class1", "-v", "Proxy1", "-e", "allnodes")
	f.emu.MustRun(t, "sdxproxy", "Rejoin", "-c", "Class1", "-p", "Proxy1")
	st, _ = f.client.Status(ctx, "Class1", "Group3")
	if st.State != StateMixed {
		t.Fatalf("%+v", st)
	}
	f.reset(t)
	if _, err = f.client.Ensure(ctx, d, Hooks{}); err != nil {
		t.Fatal(err)
	}
	eqList(t, "mixed", f.changes(),
		"sdxvolume -F -c Class1 -v Proxy3 -e allnodes",
		"sdxproxy Rejoin -c Class1 -p Proxy3",
		"sdxproxy Part -c Class1 -p Group3")
	// a different volume map is refused, not silently re-related
	d2 := d
	d2.VolumeMap = map[string]string{"Volume1": "X1", "Volume3": "X3"}
	if _, err := f.client.Ensure(ctx, d2, Hooks{}); !errors.Is(err, ErrRelated) {
		t.Fatalf("want ErrRelated, got %v", err)
	}
	if err := f.client.Dissolve(ctx, "Class1", "Group3"); err != nil {
		t.Fatal(err)
	}
}

func TestIdentityAndRestore(t *testing.T) {
	f := localFixture(t)
	ctx := context.Background()
	if _, err := f.client.Ensure(ctx, volumePair(), Hooks{}); err != nil {
		t.Fatal(err)
	}
	// Volume2 belongs to Volume1: another master is refused
	other := volumePair()
	other.Master = "Volume5"
	if _, err := f.client.Ensure(ctx, other, Hooks{}); !errors.Is(err, ErrRelated) {
		t.Fatalf("want ErrRelated, got %v", err)
	}
	// a missing proxy
	missing := volumePair()
	missing.Proxy = "Nope"
	if _, err := f.client.Ensure(ctx, missing, Hooks{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("want ErrNotFound, got %v", err)
	}
	// restore while joined: refused by GDS
	if _, err := f.client.RestoreAndWait(ctx, "Class1", "Volume2", false); !errors.Is(err, ErrJoined) {
		t.Fatalf("want ErrJoined, got %v", err)
	}
	d := volumePair()
	d.State = StateParted
	if _, err := f.client.Ensure(ctx, d, Hooks{}); err != nil {
		t.Fatal(err)
	}
	start := f.clock.Now()
	st, err := f.client.RestoreAndWait(ctx, "Class1", "Volume2", false)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != StateParted || f.clock.Now().Sub(start) < 10*time.Second {
		t.Fatalf("restore: %+v after %s", st, f.clock.Now().Sub(start))
	}
	// a joined proxy cannot be stopped: the error is classified
	if err := f.client.StopVolumes(ctx, "Class1", []string{"Volume1"}, false); err != nil {
		t.Fatal(err)
	}
	f.emu.MustRun(t, "sdxvolume", "-N", "-c", "Class1", "-v", "Volume1")
}

// One sdxinfo per host+class, however many pairs read it at once.
func TestCachedStatusSharesOneSdxinfo(t *testing.T) {
	f := localFixture(t)
	ctx := context.Background()
	f.client.Cache = NewCache(0)
	if _, err := f.client.Ensure(ctx, volumePair(), Hooks{}); err != nil {
		t.Fatal(err)
	}
	f.reset(t)
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			proxy := []string{"Volume2", "Other", "Volume5", "Group3"}[i%4]
			st, err := f.client.CachedStatus(ctx, "Class1", proxy)
			if err == nil && proxy == "Volume2" && st.State != StateJoined {
				err = fmt.Errorf("Volume2: %+v", st)
			}
			if err != nil {
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := f.emu.Count("sdxinfo", ""); n != 1 {
		t.Fatalf("%d sdxinfo calls for 50 reads", n)
	}
	// a change through the client invalidates the entry
	d := volumePair()
	d.State = StateParted
	if _, err := f.client.Ensure(ctx, d, Hooks{}); err != nil {
		t.Fatal(err)
	}
	st, err := f.client.CachedStatus(ctx, "Class1", "Volume2")
	if err != nil || st.State != StateParted {
		t.Fatalf("stale cache after Part: %v %+v", err, st)
	}
}

func TestCommandsMissing(t *testing.T) {
	tr := &transport.Local{Name: "bare", Env: map[string]string{"PATH": t.TempDir()}}
	_, err := New(tr).Status(context.Background(), "Class1", "Volume2")
	if !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("want ErrNotInstalled, got %v", err)
	}
}

// flaky fails the copy checks (sdxinfo -S) it is told to, as a broken
// connection would: after running the command, so the copy went on.
type flaky struct {
	transport.Transport
	mu    sync.Mutex
	fail  func(n int) error // n counts the copy checks, from 1
	n     int
	fails int
}

func (f *flaky) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	res, err := f.Transport.Run(ctx, cmd)
	if len(cmd.Argv) > 1 && cmd.Argv[0] == "sdxinfo" && cmd.Argv[1] == "-S" {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.n++
		if ferr := f.fail(f.n); ferr != nil {
			f.fails++
			return transport.Result{}, ferr
		}
	}
	return res, err
}

var errLost = fmt.Errorf("host %q: connection lost while sdxinfo was running: %w", "gds1", transport.ErrConnection)

// A connection lost during a long copy does not end the wait: the copy
// goes on on the host and the next check finds it.
func TestWaitCopySurvivesLostConnections(t *testing.T) {
	f := localFixture(t)
	fl := &flaky{Transport: f.t, fail: func(n int) error {
		if n == 2 || n == 3 {
			return errLost
		}
		return nil
	}}
	f.client.T = fl
	d := volumePair()
	d.State = StateParted
	out, err := f.client.Ensure(context.Background(), d, Hooks{})
	if err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	if fl.fails != 2 || out.Status.State != StateParted {
		t.Fatalf("%d checks failed, state %s; want 2 and parted", fl.fails, out.Status.State)
	}
	if j := f.emu.Count("sdxproxy", "Join"); j != 1 {
		t.Fatalf("Join ran %d times", j)
	}
}

// It gives up after MaxLostPolls lost checks in a row, and at once on any
// other failure.
func TestWaitCopyGivesUp(t *testing.T) {
	f := localFixture(t)
	fl := &flaky{Transport: f.t, fail: func(int) error { return errLost }}
	f.client.T = fl
	if err := f.client.StopVolumes(context.Background(), "Class1", []string{"Volume2"}, true); err != nil {
		t.Fatal(err)
	}
	if err := f.client.Join(context.Background(), volumePair().Pair); err != nil {
		t.Fatal(err)
	}
	err := f.client.WaitCopy(context.Background(), "Class1", "Volume2")
	if !errors.Is(err, transport.ErrConnection) || fl.fails != MaxLostPolls+1 {
		t.Fatalf("got %v after %d failed checks; want the connection error after %d", err, fl.fails, MaxLostPolls+1)
	}
	other := errors.New("host \"gds1\": sdxinfo: something else")
	fl.fails, fl.fail = 0, func(int) error { return other }
	if err := f.client.WaitCopy(context.Background(), "Class1", "Volume2"); !errors.Is(err, other) || fl.fails != 1 {
		t.Fatalf("got %v after %d checks; want the error at once", err, fl.fails)
	}
}
