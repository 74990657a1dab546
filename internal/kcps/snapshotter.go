package kcps

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"
)

// VMPower says what TakeSnapshot does when the volume's VM is running.
type VMPower string

const (
	// RequireStopped refuses to snapshot a volume whose VM runs.
	RequireStopped VMPower = "require_stopped"
	// StopStart stops the VM, takes the snapshot and starts the VM again if
	// it was running, also when the snapshot failed.
	StopStart VMPower = "stop_start"
)

// TakeOptions configures TakeSnapshot.
type TakeOptions struct {
	VolumeID string
	VMPower  VMPower // empty: RequireStopped
	// Known holds the ids of snapshots already accounted for (the
	// generations in state). A MANUAL snapshot of the volume that is not
	// among them and is still being taken, or finished after AdoptAfter,
	// is the remains of an interrupted run: it is adopted instead of
	// starting a new one.
	Known      map[string]bool
	AdoptAfter time.Time
	// PendingID is a snapshot id recorded by an earlier, interrupted run.
	PendingID string
	// OnStarted is called as soon as the new snapshot's id and job id are
	// known (to record them).
	OnStarted func(snapshotID, jobID string)
	// Logf receives progress lines.
	Logf func(format string, args ...any)
}

// TakeResult is what TakeSnapshot did.
type TakeResult struct {
	Snapshot Snapshot
	// Adopted is true when an interrupted run's snapshot was taken over.
	Adopted bool
	// VMStopped / VMRestarted report what was done to the VM.
	VMStopped   bool
	VMRestarted bool
	// VMLeftStopped: the VM was stopped for the snapshot and is left so,
	// because TakeSnapshot returned (cancelled, timed out, or KCPS could
	// not be asked) while the snapshot was, or may have been, still being
	// taken. KCPS makes a snapshot fail when its VM starts.
	VMLeftStopped bool
}

// VMLeftStoppedError says that a VM stopped for a snapshot was not started
// again, and why (see TakeResult.VMLeftStopped).
type VMLeftStoppedError struct {
	VMID, VMName string
	SnapshotID   string
	// State is the snapshot's state when last seen ("" when it could not
	// be read).
	State string
}

func (e *VMLeftStoppedError) Error() string {
	state := "in an unknown state (it could not be read)"
	if e.State != "" {
		state = "still " + e.State
	}
	return fmt.Sprintf("VM %s (%s) was left stopped: its snapshot %s is %s, and starting the VM makes a running snapshot fail. "+
		"Start the VM yourself once the snapshot shows BackedUp (listSnapshots id=%s); the next apply adopts the snapshot and waits for it, "+
		"but does not start the VM (it cannot tell it was running)",
		e.VMID, e.VMName, e.SnapshotID, state, e.SnapshotID)
}

// ErrVMRunning is returned (wrapped) when vm_power is require_stopped and
// the volume's VM is not stopped.
var ErrVMRunning = errors.New("the volume's virtual machine is not stopped")

// maxAmbiguousRounds bounds how often a createSnapshot with an unknown
// outcome is looked for and, when surely absent, sent again.
const maxAmbiguousRounds = 6

