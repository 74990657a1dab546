package kcpsemu

import (
	"fmt"
	"sort"
	"time"
)

// Out-of-band helpers: what an operator does in the KCPS Admin Console
// behind Terraform's back, and what tests inspect.

// SnapshotInfo is a snapshot as the emulator holds it.
type SnapshotInfo struct {
	ID, Name, VolumeID, ZoneID, State, IntervalType, Account string
	Created                                                  time.Time
}

// VMInfo is a VM as the emulator holds it.
type VMInfo struct {
	ID, Name, State, ZoneID, Account, TemplateID string
}

// VolumeInfo is a volume as the emulator holds it.
type VolumeInfo struct {
	ID, Name, Type, VMID, ZoneID, Account string
	SizeGB                                int64
}

// PolicyInfo is a snapshot policy.
type PolicyInfo struct {
	ID, VolumeID, IntervalType, Schedule, Timezone string
	MaxSnaps                                       int
}

// JobInfo describes an async job, for benchmarks.
type JobInfo struct {
	ID, Command, ObjectID string
	Status                int
	Created, End          time.Time
	// FirstSeenDone is when a query first returned the finished job.
	FirstSeenDone time.Time
}

func (e *Emulator) lockTick() func() {
	e.mu.Lock()
	e.tick()
	return e.mu.Unlock
}

// Snapshots lists the snapshots of volumeID ("" for all), oldest first.
func (e *Emulator) Snapshots(volumeID string) []SnapshotInfo {
	defer e.lockTick()()
	var out []SnapshotInfo
	var seqs []int
	for _, s := range e.snapshots {
		if volumeID == "" || s.VolumeID == volumeID {
			out = append(out, SnapshotInfo{ID: s.ID, Name: s.Name, VolumeID: s.VolumeID, ZoneID: s.ZoneID,
				State: s.State, IntervalType: s.IntervalType, Account: s.Account, Created: s.Created})
			seqs = append(seqs, s.seq)
		}
	}
	idx := make([]int, len(out))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return seqs[idx[a]] < seqs[idx[b]] })
	sorted := make([]SnapshotInfo, len(out))
	for i, j := range idx {
		sorted[i] = out[j]
	}
	return sorted
}

// DeleteSnapshot removes a snapshot at once, as the Admin Console would.
func (e *Emulator) DeleteSnapshot(id string) error {
	defer e.lockTick()()
	if _, ok := e.snapshots[id]; !ok {
		return fmt.Errorf("kcpsemu: no snapshot %s", id)
	}
	delete(e.snapshots, id)
	return nil
}

// AddSnapshot adds a finished snapshot (e.g. made by hand long ago).
func (e *Emulator) AddSnapshot(s Snapshot) (string, error) {
	defer e.lockTick()()
	return e.addSnapshot(s)
}

// StartVM starts a VM at once (state Running); like a start through the
// API, it makes the snapshots in progress on its volumes fail.
func (e *Emulator) StartVM(id string) error {
	defer e.lockTick()()
	v := e.vms[id]
	if v == nil {
		return fmt.Errorf("kcpsemu: no vm %s", id)
	}
	e.failSnapshotsOfVM(id, e.now())
	v.State = "Running"
	return nil
}

// StopVM stops a VM at once.
func (e *Emulator) StopVM(id string) error {
	defer e.lockTick()()
	v := e.vms[id]
	if v == nil {
		return fmt.Errorf("kcpsemu: no vm %s", id)
	}
	v.State = "Stopped"
	return nil
}

// VM returns a VM's state.
func (e *Emulator) VM(id string) (VMInfo, bool) {
	defer e.lockTick()()
	v := e.vms[id]
	if v == nil {
		return VMInfo{}, false
	}
	return VMInfo{ID: v.ID, Name: v.Name, State: v.State, ZoneID: v.ZoneID, Account: v.Account, TemplateID: v.TemplateID}, true
}

