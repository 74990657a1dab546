package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/backupctl/terraform-provider-backupctl/internal/apps"
	"github.com/backupctl/terraform-provider-backupctl/internal/backup"
	"github.com/backupctl/terraform-provider-backupctl/internal/backup/backuptest"
	"github.com/backupctl/terraform-provider-backupctl/internal/gdsemu"
	"github.com/backupctl/terraform-provider-backupctl/internal/kcpsemu"
	"github.com/backupctl/terraform-provider-backupctl/internal/sshdtest"
	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

const rfsAddr = "backupctl_restore_from_snapshot.drill"

// rfsGen is a backup_policy generation made for a test by the backup
// engine itself: real files, real archive, manifest and labels file.
type rfsGen struct {
	Dir, ID, File string
	// Paths are the archived absolute paths.
	Paths []string
}

// rfsTakeGeneration archives an SMF ARMS-Proxy-like tree (owners, modes,
// symlink, empty directory) with preset app and labels, as if taken at now.
func rfsTakeGeneration(t *testing.T, root, app string, labels map[string]string, now time.Time) rfsGen {
	t.Helper()
	proxyPaths, _ := backuptest.SMFTree(t, filepath.Join(root, "src"))
	dir := filepath.Join(root, "backups")
	own := apps.Settings{Paths: proxyPaths, Stop: []string{}, Start: []string{}, Export: []string{}, AfterSuccess: []string{}}
	var preset *apps.Preset
	if app != "" {
		p, err := apps.Resolve(app, labels)
		if err != nil {
			t.Fatal(err)
		}
		preset = &p
	}
	local := &transport.Local{}
	runner := &backup.Runner{Hosts: backup.HostsFunc(func(string) (transport.Transport, error) { return local, nil }),
		Now: func() time.Time { return now }}
	res, err := runner.Run(context.Background(), backup.Policy{Host: "local", Application: app, Settings: apps.Effective(preset, own),
		Destination: backup.Destination{Path: dir}, Keep: 5, Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Error(); err != nil || res.Generation == nil {
		t.Fatalf("backup: %v", err)
	}
	return rfsGen{Dir: dir, ID: res.Generation.ID, File: res.Generation.File, Paths: proxyPaths}
}

// rfsReport reads the report attribute of the resource from the state.
func rfsReport(s *terraform.State) (map[string]any, error) {
	rs, ok := s.RootModule().Resources[rfsAddr]
	if !ok {
		return nil, fmt.Errorf("%s not in state", rfsAddr)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(rs.Primary.Attributes["report"]), &rep); err != nil {
		return nil, fmt.Errorf("report: %v", err)
	}
	return rep, nil
}

func rfsGone(paths ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		for _, p := range paths {
			if _, err := os.Lstat(p); err == nil {
				return fmt.Errorf("%s is still there", p)
			}
		}
		return nil
	}
}

func rfsExists(paths ...string) error {
	for _, p := range paths {
		if _, err := os.Lstat(p); err != nil {
			return fmt.Errorf("%s: %v", p, err)
		}
	}
	return nil
}

// rfsNoCommands fails when a command ran since before.
func rfsNoCommands(t *testing.T, before int64) {
	t.Helper()
	if n := transport.Total(transport.Snapshot().Commands) - before; n != 0 {
		t.Errorf("%d commands ran for a configuration refused at plan", n)
	}
}

// An archive generation restored from this machine onto another host over
// SSH, verified there; a new trigger runs the drill again; destroy removes
// the drill's directory and leaves the generation.
func TestAccRestore_archiveDrillOverSSH(t *testing.T) {
	testAccPreCheck(t)
	s := sshdtest.StartT(t)
	root := t.TempDir()
	gen := rfsTakeGeneration(t, root, apps.SMFArmsProxy, map[string]string{"site": "tokyo"}, time.Now().Add(-2*time.Hour))
	drills := filepath.Join(root, "drills")
	target := filepath.Join(drills, "arms-proxy")
	cfg := func(trigger string) string {
		return sshHostConfig(s, `env = { PATH = "/usr/sbin:/usr/bin:/sbin:/bin" }`) + fmt.Sprintf(`
resource "backupctl_restore_from_snapshot" "drill" {
  archive = {
    generation_id = %q
    from_host     = "local"
    from_path     = %q
    target_host   = "box"
    target_path   = %q
  }
  verify = {
    commands = [
      "test \"$(cat $RESTORE_PATH%s)\" = 'listen = 127.0.0.1:8443'",
      "test -L $RESTORE_PATH%s/latest",
    ]
    timeout = "2m"
  }
  require_labels = { site = "tokyo" }
  max_rpo = "3h"
  max_rto = "1h"
  trigger = %q
}
`, gen.ID, gen.Dir, target, gen.Paths[1], gen.Paths[0], trigger)
	}
	var firstStart string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		CheckDestroy:             rfsGone(drills),
		Steps: []resource.TestStep{{
			Config: cfg("one"),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(rfsAddr, tfjsonpath.New("verified"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue(rfsAddr, tfjsonpath.New("id"), knownvalue.StringExact("archive:box:"+target)),
				statecheck.ExpectKnownValue(rfsAddr, tfjsonpath.New("rpo_seconds"), rfsBetween(7000, 7400)),
			},
			Check: resource.ComposeTestCheckFunc(
				func(s *terraform.State) error {
					firstStart = s.RootModule().Resources[rfsAddr].Primary.Attributes["started_at"]
					rep, err := rfsReport(s)
					if err != nil {
						return err
					}
					b, _ := json.Marshal(rep)
					for _, want := range []string{`"verify archive checksum (before)"`, `"restored files match the manifest (after)"`,
						`"label site"`, `"application":"smf_arms_proxy"`, `service arms-proxy restart`, `"verify[1]: test -L`} {
						if !strings.Contains(string(b), want) {
							return fmt.Errorf("report lacks %s: %s", want, b)
						}
					}
					return rfsExists(filepath.Join(target, gen.Paths[1]), gen.File)
				},
			),
		}, {
			// A new trigger: the drill runs again.
			Config: cfg("two"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(rfsAddr, plancheck.ResourceActionDestroyBeforeCreate),
			}},
			Check: func(s *terraform.State) error {
				rs := s.RootModule().Resources[rfsAddr].Primary.Attributes
				if rs["verified"] != "true" || rs["report"] == "" || rs["started_at"] == "" {
					return fmt.Errorf("second run: %v", rs)
				}
				if firstStart == "" {
					return fmt.Errorf("first run recorded no start")
				}
				return rfsExists(filepath.Join(target, gen.Paths[1]))
			},
		}, {
			// Unchanged: nothing to do.
			Config:   cfg("two"),
			PlanOnly: true,
		}},
	})
	if err := rfsExists(gen.File); err != nil {
		t.Fatalf("the generation itself must stay: %v", err)
	}
}

