package kcpsemu

import (
	"crypto/rand"
	"fmt"
	"sort"
	"time"
)

type account struct {
	Name, APIKey, Secret, ID, DomainID string
}

type vm struct {
	seq               int
	ID, Name, Display string
	Account, ZoneID   string
	State             string
	ServiceOfferingID string
	TemplateID        string
	Created           time.Time
}

type volume struct {
	seq             int
	ID, Name        string
	Account, ZoneID string
	Type            string
	VMID            string
	SizeGB          int64
	Created         time.Time
	// Creating is true while the createVolume job that makes it runs
	// (state "Creating"; "Ready" otherwise).
	Creating bool
}

type snapshot struct {
	seq          int
	ID, Name     string
	Account      string
	VolumeID     string
	VolumeName   string
	VolumeType   string
	ZoneID       string
	IntervalType string
	State        string
	Created      time.Time
	phaseAt      time.Time // Creating -> BackingUp
	jobID        string
}

func (s *snapshot) inProgress() bool { return s.State == "Creating" || s.State == "BackingUp" }

type policy struct {
	seq      int
	ID       string
	Account  string
	VolumeID string
	Interval int // 0 hourly, 1 daily, 2 weekly, 3 monthly
	Schedule string
	Timezone string
	MaxSnaps int
}

type template struct {
	seq         int
	ID, Name    string
	DisplayText string
	OSTypeID    string
	ZoneID      string
	Account     string
	SnapshotID  string
	SizeGB      int64
	Ready       bool
	Created     time.Time
}

type job struct {
	ID, Account, Command string
	Ex                   bool
	ObjectID             string
	ObjectType           string
	Created, End         time.Time
	Status               int // 0 pending, 1 success, 2 failure
	ResultCode           int
	Result               any
	fail                 bool
	complete             func(j *job)
	onFail               func(j *job)
	firstSeenDone        time.Time
	doneAt               time.Time
}

func (j *job) succeed(result any) { j.Status, j.ResultCode, j.Result = 1, 0, result }

func (j *job) failWith(code int, text string) {
	j.Status, j.ResultCode = 2, code
	j.Result = map[string]any{"errorcode": code, "errortext": text}
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// tick finishes every job whose end has come, in order of end, and moves
// snapshots from Creating to BackingUp. Caller holds e.mu.
func (e *Emulator) tick() time.Time {
	now := e.now()
	var due []*job
	for _, j := range e.jobs {
		if j.Status == 0 && !j.End.After(now) {
			due = append(due, j)
		}
	}
	sort.Slice(due, func(a, b int) bool {
		if !due[a].End.Equal(due[b].End) {
			return due[a].End.Before(due[b].End)
		}
		return due[a].ID < due[b].ID
	})
	for _, j := range due {
		if j.Status != 0 {
			continue
		}
		if j.fail {
			j.failWith(530, fmt.Sprintf("Failed to %s: internal error (injected)", j.Command))
			if j.onFail != nil {
				j.onFail(j)
			}
		} else {
			j.complete(j)
		}
		j.doneAt = j.End
	}
	for _, s := range e.snapshots {
		if s.State == "Creating" && !s.phaseAt.After(now) {
			s.State = "BackingUp"
		}
	}
	return now
}

// startJob registers an async job that completes after d.
func (e *Emulator) startJob(acct, command, objectID, objectType string, ex bool, d time.Duration, complete func(j *job)) *job {
	now := e.now()
	j := &job{ID: newID(), Account: acct, Command: command, Ex: ex, ObjectID: objectID, ObjectType: objectType,
		Created: now, End: now.Add(d), complete: complete}
	if e.takeJobFailure(command) {
		j.fail = true
	}
	e.jobs[j.ID] = j
	return j
}

// scaled converts unscaled seconds into emulated duration.
func (e *Emulator) scaled(seconds float64) time.Duration {
	return time.Duration(seconds * e.scale * float64(time.Second))
}

func (e *Emulator) nextSeq() int { e.seq++; return e.seq }

// failSnapshotsOfVM fails the in-progress snapshots of vm's volumes: KCPS
// fails a snapshot when its VM is started.
func (e *Emulator) failSnapshotsOfVM(vmID string, now time.Time) {
	for _, s := range e.snapshots {
		if !s.inProgress() {
			continue
		}
		v, ok := e.volumes[s.VolumeID]
		if !ok || v.VMID != vmID {
			continue
		}
		s.State = "Error"
		if j, ok := e.jobs[s.jobID]; ok && j.Status == 0 {
			j.failWith(530, fmt.Sprintf("Failed to create snapshot %s: the virtual machine was started while the snapshot was being taken", s.ID))
			j.End, j.doneAt = now, now
		}
	}
}
