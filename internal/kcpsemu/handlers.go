package kcpsemu

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// handlers maps lower-case command names to their implementation.
var handlers = map[string]handlerFunc{}

func init() {
	for name, h := range map[string]handlerFunc{
		"listZones":                 (*Emulator).listZones,
		"listServiceOfferings":      (*Emulator).listServiceOfferings,
		"listNetworks":              (*Emulator).listNetworks,
		"listOsTypes":               (*Emulator).listOsTypes,
		"listVolumes":               (*Emulator).listVolumes,
		"listVirtualMachines":       (*Emulator).listVirtualMachines,
		"startVirtualMachine":       (*Emulator).startVirtualMachine,
		"stopVirtualMachine":        (*Emulator).stopVirtualMachine,
		"destroyVirtualMachine":     (*Emulator).destroyVirtualMachine,
		"deployValueVirtualMachine": (*Emulator).deployValueVirtualMachine,
		"createSnapshot":            (*Emulator).createSnapshot,
		"listSnapshots":             (*Emulator).listSnapshots,
		"deleteSnapshot":            (*Emulator).deleteSnapshot,
		"createSnapshotPolicy":      (*Emulator).createSnapshotPolicy,
		"listSnapshotPolicies":      (*Emulator).listSnapshotPolicies,
		"deleteSnapshotPolicies":    (*Emulator).deleteSnapshotPolicies,
		"createTemplate":            (*Emulator).createTemplate,
		"listTemplates":             (*Emulator).listTemplates,
		"deleteTemplate":            (*Emulator).deleteTemplate,
		"createVolume":              (*Emulator).createVolume,
		"attachVolume":              (*Emulator).attachVolume,
		"detachVolume":              (*Emulator).detachVolume,
		"deleteVolume":              (*Emulator).deleteVolume,
		"queryAsyncJobResult":       (*Emulator).queryAsyncJobResult,
		"queryExAsyncJobResult":     (*Emulator).queryExAsyncJobResult,
	} {
		handlers[strings.ToLower(name)] = h
	}
}

// Unscaled durations of the jobs (seconds).
const (
	secStopVM         = 30
	secStartVM        = 60
	secDeleteSnapshot = 10
	secTemplatePerGB  = 20
	secDeployVM       = 180
	secVolumePerGB    = 10
	secAttach         = 15
	secDestroyVM      = 30
	secDeleteTemplate = 10
	// Share of a snapshot job spent in Creating before BackingUp.
	creatingShare = 0.1
)

func asyncAnswer(j *job) map[string]any {
	m := map[string]any{"jobid": j.ID}
	if j.ObjectID != "" {
		m["id"] = j.ObjectID
	}
	return m
}

// ---- lookups (own account only) ----

func (e *Emulator) findVM(c *call, key string) (*vm, *csError) {
	id := c.get(key)
	v := e.vms[id]
	if v == nil || v.Account != c.acct.Name {
		return nil, errParam("Unable to find virtual machine with specified %s=%s", key, id)
	}
	return v, nil
}

func (e *Emulator) findVolume(c *call, key string) (*volume, *csError) {
	id := c.get(key)
	v := e.volumes[id]
	if v == nil || v.Account != c.acct.Name {
		return nil, errParam("Unable to find volume with specified %s=%s", key, id)
	}
	return v, nil
}

func (e *Emulator) findSnapshot(c *call, key string) (*snapshot, *csError) {
	id := c.get(key)
	s := e.snapshots[id]
	if s == nil || s.Account != c.acct.Name {
		return nil, errParam("Unable to find snapshot with specified %s=%s", key, id)
	}
	return s, nil
}

func (e *Emulator) zoneExists(id string) bool { return e.zoneName(id) != "" }

// ---- zones, offerings, networks, os types ----

func (e *Emulator) listZones(c *call) (any, *csError) {
	var items []listed
	for i, z := range e.zones {
		if id := c.get("id"); id != "" && id != z.ID {
			continue
		}
		items = append(items, listed{i, map[string]any{"id": z.ID, "name": z.Name, "networktype": "Advanced", "allocationstate": "Enabled"}})
	}
	return e.page(c, "zone", items)
}