// rfsBetween matches an int64 in [lo, hi].
func rfsBetween(lo, hi int64) knownvalue.Check { return rfsRange{lo, hi} }

type rfsRange struct{ lo, hi int64 }

func (r rfsRange) CheckValue(v any) error {
	n, ok := v.(json.Number)
	if !ok {
		return fmt.Errorf("%v (%T) is not a number", v, v)
	}
	i, err := n.Int64()
	if err != nil || i < r.lo || i > r.hi {
		return fmt.Errorf("%v not in [%d, %d]", v, r.lo, r.hi)
	}
	return nil
}

func (r rfsRange) String() string { return fmt.Sprintf("between %d and %d", r.lo, r.hi) }

// A failed verification fails the apply; the state records verified =
// false and keeps the restored target (for inspection) until destroy,
// which removes everything.
func TestAccRestore_archiveVerifyFailure(t *testing.T) {
	testAccPreCheck(t)
	root := t.TempDir()
	gen := rfsTakeGeneration(t, root, "", nil, time.Now())
	target := filepath.Join(root, "drill")
	cfg := fmt.Sprintf(`
resource "backupctl_restore_from_snapshot" "drill" {
  archive = {
    file        = %q
    from_host   = "local"
    target_host = "local"
    target_path = %q
  }
  verify = { commands = ["true", "echo service did not answer >&2; exit 7"] }
}
`, gen.File, target)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		CheckDestroy:             rfsGone(target),
		Steps: []resource.TestStep{{
			Config:      cfg,
			ExpectError: regexp.MustCompile(`(?s)Restore verification failed.*command 2.*exited with status 7.*service did not answer.*terraform\s+destroy`),
		}, {
			// The failed drill is in state (tainted), not verified; its
			// target is still there. Removing it from the configuration
			// destroys it.
			PreConfig: func() {
				if err := rfsExists(filepath.Join(target, gen.Paths[0])); err != nil {
					t.Fatalf("failed drill's target: %v", err)
				}
			},
			Config: `provider "backupctl" {}`,
			Check:  rfsGone(target),
		}},
	})
}