// TakeSnapshot takes one snapshot of a volume the KCPS way: one at a time
// per account, with the VM stopped, polled until BackedUp for as long as
// ctx allows. It never sends createSnapshot twice without first checking
// that the earlier attempt left nothing behind.
func (c *Client) TakeSnapshot(ctx context.Context, o TakeOptions) (res TakeResult, err error) {
	var taking string // the snapshot this run started, once known
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if o.VMPower == "" {
		o.VMPower = RequireStopped
	}
	unlock, err := c.LockAccount(ctx)
	if err != nil {
		return res, fmt.Errorf("waiting for other snapshot work of this account: %w", err)
	}
	defer unlock()

	vol, err := c.GetVolume(ctx, o.VolumeID)
	if err != nil {
		return res, err
	}

	// 1. The remains of an interrupted run.
	before, err := c.ListSnapshots(ctx, SnapshotFilter{VolumeID: o.VolumeID})
	if err != nil {
		return res, err
	}
	if s, ok, err := c.findAdoptable(ctx, o, before); err != nil {
		return res, err
	} else if ok {
		logf("adopting snapshot %s (%s) left by an interrupted run", s.ID, s.State)
		res.Adopted = true
		if s.State == SnapshotBackedUp {
			res.Snapshot = s
			return res, nil
		}
		res.Snapshot, err = c.WaitSnapshot(ctx, s.ID, s.Created)
		return res, err
	}

	// 2. The VM.
	if vol.VirtualMachineID != "" && vol.VMState != VMStopped {
		// (verr, not err: the deferred start below sets the result err.)
		vm, verr := c.GetVirtualMachine(ctx, vol.VirtualMachineID)
		if verr != nil && !IsNotFound(verr) {
			return res, verr
		}
		if verr == nil && vm.State != VMStopped {
			if o.VMPower != StopStart {
				return res, fmt.Errorf("volume %s (%s) is attached to VM %s (%s), which is %s: %w; KCPS takes a volume snapshot only while the VM is stopped (stop it first, or set vm_power = \"stop_start\")",
					vol.ID, vol.Name, vm.ID, vm.Name, vm.State, ErrVMRunning)
			}
			logf("stopping VM %s (%s) for the snapshot", vm.ID, vm.Name)
			if err := c.stopAndWait(ctx, vm); err != nil {
				return res, fmt.Errorf("stopping VM %s before the snapshot: %w", vm.ID, err)
			}
			res.VMStopped = true
			defer func() {
				// Start it again whatever happened, even if ctx is done;
				// but not while the snapshot may still be running, which
				// starting the VM would make fail.
				sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Hour)
				defer cancel()
				if err != nil && taking != "" {
					if running, state := c.snapshotRunning(sctx, taking); running {
						logf("leaving VM %s (%s) stopped: snapshot %s is not finished", vm.ID, vm.Name, taking)
						res.VMLeftStopped = true
						err = errors.Join(err, &VMLeftStoppedError{VMID: vm.ID, VMName: vm.Name, SnapshotID: taking, State: state})
						return
					}
				}
				logf("starting VM %s (%s) again", vm.ID, vm.Name)
				if serr := c.StartVirtualMachine(sctx, vm.ID); serr != nil {
					err = errors.Join(err, fmt.Errorf("starting VM %s again after the snapshot: %w", vm.ID, serr))
					return
				}
				res.VMRestarted = true
			}()
		}
	}

	// 3. Create, resolving unknown outcomes by looking.
	seen := map[string]bool{}
	for _, s := range before {
		seen[s.ID] = true
	}
	started := c.clock.Now()
	var job Job
	for round := 0; ; round++ {
		job, err = c.CreateSnapshot(ctx, o.VolumeID)
		if err == nil {
			break
		}
		var ae *APIError
		if errors.As(err, &ae) && ae.ErrorCode == CodeResourceInUse {
			// Another snapshot of the account runs (a schedule, another
			// tool): KCPS refused ours. Wait and ask again.
			logf("KCPS refused the snapshot (%s); waiting", ae.ErrorText)
			if serr := c.clock.Sleep(ctx, c.poll.Next(c.poll.Max/4, c.clock.Now().Sub(started), c.rand())); serr != nil {
				return res, errors.Join(err, serr)
			}
			round-- // a refusal is no unknown outcome
		} else if !IsAmbiguous(err) || round >= maxAmbiguousRounds {
			return res, err
		} else {
			logf("createSnapshot outcome unknown (%v); looking before trying again", err)
		}
		// Whatever the failure, look before sending again: the running
		// snapshot may be ours.
		after, lerr := c.ListSnapshots(ctx, SnapshotFilter{VolumeID: o.VolumeID})
		if lerr != nil {
			return res, errors.Join(err, lerr)
		}
		if s, ok := newest(after, func(s Snapshot) bool { return !seen[s.ID] && isManual(s) }); ok {
			logf("the snapshot was created after all: %s", s.ID)
			taking = s.ID
			if o.OnStarted != nil {
				o.OnStarted(s.ID, "")
			}
			res.Snapshot, err = c.WaitSnapshot(ctx, s.ID, s.Created)
			return res, c.cleanupFailed(ctx, res.Snapshot.ID, err)
		}
	}
	taking = job.ID
	if o.OnStarted != nil {
		o.OnStarted(job.ID, job.JobID)
	}
	logf("snapshot %s of volume %s started (job %s)", job.ID, o.VolumeID, job.JobID)
	res.Snapshot, err = c.WaitSnapshotJob(ctx, job, started)
	if err == nil && res.Snapshot.ID == "" {
		res.Snapshot, err = c.GetSnapshot(ctx, job.ID)
	}
	if err != nil {
		return res, c.cleanupFailed(ctx, job.ID, err)
	}
	return res, nil
}

// snapshotRunning reports whether snapshot id may still be being taken:
// it is neither BackedUp nor Error nor gone, or it cannot be read (then
// state is ""). ctx must not be the cancelled one of the caller.
func (c *Client) snapshotRunning(ctx context.Context, id string) (running bool, state string) {
	lctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	s, err := c.GetSnapshot(lctx, id)
	switch {
	case IsNotFound(err):
		return false, ""
	case err != nil:
		return true, ""
	}
	return s.State != SnapshotBackedUp && s.State != SnapshotError, s.State
}

