package gds

import (
	"context"
	"sync"
	"time"
)

// Cache shares one sdxinfo per (host, class) between every pair that asks
// within its lifetime: the first caller loads, callers arriving meanwhile
// wait for that load, later callers get the result until it is TTL old.
// Failed loads are not kept. Safe for concurrent use.
type Cache struct {
	TTL time.Duration
	Now func() time.Time

	mu sync.Mutex
	m  map[string]*cacheEntry
	// Loads counts loads started (for tests).
	loads int
}

type cacheEntry struct {
	done chan struct{}
	info *Info
	err  error
	at   time.Time
}

// DefaultCacheTTL bounds how old a shared snapshot may get. A provider
// instance lives for one terraform command, and every change this process
// makes invalidates the entry, so the TTL only guards long refreshes.
const DefaultCacheTTL = 2 * time.Minute

// NewCache returns a cache with the given TTL (DefaultCacheTTL when 0).
func NewCache(ttl time.Duration) *Cache {
	if ttl <= 0 {
		ttl = DefaultCacheTTL
	}
	return &Cache{TTL: ttl, Now: time.Now, m: map[string]*cacheEntry{}}
}

// CacheKey is the key of one host's class.
func CacheKey(host, class string) string { return host + "\x00" + class }

// Get returns the snapshot for key, loading it once with load when absent
// or expired. load runs detached from any one caller's cancellation (others
// may be waiting for it); each caller stops waiting when its ctx ends.
func (c *Cache) Get(ctx context.Context, key string, load func(context.Context) (*Info, error)) (*Info, error) {
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]*cacheEntry{}
	}
	now := c.now()
	e, ok := c.m[key]
	if ok {
		select {
		case <-e.done:
			if e.err != nil || now.Sub(e.at) >= c.TTL {
				ok = false
			}
		default: // loading: wait for it
		}
	}
	if !ok {
		e = &cacheEntry{done: make(chan struct{})}
		c.m[key] = e
		c.loads++
		go func() {
			lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
			defer cancel()
			info, err := load(lctx)
			c.mu.Lock()
			e.info, e.err, e.at = info, err, c.now()
			if err != nil && c.m[key] == e {
				delete(c.m, key)
			}
			c.mu.Unlock()
			close(e.done)
		}()
	}
	c.mu.Unlock()
	select {
	case <-e.done:
		return e.info, e.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Invalidate drops key, so the next Get loads afresh.
func (c *Cache) Invalidate(key string) {
	c.mu.Lock()
	delete(c.m, key)
	c.mu.Unlock()
}

// Loads returns how many loads were started.
func (c *Cache) Loads() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.loads
}

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}
