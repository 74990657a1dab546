package kcpsemu_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/kcps"
	"github.com/backupctl/terraform-provider-backupctl/internal/kcpsemu"
)

// clock is a hand-driven clock for the emulator.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func start(t *testing.T) (*kcpsemu.Server, *clock) {
	t.Helper()
	ck := &clock{t: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}
	cfg := kcpsemu.DefaultConfig()
	cfg.TimeScale = 1
	cfg.Now = ck.Now
	cfg.Admin = true
	return kcpsemu.StartT(t, cfg), ck
}

// api sends a signed GET with the kcps package's signer (the emulator
// verifies with its own code) and returns status and the decoded body.
func api(t *testing.T, s *kcpsemu.Server, secret string, kv ...string) (int, map[string]any, string) {
	t.Helper()
	p := url.Values{"apiKey": {kcpsemu.DemoAPIKey}, "response": {"json"}}
	for i := 0; i+1 < len(kv); i += 2 {
		p.Set(kv[i], kv[i+1])
	}
	resp, err := http.Get(s.Endpoint + "?" + kcps.SignedQuery(p, secret))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON: %s", b)
	}
	key := strings.ToLower(p.Get("command")) + "response"
	inner, _ := m[key].(map[string]any)
	if inner == nil {
		t.Fatalf("answer lacks %s: %s", key, b)
	}
	return resp.StatusCode, inner, string(b)
}

func ok(t *testing.T, s *kcpsemu.Server, kv ...string) map[string]any {
	t.Helper()
	st, m, raw := api(t, s, kcpsemu.DemoSecretKey, kv...)
	if st != 200 {
		t.Fatalf("%v: %d %s", kv, st, raw)
	}
	return m
}

func fails(t *testing.T, s *kcpsemu.Server, code int, kv ...string) string {
	t.Helper()
	st, m, raw := api(t, s, kcpsemu.DemoSecretKey, kv...)
	if st != code || int(m["errorcode"].(float64)) != code {
		t.Fatalf("%v: want %d, got %d %s", kv, code, st, raw)
	}
	return m["errortext"].(string)
}

func TestSignatureChecked(t *testing.T) {
	s, _ := start(t)
	st, m, raw := api(t, s, "not-the-secret", "command", "listVolumes")
	if st != 401 || m["errorcode"].(float64) != 401 || m["cserrorcode"] == nil || m["errortext"] == "" {
		t.Fatalf("bad signature: %d %s", st, raw)
	}
	// Tampering after signing.
	p := url.Values{"apiKey": {kcpsemu.DemoAPIKey}, "response": {"json"}, "command": {"listVolumes"}}
	q := kcps.SignedQuery(p, kcpsemu.DemoSecretKey) + "&zoneid=x"
	resp, err := http.Get(s.Endpoint + "?" + q)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("tampered request: %d", resp.StatusCode)
	}
	if s.AuthFailures() != 2 {
		t.Fatalf("auth failures: %d", s.AuthFailures())
	}
	ok(t, s, "command", "listVolumes")
	// Unknown command.
	fails(t, s, 432, "command", "listEverything")
}

func TestQuirks(t *testing.T) {
	s, _ := start(t)
	vms := ok(t, s, "command", "listVirtualMachines", "id", kcpsemu.DemoVMWeb)
	vm := vms["virtualmachine"].([]any)[0].(map[string]any)
	if _, isString := vm["cpunumber"].(string); !isString {
		t.Fatalf("cpunumber must be a string: %#v", vm["cpunumber"])
	}
	if _, isNum := vm["created"].(float64); !isNum {
		t.Fatalf("created must be epoch ms: %#v", vm["created"])
	}
	_, _, raw := api(t, s, kcpsemu.DemoSecretKey, "command", "listSnapshots", "volumeid", kcpsemu.DemoVolDBData)
	if raw != `{"listsnapshotsresponse":{}}` {
		t.Fatalf("empty list: %s", raw)
	}
	fails(t, s, 431, "command", "listSnapshotPolicies")
	ok(t, s, "command", "createSnapshotPolicy", "volumeid", kcpsemu.DemoVolDBData, "intervaltype", "MONTHLY",
		"schedule", "00:03:31", "timezone", "JST", "maxsnaps", "8")
	pol := ok(t, s, "command", "listSnapshotPolicies", "volumeid", kcpsemu.DemoVolDBData)
	p := pol["snapshotpolicy"].([]any)[0].(map[string]any)
	if p["intervaltype"].(float64) != 3 || p["schedule"] != "00:03:31" {
		t.Fatalf("policy: %#v", p)
	}
}

