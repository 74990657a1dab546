package provider

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/backupctl/terraform-provider-backupctl/internal/kcpsemu"
)

func kcpsSnapshotConfig(srv *kcpsemu.Server, volumeID, body string) string {
	return kcpsProviderBlock(srv) + fmt.Sprintf(`
resource "backupctl_kcps_volume_snapshot" "v" {
  volume_id = %q
%s
}
`, volumeID, body)
}

// Ten triggers with keep = 8: never more than 8, never fewer than min(n, 8),
// the plan names exactly the pruned snapshot, and pruning comes only after
// the new generation is BackedUp.
func TestAccKCPSVolumeSnapshot_rotation(t *testing.T) {
	testAccPreCheck(t)
	srv := startKCPSEmu(t, kcpsTestScale)
	const addr = "backupctl_kcps_volume_snapshot.v"
	vol := kcpsemu.DemoVolDetached
	var steps []resource.TestStep
	for n := 1; n <= 10; n++ {
		step := resource.TestStep{
			Config: kcpsSnapshotConfig(srv, vol, fmt.Sprintf("  keep = 8\n  trigger = \"t%d\"\n  force_destroy = true", n)),
			Check: resource.ComposeAggregateTestCheckFunc(
				checkStateMatchesKCPS(srv, addr, vol, min(n, 8)),
				checkNoPrematurePrune(srv),
				resource.TestCheckResourceAttr(addr, "generations.0.trigger", fmt.Sprintf("t%d", n)),
				resource.TestCheckResourceAttr(addr, "generations.0.state", "BackedUp"),
				resource.TestCheckResourceAttr(addr, "id", vol),
			),
		}
		if n > 1 {
			pc := []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)}
			if n > 8 {
				pc = append(pc, expectPrunePlan{addr: addr, pruned: []int{7}})
			} else {
				pc = append(pc, expectPrunePlan{addr: addr})
			}
			step.ConfigPlanChecks = resource.ConfigPlanChecks{PreApply: pc}
		}
		steps = append(steps, step)
	}
	// Lowering keep prunes at once, without a new snapshot.
	steps = append(steps, resource.TestStep{
		PreConfig: func() { srv.ResetCalls() },
		Config:    kcpsSnapshotConfig(srv, vol, "  keep = 3\n  trigger = \"t10\"\n  force_destroy = true"),
		Check: resource.ComposeAggregateTestCheckFunc(
			checkStateMatchesKCPS(srv, addr, vol, 3),
			resource.TestCheckResourceAttr(addr, "generations.0.trigger", "t10"),
			func(*terraform.State) error {
				if n := srv.Calls("createSnapshot"); n != 0 {
					return fmt.Errorf("lowering keep took %d snapshots", n)
				}
				return nil
			},
		),
	})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps:                    steps,
		CheckDestroy: func(*terraform.State) error {
			if ss := srv.Snapshots(vol); len(ss) != 0 {
				return fmt.Errorf("force_destroy left %d snapshots", len(ss))
			}
			return nil
		},
	})
	if n := srv.Calls("createSnapshot"); n != 0 {
		t.Fatalf("unexpected createSnapshot calls after the keep step: %d", n)
	}
}

func TestAccKCPSVolumeSnapshot_requireStopped(t *testing.T) {
	testAccPreCheck(t)
	srv := startKCPSEmu(t, kcpsTestScale)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{{
			Config:      kcpsSnapshotConfig(srv, kcpsemu.DemoVolWebData, `  trigger = "a"`),
			ExpectError: regexp.MustCompile(`(?s)web01.*Running.*stop_start`),
		}},
	})
	if n := srv.Calls("createSnapshot") + srv.Calls("stopVirtualMachine"); n != 0 {
		t.Fatalf("require_stopped must not touch the VM or start a snapshot: %v", srv.CallCounts())
	}
	if vm, _ := srv.VM(kcpsemu.DemoVMWeb); vm.State != "Running" {
		t.Fatalf("VM is %s", vm.State)
	}
}