// cleanupFailed removes the Error-state remains of a failed job (best
// effort) and returns err unchanged.
func (c *Client) cleanupFailed(ctx context.Context, id string, err error) error {
	if err == nil || id == "" || !IsJobError(err) {
		return err
	}
	if s, gerr := c.GetSnapshot(ctx, id); gerr == nil && s.State == SnapshotError {
		_ = c.DeleteSnapshot(ctx, id)
	}
	return err
}

func (c *Client) stopAndWait(ctx context.Context, vm VirtualMachine) error {
	if vm.State == VMRunning || vm.State == VMStarting {
		return c.StopVirtualMachine(ctx, vm.ID, false)
	}
	// Stopping (or another transition): wait until Stopped.
	return c.pollVM(ctx, vm.ID, func(cur VirtualMachine) (bool, error) {
		switch cur.State {
		case VMStopped:
			return true, nil
		case VMRunning:
			return true, c.StopVirtualMachine(ctx, vm.ID, false)
		}
		return false, nil
	})
}

func isManual(s Snapshot) bool {
	return s.IntervalType == "" || s.IntervalType == "MANUAL" || s.SnapshotType == "MANUAL"
}

// findAdoptable looks for a snapshot left by an interrupted run.
func (c *Client) findAdoptable(ctx context.Context, o TakeOptions, all []Snapshot) (Snapshot, bool, error) {
	if o.PendingID != "" && !o.Known[o.PendingID] {
		s, err := c.GetSnapshot(ctx, o.PendingID)
		if err == nil && (s.InProgress() || s.State == SnapshotBackedUp) {
			return s, true, nil
		}
		if err != nil && !IsNotFound(err) {
			return Snapshot{}, false, err
		}
	}
	s, ok := Adoptable(all, o.VolumeID, o.Known, o.AdoptAfter)
	return s, ok, nil
}

// Adoptable picks, from a listing (of the volume or of the whole account),
// the snapshot of volumeID that TakeSnapshot would adopt as the remains of
// an interrupted run: the newest MANUAL snapshot not in known that is
// still being taken, or BackedUp after adoptAfter (when set). The plan
// uses it to tell that a new generation will be adopted, not taken.
func Adoptable(all []Snapshot, volumeID string, known map[string]bool, adoptAfter time.Time) (Snapshot, bool) {
	return newest(all, func(s Snapshot) bool {
		if s.VolumeID != volumeID || known[s.ID] || !isManual(s) {
			return false
		}
		if s.InProgress() {
			return true
		}
		return s.State == SnapshotBackedUp && !adoptAfter.IsZero() && s.Created.After(adoptAfter)
	})
}

// newest returns the most recent snapshot matching keep.
func newest(ss []Snapshot, keep func(Snapshot) bool) (Snapshot, bool) {
	var best Snapshot
	found := false
	for _, s := range ss {
		if !keep(s) {
			continue
		}
		if !found || s.Created.After(best.Created) || (s.Created.Equal(best.Created) && s.ID > best.ID) {
			best, found = s, true
		}
	}
	return best, found
}

// WaitSnapshot polls a snapshot (by listing it) until it is BackedUp, for
// a snapshot whose job id is unknown. started is when it began.
func (c *Client) WaitSnapshot(ctx context.Context, id string, started time.Time) (Snapshot, error) {
	if started.IsZero() {
		started = c.clock.Now()
	}
	var prev time.Duration
	for {
		s, err := c.GetSnapshot(ctx, id)
		if err != nil {
			if IsNotFound(err) {
				return Snapshot{}, fmt.Errorf("snapshot %s disappeared while being taken: %w", id, err)
			}
			if ctx.Err() != nil || !transient(err) {
				return Snapshot{}, err
			}
		} else {
			switch s.State {
			case SnapshotBackedUp:
				return s, nil
			case SnapshotError:
				return s, &JobError{Command: "createSnapshot", ErrorCode: CodeInternalError,
					ErrorText: fmt.Sprintf("snapshot %s ended in state Error", id)}
			}
		}
		d := c.poll.Next(prev, c.clock.Now().Sub(started), c.rand())
		if err := c.clock.Sleep(ctx, d); err != nil {
			return Snapshot{}, fmt.Errorf("waiting for snapshot %s: %w", id, err)
		}
		prev = d
	}
}

// SortNewestFirst orders snapshots newest first (ties by id, descending).
func SortNewestFirst(ss []Snapshot) {
	sort.SliceStable(ss, func(i, j int) bool {
		if !ss[i].Created.Equal(ss[j].Created) {
			return ss[i].Created.After(ss[j].Created)
		}
		return ss[i].ID > ss[j].ID
	})
}

// PruneBeyond returns the generations (newest first) beyond keep: what a
// rotation deletes once a new generation is BackedUp.
func PruneBeyond(newestFirst []Snapshot, keep int) []Snapshot {
	if keep < 1 || len(newestFirst) <= keep {
		return nil
	}
	return append([]Snapshot(nil), newestFirst[keep:]...)
}
