package provider

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/kcpsemu"
)

// terraform is killed (SIGKILL, provider included) while the snapshot job
// runs; the next apply adopts the running snapshot instead of starting a
// second one.
func TestAccKCPSVolumeSnapshot_interruptedCreateAdopted(t *testing.T) {
	testAccPreCheck(t)
	const scale = 0.01 // a 10 GB snapshot takes 10.8 s
	srv := startKCPSEmu(t, scale)
	vol := kcpsemu.DemoVolDetached
	dir := t.TempDir()
	tf := newTerraformCLI(t, dir)
	cfg := `
terraform {
  required_providers {
    backupctl = { source = "backupctl/backupctl" }
  }
}
` + kcpsProviderBlock(srv) + fmt.Sprintf(`
resource "backupctl_kcps_volume_snapshot" "v" {
  volume_id     = %q
  trigger       = "first"
  force_destroy = true
}
`, vol)
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{envKCPSPollScale + "=0.01"}

	cmd := exec.Command(os.Getenv("TF_ACC_TERRAFORM_PATH"), "-chdir="+dir, "apply", "-auto-approve", "-no-color")
	cmd.Env = append(append(os.Environ(), tf.env...), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for srv.Calls("createSnapshot") == 0 {
		if time.Now().After(deadline) {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			_ = cmd.Wait()
			t.Fatalf("the snapshot never started:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // well inside the 10.8 s job
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	ss := srv.Snapshots(vol)
	if len(ss) != 1 || (ss[0].State != "Creating" && ss[0].State != "BackingUp") {
		t.Fatalf("want one snapshot in progress after the kill: %+v", ss)
	}
	running := ss[0].ID

	tf.run(t, env, "apply", "-auto-approve")
	if n := srv.Calls("createSnapshot"); n != 1 {
		t.Fatalf("createSnapshot sent %d times: the interrupted snapshot was not adopted", n)
	}
	ss = srv.Snapshots(vol)
	if len(ss) != 1 || ss[0].ID != running || ss[0].State != "BackedUp" {
		t.Fatalf("want the adopted snapshot BackedUp: %+v", ss)
	}
	var state struct {
		Values struct {
			RootModule struct {
				Resources []struct {
					Values struct {
						Generations []struct {
							ID, Trigger string
						} `json:"generations"`
						Latest string `json:"latest_snapshot_id"`
					} `json:"values"`
				} `json:"resources"`
			} `json:"root_module"`
		} `json:"values"`
	}
	if err := json.Unmarshal(tf.run(t, env, "show", "-json"), &state); err != nil {
		t.Fatal(err)
	}
	rs := state.Values.RootModule.Resources
	if len(rs) != 1 || len(rs[0].Values.Generations) != 1 || rs[0].Values.Generations[0].ID != running ||
		rs[0].Values.Generations[0].Trigger != "first" || rs[0].Values.Latest != running {
		t.Fatalf("state %+v", rs)
	}
	tf.run(t, env, "plan", "-detailed-exitcode") // exit 0: nothing left to do
	tf.run(t, env, "destroy", "-auto-approve")
	if ss := srv.Snapshots(vol); len(ss) != 0 {
		t.Fatalf("left %+v", ss)
	}
}
