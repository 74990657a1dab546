package gds

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/gdsemu"
	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// slicesHost is a fake host whose sdxinfo -S prints the given slice STATUS
// readings in turn (the last one again and again). Only Host and Run are
// used.
type slicesHost struct {
	transport.Transport
	readings [][]string // per reading: "DISK VOLUME COPY STATUS" rows
	n        int
}

func (h *slicesHost) Host() string { return "gds1" }

func (h *slicesHost) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	if err := ctx.Err(); err != nil {
		return transport.Result{}, err
	}
	if len(cmd.Argv) < 2 || cmd.Argv[0] != "sdxinfo" || cmd.Argv[1] != "-S" {
		return transport.Result{}, fmt.Errorf("unexpected command %v", cmd.Argv)
	}
	r := h.readings[min(h.n, len(h.readings)-1)]
	h.n++
	var b strings.Builder
	b.WriteString("OBJ   NAME CLASS  GROUP  DISK VOLUME COPY STATUS\n----- ---- ------ ------ ---- ------ ---- ------\n")
	for _, row := range r {
		f := strings.Fields(row)
		fmt.Fprintf(&b, "slice %s.%s Class1 Group2 %s %s %s %s\n", f[0], f[1], f[0], f[1], f[2], f[3])
	}
	return transport.Result{Stdout: []byte(b.String())}, nil
}

// fakeClock advances on Sleep; cancel, when set, is called before sleep
// number cancelAt.
type fakeClock struct {
	mu       sync.Mutex
	now      time.Time
	sleeps   []time.Duration
	cancelAt int
	cancel   func()
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	n := len(c.sleeps)
	c.mu.Unlock()
	if c.cancel != nil && n == c.cancelAt {
		c.cancel()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return nil
}

// The copy is done when every slice of the proxy shows STOP: COPY and any
// other STATUS keep the wait going (with the same back-off, until ctx
// ends, naming the slices), INVALID fails it.
func TestWaitCopyDoneOnlyWhenEverySliceStops(t *testing.T) {
	stop := []string{"Disk3 Volume2 * STOP", "Disk4 Volume2 * STOP"}
	cases := []struct {
		name     string
		readings [][]string
		polls    int  // sdxinfo -S calls expected
		progress bool // the readings show COPY progress
		kind     error
		want     []string // in the error
	}{
		{name: "copy then stop", polls: 3, progress: true, readings: [][]string{
			{"Disk3 Volume2 10% COPY", "Disk4 Volume2 10% COPY"},
			{"Disk3 Volume2 60% COPY", "Disk4 Volume2 * STOP"},
			stop}},
		{name: "temp then stop", polls: 3, readings: [][]string{
			{"Disk3 Volume2 * STOP", "Disk4 Volume2 * TEMP"},
			{"Disk3 Volume2 * STOP", "Disk4 Volume2 * TEMP-STOP"},
			stop}},
		{name: "nouse never ends", polls: 4, kind: context.Canceled, readings: [][]string{
			{"Disk3 Volume2 * STOP", "Disk4 Volume2 * NOUSE"}},
			want: []string{"Volume2: slice on Disk4 shows NOUSE", "not STOP"}},
		{name: "active never ends", polls: 4, kind: context.Canceled, readings: [][]string{
			{"Disk4 Volume2 * ACTIVE", "Disk3 Volume2 * ACTIVE"}},
			want: []string{"Volume2: slice on Disk3 shows ACTIVE; Volume2: slice on Disk4 shows ACTIVE", "not STOP"}},
		{name: "invalid fails", polls: 2, progress: true, kind: ErrInvalidData, readings: [][]string{
			{"Disk3 Volume2 40% COPY", "Disk4 Volume2 40% COPY"},
			{"Disk3 Volume2 * STOP", "Disk4 Volume2 * INVALID"}},
			want: []string{"Volume2: slice on Disk4 is INVALID: the copy failed"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			clk := &fakeClock{now: t0, cancelAt: 4, cancel: cancel}
			h := &slicesHost{readings: tc.readings}
			c := New(h)
			c.Clock = clk
			err := c.WaitCopy(ctx, "Class1", "Volume2")
			if tc.kind == nil && err != nil || tc.kind != nil && !errors.Is(err, tc.kind) {
				t.Fatalf("want %v, got %v", tc.kind, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not say %q", err, w)
				}
			}
			if h.n != tc.polls {
				t.Fatalf("%d copy checks, want %d (sleeps %v)", h.n, tc.polls, clk.sleeps)
			}
			// the same capped exponential back-off whatever the STATUS
			// (COPY progress readings may shorten a sleep: not checked)
			for i, d := range clk.sleeps {
				if tc.progress {
					break
				}
				if want := time.Second << i; d != want {
					t.Fatalf("sleeps %v, want 1s, 2s, 4s ...", clk.sleeps)
				}
			}
		})
	}
}

// breakClock records when (on the emulator's clock) Break was run.
type breakClock struct {
	transport.Transport
	clock   Clock
	breakAt []time.Time
}

func (b *breakClock) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	if len(cmd.Argv) > 1 && cmd.Argv[0] == "sdxproxy" && cmd.Argv[1] == "Break" {
		b.breakAt = append(b.breakAt, b.clock.Now())
	}
	return b.Transport.Run(ctx, cmd)
}

