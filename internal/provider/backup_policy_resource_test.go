package provider

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/backupctl/terraform-provider-backupctl/internal/archive"
	"github.com/backupctl/terraform-provider-backupctl/internal/backup"
	"github.com/backupctl/terraform-provider-backupctl/internal/backup/backuptest"
	"github.com/backupctl/terraform-provider-backupctl/internal/dbdump"
	"github.com/backupctl/terraform-provider-backupctl/internal/dbdump/dbtest"
	"github.com/backupctl/terraform-provider-backupctl/internal/sshdtest"
	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

const policyAddr = "backupctl_backup_policy.this"

// hcl renders a Go string list as an HCL list.
func hclList(vals ...string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = fmt.Sprintf("%q", v)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// orderLog is a file commands append words to.
type orderLog string

func (l orderLog) cmd(word string) string {
	return "echo " + word + " >> " + transport.Quote(string(l))
}

func (l orderLog) words(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(string(l))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

func (l orderLog) expect(want ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		b, _ := os.ReadFile(string(l))
		got := strings.Fields(string(b))
		if !reflect.DeepEqual(got, want) {
			return fmt.Errorf("commands ran in order %v, want %v", got, want)
		}
		return nil
	}
}

// archiveFiles lists the archives (not manifests or labels) in dir.
func archiveFiles(dir string) []string {
	var out []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		n := e.Name()
		if strings.HasSuffix(n, ".tar.gz") || strings.HasSuffix(n, ".tar.zst") {
			out = append(out, filepath.Join(dir, n))
		}
	}
	return out
}

func expectArchives(dir string, n int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if got := archiveFiles(dir); len(got) != n {
			return fmt.Errorf("%s holds %d archives, want %d: %v", dir, len(got), n, got)
		}
		return nil
	}
}

func generationsLen(n int) statecheck.StateCheck {
	return statecheck.ExpectKnownValue(policyAddr, tfjsonpath.New("generations"), knownvalue.ListSizeExact(n))
}

// smfConfig is an SMF ARMS-Proxy policy on this machine.
func smfConfig(paths []string, dest string, log orderLog, keep int, trigger, extra string) string {
	return fmt.Sprintf(`
resource "backupctl_backup_policy" "this" {
  host        = "local"
  application = "smf_arms_proxy"
  paths       = %s
  stop        = [%q]
  start       = [%q, %q]
  destination = { path = %q }
  keep        = %d
  trigger     = %q
  labels      = { site = "tokyo" }
  force_destroy = true
  %s
}
`, hclList(paths...), log.cmd("stop"), log.cmd("start1"), log.cmd("start2"), dest, keep, trigger, extra)
}

