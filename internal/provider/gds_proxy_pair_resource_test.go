package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/backupctl/terraform-provider-backupctl/internal/gdsemu"
	"github.com/backupctl/terraform-provider-backupctl/internal/sshdtest"
)

// gdsAccLayout: 100 MB volumes copied at 400 MB/s, so that a Join copy
// takes a quarter second of real time.
func gdsAccLayout() gdsemu.Config {
	return gdsemu.Config{
		Nodes:        []string{"node1", "node2"},
		CopyRateMBps: 400,
		Classes: []gdsemu.ClassConfig{{
			Name: "Class1", Type: "shared",
			Groups: []gdsemu.GroupConfig{
				{Name: "Group1", Disks: []string{"Disk1", "Disk2"}, Volumes: []gdsemu.VolumeConfig{{Name: "Volume1", SizeMB: 100}, {Name: "Volume3", SizeMB: 100}}},
				{Name: "Group2", Disks: []string{"Disk3", "Disk4"}, Volumes: []gdsemu.VolumeConfig{{Name: "Volume2", SizeMB: 100}}},
				{Name: "Group3", Disks: []string{"Disk5", "Disk6"}},
			},
		}},
	}
}

// gdsAcc is one emulated GDS host reachable by the provider.
type gdsAcc struct {
	emu      *gdsemu.Emu
	host     string // host name in configurations
	provider string // provider block
}

// gdsAccLocal: host "local"; the test process's PATH and GDSEMU_ROOT reach
// the emulator (the local host has no env of its own).
func gdsAccLocal(t *testing.T) *gdsAcc {
	emu := gdsemu.StartT(t, gdsAccLayout())
	t.Setenv("PATH", emu.BinDir+":"+os.Getenv("PATH"))
	t.Setenv(gdsemu.EnvRoot, emu.Root)
	return &gdsAcc{emu: emu, host: "local", provider: "provider \"backupctl\" {}\n"}
}

// gdsAccSSH: host "gds1" on the loopback sshd; PATH and GDSEMU_ROOT go in
// the host's env, applied inside the remote command line.
func gdsAccSSH(t *testing.T) *gdsAcc {
	emu := gdsemu.StartT(t, gdsAccLayout())
	s := sshdtest.StartT(t)
	env := emu.HostEnv()
	return &gdsAcc{emu: emu, host: "gds1", provider: fmt.Sprintf(`
provider "backupctl" {
  hosts = {
    gds1 = {
      address          = %q
      user             = %q
      private_key      = %q
      known_hosts_file = %q
      env = {
        PATH        = %q
        GDSEMU_ROOT = %q
      }
    }
  }
}
`, s.Addr, s.User, s.ClientKey, s.KnownHostsFile, env["PATH"], env[gdsemu.EnvRoot])}
}

func (a *gdsAcc) config(body string) string {
	return a.provider + fmt.Sprintf("resource \"backupctl_gds_proxy_pair\" \"p\" {\n  host = %q\n%s}\n", a.host, body)
}

// log is a file the quiesce commands append to: the emulator's call log,
// so that their order relative to the sdx commands shows.
func (a *gdsAcc) log() string { return filepath.Join(a.emu.Root, gdsemu.CallsFile) }

func (a *gdsAcc) quiesce() string {
	l := a.log()
	return fmt.Sprintf(`  quiesce = {
    before = ["echo quiesce-before-1 >> %s", "echo quiesce-before-2 >> %s"]
    after  = ["echo quiesce-after-1 >> %s", "echo quiesce-after-2 >> %s"]
  }
`, l, l, l, l)
}

// changes lists the recorded calls other than sdxinfo (and the quiesce
// markers), oldest first.
func (a *gdsAcc) changes() []string {
	var out []string
	for _, c := range a.emu.Calls() {
		if !strings.HasPrefix(c, "sdxinfo") {
			out = append(out, c)
		}
	}
	return out
}

func (a *gdsAcc) count(op string) int { return a.emu.Count("sdxproxy", op) }

func checkCount(a *gdsAcc, op string, want int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if n := a.count(op); n != want {
			return fmt.Errorf("sdxproxy %s ran %d times, want %d; calls: %q", op, n, want, a.changes())
		}
		return nil
	}
}

const pairAddr = "backupctl_gds_proxy_pair.p"

func attrIs(name string, v knownvalue.Check) statecheck.StateCheck {
	return statecheck.ExpectKnownValue(pairAddr, tfjsonpath.New(name), v)
}

