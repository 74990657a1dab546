package provider

import (
	"fmt"
	"os"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/backupctl/terraform-provider-backupctl/internal/sshdtest"
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
