package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/backupctl/terraform-provider-backupctl/internal/kcps"
	"github.com/backupctl/terraform-provider-backupctl/internal/kcpsemu"
)

func kcpsScheduleConfig(srv *kcpsemu.Server, body string) string {
	return kcpsProviderBlock(srv) + fmt.Sprintf(`
resource "backupctl_kcps_snapshot_schedule" "s" {
  volume_id = %q
%s
}
`, kcpsemu.DemoVolDBData, body)
}

func TestAccKCPSSnapshotSchedule(t *testing.T) {
	testAccPreCheck(t)
	srv := startKCPSEmu(t, kcpsTestScale)
	const addr = "backupctl_kcps_snapshot_schedule.s"
	vol := kcpsemu.DemoVolDBData
	policy := func(want kcpsemu.PolicyInfo) func(*terraform.State) error {
		return func(s *terraform.State) error {
			ps := srv.Policies(vol)
			if len(ps) != 1 {
				return fmt.Errorf("want one policy, got %+v", ps)
			}
			p := ps[0]
			if p.IntervalType != want.IntervalType || p.Schedule != want.Schedule || p.MaxSnaps != want.MaxSnaps || p.Timezone != want.Timezone {
				return fmt.Errorf("policy %+v, want %+v", p, want)
			}
			if id := s.RootModule().Resources[addr].Primary.ID; id != p.ID {
				return fmt.Errorf("state id %s, policy %s", id, p.ID)
			}
			return nil
		}
	}
	weekly := "  interval = \"weekly\"\n  minute = 5\n  hour = 3\n  day = 2\n  timezone = \"JST\"\n  keep = 4"
	var firstID string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: kcpsScheduleConfig(srv, weekly),
				Check: resource.ComposeAggregateTestCheckFunc(
					policy(kcpsemu.PolicyInfo{IntervalType: "WEEKLY", Schedule: "05:03:02", MaxSnaps: 4, Timezone: "JST"}),
					func(s *terraform.State) error { firstID = s.RootModule().Resources[addr].Primary.ID; return nil }),
			},
			{
				// The same schedule spelled without leading zeros: no diff.
				PreConfig: func() { _ = srv.SetPolicySchedule(srv.Policies(vol)[0].ID, "5:3:2") },
				Config:    kcpsScheduleConfig(srv, weekly),
				PlanOnly:  true,
			},
			{
				// Changed in the Admin Console: drift shows and is corrected.
				PreConfig: func() { _ = srv.SetPolicySchedule(srv.Policies(vol)[0].ID, "7:3:2") },
				Config:    kcpsScheduleConfig(srv, weekly),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)}},
				Check: policy(kcpsemu.PolicyInfo{IntervalType: "WEEKLY", Schedule: "05:03:02", MaxSnaps: 4, Timezone: "JST"}),
			},
			{
				// Other values change in place, keeping the policy.
				Config: kcpsScheduleConfig(srv, "  interval = \"weekly\"\n  minute = 30\n  hour = 23\n  day = 7\n  timezone = \"JST\"\n  keep = 8"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)}},
				Check: resource.ComposeAggregateTestCheckFunc(
					policy(kcpsemu.PolicyInfo{IntervalType: "WEEKLY", Schedule: "30:23:07", MaxSnaps: 8, Timezone: "JST"}),
					resource.TestCheckResourceAttrWith(addr, "id", func(v string) error {
						if v != firstID {
							return fmt.Errorf("policy replaced: %s -> %s", firstID, v)
						}
						return nil
					})),
			},
			{
				// A new interval is a new policy.
				Config: kcpsScheduleConfig(srv, "  interval = \"monthly\"\n  hour = 1\n  day = 15"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionReplace)}},
				Check: policy(kcpsemu.PolicyInfo{IntervalType: "MONTHLY", Schedule: "00:01:15", MaxSnaps: 8, Timezone: "Asia/Tokyo"}),
			},
			{
				ResourceName:      addr,
				ImportState:       true,
				ImportStateIdFunc: func(*terraform.State) (string, error) { return vol + "/monthly", nil },
				ImportStateVerify: true,
			},
			{
				// Deleted out of band: planned for creation again.
				PreConfig:          func() { deletePolicies(t, srv, vol) },
				Config:             kcpsScheduleConfig(srv, "  interval = \"monthly\"\n  hour = 1\n  day = 15"),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				Config: kcpsScheduleConfig(srv, "  interval = \"hourly\"\n  minute = 45\n  keep = 2"),
				Check:  policy(kcpsemu.PolicyInfo{IntervalType: "HOURLY", Schedule: "45", MaxSnaps: 2, Timezone: "Asia/Tokyo"}),
			},
		},
		CheckDestroy: func(*terraform.State) error {
			if ps := srv.Policies(vol); len(ps) != 0 {
				return fmt.Errorf("left %+v", ps)
			}
			return nil
		},
	})
}

func deletePolicies(t *testing.T, srv *kcpsemu.Server, vol string) {
	t.Helper()
	c, err := kcps.New(kcps.Config{Endpoint: srv.Endpoint, APIKey: kcpsemu.DemoAPIKey, SecretKey: kcpsemu.DemoSecretKey})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range srv.Policies(vol) {
		if err := c.DeleteSnapshotPolicies(t.Context(), p.ID); err != nil {
			t.Fatal(err)
		}
	}
}

// KCPS would replace an existing policy of the same interval without a
// word: refuse and point at import instead.
func TestAccKCPSSnapshotSchedule_existingPolicyRefused(t *testing.T) {
	testAccPreCheck(t)
	srv := startKCPSEmu(t, kcpsTestScale)
	c, err := kcps.New(kcps.Config{Endpoint: srv.Endpoint, APIKey: kcpsemu.DemoAPIKey, SecretKey: kcpsemu.DemoSecretKey})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateSnapshotPolicy(t.Context(), kcps.PolicyParams{VolumeID: kcpsemu.DemoVolDBData, IntervalType: "DAILY",
		Schedule: "0:2", Timezone: "JST", MaxSnaps: 3}); err != nil {
		t.Fatal(err)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{{
			Config:      kcpsScheduleConfig(srv, "  interval = \"daily\"\n  hour = 4"),
			ExpectError: regexp.MustCompile(`(?s)already has a\s+daily\s+snapshot\s+policy.*terraform\s+import`),
		}},
	})
	if ps := srv.Policies(kcpsemu.DemoVolDBData); len(ps) != 1 || ps[0].Schedule != "0:2" {
		t.Fatalf("the existing policy must be untouched: %+v", ps)
	}
}
