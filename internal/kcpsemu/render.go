package kcpsemu

import (
	"sort"
	"strconv"
)

// CloudStack's time format; KCPS also sends epoch milliseconds for VMs.
const csTime = "2006-01-02T15:04:05-0700"

func (e *Emulator) zoneName(id string) string {
	for _, z := range e.zones {
		if z.ID == id {
			return z.Name
		}
	}
	return ""
}

func (e *Emulator) vmJSON(v *vm) map[string]any {
	m := map[string]any{
		"id": v.ID, "name": v.Name, "displayname": v.Display, "account": v.Account,
		"domainid": e.byName[v.Account].DomainID, "domain": "ROOT",
		// KCPS quirks: created as epoch milliseconds, cpu figures as strings.
		"created": v.Created.UnixMilli(),
		"state":   v.State, "zoneid": v.ZoneID, "zonename": e.zoneName(v.ZoneID),
		"templateid": v.TemplateID, "serviceofferingid": v.ServiceOfferingID,
		"hypervisor": "VMware", "haenable": false,
	}
	for _, o := range e.offerings {
		if o.ID == v.ServiceOfferingID {
			m["serviceofferingname"] = o.Name
			m["cpunumber"] = strconv.Itoa(max(o.CPUNumber, 1))
			m["cpuspeed"] = strconv.Itoa(max(o.CPUSpeed, 1000))
			m["memory"] = max(o.Memory, 1024)
		}
	}
	if _, ok := m["cpunumber"]; !ok {
		m["cpunumber"], m["cpuspeed"], m["memory"] = "1", "1000", 1024
	}
	return m
}

func (v *volume) state() string {
	if v.Creating {
		return "Creating"
	}
	return "Ready"
}

func (e *Emulator) volumeJSON(v *volume) map[string]any {
	m := map[string]any{
		"id": v.ID, "name": v.Name, "zoneid": v.ZoneID, "zonename": e.zoneName(v.ZoneID), "type": v.Type,
		"size": v.SizeGB << 30, "created": v.Created.In(jst).Format(csTime), "state": v.state(),
		"account": v.Account, "domainid": e.byName[v.Account].DomainID, "domain": "ROOT",
		"storagetype": "shared", "hypervisor": "VMware", "destroyed": false,
	}
	if m2 := e.vms[v.VMID]; m2 != nil {
		m["virtualmachineid"] = m2.ID
		m["vmname"] = m2.Name
		m["vmdisplayname"] = m2.Display
		m["vmstate"] = m2.State
		if v.Type == "ROOT" {
			m["deviceid"] = 0
		} else {
			m["deviceid"] = 1
		}
	}
	return m
}

func (e *Emulator) snapshotJSON(s *snapshot) map[string]any {
	return map[string]any{
		"id": s.ID, "name": s.Name, "account": s.Account, "domainid": e.byName[s.Account].DomainID,
		"domain": "ROOT", "snapshottype": snapType(s.IntervalType), "volumeid": s.VolumeID,
		"volumename": s.VolumeName, "volumetype": s.VolumeType, "created": s.Created.In(jst).Format(csTime),
		"intervaltype": s.IntervalType, "state": s.State, "zoneid": s.ZoneID, "revertable": false, "tags": []any{},
	}
}

func snapType(interval string) string {
	if interval == "MANUAL" {
		return "MANUAL"
	}
	return "RECURRING"
}

func (e *Emulator) policyJSON(p *policy) map[string]any {
	// KCPS quirk: intervaltype as a number.
	return map[string]any{"id": p.ID, "volumeid": p.VolumeID, "schedule": p.Schedule,
		"intervaltype": p.Interval, "maxsnaps": p.MaxSnaps, "timezone": p.Timezone, "fordisplay": true}
}

func (e *Emulator) templateJSON(t *template) map[string]any {
	status := "Download Complete"
	if !t.Ready {
		status = "Creating"
	}
	return map[string]any{"id": t.ID, "name": t.Name, "displaytext": t.DisplayText, "ostypeid": t.OSTypeID,
		"zoneid": t.ZoneID, "zonename": e.zoneName(t.ZoneID), "account": t.Account, "isready": t.Ready,
		"status": status, "size": t.SizeGB << 30, "created": t.Created.In(jst).Format(csTime),
		"templatetype": "USER", "hypervisor": "VMware", "format": "OVA", "sourcesnapshotid": t.SnapshotID}
}

func (e *Emulator) jobJSON(j *job) map[string]any {
	m := map[string]any{"jobid": j.ID, "accountid": e.byName[j.Account].ID, "userid": e.byName[j.Account].ID,
		"cmd": "org.apache.cloudstack.api.command.user." + j.Command, "jobstatus": j.Status,
		"jobprocstatus": 0, "jobresultcode": j.ResultCode, "created": j.Created.In(jst).Format(csTime),
		"jobinstancetype": j.ObjectType, "jobinstanceid": j.ObjectID}
	if j.Status != 0 {
		m["jobresulttype"] = "object"
		m["jobresult"] = j.Result
	}
	return m
}

// page applies page/pagesize to items sorted by seq and shapes a list
// answer; an empty list is {} as on KCPS.
func (e *Emulator) page(c *call, key string, items []listed) (any, *csError) {
	sort.Slice(items, func(a, b int) bool { return items[a].seq < items[b].seq })
	size := e.maxPage
	if s := c.get("pagesize"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n == 0 || n < -1 {
			return nil, errParam("Unable to execute API command %s due to invalid value. Invalid parameter pagesize value=%s", c.cmd, s)
		}
		if n > e.maxPage {
			return nil, errParam("Page size can't exceed max allowed page size value: %d", e.maxPage)
		}
		if n > 0 {
			size = n
		}
	}
	pageNo := 1
	if s := c.get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return nil, errParam("Unable to execute API command %s due to invalid value. Invalid parameter page value=%s", c.cmd, s)
		}
		pageNo = n
	}
	total := len(items)
	from := min((pageNo-1)*size, total)
	to := min(from+size, total)
	if total == 0 {
		return map[string]any{}, nil
	}
	out := make([]map[string]any, 0, to-from)
	for _, it := range items[from:to] {
		out = append(out, it.json)
	}
	return map[string]any{"count": total, key: out}, nil
}

type listed struct {
	seq  int
	json map[string]any
}