// VMs lists every VM.
func (e *Emulator) VMs() []VMInfo {
	defer e.lockTick()()
	var out []VMInfo
	for _, v := range e.vms {
		out = append(out, VMInfo{ID: v.ID, Name: v.Name, State: v.State, ZoneID: v.ZoneID, Account: v.Account, TemplateID: v.TemplateID})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out
}

// Volumes lists every volume.
func (e *Emulator) Volumes() []VolumeInfo {
	defer e.lockTick()()
	var out []VolumeInfo
	for _, v := range e.volumes {
		out = append(out, VolumeInfo{ID: v.ID, Name: v.Name, Type: v.Type, VMID: v.VMID, ZoneID: v.ZoneID, Account: v.Account, SizeGB: v.SizeGB})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out
}

// AddVolume adds a volume (e.g. for a benchmark's 125 volumes).
func (e *Emulator) AddVolume(v Volume) error {
	defer e.lockTick()()
	if e.byName[v.Account] == nil || !e.zoneExists(v.ZoneID) || v.ID == "" {
		return fmt.Errorf("kcpsemu: volume %q: unknown account or zone, or no id", v.Name)
	}
	if v.VMID != "" && e.vms[v.VMID] == nil {
		return fmt.Errorf("kcpsemu: volume %q: unknown vm %q", v.Name, v.VMID)
	}
	if v.Type == "" {
		v.Type = "DATADISK"
	}
	e.volumes[v.ID] = &volume{seq: e.nextSeq(), ID: v.ID, Name: v.Name, Account: v.Account, ZoneID: v.ZoneID,
		Type: v.Type, VMID: v.VMID, SizeGB: v.SizeGB, Created: e.now()}
	return nil
}

// Policies lists the snapshot policies of a volume.
func (e *Emulator) Policies(volumeID string) []PolicyInfo {
	defer e.lockTick()()
	var out []PolicyInfo
	for _, p := range e.policies {
		if p.VolumeID == volumeID {
			out = append(out, PolicyInfo{ID: p.ID, VolumeID: p.VolumeID, IntervalType: []string{"HOURLY", "DAILY", "WEEKLY", "MONTHLY"}[p.Interval],
				Schedule: p.Schedule, Timezone: p.Timezone, MaxSnaps: p.MaxSnaps})
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].IntervalType < out[b].IntervalType })
	return out
}

// TemplateIDs lists the templates.
func (e *Emulator) TemplateIDs() []string {
	defer e.lockTick()()
	var out []string
	for id := range e.templates {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Job returns an async job's timing.
func (e *Emulator) Job(id string) (JobInfo, bool) {
	defer e.lockTick()()
	j := e.jobs[id]
	if j == nil {
		return JobInfo{}, false
	}
	end := j.End
	if !j.doneAt.IsZero() {
		end = j.doneAt
	}
	return JobInfo{ID: j.ID, Command: j.Command, ObjectID: j.ObjectID, Status: j.Status, Created: j.Created,
		End: end, FirstSeenDone: j.firstSeenDone}, true
}

// Jobs lists the jobs of a command ("" for all), by creation.
func (e *Emulator) Jobs(command string) []JobInfo {
	e.mu.Lock()
	var ids []string
	for id, j := range e.jobs {
		if command == "" || j.Command == command {
			ids = append(ids, id)
		}
	}
	e.mu.Unlock()
	var out []JobInfo
	for _, id := range ids {
		if j, ok := e.Job(id); ok {
			out = append(out, j)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Created.Before(out[b].Created) })
	return out
}

// Scale returns the effective time scale.
func (e *Emulator) Scale() float64 { return e.scale }

// SnapshotDuration is how long a snapshot of a volume of sizeGB takes here.
func (e *Emulator) SnapshotDuration(sizeGB int64) time.Duration {
	return e.scaled(e.perGB * float64(max(sizeGB, 1)))
}

// DeleteVolume removes a volume at once (its snapshots stay, as on KCPS).
func (e *Emulator) DeleteVolume(id string) error {
	defer e.lockTick()()
	if _, ok := e.volumes[id]; !ok {
		return fmt.Errorf("kcpsemu: no volume %s", id)
	}
	delete(e.volumes, id)
	return nil
}

// SetPolicySchedule changes a policy's schedule string as stored, as an
// operator editing it in the Admin Console would (no validation).
func (e *Emulator) SetPolicySchedule(id, schedule string) error {
	defer e.lockTick()()
	p := e.policies[id]
	if p == nil {
		return fmt.Errorf("kcpsemu: no policy %s", id)
	}
	p.Schedule = schedule
	return nil
}