// max_rpo: a generation older than the limit is refused before anything
// is written; nothing comes to exist.
func TestAccRestore_maxRPO(t *testing.T) {
	testAccPreCheck(t)
	root := t.TempDir()
	gen := rfsTakeGeneration(t, root, "", nil, time.Now().Add(-49*time.Hour))
	target := filepath.Join(root, "drill")
	cfg := func(rpo string) string {
		return fmt.Sprintf(`
resource "backupctl_restore_from_snapshot" "drill" {
  archive = {
    generation_id = %q
    from_path     = %q
    from_host     = "local"
    target_host   = "local"
    target_path   = %q
  }
  max_rpo = %q
}
`, gen.ID, gen.Dir, target, rpo)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		CheckDestroy:             rfsGone(target),
		Steps: []resource.TestStep{{
			Config:      cfg("24h"),
			ExpectError: regexp.MustCompile(`(?s)Recovery point objective not met \(max_rpo\).*49h0m\d+s old.*max_rpo = "24h0m0s"`),
		}, {
			PreConfig: func() {
				if _, err := os.Lstat(target); err == nil {
					t.Fatal("a refused restore wrote its target")
				}
			},
			Config: cfg("72h"),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(rfsAddr, tfjsonpath.New("verified"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue(rfsAddr, tfjsonpath.New("rpo_seconds"), rfsBetween(49*3600, 50*3600)),
			},
		}, {
			// The drill's target removed out of band: refresh drops the
			// drill and the plan runs it again.
			PreConfig: func() {
				if err := os.RemoveAll(target); err != nil {
					t.Fatal(err)
				}
			},
			Config:             cfg("72h"),
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
		}},
	})
}

// rfsClock moves on by step at every reading.
type rfsClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *rfsClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.step)
	return c.t
}

