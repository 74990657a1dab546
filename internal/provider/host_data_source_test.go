package provider

import (
	"fmt"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/backupctl/terraform-provider-backupctl/internal/sshdtest"
	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

func TestAccHostDataSource_local(t *testing.T) {
	testAccPreCheck(t)
	hostname, _ := os.Hostname()
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{{
			Config: `data "backupctl_host" "this" {}`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.backupctl_host.this", tfjsonpath.New("id"), knownvalue.StringExact("local")),
				statecheck.ExpectKnownValue("data.backupctl_host.this", tfjsonpath.New("hostname"), knownvalue.StringExact(hostname)),
				statecheck.ExpectKnownValue("data.backupctl_host.this", tfjsonpath.New("os"), knownvalue.StringRegexp(regexp.MustCompile(`^Linux`))),
				statecheck.ExpectKnownValue("data.backupctl_host.this", tfjsonpath.New("tools").AtMapKey("tar"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue("data.backupctl_host.this", tfjsonpath.New("tools").AtMapKey("sdxinfo"), knownvalue.Bool(false)),
			},
		}},
	})
}

// sshHostConfig is a provider block with one host "box" on the test sshd.
func sshHostConfig(s *sshdtest.Server, extra string) string {
	return fmt.Sprintf(`
provider "backupctl" {
  hosts = {
    box = {
      address          = %q
      user             = %q
      private_key      = %q
      known_hosts_file = %q
      %s
    }
  }
}
`, s.Addr, s.User, s.ClientKey, s.KnownHostsFile, extra)
}

func TestAccHostDataSource_ssh(t *testing.T) {
	testAccPreCheck(t)
	s := sshdtest.StartT(t)
	hostname, _ := os.Hostname()
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{{
			Config: sshHostConfig(s, `env = { PATH = "/usr/sbin:/usr/bin:/sbin:/bin" }`) + `
data "backupctl_host" "box" { host = "box" }
`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.backupctl_host.box", tfjsonpath.New("id"), knownvalue.StringExact("box")),
				statecheck.ExpectKnownValue("data.backupctl_host.box", tfjsonpath.New("hostname"), knownvalue.StringExact(hostname)),
				statecheck.ExpectKnownValue("data.backupctl_host.box", tfjsonpath.New("user"), knownvalue.StringExact(s.User)),
				statecheck.ExpectKnownValue("data.backupctl_host.box", tfjsonpath.New("tools").AtMapKey("tar"), knownvalue.Bool(true)),
			},
		}},
	})
}

