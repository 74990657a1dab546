// Package kcpsemu is an emulator of the KCPS ver1 API (CloudStack 4.3 plus
// KDDI commands) for tests, benchmarks and the demo. It is an http.Handler
// that checks request signatures for real, runs asynchronous jobs whose
// length follows the volume size (time-scaled), and enforces the KCPS
// limits of seed 004: a snapshot only while the VM is stopped (starting the
// VM makes it fail), one snapshot at a time per account, at most 8
// generations in a policy, restores only in the zone of the snapshot. It
// reproduces KCPS's quirks (numbers as strings, epoch-millisecond times,
// numeric interval types, listSnapshotPolicies requiring volumeid, invalid
// weekly/monthly schedules silently turned into daily ones).
//
// Tests inject faults (5xx, 429, dropped connections, failed jobs, slow
// answers), read per-command call counters and change state out of band.
//
// Time is evaluated lazily: a job's state is a function of the clock, so no
// goroutine runs behind the handler and an injected clock drives it fully.
package kcpsemu
