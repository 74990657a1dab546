package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/benchfig"
	"github.com/backupctl/terraform-provider-backupctl/internal/kcps"
	"github.com/backupctl/terraform-provider-backupctl/internal/kcpsemu"
)

const (
	benchKCPSVolumes     = 125
	benchKCPSGenerations = 8
)

// TestBenchKCPSRefresh (make bench): terraform plan (refresh) of 125
// backupctl_kcps_volume_snapshot resources holding 8 generations each.
// Figure: KCPS API calls per plan, against one listSnapshots per volume
// measured on the same emulator (the per-resource refresh of the prior-art
// providers). Target: a paged account-wide listing, at most 5 calls.
func TestBenchKCPSRefresh(t *testing.T) {
	if os.Getenv("BACKUPCTL_BENCH") != "1" {
		t.Skip("benchmark: run with BACKUPCTL_BENCH=1 (make bench)")
	}
	testAccPreCheck(t)
	srv := startKCPSEmu(t, kcpsTestScale)
	var ids []string
	base := time.Now().Add(-30 * 24 * time.Hour)
	for v := 0; v < benchKCPSVolumes; v++ {
		id := fmt.Sprintf("c0000000-0000-4000-8000-%012d", v)
		if err := srv.AddVolume(kcpsemu.Volume{ID: id, Name: fmt.Sprintf("DATA-%03d", v), Account: kcpsemu.DemoAccount,
			ZoneID: kcpsemu.DemoZoneEast, SizeGB: 20}); err != nil {
			t.Fatal(err)
		}
		for g := 0; g < benchKCPSGenerations; g++ {
			if _, err := srv.AddSnapshot(kcpsemu.Snapshot{VolumeID: id, Created: base.Add(time.Duration(g*24+v) * time.Minute)}); err != nil {
				t.Fatal(err)
			}
		}
		ids = append(ids, fmt.Sprintf("%q", id))
	}
	dir := t.TempDir()
	tf := newTerraformCLI(t, dir)
	cfg := `
terraform {
  required_providers {
    backupctl = { source = "backupctl/backupctl" }
  }
}
` + kcpsProviderBlock(srv) + `
locals {
  volumes = toset([` + strings.Join(ids, ", ") + `])
}
import {
  for_each = local.volumes
  to       = backupctl_kcps_volume_snapshot.v[each.key]
  id       = each.key
}
resource "backupctl_kcps_volume_snapshot" "v" {
  for_each = local.volumes
  volume_id = each.key
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{envKCPSPollScale + "=" + fmt.Sprint(kcpsTestScale)}
	tf.run(t, env, "apply", "-auto-approve")
	if n := srv.Calls("createSnapshot") + srv.Calls("deleteSnapshot"); n != 0 {
		t.Fatalf("the import changed snapshots: %v", srv.CallCounts())
	}

	srv.ResetCalls()
	tf.run(t, env, "plan", "-detailed-exitcode")
	ours := srv.TotalCalls()
	t.Logf("plan of %d resources: %v", benchKCPSVolumes, srv.CallCounts())

	// Baseline: one listSnapshots per volume, on the same emulator.
	c, err := kcps.New(kcps.Config{Endpoint: srv.Endpoint, APIKey: kcpsemu.DemoAPIKey, SecretKey: kcpsemu.DemoSecretKey})
	if err != nil {
		t.Fatal(err)
	}
	srv.ResetCalls()
	for v := 0; v < benchKCPSVolumes; v++ {
		ss, err := c.ListSnapshots(context.Background(), kcps.SnapshotFilter{VolumeID: fmt.Sprintf("c0000000-0000-4000-8000-%012d", v)})
		if err != nil || len(ss) != benchKCPSGenerations {
			t.Fatalf("%d snapshots, %v", len(ss), err)
		}
	}
	baseline := srv.TotalCalls()
	benchfig.Report(t, benchfig.Figure{Figure: fmt.Sprintf("kcps refresh %d volumes x %d generations: API calls", benchKCPSVolumes, benchKCPSGenerations),
		Ours: float64(ours), Baseline: float64(baseline), Ratio: float64(ours) / float64(baseline),
		Unit: "calls", Target: "<= 5 (paged account-wide listing)", Pass: ours <= 5})
	if ours > 5 {
		t.Errorf("refresh took %d API calls", ours)
	}
}