// max_rto, with the provider's clock injected: every reading is ten
// minutes later, so the restore "takes" longer than 15 minutes.
func TestAccRestore_maxRTO(t *testing.T) {
	testAccPreCheck(t)
	root := t.TempDir()
	gen := rfsTakeGeneration(t, root, "", nil, time.Now())
	target := filepath.Join(root, "drill")
	clk := &rfsClock{t: time.Now(), step: 10 * time.Minute}
	factories := map[string]func() (tfprotov6.ProviderServer, error){
		"backupctl": NewServer(func() provider.Provider { return &backupctlProvider{version: "test", now: clk.Now} }),
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		CheckDestroy:             rfsGone(target),
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
resource "backupctl_restore_from_snapshot" "drill" {
  archive = {
    file        = %q
    from_host   = "local"
    target_host = "local"
    target_path = %q
  }
  verify  = { commands = ["true"] }
  max_rto = "15m"
}
`, gen.File, target),
			ExpectError: regexp.MustCompile(`(?s)Recovery time objective not met \(max_rto\).*the restore took \d+h\d+m0s.*max_rto = "15m0s"`),
		}},
	})
}

// Plan-time refusals: nothing runs.
func TestAccRestore_badInputRefusedAtPlan(t *testing.T) {
	testAccPreCheck(t)
	archive := `archive = {
    file        = "/var/backups/a.tar.gz"
    from_host   = "local"
    target_host = "local"
    target_path = "/srv/restore"
  }`
	gdsSrc := `gds = {
    host  = "local"
    class = "Class1"
    proxy = "Volume2"
  }`
	kcpsSrc := `kcps = {
    root_snapshot_id    = "s1"
    name                = "web01-drill"
    service_offering_id = "so"
    network_id          = "net"
    os_type_id          = "os"
  }`
	cases := []struct {
		name, body, err string
	}{
		{"two sources", archive + "\n" + kcpsSrc, `archive and kcps are all set`},
		{"no source", `mode = "drill"`, `Exactly one source block`},
		{"in_place without confirm", archive + "\nmode = \"in_place\"", `(?s)confirm is required for in_place.*confirm = "local:/srv/restore"`},
		{"in_place wrong confirm", archive + "\nmode = \"in_place\"\nconfirm = \"local:/srv\"", `confirm does not match the target`},
		{"kcps in_place wrong confirm", kcpsSrc + "\nmode = \"in_place\"\nconfirm = \"web01\"", `does not name this restore's target "web01-drill"`},
		{"bad max_rpo", archive + "\nmax_rpo = \"1 day\"", `(?s)Invalid duration.*"1 day" is not a Go duration`},
		{"bad max_rto", archive + "\nmax_rto = \"-5m\"", `must be longer than zero`},
		{"bad verify timeout", archive + "\nverify = {\n commands = [\"true\"]\n timeout = \"soon\"\n}", `"soon" is not a Go duration`},
		{"gds drill", gdsSrc, `(?s)A GDS restore is always in place.*confirm = "local/Class1/Volume2"`},
		{"gds max_rpo without time", gdsSrc + "\nmode = \"in_place\"\nconfirm = \"local/Class1/Volume2\"\nmax_rpo = \"1h\"", `max_rpo needs gds.snapshot_time`},
		{"drill into /", strings.Replace(archive, `"/srv/restore"`, `"/"`, 1), `A drill into /`},
		{"relative target", strings.Replace(archive, `"/srv/restore"`, `"srv/restore"`, 1), `is not an absolute path`},
		{"generation without from_path", strings.Replace(archive, `file        = "/var/backups/a.tar.gz"`, `generation_id = "a-1"`, 1), `from_path is required with generation_id`},
		{"bad sha256", strings.Replace(archive, `from_host`, "sha256 = \"abc\"\n    from_host", 1), `is not 64 hex digits`},
		{"labels on kcps", kcpsSrc + "\nrequire_labels = { server_group = \"g\" }", `require_labels applies to archives`},
		{"bad vm name", strings.Replace(kcpsSrc, `"web01-drill"`, `"web_01"`, 1), `Invalid VM name`},
		{"unknown host", strings.Replace(archive, `target_host = "local"`, `target_host = "nowhere"`, 1), `Host "nowhere" is not defined`},
		{"kcps not configured", kcpsSrc, `KCPS is not configured`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(envKCPSEndpoint, "")
			before := transport.Total(transport.Snapshot().Commands)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories,
				Steps: []resource.TestStep{{
					Config:      "resource \"backupctl_restore_from_snapshot\" \"drill\" {\n" + c.body + "\n}\n",
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(c.err),
				}},
			})
			rfsNoCommands(t, before)
		})
	}
}

// confirm known only at apply: checked before anything runs.
func TestAccRestore_inPlaceConfirmAtApply(t *testing.T) {
	testAccPreCheck(t)
	root := t.TempDir()
	gen := rfsTakeGeneration(t, root, "", nil, time.Now())
	live := filepath.Join(root, "live")
	if err := os.MkdirAll(live, 0o755); err != nil {
		t.Fatal(err)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
resource "terraform_data" "who" { input = "local:/somewhere/else" }
resource "backupctl_restore_from_snapshot" "drill" {
  archive = {
    file        = %q
    from_host   = "local"
    target_host = "local"
    target_path = %q
    overwrite   = true
  }
  mode    = "in_place"
  confirm = terraform_data.who.output
}
`, gen.File, live),
			ExpectError: regexp.MustCompile(`(?s)(Restore refused|confirm does not match the target).*does\s+not\s+name\s+this\s+restore's\s+target`),
		}, {
			PreConfig: func() {
				if ents, _ := os.ReadDir(live); len(ents) != 0 {
					t.Fatalf("refused in_place restore wrote %v", ents)
				}
			},
			Config: `provider "backupctl" {}`,
		}},
	})
}