func TestPolicyLimits(t *testing.T) {
	s, _ := start(t)
	base := []string{"command", "createSnapshotPolicy", "volumeid", kcpsemu.DemoVolDBData, "timezone", "JST"}
	fails(t, s, 431, append(base, "intervaltype", "DAILY", "schedule", "0:3", "maxsnaps", "9")...)
	fails(t, s, 431, append(base, "intervaltype", "DAILY", "schedule", "61:3", "maxsnaps", "8")...)
	// An invalid weekly day silently becomes a DAILY policy.
	m := ok(t, s, append(base, "intervaltype", "WEEKLY", "schedule", "10:04:9", "maxsnaps", "8")...)
	p := m["snapshotpolicy"].(map[string]any)
	if p["intervaltype"].(float64) != 1 || p["schedule"] != "10:04" {
		t.Fatalf("KCPS turns a bad weekly schedule into a daily one: %#v", p)
	}
	// Same volume and interval: replaced, not added.
	ok(t, s, append(base, "intervaltype", "DAILY", "schedule", "20:05", "maxsnaps", "3")...)
	if ps := s.Policies(kcpsemu.DemoVolDBData); len(ps) != 1 || ps[0].Schedule != "20:05" || ps[0].MaxSnaps != 3 {
		t.Fatalf("%+v", ps)
	}
	fails(t, s, 431, "command", "deleteSnapshotPolicies", "id", "nope")
}

func jobStatus(t *testing.T, s *kcpsemu.Server, cmd, id string) (int, map[string]any) {
	m := ok(t, s, "command", cmd, "jobid", id)
	return int(m["jobstatus"].(float64)), m
}

func TestSnapshotLifecycleAndLimits(t *testing.T) {
	s, ck := start(t)
	// The VM runs: refused.
	txt := fails(t, s, 431, "command", "createSnapshot", "volumeid", kcpsemu.DemoVolWebData)
	if !strings.Contains(txt, "stopped") {
		t.Fatalf("message: %s", txt)
	}
	// db01 is stopped: 50 GB take 1.5 h.
	m := ok(t, s, "command", "createSnapshot", "volumeid", kcpsemu.DemoVolDBData)
	id, jobid := m["id"].(string), m["jobid"].(string)
	state := func() string { return s.Snapshots(kcpsemu.DemoVolDBData)[0].State }
	if state() != "Creating" {
		t.Fatalf("state %s", state())
	}
	// A second snapshot in the account is refused while this one runs.
	fails(t, s, 536, "command", "createSnapshot", "volumeid", kcpsemu.DemoVolDetached)
	// And it cannot be deleted yet.
	fails(t, s, 431, "command", "deleteSnapshot", "id", id)
	ck.Advance(20 * time.Minute)
	if state() != "BackingUp" {
		t.Fatalf("state %s", state())
	}
	if st, _ := jobStatus(t, s, "queryAsyncJobResult", jobid); st != 0 {
		t.Fatalf("job done too early")
	}
	// queryExAsyncJobResult does not see CloudStack jobs.
	fails(t, s, 431, "command", "queryExAsyncJobResult", "jobid", jobid)
	ck.Advance(70 * time.Minute)
	st, r := jobStatus(t, s, "queryAsyncJobResult", jobid)
	if st != 1 || state() != "BackedUp" {
		t.Fatalf("after 1.5 h: status %d state %s", st, state())
	}
	snap := r["jobresult"].(map[string]any)["snapshot"].(map[string]any)
	if snap["id"] != id || snap["state"] != "BackedUp" || snap["intervaltype"] != "MANUAL" {
		t.Fatalf("%#v", snap)
	}
	if j, _ := s.Job(jobid); j.End.Sub(j.Created) != 90*time.Minute || j.FirstSeenDone.IsZero() {
		t.Fatalf("job timing %+v", j)
	}
}

func TestStartingVMFailsSnapshot(t *testing.T) {
	s, ck := start(t)
	m := ok(t, s, "command", "createSnapshot", "volumeid", kcpsemu.DemoVolDBData)
	ck.Advance(time.Minute)
	ok(t, s, "command", "startVirtualMachine", "id", kcpsemu.DemoVMDB)
	st, r := jobStatus(t, s, "queryAsyncJobResult", m["jobid"].(string))
	if st != 2 || r["jobresult"].(map[string]any)["errorcode"].(float64) != 530 {
		t.Fatalf("the snapshot must fail when the VM starts: %d %#v", st, r)
	}
	if got := s.Snapshots(kcpsemu.DemoVolDBData)[0].State; got != "Error" {
		t.Fatalf("state %s", got)
	}
	// Out of band too.
	ck.Advance(time.Hour)
	ok(t, s, "command", "stopVirtualMachine", "id", kcpsemu.DemoVMDB)
	ck.Advance(time.Hour)
	m = ok(t, s, "command", "createSnapshot", "volumeid", kcpsemu.DemoVolDBData)
	if err := s.StartVM(kcpsemu.DemoVMDB); err != nil {
		t.Fatal(err)
	}
	if st, _ := jobStatus(t, s, "queryAsyncJobResult", m["jobid"].(string)); st != 2 {
		t.Fatalf("out-of-band start: status %d", st)
	}
}

