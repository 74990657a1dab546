package kcpsemu

import (
	"strconv"
	"strings"
	"time"
)

func (e *Emulator) createSnapshot(c *call) (any, *csError) {
	if err := c.required("volumeid"); err != nil {
		return nil, err
	}
	v, err := e.findVolume(c, "volumeid")
	if err != nil {
		return nil, err
	}
	if m := e.vms[v.VMID]; m != nil && m.State != "Stopped" {
		return nil, errParam("VM %s is %s: KCPS takes a snapshot of volume %s only while its virtual machine is stopped", m.Name, m.State, v.Name)
	}
	for _, s := range e.snapshots {
		if s.Account == c.acct.Name && s.inProgress() {
			return nil, errInUse("Another snapshot (%s of volume %s) is in progress: KCPS takes one volume snapshot at a time", s.ID, s.VolumeName)
		}
	}
	d := e.scaled(e.perGB * float64(max(v.SizeGB, 1)))
	s := &snapshot{seq: e.nextSeq(), ID: newID(), Name: e.snapshotName(v, c.now), Account: c.acct.Name,
		VolumeID: v.ID, VolumeName: v.Name, VolumeType: v.Type, ZoneID: v.ZoneID, IntervalType: "MANUAL",
		State: "Creating", Created: c.now, phaseAt: c.now.Add(time.Duration(float64(d) * creatingShare))}
	e.snapshots[s.ID] = s
	j := e.startJob(c.acct.Name, c.cmd, s.ID, "Snapshot", false, d, func(j *job) {
		s.State = "BackedUp"
		j.succeed(map[string]any{"snapshot": e.snapshotJSON(s)})
	})
	j.onFail = func(*job) { s.State = "Error" }
	s.jobID = j.ID
	return asyncAnswer(j), nil
}

func (e *Emulator) listSnapshots(c *call) (any, *csError) {
	var items []listed
	for _, s := range e.snapshots {
		if s.Account != c.acct.Name || c.excludes("id", s.ID) ||
			c.excludes("volumeid", s.VolumeID) ||
			c.excludes("name", s.Name) ||
			c.excludes("zoneid", s.ZoneID) ||
			c.excludesFold("intervaltype", s.IntervalType) ||
			c.excludesFold("snapshottype", snapType(s.IntervalType)) ||
			(c.get("keyword") != "" && !strings.Contains(s.Name, c.get("keyword"))) {
			continue
		}
		items = append(items, listed{s.seq, e.snapshotJSON(s)})
	}
	return e.page(c, "snapshot", items)
}

func (e *Emulator) deleteSnapshot(c *call) (any, *csError) {
	if err := c.required("id"); err != nil {
		return nil, err
	}
	s, err := e.findSnapshot(c, "id")
	if err != nil {
		return nil, err
	}
	if s.inProgress() {
		return nil, errParam("Can't delete snapshot %s with state %s", s.ID, s.State)
	}
	j := e.startJob(c.acct.Name, c.cmd, s.ID, "Snapshot", false, e.scaled(secDeleteSnapshot), func(j *job) {
		delete(e.snapshots, s.ID)
		j.succeed(map[string]any{"success": true})
	})
	return asyncAnswer(j), nil
}

var intervalIndex = map[string]int{"HOURLY": 0, "DAILY": 1, "WEEKLY": 2, "MONTHLY": 3}

func (e *Emulator) createSnapshotPolicy(c *call) (any, *csError) {
	if err := c.required("volumeid", "intervaltype", "schedule", "timezone", "maxsnaps"); err != nil {
		return nil, err
	}
	v, err := e.findVolume(c, "volumeid")
	if err != nil {
		return nil, err
	}
	it := strings.ToUpper(c.get("intervaltype"))
	interval, ok := intervalIndex[it]
	if !ok {
		return nil, errParam("Unsupported interval type %s", c.get("intervaltype"))
	}
	maxSnaps, perr := strconv.Atoi(c.get("maxsnaps"))
	if perr != nil || maxSnaps < 1 {
		return nil, errParam("maxSnaps should be greater than 0")
	}
	if maxSnaps > 8 {
		return nil, errParam("maxSnaps exceeds limit: 8 (KCPS keeps at most 8 generations)")
	}
	tz := c.get("timezone")
	if !knownTimezone(tz) {
		return nil, errParam("Invalid timezone %s", tz)
	}
	sched, interval, cerr := normalizeSchedule(c.get("schedule"), interval)
	if cerr != nil {
		return nil, cerr
	}
	for _, p := range e.policies {
		// One policy per volume and interval: a new one replaces it.
		if p.VolumeID == v.ID && p.Interval == interval {
			p.Schedule, p.Timezone, p.MaxSnaps = sched, tz, maxSnaps
			return map[string]any{"snapshotpolicy": e.policyJSON(p)}, nil
		}
	}
	p := &policy{seq: e.nextSeq(), ID: newID(), Account: c.acct.Name, VolumeID: v.ID, Interval: interval,
		Schedule: sched, Timezone: tz, MaxSnaps: maxSnaps}
	e.policies[p.ID] = p
	return map[string]any{"snapshotpolicy": e.policyJSON(p)}, nil
}