// An Interstage managed-server generation is restored only into its own
// server group.
func TestAccRestore_serverGroupMismatch(t *testing.T) {
	testAccPreCheck(t)
	root := t.TempDir()
	gen := rfsTakeGeneration(t, root, apps.InterstageManaged, map[string]string{"server_group": "group-a"}, time.Now())
	target := filepath.Join(root, "drill")
	cfg := func(labels string) string {
		return fmt.Sprintf(`
resource "backupctl_restore_from_snapshot" "drill" {
  archive = {
    generation_id = %q
    from_path     = %q
    from_host     = "local"
    target_host   = "local"
    target_path   = %q
  }
  %s
}
`, gen.ID, gen.Dir, target, labels)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		CheckDestroy:             rfsGone(target),
		Steps: []resource.TestStep{{
			Config:      cfg(`require_labels = { server_group = "group-b" }`),
			ExpectError: regexp.MustCompile(`(?s)Restore refused.*backup of server group "group-a".*require_labels.server_group = "group-b"`),
		}, {
			Config:      cfg(""),
			ExpectError: regexp.MustCompile(`(?s)Restore refused.*set require_labels.server_group`),
		}, {
			PreConfig: func() {
				if _, err := os.Lstat(target); err == nil {
					t.Fatal("a refused restore wrote its target")
				}
			},
			Config: cfg(`require_labels = { server_group = "group-a" }`),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(rfsAddr, tfjsonpath.New("verified"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue(rfsAddr, tfjsonpath.New("report"), knownvalue.StringRegexp(regexp.MustCompile(`Only a backup of the same server group`))),
			},
		}},
	})
}

// ---- gds ----

func rfsGDSLayout() gdsemu.Config {
	return gdsemu.Config{
		Nodes:        []string{"node1"},
		CopyRateMBps: 500,
		Classes: []gdsemu.ClassConfig{{
			Name: "Class1",
			Groups: []gdsemu.GroupConfig{
				{Name: "Group1", Disks: []string{"Disk1", "Disk2"}, Volumes: []gdsemu.VolumeConfig{{Name: "Volume1", SizeMB: 50}}},
				{Name: "Group2", Disks: []string{"Disk3", "Disk4"}, Volumes: []gdsemu.VolumeConfig{{Name: "Volume2", SizeMB: 50}}},
			},
		}},
	}
}

// rfsGDSParted is an emulator where Volume2 was joined to Volume1 and
// parted: it holds a snapshot.
func rfsGDSParted(t *testing.T) *gdsemu.Emu {
	emu := gdsemu.StartT(t, rfsGDSLayout())
	emu.MustRun(t, "sdxvolume", "-F", "-c", "Class1", "-v", "Volume2")
	emu.MustRun(t, "sdxproxy", "Join", "-c", "Class1", "-m", "Volume1", "-p", "Volume2", "-e", "waitsync")
	emu.MustRun(t, "sdxproxy", "Part", "-c", "Class1", "-p", "Volume2")
	if err := gdsemu.ResetCalls(emu.Root); err != nil {
		t.Fatal(err)
	}
	return emu
}

func rfsSdxChanges(emu *gdsemu.Emu) []string {
	var out []string
	for _, c := range emu.Calls() {
		if !strings.HasPrefix(c, "sdxinfo") {
			out = append(out, c)
		}
	}
	return out
}

// sdxproxy Restore over SSH between the quiesce commands, verified on the
// GDS host; RPO from snapshot_time; destroy leaves the pair as it is.
func TestAccRestore_gdsInPlaceOverSSH(t *testing.T) {
	testAccPreCheck(t)
	emu := rfsGDSParted(t)
	s := sshdtest.StartT(t)
	env := emu.HostEnv()
	log := filepath.Join(emu.Root, gdsemu.CallsFile)
	parted := time.Now().Add(-20 * time.Minute).UTC().Format(time.RFC3339)
	cfg := fmt.Sprintf(`
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
resource "backupctl_restore_from_snapshot" "drill" {
  gds = {
    host          = "gds1"
    class         = "Class1"
    proxy         = "Volume2"
    snapshot_time = %q
    quiesce = {
      before = ["echo umount-master >> %s"]
      after  = ["echo mount-master >> %s"]
    }
  }
  mode    = "in_place"
  confirm = "gds1/Class1/Volume2"
  max_rpo = "1h"
  verify = {
    commands = ["test \"$RESTORE_MASTER_DEVICE\" = /dev/sfdsk/Class1/dsk/Volume1", "sdxinfo -S -c Class1 -o Volume1 | grep -qv COPY"]
  }
}
`, s.Addr, s.User, s.ClientKey, s.KnownHostsFile, env["PATH"], env[gdsemu.EnvRoot], parted, log, log)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			// An in_place restore is not undone: the pair stays parted and
			// nothing ran at destroy.
			if c := rfsSdxChanges(emu); len(c) != 3 {
				return fmt.Errorf("calls after destroy: %q", c)
			}
			return nil
		},
		Steps: []resource.TestStep{{
			Config: cfg,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(rfsAddr, tfjsonpath.New("verified"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue(rfsAddr, tfjsonpath.New("id"), knownvalue.StringExact("gds:gds1/Class1/Volume2")),
				statecheck.ExpectKnownValue(rfsAddr, tfjsonpath.New("rpo_seconds"), rfsBetween(1150, 1500)),
			},
			Check: func(*terraform.State) error {
				got := strings.Join(rfsSdxChanges(emu), "\n")
				want := "umount-master\nsdxproxy Restore -c Class1 -p Volume2 -e nowaitsync\nmount-master"
				if got != want {
					return fmt.Errorf("calls:\n%s\nwant\n%s", got, want)
				}
				return nil
			},
		}},
	})
}

