package provider

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/backupctl/terraform-provider-backupctl/internal/sshdtest"
)

// TestAccSecretsNeverLeak runs the real terraform CLI against the built
// provider with TF_LOG=trace and searches the log, the state and the JSON
// plan for every configured secret.
func TestAccSecretsNeverLeak(t *testing.T) {
	testAccPreCheck(t)
	s := sshdtest.StartT(t)
	dir := t.TempDir()
	tf := newTerraformCLI(t, dir)

	keyFile := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(keyFile, []byte(s.ClientKey), 0o600); err != nil {
		t.Fatal(err)
	}
	const password = "Pw-5ecret-never-shown-41"
	const kcpsSecret = "kcps-SECRET-never-shown-77"
	cfg := fmt.Sprintf(`
terraform {
  required_providers {
    backupctl = { source = "backupctl/backupctl" }
  }
}
provider "backupctl" {
  hosts = {
    box = {
      address          = %q
      user             = %q
      private_key      = file(%q)
      password         = %q
      known_hosts_file = %q
    }
  }
  kcps = {
    endpoint   = "http://127.0.0.1:9/client/api"
    api_key    = "public-api-key"
  }
}
data "backupctl_host" "box" { host = "box" }
output "hostname" { value = data.backupctl_host.box.hostname }
`, s.Addr, s.User, keyFile, password, s.KnownHostsFile)
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(dir, "trace.log")
	// The KCPS secret comes the documented way, from the environment (a literal
	// in the configuration would be shown by terraform itself in "show -json").
	env := []string{"TF_LOG=trace", "TF_LOG_PATH=" + logFile, envKCPSSecretKey + "=" + kcpsSecret}
	tf.run(t, env, "apply", "-auto-approve")
	tf.run(t, env, "plan", "-out=plan.bin")
	planJSON := tf.run(t, env, "show", "-json", "plan.bin")
	tf.run(t, env, "destroy", "-auto-approve")

	logData, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	// The log must really hold the provider's trace: otherwise the search
	// below proves nothing.
	if !bytes.Contains(logData, []byte("uname -n")) || !bytes.Contains(logData, []byte(`"host":"box"`)) && !bytes.Contains(logData, []byte(`host=box`)) {
		t.Fatalf("trace log does not contain backupctl's command log; cannot check secrets (%d bytes)", len(logData))
	}
	state, err := os.ReadFile(filepath.Join(dir, "terraform.tfstate"))
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{"password": password, "kcps secret_key": kcpsSecret}
	for i, line := range strings.Split(strings.TrimSpace(s.ClientKey), "\n") {
		if !strings.HasPrefix(line, "-----") && len(line) >= 16 {
			secrets[fmt.Sprintf("private key line %d", i)] = line
		}
	}
	for where, data := range map[string][]byte{"TF_LOG=trace log": logData, "state": state, "plan JSON": planJSON} {
		for name, sec := range secrets {
			if bytes.Contains(data, []byte(sec)) {
				t.Errorf("%s found in the %s", name, where)
			}
		}
	}
}

// terraformCLI runs the terraform binary against this provider, built once
// per test into dir and installed through a dev override (offline).
type terraformCLI struct {
	dir string
	env []string
}

func newTerraformCLI(t *testing.T, dir string) terraformCLI {
	t.Helper()
	bin := filepath.Join(dir, "bin")
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "terraform-provider-backupctl"), "../..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	rc := filepath.Join(dir, "terraformrc")
	conf := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    \"backupctl/backupctl\" = %q\n  }\n  direct {}\n}\n", bin)
	if err := os.WriteFile(rc, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return terraformCLI{dir: dir, env: []string{"TF_CLI_CONFIG_FILE=" + rc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1"}}
}

func (c terraformCLI) run(t *testing.T, env []string, args ...string) []byte {
	t.Helper()
	tfPath := os.Getenv("TF_ACC_TERRAFORM_PATH")
	cmd := exec.Command(tfPath, append([]string{"-chdir=" + c.dir}, append(args, "-no-color")...)...)
	if args[0] == "show" {
		cmd = exec.Command(tfPath, append([]string{"-chdir=" + c.dir}, args...)...)
	}
	cmd.Env = append(append(os.Environ(), c.env...), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("terraform %s: %v\n%s\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.Bytes()
}
