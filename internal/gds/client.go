package gds

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// Clock is the time source and sleeper; tests inject a fake one.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx ends (then it returns ctx.Err()).
	Sleep(ctx context.Context, d time.Duration) error
}

// RealClock is the wall clock.
type RealClock struct{}

var _ Clock = RealClock{}

// Now implements Clock.
func (RealClock) Now() time.Time { return time.Now() }

// Sleep implements Clock.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Backoff is the polling schedule for copy completion: Initial, then
// multiplied by Factor after each poll, never more than Max. The manual
// warns against running sdxinfo many times in a row.
type Backoff struct {
	Initial time.Duration
	Max     time.Duration
	Factor  float64
}

// DefaultBackoff polls after 1s, 2s, 4s ... up to every 30s.
var DefaultBackoff = Backoff{Initial: time.Second, Max: 30 * time.Second, Factor: 2}

func (b Backoff) next(d time.Duration) time.Duration {
	if d <= 0 {
		d = b.Initial
	} else {
		f := b.Factor
		if f < 1 {
			f = 2
		}
		d = time.Duration(float64(d) * f)
	}
	if b.Max > 0 && d > b.Max {
		d = b.Max
	}
	if d <= 0 {
		d = time.Second
	}
	return d
}

// Client runs GDS commands on one host.
type Client struct {
	T       transport.Transport
	Clock   Clock
	Backoff Backoff
	// Cache, when set, serves CachedStatus/CachedInfo; every change made
	// through this client invalidates the host+class entry.
	Cache *Cache
	// Logf, when set, hears about every step.
	Logf func(format string, args ...any)
}

// New returns a client with the real clock and the default back-off.
func New(t transport.Transport) *Client {
	return &Client{T: t, Clock: RealClock{}, Backoff: DefaultBackoff}
}

func (c *Client) clock() Clock {
	if c.Clock == nil {
		return RealClock{}
	}
	return c.Clock
}

func (c *Client) logf(format string, args ...any) {
	if c.Logf != nil {
		c.Logf(format, args...)
	}
}

// Run runs one sdx argv and classifies a failure.
func (c *Client) Run(ctx context.Context, argv []string) (transport.Result, error) {
	c.logf("%s: %v", c.T.Host(), argv)
	res, err := c.T.Run(ctx, transport.Command{Argv: argv})
	if err != nil {
		return res, err
	}
	return res, Classify(c.T.Host(), argv, res)
}

// change runs a state-changing command and invalidates the cache.
func (c *Client) change(ctx context.Context, class string, argv []string) error {
	if c.Cache != nil {
		defer c.Cache.Invalidate(CacheKey(c.T.Host(), class))
	}
	_, err := c.Run(ctx, argv)
	return err
}

// Info runs sdxinfo -A -c class -e long now and parses it. When a cache is
// set the fresh result replaces its entry.
func (c *Client) Info(ctx context.Context, class string) (*Info, error) {
	res, err := c.Run(ctx, InfoArgv(class, ""))
	if err != nil {
		return nil, err
	}
	info, err := ParseInfo(res.Stdout)
	if err != nil {
		return nil, fmt.Errorf("host %q: sdxinfo -c %s: %w", c.T.Host(), class, err)
	}
	return info, nil
}

// CachedInfo is Info through the cache: one sdxinfo per host+class shared
// by every caller (Info when no cache is set).
func (c *Client) CachedInfo(ctx context.Context, class string) (*Info, error) {
	if c.Cache == nil {
		return c.Info(ctx, class)
	}
	return c.Cache.Get(ctx, CacheKey(c.T.Host(), class), func(ctx context.Context) (*Info, error) {
		return c.Info(ctx, class)
	})
}

// Status reads the pair whose proxy object is proxy, fresh.
func (c *Client) Status(ctx context.Context, class, proxy string) (*Status, error) {
	info, err := c.Info(ctx, class)
	if err != nil {
		return nil, err
	}
	return StatusOf(info, class, proxy)
}