// An in_place restore imported (state lost, then terraform import
// gds:...) is not run again by the next apply over the same
// configuration: that apply records the configuration (an update that
// runs nothing), and the plan after it is empty.
func TestAccRestore_gdsImportDoesNotRestoreAgain(t *testing.T) {
	testAccPreCheck(t)
	emu := rfsGDSParted(t)
	t.Setenv("PATH", emu.BinDir+":"+os.Getenv("PATH"))
	t.Setenv(gdsemu.EnvRoot, emu.Root)
	cfg := `
resource "backupctl_restore_from_snapshot" "drill" {
  gds = {
    host  = "local"
    class = "Class1"
    proxy = "Volume2"
  }
  mode    = "in_place"
  confirm = "local/Class1/Volume2"
}
`
	restores := func(want int) resource.TestCheckFunc {
		return func(*terraform.State) error {
			if n := emu.Count("sdxproxy", "Restore"); n != want {
				return fmt.Errorf("sdxproxy Restore ran %d times, want %d: %q", n, want, rfsSdxChanges(emu))
			}
			return nil
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg, Check: restores(1)},
			{ // the state is lost; the restore itself stays done
				Config: "removed {\n  from = backupctl_restore_from_snapshot.drill\n  lifecycle {\n    destroy = false\n  }\n}\n",
				Check:  restores(1),
			},
			{
				Config:             cfg,
				ResourceName:       rfsAddr,
				ImportState:        true,
				ImportStateId:      "gds:local/Class1/Volume2",
				ImportStatePersist: true,
			},
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(rfsAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(rfsAddr, tfjsonpath.New("gds").AtMapKey("proxy"), knownvalue.StringExact("Volume2")),
					statecheck.ExpectKnownValue(rfsAddr, tfjsonpath.New("verified"), knownvalue.Null()),
				},
				Check: restores(1),
			},
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
				Check: restores(1),
			},
		},
	})
}

// A joined pair holds no snapshot: refused with a clear error, no Restore.
func TestAccRestore_gdsJoinedRefused(t *testing.T) {
	testAccPreCheck(t)
	emu := rfsGDSParted(t)
	emu.MustRun(t, "sdxvolume", "-F", "-c", "Class1", "-v", "Volume2")
	emu.MustRun(t, "sdxproxy", "Rejoin", "-c", "Class1", "-p", "Volume2", "-e", "waitsync")
	if err := gdsemu.ResetCalls(emu.Root); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", emu.BinDir+":"+os.Getenv("PATH"))
	t.Setenv(gdsemu.EnvRoot, emu.Root)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{{
			Config: `
resource "backupctl_restore_from_snapshot" "drill" {
  gds = {
    host  = "local"
    class = "Class1"
    proxy = "Volume2"
    quiesce = { before = ["false"] }
  }
  mode    = "in_place"
  confirm = "local/Class1/Volume2"
}
`,
			ExpectError: regexp.MustCompile(`(?s)Restore refused.*Volume1 and proxy Volume2 are\s+joined.*part the pair\s+first`),
		}},
	})
	if c := rfsSdxChanges(emu); len(c) != 0 {
		t.Fatalf("refused restore changed something: %q", c)
	}
}

// ---- kcps ----

const (
	rfsSnapRoot = "ab000000-0000-4000-8000-000000000001"
	rfsSnapData = "ab000000-0000-4000-8000-000000000002"
	rfsSnapWest = "ab000000-0000-4000-8000-000000000003"
	rfsVolWest  = "9e5f6071-0000-4000-8000-000000000998"
)

