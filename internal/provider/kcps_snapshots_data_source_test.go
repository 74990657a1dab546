package provider

import (
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/backupctl/terraform-provider-backupctl/internal/kcpsemu"
)

func TestAccKCPSSnapshotsDataSource(t *testing.T) {
	testAccPreCheck(t)
	srv := startKCPSEmu(t, kcpsTestScale)
	vol := kcpsemu.DemoVolDBData
	old, _ := srv.AddSnapshot(kcpsemu.Snapshot{VolumeID: vol, Created: time.Now().Add(-48 * time.Hour)})
	daily, _ := srv.AddSnapshot(kcpsemu.Snapshot{VolumeID: vol, IntervalType: "DAILY", Created: time.Now().Add(-24 * time.Hour)})
	cfg := kcpsSnapshotConfig(srv, vol, "  trigger = \"x\"\n  force_destroy = true") + fmt.Sprintf(`
data "backupctl_kcps_snapshots" "all" {
  volume_id  = backupctl_kcps_volume_snapshot.v.volume_id
  depends_on = [backupctl_kcps_volume_snapshot.v]
}
data "backupctl_kcps_snapshots" "manual" {
  volume_id     = %q
  interval_type = "manual"
  depends_on    = [backupctl_kcps_volume_snapshot.v]
}
`, vol)
	const all, manual = "data.backupctl_kcps_snapshots.all", "data.backupctl_kcps_snapshots.manual"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{{
			Config: cfg,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(all, tfjsonpath.New("snapshots"), knownvalue.ListSizeExact(3)),
				statecheck.CompareValuePairs(all, tfjsonpath.New("latest_id"), "backupctl_kcps_volume_snapshot.v", tfjsonpath.New("latest_snapshot_id"), compare.ValuesSame()),
				statecheck.ExpectKnownValue(all, tfjsonpath.New("snapshots").AtSliceIndex(1).AtMapKey("id"), knownvalue.StringExact(daily)),
				statecheck.ExpectKnownValue(all, tfjsonpath.New("snapshots").AtSliceIndex(1).AtMapKey("interval_type"), knownvalue.StringExact("DAILY")),
				statecheck.ExpectKnownValue(all, tfjsonpath.New("snapshots").AtSliceIndex(2).AtMapKey("id"), knownvalue.StringExact(old)),
				statecheck.ExpectKnownValue(all, tfjsonpath.New("snapshots").AtSliceIndex(0).AtMapKey("zone_id"), knownvalue.StringExact(kcpsemu.DemoZoneEast)),
				statecheck.ExpectKnownValue(all, tfjsonpath.New("snapshots").AtSliceIndex(0).AtMapKey("state"), knownvalue.StringExact("BackedUp")),
				statecheck.ExpectKnownValue(manual, tfjsonpath.New("snapshots"), knownvalue.ListSizeExact(2)),
			},
		}},
	})
}