func TestAccBackupPolicy_smfTreeOrderRotationAndGNUTar(t *testing.T) {
	testAccPreCheck(t)
	root := t.TempDir()
	proxyPaths, _ := backuptest.SMFTree(t, root)
	dir := t.TempDir()
	dest := filepath.Join(dir, "arms-proxy")
	log := orderLog(filepath.Join(dir, "order.log"))
	var firstID string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: smfConfig(proxyPaths, dest, log, 2, "1", ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					// The preset's values are visible in the plan; paths are the policy's own.
					plancheck.ExpectKnownValue(policyAddr, tfjsonpath.New("effective_paths"), knownvalue.ListSizeExact(5)),
					plancheck.ExpectKnownValue(policyAddr, tfjsonpath.New("effective_stop"), knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact(log.cmd("stop"))})),
					plancheck.ExpectUnknownValue(policyAddr, tfjsonpath.New("generations")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					generationsLen(1),
					statecheck.ExpectKnownValue(policyAddr, tfjsonpath.New("id"), knownvalue.StringExact("local:"+dest)),
					statecheck.ExpectKnownValue(policyAddr, tfjsonpath.New("generations").AtSliceIndex(0).AtMapKey("labels").AtMapKey("site"), knownvalue.StringExact("tokyo")),
					statecheck.ExpectKnownValue(policyAddr, tfjsonpath.New("generations").AtSliceIndex(0).AtMapKey("sha256"), knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f]{64}$`))),
					statecheck.ExpectKnownValue(policyAddr, tfjsonpath.New("generations").AtSliceIndex(0).AtMapKey("id"), knownvalue.StringRegexp(regexp.MustCompile(`^arms-proxy-\d{8}T\d{6}Z-[0-9a-f]{8}$`))),
				},
				Check: resource.ComposeTestCheckFunc(
					log.expect("stop", "start1", "start2"),
					expectArchives(dest, 1),
					func(s *terraform.State) error {
						firstID = s.RootModule().Resources[policyAddr].Primary.Attributes["generations.0.id"]
						// Extract with plain GNU tar and compare owners, modes, mtimes, contents.
						out := t.TempDir()
						file := archiveFiles(dest)[0]
						if b, err := exec.Command("tar", "-xpzf", file, "-C", out).CombinedOutput(); err != nil {
							return fmt.Errorf("GNU tar: %v: %s", err, b)
						}
						for _, p := range proxyPaths {
							want := backuptest.Snapshot(t, p)
							got := backuptest.Snapshot(t, filepath.Join(out, p))
							if d := backuptest.Diff(want, got); d != "" {
								return fmt.Errorf("%s differs after GNU tar -xpzf:\n%s", p, d)
							}
						}
						return nil
					},
				),
			},
			{
				// Same config: nothing to do.
				Config:   smfConfig(proxyPaths, dest, log, 2, "1", ""),
				PlanOnly: true,
			},
			{
				Config:            smfConfig(proxyPaths, dest, log, 2, "2", ""),
				ConfigStateChecks: []statecheck.StateCheck{generationsLen(2)},
				Check:             resource.ComposeTestCheckFunc(expectArchives(dest, 2), log.expect("stop", "start1", "start2", "stop", "start1", "start2")),
			},
			{
				// A third generation with keep = 2 prunes the first.
				Config:            smfConfig(proxyPaths, dest, log, 2, "3", ""),
				ConfigStateChecks: []statecheck.StateCheck{generationsLen(2)},
				Check: resource.ComposeTestCheckFunc(expectArchives(dest, 2), func(s *terraform.State) error {
					a := s.RootModule().Resources[policyAddr].Primary.Attributes
					if a["generations.0.id"] == firstID || a["generations.1.id"] == firstID {
						return fmt.Errorf("the oldest generation %s survived rotation", firstID)
					}
					if _, err := os.Stat(filepath.Join(dest, firstID+".tar.gz")); !os.IsNotExist(err) {
						return fmt.Errorf("the pruned archive is still on disk")
					}
					if a["generations.0.created"] < a["generations.1.created"] {
						return fmt.Errorf("generations not newest first: %s, %s", a["generations.0.created"], a["generations.1.created"])
					}
					return nil
				}),
			},
			{
				// Lowering keep prunes at apply, and the plan shows what stays.
				Config: smfConfig(proxyPaths, dest, log, 1, "3", ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(policyAddr, tfjsonpath.New("generations"), knownvalue.ListSizeExact(1)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{generationsLen(1)},
				Check:             expectArchives(dest, 1),
			},
		},
	})
}

func TestAccBackupPolicy_driftShowsInPlan(t *testing.T) {
	testAccPreCheck(t)
	root := t.TempDir()
	proxyPaths, _ := backuptest.SMFTree(t, root)
	dir := t.TempDir()
	dest := filepath.Join(dir, "arms-proxy")
	log := orderLog(filepath.Join(dir, "order.log"))
	checksum := `verify_on_refresh = "checksum"`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{Config: smfConfig(proxyPaths, dest, log, 3, "1", checksum)},
			{Config: smfConfig(proxyPaths, dest, log, 3, "2", checksum)},
			{Config: smfConfig(proxyPaths, dest, log, 3, "3", checksum), ConfigStateChecks: []statecheck.StateCheck{generationsLen(3)}},
			{
				// Delete one archive out of band: the plan is not empty.
				PreConfig: func() {
					if err := os.Remove(archiveFiles(dest)[0]); err != nil {
						t.Fatal(err)
					}
				},
				Config:             smfConfig(proxyPaths, dest, log, 3, "3", checksum),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				// Applying accepts the loss; then nothing is left to do.
				Config: smfConfig(proxyPaths, dest, log, 3, "3", checksum),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(policyAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{generationsLen(2)},
			},
			{Config: smfConfig(proxyPaths, dest, log, 3, "3", checksum), PlanOnly: true},
			{
				// Corrupt one (same size, one byte flipped): checksum refresh sees it.
				PreConfig: func() {
					f := archiveFiles(dest)[0]
					b, _ := os.ReadFile(f)
					b[len(b)/2] ^= 0x55
					if err := os.WriteFile(f, b, 0o600); err != nil {
						t.Fatal(err)
					}
				},
				Config:             smfConfig(proxyPaths, dest, log, 3, "3", checksum),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				Config:            smfConfig(proxyPaths, dest, log, 3, "3", checksum),
				ConfigStateChecks: []statecheck.StateCheck{generationsLen(1)},
				Check:             expectArchives(dest, 1),
			},
			{Config: smfConfig(proxyPaths, dest, log, 3, "3", checksum), PlanOnly: true},
		},
	})
}

func TestAccBackupPolicy_startRunsAfterFailedArchive(t *testing.T) {
	testAccPreCheck(t)
	root := t.TempDir()
	proxyPaths, _ := backuptest.SMFTree(t, root)
	dir := t.TempDir()
	dest := filepath.Join(dir, "arms-proxy")
	log := orderLog(filepath.Join(dir, "order.log"))
	bad := append(append([]string{}, proxyPaths...), filepath.Join(root, "no-such-file"))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      smfConfig(bad, dest, log, 2, "1", ""),
				ExpectError: regexp.MustCompile(`Backup failed`),
			},
			{
				// Both start commands ran although the archive failed; nothing is listed.
				PreConfig: func() {
					if got := log.words(t); !reflect.DeepEqual(got, []string{"stop", "start1", "start2"}) {
						t.Fatalf("order %v", got)
					}
					if n := len(archiveFiles(dest)); n != 0 {
						t.Fatalf("%d archives after a failed backup", n)
					}
				},
				Config:            smfConfig(proxyPaths, dest, log, 2, "1", ""),
				ConfigStateChecks: []statecheck.StateCheck{generationsLen(1)},
			},
			{
				// A failing start fails the apply but the generation is kept.
				Config:      strings.Replace(smfConfig(proxyPaths, dest, log, 2, "2", ""), "start       = [", `start       = ["exit 9", `, 1),
				ExpectError: regexp.MustCompile(`(?s)Start command failed.*backup itself succeeded`),
			},
		},
	})
}

func TestAccBackupPolicy_badInputRefusedAtPlan(t *testing.T) {
	testAccPreCheck(t)
	dir := t.TempDir()
	log := orderLog(filepath.Join(dir, "order.log"))
	base := func(body string) string {
		return fmt.Sprintf(`
resource "backupctl_backup_policy" "this" {
  host  = "local"
  stop  = [%q]
  start = [%q]
  %s
}
`, log.cmd("stop"), log.cmd("start"), body)
	}
	dest := fmt.Sprintf(`destination = { path = %q }`, filepath.Join(dir, "bk"))
	cases := []struct {
		name, body string
		want       string
	}{
		{"keep 0", `paths = ["/etc/hostname"]
  keep = 0
  ` + dest, `(?s)keep.*must be at least 1`},
		{"relative path", `paths = ["etc/hostname"]
  keep = 1
  ` + dest, `(?s)paths\[0\].*must be an absolute path`},
		{"relative destination", `paths = ["/etc/hostname"]
  keep = 1
  destination = { path = "bk" }`, `(?s)destination.path.*must be an absolute path`},
		{"unknown preset", `application = "smf_armsproxy"
  keep = 1
  ` + dest, `(?s)application.*smf_arms_proxy`},
		{"preset without its label", `application = "interstage_managed"
  export = ["true"]
  keep = 1
  ` + dest, `(?s)labels.*server_group`},
		{"groupmax server without master", `application = "groupmax_server"
  keep = 1
  ` + dest, `(?s)labels.*master_host`},
		{"rs without database", `application = "smf_rs"
  keep = 1
  ` + dest, `(?s)database.*DBMS`},
		{"unknown host", `paths = ["/etc/hostname"]
  keep = 1
  destination = { host = "nas9", path = "/bk" }`, `(?s)destination.host.*not defined`},
		{"command on an unknown host", `paths = ["/etc/hostname"]
  after_success = ["@gm-master: true"]
  keep = 1
  ` + dest, `(?s)after_success\[0\].*gm-master`},
		{"bad engine", `database = { engine = "oracle" }
  keep = 1
  ` + dest, `(?s)database.engine`},
	}
	before := transport.Total(transport.Snapshot().Commands)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories,
				Steps: []resource.TestStep{{
					Config:      base(c.body),
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(c.want),
				}},
			})
		})
	}
	if after := transport.Total(transport.Snapshot().Commands); after != before {
		t.Fatalf("%d commands ran for configurations refused at plan", after-before)
	}
	if w := log.words(t); len(w) != 0 {
		t.Fatalf("stop/start ran: %v", w)
	}
}

// dbPolicy is an smf_rs policy whose database block takes the password
// from a variable (write-only: never in state).
func dbPolicy(engine, host string, port int, user, binDir, dest string, databases []string) string {
	dbs := ""
	if len(databases) > 0 {
		dbs = "databases = " + hclList(databases...)
	}
	bin := ""
	if binDir != "" {
		bin = fmt.Sprintf("bin_dir = %q", binDir)
	}
	return fmt.Sprintf(`
variable "db_password" {
  type      = string
  sensitive = true
}

resource "backupctl_backup_policy" "this" {
  host        = "local"
  application = "smf_rs"
  paths       = ["/etc/hostname"]
  database = {
    engine   = %q
    host     = %q
    port     = %d
    user     = %q
    password = var.db_password
    %s
    %s
  }
  destination   = { path = %q, format = "tar.zst" }
  keep          = 2
  force_destroy = true
}
`, engine, host, port, user, bin, dbs, dest)
}

// noSecretInState fails when secret appears anywhere in the state.
func noSecretInState(secret string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		for addr, r := range s.RootModule().Resources {
			for k, v := range r.Primary.Attributes {
				if strings.Contains(v, secret) {
					return fmt.Errorf("%s: %s holds the database password", addr, k)
				}
			}
		}
		return nil
	}
}

// restoreFromArchive extracts the newest archive with GNU tar and loads its
// database dump into cfg's server.
func restoreFromArchive(t *testing.T, dest string, cfg dbdump.Config) {
	t.Helper()
	files := archiveFiles(dest)
	if len(files) != 1 {
		t.Fatalf("want 1 archive, got %v", files)
	}
	out := t.TempDir()
	if b, err := exec.Command("tar", "--zstd", "-xpf", files[0], "-C", out).CombinedOutput(); err != nil {
		t.Fatalf("GNU tar: %v: %s", err, b)
	}
	if _, err := dbdump.Restore(t.Context(), &transport.Local{}, cfg, filepath.Join(out, backup.ExportAs, backup.DatabaseSubdir)); err != nil {
		t.Fatalf("restore: %v", err)
	}
}

func TestAccBackupPolicy_postgresDumpRestoresIntoFreshServer(t *testing.T) {
	testAccPreCheck(t)
	src := dbtest.StartPostgresT(t)
	src.MustSQL(t, "", "CREATE DATABASE rs;")
	src.MustSQL(t, "rs", "CREATE TABLE sa (id int primary key, cfg text); INSERT INTO sa SELECT g, md5(g::text) FROM generate_series(1, 300) g;")
	dest := filepath.Join(t.TempDir(), "rs")
	t.Setenv("TF_VAR_db_password", src.Password)
	q := "SELECT count(*), md5(string_agg(cfg, ',' ORDER BY id)) FROM sa"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{{
			Config: dbPolicy("postgresql", "127.0.0.1", src.Port, src.User, src.BinDir, dest, []string{"rs"}),
			ConfigStateChecks: []statecheck.StateCheck{
				generationsLen(1),
				statecheck.ExpectKnownValue(policyAddr, tfjsonpath.New("database").AtMapKey("password"), knownvalue.Null()),
			},
			Check: resource.ComposeTestCheckFunc(noSecretInState(src.Password), func(*terraform.State) error {
				dst := dbtest.StartPostgresT(t)
				restoreFromArchive(t, dest, dbdump.Config{Engine: dbdump.PostgreSQL, Host: dst.SocketDir, Port: dst.Port, User: dst.User, BinDir: dst.BinDir})
				if got, want := dst.MustSQL(t, "rs", q), src.MustSQL(t, "rs", q); got != want {
					return fmt.Errorf("restored %s, want %s", got, want)
				}
				return nil
			}),
		}},
	})
}

func TestAccBackupPolicy_mariadbDumpRestoresIntoFreshServer(t *testing.T) {
	testAccPreCheck(t)
	src := dbtest.StartMariaDBT(t)
	src.MustSQL(t, "", "CREATE DATABASE rs; CREATE TABLE rs.sa (id INT PRIMARY KEY, cfg VARCHAR(64)); INSERT INTO rs.sa VALUES (1, 'a'), (2, 'b'), (3, 'c');")
	dest := filepath.Join(t.TempDir(), "rs")
	t.Setenv("TF_VAR_db_password", src.Password)
	q := "SELECT COUNT(*), GROUP_CONCAT(cfg ORDER BY id) FROM rs.sa"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{{
			Config:            dbPolicy("mysql", "127.0.0.1", src.Port, src.User, "", dest, nil),
			ConfigStateChecks: []statecheck.StateCheck{generationsLen(1)},
			Check: resource.ComposeTestCheckFunc(noSecretInState(src.Password), func(*terraform.State) error {
				dst := dbtest.StartMariaDBT(t)
				restoreFromArchive(t, dest, dbdump.Config{Engine: dbdump.MySQL, Host: dst.Socket, User: "root"})
				if got, want := dst.MustSQL(t, "", q), src.MustSQL(t, "", q); got != want {
					return fmt.Errorf("restored %s, want %s", got, want)
				}
				return nil
			}),
		}},
	})
}

func TestAccBackupPolicy_remoteHostImportAndDataSource(t *testing.T) {
	testAccPreCheck(t)
	s := sshdtest.StartT(t)
	root := t.TempDir()
	_, hbPaths := backuptest.SMFTree(t, root)
	dir := t.TempDir()
	dest := filepath.Join(dir, "hb")
	log := orderLog(filepath.Join(dir, "order.log"))
	policy := func(trigger string) string {
		return sshHostConfig(s, "") + fmt.Sprintf(`
resource "backupctl_backup_policy" "this" {
  host          = "box"
  application   = "smf_heartbeat"
  paths         = %s
  stop          = [%q]
  start         = [%q]
  destination   = { host = "local", path = %q }
  keep          = 3
  trigger       = %q
  labels        = { role = "hb" }
  force_destroy = true
}

data "backupctl_backup_generations" "hb" {
  path       = %q
  depends_on = [backupctl_backup_policy.this]
}
`, hclList(hbPaths...), log.cmd("stop-on-$BACKUP_SOURCE_HOST"), log.cmd("start"), dest, trigger, dest)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: policy("a"),
				ConfigStateChecks: []statecheck.StateCheck{
					generationsLen(1),
					statecheck.ExpectKnownValue(policyAddr, tfjsonpath.New("effective_start"), knownvalue.ListSizeExact(1)),
					statecheck.ExpectKnownValue("data.backupctl_backup_generations.hb", tfjsonpath.New("generations"), knownvalue.ListSizeExact(1)),
					statecheck.ExpectKnownValue("data.backupctl_backup_generations.hb", tfjsonpath.New("generations").AtSliceIndex(0).AtMapKey("labels").AtMapKey("role"), knownvalue.StringExact("hb")),
				},
				Check: log.expect("stop-on-box", "start"),
			},
			{
				Config:            policy("b"),
				ConfigStateChecks: []statecheck.StateCheck{generationsLen(2)},
			},
			{
				// Import by destination host and path adopts the archives.
				ResourceName:  policyAddr,
				ImportState:   true,
				ImportStateId: "local:" + dest,
				ImportStateCheck: func(states []*terraform.InstanceState) error {
					if len(states) != 1 {
						return fmt.Errorf("%d states", len(states))
					}
					a := states[0].Attributes
					if a["generations.#"] != "2" || a["host"] != "box" || a["application"] != "smf_heartbeat" ||
						a["trigger"] != "b" || a["labels.role"] != "hb" || a["id"] != "local:"+dest {
						return fmt.Errorf("imported state: %v", a)
					}
					return nil
				},
			},
		},
	})
}

func TestAccBackupPolicy_destroyRefusedWithGenerations(t *testing.T) {
	testAccPreCheck(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "data")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(dir, "bk")
	cfg := func(force bool) string {
		return fmt.Sprintf(`
resource "backupctl_backup_policy" "this" {
  host          = "local"
  paths         = [%q]
  destination   = { path = %q }
  keep          = 1
  force_destroy = %t
}
`, src, dest, force)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg(false)},
			{Config: cfg(false), Destroy: true, ExpectError: regexp.MustCompile(`force_destroy`)},
			{Config: cfg(true), Check: expectArchives(dest, 1)},
		},
		CheckDestroy: func(*terraform.State) error {
			if n := len(archiveFiles(dest)); n != 0 {
				return fmt.Errorf("%d archives left after destroy with force_destroy", n)
			}
			return nil
		},
	})
}

func TestAccBackupPolicy_destinationChangeRefusedWithoutForceDestroy(t *testing.T) {
	testAccPreCheck(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "data")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := func(dest string, force bool) string {
		return fmt.Sprintf(`
resource "backupctl_backup_policy" "this" {
  host          = "local"
  paths         = [%q]
  destination   = { path = %q }
  keep          = 1
  force_destroy = %t
}
`, src, filepath.Join(dir, dest), force)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg("a", false)},
			{Config: cfg("b", false), PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)Changing destination replaces the policy`)},
			{Config: cfg("a", true)},
			{Config: cfg("b", true), Check: resource.ComposeTestCheckFunc(expectArchives(filepath.Join(dir, "a"), 0), expectArchives(filepath.Join(dir, "b"), 1))},
		},
	})
}

