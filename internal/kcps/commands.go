package kcps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// set adds non-empty values to v.
func set(v url.Values, kv ...string) url.Values {
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			v.Set(kv[i], kv[i+1])
		}
	}
	return v
}

// ---- volumes ----

// VolumeFilter narrows listVolumes.
type VolumeFilter struct {
	ID, Name, VirtualMachineID, ZoneID, Type string
}

// ListVolumes lists the account's volumes, all pages.
func (c *Client) ListVolumes(ctx context.Context, f VolumeFilter) ([]Volume, error) {
	ws, err := listAll[wireVolume](ctx, c, "listVolumes", "volume", set(url.Values{},
		"id", f.ID, "name", f.Name, "virtualmachineid", f.VirtualMachineID, "zoneid", f.ZoneID, "type", f.Type))
	if err != nil {
		return nil, err
	}
	out := make([]Volume, len(ws))
	for i, w := range ws {
		out[i] = w.value()
	}
	return out, nil
}

// GetVolume returns one volume or ErrNotFound.
func (c *Client) GetVolume(ctx context.Context, id string) (Volume, error) {
	vs, err := c.ListVolumes(ctx, VolumeFilter{ID: id})
	if err != nil {
		if IsNotFound(err) {
			return Volume{}, fmt.Errorf("volume %s: %w", id, ErrNotFound)
		}
		return Volume{}, err
	}
	for _, v := range vs {
		if v.ID == id {
			return v, nil
		}
	}
	return Volume{}, fmt.Errorf("volume %s: %w", id, ErrNotFound)
}

// CreateVolume starts creating a volume from a snapshot. zoneID may be
// empty (the snapshot's zone).
func (c *Client) CreateVolume(ctx context.Context, name, snapshotID, zoneID string) (Job, error) {
	return c.startJob(ctx, "createVolume", set(url.Values{}, "name", name, "snapshotid", snapshotID, "zoneid", zoneID), false)
}

// VolumeCreating is the state of a volume whose createVolume job runs:
// listed, but not to be attached or deleted yet.
const VolumeCreating = "Creating"

// WaitVolumeCreated polls a volume while it is Creating (with the poll
// back-off of snapshots) and returns it as it then is; a volume not being
// created comes back at once.
func (c *Client) WaitVolumeCreated(ctx context.Context, id string) (Volume, error) {
	start := c.clock.Now()
	var d time.Duration
	for {
		v, err := c.GetVolume(ctx, id)
		if err != nil || v.State != VolumeCreating {
			return v, err
		}
		d = c.poll.Next(d, c.clock.Now().Sub(start), c.rand())
		if err := c.clock.Sleep(ctx, d); err != nil {
			return v, fmt.Errorf("volume %s is still Creating: %w", id, err)
		}
	}
}

// AttachVolume starts attaching a volume to a VM.
func (c *Client) AttachVolume(ctx context.Context, volumeID, vmID string) (Job, error) {
	return c.startJob(ctx, "attachVolume", set(url.Values{}, "id", volumeID, "virtualmachineid", vmID), false)
}

// DetachVolume starts detaching a volume from its VM.
func (c *Client) DetachVolume(ctx context.Context, volumeID string) (Job, error) {
	return c.startJob(ctx, "detachVolume", set(url.Values{}, "id", volumeID), false)
}

// DeleteVolume deletes a detached volume (synchronous in CloudStack 4.3).
func (c *Client) DeleteVolume(ctx context.Context, volumeID string) error {
	_, err := c.Call(ctx, "deleteVolume", set(url.Values{}, "id", volumeID), Unsafe)
	return err
}

// ---- virtual machines ----

// VMFilter narrows listVirtualMachines.
type VMFilter struct {
	ID, Name, ZoneID, State string
}

// ListVirtualMachines lists the account's VMs, all pages.
func (c *Client) ListVirtualMachines(ctx context.Context, f VMFilter) ([]VirtualMachine, error) {
	ws, err := listAll[wireVM](ctx, c, "listVirtualMachines", "virtualmachine", set(url.Values{},
		"id", f.ID, "name", f.Name, "zoneid", f.ZoneID, "state", f.State))
	if err != nil {
		return nil, err
	}
	out := make([]VirtualMachine, len(ws))
	for i, w := range ws {
		out[i] = w.value()
	}
	return out, nil
}

