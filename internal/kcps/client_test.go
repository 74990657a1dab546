package kcps

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/kcpsemu"
)

func TestBadSecretIs401NotRetried(t *testing.T) {
	env := newEnv(t, func(_ *kcpsemu.Config, c *Config) {
		c.APIKey, c.SecretKey = kcpsemu.DemoAPIKey, "wrong-secret"
	})
	_, err := env.c.ListVolumes(ctxT(t), VolumeFilter{})
	var ae *APIError
	if !errors.As(err, &ae) || ae.HTTPStatus != 401 || ae.ErrorCode != 401 || ae.ErrorText == "" {
		t.Fatalf("want a 401 APIError, got %#v", err)
	}
	if n := env.srv.Calls("listVolumes"); n != 1 {
		t.Fatalf("a 401 must not be retried: %d calls", n)
	}
	if env.srv.AuthFailures() != 1 {
		t.Fatalf("auth failures %d", env.srv.AuthFailures())
	}
}

func TestSignedCallsAcceptedWithAwkwardValues(t *testing.T) {
	env := newEnv(t)
	// A name with spaces, '*', '~' and non-ASCII must still verify.
	vs, err := env.c.ListVolumes(ctxT(t), VolumeFilter{Name: "a b*c~d/é"})
	if err != nil || len(vs) != 0 {
		t.Fatalf("%v %v", vs, err)
	}
	env.c.cfg.UsePOST = true
	if _, err := env.c.ListVolumes(ctxT(t), VolumeFilter{Name: "x y"}); err != nil {
		t.Fatalf("POST: %v", err)
	}
}

