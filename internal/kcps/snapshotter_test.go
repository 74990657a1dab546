package kcps

import (
	"testing"
	"time"
)

// Adoptable is what the plan and TakeSnapshot both ask: which snapshot of
// the volume an apply would take over as an interrupted run's.
func TestAdoptable(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	snap := func(id, vol, state, interval string, at time.Duration) Snapshot {
		return Snapshot{ID: id, VolumeID: vol, State: state, IntervalType: interval, Created: t0.Add(at)}
	}
	all := []Snapshot{
		snap("gen", "v1", SnapshotBackedUp, "MANUAL", 0),                  // a generation in state
		snap("old", "v1", SnapshotBackedUp, "MANUAL", -time.Hour),         // older than the newest generation
		snap("daily", "v1", SnapshotBackingUp, "DAILY", time.Minute),      // a policy's, never adopted
		snap("other", "v2", SnapshotBackingUp, "MANUAL", 2*time.Minute),   // another volume's
		snap("done", "v1", SnapshotBackedUp, "MANUAL", 3*time.Minute),     // finished after the newest generation
		snap("failed", "v1", "Error", "MANUAL", 4*time.Minute),            // failed: nothing to adopt
		snap("running", "v3", SnapshotBackingUp, "MANUAL", 5*time.Minute), // still being taken
	}
	known := map[string]bool{"gen": true}
	cases := []struct {
		name, vol  string
		known      map[string]bool
		adoptAfter time.Time
		want       string // "" = none
	}{
		{"finished after the newest generation", "v1", known, t0, "done"},
		{"no generation: only one still being taken", "v1", nil, time.Time{}, ""},
		{"in progress, first generation", "v3", nil, time.Time{}, "running"},
		{"in progress and known", "v3", map[string]bool{"running": true}, t0, ""},
		{"nothing newer than the newest", "v1", known, t0.Add(time.Hour), ""},
		{"another volume's listing", "v4", known, t0, ""},
	}
	for _, c := range cases {
		got, ok := Adoptable(all, c.vol, c.known, c.adoptAfter)
		if (c.want == "") == ok || ok && got.ID != c.want {
			t.Errorf("%s: Adoptable = %q, %v; want %q", c.name, got.ID, ok, c.want)
		}
	}
}
