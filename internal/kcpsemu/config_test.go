package kcpsemu_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/backupctl/terraform-provider-backupctl/internal/kcpsemu"
)

func TestLoadConfigRoundTrip(t *testing.T) {
	cfg := kcpsemu.DefaultConfig()
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := kcpsemu.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Volumes) != len(cfg.Volumes) || got.Accounts[0].SecretKey != kcpsemu.DemoSecretKey || got.TimeScale != cfg.TimeScale {
		t.Fatalf("%+v", got)
	}
	if _, err := kcpsemu.New(got); err != nil {
		t.Fatal(err)
	}
	bad := got
	bad.Volumes = append(bad.Volumes, kcpsemu.Volume{ID: "x", Name: "x", Account: "nobody", ZoneID: kcpsemu.DemoZoneEast})
	if _, err := kcpsemu.New(bad); err == nil {
		t.Fatal("unknown account must be refused")
	}
}