func TestAccKCPSVolumeSnapshot_stopStart(t *testing.T) {
	testAccPreCheck(t)
	srv := startKCPSEmu(t, kcpsTestScale)
	const addr = "backupctl_kcps_volume_snapshot.v"
	vmState := func(want string) func(*terraform.State) error {
		return func(*terraform.State) error {
			if vm, _ := srv.VM(kcpsemu.DemoVMWeb); vm.State != want {
				return fmt.Errorf("VM is %s, want %s", vm.State, want)
			}
			return nil
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{
				// Running: stopped for the snapshot, started again.
				Config: kcpsSnapshotConfig(srv, kcpsemu.DemoVolWebData, "  trigger = \"a\"\n  vm_power = \"stop_start\"\n  force_destroy = true"),
				Check: resource.ComposeAggregateTestCheckFunc(vmState("Running"),
					checkStateMatchesKCPS(srv, addr, kcpsemu.DemoVolWebData, 1),
					func(*terraform.State) error {
						if srv.Calls("stopVirtualMachine") != 1 || srv.Calls("startVirtualMachine") != 1 {
							return fmt.Errorf("want one stop and one start: %v", srv.CallCounts())
						}
						return nil
					}),
			},
			{
				// Stopped: left stopped.
				PreConfig: func() { _ = srv.StopVM(kcpsemu.DemoVMWeb); srv.ResetCalls() },
				Config:    kcpsSnapshotConfig(srv, kcpsemu.DemoVolWebData, "  trigger = \"b\"\n  vm_power = \"stop_start\"\n  force_destroy = true"),
				Check: resource.ComposeAggregateTestCheckFunc(vmState("Stopped"),
					checkStateMatchesKCPS(srv, addr, kcpsemu.DemoVolWebData, 2),
					func(*terraform.State) error {
						if srv.Calls("stopVirtualMachine")+srv.Calls("startVirtualMachine") != 0 {
							return fmt.Errorf("a stopped VM must be left alone: %v", srv.CallCounts())
						}
						return nil
					}),
			},
			{
				// Running, and the snapshot job fails: the VM is started again.
				PreConfig:   func() { _ = srv.StartVM(kcpsemu.DemoVMWeb); srv.FailJobs("createSnapshot", 1) },
				Config:      kcpsSnapshotConfig(srv, kcpsemu.DemoVolWebData, "  trigger = \"c\"\n  vm_power = \"stop_start\"\n  force_destroy = true"),
				ExpectError: regexp.MustCompile(`(?s)Snapshot failed.*530`),
			},
			{
				Config: kcpsSnapshotConfig(srv, kcpsemu.DemoVolWebData, "  trigger = \"b\"\n  vm_power = \"stop_start\"\n  force_destroy = true"),
				Check: resource.ComposeAggregateTestCheckFunc(vmState("Running"),
					// The failed attempt kept the old trigger and generations.
					checkStateMatchesKCPS(srv, addr, kcpsemu.DemoVolWebData, 2),
					resource.TestCheckResourceAttr(addr, "trigger", "b")),
			},
		},
	})
}

func TestAccKCPSVolumeSnapshot_outOfBandDeletion(t *testing.T) {
	testAccPreCheck(t)
	srv := startKCPSEmu(t, kcpsTestScale)
	const addr = "backupctl_kcps_volume_snapshot.v"
	vol := kcpsemu.DemoVolDBData
	cfg := func(trig string) string {
		return kcpsSnapshotConfig(srv, vol, fmt.Sprintf("  trigger = %q\n  keep = 3\n  force_destroy = true", trig))
	}
	var victim string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg("1")},
			{Config: cfg("2")},
			{Config: cfg("3"), Check: checkStateMatchesKCPS(srv, addr, vol, 3)},
			{
				// Deleted in the Admin Console: the plan shows it as a change.
				PreConfig: func() {
					ss := srv.Snapshots(vol)
					victim = ss[1].ID
					if err := srv.DeleteSnapshot(victim); err != nil {
						t.Fatal(err)
					}
				},
				Config:             cfg("3"),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				Config: cfg("3"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)}},
				Check: resource.ComposeAggregateTestCheckFunc(checkStateMatchesKCPS(srv, addr, vol, 2),
					func(s *terraform.State) error {
						ids, _ := stateGenerationIDs(s, addr)
						for _, id := range ids {
							if id == victim {
								return fmt.Errorf("deleted snapshot %s still in state", id)
							}
						}
						return nil
					}),
			},
			{
				// Everything gone, volume included: the resource leaves the
				// state on refresh, and nothing is left to destroy.
				PreConfig: func() {
					for _, s := range srv.Snapshots(vol) {
						_ = srv.DeleteSnapshot(s.ID)
					}
					if err := srv.DeleteVolume(vol); err != nil {
						t.Fatal(err)
					}
				},
				Config:           kcpsProviderBlock(srv),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check: func(s *terraform.State) error {
					if rs := s.RootModule().Resources[addr]; rs != nil {
						return fmt.Errorf("%s still in state", addr)
					}
					return nil
				},
			},
		},
	})
}

