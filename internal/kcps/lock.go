package kcps

import (
	"context"
	"sync"
)

// accountLock serializes snapshot-creating work of one KCPS account in this
// process: KCPS refuses a second snapshot while one is running, and
// Terraform applies resources in parallel.
type accountLock struct{ ch chan struct{} }

var (
	locksMu sync.Mutex
	locks   = map[string]*accountLock{}
)

func lockFor(endpoint, apiKey string) *accountLock {
	locksMu.Lock()
	defer locksMu.Unlock()
	k := endpoint + "\x00" + apiKey
	l, ok := locks[k]
	if !ok {
		l = &accountLock{ch: make(chan struct{}, 1)}
		locks[k] = l
	}
	return l
}

// LockAccount waits until no other snapshot work of this account runs in
// this process, or until ctx is done. Call the returned function to release.
func (c *Client) LockAccount(ctx context.Context) (unlock func(), err error) {
	select {
	case c.lock.ch <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-c.lock.ch }) }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
