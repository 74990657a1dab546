package kcps

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/kcpsemu"
)

// fakeClock is shared by the client and the emulator: Sleep moves time on,
// so a three-hour job passes in microseconds, deterministically.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps int
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
	f.sleeps++
	return nil
}

var _ Clock = (*fakeClock)(nil)

// testEnv is an emulator on loopback driven by a fake clock, and a client.
type testEnv struct {
	srv   *kcpsemu.Server
	clock *fakeClock
	c     *Client
}

// newEnv starts the demo account at KCPS's own pace (time scale 1) on a
// fake clock.
func newEnv(t *testing.T, mutate ...func(*kcpsemu.Config, *Config)) *testEnv {
	t.Helper()
	fc := newFakeClock()
	cfg := kcpsemu.DefaultConfig()
	cfg.TimeScale = 1
	cfg.Now = fc.Now
	ccfg := Config{Clock: fc, Rand: func() float64 { return 0.5 }}
	for _, m := range mutate {
		m(&cfg, &ccfg)
	}
	srv := kcpsemu.StartT(t, cfg)
	ccfg.Endpoint = srv.Endpoint
	if ccfg.APIKey == "" {
		ccfg.APIKey, ccfg.SecretKey = kcpsemu.DemoAPIKey, kcpsemu.DemoSecretKey
	}
	if ccfg.HTTPClient == nil {
		ccfg.HTTPClient = &http.Client{Timeout: 20 * time.Second}
	}
	c, err := New(ccfg)
	if err != nil {
		t.Fatal(err)
	}
	return &testEnv{srv: srv, clock: fc, c: c}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}