// rfsKCPS starts the emulator with a ROOT and a data snapshot of web01 (zone
// east) and a data snapshot in zone west; it returns the provider block.
func rfsKCPS(t *testing.T) (*kcpsemu.Server, string) {
	cfg := kcpsemu.DefaultConfig()
	cfg.TimeScale = 0.0005
	cfg.Volumes = append(cfg.Volumes, kcpsemu.Volume{ID: rfsVolWest, Name: "DATA-west", Account: kcpsemu.DemoAccount,
		ZoneID: kcpsemu.DemoZoneWest, SizeGB: 10})
	taken := time.Now().Add(-90 * time.Minute)
	cfg.Snapshots = []kcpsemu.Snapshot{
		{ID: rfsSnapRoot, VolumeID: kcpsemu.DemoVolWebRoot, Created: taken},
		{ID: rfsSnapData, VolumeID: kcpsemu.DemoVolWebData, Created: taken},
		{ID: rfsSnapWest, VolumeID: rfsVolWest, Created: taken},
	}
	s := kcpsemu.StartT(t, cfg)
	t.Setenv(envKCPSPollScale, "0.0005")
	return s, fmt.Sprintf(`
provider "backupctl" {
  kcps = {
    endpoint   = %q
    api_key    = %q
    secret_key = %q
  }
}
`, s.Endpoint, kcpsemu.DemoAPIKey, kcpsemu.DemoSecretKey)
}

func rfsKCPSConfig(provider, data, extra string) string {
	return provider + fmt.Sprintf(`
resource "backupctl_restore_from_snapshot" "drill" {
  kcps = {
    root_snapshot_id    = %q
    data_snapshot_ids   = [%q]
    name                = "web01-drill"
    service_offering_id = %q
    network_id          = %q
    os_type_id          = %q
  }
  max_rpo = "2h"
  %s
}
`, rfsSnapRoot, data, kcpsemu.DemoServiceOffering, kcpsemu.DemoNetworkEast, kcpsemu.DemoOSType, extra)
}

// rfsKCPSLeft lists what a drill named web01-drill left in the emulator.
func rfsKCPSLeft(s *kcpsemu.Server) []string {
	out := append([]string{}, s.TemplateIDs()...)
	for _, v := range s.VMs() {
		if v.Name == "web01-drill" {
			out = append(out, "vm "+v.ID+" "+v.State)
		}
	}
	for _, v := range s.Volumes() {
		if strings.HasPrefix(v.Name, "web01-drill") || strings.HasPrefix(v.Name, "ROOT-web01-drill") {
			out = append(out, "volume "+v.Name)
		}
	}
	return out
}

func rfsKCPSClean(s *kcpsemu.Server) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if l := rfsKCPSLeft(s); len(l) > 0 {
			return fmt.Errorf("left behind: %v", l)
		}
		return nil
	}
}