func (e *Emulator) listServiceOfferings(c *call) (any, *csError) {
	var items []listed
	for i, o := range e.offerings {
		if id := c.get("id"); id != "" && id != o.ID {
			continue
		}
		items = append(items, listed{i, map[string]any{"id": o.ID, "name": o.Name, "displaytext": o.Name,
			"cpunumber": strconv.Itoa(max(o.CPUNumber, 1)), "cpuspeed": strconv.Itoa(max(o.CPUSpeed, 1000)), "memory": max(o.Memory, 1024)}})
	}
	return e.page(c, "serviceoffering", items)
}

func (e *Emulator) listNetworks(c *call) (any, *csError) {
	var items []listed
	for i, n := range e.networks {
		if n.Account != "" && n.Account != c.acct.Name {
			continue
		}
		if id := c.get("id"); id != "" && id != n.ID {
			continue
		}
		if z := c.get("zoneid"); z != "" && z != n.ZoneID {
			continue
		}
		items = append(items, listed{i, map[string]any{"id": n.ID, "name": n.Name, "zoneid": n.ZoneID, "state": "Implemented"}})
	}
	return e.page(c, "network", items)
}

func (e *Emulator) listOsTypes(c *call) (any, *csError) {
	var items []listed
	for i, o := range e.ostypes {
		items = append(items, listed{i, map[string]any{"id": o.ID, "description": o.Description}})
	}
	return e.page(c, "ostype", items)
}

// ---- VMs ----

func (e *Emulator) listVirtualMachines(c *call) (any, *csError) {
	var items []listed
	for _, v := range e.vms {
		if v.Account != c.acct.Name || c.excludes("id", v.ID) ||
			c.excludes("name", v.Name) || c.excludes("zoneid", v.ZoneID) ||
			c.excludesFold("state", v.State) {
			continue
		}
		items = append(items, listed{v.seq, e.vmJSON(v)})
	}
	return e.page(c, "virtualmachine", items)
}

func (e *Emulator) startVirtualMachine(c *call) (any, *csError) {
	if err := c.required("id"); err != nil {
		return nil, err
	}
	v, err := e.findVM(c, "id")
	if err != nil {
		return nil, err
	}
	if v.State != "Stopped" {
		return nil, errParam("Unable to start VM %s: it is %s", v.Name, v.State)
	}
	e.beginStart(v, c.now)
	j := e.startJob(c.acct.Name, c.cmd, v.ID, "VirtualMachine", false, e.scaled(secStartVM), func(j *job) {
		v.State = "Running"
		j.succeed(map[string]any{"virtualmachine": e.vmJSON(v)})
	})
	return asyncAnswer(j), nil
}

// beginStart marks v Starting and fails the snapshots of its volumes.
func (e *Emulator) beginStart(v *vm, now time.Time) {
	v.State = "Starting"
	e.failSnapshotsOfVM(v.ID, now)
}

func (e *Emulator) stopVirtualMachine(c *call) (any, *csError) {
	if err := c.required("id"); err != nil {
		return nil, err
	}
	v, err := e.findVM(c, "id")
	if err != nil {
		return nil, err
	}
	d := e.scaled(secStopVM)
	switch v.State {
	case "Stopped":
		d = 0
	case "Running":
		v.State = "Stopping"
	default:
		return nil, errParam("Unable to stop VM %s: it is %s", v.Name, v.State)
	}
	j := e.startJob(c.acct.Name, c.cmd, v.ID, "VirtualMachine", false, d, func(j *job) {
		v.State = "Stopped"
		j.succeed(map[string]any{"virtualmachine": e.vmJSON(v)})
	})
	return asyncAnswer(j), nil
}

func (e *Emulator) destroyVirtualMachine(c *call) (any, *csError) {
	if err := c.required("id"); err != nil {
		return nil, err
	}
	v, err := e.findVM(c, "id")
	if err != nil {
		return nil, err
	}
	if v.State == "Destroyed" {
		return nil, errParam("Unable to find virtual machine with specified id=%s", v.ID)
	}
	for _, s := range e.snapshots {
		if s.inProgress() && e.volumes[s.VolumeID] != nil && e.volumes[s.VolumeID].VMID == v.ID {
			return nil, errInUse("VM %s has a snapshot in progress", v.Name)
		}
	}
	v.State = "Stopping"
	j := e.startJob(c.acct.Name, c.cmd, v.ID, "VirtualMachine", false, e.scaled(secDestroyVM), func(j *job) {
		v.State = "Destroyed"
		res := e.vmJSON(v)
		for id, vol := range e.volumes {
			if vol.VMID != v.ID {
				continue
			}
			if vol.Type == "ROOT" {
				delete(e.volumes, id)
			} else {
				vol.VMID = ""
			}
		}
		delete(e.vms, v.ID)
		j.succeed(map[string]any{"virtualmachine": res})
	})
	return asyncAnswer(j), nil
}