// After an apply that pruned, a change that neither takes nor prunes
// (force_destroy here) applies cleanly and keeps the last pruned ids.
func TestAccKCPSVolumeSnapshot_settingChangeAfterPrune(t *testing.T) {
	testAccPreCheck(t)
	srv := startKCPSEmu(t, kcpsTestScale)
	const addr = "backupctl_kcps_volume_snapshot.v"
	vol := kcpsemu.DemoVolDetached
	cfg := func(trigger string, fd bool) string {
		return kcpsSnapshotConfig(srv, vol, fmt.Sprintf("  keep = 1\n  trigger = %q\n  force_destroy = %t", trigger, fd))
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg("t1", false)},
			{Config: cfg("t2", false), Check: resource.TestCheckResourceAttr(addr, "pruned_snapshot_ids.#", "1")},
			{
				Config: cfg("t2", true),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "pruned_snapshot_ids.#", "1"),
					checkStateMatchesKCPS(srv, addr, vol, 1),
				),
			},
		},
	})
}

// The volume deleted out of band (KCPS keeps its snapshots): plans and
// setting changes still work with a warning, a new generation is refused
// naming volume_id, and force_destroy then destroy deletes the snapshots.
func TestAccKCPSVolumeSnapshot_volumeDeletedOutOfBand(t *testing.T) {
	testAccPreCheck(t)
	srv := startKCPSEmu(t, kcpsTestScale)
	vol := kcpsemu.DemoVolDetached
	cfg := func(trigger string, fd bool) string {
		return kcpsSnapshotConfig(srv, vol, fmt.Sprintf("  trigger = %q\n  force_destroy = %t", trigger, fd))
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg("a", false)},
			{
				PreConfig: func() {
					if err := srv.DeleteVolume(vol); err != nil {
						t.Fatal(err)
					}
				},
				Config:   cfg("a", false),
				PlanOnly: true,
			},
			{Config: cfg("b", false), PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)Volume not found \(volume_id\).*no new generation`)},
			{Config: cfg("a", true)},
		},
		CheckDestroy: func(*terraform.State) error {
			if ss := srv.Snapshots(vol); len(ss) != 0 {
				return fmt.Errorf("left %d snapshots", len(ss))
			}
			return nil
		},
	})
}

func TestAccKCPSVolumeSnapshot_destroyRefused(t *testing.T) {
	testAccPreCheck(t)
	srv := startKCPSEmu(t, kcpsTestScale)
	vol := kcpsemu.DemoVolDetached
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{Config: kcpsSnapshotConfig(srv, vol, `  trigger = "a"`)},
			{
				Config:      kcpsSnapshotConfig(srv, vol, `  trigger = "a"`),
				Destroy:     true,
				ExpectError: regexp.MustCompile(`(?s)Generations would be lost.*force_destroy`),
			},
			{
				// Another volume replaces the resource: refused at plan too.
				Config:      kcpsSnapshotConfig(srv, kcpsemu.DemoVolDBData, `  trigger = "a"`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Generations would be lost.*replaces`),
			},
			{Config: kcpsSnapshotConfig(srv, vol, "  trigger = \"a\"\n  force_destroy = true")},
		},
		CheckDestroy: func(*terraform.State) error {
			if ss := srv.Snapshots(vol); len(ss) != 0 {
				return fmt.Errorf("left %d snapshots", len(ss))
			}
			return nil
		},
	})
}

// Bad input is refused at plan, before any API call.
func TestAccKCPSVolumeSnapshot_badInput(t *testing.T) {
	testAccPreCheck(t)
	srv := startKCPSEmu(t, kcpsTestScale)
	p := kcpsProviderBlock(srv)
	cases := []struct{ cfg, err string }{
		{`resource "backupctl_kcps_volume_snapshot" "v" {
  volume_id = "` + kcpsemu.DemoVolDBData + `"
  keep      = 9
}`, `(?s)keep.*between 1 and 8`},
		{`resource "backupctl_kcps_volume_snapshot" "v" {
  keep = 3
}`, `(?s)volume_id.*required`},
		{`resource "backupctl_kcps_volume_snapshot" "v" {
  volume_id = "vol-1"
}`, `(?s)volume_id.*KCPS volume id`},
		{`resource "backupctl_kcps_volume_snapshot" "v" {
  volume_id = "` + kcpsemu.DemoVolDBData + `"
  vm_power  = "hibernate"
}`, `(?s)vm_power.*require_stopped`},
		{`resource "backupctl_kcps_snapshot_schedule" "s" {
  volume_id = "` + kcpsemu.DemoVolDBData + `"
  interval  = "weekly"
  hour      = 3
  day       = 9
}`, `(?s)weekly.*silently.*DAILY`},
		{`resource "backupctl_kcps_snapshot_schedule" "s" {
  volume_id = "` + kcpsemu.DemoVolDBData + `"
  interval  = "monthly"
  hour      = 3
}`, `(?s)Invalid day for a monthly schedule`},
		{`resource "backupctl_kcps_snapshot_schedule" "s" {
  volume_id = "` + kcpsemu.DemoVolDBData + `"
  interval  = "daily"
  hour      = 3
  keep      = 9
}`, `(?s)keep.*between 1 and 8`},
		{`resource "backupctl_kcps_snapshot_schedule" "s" {
  volume_id = "` + kcpsemu.DemoVolDBData + `"
  interval  = "hourly"
  hour      = 3
}`, `hour is not used by hourly`},
		{`resource "backupctl_kcps_snapshot_schedule" "s" {
  volume_id = "` + kcpsemu.DemoVolDBData + `"
  interval  = "daily"
  hour      = 3
  timezone  = "Mars/Olympus"
}`, `Unknown time zone`},
		{`data "backupctl_kcps_snapshots" "s" {
  volume_id = "nope"
}`, `(?s)volume_id.*KCPS volume id`},
	}
	var steps []resource.TestStep
	for _, c := range cases {
		steps = append(steps, resource.TestStep{Config: p + c.cfg, PlanOnly: true, ExpectError: regexp.MustCompile(c.err)})
	}
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: testProviderFactories, Steps: steps})
	if n := srv.TotalCalls(); n != 0 {
		t.Fatalf("bad input must be refused before any API call: %v", srv.CallCounts())
	}
}