func TestAccHostDataSource_badHostKey(t *testing.T) {
	testAccPreCheck(t)
	s := sshdtest.StartT(t)
	other := sshdtest.StartT(t) // a different server key for the same address
	bad := fmt.Sprintf(`host_key = %q`, other.HostKey)
	cfg := fmt.Sprintf(`
provider "backupctl" {
  hosts = {
    box = {
      address     = %q
      user        = %q
      private_key = %q
      %s
    }
  }
}
data "backupctl_host" "box" { host = "box" }
`, s.Addr, s.User, s.ClientKey, bad)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{{
			Config:      cfg,
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)host "box".*host key mismatch.*SHA256:`),
		}},
	})
}

func TestAccHostDataSource_unknownHost(t *testing.T) {
	testAccPreCheck(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{{
			Config:      `data "backupctl_host" "x" { host = "nowhere" }`,
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`Host "nowhere" is not defined`),
		}},
	})
}

// connect_early = false: Configure leaves the host alone, where a host with
// the default is logged in to ahead of use. Nothing here uses either host.
func TestAccProvider_connectEarlyFalse(t *testing.T) {
	testAccPreCheck(t)
	s := sshdtest.StartT(t)
	host := func(name, extra string) string {
		return fmt.Sprintf("    %s = {\n      address = %q\n      user = %q\n      private_key = %q\n      known_hosts_file = %q\n      %s\n    }\n",
			name, s.Addr, s.User, s.ClientKey, s.KnownHostsFile, extra)
	}
	lazy, eager := "lazyhost", "eagerhost"
	before := transport.Snapshot()
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{{
			Config: "provider \"backupctl\" {\n  hosts = {\n" + host(lazy, "connect_early = false") + host(eager, "") + "  }\n}\n" +
				`data "backupctl_host" "this" {}`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.backupctl_host.this", tfjsonpath.New("id"), knownvalue.StringExact("local")),
			},
		}},
	})
	deadline := time.Now().Add(20 * time.Second)
	for transport.Snapshot().Warm[eager] == before.Warm[eager] && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	after := transport.Snapshot()
	if after.Warm[eager] == before.Warm[eager] {
		t.Errorf("host %s (connect_early unset) was never connected ahead of use", eager)
	}
	if d := after.Dials[lazy] - before.Dials[lazy]; d != 0 {
		t.Errorf("host %s (connect_early = false) was connected %d times by a configuration that does not use it", lazy, d)
	}
}

// A host whose address (or env) is not known at plan time, because it
// comes from a resource still to be created, is not reached with an empty
// value (which would be this machine): reading it fails, naming the host
// and the setting, and no command runs anywhere.
func TestAccHostDataSource_addressUnknownAtPlan(t *testing.T) {
	testAccPreCheck(t)
	for _, c := range []struct{ name, host, want string }{
		{"address", `address = terraform_data.later.output
      password = "x"`, `(?s)host "gds1" cannot be reached yet: the value of its address is known\s+only\s+during\s+apply`},
		{"env", `address = "192.0.2.11"
      password = "x"
      env = { GDSEMU_ROOT = terraform_data.later.output }`, `(?s)host "gds1" cannot be reached yet: the value of its env is known\s+only\s+during\s+apply`},
	} {
		t.Run(c.name, func(t *testing.T) {
			planRefusedNoCommands(t, fmt.Sprintf(`
resource "terraform_data" "later" {
  input = "192.0.2.11"
}
provider "backupctl" {
  hosts = {
    gds1 = {
      %s
    }
  }
}
data "backupctl_host" "gds1" {
  host = "gds1"
}
`, c.host), c.want)
		})
	}
}

// The whole hosts map, or the kcps block, not known at plan time: the plan
// neither fails on a conversion error nor reaches anything; what needs a
// host or KCPS says it cannot yet, naming it.
func TestAccProvider_settingsUnknownAtPlan(t *testing.T) {
	testAccPreCheck(t)
	t.Setenv("BACKUPCTL_KCPS_ENDPOINT", "http://127.0.0.1:9/client/api") // must not stand in for the kcps block
	for _, c := range []struct{ name, provider, use, want string }{
		{"hosts", `hosts = { for n in terraform_data.later.output : n => { address = "192.0.2.11", password = "x" } }`,
			`data "backupctl_host" "gds1" {
  host = "gds1"
}`, `(?s)host "gds1" cannot be reached yet: the provider's hosts are known\s+only\s+during\s+apply`},
		{"kcps", `kcps = { endpoint = terraform_data.later.output[0], api_key = "k", secret_key = "s" }`,
			`data "backupctl_kcps_snapshots" "v" {
  volume_id = "9e5f6071-0000-4000-8000-000000000902"
}`, `(?s)KCPS cannot be called yet: kcps.endpoint known only during apply`},
	} {
		t.Run(c.name, func(t *testing.T) {
			planRefusedNoCommands(t, fmt.Sprintf(`
resource "terraform_data" "later" {
  input = ["gds1"]
}
provider "backupctl" {
  %s
}
%s
`, c.provider, c.use), c.want)
		})
	}
}

// planRefusedNoCommands plans config, which must fail matching want, and
// checks that no command ran on any host meanwhile.
func planRefusedNoCommands(t *testing.T, config, want string) {
	t.Helper()
	before := transport.Total(transport.Snapshot().Commands)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps:                    []resource.TestStep{{Config: config, PlanOnly: true, ExpectError: regexp.MustCompile(want)}},
	})
	if n := transport.Total(transport.Snapshot().Commands) - before; n != 0 {
		t.Fatalf("%d commands ran for a plan that was refused", n)
	}
}