// deployValueVirtualMachine is KDDI's VM creation, polled with
// queryExAsyncJobResult.
func (e *Emulator) deployValueVirtualMachine(c *call) (any, *csError) {
	if err := c.required("serviceofferingid", "templateid", "zoneid"); err != nil {
		return nil, err
	}
	if h := c.get("hypervisor"); h != "" && !strings.EqualFold(h, "VMware") {
		return nil, errParam("Hypervisor %s is not supported: KCPS offers VMware", h)
	}
	zone := c.get("zoneid")
	if !e.zoneExists(zone) {
		return nil, errParam("Unable to find zone by id=%s", zone)
	}
	so := c.get("serviceofferingid")
	soOK := false
	for _, o := range e.offerings {
		soOK = soOK || o.ID == so
	}
	if !soOK {
		return nil, errParam("Unable to find service offering: %s", so)
	}
	t := e.templates[c.get("templateid")]
	if t == nil || t.Account != c.acct.Name {
		return nil, errParam("Unable to use template %s", c.get("templateid"))
	}
	if !t.Ready {
		return nil, errParam("Template %s is not ready", t.ID)
	}
	if t.ZoneID != zone {
		return nil, errParam("Template %s is not available in zone %s: a snapshot can be restored only in the site where it was taken", t.ID, zone)
	}
	netID := c.get("iptonetworklist[0].networkid")
	if netID == "" {
		netID = c.get("networkids")
	}
	if netID != "" {
		found := false
		for _, n := range e.networks {
			if n.ID == netID {
				if n.ZoneID != zone {
					return nil, errParam("Network %s is not in zone %s", netID, zone)
				}
				found = true
			}
		}
		if !found {
			return nil, errParam("Unable to find network by id=%s", netID)
		}
	}
	name := c.get("name")
	if name == "" {
		name = "VM-" + newID()[:8]
	}
	for _, v := range e.vms {
		if v.Account == c.acct.Name && v.Name == name && v.State != "Destroyed" {
			return nil, errParam("The vm with hostName %s already exists", name)
		}
	}
	v := &vm{seq: e.nextSeq(), ID: newID(), Name: name, Display: name, Account: c.acct.Name, ZoneID: zone,
		State: "Starting", ServiceOfferingID: so, TemplateID: t.ID, Created: c.now}
	if d := c.get("displayname"); d != "" {
		v.Display = d
	}
	e.vms[v.ID] = v
	root := &volume{seq: e.nextSeq(), ID: newID(), Name: fmt.Sprintf("ROOT-%s", v.Name), Account: c.acct.Name,
		ZoneID: zone, Type: "ROOT", VMID: v.ID, SizeGB: max(t.SizeGB, 1), Created: c.now}
	e.volumes[root.ID] = root
	j := e.startJob(c.acct.Name, c.cmd, v.ID, "VirtualMachine", true, e.scaled(secDeployVM), func(j *job) {
		v.State = "Running"
		j.succeed(map[string]any{"virtualmachine": e.vmJSON(v)})
	})
	j.onFail = func(*job) { v.State = "Error" }
	return asyncAnswer(j), nil
}

// ---- volumes ----

func (e *Emulator) listVolumes(c *call) (any, *csError) {
	var items []listed
	for _, v := range e.volumes {
		if v.Account != c.acct.Name || c.excludes("id", v.ID) ||
			c.excludes("name", v.Name) ||
			c.excludes("virtualmachineid", v.VMID) ||
			c.excludes("zoneid", v.ZoneID) ||
			c.excludesFold("type", v.Type) {
			continue
		}
		items = append(items, listed{v.seq, e.volumeJSON(v)})
	}
	return e.page(c, "volume", items)
}

