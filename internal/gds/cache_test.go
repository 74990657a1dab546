package gds

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCacheLoadsOncePerKey(t *testing.T) {
	c := NewCache(time.Minute)
	var loads atomic.Int32
	release := make(chan struct{})
	load := func(context.Context) (*Info, error) {
		loads.Add(1)
		<-release
		return &Info{Volumes: []VolumeRow{{Name: "v"}}}, nil
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := 0; i < 100; i++ {
		wg.Add(1)
		key := CacheKey("gds1", "Class1")
		if i%2 == 1 {
			key = CacheKey("gds2", "Class1")
		}
		go func() {
			defer wg.Done()
			info, err := c.Get(context.Background(), key, load)
			if err == nil && (info == nil || len(info.Volumes) != 1) {
				err = errors.New("wrong info")
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	// let every goroutine queue behind the two loads
	for c.Loads() < 2 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := loads.Load(); n != 2 {
		t.Fatalf("%d loads for 2 keys", n)
	}
}

func TestCacheTTLInvalidateAndErrors(t *testing.T) {
	now := time.Unix(1000, 0)
	c := NewCache(30 * time.Second)
	c.Now = func() time.Time { return now }
	n := 0
	load := func(context.Context) (*Info, error) { n++; return &Info{}, nil }
	get := func() {
		if _, err := c.Get(context.Background(), "k", load); err != nil {
			t.Fatal(err)
		}
	}
	get()
	get()
	if n != 1 {
		t.Fatalf("%d loads", n)
	}
	now = now.Add(29 * time.Second)
	get()
	if n != 1 {
		t.Fatal("reloaded before the TTL")
	}
	now = now.Add(time.Second)
	get()
	if n != 2 {
		t.Fatal("not reloaded after the TTL")
	}
	c.Invalidate("k")
	get()
	if n != 3 {
		t.Fatal("not reloaded after Invalidate")
	}
	// a failure is returned but not kept
	boom := errors.New("boom")
	c.Invalidate("k")
	if _, err := c.Get(context.Background(), "k", func(context.Context) (*Info, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	get()
	if n != 4 {
		t.Fatal("a failed load was cached")
	}
}

func TestCacheWaiterCancellation(t *testing.T) {
	c := NewCache(time.Minute)
	release := make(chan struct{})
	go func() {
		_, _ = c.Get(context.Background(), "k", func(ctx context.Context) (*Info, error) {
			<-release
			return &Info{}, ctx.Err()
		})
	}()
	for c.Loads() < 1 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Get(ctx, "k", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: %v", err)
	}
	close(release)
	// the load was not cancelled by the waiter: its result is served
	if _, err := c.Get(context.Background(), "k", nil); err != nil {
		t.Fatal(err)
	}
}