// TestAccBackupPolicy_databasePasswordNeverLeaks applies a policy with a
// database password through the real CLI with TF_LOG=trace and searches
// the log, the state and the JSON plan for the password.
func TestAccBackupPolicy_databasePasswordNeverLeaks(t *testing.T) {
	testAccPreCheck(t)
	src := dbtest.StartPostgresT(t)
	dir := t.TempDir()
	tf := newTerraformCLI(t, dir)
	cfg := `
terraform {
  required_providers {
    backupctl = { source = "backupctl/backupctl" }
  }
}
variable "db_password" {
  type      = string
  sensitive = true
  ephemeral = true
}
` + strings.Replace(dbPolicy("postgresql", "127.0.0.1", src.Port, src.User, src.BinDir, filepath.Join(dir, "rs"), nil),
		"variable \"db_password\" {\n  type      = string\n  sensitive = true\n}\n", "", 1)
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(dir, "trace.log")
	env := []string{"TF_LOG=trace", "TF_LOG_PATH=" + logFile, "TF_VAR_db_password=" + src.Password}
	tf.run(t, env, "apply", "-auto-approve")
	tf.run(t, env, "plan", "-out=plan.bin")
	planJSON := tf.run(t, env, "show", "-json", "plan.bin")
	stateJSON := tf.run(t, env, "show", "-json")
	tf.run(t, env, "destroy", "-auto-approve")
	logData, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	// The log holds the run's steps (else the search proves nothing).
	if !strings.Contains(string(logData), "backup step") || !strings.Contains(string(logData), "postgresql dump") {
		t.Fatalf("trace log lacks the backup steps (%d bytes)", len(logData))
	}
	for where, data := range map[string][]byte{"trace log": logData, "plan JSON": planJSON, "state JSON": stateJSON} {
		if strings.Contains(string(data), src.Password) {
			t.Errorf("the database password is in the %s", where)
		}
	}
}

