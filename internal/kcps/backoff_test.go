package kcps

import (
	"math/rand/v2"
	"testing"
	"time"
)

// simulate polls a job of length job with policy p and returns the number
// of polls and how long after its end the job was seen done.
func simulate(p PollPolicy, job time.Duration, rnd func() float64) (polls int, delay time.Duration, gaps []time.Duration) {
	var elapsed, prev time.Duration
	for {
		d := p.Next(prev, elapsed, rnd())
		gaps = append(gaps, d)
		elapsed += d
		prev = d
		polls++
		if elapsed >= job {
			return polls, elapsed - job, gaps
		}
	}
}

func TestPollScheduleThreeHourJob(t *testing.T) {
	job := 3 * time.Hour
	draws := map[string]func() float64{
		"no jitter":  func() float64 { return 0 },
		"max jitter": func() float64 { return 0.999 },
	}
	for seed := uint64(1); seed <= 50; seed++ {
		r := rand.New(rand.NewPCG(seed, seed))
		draws["seed"+string(rune('A'+seed%26))+string(rune('a'+seed/26))] = r.Float64
	}
	worstPolls, worstDelay := 0, time.Duration(0)
	for name, rnd := range draws {
		polls, delay, _ := simulate(DefaultPollPolicy, job, rnd)
		// +1 for createSnapshot itself: the whole job in ≤ 40 calls.
		if polls+1 > 40 {
			t.Errorf("%s: %d calls for a 3-hour job, want ≤ 40", name, polls+1)
		}
		if delay > job/20 {
			t.Errorf("%s: detected %s after the end, more than 5%% of the job", name, delay)
		}
		worstPolls, worstDelay = max(worstPolls, polls+1), max(worstDelay, delay)
	}
	t.Logf("3-hour job: at most %d calls, detection delay at most %s (%.1f%%)", worstPolls, worstDelay, 100*worstDelay.Seconds()/job.Seconds())
}

func TestPollScheduleShape(t *testing.T) {
	p := DefaultPollPolicy
	_, _, gaps := simulate(p, 10*time.Hour, func() float64 { return 0 })
	if gaps[0] != p.Initial {
		t.Fatalf("first poll after %s, want %s", gaps[0], p.Initial)
	}
	var elapsed time.Duration
	for i, g := range gaps {
		if g > p.Max {
			t.Fatalf("gap %d = %s beyond Max %s", i, g, p.Max)
		}
		if i > 0 && g < gaps[i-1] {
			t.Fatalf("without jitter the gaps never shrink: %s after %s", g, gaps[i-1])
		}
		if limit := time.Duration(float64(elapsed) * p.MaxFraction); g > p.Initial && g > limit {
			t.Fatalf("gap %d = %s exceeds %.0f%% of the %s waited", i, g, 100*p.MaxFraction, elapsed)
		}
		elapsed += g
	}
	if gaps[len(gaps)-1] != p.Max {
		t.Fatalf("a long job settles at Max, got %s", gaps[len(gaps)-1])
	}
	// Short jobs stay responsive: a 10 s job is seen within 10 s of its end.
	if _, d, _ := simulate(p, 10*time.Second, func() float64 { return 0 }); d > 10*time.Second {
		t.Fatalf("10 s job detected %s late", d)
	}
	// Scale shrinks everything alike.
	ps := p
	ps.Scale = 0.001
	polls, delay, _ := simulate(ps, 3*time.Hour/1000, func() float64 { return 0 })
	polls1, delay1, _ := simulate(p, 3*time.Hour, func() float64 { return 0 })
	if diff := delay*1000 - delay1; polls != polls1 || diff > time.Second || diff < -time.Second {
		t.Fatalf("scaled schedule differs: %d/%s vs %d/%s", polls, delay, polls1, delay1)
	}
}

func TestRetryDelay(t *testing.T) {
	r := DefaultRetryPolicy
	prevMax := time.Duration(0)
	for a := 1; a <= 12; a++ {
		lo, hi := r.Delay(a, 0), r.Delay(a, 0.999999)
		if lo > hi || hi > r.Max || lo < hi/2-time.Millisecond {
			t.Fatalf("attempt %d: [%s, %s]", a, lo, hi)
		}
		if hi < prevMax {
			t.Fatalf("attempt %d: delays must not shrink", a)
		}
		prevMax = hi
	}
	if r.Delay(1, 0) != r.Base/2 || r.Delay(20, 0.999999) > r.Max {
		t.Fatalf("bounds: %s %s", r.Delay(1, 0), r.Delay(20, 0.999999))
	}
}
