package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/backupctl/terraform-provider-backupctl/internal/kcpsemu"
)

// With 20 % of the answers 5xx and 10 % of the connections dropped (half
// of them after the command ran), six rotations with stop_start converge:
// one snapshot per trigger, no duplicate, no premature prune, the VM
// running again every time.
func TestAccKCPSVolumeSnapshot_faults(t *testing.T) {
	testAccPreCheck(t)
	srv := startKCPSEmu(t, kcpsTestScale)
	srv.SetFaults(kcpsemu.Faults{ErrorRate: 0.2, DropRate: 0.05, DropAfterRate: 0.05, Seed: 20260401})
	const addr = "backupctl_kcps_volume_snapshot.v"
	vol := kcpsemu.DemoVolWebData
	var steps []resource.TestStep
	for n := 1; n <= 6; n++ {
		steps = append(steps, resource.TestStep{
			Config: kcpsSnapshotConfig(srv, vol, fmt.Sprintf("  keep = 3\n  trigger = \"f%d\"\n  vm_power = \"stop_start\"\n  force_destroy = true", n)),
			Check: resource.ComposeAggregateTestCheckFunc(
				checkStateMatchesKCPS(srv, addr, vol, min(n, 3)),
				checkNoPrematurePrune(srv),
				resource.TestCheckResourceAttr(addr, "generations.0.trigger", fmt.Sprintf("f%d", n)),
				func(*terraform.State) error {
					if vm, _ := srv.VM(kcpsemu.DemoVMWeb); vm.State != "Running" {
						return fmt.Errorf("VM left %s", vm.State)
					}
					return nil
				},
			),
		})
	}
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: testProviderFactories, Steps: steps})
	faulted := 0
	for _, c := range sortedKeys(srv.CallCounts()) {
		faulted += srv.FaultedCalls(c)
	}
	if faulted < 20 {
		t.Fatalf("the faults did not bite: %d faulted calls of %d", faulted, srv.TotalCalls())
	}
	jobs := srv.Jobs("createSnapshot")
	succeeded := 0
	for _, j := range jobs {
		if j.Status == 1 {
			succeeded++
		}
	}
	if succeeded != 6 {
		t.Fatalf("%d snapshots were taken for 6 triggers (jobs %+v)", succeeded, jobs)
	}
	t.Logf("%d calls, %d faulted, %d createSnapshot requests for 6 snapshots", srv.TotalCalls(), faulted, srv.Calls("createSnapshot"))
}
