package provider

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/backupctl/terraform-provider-backupctl/internal/dbdump/dbtest"
	"github.com/backupctl/terraform-provider-backupctl/internal/kcpsemu"
	"github.com/backupctl/terraform-provider-backupctl/internal/sshdtest"
)

// TestAccSecretHygiene_allKinds runs one apply, plan and destroy through
// the real terraform CLI with TF_LOG=trace, with every kind of secret the
// provider takes in use at once: the KCPS secret key (from
// BACKUPCTL_KCPS_SECRET_KEY, signing real calls to the emulator), an SSH
// private key and an SSH password (each logging in to the loopback sshd and
// running commands), and a database password (a real pg_dump of a
// throwaway PostgreSQL). None of them may appear in the log, the state or
// the JSON plan; the log must hold the provider's own command and API
// lines, or the search would prove nothing.
func TestAccSecretHygiene_allKinds(t *testing.T) {
	testAccPreCheck(t)
	s := sshdtest.StartT(t, sshdtest.WithPassword())
	pg := dbtest.StartPostgresT(t)
	kcpsSecret := "kcps-secret-" + randomHex(t, 12)
	srv := startKCPSEmu(t, kcpsTestScale, func(c *kcpsemu.Config) {
		for i := range c.Accounts {
			if c.Accounts[i].APIKey == kcpsemu.DemoAPIKey {
				c.Accounts[i].SecretKey = kcpsSecret
			}
		}
	})
	dir := t.TempDir()
	tf := newTerraformCLI(t, dir)
	keyFile := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(keyFile, []byte(s.ClientKey), 0o600); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "data")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "settings.conf"), []byte("mode=rs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`
terraform {
  required_providers {
    backupctl = { source = "backupctl/backupctl" }
  }
}

variable "ssh_password" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "db_password" {
  type      = string
  sensitive = true
  ephemeral = true
}

provider "backupctl" {
  hosts = {
    keybox = {
      address          = %[1]q
      user             = %[2]q
      private_key      = file(%[3]q)
      known_hosts_file = %[4]q
    }
    pwbox = {
      address          = %[1]q
      user             = %[5]q
      password         = var.ssh_password
      known_hosts_file = %[4]q
    }
  }
  kcps = {
    endpoint = %[6]q
    api_key  = %[7]q
  }
}

data "backupctl_host" "key" { host = "keybox" }
data "backupctl_host" "pw" { host = "pwbox" }

resource "backupctl_kcps_volume_snapshot" "v" {
  volume_id     = %[8]q
  keep          = 2
  trigger       = "first"
  force_destroy = true
}

resource "backupctl_backup_policy" "rs" {
  host  = "keybox"
  paths = [%[9]q]
  stop  = ["true"]
  database = {
    engine    = "postgresql"
    host      = "127.0.0.1"
    port      = %[10]d
    user      = %[11]q
    password  = var.db_password
    bin_dir   = %[12]q
  }
  destination   = { path = %[13]q }
  keep          = 2
  force_destroy = true
}

output "hostnames" {
  value = [data.backupctl_host.key.hostname, data.backupctl_host.pw.hostname]
}
`, s.Addr, s.User, keyFile, s.KnownHostsFile, s.PasswordUser, srv.Endpoint, kcpsemu.DemoAPIKey,
		kcpsemu.DemoVolDetached, src, pg.Port, pg.User, pg.BinDir, filepath.Join(dir, "rs"))
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	logFile := filepath.Join(dir, "trace.log")
	env := []string{"TF_LOG=trace", "TF_LOG_PATH=" + logFile,
		envKCPSSecretKey + "=" + kcpsSecret, envKCPSPollScale + "=" + fmt.Sprint(kcpsTestScale),
		"TF_VAR_ssh_password=" + s.ClientPassword, "TF_VAR_db_password=" + pg.Password}
	tf.run(t, env, "apply", "-auto-approve")
	state, err := os.ReadFile(filepath.Join(dir, "terraform.tfstate"))
	if err != nil {
		t.Fatal(err)
	}
	tf.run(t, env, "plan", "-out=plan.bin")
	planJSON := tf.run(t, env, "show", "-json", "plan.bin")
	stateJSON := tf.run(t, env, "show", "-json")
	tf.run(t, env, "destroy", "-auto-approve")
	logData, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}

	// The work really happened, with every credential.
	if n := srv.Calls("createSnapshot"); n != 1 {
		t.Fatalf("createSnapshot called %d times; the KCPS secret was not used", n)
	}
	if srv.AuthFailures() != 0 {
		t.Fatalf("%d KCPS requests failed their signature check", srv.AuthFailures())
	}
	for _, want := range []string{`"hostnames"`, `"backupctl_backup_policy"`, `postgresql`} {
		if !bytes.Contains(stateJSON, []byte(want)) {
			t.Fatalf("state lacks %s:\n%s", want, stateJSON)
		}
	}
	// The log holds the provider's trace of each kind of work: commands on
	// both SSH hosts, the database dump, and the KCPS snapshot job.
	for _, marker := range []string{"uname", "host=pwbox", "host=keybox", "backup step", "postgresql dump", "@module=backupctl.kcps", "started (job"} {
		if !bytes.Contains(logData, []byte(marker)) {
			t.Fatalf("the TF_LOG=trace log lacks %q: it does not hold backupctl's command and API log, so the search proves nothing (%d bytes)", marker, len(logData))
		}
	}

	secrets := map[string]string{
		"KCPS secret key":   kcpsSecret,
		"SSH password":      s.ClientPassword,
		"database password": pg.Password,
	}
	for i, line := range strings.Split(strings.TrimSpace(s.ClientKey), "\n") {
		if !strings.HasPrefix(line, "-----") && len(line) >= 16 {
			secrets[fmt.Sprintf("SSH private key line %d", i+1)] = line
		}
	}
	backup, _ := os.ReadFile(filepath.Join(dir, "terraform.tfstate.backup"))
	places := map[string][]byte{"TF_LOG=trace log": logData, "state file": state, "state backup": backup,
		"plan JSON": planJSON, "state JSON": stateJSON}
	hits := 0
	for where, data := range places {
		for name, secret := range secrets {
			if bytes.Contains(data, []byte(secret)) {
				hits++
				t.Errorf("the %s is in the %s", name, where)
			}
		}
	}
	t.Logf("secret hygiene: %d secrets searched in %d places (%d bytes of trace log): %d hits", len(secrets), len(places), len(logData), hits)
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