func (e *Emulator) createVolume(c *call) (any, *csError) {
	if err := c.required("name", "snapshotid"); err != nil {
		return nil, err
	}
	s, err := e.findSnapshot(c, "snapshotid")
	if err != nil {
		return nil, err
	}
	if s.State != "BackedUp" {
		return nil, errParam("Snapshot %s is %s, not BackedUp", s.ID, s.State)
	}
	zone := s.ZoneID
	if z := c.get("zoneid"); z != "" && z != s.ZoneID {
		return nil, errParam("Snapshot %s can be restored only in zone %s, where it was taken (not %s)", s.ID, s.ZoneID, z)
	}
	size := int64(1)
	if src := e.volumes[s.VolumeID]; src != nil {
		size = src.SizeGB
	}
	// Listed at once, as CloudStack records it before the job copies the
	// data: "Creating" until the job ends.
	v := &volume{seq: e.nextSeq(), ID: newID(), Name: c.get("name"), Account: c.acct.Name, ZoneID: zone,
		Type: "DATADISK", SizeGB: size, Created: c.now, Creating: true}
	e.volumes[v.ID] = v
	j := e.startJob(c.acct.Name, c.cmd, v.ID, "Volume", false, e.scaled(secVolumePerGB*float64(size)), func(j *job) {
		v.Creating = false
		j.succeed(map[string]any{"volume": e.volumeJSON(v)})
	})
	j.onFail = func(*job) { delete(e.volumes, v.ID) }
	return asyncAnswer(j), nil
}

func (e *Emulator) attachVolume(c *call) (any, *csError) {
	if err := c.required("id", "virtualmachineid"); err != nil {
		return nil, err
	}
	v, err := e.findVolume(c, "id")
	if err != nil {
		return nil, err
	}
	m, err := e.findVM(c, "virtualmachineid")
	if err != nil {
		return nil, err
	}
	if v.VMID != "" {
		return nil, errParam("Volume %s is already attached to a VM", v.ID)
	}
	if v.Creating {
		return nil, errParam("Volume %s is Creating: it can be attached once it is Ready", v.ID)
	}
	if v.ZoneID != m.ZoneID {
		return nil, errParam("Volume %s (zone %s) and VM %s (zone %s) are in different zones", v.ID, v.ZoneID, m.ID, m.ZoneID)
	}
	v.VMID = m.ID
	j := e.startJob(c.acct.Name, c.cmd, v.ID, "Volume", false, e.scaled(secAttach), func(j *job) {
		j.succeed(map[string]any{"volume": e.volumeJSON(v)})
	})
	return asyncAnswer(j), nil
}

func (e *Emulator) detachVolume(c *call) (any, *csError) {
	if err := c.required("id"); err != nil {
		return nil, err
	}
	v, err := e.findVolume(c, "id")
	if err != nil {
		return nil, err
	}
	if v.VMID == "" || v.Type == "ROOT" {
		return nil, errParam("Volume %s is not attached as a data disk", v.ID)
	}
	v.VMID = ""
	j := e.startJob(c.acct.Name, c.cmd, v.ID, "Volume", false, e.scaled(secAttach), func(j *job) {
		j.succeed(map[string]any{"volume": e.volumeJSON(v)})
	})
	return asyncAnswer(j), nil
}

func (e *Emulator) deleteVolume(c *call) (any, *csError) {
	if err := c.required("id"); err != nil {
		return nil, err
	}
	v, err := e.findVolume(c, "id")
	if err != nil {
		return nil, err
	}
	if v.VMID != "" {
		return nil, errParam("Please specify a volume that is not attached to any VM.")
	}
	if v.Creating {
		return nil, errParam("Please specify a volume in Ready or Allocated state: volume %s is Creating", v.ID)
	}
	for _, s := range e.snapshots {
		if s.VolumeID == v.ID && s.inProgress() {
			return nil, errInUse("Volume %s has a snapshot in progress", v.ID)
		}
	}
	delete(e.volumes, v.ID)
	return map[string]any{"success": "true"}, nil
}

// ---- jobs ----

func (e *Emulator) queryAsyncJobResult(c *call) (any, *csError) { return e.queryJob(c, false) }

func (e *Emulator) queryExAsyncJobResult(c *call) (any, *csError) { return e.queryJob(c, true) }

func (e *Emulator) queryJob(c *call, ex bool) (any, *csError) {
	if err := c.required("jobid"); err != nil {
		return nil, err
	}
	j := e.jobs[c.get("jobid")]
	// KDDI jobs are visible only through queryExAsyncJobResult, the others
	// only through queryAsyncJobResult.
	if j == nil || j.Account != c.acct.Name || j.Ex != ex {
		return nil, errParam("Unable to find job by id %s", c.get("jobid"))
	}
	if j.Status != 0 && j.firstSeenDone.IsZero() {
		j.firstSeenDone = c.now
	}
	return e.jobJSON(j), nil
}