// normalizeSchedule checks a schedule the way KCPS does: minutes and hours
// out of range are refused, but a weekly or monthly schedule whose day is
// missing or out of range silently becomes a DAILY one.
func normalizeSchedule(s string, interval int) (string, int, *csError) {
	parts := strings.Split(s, ":")
	nums := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return "", 0, errParam("Invalid schedule %s", s)
		}
		nums[i] = n
	}
	minuteOK := func() bool { return nums[0] >= 0 && nums[0] <= 59 }
	hourOK := func() bool { return len(nums) >= 2 && nums[1] >= 0 && nums[1] <= 23 }
	switch interval {
	case 0:
		if len(nums) < 1 || !minuteOK() {
			return "", 0, errParam("Invalid schedule %s for HOURLY", s)
		}
		return parts[0], 0, nil
	case 1:
		if !minuteOK() || !hourOK() {
			return "", 0, errParam("Invalid schedule %s for DAILY", s)
		}
		return parts[0] + ":" + parts[1], 1, nil
	}
	if !minuteOK() || !hourOK() {
		return "", 0, errParam("Invalid schedule %s", s)
	}
	dayMax := 7
	if interval == 3 {
		dayMax = 31
	}
	if len(nums) < 3 || nums[2] < 1 || nums[2] > dayMax {
		return parts[0] + ":" + parts[1], 1, nil // KCPS: silently DAILY
	}
	return s, interval, nil
}

// knownTimezone accepts IANA names and Java's short ids (JST...).
func knownTimezone(tz string) bool {
	switch tz {
	case "JST", "UTC", "GMT", "EST", "MST", "HST", "PST", "CST", "IST", "CTT", "AET", "BST":
		return true
	}
	if tz == "" || strings.EqualFold(tz, "local") {
		return false
	}
	_, err := time.LoadLocation(tz)
	return err == nil
}

func (e *Emulator) listSnapshotPolicies(c *call) (any, *csError) {
	// KCPS requires volumeid.
	if err := c.required("volumeid"); err != nil {
		return nil, err
	}
	v, err := e.findVolume(c, "volumeid")
	if err != nil {
		return nil, err
	}
	var items []listed
	for _, p := range e.policies {
		if p.VolumeID == v.ID && (c.get("id") == "" || c.get("id") == p.ID) {
			items = append(items, listed{p.seq, e.policyJSON(p)})
		}
	}
	return e.page(c, "snapshotpolicy", items)
}

func (e *Emulator) deleteSnapshotPolicies(c *call) (any, *csError) {
	ids := []string{}
	if id := c.get("id"); id != "" {
		ids = append(ids, id)
	}
	for _, id := range strings.Split(c.get("ids"), ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, errParam("Either id or ids parameter is required")
	}
	for _, id := range ids {
		if p := e.policies[id]; p == nil || p.Account != c.acct.Name {
			return nil, errParam("Unable to find snapshot policy with id=%s", id)
		}
	}
	for _, id := range ids {
		delete(e.policies, id)
	}
	return map[string]any{"success": "true"}, nil
}

// ---- templates ----

func (e *Emulator) createTemplate(c *call) (any, *csError) {
	if err := c.required("snapshotid", "name", "displaytext", "ostypeid"); err != nil {
		return nil, err
	}
	s, err := e.findSnapshot(c, "snapshotid")
	if err != nil {
		return nil, err
	}
	if s.State != "BackedUp" {
		return nil, errParam("Snapshot %s is %s, not BackedUp", s.ID, s.State)
	}
	osOK := len(e.ostypes) == 0
	for _, o := range e.ostypes {
		osOK = osOK || o.ID == c.get("ostypeid")
	}
	if !osOK {
		return nil, errParam("Unable to find os type by id=%s", c.get("ostypeid"))
	}
	size := int64(1)
	if src := e.volumes[s.VolumeID]; src != nil {
		size = src.SizeGB
	}
	t := &template{seq: e.nextSeq(), ID: newID(), Name: c.get("name"), DisplayText: c.get("displaytext"),
		OSTypeID: c.get("ostypeid"), ZoneID: s.ZoneID, Account: c.acct.Name, SnapshotID: s.ID, SizeGB: size, Created: c.now}
	e.templates[t.ID] = t
	j := e.startJob(c.acct.Name, c.cmd, t.ID, "Template", false, e.scaled(secTemplatePerGB*float64(size)), func(j *job) {
		t.Ready = true
		j.succeed(map[string]any{"template": e.templateJSON(t)})
	})
	j.onFail = func(*job) { delete(e.templates, t.ID) }
	return asyncAnswer(j), nil
}

func (e *Emulator) listTemplates(c *call) (any, *csError) {
	if err := c.required("templatefilter"); err != nil {
		return nil, err
	}
	var items []listed
	for _, t := range e.templates {
		if t.Account != c.acct.Name || c.excludes("id", t.ID) ||
			c.excludes("zoneid", t.ZoneID) {
			continue
		}
		items = append(items, listed{t.seq, e.templateJSON(t)})
	}
	return e.page(c, "template", items)
}

func (e *Emulator) deleteTemplate(c *call) (any, *csError) {
	if err := c.required("id"); err != nil {
		return nil, err
	}
	t := e.templates[c.get("id")]
	if t == nil || t.Account != c.acct.Name {
		return nil, errParam("Unable to find template with id=%s", c.get("id"))
	}
	j := e.startJob(c.acct.Name, c.cmd, t.ID, "Template", false, e.scaled(secDeleteTemplate), func(j *job) {
		delete(e.templates, t.ID)
		j.succeed(map[string]any{"success": true})
	})
	return asyncAnswer(j), nil
}
