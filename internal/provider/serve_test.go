package provider

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/backupctl/terraform-provider-backupctl/internal/gdsemu"
)

// Through Serve, as main serves the provider, with the logs off: a plan
// that finds nothing to do is answered by the wire layer (every one of
// the four calls, after really asking sdxinfo); a pair parted out of band
// is still planned back to "joined", and an apply converges.
func TestServeWireLayerThroughTerraform(t *testing.T) {
	testAccPreCheck(t)
	emu := gdsemu.StartT(t, gdsAccLayout())
	t.Setenv("PATH", emu.BinDir+":"+os.Getenv("PATH"))
	t.Setenv(gdsemu.EnvRoot, emu.Root)
	tf := startServedQuiet(t)
	dir := t.TempDir()
	cfg := requireBackupctl + `
resource "backupctl_gds_proxy_pair" "p" {
  class     = "Class1"
  master    = "Volume1"
  proxy     = "Volume2"
  all_nodes = true
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	tf.mustRun(t, dir, "init", "-input=false", "-no-color")
	tf.mustRun(t, dir, "apply", "-input=false", "-auto-approve", "-no-color")

	s := tf.ours
	wire0, reads0, infos0 := s.fast.wire.Load(), s.fast.reads.Load(), emu.Count("sdxinfo", "")
	if code, _ := tf.run(t, dir, "plan", "-input=false", "-detailed-exitcode", "-no-color"); code != 0 {
		t.Fatalf("plan after apply exited %d, want 0 (no changes)", code)
	}
	// Upgrade, read, validate and plan of the one pair, at least.
	if got := s.fast.wire.Load() - wire0; got < 4 {
		t.Errorf("wire layer answered %d calls of the no-change plan, want at least 4", got)
	}
	if s.fast.reads.Load() == reads0 {
		t.Error("the no-change plan's refresh was not answered by the fast path")
	}
	if emu.Count("sdxinfo", "") == infos0 {
		t.Error("the no-change plan did not run sdxinfo")
	}

	emu.MustRun(t, "sdxproxy", "Part", "-c", "Class1", "-p", "Volume2")
	out := tf.output(t, dir, 2, "plan", "-input=false", "-detailed-exitcode", "-no-color")
	if !strings.Contains(out, `~ state`) || !strings.Contains(out, `"parted" -> "joined"`) {
		t.Errorf("plan after an out-of-band Part does not show parted -> joined:\n%s", out)
	}
	tf.mustRun(t, dir, "apply", "-input=false", "-auto-approve", "-no-color")
	if code, _ := tf.run(t, dir, "plan", "-input=false", "-detailed-exitcode", "-no-color"); code != 0 {
		t.Fatalf("plan after the rejoin exited %d, want 0", code)
	}
}

// requireBackupctl is the terraform block of a configuration run by the
// terraform CLI itself (not the testing framework, which writes its own).
const requireBackupctl = "terraform {\n  required_providers {\n    backupctl = { source = \"backupctl/backupctl\" }\n  }\n}\n"

// startServedQuiet serves the provider as main does, with every log off:
// Terraform's own log variables are cleared for the test, since a
// developer's TF_LOG would send every call the ordinary way.
func startServedQuiet(t *testing.T) *tfRunner {
	t.Helper()
	for _, v := range []string{"TF_LOG", "TF_LOG_PATH", "TF_LOG_CORE"} {
		t.Setenv(v, "")
	}
	return startReattachedProvider(t)
}
