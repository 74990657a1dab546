package restore

import (
	"fmt"
	"time"
)

// Limits are the recovery objectives a restore must meet. Zero means no
// limit.
type Limits struct {
	// MaxRPO is the oldest the restored backup may be when the restore
	// starts (the data that would be lost).
	MaxRPO time.Duration
	// MaxRTO is the longest the restore may take, verification included.
	MaxRTO time.Duration
}

// LimitError is a recovery objective that was not met.
type LimitError struct {
	// Which is "RPO" or "RTO".
	Which  string
	Actual time.Duration
	Limit  time.Duration
	Detail string
}

func (e *LimitError) Error() string {
	attr := "max_rpo"
	what := "the backup restored was"
	tail := "old when the restore started"
	if e.Which == "RTO" {
		attr, what, tail = "max_rto", "the restore took", "(restore and verification)"
	}
	msg := fmt.Sprintf("%s not met: %s %s %s, more than %s = %q", e.Which, what, FormatDuration(e.Actual), tail, attr, e.Limit.String())
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// CheckRPO returns a *LimitError when the backup taken at created was older
// than lim.MaxRPO at start.
func (lim Limits) CheckRPO(created, start time.Time, detail string) error {
	if lim.MaxRPO <= 0 {
		return nil
	}
	if age := start.Sub(created); age > lim.MaxRPO {
		return &LimitError{Which: "RPO", Actual: age, Limit: lim.MaxRPO, Detail: detail}
	}
	return nil
}

// CheckRTO returns a *LimitError when took exceeds lim.MaxRTO.
func (lim Limits) CheckRTO(took time.Duration) error {
	if lim.MaxRTO <= 0 {
		return nil
	}
	if took > lim.MaxRTO {
		return &LimitError{Which: "RTO", Actual: took, Limit: lim.MaxRTO}
	}
	return nil
}

// ParseLimit parses a max_rpo/max_rto value: a positive Go duration.
func ParseLimit(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a Go duration such as \"90s\", \"15m\" or \"24h\"", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q must be longer than zero", s)
	}
	return d, nil
}

// FormatDuration prints d rounded to the second ("26h0m5s"), or in
// milliseconds below one second.
func FormatDuration(d time.Duration) string {
	if d < time.Second && d > -time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// wholeSeconds is d in whole seconds, rounded down, never negative.
func wholeSeconds(d time.Duration) int64 {
	if d < 0 {
		return 0
	}
	return int64(d / time.Second)
}
