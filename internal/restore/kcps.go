package restore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/kcps"
)

// Object types a KCPS restore creates.
const (
	ObjectTemplate = "template"
	ObjectVM       = "virtual_machine"
	ObjectVolume   = "volume"
)

// KCPS rebuilds a VM from volume snapshots, as seed 004 describes: a
// template from the ROOT volume's snapshot, a VM from the template
// (deployValueVirtualMachine), a volume from each data snapshot, attached
// to the VM. Restores stay in the zone (site) where the snapshots were
// taken.
type KCPS struct {
	Client            *kcps.Client
	RootSnapshotID    string
	DataSnapshotIDs   []string
	Name              string
	ServiceOfferingID string
	NetworkID         string
	OSTypeID          string
	// ZoneID is the zone asked for (the provider's kcps.zone_id); "" means
	// the snapshots' zone.
	ZoneID string
	// Start leaves the VM running at the end (true) or stopped (false).
	Start bool

	root kcps.Snapshot
	data []kcps.Snapshot
	zone string
	vm   kcps.VirtualMachine
	tmpl string
	vols []string
}

var _ Source = (*KCPS)(nil)

// Kind implements Source.
func (k *KCPS) Kind() string { return KindKCPS }

// Identity implements Source: the VM's name.
func (k *KCPS) Identity() string { return KCPSIdentity(k.Name) }

// Zone is the zone the restore works in (known after Check).
func (k *KCPS) Zone() string { return k.zone }

// Describe implements Source.
func (k *KCPS) Describe() map[string]string {
	d := map[string]string{"root_snapshot_id": k.RootSnapshotID, "name": k.Name,
		"service_offering_id": k.ServiceOfferingID, "network_id": k.NetworkID, "os_type_id": k.OSTypeID}
	if len(k.DataSnapshotIDs) > 0 {
		d["data_snapshot_ids"] = strings.Join(k.DataSnapshotIDs, ",")
	}
	if k.ZoneID != "" {
		d["zone_id"] = k.ZoneID
	}
	return d
}

// Check implements Source: every snapshot exists and is BackedUp, the ROOT
// one of a ROOT volume and the others of data disks, all in one zone, the
// zone asked for and the network's; no VM has the name yet. The backup's
// time is that of the oldest snapshot.
func (k *KCPS) Check(ctx context.Context, r *Run) (time.Time, error) {
	if k.Client == nil {
		return time.Time{}, errors.New("the provider has no kcps configuration (endpoint, api_key, secret_key)")
	}
	get := func(id, want string) (kcps.Snapshot, error) {
		s, err := k.Client.GetSnapshot(ctx, id)
		if err != nil {
			if kcps.IsNotFound(err) {
				return s, fmt.Errorf("snapshot %s not found", id)
			}
			return s, err
		}
		if s.State != kcps.SnapshotBackedUp {
			return s, fmt.Errorf("snapshot %s is %s, not BackedUp: it cannot be restored yet", id, s.State)
		}
		if s.VolumeType != "" && !strings.EqualFold(s.VolumeType, want) {
			return s, fmt.Errorf("snapshot %s is of a %s volume (%s), not of a %s volume", id, s.VolumeType, s.VolumeName, want)
		}
		return s, nil
	}
	var err error
	if k.root, err = get(k.RootSnapshotID, "ROOT"); err != nil {
		return time.Time{}, fmt.Errorf("root_snapshot_id: %w", err)
	}
	k.data = nil
	for i, id := range k.DataSnapshotIDs {
		s, err := get(id, "DATADISK")
		if err != nil {
			return time.Time{}, fmt.Errorf("data_snapshot_ids[%d]: %w", i, err)
		}
		k.data = append(k.data, s)
	}
	// One site: KCPS restores a snapshot only in the zone it was taken in.
	k.zone = k.root.ZoneID
	for i, s := range k.data {
		if s.ZoneID != k.zone {
			return time.Time{}, fmt.Errorf("refused: cross-zone restore: data_snapshot_ids[%d] (%s) was taken in zone %s, the ROOT snapshot in zone %s; KCPS restores snapshots only in the site where they were taken",
				i, s.ID, s.ZoneID, k.zone)
		}
	}
	if k.ZoneID != "" && k.ZoneID != k.zone {
		return time.Time{}, fmt.Errorf("refused: cross-zone restore: the snapshots were taken in zone %s but the restore is asked for zone %s (kcps zone_id); KCPS restores snapshots only in the site where they were taken",
			k.zone, k.ZoneID)
	}
	if k.NetworkID != "" {
		nz, err := k.networkZone(ctx)
		if err != nil {
			return time.Time{}, err
		}
		if nz != k.zone {
			return time.Time{}, fmt.Errorf("refused: cross-zone restore: network_id %s is in zone %s, the snapshots in zone %s", k.NetworkID, nz, k.zone)
		}
	}
	r.Rec.Check("one zone", true, "every snapshot and the network are in zone "+k.zone)
	if err := k.checkNameFree(ctx); err != nil {
		return time.Time{}, err
	}
	oldest := k.root.Created
	for _, s := range k.data {
		if s.Created.Before(oldest) {
			oldest = s.Created
		}
	}
	return oldest, nil
}