func TestAccGDSProxyPair_local(t *testing.T) {
	testAccPreCheck(t)
	testAccGDSProxyPairLifecycle(t, gdsAccLocal(t))
}

func TestAccGDSProxyPair_ssh(t *testing.T) {
	testAccPreCheck(t)
	testAccGDSProxyPairLifecycle(t, gdsAccSSH(t))
}

func testAccGDSProxyPairLifecycle(t *testing.T, a *gdsAcc) {
	base := "  class = \"Class1\"\n  master = \"Volume1\"\n  proxy = \"Volume2\"\n  all_nodes = true\n"
	partedAt := statecheck.CompareValue(compare.ValuesDiffer())
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			out, _, _ := a.emu.Run(nil, "sdxinfo", "-V", "-c", "Class1", "-o", "Volume2", "-e", "long")
			if strings.Contains(out, "Volume1 Join") || strings.Contains(out, "Volume1 Part") || regexp.MustCompile(`Volume1\s+(Join|Part)`).MatchString(out) {
				return fmt.Errorf("Volume2 still related after destroy:\n%s", out)
			}
			return checkCount(a, "Break", 1)(nil)
		},
		Steps: []resource.TestStep{
			{ // create joined: stop on all nodes, Join, wait for STOP
				Config: a.config(base),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(pairAddr, plancheck.ResourceActionCreate),
					plancheck.ExpectUnknownValue(pairAddr, tfjsonpath.New("copy_status")),
					plancheck.ExpectKnownValue(pairAddr, tfjsonpath.New("proxy_device"), knownvalue.StringExact("/dev/sfdsk/Class1/dsk/Volume2")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					attrIs("id", knownvalue.StringExact(a.host+"/Class1/Volume2")),
					attrIs("state", knownvalue.StringExact("joined")),
					attrIs("copy_status", knownvalue.StringExact("STOP")),
					attrIs("master_device", knownvalue.StringExact("/dev/sfdsk/Class1/dsk/Volume1")),
					attrIs("proxy_device", knownvalue.StringExact("/dev/sfdsk/Class1/dsk/Volume2")),
					attrIs("parted_at", knownvalue.Null()),
				},
				Check: resource.ComposeTestCheckFunc(checkCount(a, "Join", 1), func(*terraform.State) error {
					want := []string{"sdxvolume -F -c Class1 -v Volume2 -e allnodes", "sdxproxy Join -c Class1 -m Volume1 -p Volume2"}
					if got := a.changes(); strings.Join(got, "|") != strings.Join(want, "|") {
						return fmt.Errorf("commands %q, want %q", got, want)
					}
					return nil
				}),
			},
			{ // part, with quiesce around it
				Config: a.config(base + "  state = \"parted\"\n" + a.quiesce()),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(pairAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(pairAddr, tfjsonpath.New("state"), knownvalue.StringExact("parted")),
					plancheck.ExpectUnknownValue(pairAddr, tfjsonpath.New("parted_at")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					attrIs("state", knownvalue.StringExact("parted")),
					attrIs("copy_status", knownvalue.StringExact("ACTIVE")),
					attrIs("parted_at", knownvalue.StringRegexp(regexp.MustCompile(`^\d{4}-\d\d-\d\dT`))),
					partedAt.AddStateValue(pairAddr, tfjsonpath.New("parted_at")),
				},
				Check: func(*terraform.State) error {
					got := a.changes()
					want := []string{"quiesce-before-1", "quiesce-before-2", "sdxproxy Part -c Class1 -p Volume2", "quiesce-after-1", "quiesce-after-2"}
					if len(got) < 5 || strings.Join(got[len(got)-5:], "|") != strings.Join(want, "|") {
						return fmt.Errorf("order %q, want it to end with %q", got, want)
					}
					return nil
				},
			},
			{ // a first trigger is only recorded
				Config: a.config(base + "  state = \"parted\"\n  snapshot_trigger = \"t1\"\n" + a.quiesce()),
				Check:  resource.ComposeTestCheckFunc(checkCount(a, "Rejoin", 0), checkCount(a, "Part", 1)),
			},
			{ // a changed trigger while parted: stop, Rejoin, wait, quiesce, Part
				Config: a.config(base + "  state = \"parted\"\n  snapshot_trigger = \"t2\"\n" + a.quiesce()),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(pairAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(pairAddr, tfjsonpath.New("parted_at")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					attrIs("state", knownvalue.StringExact("parted")),
					partedAt.AddStateValue(pairAddr, tfjsonpath.New("parted_at")),
				},
				Check: resource.ComposeTestCheckFunc(checkCount(a, "Rejoin", 1), checkCount(a, "Part", 2), func(*terraform.State) error {
					got := a.changes()
					want := []string{"sdxvolume -F -c Class1 -v Volume2 -e allnodes", "sdxproxy Rejoin -c Class1 -p Volume2",
						"quiesce-before-1", "quiesce-before-2", "sdxproxy Part -c Class1 -p Volume2", "quiesce-after-1", "quiesce-after-2"}
					if len(got) < 7 || strings.Join(got[len(got)-7:], "|") != strings.Join(want, "|") {
						return fmt.Errorf("rotation order %q, want it to end with %q", got, want)
					}
					return nil
				}),
			},
			{ // rejoin
				Config: a.config(base + "  state = \"joined\"\n  snapshot_trigger = \"t2\"\n"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(pairAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					attrIs("state", knownvalue.StringExact("joined")),
					attrIs("copy_status", knownvalue.StringExact("STOP")),
					attrIs("parted_at", knownvalue.Null()),
				},
				Check: checkCount(a, "Rejoin", 2),
			},
			{ // import by host/class/proxy
				Config:                  a.config(base + "  state = \"joined\"\n  snapshot_trigger = \"t2\"\n"),
				ResourceName:            pairAddr,
				ImportState:             true,
				ImportStateId:           a.host + "/Class1/Volume2",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"all_nodes", "snapshot_trigger", "timeouts"},
			},
			{ // drift: parted out of band -> an update back to joined is planned
				PreConfig: func() {
					a.emu.MustRun(t, "sdxproxy", "Part", "-c", "Class1", "-p", "Volume2")
				},
				Config: a.config(base + "  state = \"joined\"\n  snapshot_trigger = \"t2\"\n"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(pairAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(pairAddr, tfjsonpath.New("state"), knownvalue.StringExact("joined")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{attrIs("state", knownvalue.StringExact("joined"))},
				Check:             checkCount(a, "Rejoin", 3),
			},
			{ // drift: broken out of band -> removed from state, create planned
				PreConfig: func() {
					a.emu.MustRun(t, "sdxproxy", "Break", "-c", "Class1", "-p", "Volume2")
				},
				Config: a.config(base + "  state = \"joined\"\n  snapshot_trigger = \"t2\"\n"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(pairAddr, plancheck.ResourceActionCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{attrIs("state", knownvalue.StringExact("joined"))},
				Check: func(*terraform.State) error {
					// the out-of-band Break counts too; destroy adds one more
					if err := checkCount(a, "Join", 2)(nil); err != nil {
						return err
					}
					return gdsemu.ResetCalls(a.emu.Root)
				},
			},
		},
	})
}

func TestAccGDSProxyPair_groupPair(t *testing.T) {
	testAccPreCheck(t)
	a := gdsAccLocal(t)
	body := `  class  = "Class1"
  master = "Group1"
  proxy  = "Group3"
  volume_map = {
    Volume1 = "Proxy1"
    Volume3 = "Proxy3"
  }
  all_nodes = true
  state     = "parted"
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: a.config(body),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(pairAddr, tfjsonpath.New("proxy_device"), knownvalue.Null()),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					attrIs("state", knownvalue.StringExact("parted")),
					attrIs("volume_map", knownvalue.MapExact(map[string]knownvalue.Check{
						"Volume1": knownvalue.StringExact("Proxy1"), "Volume3": knownvalue.StringExact("Proxy3")})),
					attrIs("master_device", knownvalue.Null()),
				},
				Check: func(*terraform.State) error {
					want := []string{"sdxproxy Join -c Class1 -m Group1 -p Group3 -a Volume1=Proxy1:on,Volume3=Proxy3:on",
						"sdxproxy Part -c Class1 -p Group3"}
					if got := a.changes(); strings.Join(got, "|") != strings.Join(want, "|") {
						return fmt.Errorf("commands %q, want %q", got, want)
					}
					return nil
				},
			},
			{
				Config:                  a.config(body),
				ResourceName:            pairAddr,
				ImportState:             true,
				ImportStateId:           "local/Class1/Group3",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"all_nodes", "parted_at", "timeouts"},
			},
		},
	})
}

// Bad input fails at plan, naming the attribute, before any command runs.
func TestAccGDSProxyPair_invalid(t *testing.T) {
	testAccPreCheck(t)
	a := gdsAccLocal(t)
	cases := []struct {
		name, body, want string
	}{
		{"bad class", `class = "Class 1"` + "\nmaster = \"Volume1\"\nproxy = \"Volume2\"\n", `(?s)Invalid GDS object name.*class`},
		{"bad master", `class = "Class1"` + "\nmaster = \"-Volume1\"\nproxy = \"Volume2\"\n", `(?s)Invalid GDS object name.*master`},
		{"long proxy", `class = "Class1"` + "\nmaster = \"Volume1\"\nproxy = \"" + strings.Repeat("v", 33) + "\"\n", `(?s)proxy.*longer than 32`},
		{"bad map key", `class = "Class1"` + "\nmaster = \"Group1\"\nproxy = \"Group3\"\nvolume_map = { \"a b\" = \"P1\" }\n", `(?s)Invalid GDS object name.*volume_map`},
		{"volume_map on a volume pair", `class = "Class1"` + "\nmaster = \"Volume1\"\nproxy = \"Volume2\"\nvolume_map = { Volume1 = \"Volume2\" }\n", `(?s)volume_map on a volume pair`},
		{"master is proxy", `class = "Class1"` + "\nmaster = \"Volume1\"\nproxy = \"Volume1\"\n", `(?s)Proxy equals master`},
		{"bad state", `class = "Class1"` + "\nmaster = \"Volume1\"\nproxy = \"Volume2\"\nstate = \"split\"\n", `(?s)state.*value must be one of`},
		{"empty quiesce command", `class = "Class1"` + "\nmaster = \"Volume1\"\nproxy = \"Volume2\"\nquiesce = { before = [\"\"] }\n", `(?s)quiesce.before`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { planRefusedNoCommands(t, a.config(c.body), c.want) })
	}
	t.Run("unknown host", func(t *testing.T) {
		planRefusedNoCommands(t, "resource \"backupctl_gds_proxy_pair\" \"p\" {\n  host = \"nowhere\"\n  class = \"Class1\"\n  master = \"Volume1\"\n  proxy = \"Volume2\"\n}\n",
			`(?s)Host "nowhere" is not defined.*host`)
	})
	if calls := a.emu.Calls(); len(calls) != 0 {
		t.Fatalf("the emulator was called: %q", calls)
	}
}

// A new pair GDS would refuse to Join is refused at plan time, from
// sdxinfo, naming the attribute; nothing is changed on the host.
func TestAccGDSProxyPair_joinRefusedAtPlan(t *testing.T) {
	testAccPreCheck(t)
	a := gdsAccLocal(t)
	a.emu.MustRun(t, "sdxvolume", "-F", "-c", "Class1", "-v", "Volume2", "-e", "allnodes")
	a.emu.MustRun(t, "sdxproxy", "Join", "-c", "Class1", "-m", "Volume1", "-p", "Volume2")
	for _, c := range []struct{ name, master, proxy, want string }{
		{"same group", "Volume1", "Volume3", `(?s)GDS would refuse the Join \(proxy\).*same\s+group\s+Group1.*No\s+change\s+was\s+made`},
		{"master is a proxy", "Volume2", "Volume3", `(?s)GDS would refuse the Join \(master\).*itself\s+a\s+proxy\s+of\s+Volume1`},
	} {
		t.Run(c.name, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories,
				Steps: []resource.TestStep{{
					Config:      a.config(fmt.Sprintf("  class = \"Class1\"\n  master = %q\n  proxy = %q\n  all_nodes = true\n", c.master, c.proxy)),
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(c.want),
				}},
			})
			if ch := a.changes(); len(ch) != 2 {
				t.Fatalf("commands that change the host ran: %q", ch)
			}
		})
	}
}

// An apply that times out during the copy leaves a joined pair; the next
// apply waits for the copy instead of joining again.
func TestAccGDSProxyPair_timeoutDuringCopy(t *testing.T) {
	testAccPreCheck(t)
	a := gdsAccLocal(t)
	t.Setenv(gdsemu.EnvCopyRate, "25") // 100 MB: a 4 s copy
	body := func(timeout string) string {
		return fmt.Sprintf("  class = \"Class1\"\n  master = \"Volume1\"\n  proxy = \"Volume2\"\n  all_nodes = true\n  state = \"parted\"\n"+
			"  timeouts {\n    create = %q\n  }\n", timeout)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      a.config(body("1s")),
				ExpectError: regexp.MustCompile(`(?s)context deadline exceeded.*timeout was reached`),
			},
			{
				Config:            a.config(body("5m")),
				ConfigStateChecks: []statecheck.StateCheck{attrIs("state", knownvalue.StringExact("parted"))},
				Check:             resource.ComposeTestCheckFunc(checkCount(a, "Join", 1), checkCount(a, "Part", 1)),
			},
		},
	})
}

// A create that parted the pair and then failed (quiesce.after) keeps
// the pair in state, tainted: the snapshot is not silently taken again by
// a second create, destroy can Break it, and the next apply replaces it.
func TestAccGDSProxyPair_createPartedThenAfterFails(t *testing.T) {
	testAccPreCheck(t)
	a := gdsAccLocal(t)
	body := func(after string) string {
		return "  class = \"Class1\"\n  master = \"Volume1\"\n  proxy = \"Volume2\"\n  all_nodes = true\n  state = \"parted\"\n" +
			"  quiesce = {\n    after = [" + after + "]\n  }\n"
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		CheckDestroy:             func(*terraform.State) error { return checkCount(a, "Break", 2)(nil) },
		Steps: []resource.TestStep{
			{
				Config:      a.config(body(`"false"`)),
				ExpectError: regexp.MustCompile(`(?s)quiesce.*was parted.*tainted.*terraform untaint`),
				Check:       resource.ComposeTestCheckFunc(checkCount(a, "Join", 1), checkCount(a, "Part", 1)),
			},
			{
				Config: a.config(body(`"true"`)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(pairAddr, plancheck.ResourceActionReplace),
				}},
				ConfigStateChecks: []statecheck.StateCheck{attrIs("state", knownvalue.StringExact("parted"))},
				Check: resource.ComposeTestCheckFunc(checkCount(a, "Break", 1), checkCount(a, "Join", 2), checkCount(a, "Part", 2),
					checkCount(a, "Rejoin", 0)),
			},
		},
	})
}

// countingFactories serve the provider like testProviderFactories and keep
// the servers, to read how many calls the fast paths answered.
func countingFactories() (map[string]func() (tfprotov6.ProviderServer, error), func() (upgrades, reads, validates, plans int64)) {
	var mu sync.Mutex
	var servers []*server
	f := map[string]func() (tfprotov6.ProviderServer, error){
		"backupctl": func() (tfprotov6.ProviderServer, error) {
			s, err := NewServer(New("test"))()
			if err == nil {
				mu.Lock()
				servers = append(servers, s.(*server))
				mu.Unlock()
			}
			return s, err
		},
	}
	return f, func() (u, r, v, p int64) {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range servers {
			u += s.fast.upgrades.Load()
			r += s.fast.reads.Load()
			v += s.fast.validates.Load()
			p += s.fast.plans.Load()
		}
		return
	}
}

// A refresh and plan that find nothing to do are answered by the fast
// paths of server.go, over SSH, after really asking sdxinfo; a change made
// meanwhile out of band is still planned (the fast path hands it over).
func TestAccGDSProxyPair_fastRefresh(t *testing.T) {
	testAccPreCheck(t)
	a := gdsAccSSH(t)
	factories, counts := countingFactories()
	cfg := a.config("  class = \"Class1\"\n  master = \"Volume1\"\n  proxy = \"Volume2\"\n  all_nodes = true\n")
	var sdxinfo int
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig: func() {
					sdxinfo = a.emu.Count("sdxinfo", "")
				},
				Config:   cfg,
				PlanOnly: true, // fails on any planned change
			},
			{
				PreConfig: func() {
					if a.emu.Count("sdxinfo", "") <= sdxinfo {
						t.Error("the no-change plan did not run sdxinfo")
					}
					u, r, v, p := counts()
					if u == 0 || r == 0 || v == 0 || p == 0 {
						t.Errorf("fast answers: %d upgrades, %d reads, %d validations, %d plans; want some of each", u, r, v, p)
					}
					a.emu.MustRun(t, "sdxproxy", "Part", "-c", "Class1", "-p", "Volume2")
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(pairAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(pairAddr, tfjsonpath.New("state"), knownvalue.StringExact("joined")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{attrIs("state", knownvalue.StringExact("joined"))},
			},
		},
	})
}