// TestAccBackupPolicy_archiveWithoutManifestIsKept is the reviewer's
// scenario: two generations, one manifest deleted out of band, the same
// configuration planned and applied. The archive must stay on disk (it may
// be the only copy of that data), must not be listed as a generation (it
// cannot be verified), must not be pruned by later runs, and the plan must
// converge once the change is accepted.
func TestAccBackupPolicy_archiveWithoutManifestIsKept(t *testing.T) {
	testAccPreCheck(t)
	root := t.TempDir()
	proxyPaths, _ := backuptest.SMFTree(t, root)
	dir := t.TempDir()
	dest := filepath.Join(dir, "arms-proxy")
	log := orderLog(filepath.Join(dir, "order.log"))
	var orphan, orphanID, savedManifest string
	// suffix names a file beside the orphan, known only once it is chosen.
	exists := func(suffix string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			if _, err := os.Stat(orphan + suffix); err != nil {
				return fmt.Errorf("%s was deleted: %v", orphan+suffix, err)
			}
			return nil
		}
	}
	notListed := func(s *terraform.State) error {
		a := s.RootModule().Resources[policyAddr].Primary.Attributes
		for k, v := range a {
			if strings.HasPrefix(k, "generations.") && strings.HasSuffix(k, ".id") && v == orphanID {
				return fmt.Errorf("the archive without a manifest is listed as generation %s", k)
			}
		}
		return nil
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{Config: smfConfig(proxyPaths, dest, log, 2, "1", "")},
			{
				Config:            smfConfig(proxyPaths, dest, log, 2, "2", ""),
				ConfigStateChecks: []statecheck.StateCheck{generationsLen(2)},
				Check: func(s *terraform.State) error {
					a := s.RootModule().Resources[policyAddr].Primary.Attributes
					orphanID, orphan = a["generations.1.id"], a["generations.1.file"]
					b, err := os.ReadFile(orphan + ".manifest.json")
					savedManifest = string(b)
					return err
				},
			},
			{
				// The manifest of the older one goes: the plan is not empty.
				PreConfig: func() {
					if err := os.Remove(orphan + ".manifest.json"); err != nil {
						t.Fatal(err)
					}
				},
				Config:             smfConfig(proxyPaths, dest, log, 2, "2", ""),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				// Applying accepts it: the archive stays, it is not a generation.
				Config: smfConfig(proxyPaths, dest, log, 2, "2", ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(policyAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{generationsLen(1)},
				Check:             resource.ComposeTestCheckFunc(expectArchives(dest, 2), exists(""), exists(".labels.json"), notListed),
			},
			// Then nothing is left to do (the warning stays).
			{Config: smfConfig(proxyPaths, dest, log, 2, "2", ""), PlanOnly: true},
			{
				// A new generation prunes only good ones: two good, plus the orphan.
				Config:            smfConfig(proxyPaths, dest, log, 2, "3", ""),
				ConfigStateChecks: []statecheck.StateCheck{generationsLen(2)},
				Check:             resource.ComposeTestCheckFunc(expectArchives(dest, 3), exists(""), notListed),
			},
			{Config: smfConfig(proxyPaths, dest, log, 2, "3", ""), PlanOnly: true},
			{
				// The operator puts the manifest back: it is a generation again,
				// the oldest of three with keep = 2, so the next apply prunes it.
				PreConfig: func() {
					if err := os.WriteFile(orphan+".manifest.json", []byte(savedManifest), 0o644); err != nil {
						t.Fatal(err)
					}
				},
				Config: smfConfig(proxyPaths, dest, log, 2, "3", ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(policyAddr, tfjsonpath.New("generations"), knownvalue.ListSizeExact(2)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{generationsLen(2)},
				Check:             resource.ComposeTestCheckFunc(expectArchives(dest, 2), notListed),
			},
			{Config: smfConfig(proxyPaths, dest, log, 2, "3", ""), PlanOnly: true},
		},
	})
}

// TestAccBackupPolicy_unverifiableArchiveWarning runs the real CLI: an
// archive whose manifest is damaged makes `plan -detailed-exitcode` report
// a change once, with a warning naming the file, the problem and what to
// do; after the apply the plan is empty, the warning stays and the
// archive is still there.
func TestAccBackupPolicy_unverifiableArchiveWarning(t *testing.T) {
	testAccPreCheck(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "data")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(dir, "bk")
	tf := newTerraformCLI(t, dir)
	write := func(trigger string) {
		cfg := fmt.Sprintf(`
terraform {
  required_providers {
    backupctl = { source = "backupctl/backupctl" }
  }
}
resource "backupctl_backup_policy" "this" {
  host          = "local"
  paths         = [%q]
  destination   = { path = %q }
  keep          = 2
  trigger       = %q
  force_destroy = true
}
`, src, dest, trigger)
		if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	plan := func(wantExit int) string {
		t.Helper()
		cmd := exec.Command(os.Getenv("TF_ACC_TERRAFORM_PATH"), "-chdir="+dir, "plan", "-detailed-exitcode", "-no-color")
		cmd.Env = append(os.Environ(), tf.env...)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != wantExit {
			t.Fatalf("plan -detailed-exitcode exited %d, want %d:\n%s", code, wantExit, out)
		}
		return string(out)
	}
	write("1")
	tf.run(t, nil, "apply", "-auto-approve")
	write("2")
	tf.run(t, nil, "apply", "-auto-approve")
	files := archiveFiles(dest)
	if len(files) != 2 {
		t.Fatalf("archives: %v", files)
	}
	damaged := files[0]
	if err := os.WriteFile(damaged+".manifest.json", []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	expectWarning := func(out string) {
		t.Helper()
		for _, want := range []string{"kept but not verifiable", damaged + ": its manifest " + damaged + ".manifest.json cannot be used",
			"never prunes or deletes it", "put the manifest back"} {
			if !strings.Contains(strings.Join(strings.Fields(out), " "), want) {
				t.Errorf("plan output lacks %q:\n%s", want, out)
			}
		}
	}
	out := plan(2)
	expectWarning(out)
	if !strings.Contains(out, "no longer a generation") {
		t.Errorf("the drift warning does not say what applying does:\n%s", out)
	}
	expectWarning(string(tf.run(t, nil, "apply", "-auto-approve")))
	expectWarning(plan(0))
	if got := archiveFiles(dest); len(got) != 2 {
		t.Fatalf("archives after apply: %v", got)
	}
	tf.run(t, nil, "destroy", "-auto-approve")
	if got := archiveFiles(dest); len(got) != 0 {
		t.Fatalf("archives after destroy with force_destroy: %v", got)
	}
}

// When the only archive left has lost its manifest, no verified
// generation exists: the policy leaves the state and the next apply takes
// a new backup, keeping the old archive.
func TestAccBackupPolicy_onlyUnverifiableLeftTakesNewBackup(t *testing.T) {
	testAccPreCheck(t)
	root := t.TempDir()
	proxyPaths, _ := backuptest.SMFTree(t, root)
	dir := t.TempDir()
	dest := filepath.Join(dir, "arms-proxy")
	log := orderLog(filepath.Join(dir, "order.log"))
	var old string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{Config: smfConfig(proxyPaths, dest, log, 1, "1", ""), Check: func(*terraform.State) error {
				old = archiveFiles(dest)[0]
				return nil
			}},
			{
				PreConfig: func() {
					if err := os.Remove(old + ".manifest.json"); err != nil {
						t.Fatal(err)
					}
				},
				Config: smfConfig(proxyPaths, dest, log, 1, "1", ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(policyAddr, plancheck.ResourceActionCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{generationsLen(1)},
				Check: resource.ComposeTestCheckFunc(expectArchives(dest, 2), func(s *terraform.State) error {
					if _, err := os.Stat(old); err != nil {
						return fmt.Errorf("the archive without a manifest was deleted: %v", err)
					}
					if f := s.RootModule().Resources[policyAddr].Primary.Attributes["generations.0.file"]; f == old {
						return fmt.Errorf("the archive without a manifest is listed")
					}
					return nil
				}),
			},
			{Config: smfConfig(proxyPaths, dest, log, 1, "1", ""), PlanOnly: true},
		},
	})
}

func TestUnverifiableReason(t *testing.T) {
	f := "/bk/x-20260101T000000Z-00000000.tar.gz"
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("%w: %s has no manifest", archive.ErrMissing, f), "its manifest " + f + ".manifest.json is missing"},
		{fmt.Errorf("%w: manifest of %s: version 2 is newer than this provider reads (1)", archive.ErrCorrupt, f),
			"its manifest " + f + ".manifest.json cannot be used: version 2 is newer than this provider reads (1)"},
		{nil, "missing or unreadable"},
	} {
		if got := unverifiableReason(backup.Problem{File: f, Unverifiable: true, Err: c.err}); !strings.Contains(got, c.want) {
			t.Errorf("%v: %q, want %q", c.err, got, c.want)
		}
	}
}

