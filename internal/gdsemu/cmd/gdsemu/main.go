// Command gdsemu is the GDS Snapshot command emulator (see package gdsemu).
// Link it as sdxproxy, sdxinfo and sdxvolume, or run "gdsemu sdxinfo ...".
package main

import (
	"os"

	"github.com/backupctl/terraform-provider-backupctl/internal/gdsemu"
)

func main() {
	os.Exit(gdsemu.Main(os.Args, gdsemu.Env{}))
}