// Template from the ROOT snapshot, VM, volume from the data snapshot,
// attached, running; verified; destroy removes it all. Then the drill's
// leftovers are adopted by import (as after a lost state) and destroyed.
func TestAccRestore_kcpsDrill(t *testing.T) {
	testAccPreCheck(t)
	s, provider := rfsKCPS(t)
	cfg := rfsKCPSConfig(provider, rfsSnapData, `verify = { commands = ["test -n \"$RESTORE_VM_ID\"", "test \"$RESTORE_VM_NAME\" = web01-drill"] }`)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		CheckDestroy:             rfsKCPSClean(s),
		Steps: []resource.TestStep{{
			Config: cfg,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(rfsAddr, tfjsonpath.New("verified"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue(rfsAddr, tfjsonpath.New("id"), knownvalue.StringExact("kcps:web01-drill")),
				statecheck.ExpectKnownValue(rfsAddr, tfjsonpath.New("rpo_seconds"), rfsBetween(5350, 5700)),
			},
			Check: func(*terraform.State) error {
				var vm kcpsemu.VMInfo
				for _, v := range s.VMs() {
					if v.Name == "web01-drill" {
						vm = v
					}
				}
				if vm.State != "Running" || vm.ZoneID != kcpsemu.DemoZoneEast {
					return fmt.Errorf("vm %+v", vm)
				}
				n := 0
				for _, v := range s.Volumes() {
					if v.VMID == vm.ID {
						n++
					}
				}
				if n != 2 || len(s.TemplateIDs()) != 1 || s.Calls("queryExAsyncJobResult") == 0 {
					return fmt.Errorf("%d volumes attached, templates %v", n, s.TemplateIDs())
				}
				return nil
			},
		}, {
			// Forget the drill without destroying it (a lost state).
			Config: provider + `
removed {
  from = backupctl_restore_from_snapshot.drill
  lifecycle { destroy = false }
}
`,
			Check: func(*terraform.State) error {
				if len(rfsKCPSLeft(s)) != 4 {
					return fmt.Errorf("forgotten drill should still exist: %v", rfsKCPSLeft(s))
				}
				return nil
			},
		}, {
			// Adopt its leftovers by import; the final destroy removes them.
			Config:             cfg,
			ResourceName:       rfsAddr,
			ImportState:        true,
			ImportStateId:      "kcps:web01-drill",
			ImportStatePersist: true,
			ImportStateCheck: func(is []*terraform.InstanceState) error {
				if len(is) != 1 || is[0].Attributes["kcps.name"] != "web01-drill" || is[0].Attributes["mode"] != "drill" {
					return fmt.Errorf("imported %v", is)
				}
				return nil
			},
		}},
	})
}

func TestAccRestore_kcpsCrossZoneRefused(t *testing.T) {
	testAccPreCheck(t)
	s, provider := rfsKCPS(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{{
			Config:      rfsKCPSConfig(provider, rfsSnapWest, ""),
			ExpectError: regexp.MustCompile(`(?s)Restore refused.*cross-zone restore.*only\s+in\s+the\s+site\s+where`),
		}},
	})
	for _, c := range []string{"createTemplate", "deployValueVirtualMachine", "createVolume"} {
		if n := s.Calls(c); n != 0 {
			t.Errorf("%s called %d times for a refused restore", c, n)
		}
	}
}

// The VM's creation fails midway: the template made for it (and the VM
// left in Error) are removed at once; nothing is left after destroy.
func TestAccRestore_kcpsDeployFailureCleansUp(t *testing.T) {
	testAccPreCheck(t)
	s, provider := rfsKCPS(t)
	s.FailJobs("deployValueVirtualMachine", 1)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		CheckDestroy:             rfsKCPSClean(s),
		Steps: []resource.TestStep{{
			Config:      rfsKCPSConfig(provider, rfsSnapData, ""),
			ExpectError: regexp.MustCompile(`(?s)Restore failed.*deployValueVirtualMachine`),
		}, {
			PreConfig: func() {
				if s.Calls("createTemplate") != 1 || s.Calls("deleteTemplate") != 1 {
					t.Errorf("createTemplate %d, deleteTemplate %d", s.Calls("createTemplate"), s.Calls("deleteTemplate"))
				}
				if l := rfsKCPSLeft(s); len(l) > 0 {
					t.Errorf("left after the failed drill: %v", l)
				}
			},
			Config: provider,
		}},
	})
}

// A destroy that fails part way keeps the drill in state with only what is
// left; the next destroy finishes it.
func TestAccRestore_kcpsDestroyRetried(t *testing.T) {
	testAccPreCheck(t)
	s, provider := rfsKCPS(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		CheckDestroy:             rfsKCPSClean(s),
		Steps: []resource.TestStep{{
			Config: rfsKCPSConfig(provider, rfsSnapData, ""),
		}, {
			PreConfig:   func() { s.FailJobs("destroyVirtualMachine", 1) },
			Config:      provider,
			ExpectError: regexp.MustCompile(`(?s)Drill not fully removed.*virtual_machine`),
		}, {
			PreConfig: func() {
				// The volume and the template went in the first attempt.
				if got := s.Calls("deleteTemplate"); got != 1 {
					t.Errorf("deleteTemplate %d", got)
				}
				s.ResetCalls()
			},
			Config: provider,
			Check: func(*terraform.State) error {
				if n := s.Calls("deleteTemplate") + s.Calls("deleteVolume"); n != 0 {
					return fmt.Errorf("retry removed things again (%d calls)", n)
				}
				return rfsKCPSClean(s)(nil)
			},
		}},
	})
}