// GetVirtualMachine returns one VM or ErrNotFound.
func (c *Client) GetVirtualMachine(ctx context.Context, id string) (VirtualMachine, error) {
	vs, err := c.ListVirtualMachines(ctx, VMFilter{ID: id})
	if err != nil {
		if IsNotFound(err) {
			return VirtualMachine{}, fmt.Errorf("virtual machine %s: %w", id, ErrNotFound)
		}
		return VirtualMachine{}, err
	}
	for _, v := range vs {
		if v.ID == id {
			return v, nil
		}
	}
	return VirtualMachine{}, fmt.Errorf("virtual machine %s: %w", id, ErrNotFound)
}

// StartVirtualMachine starts a VM and waits until it runs. An unknown
// outcome is resolved by looking at the VM before asking again.
func (c *Client) StartVirtualMachine(ctx context.Context, id string) error {
	return c.changeVMPower(ctx, "startVirtualMachine", set(url.Values{}, "id", id), id, VMRunning, VMStarting)
}

// StopVirtualMachine stops a VM and waits until it is stopped.
func (c *Client) StopVirtualMachine(ctx context.Context, id string, forced bool) error {
	p := set(url.Values{}, "id", id)
	if forced {
		p.Set("forced", "true")
	}
	return c.changeVMPower(ctx, "stopVirtualMachine", p, id, VMStopped, VMStopping)
}

func (c *Client) changeVMPower(ctx context.Context, command string, p url.Values, id, want, moving string) error {
	for round := 1; ; round++ {
		job, err := c.startJob(ctx, command, p, false)
		if err == nil {
			_, err = c.WaitJob(ctx, job, WaitOptions{})
			return err
		}
		if !IsAmbiguous(err) || round >= maxAmbiguousRounds {
			return err
		}
		vm, gerr := c.GetVirtualMachine(ctx, id)
		if gerr != nil {
			return errors.Join(err, gerr)
		}
		if vm.State == want {
			return nil
		}
		if vm.State == moving {
			return c.waitVMState(ctx, id, want)
		}
		if serr := c.clock.Sleep(ctx, c.retry.Delay(round, c.rand())); serr != nil {
			return errors.Join(err, serr)
		}
	}
}

// waitVMState polls a VM until it reaches state want.
func (c *Client) waitVMState(ctx context.Context, id, want string) error {
	return c.pollVM(ctx, id, func(vm VirtualMachine) (bool, error) {
		if vm.State == want {
			return true, nil
		}
		if vm.State != VMStarting && vm.State != VMStopping {
			return true, fmt.Errorf("virtual machine %s is %s, expected %s", id, vm.State, want)
		}
		return false, nil
	})
}

// pollVM reads VM id after each poll interval and hands it to check until
// check says it is done (or fails); the error is check's.
func (c *Client) pollVM(ctx context.Context, id string, check func(VirtualMachine) (done bool, err error)) error {
	start := c.clock.Now()
	var prev time.Duration
	for {
		d := c.poll.Next(prev, c.clock.Now().Sub(start), c.rand())
		if err := c.clock.Sleep(ctx, d); err != nil {
			return err
		}
		prev = d
		vm, err := c.GetVirtualMachine(ctx, id)
		if err != nil {
			return err
		}
		if done, err := check(vm); done || err != nil {
			return err
		}
	}
}

// DeployParams are the arguments of deployValueVirtualMachine.
type DeployParams struct {
	Name              string
	DisplayName       string
	ServiceOfferingID string
	TemplateID        string
	ZoneID            string
	NetworkID         string
	// Hypervisor defaults to VMware (the only one KCPS offers).
	Hypervisor string
}

// DeployValueVirtualMachine starts KCPS's VM creation (a KDDI command,
// polled with queryExAsyncJobResult).
func (c *Client) DeployValueVirtualMachine(ctx context.Context, p DeployParams) (Job, error) {
	h := p.Hypervisor
	if h == "" {
		h = "VMware"
	}
	return c.startJob(ctx, "deployValueVirtualMachine", set(url.Values{},
		"name", p.Name, "displayname", p.DisplayName, "serviceofferingid", p.ServiceOfferingID,
		"templateid", p.TemplateID, "zoneid", p.ZoneID, "hypervisor", h,
		"iptonetworklist[0].networkid", p.NetworkID), true)
}

// DestroyVirtualMachine starts destroying a VM (expunge: at once).
func (c *Client) DestroyVirtualMachine(ctx context.Context, id string, expunge bool) (Job, error) {
	p := set(url.Values{}, "id", id)
	if expunge {
		p.Set("expunge", "true")
	}
	return c.startJob(ctx, "destroyVirtualMachine", p, false)
}

// ---- snapshots ----

// SnapshotFilter narrows listSnapshots. An empty filter lists every
// snapshot of the account.
type SnapshotFilter struct {
	ID, VolumeID, IntervalType, Name, ZoneID string
}

