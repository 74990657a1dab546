// Package gdsemu emulates the PRIMECLUSTER GDS Snapshot commands sdxproxy,
// sdxinfo and sdxvolume closely enough to test backupctl against them: the
// manual's syntax, column layout, STATUS values, "SDX:<cmd>: ERROR: ..."
// messages, a non-zero exit on error, objects printed in varying order, and
// an equivalency copy that takes time in proportion to the volume size.
//
// One binary answers as all three commands (by the base name of argv[0], or
// as "gdsemu sdxinfo ..."). Its state lives in a JSON file under a root
// directory named by GDSEMU_ROOT and is guarded by flock(2), because several
// callers at once are normal. The layout is seeded from config.json in the
// same directory. It is a test tool: the provider never imports it.
package gdsemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Files under the root directory.
const (
	ConfigFile = "config.json" // the layout (Config)
	StateFile  = "state.json"  // the live state, created from the config
	LockFile   = "state.lock"  // flock'ed around every state access
	CallsFile  = "calls.log"   // one line per invocation
	FaultsFile = "faults.json" // injected faults ([]Fault)
	ClockFile  = "clock"       // optional: the emulator's "now" (RFC 3339)
)

// Environment variables the emulator reads.
const (
	EnvRoot        = "GDSEMU_ROOT"         // root directory (required)
	EnvNode        = "GDSEMU_NODE"         // the node the command runs on (default: first node)
	EnvNow         = "GDSEMU_NOW"          // fixed "now", RFC 3339 (overrides the clock file)
	EnvCopyRate    = "GDSEMU_COPY_RATE"    // copy rate in MB/s (overrides the config)
	EnvFault       = "GDSEMU_FAULT"        // "sdxproxy Part[;sdxinfo]": make these fail
	EnvRequireRoot = "GDSEMU_REQUIRE_ROOT" // "1": refuse non-root callers, like the real commands
	EnvSeed        = "GDSEMU_SEED"         // row shuffle seed (default: random)
)

// Config is the layout config.json describes.
type Config struct {
	// Nodes of the cluster; the first one is the default current node.
	Nodes []string `json:"nodes"`
	// CopyRateMBps is the equivalency copy speed in MB/s (default 100).
	CopyRateMBps float64 `json:"copy_rate_mb_per_s,omitempty"`
	// JRMRejoinPercent is the share of a volume a Rejoin copies when JRM is
	// on (only changed blocks); a Rejoin without JRM copies everything.
	// Default 10.
	JRMRejoinPercent float64       `json:"jrm_rejoin_percent,omitempty"`
	Classes          []ClassConfig `json:"classes"`
}

// ClassConfig is one disk class.
type ClassConfig struct {
	Name   string        `json:"name"`
	Type   string        `json:"type,omitempty"`  // "local" (default) or "shared"
	Scope  []string      `json:"scope,omitempty"` // nodes; default all nodes (shared) or the first (local)
	Groups []GroupConfig `json:"groups"`
}

// GroupConfig is one group with its disks and volumes.
type GroupConfig struct {
	Name    string         `json:"name"`
	Type    string         `json:"type,omitempty"` // mirror (default), single, concat, stripe
	Disks   []string       `json:"disks"`
	DiskMB  int64          `json:"disk_mb,omitempty"` // size of each disk, default 8192
	Volumes []VolumeConfig `json:"volumes,omitempty"`
}

// VolumeConfig is one volume.
type VolumeConfig struct {
	Name   string `json:"name"`
	SizeMB int64  `json:"size_mb"`
	// Stopped leaves the volume stopped; by default it is started on every
	// node of the class scope.
	Stopped bool `json:"stopped,omitempty"`
	// JRM defaults to on.
	JRM *bool `json:"jrm,omitempty"`
}

// Setup writes cfg into root and (re)creates the state from it, clearing the
// call log and faults. root is created when missing.
func Setup(root string, cfg Config) error {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	st, err := newState(cfg)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(root, ConfigFile), b); err != nil {
		return err
	}
	unlock, err := lock(root)
	if err != nil {
		return err
	}
	defer unlock()
	for _, f := range []string{CallsFile, FaultsFile} {
		if err := os.Remove(filepath.Join(root, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return st.save(root)
}

func loadConfig(root string) (Config, error) {
	var cfg Config
	b, err := os.ReadFile(filepath.Join(root, ConfigFile))
	if err != nil {
		return cfg, fmt.Errorf("emulator config: %w", err)
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return cfg, fmt.Errorf("emulator config %s: %w", filepath.Join(root, ConfigFile), err)
	}
	return cfg, nil
}

func writeAtomic(path string, b []byte) error {
	tmp := fmt.Sprintf("%s.tmp.%d", path, os.Getpid())
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