// Destroy during the copy back of a Restore (master slices COPY, the
// proxy not copying) waits for it, then breaks: GDS refuses Break while
// "copying between master ... and proxy is in progress".
func TestDissolveWaitsForRestoreCopy(t *testing.T) {
	f := localFixture(t)
	ctx := context.Background()
	d := volumePair()
	d.State = StateParted
	if _, err := f.client.Ensure(ctx, d, Hooks{}); err != nil {
		t.Fatal(err)
	}
	// Volume1 is 1000 MB: 100 s at 10 MB/s
	if out, errOut, st := f.emu.Run(map[string]string{gdsemu.EnvCopyRate: "10"},
		"sdxproxy", "Restore", "-c", "Class1", "-p", "Volume2", "-e", "nowaitsync"); st != 0 {
		t.Fatalf("Restore: exit %d: %s%s", st, out, errOut)
	}
	copyEnd := f.clock.Now().Add(100 * time.Second)
	st, err := f.client.Status(ctx, "Class1", "Volume2")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st.Volumes[0].Slices {
		if s.Status == SliceCopy {
			t.Fatalf("the proxy should not be copying during a Restore: %+v", st.Volumes[0].Slices)
		}
	}
	if !st.Copying() {
		t.Fatalf("the master copies back, Copying() must say so: %+v", st)
	}
	rec := &breakClock{Transport: f.t, clock: f.clock}
	f.client.T = rec
	f.reset(t)
	if err := f.client.Dissolve(ctx, "Class1", "Volume2"); err != nil {
		t.Fatalf("Dissolve during a Restore copy: %v", err)
	}
	eqList(t, "destroy", f.changes(), "sdxproxy Break -c Class1 -p Volume2")
	if len(rec.breakAt) != 1 || rec.breakAt[0].Before(copyEnd) {
		t.Fatalf("Break ran at %v, the copy back ends at %v", rec.breakAt, copyEnd)
	}
	if n := f.emu.Count("sdxinfo", ""); n > 12 {
		t.Fatalf("%d sdxinfo calls for a 100 s copy: no back-off? %v", n, f.clock.sleeps)
	}
	es, err := f.emu.State()
	if err != nil {
		t.Fatal(err)
	}
	if m := es.Classes["Class1"].Volumes["Volume1"]; m.Invalid || m.Copy != nil {
		t.Fatalf("master after Break: %+v", m)
	}
	if st, err := f.client.Status(ctx, "Class1", "Volume2"); err != nil || st.State != StateNone {
		t.Fatalf("%v %+v", err, st)
	}
}