// checkNameFree refuses a restore when what it would create already
// exists under its names: a VM named kcps.name, the template and data
// volumes named after it. Those are what a restore leaves when the apply
// is killed before Terraform saved its state (kill -9, a crash): nothing
// then tracks them, and the refusal lists them for removal.
func (k *KCPS) checkNameFree(ctx context.Context) error {
	objs, _, err := FindKCPSLeftovers(ctx, k.Client, k.Name)
	if err != nil || len(objs) == 0 {
		return err
	}
	found := make([]string, len(objs))
	vmFound := ""
	for i, o := range objs {
		found[i] = fmt.Sprintf("%s %s (%s)", o.Type, o.Name, o.ID)
		if o.Type == ObjectVM {
			vmFound = o.ID
		}
	}
	lead := fmt.Sprintf("objects named as this restore's already exist: %s", strings.Join(found, ", "))
	if vmFound != "" {
		lead = fmt.Sprintf("a VM named %q already exists (%s): the restore deploys a new VM under that name. Found: %s",
			k.Name, vmFound, strings.Join(found, ", "))
	}
	return fmt.Errorf("%s. If an interrupted restore left them (an apply killed before Terraform saved its state), import them "+
		"into this resource (terraform import <address> %s), and the next apply removes them and restores again; or delete them "+
		"(destroyVirtualMachine with expunge, deleteVolume, deleteTemplate) and apply again. Otherwise restore under another kcps.name",
		lead, k.Kind()+":"+k.Identity())
}

// FindKCPSLeftovers lists what exists under the names a restore named name
// gives: the VM (not destroyed), the volumes <name>-restore-data<N> and
// the template <name>-restore-root; and the zone they are in. A restore
// refuses to run over them; an import of kcps:<name> adopts them.
func FindKCPSLeftovers(ctx context.Context, c *kcps.Client, name string) ([]Object, string, error) {
	var objs []Object
	zone := ""
	vms, err := c.ListVirtualMachines(ctx, kcps.VMFilter{Name: name})
	if err != nil {
		return nil, "", err
	}
	for _, v := range vms {
		if v.Name == name && v.State != "Destroyed" && v.State != "Expunging" {
			objs = append(objs, Object{Type: ObjectVM, ID: v.ID, Name: v.Name})
			zone = v.ZoneID
		}
	}
	vols, err := c.ListVolumes(ctx, kcps.VolumeFilter{})
	if err != nil {
		return nil, "", err
	}
	for _, v := range vols {
		if isDataVolumeName(name, v.Name) {
			objs = append(objs, Object{Type: ObjectVolume, ID: v.ID, Name: v.Name})
		}
	}
	ts, err := c.ListTemplates(ctx, "")
	if err != nil {
		return nil, "", err
	}
	for _, t := range ts {
		if t.Name == templateName(name) {
			objs = append(objs, Object{Type: ObjectTemplate, ID: t.ID, Name: t.Name})
			if zone == "" {
				zone = t.ZoneID
			}
		}
	}
	return objs, zone, nil
}