// CachedStatus reads the pair through the shared snapshot.
func (c *Client) CachedStatus(ctx context.Context, class, proxy string) (*Status, error) {
	info, err := c.CachedInfo(ctx, class)
	if err != nil {
		return nil, err
	}
	return StatusOf(info, class, proxy)
}

// JoinRefusal reads the class through the shared snapshot and returns why
// GDS would refuse to Join p (see CheckJoin), or nil; also nil when p's
// proxy is already related (Ensure adopts or converges such a pair).
// err is a failure to read sdxinfo.
func (c *Client) JoinRefusal(ctx context.Context, p Pair) (refusal, err error) {
	info, err := c.CachedInfo(ctx, p.Class)
	if err != nil {
		return nil, err
	}
	st, err := StatusOf(info, p.Class, p.Proxy)
	if err != nil {
		return nil, err
	}
	if st.State != StateNone {
		return nil, nil
	}
	return CheckJoin(c.T.Host(), info, p), nil
}

// StopVolumes stops volumes (sdxvolume -F), on every node with allNodes.
func (c *Client) StopVolumes(ctx context.Context, class string, vols []string, allNodes bool) error {
	return c.change(ctx, class, StopVolumeArgv(class, vols, allNodes))
}

// StartVolumes starts volumes (sdxvolume -N).
func (c *Client) StartVolumes(ctx context.Context, class string, vols []string, allNodes bool) error {
	return c.change(ctx, class, StartVolumeArgv(class, vols, allNodes))
}

// Join relates and joins a pair; the copy runs in the background.
func (c *Client) Join(ctx context.Context, p Pair) error {
	return c.change(ctx, p.Class, JoinArgv(p.Class, p.Master, p.Proxy, p.VolumeMap))
}

// Part parts proxies (volumes or groups).
func (c *Client) Part(ctx context.Context, class string, proxies []string, instant bool) error {
	return c.change(ctx, class, PartArgv(class, proxies, instant))
}

// Rejoin rejoins parted proxies; the copy runs in the background.
func (c *Client) Rejoin(ctx context.Context, class string, proxies []string) error {
	return c.change(ctx, class, RejoinArgv(class, proxies))
}

// Restore copies parted proxies back to their masters (background copy).
// GDS refuses it while joined (ErrJoined).
func (c *Client) Restore(ctx context.Context, class string, proxies []string, instant bool) error {
	return c.change(ctx, class, RestoreArgv(class, proxies, instant))
}

// Break removes the relation of proxy (a volume pair, or a group pair
// named by its proxy group).
func (c *Client) Break(ctx context.Context, class, proxy string, force bool) error {
	return c.change(ctx, class, BreakArgv(class, proxy, force))
}

// MaxLostPolls is how many copy checks in a row WaitCopy lets fail on the
// connection (transport.ErrConnection) before it gives up.
const MaxLostPolls = 5

// WaitCopy polls sdxinfo -S -c class -o object (a proxy volume or group)
// with capped exponential back-off until the copy into it is done: every
// slice shows STOP (a joined proxy is stopped). It keeps polling while a
// slice shows COPY, or any other STATUS (ACTIVE, NOUSE, TEMP, TEMP-STOP:
// not the end of a copy), and fails on an INVALID slice (the copy
// failed), when the object has no slices, when ctx ends (naming the
// slices that were not STOP), or after MaxLostPolls checks in a row lost
// to the connection (a connection that drops during a copy of hours is
// retried, with the same back-off).
func (c *Client) WaitCopy(ctx context.Context, class, object string) error {
	return c.waitSlices(ctx, class, object, SliceStop)
}

// waitRestore waits for the copy back onto master (Restore): done when no
// slice of the master copies and each shows STOP or ACTIVE (the master
// may be started again once the copy back has ended, or during an
// instant restore).
func (c *Client) waitRestore(ctx context.Context, class, master string) error {
	return c.waitSlices(ctx, class, master, SliceStop, SliceActive)
}