// TestAccBackupPolicy_hostChangeMovesDefaultDestination: with
// destination.host unset the archives follow host, so changing host is a
// change of destination: refused while generations exist (naming host,
// nothing deleted), a replacement (new id) with force_destroy, and an
// in-place update when destination.host pins the archives where they are.
func TestAccBackupPolicy_hostChangeMovesDefaultDestination(t *testing.T) {
	testAccPreCheck(t)
	s := sshdtest.StartT(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "data")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(dir, "bk")
	cfg := func(host, destHost string, force bool) string {
		dh := ""
		if destHost != "" {
			dh = fmt.Sprintf("host = %q, ", destHost)
		}
		return sshHostConfig(s, "") + fmt.Sprintf(`
resource "backupctl_backup_policy" "this" {
  host          = %q
  paths         = [%q]
  destination   = { %spath = %q }
  keep          = 1
  force_destroy = %t
}
`, host, src, dh, dest, force)
	}
	var firstGen string
	idIs := func(want string) statecheck.StateCheck {
		return statecheck.ExpectKnownValue(policyAddr, tfjsonpath.New("id"), knownvalue.StringExact(want))
	}
	sameGeneration := func(s *terraform.State) error {
		if got := s.RootModule().Resources[policyAddr].Primary.Attributes["generations.0.id"]; got != firstGen {
			return fmt.Errorf("generation %s, want the first one %s", got, firstGen)
		}
		return nil
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:            cfg("local", "", false),
				ConfigStateChecks: []statecheck.StateCheck{idIs("local:" + dest), generationsLen(1)},
				Check: func(s *terraform.State) error {
					firstGen = s.RootModule().Resources[policyAddr].Primary.Attributes["generations.0.id"]
					return nil
				},
			},
			{
				// Like a change of destination: refused, naming host.
				Config:      cfg("box", "", false),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Backup generations would be lost \(host\).*Changing host replaces the policy`),
			},
			{
				// Nothing was deleted on the old host.
				Config: cfg("local", "", false),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
				ConfigStateChecks: []statecheck.StateCheck{idIs("local:" + dest), generationsLen(1)},
				Check:             resource.ComposeTestCheckFunc(expectArchives(dest, 1), sameGeneration),
			},
			{
				// Pinning destination.host to where the archives are moves
				// only the source: an update in place, same id and archives.
				Config: cfg("box", "local", false),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(policyAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{idIs("local:" + dest), generationsLen(1)},
				Check:             resource.ComposeTestCheckFunc(expectArchives(dest, 1), sameGeneration),
			},
			{
				// Back to the default destination (still local): in place.
				Config: cfg("local", "", true),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(policyAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{idIs("local:" + dest), generationsLen(1)},
				Check:             resource.ComposeTestCheckFunc(expectArchives(dest, 1), sameGeneration),
			},
			{
				// With force_destroy: replaced, and the id names the new host.
				Config: cfg("box", "", true),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(policyAddr, plancheck.ResourceActionDestroyBeforeCreate),
					plancheck.ExpectKnownValue(policyAddr, tfjsonpath.New("id"), knownvalue.StringExact("box:"+dest)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{idIs("box:" + dest), generationsLen(1)},
				Check:             expectArchives(dest, 1),
			},
		},
	})
}