// isDataVolumeName reports a name of volumeName's form, whatever the
// number (an earlier restore may have had more data snapshots).
func isDataVolumeName(restoreName, name string) bool {
	n, ok := strings.CutPrefix(name, restoreName+"-restore-data")
	if !ok || n == "" {
		return false
	}
	for _, c := range n {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func (k *KCPS) networkZone(ctx context.Context) (string, error) {
	raw, err := k.Client.Call(ctx, "listNetworks", url.Values{"id": {k.NetworkID}}, kcps.Safe)
	if err != nil {
		return "", fmt.Errorf("network_id %s: %w", k.NetworkID, err)
	}
	var w struct {
		Network []struct {
			ID     string `json:"id"`
			ZoneID string `json:"zoneid"`
		} `json:"network"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return "", fmt.Errorf("listNetworks: %w", err)
	}
	for _, n := range w.Network {
		if n.ID == k.NetworkID {
			return n.ZoneID, nil
		}
	}
	return "", fmt.Errorf("network_id %s not found", k.NetworkID)
}

// Names of what a restore creates, derived from the VM's name so that an
// ambiguous answer can be looked up.
func (k *KCPS) templateName() string    { return templateName(k.Name) }
func (k *KCPS) volumeName(i int) string { return fmt.Sprintf("%s-restore-data%d", k.Name, i+1) }

func templateName(restoreName string) string { return restoreName + "-restore-root" }

// Restore implements Source.
func (k *KCPS) Restore(ctx context.Context, r *Run) error {
	c := k.Client
	// 1. Template from the ROOT snapshot.
	err := r.Rec.Step("createTemplate from ROOT snapshot "+k.root.ID, "", func() (string, error) {
		job, err := c.CreateTemplate(ctx, kcps.TemplateParams{SnapshotID: k.root.ID, Name: k.templateName(),
			DisplayText: "backupctl restore of " + k.Name, OSTypeID: k.OSTypeID})
		if err != nil {
			k.adoptTemplate(ctx, r, err)
			return "", err
		}
		k.tmpl = job.ID
		r.Create(Object{Type: ObjectTemplate, ID: job.ID, Name: k.templateName()})
		t, err := c.WaitTemplate(ctx, job)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("template %s (%s)", t.ID, t.Name), nil
	})
	if err != nil {
		return err
	}
	// 2. The VM, from the template.
	err = r.Rec.Step("deployValueVirtualMachine "+k.Name, "", func() (string, error) {
		job, err := c.DeployValueVirtualMachine(ctx, kcps.DeployParams{Name: k.Name, DisplayName: k.Name,
			ServiceOfferingID: k.ServiceOfferingID, TemplateID: k.tmpl, ZoneID: k.zone, NetworkID: k.NetworkID})
		if err != nil {
			k.adoptVM(ctx, r, err)
			return "", err
		}
		r.Create(Object{Type: ObjectVM, ID: job.ID, Name: k.Name})
		vm, err := c.WaitVirtualMachine(ctx, job)
		if err != nil {
			return "", err
		}
		if vm.ID == "" {
			vm.ID = job.ID
		}
		k.vm = vm
		return fmt.Sprintf("VM %s (%s) %s", vm.ID, vm.Name, vm.State), nil
	})
	if err != nil {
		return err
	}
	// 3. Volumes from the data snapshots, 4. attached.
	for i, s := range k.data {
		name := k.volumeName(i)
		var volID string
		err := r.Rec.Step(fmt.Sprintf("createVolume %s from snapshot %s", name, s.ID), "", func() (string, error) {
			job, err := c.CreateVolume(ctx, name, s.ID, k.zone)
			if err != nil {
				k.adoptVolume(ctx, r, name, err)
				return "", err
			}
			volID = job.ID
			r.Create(Object{Type: ObjectVolume, ID: job.ID, Name: name})
			v, err := c.WaitVolume(ctx, job)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("volume %s (%d bytes)", v.ID, v.Size), nil
		})
		if err != nil {
			return err
		}
		k.vols = append(k.vols, volID)
		err = r.Rec.Step(fmt.Sprintf("attachVolume %s to %s", name, k.Name), "", func() (string, error) {
			job, err := c.AttachVolume(ctx, volID, k.vm.ID)
			if err != nil {
				return "", err
			}
			if _, err := c.WaitVolume(ctx, job); err != nil {
				return "", err
			}
			return fmt.Sprintf("volume %s attached to VM %s", volID, k.vm.ID), nil
		})
		if err != nil {
			return err
		}
	}
	// 5. Power state.
	want := kcps.VMStopped
	if k.Start {
		want = kcps.VMRunning
	}
	return r.Rec.Step("VM "+strings.ToLower(want), "", func() (string, error) {
		vm, err := c.GetVirtualMachine(ctx, k.vm.ID)
		if err != nil {
			return "", err
		}
		switch {
		case vm.State == want:
			return "already " + want, nil
		case k.Start:
			return "started", c.StartVirtualMachine(ctx, k.vm.ID)
		default:
			return "stopped", c.StopVirtualMachine(ctx, k.vm.ID, false)
		}
	})
}

// adopt*: after an ambiguous answer the object may exist without its id
// being known: look it up by its name so that cleanup finds it.
func (k *KCPS) adoptTemplate(ctx context.Context, r *Run, err error) {
	if !kcps.IsAmbiguous(err) {
		return
	}
	ts, lerr := k.Client.ListTemplates(ctx, "")
	if lerr != nil {
		return
	}
	for _, t := range ts {
		if t.Name == k.templateName() {
			r.Create(Object{Type: ObjectTemplate, ID: t.ID, Name: t.Name})
		}
	}
}

func (k *KCPS) adoptVM(ctx context.Context, r *Run, err error) {
	if !kcps.IsAmbiguous(err) {
		return
	}
	vms, lerr := k.Client.ListVirtualMachines(ctx, kcps.VMFilter{Name: k.Name})
	if lerr != nil {
		return
	}
	for _, v := range vms {
		if v.Name == k.Name {
			r.Create(Object{Type: ObjectVM, ID: v.ID, Name: v.Name})
		}
	}
}

func (k *KCPS) adoptVolume(ctx context.Context, r *Run, name string, err error) {
	if !kcps.IsAmbiguous(err) {
		return
	}
	vs, lerr := k.Client.ListVolumes(ctx, kcps.VolumeFilter{Name: name})
	if lerr != nil {
		return
	}
	for _, v := range vs {
		if v.Name == name {
			r.Create(Object{Type: ObjectVolume, ID: v.ID, Name: v.Name})
		}
	}
}

// VerifyOn implements Source: the verify commands run on "local" by
// default (the new VM is not a provider host) and learn the new ids.
func (k *KCPS) VerifyOn(*Run) (string, map[string]string) {
	return "local", map[string]string{
		"RESTORE_VM_ID":       k.vm.ID,
		"RESTORE_VM_NAME":     k.Name,
		"RESTORE_ZONE_ID":     k.zone,
		"RESTORE_TEMPLATE_ID": k.tmpl,
		"RESTORE_VOLUME_IDS":  strings.Join(k.vols, ","),
	}
}

// Rollback implements Source.
func (k *KCPS) Rollback(ctx context.Context, r *Run, objs []Object) ([]Object, error) {
	var left []Object
	var errs []error
	_ = r.Rec.Step("remove what the failed drill created", "", func() (string, error) {
		left, errs = RemoveKCPS(ctx, k.Client, k.zone, objs)
		return fmt.Sprintf("%d of %d objects removed", countKCPS(objs)-countKCPS(left), countKCPS(objs)), errors.Join(errs...)
	})
	return left, errors.Join(errs...)
}

func countKCPS(objs []Object) int {
	n := 0
	for _, o := range objs {
		switch o.Type {
		case ObjectTemplate, ObjectVM, ObjectVolume:
			n++
		}
	}
	return n
}

// RemoveKCPS removes the KCPS objects of objs (what a drill created):
// data volumes detached, the VM destroyed and expunged, the volumes
// deleted, the template deleted. Objects already gone count as removed.
// It returns what it could not remove (and objects of other types) with
// the errors.
func RemoveKCPS(ctx context.Context, c *kcps.Client, zoneID string, objs []Object) ([]Object, []error) {
	var vms, vols, tmpls, left []Object
	for _, o := range objs {
		switch o.Type {
		case ObjectVM:
			vms = append(vms, o)
		case ObjectVolume:
			vols = append(vols, o)
		case ObjectTemplate:
			tmpls = append(tmpls, o)
		default:
			left = append(left, o)
		}
	}
	if c == nil {
		if len(vms)+len(vols)+len(tmpls) > 0 {
			return objs, []error{errors.New("cannot remove KCPS objects: the provider has no kcps configuration")}
		}
		return objs, nil
	}
	var errs []error
	fail := func(o Object, what string, err error) {
		left = append(left, o)
		errs = append(errs, fmt.Errorf("%s %s %s (%s): %w", what, o.Type, o.ID, o.Name, err))
	}
	// Data volumes off the VM first.
	for _, o := range vols {
		v, err := c.GetVolume(ctx, o.ID)
		if err != nil || v.VirtualMachineID == "" {
			continue
		}
		job, err := c.DetachVolume(ctx, o.ID)
		if err == nil {
			_, err = c.WaitVolume(ctx, job)
		}
		if err != nil && !kcps.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("detach volume %s: %w", o.ID, err))
		}
	}
	for _, o := range vms {
		job, err := c.DestroyVirtualMachine(ctx, o.ID, true)
		if err == nil {
			_, err = c.WaitVirtualMachine(ctx, job)
		}
		if err != nil && !gone(ctx, err, func() error { _, e := c.GetVirtualMachine(ctx, o.ID); return e }) {
			fail(o, "destroy", err)
		}
	}
	for _, o := range vols {
		// A volume whose createVolume job was cut short (the drill was
		// cancelled) is listed as Creating until the job ends, and KCPS
		// refuses to delete it before: wait for it.
		if _, err := c.WaitVolumeCreated(ctx, o.ID); err != nil && !kcps.IsNotFound(err) {
			fail(o, "delete", err)
			continue
		}
		err := c.DeleteVolume(ctx, o.ID)
		if err != nil && !gone(ctx, err, func() error { _, e := c.GetVolume(ctx, o.ID); return e }) {
			fail(o, "delete", err)
		}
	}
	for _, o := range tmpls {
		job, err := c.DeleteTemplate(ctx, o.ID, zoneID)
		if err == nil {
			_, err = c.WaitJob(ctx, job, kcps.WaitOptions{})
		}
		if err != nil && !gone(ctx, err, func() error {
			ts, e := c.ListTemplates(ctx, o.ID)
			if e == nil && len(ts) == 0 {
				return kcps.ErrNotFound
			}
			return e
		}) {
			fail(o, "delete", err)
		}
	}
	sort.SliceStable(left, func(i, j int) bool { return left[i].Type < left[j].Type })
	return left, errs
}

// gone reports whether a failed removal failed because the object no
// longer exists (asking again when the error does not say).
func gone(ctx context.Context, err error, look func() error) bool {
	if kcps.IsNotFound(err) {
		return true
	}
	if ctx.Err() != nil {
		return false
	}
	return kcps.IsNotFound(look())
}