// ListSnapshots lists snapshots, all pages.
func (c *Client) ListSnapshots(ctx context.Context, f SnapshotFilter) ([]Snapshot, error) {
	ws, err := listAll[wireSnapshot](ctx, c, "listSnapshots", "snapshot", set(url.Values{},
		"id", f.ID, "volumeid", f.VolumeID, "intervaltype", f.IntervalType, "name", f.Name, "zoneid", f.ZoneID))
	if err != nil {
		return nil, err
	}
	out := make([]Snapshot, len(ws))
	for i, w := range ws {
		out[i] = w.value()
	}
	return out, nil
}

// GetSnapshot returns one snapshot or ErrNotFound.
func (c *Client) GetSnapshot(ctx context.Context, id string) (Snapshot, error) {
	ss, err := c.ListSnapshots(ctx, SnapshotFilter{ID: id})
	if err != nil {
		if IsNotFound(err) {
			return Snapshot{}, fmt.Errorf("snapshot %s: %w", id, ErrNotFound)
		}
		return Snapshot{}, err
	}
	for _, s := range ss {
		if s.ID == id {
			return s, nil
		}
	}
	return Snapshot{}, fmt.Errorf("snapshot %s: %w", id, ErrNotFound)
}

// CreateSnapshot sends createSnapshot once. The snapshot id and job id are
// known as soon as it returns. Callers normally use TakeSnapshot, which
// serializes per account, minds the VM and adopts ambiguous outcomes.
func (c *Client) CreateSnapshot(ctx context.Context, volumeID string) (Job, error) {
	return c.startJob(ctx, "createSnapshot", set(url.Values{}, "volumeid", volumeID), false)
}

// DeleteSnapshot deletes a snapshot and waits until it is gone. A snapshot
// that is already gone is not an error. Deleting is safe to repeat, but an
// unknown outcome is first resolved by looking.
func (c *Client) DeleteSnapshot(ctx context.Context, id string) error {
	for round := 1; ; round++ {
		job, err := c.startJob(ctx, "deleteSnapshot", set(url.Values{}, "id", id), false)
		if err == nil {
			_, err = c.WaitJob(ctx, job, WaitOptions{})
			if err != nil && IsJobError(err) {
				if gone, _ := c.snapshotGone(ctx, id); gone {
					return nil
				}
			}
			return err
		}
		if IsNotFound(err) {
			return nil
		}
		if !IsAmbiguous(err) || round >= maxAmbiguousRounds {
			return err
		}
		// The delete job may have started: give it a couple of minutes
		// (deleting takes seconds) before asking again.
		start := c.clock.Now()
		var prev time.Duration
		for {
			gone, gerr := c.snapshotGone(ctx, id)
			if gerr != nil {
				return errors.Join(err, gerr)
			}
			if gone {
				return nil
			}
			if c.clock.Now().Sub(start) >= scaled(deleteGrace, c.poll.Scale) {
				break
			}
			d := c.poll.Next(prev, c.clock.Now().Sub(start), c.rand())
			if serr := c.clock.Sleep(ctx, d); serr != nil {
				return errors.Join(err, serr)
			}
			prev = d
		}
	}
}

// deleteGrace is how long a delete with an unknown outcome is watched
// before it is sent again.
const deleteGrace = 2 * time.Minute

func (c *Client) snapshotGone(ctx context.Context, id string) (bool, error) {
	_, err := c.GetSnapshot(ctx, id)
	if IsNotFound(err) {
		return true, nil
	}
	return false, err
}

// ---- snapshot policies ----

// PolicyParams are the arguments of createSnapshotPolicy.
type PolicyParams struct {
	VolumeID     string
	IntervalType string // HOURLY, DAILY, WEEKLY, MONTHLY
	Schedule     string // MM, MM:HH or MM:HH:DD
	Timezone     string
	MaxSnaps     int
}

