package provider

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/kcpsemu"
)

// The plan tells, with vm_power = "stop_start", what a new generation will
// do to the VM: a running one is stopped and started again; a stopped one
// (perhaps left so by an apply killed between stop and start) stays
// stopped; a generation the apply will adopt (an interrupted run's
// snapshot) leaves the VM alone, and the plan names that snapshot instead.
// Through terraform's own output, where an operator reads it; a plan that
// takes no generation says nothing of the VM.
func TestKCPSVMPowerWarningsThroughTerraform(t *testing.T) {
	testAccPreCheck(t)
	srv := startKCPSEmu(t, kcpsTestScale)
	tf := startServedQuiet(t)
	dir := t.TempDir()
	write := func(trigger string) {
		t.Helper()
		cfg := requireBackupctl + kcpsSnapshotConfig(srv, kcpsemu.DemoVolWebData, "  trigger = \""+trigger+"\"\n  vm_power = \"stop_start\"\n  force_destroy = true") +
			"output \"latest\" {\n  value = backupctl_kcps_volume_snapshot.v.latest_snapshot_id\n}\n"
		if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	vm := func() kcpsemu.VMInfo {
		t.Helper()
		v, ok := srv.VM(kcpsemu.DemoVMWeb)
		if !ok {
			t.Fatal("the demo web VM is missing")
		}
		return v
	}
	const stopping, staysStopped = "Warning: The VM will be stopped", "Warning: The VM is stopped and stays stopped"

	write("a")
	tf.mustRun(t, dir, "init", "-input=false", "-no-color")
	out := tf.output(t, dir, 2, "plan", "-input=false", "-detailed-exitcode", "-no-color")
	if !strings.Contains(out, stopping) || !strings.Contains(out, vm().Name) || strings.Contains(out, staysStopped) {
		t.Errorf("plan of a first generation of a running VM's volume does not warn that the VM will be stopped:\n%s", out)
	}
	tf.mustRun(t, dir, "apply", "-input=false", "-auto-approve", "-no-color")
	if s := vm().State; s != "Running" {
		t.Fatalf("after the first generation the VM is %s, want Running", s)
	}

	out = tf.output(t, dir, 0, "plan", "-input=false", "-detailed-exitcode", "-no-color")
	if strings.Contains(out, "Warning:") {
		t.Errorf("a plan taking no generation warns:\n%s", out)
	}

	if err := srv.StopVM(kcpsemu.DemoVMWeb); err != nil {
		t.Fatal(err)
	}
	srv.ResetCalls()
	write("b")
	out = tf.output(t, dir, 2, "plan", "-input=false", "-detailed-exitcode", "-no-color")
	if !strings.Contains(out, staysStopped) || !strings.Contains(out, "startVirtualMachine") || strings.Contains(out, stopping) {
		t.Errorf("plan of a generation of a stopped VM's volume does not warn that it stays stopped:\n%s", out)
	}
	tf.mustRun(t, dir, "apply", "-input=false", "-auto-approve", "-no-color")
	if s := vm().State; s != "Stopped" {
		t.Errorf("after a generation taken with the VM stopped, the VM is %s, want Stopped", s)
	}
	if n := srv.Calls("startVirtualMachine") + srv.Calls("stopVirtualMachine"); n != 0 {
		t.Errorf("a stopped VM was stopped or started (%d calls): %v", n, srv.CallCounts())
	}

	// An apply killed after createSnapshot leaves a manual snapshot that no
	// generation in state knows, newer than the newest: the next apply
	// adopts it rather than taking another, and the plan says so instead
	// of warning that the (running) VM will be stopped.
	if err := srv.StartVM(kcpsemu.DemoVMWeb); err != nil {
		t.Fatal(err)
	}
	// KCPS gives creation times to the second: the leftover must be later
	// than the newest generation in those terms.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(1100 * time.Millisecond)))
	left, err := srv.AddSnapshot(kcpsemu.Snapshot{VolumeID: kcpsemu.DemoVolWebData})
	if err != nil {
		t.Fatal(err)
	}
	srv.ResetCalls()
	write("c")
	out = tf.output(t, dir, 2, "plan", "-input=false", "-detailed-exitcode", "-no-color")
	if !strings.Contains(out, "Warning: An interrupted snapshot will be adopted") || !strings.Contains(out, left) ||
		strings.Contains(out, stopping) || strings.Contains(out, staysStopped) {
		t.Errorf("plan of a generation that adopts the leftover snapshot %s does not say so (or warns of the VM):\n%s", left, out)
	}
	tf.mustRun(t, dir, "apply", "-input=false", "-auto-approve", "-no-color")
	if n := srv.Calls("createSnapshot") + srv.Calls("stopVirtualMachine") + srv.Calls("startVirtualMachine"); n != 0 {
		t.Errorf("the apply that adopts a leftover snapshot took one or touched the VM: %v", srv.CallCounts())
	}
	if got := strings.TrimSpace(tf.output(t, dir, 0, "output", "-raw", "latest")); got != left {
		t.Errorf("latest_snapshot_id after the adopting apply = %q, want the leftover %s", got, left)
	}
}
