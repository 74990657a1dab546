package restore

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/kcps"
	"github.com/backupctl/terraform-provider-backupctl/internal/kcpsemu"
	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

const (
	snapRoot     = "aa000000-0000-4000-8000-000000000001"
	snapData     = "aa000000-0000-4000-8000-000000000002"
	snapWestData = "aa000000-0000-4000-8000-000000000003"
	volWestData  = "9e5f6071-0000-4000-8000-000000000999"
)

var snapTime = time.Date(2026, 11, 21, 1, 0, 0, 0, time.UTC)

func kcpsFixture(t *testing.T) (*kcpsemu.Server, *kcps.Client) {
	cfg := kcpsemu.DefaultConfig()
	cfg.TimeScale = 0.0005
	cfg.Volumes = append(cfg.Volumes, kcpsemu.Volume{ID: volWestData, Name: "DATA-west", Account: kcpsemu.DemoAccount,
		ZoneID: kcpsemu.DemoZoneWest, SizeGB: 10})
	cfg.Snapshots = []kcpsemu.Snapshot{
		{ID: snapRoot, VolumeID: kcpsemu.DemoVolWebRoot, Created: snapTime},
		{ID: snapData, VolumeID: kcpsemu.DemoVolWebData, Created: snapTime.Add(time.Minute)},
		{ID: snapWestData, VolumeID: volWestData, Created: snapTime},
	}
	s := kcpsemu.StartT(t, cfg)
	c, err := kcps.New(kcps.Config{Endpoint: s.Endpoint, APIKey: kcpsemu.DemoAPIKey, SecretKey: kcpsemu.DemoSecretKey,
		Poll: kcps.PollPolicy{Scale: 0.0005}, Retry: kcps.RetryPolicy{Scale: 0.001}})
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

func drillSource(c *kcps.Client, data ...string) *KCPS {
	return &KCPS{Client: c, RootSnapshotID: snapRoot, DataSnapshotIDs: data, Name: "web01-drill",
		ServiceOfferingID: kcpsemu.DemoServiceOffering, NetworkID: kcpsemu.DemoNetworkEast, OSTypeID: kcpsemu.DemoOSType, Start: true}
}

func leftovers(s *kcpsemu.Server, name string) []string {
	var out []string
	out = append(out, s.TemplateIDs()...)
	for _, v := range s.VMs() {
		if v.Name == name {
			out = append(out, "vm "+v.ID+" "+v.State)
		}
	}
	for _, v := range s.Volumes() {
		if strings.HasPrefix(v.Name, name) || strings.HasPrefix(v.Name, "ROOT-"+name) {
			out = append(out, "volume "+v.Name)
		}
	}
	return out
}

func TestKCPSDrillBuildsAndRemovesEverything(t *testing.T) {
	ctx := context.Background()
	s, c := kcpsFixture(t)
	local := &transport.Local{}
	src := drillSource(c, snapData)
	res, err := Do(ctx, src, Spec{Mode: ModeDrill, Hosts: hostsOf(local),
		Now:            func() time.Time { return snapTime.Add(3 * time.Hour) },
		Limits:         Limits{MaxRPO: 4 * time.Hour},
		VerifyCommands: []string{`test -n "$RESTORE_VM_ID" && test -n "$RESTORE_VOLUME_IDS" && test "$RESTORE_ZONE_ID" = ` + kcpsemu.DemoZoneEast}})
	if err != nil {
		t.Fatalf("%v\n%s", err, res.Report.JSON())
	}
	if res.RPO != 3*time.Hour {
		t.Errorf("rpo %v (the oldest snapshot counts)", res.RPO)
	}
	var vm kcpsemu.VMInfo
	for _, v := range s.VMs() {
		if v.Name == "web01-drill" {
			vm = v
		}
	}
	if vm.State != "Running" || vm.ZoneID != kcpsemu.DemoZoneEast {
		t.Fatalf("vm %+v", vm)
	}
	attached := 0
	for _, v := range s.Volumes() {
		if v.VMID == vm.ID {
			attached++
		}
	}
	if attached != 2 {
		t.Fatalf("%d volumes on the VM, want ROOT + data", attached)
	}
	if len(res.Created) != 3 {
		t.Fatalf("created %+v", res.Created)
	}
	for _, cmd := range []string{"createTemplate", "deployValueVirtualMachine", "queryExAsyncJobResult", "createVolume", "attachVolume"} {
		if s.Calls(cmd) == 0 {
			t.Errorf("%s never called", cmd)
		}
	}
	left, errs := RemoveKCPS(ctx, c, "", res.Created)
	if len(errs) > 0 || len(left) > 0 {
		t.Fatalf("remove: %v %v", left, errs)
	}
	if l := leftovers(s, "web01-drill"); len(l) > 0 {
		t.Fatalf("left behind: %v", l)
	}
	// Removing twice is fine (destroy after a manual cleanup).
	if left, errs := RemoveKCPS(ctx, c, "", res.Created); len(errs) > 0 || len(left) > 0 {
		t.Fatalf("second remove: %v %v", left, errs)
	}
}

func TestKCPSFailedDeployRemovesTheTemplate(t *testing.T) {
	ctx := context.Background()
	s, c := kcpsFixture(t)
	s.FailJobs("deployValueVirtualMachine", 1)
	var seen []Object
	res, err := Do(ctx, drillSource(c, snapData), Spec{Mode: ModeDrill, Hosts: hostsOf(&transport.Local{}),
		OnCreate: func(o Object) { seen = append(seen, o) }})
	if err == nil || !strings.Contains(err.Error(), "deployValueVirtualMachine") {
		t.Fatalf("err = %v", err)
	}
	if len(seen) != 2 || seen[0].Type != ObjectTemplate || seen[1].Type != ObjectVM {
		t.Fatalf("tracked %+v", seen)
	}
	if len(res.Created) != 0 {
		t.Fatalf("still to remove: %+v", res.Created)
	}
	if l := leftovers(s, "web01-drill"); len(l) > 0 {
		t.Fatalf("left behind: %v", l)
	}
	if s.Calls("createVolume") != 0 {
		t.Fatal("went on after the failed deploy")
	}
	if !strings.Contains(res.Report.JSON(), "remove what the failed drill created") {
		t.Errorf("report:\n%s", res.Report.JSON())
	}
}

func TestKCPSCrossZoneRefused(t *testing.T) {
	ctx := context.Background()
	s, c := kcpsFixture(t)
	_, err := Do(ctx, drillSource(c, snapWestData), Spec{Mode: ModeDrill})
	if err == nil || !strings.Contains(err.Error(), "cross-zone") {
		t.Fatalf("err = %v", err)
	}
	src := drillSource(c, snapData)
	src.ZoneID = kcpsemu.DemoZoneWest
	_, err = Do(ctx, src, Spec{Mode: ModeDrill})
	if err == nil || !strings.Contains(err.Error(), "asked for zone "+kcpsemu.DemoZoneWest) {
		t.Fatalf("err = %v", err)
	}
	src = drillSource(c, snapData)
	src.NetworkID = kcpsemu.DemoNetworkWest
	_, err = Do(ctx, src, Spec{Mode: ModeDrill})
	if err == nil || !strings.Contains(err.Error(), "network_id "+kcpsemu.DemoNetworkWest+" is in zone") {
		t.Fatalf("err = %v", err)
	}
	for _, cmd := range []string{"createTemplate", "deployValueVirtualMachine", "createVolume"} {
		if n := s.Calls(cmd); n != 0 {
			t.Errorf("%s called %d times", cmd, n)
		}
	}
}

func TestKCPSVerifyFailureKeepsObjectsForDestroy(t *testing.T) {
	ctx := context.Background()
	s, c := kcpsFixture(t)
	src := drillSource(c)
	src.Start = false
	res, err := Do(ctx, src, Spec{Mode: ModeDrill, Hosts: hostsOf(&transport.Local{}), VerifyCommands: []string{"exit 1"}})
	if err == nil || !strings.Contains(err.Error(), "verification failed") || res.Verified {
		t.Fatalf("err = %v", err)
	}
	if len(res.Created) != 2 {
		t.Fatalf("created %+v", res.Created)
	}
	for _, v := range s.VMs() {
		if v.Name == "web01-drill" && v.State != "Stopped" {
			t.Errorf("start = false left the VM %s", v.State)
		}
	}
	if left, errs := RemoveKCPS(ctx, c, "", res.Created); len(left)+len(errs) > 0 {
		t.Fatal(left, errs)
	}
	if l := leftovers(s, "web01-drill"); len(l) > 0 {
		t.Fatalf("left behind: %v", l)
	}
}

// A removal that fails part way returns what is left; removing that again
// finishes the job.
func TestKCPSRemoveRetriesWhatIsLeft(t *testing.T) {
	ctx := context.Background()
	s, c := kcpsFixture(t)
	res, err := Do(ctx, drillSource(c, snapData), Spec{Mode: ModeDrill, Hosts: hostsOf(&transport.Local{})})
	if err != nil {
		t.Fatal(err)
	}
	s.FailJobs("destroyVirtualMachine", 1)
	left, errs := RemoveKCPS(ctx, c, "", res.Created)
	if len(errs) == 0 || len(left) != 1 || left[0].Type != ObjectVM {
		t.Fatalf("left %+v, errs %v", left, errs)
	}
	if left, errs = RemoveKCPS(ctx, c, "", left); len(left)+len(errs) > 0 {
		t.Fatalf("retry: %+v %v", left, errs)
	}
	if l := leftovers(s, "web01-drill"); len(l) > 0 {
		t.Fatalf("left behind: %v", l)
	}
}

// The connection drops after the VM creation was carried out: its id is
// unknown, so the VM is found by name and removed with the template.
func TestKCPSAmbiguousDeployIsAdoptedAndRemoved(t *testing.T) {
	ctx := context.Background()
	s, c := kcpsFixture(t)
	s.FailNext("deployValueVirtualMachine", 1, kcpsemu.FaultDropAfter)
	res, err := Do(ctx, drillSource(c, snapData), Spec{Mode: ModeDrill, Hosts: hostsOf(&transport.Local{})})
	if err == nil || !kcps.IsAmbiguous(err) {
		t.Fatalf("err = %v", err)
	}
	if len(res.Created) != 0 {
		t.Fatalf("not removed: %+v", res.Created)
	}
	if l := leftovers(s, "web01-drill"); len(l) > 0 {
		t.Fatalf("left behind: %v", l)
	}
	if s.Calls("destroyVirtualMachine") != 1 {
		t.Fatalf("the adopted VM was not destroyed (%d)", s.Calls("destroyVirtualMachine"))
	}
}

// A restore whose apply was killed before Terraform saved its state leaves
// a VM, template and volumes that nothing tracks. The next restore under
// that name is refused before it creates anything, and the refusal lists
// each leftover (a leftover template alone too, which would otherwise be
// duplicated silently); once they are removed it goes through.
func TestKCPSLeftoversOfAnUntrackedRestoreRefused(t *testing.T) {
	ctx := context.Background()
	s, c := kcpsFixture(t)
	spec := Spec{Mode: ModeDrill, Hosts: hostsOf(&transport.Local{})}
	first, err := Do(ctx, drillSource(c, snapData), spec)
	if err != nil {
		t.Fatalf("%v\n%s", err, first.Report.JSON())
	}
	byType := map[string]Object{}
	for _, o := range first.Created {
		byType[o.Type] = o
	}
	tmpl, vm, vol := byType[ObjectTemplate], byType[ObjectVM], byType[ObjectVolume]
	s.ResetCalls()

	res, err := Do(ctx, drillSource(c, snapData), spec)
	if err == nil || res.Began || len(res.Created) != 0 {
		t.Fatalf("a restore over an untracked one was not refused before it began: %v %+v", err, res.Created)
	}
	for _, want := range []string{`a VM named "web01-drill" already exists`, vm.ID, tmpl.ID, "web01-drill-restore-root",
		vol.ID, "web01-drill-restore-data1", "terraform import <address> kcps:web01-drill", "destroyVirtualMachine", "kcps.name"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not name %q:\n%v", want, err)
		}
	}
	for _, cmd := range []string{"createTemplate", "deployValueVirtualMachine", "createVolume"} {
		if n := s.Calls(cmd); n != 0 {
			t.Errorf("the refused restore sent %s %d times", cmd, n)
		}
	}

	// The VM and the volume removed by hand, the template forgotten.
	if left, errs := RemoveKCPS(ctx, c, "", []Object{vm, vol}); len(left)+len(errs) > 0 {
		t.Fatalf("remove: %v %v", left, errs)
	}
	_, err = Do(ctx, drillSource(c, snapData), spec)
	if err == nil || !strings.Contains(err.Error(), "objects named as this restore's already exist: template web01-drill-restore-root ("+tmpl.ID+")") ||
		strings.Contains(err.Error(), "volume ") {
		t.Fatalf("a leftover template alone: err = %v", err)
	}

	if left, errs := RemoveKCPS(ctx, c, "", []Object{tmpl}); len(left)+len(errs) > 0 {
		t.Fatalf("remove: %v %v", left, errs)
	}
	again, err := Do(ctx, drillSource(c, snapData), spec)
	if err != nil {
		t.Fatalf("after the cleanup: %v\n%s", err, again.Report.JSON())
	}
	if left, errs := RemoveKCPS(ctx, c, "", again.Created); len(left)+len(errs) > 0 {
		t.Fatalf("remove: %v %v", left, errs)
	}
}

// A drill cancelled while a volume is being created: KCPS lists the
// volume (Creating) and refuses to delete it until its job ends. The
// rollback waits for it and removes it; nothing is left untracked.
func TestKCPSDrillCancelledDuringCreateVolume(t *testing.T) {
	s, c := kcpsFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := Do(ctx, drillSource(c, snapData), Spec{Mode: ModeDrill, Hosts: hostsOf(&transport.Local{}),
		OnCreate: func(o Object) {
			if o.Type == ObjectVolume {
				cancel()
			}
		}})
	if err == nil {
		t.Fatal("the cancelled drill succeeded")
	}
	if len(res.Created) != 0 {
		t.Fatalf("still to remove: %+v (err %v)", res.Created, err)
	}
	time.Sleep(500 * time.Millisecond) // longer than any emulated job here
	if l := leftovers(s, "web01-drill"); len(l) > 0 {
		t.Fatalf("left behind: %v (err %v)", l, err)
	}
}