func TestPaging(t *testing.T) {
	env := newEnv(t, func(_ *kcpsemu.Config, c *Config) { c.PageSize = 3 })
	base := env.clock.Now().Add(-24 * time.Hour)
	for i := 0; i < 10; i++ {
		if _, err := env.srv.AddSnapshot(kcpsemu.Snapshot{VolumeID: kcpsemu.DemoVolDBData, Created: base.Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	ss, err := env.c.ListSnapshots(ctxT(t), SnapshotFilter{VolumeID: kcpsemu.DemoVolDBData})
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 10 {
		t.Fatalf("got %d snapshots, want 10", len(ss))
	}
	ids := map[string]bool{}
	for _, s := range ss {
		ids[s.ID] = true
		if s.State != SnapshotBackedUp || s.IntervalType != "MANUAL" || s.Created.IsZero() || s.VolumeID != kcpsemu.DemoVolDBData {
			t.Fatalf("decoded %+v", s)
		}
	}
	if len(ids) != 10 {
		t.Fatalf("pages overlap: %d distinct", len(ids))
	}
	if n := env.srv.Calls("listSnapshots"); n != 4 {
		t.Fatalf("10 items at 3 per page take 4 calls, got %d", n)
	}
	// Empty: {"listsnapshotsresponse":{}} in one call.
	env.srv.ResetCalls()
	ss, err = env.c.ListSnapshots(ctxT(t), SnapshotFilter{VolumeID: kcpsemu.DemoVolWebRoot})
	if err != nil || len(ss) != 0 || env.srv.Calls("listSnapshots") != 1 {
		t.Fatalf("empty list: %v %v calls=%d", ss, err, env.srv.Calls("listSnapshots"))
	}
	// Exactly a multiple of the page size stops on the announced count.
	env.srv.ResetCalls()
	env.c.cfg.PageSize = 5
	if ss, err = env.c.ListSnapshots(ctxT(t), SnapshotFilter{}); err != nil || len(ss) != 10 || env.srv.Calls("listSnapshots") != 2 {
		t.Fatalf("count-bounded paging: %d %v calls=%d", len(ss), err, env.srv.Calls("listSnapshots"))
	}
}

func TestIdempotentCallsRetried(t *testing.T) {
	env := newEnv(t)
	env.srv.FailNext("listVolumes", 1, kcpsemu.FaultError)
	env.srv.FailNext("listVolumes", 1, kcpsemu.FaultDrop)
	env.srv.FailNext("listVolumes", 1, kcpsemu.FaultTooMany)
	env.srv.FailNext("listVolumes", 1, kcpsemu.FaultDropAfter)
	vs, err := env.c.ListVolumes(ctxT(t), VolumeFilter{})
	if err != nil || len(vs) != 5 {
		t.Fatalf("%d volumes, %v", len(vs), err)
	}
	if n := env.srv.Calls("listVolumes"); n != 5 {
		t.Fatalf("4 faults then success: %d calls", n)
	}
	// The 503 and the 429 are retried after a back-off; net/http itself
	// may re-send a safe GET dropped on a reused connection at once.
	if env.clock.sleeps < 2 || env.clock.sleeps > 4 {
		t.Fatalf("want 2 to 4 back-off waits, got %d", env.clock.sleeps)
	}
	// Attempts run out.
	env.srv.FailNext("listVolumes", 20, kcpsemu.FaultError)
	if _, err := env.c.ListVolumes(ctxT(t), VolumeFilter{}); err == nil {
		t.Fatal("want an error after the attempts run out")
	}
}

func TestUnsafeCallsNeverResent(t *testing.T) {
	env := newEnv(t)
	ctx := ctxT(t)
	// The raw call reports the unknown outcome and is sent once.
	env.srv.FailNext("startVirtualMachine", 1, kcpsemu.FaultDropAfter)
	_, err := env.c.startJob(ctx, "startVirtualMachine", map[string][]string{"id": {kcpsemu.DemoVMDB}}, false)
	if !IsAmbiguous(err) {
		t.Fatalf("a dropped answer to a mutating call is ambiguous: %v", err)
	}
	if n := env.srv.Calls("startVirtualMachine"); n != 1 {
		t.Fatalf("sent %d times", n)
	}
	// StartVirtualMachine resolves it by looking: the VM is Starting, so it
	// waits instead of starting it again.
	env.srv.StopVM(kcpsemu.DemoVMDB)
	env.srv.FailNext("startVirtualMachine", 1, kcpsemu.FaultDropAfter)
	if err := env.c.StartVirtualMachine(ctx, kcpsemu.DemoVMDB); err != nil {
		t.Fatal(err)
	}
	if n := env.srv.Calls("startVirtualMachine"); n != 2 {
		t.Fatalf("start sent %d times in all, want 2", n)
	}
	// Refused before processing: looked at (still Stopped... now Running
	// here), so stop it and check a 5xx leads to a second, checked send.
	env.srv.FailNext("stopVirtualMachine", 1, kcpsemu.FaultError)
	if err := env.c.StopVirtualMachine(ctx, kcpsemu.DemoVMDB, false); err != nil {
		t.Fatal(err)
	}
	if n := env.srv.Calls("stopVirtualMachine"); n != 2 {
		t.Fatalf("stop sent %d times, want 2 (the first never ran)", n)
	}
	if vm, _ := env.srv.VM(kcpsemu.DemoVMDB); vm.State != "Stopped" {
		t.Fatalf("VM %s", vm.State)
	}
	// A 4xx is a plain error, not ambiguous.
	err = env.c.StopVirtualMachine(ctx, "no-such-vm", false)
	var ae *APIError
	if !errors.As(err, &ae) || ae.ErrorCode != 431 || IsAmbiguous(err) || !IsNotFound(err) {
		t.Fatalf("%v", err)
	}
}

// net/http re-sends a GET that fails on a reused keep-alive connection; a
// mutating call must never be replayed that way.
func TestNoTransportReplayOfMutations(t *testing.T) {
	env := newEnv(t)
	ctx := ctxT(t)
	a, _ := env.srv.AddSnapshot(kcpsemu.Snapshot{VolumeID: kcpsemu.DemoVolDBData})
	b, _ := env.srv.AddSnapshot(kcpsemu.Snapshot{VolumeID: kcpsemu.DemoVolDBData})
	if err := env.c.DeleteSnapshot(ctx, a); err != nil {
		t.Fatal(err)
	}
	env.srv.FailNext("deleteSnapshot", 1, kcpsemu.FaultDropAfter)
	if err := env.c.DeleteSnapshot(ctx, b); err != nil {
		t.Fatal(err)
	}
	if n := env.srv.Calls("deleteSnapshot"); n != 2 {
		t.Fatalf("deleteSnapshot reached the server %d times, want 2 (no hidden replay, no resend: the job ran)", n)
	}
	if ss := env.srv.Snapshots(kcpsemu.DemoVolDBData); len(ss) != 0 {
		t.Fatalf("left %+v", ss)
	}
}

func TestThreeHourSnapshotFewCalls(t *testing.T) {
	env := newEnv(t, func(c *kcpsemu.Config, _ *Config) {
		for i := range c.Volumes {
			if c.Volumes[i].ID == kcpsemu.DemoVolDBData {
				c.Volumes[i].SizeGB = 100
			}
		}
	})
	env.c.cfg.Rand = nil // real jitter
	start := env.clock.Now()
	res, err := env.c.TakeSnapshot(ctxT(t), TakeOptions{VolumeID: kcpsemu.DemoVolDBData})
	if err != nil {
		t.Fatal(err)
	}
	if res.Snapshot.State != SnapshotBackedUp || res.Adopted || res.VMStopped {
		t.Fatalf("%+v", res)
	}
	jobs := env.srv.Jobs("createSnapshot")
	if len(jobs) != 1 {
		t.Fatalf("%d jobs", len(jobs))
	}
	j := jobs[0]
	dur := j.End.Sub(j.Created)
	if dur != 3*time.Hour {
		t.Fatalf("a 100 GB snapshot takes 3 h, emulated %s", dur)
	}
	delay := j.FirstSeenDone.Sub(j.End)
	calls := env.srv.TotalCalls()
	t.Logf("3-hour job: %d API calls, detected %s after its end (%.2f%%), %s in all", calls, delay, 100*delay.Seconds()/dur.Seconds(), env.clock.Now().Sub(start))
	if calls > 40 {
		t.Fatalf("%d API calls, want ≤ 40: %v", calls, env.srv.CallCounts())
	}
	if delay < 0 || delay > dur/20 {
		t.Fatalf("detection delay %s, want ≤ 5%% of %s", delay, dur)
	}
}

func TestTakeSnapshotRequireStopped(t *testing.T) {
	env := newEnv(t)
	_, err := env.c.TakeSnapshot(ctxT(t), TakeOptions{VolumeID: kcpsemu.DemoVolWebData, VMPower: RequireStopped})
	if !errors.Is(err, ErrVMRunning) {
		t.Fatalf("want ErrVMRunning, got %v", err)
	}
	if n := env.srv.Calls("createSnapshot") + env.srv.Calls("stopVirtualMachine"); n != 0 {
		t.Fatalf("nothing may be sent: %v", env.srv.CallCounts())
	}
}

func TestTakeSnapshotStopStart(t *testing.T) {
	env := newEnv(t)
	res, err := env.c.TakeSnapshot(ctxT(t), TakeOptions{VolumeID: kcpsemu.DemoVolWebData, VMPower: StopStart})
	if err != nil {
		t.Fatal(err)
	}
	if !res.VMStopped || !res.VMRestarted || res.Snapshot.State != SnapshotBackedUp {
		t.Fatalf("%+v", res)
	}
	if vm, _ := env.srv.VM(kcpsemu.DemoVMWeb); vm.State != "Running" {
		t.Fatalf("VM left %s", vm.State)
	}
	// A stopped VM stays stopped.
	res, err = env.c.TakeSnapshot(ctxT(t), TakeOptions{VolumeID: kcpsemu.DemoVolDBData, VMPower: StopStart})
	if err != nil || res.VMStopped || res.VMRestarted {
		t.Fatalf("%+v %v", res, err)
	}
	if vm, _ := env.srv.VM(kcpsemu.DemoVMDB); vm.State != "Stopped" {
		t.Fatalf("db VM is %s", vm.State)
	}
}

func TestTakeSnapshotFailedJobRestartsVMAndCleansUp(t *testing.T) {
	env := newEnv(t)
	env.srv.FailJobs("createSnapshot", 1)
	res, err := env.c.TakeSnapshot(ctxT(t), TakeOptions{VolumeID: kcpsemu.DemoVolWebData, VMPower: StopStart})
	var je *JobError
	if !errors.As(err, &je) || je.ErrorCode != 530 {
		t.Fatalf("want a failed job, got %v", err)
	}
	if !res.VMRestarted {
		t.Fatalf("the VM must be started again after a failed snapshot: %+v", res)
	}
	if vm, _ := env.srv.VM(kcpsemu.DemoVMWeb); vm.State != "Running" {
		t.Fatalf("VM left %s", vm.State)
	}
	if ss := env.srv.Snapshots(kcpsemu.DemoVolWebData); len(ss) != 0 {
		t.Fatalf("the failed snapshot must be cleaned up: %+v", ss)
	}
}

// Cancelled (Ctrl-C, timeout) while the snapshot runs: the VM stopped for
// it stays stopped, since starting it would make the snapshot fail
// (seed 004); the error says so, and the next run adopts the snapshot.
func TestTakeSnapshotCancelledLeavesVMStopped(t *testing.T) {
	env := newEnv(t)
	ctx, cancel := context.WithCancel(ctxT(t))
	res, err := env.c.TakeSnapshot(ctx, TakeOptions{VolumeID: kcpsemu.DemoVolWebData, VMPower: StopStart,
		OnStarted: func(string, string) { cancel() }})
	var left *VMLeftStoppedError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &left) || !res.VMLeftStopped || res.VMRestarted {
		t.Fatalf("want a cancelled run that leaves the VM stopped: %+v, %v", res, err)
	}
	if left.VMID != kcpsemu.DemoVMWeb || left.SnapshotID == "" || left.State != SnapshotCreating {
		t.Fatalf("%+v", left)
	}
	if vm, _ := env.srv.VM(kcpsemu.DemoVMWeb); vm.State != "Stopped" || env.srv.Calls("startVirtualMachine") != 0 {
		t.Fatalf("VM %s, %d starts", vm.State, env.srv.Calls("startVirtualMachine"))
	}
	res, err = env.c.TakeSnapshot(ctxT(t), TakeOptions{VolumeID: kcpsemu.DemoVolWebData, VMPower: StopStart})
	if err != nil || !res.Adopted || res.Snapshot.ID != left.SnapshotID || res.Snapshot.State != SnapshotBackedUp {
		t.Fatalf("the next run adopts %s: %+v, %v", left.SnapshotID, res, err)
	}
}

// A VM that cannot be started again after the snapshot is an error of
// the run, not a silent success.
func TestTakeSnapshotRestartFailureReported(t *testing.T) {
	env := newEnv(t)
	env.srv.FailNext("startVirtualMachine", 50, kcpsemu.FaultError)
	res, err := env.c.TakeSnapshot(ctxT(t), TakeOptions{VolumeID: kcpsemu.DemoVolWebData, VMPower: StopStart})
	if err == nil || !strings.Contains(err.Error(), "starting VM "+kcpsemu.DemoVMWeb+" again after the snapshot") || res.VMRestarted {
		t.Fatalf("want the failed restart reported: %+v, %v", res, err)
	}
	if res.Snapshot.State != SnapshotBackedUp {
		t.Fatalf("the snapshot itself succeeded: %+v", res.Snapshot)
	}
}

func TestTakeSnapshotAdoptsInterruptedRun(t *testing.T) {
	env := newEnv(t)
	ctx := ctxT(t)
	// An earlier run started a snapshot and was killed.
	job, err := env.c.CreateSnapshot(ctx, kcpsemu.DemoVolDBData)
	if err != nil {
		t.Fatal(err)
	}
	var started string
	res, err := env.c.TakeSnapshot(ctx, TakeOptions{VolumeID: kcpsemu.DemoVolDBData,
		OnStarted: func(id, _ string) { started = id }})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Adopted || res.Snapshot.ID != job.ID || res.Snapshot.State != SnapshotBackedUp {
		t.Fatalf("want the interrupted snapshot %s adopted: %+v", job.ID, res)
	}
	if started != "" || env.srv.Calls("createSnapshot") != 1 {
		t.Fatalf("no new snapshot may be started: %v", env.srv.CallCounts())
	}
	// Finished meanwhile: adopted when newer than the known generations.
	known := map[string]bool{job.ID: true}
	job2, _ := env.c.CreateSnapshot(ctx, kcpsemu.DemoVolDBData)
	env.clock.Sleep(ctx, 24*time.Hour)
	res, err = env.c.TakeSnapshot(ctx, TakeOptions{VolumeID: kcpsemu.DemoVolDBData, Known: known, AdoptAfter: res.Snapshot.Created})
	if err != nil || !res.Adopted || res.Snapshot.ID != job2.ID {
		t.Fatalf("%+v %v", res, err)
	}
	// Once known, a new one is taken.
	known[job2.ID] = true
	res, err = env.c.TakeSnapshot(ctx, TakeOptions{VolumeID: kcpsemu.DemoVolDBData, Known: known, AdoptAfter: res.Snapshot.Created})
	if err != nil || res.Adopted || known[res.Snapshot.ID] {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestTakeSnapshotAmbiguousCreate(t *testing.T) {
	for _, c := range []struct {
		kind      kcpsemu.FaultKind
		wantCalls int
	}{{kcpsemu.FaultDropAfter, 1}, {kcpsemu.FaultDrop, 2}, {kcpsemu.FaultError, 2}} {
		t.Run(fmt.Sprint(c.kind), func(t *testing.T) {
			env := newEnv(t)
			env.srv.FailNext("createSnapshot", 1, c.kind)
			res, err := env.c.TakeSnapshot(ctxT(t), TakeOptions{VolumeID: kcpsemu.DemoVolDBData})
			if err != nil {
				t.Fatal(err)
			}
			ss := env.srv.Snapshots(kcpsemu.DemoVolDBData)
			if len(ss) != 1 || ss[0].ID != res.Snapshot.ID || ss[0].State != "BackedUp" {
				t.Fatalf("want exactly one snapshot: %+v (result %+v)", ss, res)
			}
			if n := env.srv.Calls("createSnapshot"); n != c.wantCalls {
				t.Fatalf("createSnapshot sent %d times, want %d", n, c.wantCalls)
			}
		})
	}
}

func TestAccountLockSerializesSnapshots(t *testing.T) {
	env := newEnv(t)
	ctx := ctxT(t)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, vol := range []string{kcpsemu.DemoVolDBData, kcpsemu.DemoVolDetached} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = env.c.TakeSnapshot(ctx, TakeOptions{VolumeID: vol})
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if n := env.srv.Calls("createSnapshot"); n != 2 {
		t.Fatalf("with the account lock no snapshot is refused: %d createSnapshot calls", n)
	}
}

func TestWaitsWhileAnotherSnapshotRuns(t *testing.T) {
	env := newEnv(t)
	ctx := ctxT(t)
	// Another tool's snapshot, outside this process's lock.
	other, err := env.c.CreateSnapshot(ctx, kcpsemu.DemoVolDetached)
	if err != nil {
		t.Fatal(err)
	}
	res, err := env.c.TakeSnapshot(ctx, TakeOptions{VolumeID: kcpsemu.DemoVolDBData, Known: map[string]bool{}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Snapshot.ID == other.ID || res.Snapshot.VolumeID != kcpsemu.DemoVolDBData {
		t.Fatalf("%+v", res)
	}
	if n := env.srv.Calls("createSnapshot"); n < 3 {
		t.Fatalf("want a refusal then a retry: %d createSnapshot calls", n)
	}
}

func TestSnapshotPolicies(t *testing.T) {
	env := newEnv(t)
	ctx := ctxT(t)
	p, err := env.c.CreateSnapshotPolicy(ctx, PolicyParams{VolumeID: kcpsemu.DemoVolDBData, IntervalType: "weekly",
		Schedule: "05:03:2", Timezone: "JST", MaxSnaps: 8})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := env.c.ListSnapshotPolicies(ctx, kcpsemu.DemoVolDBData)
	if err != nil || len(ps) != 1 {
		t.Fatalf("%v %v", ps, err)
	}
	got := ps[0]
	if got.ID != p.ID || got.IntervalType != "WEEKLY" || got.MaxSnaps != 8 || got.Timezone != "JST" {
		t.Fatalf("%+v", got)
	}
	s, err := ParseSchedule(got.IntervalType, got.Schedule)
	if err != nil || s != (Schedule{"WEEKLY", 5, 3, 2}) {
		t.Fatalf("%+v %v", s, err)
	}
	env.srv.ResetCalls()
	if _, err := env.c.ListSnapshotPolicies(ctx, ""); err == nil || env.srv.TotalCalls() != 0 {
		t.Fatal("KCPS requires volumeid: refuse before calling")
	}
	if err := env.c.DeleteSnapshotPolicies(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if err := env.c.DeleteSnapshotPolicies(ctx, p.ID); err != nil {
		t.Fatalf("deleting twice is fine: %v", err)
	}
	_, err = env.c.CreateSnapshotPolicy(ctx, PolicyParams{VolumeID: kcpsemu.DemoVolDBData, IntervalType: "DAILY", Schedule: "0:1", Timezone: "JST", MaxSnaps: 9})
	var ae *APIError
	if !errors.As(err, &ae) || ae.ErrorCode != 431 {
		t.Fatalf("maxsnaps 9: %v", err)
	}
}

func TestRestoreCalls(t *testing.T) {
	env := newEnv(t)
	ctx := ctxT(t)
	root, err := env.c.TakeSnapshot(ctx, TakeOptions{VolumeID: kcpsemu.DemoVolDBRoot})
	if err != nil {
		t.Fatal(err)
	}
	data, err := env.c.TakeSnapshot(ctx, TakeOptions{VolumeID: kcpsemu.DemoVolDBData})
	if err != nil {
		t.Fatal(err)
	}
	tj, err := env.c.CreateTemplate(ctx, TemplateParams{SnapshotID: root.Snapshot.ID, Name: "restore-tpl", OSTypeID: kcpsemu.DemoOSType})
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := env.c.WaitTemplate(ctx, tj)
	if err != nil || !tpl.IsReady || tpl.ZoneID != kcpsemu.DemoZoneEast {
		t.Fatalf("%+v %v", tpl, err)
	}
	// Another zone is refused.
	_, err = env.c.DeployValueVirtualMachine(ctx, DeployParams{Name: "x", ServiceOfferingID: kcpsemu.DemoServiceOffering,
		TemplateID: tpl.ID, ZoneID: kcpsemu.DemoZoneWest, NetworkID: kcpsemu.DemoNetworkWest})
	if err == nil || IsAmbiguous(err) {
		t.Fatalf("cross-zone deploy must be refused: %v", err)
	}
	dj, err := env.c.DeployValueVirtualMachine(ctx, DeployParams{Name: "restored", ServiceOfferingID: kcpsemu.DemoServiceOffering,
		TemplateID: tpl.ID, ZoneID: kcpsemu.DemoZoneEast, NetworkID: kcpsemu.DemoNetworkEast})
	if err != nil || !dj.Ex {
		t.Fatalf("%+v %v", dj, err)
	}
	vm, err := env.c.WaitVirtualMachine(ctx, dj)
	if err != nil || vm.State != VMRunning || vm.ID != dj.ID || vm.CPUNumber != 2 {
		t.Fatalf("%+v %v", vm, err)
	}
	if env.srv.Calls("queryExAsyncJobResult") == 0 {
		t.Fatal("KDDI jobs are polled with queryExAsyncJobResult")
	}
	vj, err := env.c.CreateVolume(ctx, "restored-data", data.Snapshot.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	vol, err := env.c.WaitVolume(ctx, vj)
	if err != nil || vol.Type != "DATADISK" {
		t.Fatalf("%+v %v", vol, err)
	}
	aj, err := env.c.AttachVolume(ctx, vol.ID, vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	if vol, err = env.c.WaitVolume(ctx, aj); err != nil || vol.VirtualMachineID != vm.ID {
		t.Fatalf("%+v %v", vol, err)
	}
	// Clean up: destroy the VM (data disk detached), delete volume and template.
	xj, err := env.c.DestroyVirtualMachine(ctx, vm.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.c.WaitJob(ctx, xj, WaitOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := env.c.DeleteVolume(ctx, vol.ID); err != nil {
		t.Fatal(err)
	}
	tdj, err := env.c.DeleteTemplate(ctx, tpl.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.c.WaitJob(ctx, tdj, WaitOptions{}); err != nil {
		t.Fatal(err)
	}
	if ids := env.srv.TemplateIDs(); len(ids) != 0 {
		t.Fatalf("templates left: %v", ids)
	}
	if _, ok := env.srv.VM(vm.ID); ok {
		t.Fatal("VM left")
	}
}

// CloudStack's refusals 531..537 come with a 5xx status but are definite:
// a mutating call refused so is not "outcome unknown" (and is not
// looked for and sent again), a list is not retried; 530 still is both.
func TestRefusalsAreNeitherRetriedNorAmbiguous(t *testing.T) {
	var calls atomic.Int64
	code := 532
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		cmd := strings.ToLower(r.URL.Query().Get("command"))
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"%sresponse":{"errorcode":%d,"cserrorcode":4370,"errortext":"Maximum number of resources of type 'snapshot' for account name=demo has been exceeded."}}`, cmd, code)
	}))
	defer srv.Close()
	c, err := New(Config{Endpoint: srv.URL, APIKey: "k", SecretKey: "s", Clock: newFakeClock(), Rand: func() float64 { return 0.5 }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	_, err = c.Call(ctx, "createSnapshot", url.Values{"volumeid": {"v"}}, Unsafe)
	var ae *APIError
	if !errors.As(err, &ae) || ae.ErrorCode != 532 || IsAmbiguous(err) || !ae.Refusal() || ae.Transient() {
		t.Fatalf("createSnapshot refused with 532: %v (ambiguous %v)", err, IsAmbiguous(err))
	}
	calls.Store(0)
	if _, err := c.Call(ctx, "listSnapshots", nil, Safe); err == nil || calls.Load() != 1 {
		t.Fatalf("listSnapshots refused with 532: sent %d times, err %v", calls.Load(), err)
	}
	calls.Store(0)
	if _, err := c.TakeSnapshot(ctx, TakeOptions{VolumeID: "v"}); err == nil || calls.Load() != 1 {
		t.Fatalf("TakeSnapshot: %d calls, err %v", calls.Load(), err)
	}
	code = 530
	_, err = c.Call(ctx, "createSnapshot", url.Values{"volumeid": {"v"}}, Unsafe)
	if !IsAmbiguous(err) {
		t.Fatalf("530 on a mutating call must stay ambiguous: %v", err)
	}
	calls.Store(0)
	if _, err := c.Call(ctx, "listSnapshots", nil, Safe); err == nil || calls.Load() < 2 {
		t.Fatalf("530 on a list is retried: sent %d times", calls.Load())
	}
}