// A volume that does not exist is refused at plan (one shared listing).
func TestAccKCPSVolumeSnapshot_unknownVolume(t *testing.T) {
	testAccPreCheck(t)
	srv := startKCPSEmu(t, kcpsTestScale)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{{
			Config:      kcpsSnapshotConfig(srv, "00000000-0000-4000-8000-000000000000", ""),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`Volume not found`),
		}},
	})
	if n := srv.Calls("createSnapshot"); n != 0 {
		t.Fatal("no snapshot may be started")
	}
}

// Import by volume id adopts the volume's existing manual snapshots; the
// first trigger after an import is recorded without a snapshot.
func TestAccKCPSVolumeSnapshot_import(t *testing.T) {
	testAccPreCheck(t)
	srv := startKCPSEmu(t, kcpsTestScale)
	vol := kcpsemu.DemoVolDBData
	const addr = "backupctl_kcps_volume_snapshot.v"
	var manual []string
	for i := 0; i < 3; i++ {
		id, err := srv.AddSnapshot(kcpsemu.Snapshot{VolumeID: vol, Created: time.Now().Add(time.Duration(i-72) * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		manual = append(manual, id)
	}
	if _, err := srv.AddSnapshot(kcpsemu.Snapshot{VolumeID: vol, IntervalType: "DAILY", Created: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:             kcpsSnapshotConfig(srv, vol, ""),
				ResourceName:       addr,
				ImportState:        true,
				ImportStateId:      vol,
				ImportStatePersist: true,
				ImportStateCheck: func(is []*terraform.InstanceState) error {
					if len(is) != 1 || is[0].Attributes["generations.#"] != "3" || is[0].Attributes["keep"] != "8" ||
						is[0].Attributes["vm_power"] != "require_stopped" || is[0].Attributes["volume_id"] != vol {
						return fmt.Errorf("imported %v", is[0].Attributes)
					}
					return nil
				},
			},
			{
				// Right after the import, the same configuration plans nothing.
				Config:   kcpsSnapshotConfig(srv, vol, ""),
				PlanOnly: true,
			},
			{
				// The imported generations: the three manual ones, newest first.
				Config: kcpsSnapshotConfig(srv, vol, "  trigger = \"first\"\n  force_destroy = true"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("generations"), knownvalue.ListSizeExact(3)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("generations").AtSliceIndex(0).AtMapKey("id"), knownvalue.StringExact(manual[2])),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("generations").AtSliceIndex(2).AtMapKey("id"), knownvalue.StringExact(manual[0])),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("generations").AtSliceIndex(0).AtMapKey("trigger"), knownvalue.Null()),
				},
				Check: func(*terraform.State) error {
					if n := srv.Calls("createSnapshot"); n != 0 {
						return fmt.Errorf("the first trigger after an import must not take a snapshot (%d)", n)
					}
					return nil
				},
			},
			{
				Config: kcpsSnapshotConfig(srv, vol, "  trigger = \"second\"\n  force_destroy = true"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("generations"), knownvalue.ListSizeExact(4)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("generations").AtSliceIndex(0).AtMapKey("trigger"), knownvalue.StringExact("second")),
				},
			},
		},
	})
	if n := srv.Calls("createSnapshot"); n != 1 {
		t.Fatalf("createSnapshot %d times, want 1", n)
	}
	// The policy snapshot was neither adopted nor deleted.
	if ss := srv.Snapshots(vol); len(ss) != 1 || ss[0].IntervalType != "DAILY" {
		t.Fatalf("left %+v", ss)
	}
}