// waitSlices is WaitCopy with the STATUS values that mean done.
func (c *Client) waitSlices(ctx context.Context, class, object string, done ...string) error {
	clk := c.clock()
	var delay time.Duration
	var firstAt time.Time
	firstP := -1
	lost := 0
	var notDone []string // slices neither done nor copying, at the last check
	waitErr := func(err error) error {
		if len(notDone) > 0 {
			return fmt.Errorf("waiting for the copy of %s/%s to complete (%s, not %s): %w",
				class, object, strings.Join(notDone, "; "), strings.Join(done, " or "), err)
		}
		return fmt.Errorf("waiting for the copy of %s/%s to complete: %w", class, object, err)
	}
	for {
		res, err := c.Run(ctx, SliceInfoArgv(class, object))
		if err != nil {
			// The copy goes on on the host whatever happens to our
			// connection, and sdxinfo only reads: check again.
			if !errors.Is(err, transport.ErrConnection) || ctx.Err() != nil || lost >= MaxLostPolls {
				return err
			}
			lost++
			delay = c.Backoff.next(delay)
			c.logf("%s: %s/%s: %v; checking the copy again in %s (%d/%d)", c.T.Host(), class, object, err, delay, lost, MaxLostPolls)
			if serr := clk.Sleep(ctx, delay); serr != nil {
				return waitErr(serr)
			}
			continue
		}
		lost = 0
		info, err := ParseInfo(res.Stdout)
		if err != nil {
			return fmt.Errorf("host %q: %w", c.T.Host(), err)
		}
		if len(info.Slices) == 0 {
			return &Error{Host: c.T.Host(), Argv: SliceInfoArgv(class, object), Object: object,
				Message: object + ": no slices listed", Kind: ErrNotFound}
		}
		copying, progress := false, -1
		notDone = notDone[:0]
		rows := append([]SliceRow(nil), info.Slices...)
		sort.Slice(rows, func(i, j int) bool {
			if rows[i].Volume != rows[j].Volume {
				return rows[i].Volume < rows[j].Volume
			}
			return rows[i].Disk < rows[j].Disk
		})
		for _, s := range rows {
			switch {
			case s.Status == SliceInvalid:
				return &Error{Host: c.T.Host(), Argv: SliceInfoArgv(class, object), Object: s.Volume,
					Message: fmt.Sprintf("%s: slice on %s is INVALID: the copy failed, the data of %s is not usable", s.Volume, s.Disk, s.Volume), Kind: ErrInvalidData}
			case s.Status == SliceCopy:
				copying = true
				var p int
				if _, err := fmt.Sscanf(s.Copy, "%d%%", &p); err == nil && (progress < 0 || p < progress) {
					progress = p
				}
			case !slices.Contains(done, s.Status):
				notDone = append(notDone, fmt.Sprintf("%s: slice on %s shows %s", s.Volume, s.Disk, s.Status))
			}
		}
		if !copying && len(notDone) == 0 {
			if c.Cache != nil {
				c.Cache.Invalidate(CacheKey(c.T.Host(), class))
			}
			return nil
		}
		now := clk.Now()
		delay = c.Backoff.next(delay)
		sleep := delay
		// With two progress readings, do not sleep much past the
		// estimated end; never poll faster than Initial.
		if progress >= 0 {
			if firstP < 0 || progress < firstP {
				firstP, firstAt = progress, now
			} else if progress > firstP {
				rest := time.Duration(float64(now.Sub(firstAt)) * float64(100-progress) / float64(progress-firstP))
				if rest < c.Backoff.Initial {
					rest = c.Backoff.Initial
				}
				if rest < sleep {
					sleep = rest
				}
			}
		}
		if copying {
			c.logf("%s: %s/%s copying (%d%%), next check in %s", c.T.Host(), class, object, progress, sleep)
		} else {
			c.logf("%s: %s/%s: %s, not %s; next check in %s", c.T.Host(), class, object, strings.Join(notDone, "; "), strings.Join(done, " or "), sleep)
		}
		if err := clk.Sleep(ctx, sleep); err != nil {
			return waitErr(err)
		}
	}
}

// IsKind reports whether err is a GDS error of that kind.
func IsKind(err, kind error) bool { return errors.Is(err, kind) }