func TestRestoreSameZoneOnly(t *testing.T) {
	s, ck := start(t)
	id, err := s.AddSnapshot(kcpsemu.Snapshot{VolumeID: kcpsemu.DemoVolDBRoot})
	if err != nil {
		t.Fatal(err)
	}
	m := ok(t, s, "command", "createTemplate", "snapshotid", id, "name", "t1", "displaytext", "t1", "ostypeid", kcpsemu.DemoOSType)
	ck.Advance(time.Hour)
	if st, _ := jobStatus(t, s, "queryAsyncJobResult", m["jobid"].(string)); st != 1 {
		t.Fatal("template job")
	}
	tpl := m["id"].(string)
	deploy := []string{"command", "deployValueVirtualMachine", "serviceofferingid", kcpsemu.DemoServiceOffering,
		"templateid", tpl, "hypervisor", "VMware", "name", "r1"}
	fails(t, s, 431, append(deploy, "zoneid", kcpsemu.DemoZoneWest, "iptonetworklist[0].networkid", kcpsemu.DemoNetworkWest)...)
	fails(t, s, 431, "command", "createVolume", "name", "v", "snapshotid", id, "zoneid", kcpsemu.DemoZoneWest)
	d := ok(t, s, append(deploy, "zoneid", kcpsemu.DemoZoneEast, "iptonetworklist[0].networkid", kcpsemu.DemoNetworkEast)...)
	fails(t, s, 431, "command", "queryAsyncJobResult", "jobid", d["jobid"].(string))
	ck.Advance(time.Hour)
	if st, _ := jobStatus(t, s, "queryExAsyncJobResult", d["jobid"].(string)); st != 1 {
		t.Fatal("deploy job")
	}
}

func TestFaultsAndCounters(t *testing.T) {
	s, ck := start(t)
	s.SetFaults(kcpsemu.Faults{ErrorRate: 1, Commands: []string{"listZones"}})
	st, _, _ := func() (int, map[string]any, string) {
		p := url.Values{"apiKey": {kcpsemu.DemoAPIKey}, "response": {"json"}, "command": {"listZones"}}
		resp, err := http.Get(s.Endpoint + "?" + kcps.SignedQuery(p, kcpsemu.DemoSecretKey))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, nil, ""
	}()
	if st != 503 && st != 530 {
		t.Fatalf("injected error: %d", st)
	}
	ok(t, s, "command", "listVolumes") // not in Commands: unaffected
	s.ClearFaults()
	s.FailNext("listVolumes", 1, kcpsemu.FaultDrop)
	p := url.Values{"apiKey": {kcpsemu.DemoAPIKey}, "response": {"json"}, "command": {"listVolumes"}}
	tr := &http.Transport{DisableKeepAlives: true}
	if resp, err := (&http.Client{Transport: tr}).Get(s.Endpoint + "?" + kcps.SignedQuery(p, kcpsemu.DemoSecretKey)); err == nil {
		resp.Body.Close()
		t.Fatal("dropped connection expected")
	}
	s.FailJobs("createSnapshot", 1)
	m := ok(t, s, "command", "createSnapshot", "volumeid", kcpsemu.DemoVolDetached)
	ck.Advance(10 * time.Hour)
	if st, _ := jobStatus(t, s, "queryAsyncJobResult", m["jobid"].(string)); st != 2 {
		t.Fatalf("injected job failure: %d", st)
	}
	if s.Calls("listZones") != 1 || s.Calls("listVolumes") != 2 || s.Calls("createSnapshot") != 1 || s.FaultedCalls("listVolumes") != 1 {
		t.Fatalf("counters: %v", s.CallCounts())
	}
	// Slow answers.
	s.SetFaults(kcpsemu.Faults{Latency: 50 * time.Millisecond, Commands: []string{"listZones"}})
	t0 := time.Now()
	ok(t, s, "command", "listZones")
	if time.Since(t0) < 50*time.Millisecond {
		t.Fatal("latency not applied")
	}
	s.ResetCalls()
	if s.TotalCalls() != 0 {
		t.Fatal("reset")
	}
}

func TestPageSizeLimit(t *testing.T) {
	s, _ := start(t)
	fails(t, s, 431, "command", "listVolumes", "pagesize", "501", "page", "1")
	m := ok(t, s, "command", "listVolumes", "pagesize", "2", "page", "3")
	if m["count"].(float64) != 5 || len(m["volume"].([]any)) != 1 {
		t.Fatalf("%#v", m)
	}
}

func TestAdminEndpointsAndLoopbackOnly(t *testing.T) {
	s, _ := start(t)
	id, _ := s.AddSnapshot(kcpsemu.Snapshot{VolumeID: kcpsemu.DemoVolDBData})
	resp, err := http.Post("http://"+s.Addr+"/_emu/snapshots/delete?id="+id, "", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	resp.Body.Close()
	if len(s.Snapshots(kcpsemu.DemoVolDBData)) != 0 {
		t.Fatal("not deleted")
	}
	if _, err := kcpsemu.Start(kcpsemu.DefaultConfig(), "0.0.0.0:0"); err == nil {
		t.Fatal("a non-loopback address must be refused")
	}
	cfg := kcpsemu.DefaultConfig()
	srv := kcpsemu.StartT(t, cfg) // Admin off
	resp, err = http.Get("http://" + srv.Addr + "/_emu/state")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("admin must be off by default: %d", resp.StatusCode)
	}
}
