package kcps

import (
	"math"
	"time"
)

// PollPolicy is the schedule for polling an asynchronous job.
//
// A KCPS snapshot of 100 GB runs about three hours. Polling at a fixed short
// interval costs thousands of calls; polling rarely delays the moment the
// job is seen done. The schedule below grows geometrically from Initial by
// Factor, but never beyond MaxFraction of the time already waited (a job
// that has run 10 s is likely to end soon; one that has run 2 h is not), and
// never beyond Max. Each interval is then shortened by a random fraction up
// to Jitter so that many waiters do not poll in step. Max bounds the delay
// between a job's end and its detection; MaxFraction keeps short jobs
// responsive.
//
// With the defaults a 3-hour job is seen through in 32 to 35 polls and is
// detected at most Max (8 min 20 s, 4.6 % of the job) after it ends; a
// one-minute job is seen within about 20 s of its end.
type PollPolicy struct {
	Initial     time.Duration
	Factor      float64
	MaxFraction float64
	Max         time.Duration
	Jitter      float64
	// Scale multiplies every duration (0 means 1). A time-scaled emulator
	// and a client given the same Scale behave as at full scale, faster.
	Scale float64
}

// DefaultPollPolicy is used when Config.Poll is zero.
var DefaultPollPolicy = PollPolicy{
	Initial:     2 * time.Second,
	Factor:      2,
	MaxFraction: 0.75,
	Max:         500 * time.Second,
	Jitter:      0.1,
}

func (p PollPolicy) withDefaults() PollPolicy {
	scale := p.Scale
	if p.Initial <= 0 && p.Max <= 0 {
		p = DefaultPollPolicy
	}
	if p.Initial <= 0 {
		p.Initial = DefaultPollPolicy.Initial
	}
	if p.Max < p.Initial {
		p.Max = p.Initial
	}
	if p.Factor < 1 {
		p.Factor = DefaultPollPolicy.Factor
	}
	if p.Jitter < 0 || p.Jitter >= 1 {
		p.Jitter = 0
	}
	p.Scale = scale
	if p.Scale <= 0 {
		p.Scale = 1
	}
	return p
}

// Next returns how long to wait before the next poll, given the previous
// interval (0 before the first poll), the time waited so far and a random
// number in [0,1).
func (p PollPolicy) Next(prev, elapsed time.Duration, rnd float64) time.Duration {
	p = p.withDefaults()
	initial := scaled(p.Initial, p.Scale)
	limit := scaled(p.Max, p.Scale)
	d := initial
	if prev > 0 {
		d = time.Duration(float64(prev) * p.Factor)
	}
	if p.MaxFraction > 0 {
		if rel := time.Duration(float64(elapsed) * p.MaxFraction); d > rel {
			d = max(rel, initial)
		}
	}
	d = min(d, limit)
	d = time.Duration(float64(d) * (1 - p.Jitter*rnd))
	return max(d, time.Millisecond)
}

// RetryPolicy governs retries of idempotent calls (lists, queries) after
// 429, 5xx and dropped connections: up to Attempts tries, waiting Base,
// 2*Base, 4*Base... capped at Max, each wait drawn at random from its upper
// half ("equal jitter"). A Retry-After header is honoured up to Max.
type RetryPolicy struct {
	Attempts int
	Base     time.Duration
	Max      time.Duration
	Scale    float64
}

// DefaultRetryPolicy is used when Config.Retry is zero.
var DefaultRetryPolicy = RetryPolicy{Attempts: 10, Base: 500 * time.Millisecond, Max: 30 * time.Second}

func (r RetryPolicy) withDefaults() RetryPolicy {
	d := DefaultRetryPolicy
	if r.Attempts > 0 {
		d.Attempts = r.Attempts
	}
	if r.Base > 0 {
		d.Base = r.Base
	}
	if r.Max > 0 {
		d.Max = r.Max
	}
	d.Scale = r.Scale
	if d.Scale <= 0 {
		d.Scale = 1
	}
	return d
}

// Delay returns the wait before try number attempt+1 (attempt counts from 1).
func (r RetryPolicy) Delay(attempt int, rnd float64) time.Duration {
	r = r.withDefaults()
	exp := math.Min(float64(attempt-1), 30)
	d := float64(r.Base) * math.Pow(2, exp)
	if d > float64(r.Max) {
		d = float64(r.Max)
	}
	d = d/2 + d/2*rnd
	return scaled(time.Duration(d), r.Scale)
}

func scaled(d time.Duration, s float64) time.Duration {
	if s <= 0 || s == 1 {
		return d
	}
	return time.Duration(float64(d) * s)
}
