package kcpsemu

import (
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"
)

// FaultKind is one kind of injected trouble.
type FaultKind int

const (
	// FaultNone answers normally.
	FaultNone FaultKind = iota
	// FaultError answers 503 (an HTML page, as a load balancer would) or
	// 530 (CloudStack's internal error) without carrying out the command.
	FaultError
	// FaultTooMany answers 429 with Retry-After without carrying it out.
	FaultTooMany
	// FaultDrop closes the connection without carrying out the command.
	FaultDrop
	// FaultDropAfter carries out the command, then closes the connection
	// without answering: the client cannot know it happened.
	FaultDropAfter
)

// Faults are random troubles applied to every matching request.
type Faults struct {
	ErrorRate     float64       `json:"error_rate,omitempty"`      // FaultError probability
	TooManyRate   float64       `json:"too_many_rate,omitempty"`   // FaultTooMany probability
	DropRate      float64       `json:"drop_rate,omitempty"`       // FaultDrop probability
	DropAfterRate float64       `json:"drop_after_rate,omitempty"` // FaultDropAfter probability
	Latency       time.Duration `json:"latency,omitempty"`         // added to every matching answer
	// Commands limits the faults to these commands (case-insensitive);
	// empty means every command.
	Commands []string `json:"commands,omitempty"`
	// Seed makes the draws repeatable (0: a fixed default).
	Seed uint64 `json:"seed,omitempty"`
}

type pickedFault struct {
	kind    FaultKind
	latency time.Duration
}

type faultState struct {
	fmu          sync.Mutex
	faults       Faults
	rnd          *rand.Rand
	queued       map[string][]FaultKind // lower-case command ("" any) -> next faults
	failJobs     map[string]int         // lower-case command -> jobs still to fail
	calls        map[string]int
	faulted      map[string]int
	authFailures int
}

func (f *faultState) init() {
	f.rnd = rand.New(rand.NewPCG(1, 2))
	f.queued = map[string][]FaultKind{}
	f.failJobs = map[string]int{}
	f.calls = map[string]int{}
	f.faulted = map[string]int{}
}

// SetFaults replaces the random faults.
func (e *Emulator) SetFaults(f Faults) {
	e.fmu.Lock()
	defer e.fmu.Unlock()
	e.faults = f
	seed := f.Seed
	if seed == 0 {
		seed = 42
	}
	e.rnd = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// ClearFaults removes random and queued faults and pending job failures.
func (e *Emulator) ClearFaults() {
	e.fmu.Lock()
	defer e.fmu.Unlock()
	e.faults = Faults{}
	e.queued = map[string][]FaultKind{}
	e.failJobs = map[string]int{}
}

// FailNext makes the next n requests of command ("" for any command) meet
// the fault kind, before any random fault.
func (e *Emulator) FailNext(command string, n int, kind FaultKind) {
	e.fmu.Lock()
	defer e.fmu.Unlock()
	k := strings.ToLower(command)
	for i := 0; i < n; i++ {
		e.queued[k] = append(e.queued[k], kind)
	}
}

// FailJobs makes the next n asynchronous jobs of command end in failure
// (jobstatus 2, errorcode 530) when they would have finished.
func (e *Emulator) FailJobs(command string, n int) {
	e.fmu.Lock()
	defer e.fmu.Unlock()
	e.failJobs[strings.ToLower(command)] += n
}

func (e *Emulator) takeJobFailure(command string) bool {
	e.fmu.Lock()
	defer e.fmu.Unlock()
	k := strings.ToLower(command)
	if e.failJobs[k] > 0 {
		e.failJobs[k]--
		return true
	}
	return false
}

func (e *Emulator) pickFault(command string) pickedFault {
	e.fmu.Lock()
	defer e.fmu.Unlock()
	k := strings.ToLower(command)
	for _, q := range []string{k, ""} {
		if list := e.queued[q]; len(list) > 0 {
			e.queued[q] = list[1:]
			e.faulted[k]++
			return pickedFault{kind: list[0]}
		}
	}
	f := e.faults
	if len(f.Commands) > 0 {
		match := false
		for _, c := range f.Commands {
			if strings.EqualFold(c, command) {
				match = true
			}
		}
		if !match {
			return pickedFault{}
		}
	}
	p := pickedFault{latency: f.Latency}
	x := e.rnd.Float64()
	for _, c := range []struct {
		rate float64
		kind FaultKind
	}{{f.ErrorRate, FaultError}, {f.TooManyRate, FaultTooMany}, {f.DropRate, FaultDrop}, {f.DropAfterRate, FaultDropAfter}} {
		if x < c.rate {
			p.kind = c.kind
			e.faulted[k]++
			return p
		}
		x -= c.rate
	}
	return p
}

func (e *Emulator) faultRand() float64 {
	e.fmu.Lock()
	defer e.fmu.Unlock()
	return e.rnd.Float64()
}

func (e *Emulator) count(command string) {
	e.fmu.Lock()
	defer e.fmu.Unlock()
	e.calls[command]++
}

func (e *Emulator) countAuthFailure() {
	e.fmu.Lock()
	defer e.fmu.Unlock()
	e.authFailures++
}

// Calls returns how many requests named command arrived (as spelled by the
// client; faulted and refused ones included).
func (e *Emulator) Calls(command string) int {
	e.fmu.Lock()
	defer e.fmu.Unlock()
	return e.calls[command]
}

// CallCounts returns a copy of the per-command request counters.
func (e *Emulator) CallCounts() map[string]int {
	e.fmu.Lock()
	defer e.fmu.Unlock()
	m := make(map[string]int, len(e.calls))
	for k, v := range e.calls {
		m[k] = v
	}
	return m
}

// TotalCalls returns the number of API requests received.
func (e *Emulator) TotalCalls() int {
	e.fmu.Lock()
	defer e.fmu.Unlock()
	n := 0
	for _, v := range e.calls {
		n += v
	}
	return n
}

// FaultedCalls returns how many requests of command met an injected fault.
func (e *Emulator) FaultedCalls(command string) int {
	e.fmu.Lock()
	defer e.fmu.Unlock()
	return e.faulted[strings.ToLower(command)]
}

// AuthFailures returns how many requests failed signature checks.
func (e *Emulator) AuthFailures() int {
	e.fmu.Lock()
	defer e.fmu.Unlock()
	return e.authFailures
}

// ResetCalls zeroes the counters.
func (e *Emulator) ResetCalls() {
	e.fmu.Lock()
	defer e.fmu.Unlock()
	e.calls = map[string]int{}
	e.faulted = map[string]int{}
	e.authFailures = 0
}

// CommandsCalled lists the commands received, sorted (for messages).
func (e *Emulator) CommandsCalled() []string {
	m := e.CallCounts()
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (k FaultKind) String() string {
	switch k {
	case FaultNone:
		return "none"
	case FaultError:
		return "error"
	case FaultTooMany:
		return "too-many"
	case FaultDrop:
		return "drop"
	case FaultDropAfter:
		return "drop-after"
	}
	return "fault?"
}
