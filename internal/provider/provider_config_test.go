package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

func TestValidateAddress(t *testing.T) {
	good := []string{"192.0.2.11", "gds1.example.jp", "gds1", "127.0.0.1:2222", "[2001:db8::1]:22", "2001:db8::1", "host-a.b-c.jp:65535"}
	bad := []string{"", "ssh://host", "root@host", "host:0", "host:70000", "host:ssh", "ho st", "-bad.example", "a..b", "host/path", "[::1]:", ":22"}
	for _, a := range good {
		if err := validateAddress(a); err != nil {
			t.Errorf("validateAddress(%q) = %v, want nil", a, err)
		}
	}
	for _, a := range bad {
		if err := validateAddress(a); err == nil {
			t.Errorf("validateAddress(%q) = nil, want an error", a)
		}
	}
}

// Plan-time errors of the provider block, each naming its attribute.
func TestAccProviderConfig_invalid(t *testing.T) {
	testAccPreCheck(t)
	t.Setenv("SSH_AUTH_SOCK", "")
	key := testKey(t)
	cases := []struct {
		name, hosts, kcps string
		want              string
	}{
		{"reserved local", `local = { address = "192.0.2.1", password = "x" }`, "", `hosts\["local"\][\s\S]*reserved`},
		{"reserved localhost", `localhost = { address = "192.0.2.1", password = "x" }`, "", `hosts\["localhost"\][\s\S]*reserved`},
		{"bad name", `"9lives" = { address = "192.0.2.1", password = "x" }`, "", `Invalid host name`},
		{"scheme in address", `a = { address = "ssh://192.0.2.1", password = "x" }`, "", `hosts\["a"\].address[\s\S]*no scheme`},
		{"bad port", `a = { address = "192.0.2.1:99999", password = "x" }`, "", `hosts\["a"\].address[\s\S]*port must be`},
		{"user in address", `a = { address = "root@192.0.2.1", password = "x" }`, "", `hosts\["a"\].address`},
		{"no auth", `a = { address = "192.0.2.1" }`, "", `No way to authenticate \(hosts\["a"\]\)`},
		{"bad key", `a = { address = "192.0.2.1", private_key = "not a key" }`, "", `hosts\["a"\].private_key[\s\S]*could not be parsed`},
		{"bad host_key", `a = { address = "192.0.2.1", password = "x", host_key = "ssh-ed25519 zzz" }`, "", `hosts\["a"\].host_key`},
		{"both host key sources", fmt.Sprintf(`a = { address = "192.0.2.1", private_key = %q, host_key = %q, known_hosts_file = "/tmp/kh" }`, key.priv, key.pub), "", `Conflicting host key settings`},
		{"bad env name", `a = { address = "192.0.2.1", password = "x", env = { "1X" = "y" } }`, "", `hosts\["a"\].env\["1X"\]`},
		{"bad user", `a = { address = "192.0.2.1", password = "x", user = "a b" }`, "", `hosts\["a"\].user`},
		{"bad endpoint", "", `endpoint = "kcps.example/client/api"`, `kcps.endpoint[\s\S]*must be an http\(s\) URL`},
		{"empty api key", "", `api_key = ""`, `kcps.api_key`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := transport.Total(transport.Snapshot().Commands)
			cfg := "provider \"backupctl\" {\n"
			if c.hosts != "" {
				cfg += "  hosts = {\n    " + c.hosts + "\n  }\n"
			}
			if c.kcps != "" {
				cfg += "  kcps = { " + c.kcps + " }\n"
			}
			cfg += "}\ndata \"backupctl_host\" \"x\" {}\n"
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories,
				Steps: []resource.TestStep{{
					Config:      cfg,
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(c.want),
				}},
			})
			if after := transport.Total(transport.Snapshot().Commands); after != before {
				t.Errorf("%d commands ran for an invalid configuration; want none", after-before)
			}
		})
	}
}
