package kcpsemu

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Config seeds an Emulator.
type Config struct {
	// TimeScale multiplies every job duration: 1 is KCPS's pace (a 100 GB
	// snapshot takes 3 hours), 0.001 makes it 10.8 s. 0 means 1.
	TimeScale float64 `json:"time_scale,omitempty"`
	// SnapshotSecondsPerGB is the unscaled snapshot speed (0: 108, which is
	// 3 hours per 100 GB as in seed 004).
	SnapshotSecondsPerGB float64 `json:"snapshot_seconds_per_gb,omitempty"`
	// MaxPageSize caps pagesize (0: 500, CloudStack's default.page.size).
	MaxPageSize int `json:"max_page_size,omitempty"`

	Accounts         []Account         `json:"accounts"`
	Zones            []Zone            `json:"zones"`
	ServiceOfferings []ServiceOffering `json:"service_offerings,omitempty"`
	Networks         []Network         `json:"networks,omitempty"`
	OSTypes          []OSType          `json:"os_types,omitempty"`
	VMs              []VM              `json:"vms,omitempty"`
	Volumes          []Volume          `json:"volumes,omitempty"`
	Snapshots        []Snapshot        `json:"snapshots,omitempty"`

	// Now is the clock (nil: time.Now). Tests may drive time themselves.
	Now func() time.Time `json:"-"`
	// Admin enables the unsigned /_emu/ endpoints (demo: out-of-band
	// changes, counters). Only ever served on loopback.
	Admin bool `json:"admin,omitempty"`
}

// Account is a KCPS account with its API credentials.
type Account struct {
	Name      string `json:"name"`
	APIKey    string `json:"api_key"`
	SecretKey string `json:"secret_key"`
}

// Zone is a KCPS site.
type Zone struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// ServiceOffering is a VM size.
type ServiceOffering struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	CPUNumber int    `json:"cpu_number,omitempty"`
	CPUSpeed  int    `json:"cpu_speed,omitempty"`
	Memory    int    `json:"memory,omitempty"`
}

// Network is a guest network of a zone.
type Network struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	ZoneID  string `json:"zone_id"`
	Account string `json:"account,omitempty"` // empty: every account
}

// OSType is an OS type id accepted by createTemplate.
type OSType struct {
	ID          string `json:"id"`
	Description string `json:"description"`
}

// VM is a seeded virtual machine.
type VM struct {
	ID                string `json:"id"`
	Name              string `json:"name"`
	Account           string `json:"account"`
	ZoneID            string `json:"zone_id"`
	State             string `json:"state,omitempty"` // Running (default) or Stopped
	ServiceOfferingID string `json:"service_offering_id,omitempty"`
	TemplateID        string `json:"template_id,omitempty"`
}

// Volume is a seeded volume. VMID attaches it.
type Volume struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Account string `json:"account"`
	ZoneID  string `json:"zone_id"`
	Type    string `json:"type,omitempty"` // ROOT or DATADISK (default)
	VMID    string `json:"vm_id,omitempty"`
	SizeGB  int64  `json:"size_gb"`
}

// Snapshot is a seeded, finished snapshot.
type Snapshot struct {
	ID       string    `json:"id"`
	VolumeID string    `json:"volume_id"`
	Name     string    `json:"name,omitempty"`
	Created  time.Time `json:"created"`
	// IntervalType is MANUAL (default) or HOURLY/DAILY/WEEKLY/MONTHLY.
	IntervalType string `json:"interval_type,omitempty"`
}

// LoadConfig reads a JSON config file.
func LoadConfig(path string) (Config, error) {
	var c Config
	b, err := os.ReadFile(path)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Demo IDs of DefaultConfig, fixed so that examples can name them.
const (
	DemoAccount         = "demo"
	DemoAPIKey          = "demo-api-key-0123456789"
	DemoSecretKey       = "demo-secret-key-do-not-use-in-production"
	DemoZoneEast        = "4f6e5b2a-0000-4000-8000-00000000e001"
	DemoZoneWest        = "4f6e5b2a-0000-4000-8000-00000000e002"
	DemoServiceOffering = "5a1b2c3d-0000-4000-8000-000000000501"
	DemoNetworkEast     = "6b2c3d4e-0000-4000-8000-000000000601"
	DemoNetworkWest     = "6b2c3d4e-0000-4000-8000-000000000602"
	DemoOSType          = "7c3d4e5f-0000-4000-8000-000000000701"
	DemoVMWeb           = "8d4e5f60-0000-4000-8000-000000000801"
	DemoVMDB            = "8d4e5f60-0000-4000-8000-000000000802"
	DemoVolWebRoot      = "9e5f6071-0000-4000-8000-000000000901"
	DemoVolWebData      = "9e5f6071-0000-4000-8000-000000000902"
	DemoVolDBRoot       = "9e5f6071-0000-4000-8000-000000000903"
	DemoVolDBData       = "9e5f6071-0000-4000-8000-000000000904"
	DemoVolDetached     = "9e5f6071-0000-4000-8000-000000000905"
)

// DefaultConfig is a small account: two zones, two VMs (web running, db
// stopped) with ROOT and data volumes, and a detached volume.
func DefaultConfig() Config {
	return Config{
		TimeScale: 0.001,
		Accounts:  []Account{{Name: DemoAccount, APIKey: DemoAPIKey, SecretKey: DemoSecretKey}},
		Zones:     []Zone{{ID: DemoZoneEast, Name: "jp-east-t1v"}, {ID: DemoZoneWest, Name: "jp-west-t1v"}},
		ServiceOfferings: []ServiceOffering{
			{ID: DemoServiceOffering, Name: "Standard-2vCPU-4GB", CPUNumber: 2, CPUSpeed: 2000, Memory: 4096}},
		Networks: []Network{
			{ID: DemoNetworkEast, Name: "demo-east-net", ZoneID: DemoZoneEast},
			{ID: DemoNetworkWest, Name: "demo-west-net", ZoneID: DemoZoneWest}},
		OSTypes: []OSType{{ID: DemoOSType, Description: "CentOS 7 (64-bit)"}},
		VMs: []VM{
			{ID: DemoVMWeb, Name: "web01", Account: DemoAccount, ZoneID: DemoZoneEast, State: "Running"},
			{ID: DemoVMDB, Name: "db01", Account: DemoAccount, ZoneID: DemoZoneEast, State: "Stopped"},
		},
		Volumes: []Volume{
			{ID: DemoVolWebRoot, Name: "ROOT-801", Account: DemoAccount, ZoneID: DemoZoneEast, Type: "ROOT", VMID: DemoVMWeb, SizeGB: 15},
			{ID: DemoVolWebData, Name: "DATA-web01", Account: DemoAccount, ZoneID: DemoZoneEast, VMID: DemoVMWeb, SizeGB: 100},
			{ID: DemoVolDBRoot, Name: "ROOT-802", Account: DemoAccount, ZoneID: DemoZoneEast, Type: "ROOT", VMID: DemoVMDB, SizeGB: 15},
			{ID: DemoVolDBData, Name: "DATA-db01", Account: DemoAccount, ZoneID: DemoZoneEast, VMID: DemoVMDB, SizeGB: 50},
			{ID: DemoVolDetached, Name: "DATA-spare", Account: DemoAccount, ZoneID: DemoZoneEast, SizeGB: 10},
		},
	}
}