// CreateSnapshotPolicy creates (or, for the same volume and interval,
// replaces) a snapshot policy. It is idempotent on the server side (one
// policy per volume and interval type), so it is retried like a query.
func (c *Client) CreateSnapshotPolicy(ctx context.Context, p PolicyParams) (SnapshotPolicy, error) {
	raw, err := c.Call(ctx, "createSnapshotPolicy", set(url.Values{},
		"volumeid", p.VolumeID, "intervaltype", strings.ToUpper(p.IntervalType), "schedule", p.Schedule,
		"timezone", p.Timezone, "maxsnaps", strconv.Itoa(p.MaxSnaps)), Safe)
	if err != nil {
		return SnapshotPolicy{}, err
	}
	var w struct {
		Policy wirePolicy `json:"snapshotpolicy"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return SnapshotPolicy{}, fmt.Errorf("kcps createSnapshotPolicy: %w", err)
	}
	return w.Policy.value(), nil
}

// ListSnapshotPolicies lists the policies of a volume (KCPS requires
// volumeid).
func (c *Client) ListSnapshotPolicies(ctx context.Context, volumeID string) ([]SnapshotPolicy, error) {
	if volumeID == "" {
		return nil, fmt.Errorf("kcps listSnapshotPolicies: volume id is required")
	}
	ws, err := listAll[wirePolicy](ctx, c, "listSnapshotPolicies", "snapshotpolicy", set(url.Values{}, "volumeid", volumeID))
	if err != nil {
		return nil, err
	}
	out := make([]SnapshotPolicy, len(ws))
	for i, w := range ws {
		out[i] = w.value()
	}
	return out, nil
}

// DeleteSnapshotPolicies deletes policies by id. Deleting what is already
// gone is retried safely, so the call counts as idempotent.
func (c *Client) DeleteSnapshotPolicies(ctx context.Context, ids ...string) error {
	p := url.Values{}
	switch len(ids) {
	case 0:
		return nil
	case 1:
		p.Set("id", ids[0])
	default:
		p.Set("ids", strings.Join(ids, ","))
	}
	_, err := c.Call(ctx, "deleteSnapshotPolicies", p, Safe)
	if IsNotFound(err) {
		return nil
	}
	return err
}

// ---- templates ----

// TemplateParams are the arguments of createTemplate from a snapshot.
type TemplateParams struct {
	SnapshotID, Name, DisplayText, OSTypeID string
}

// CreateTemplate starts creating a template from a snapshot.
func (c *Client) CreateTemplate(ctx context.Context, p TemplateParams) (Job, error) {
	dt := p.DisplayText
	if dt == "" {
		dt = p.Name
	}
	return c.startJob(ctx, "createTemplate", set(url.Values{}, "snapshotid", p.SnapshotID, "name", p.Name,
		"displaytext", dt, "ostypeid", p.OSTypeID), false)
}

// ListTemplates lists the account's own templates (templatefilter=self).
func (c *Client) ListTemplates(ctx context.Context, id string) ([]Template, error) {
	ws, err := listAll[wireTemplate](ctx, c, "listTemplates", "template", set(url.Values{"templatefilter": {"self"}}, "id", id))
	if err != nil {
		return nil, err
	}
	out := make([]Template, len(ws))
	for i, w := range ws {
		out[i] = w.value()
	}
	return out, nil
}

// DeleteTemplate starts deleting a template.
func (c *Client) DeleteTemplate(ctx context.Context, id, zoneID string) (Job, error) {
	return c.startJob(ctx, "deleteTemplate", set(url.Values{}, "id", id, "zoneid", zoneID), false)
}

// ---- zones ----

// ListZones lists the zones (sites) the account sees.
func (c *Client) ListZones(ctx context.Context) ([]Zone, error) {
	ws, err := listAll[wireZone](ctx, c, "listZones", "zone", url.Values{"available": {"true"}})
	if err != nil {
		return nil, err
	}
	out := make([]Zone, len(ws))
	for i, w := range ws {
		out[i] = Zone{ID: string(w.ID), Name: string(w.Name)}
	}
	return out, nil
}

// WaitTemplate waits for a createTemplate job and returns the template.
func (c *Client) WaitTemplate(ctx context.Context, job Job) (Template, error) {
	var w wireTemplate
	err := c.waitInto(ctx, job, "template", &w)
	return w.value(), err
}

// WaitVirtualMachine waits for a deploy/start/stop job and returns the VM.
func (c *Client) WaitVirtualMachine(ctx context.Context, job Job) (VirtualMachine, error) {
	var w wireVM
	err := c.waitInto(ctx, job, "virtualmachine", &w)
	return w.value(), err
}

// WaitVolume waits for a createVolume/attachVolume job and returns the volume.
func (c *Client) WaitVolume(ctx context.Context, job Job) (Volume, error) {
	var w wireVolume
	err := c.waitInto(ctx, job, "volume", &w)
	return w.value(), err
}

// WaitSnapshotJob waits for a createSnapshot job and returns the snapshot.
func (c *Client) WaitSnapshotJob(ctx context.Context, job Job, started time.Time) (Snapshot, error) {
	raw, err := c.WaitJob(ctx, job, WaitOptions{Started: started})
	if err != nil {
		return Snapshot{}, err
	}
	var w struct {
		Snapshot wireSnapshot `json:"snapshot"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return Snapshot{}, fmt.Errorf("kcps createSnapshot: job result: %w", err)
	}
	return w.Snapshot.value(), nil
}
