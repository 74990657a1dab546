package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/backupctl/terraform-provider-backupctl/internal/gdsemu"
	"github.com/backupctl/terraform-provider-backupctl/internal/kcpsemu"
	"github.com/backupctl/terraform-provider-backupctl/internal/sshdtest"
	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// hclBody is the body of a block, one `name = value` per entry (a value
// may span lines).
type hclBody []string

// with returns a copy of b where each kv replaces the entry of the same
// name, or is added; "-name" removes the entry.
func (b hclBody) with(kvs ...string) hclBody {
	out := append(hclBody{}, b...)
	for _, kv := range kvs {
		name := strings.Fields(kv)[0]
		if del, ok := strings.CutPrefix(name, "-"); ok {
			for i, e := range out {
				if strings.Fields(e)[0] == del {
					out = append(out[:i], out[i+1:]...)
					break
				}
			}
			continue
		}
		replaced := false
		for i, e := range out {
			if strings.Fields(e)[0] == name {
				out[i], replaced = kv, true
			}
		}
		if !replaced {
			out = append(out, kv)
		}
	}
	return out
}

func (b hclBody) block(kind, typ, name string) string {
	return fmt.Sprintf("%s %q %q {\n  %s\n}\n", kind, typ, name, strings.Join(b, "\n  "))
}

// badInput is one configuration terraform must refuse at plan.
type badInput struct {
	name string
	// attr is the attribute the diagnostic must name in its own words
	// (not only in the quoted configuration), as terraform spells paths.
	attr string
	// want matches the error: the diagnostic expected, not any error.
	want string
	cfg  string
	// provider: cfg carries its own provider block.
	provider bool
}

// The corpus covers every resource, every data source and the provider
// block. Around it run a KCPS emulator (configured in the provider), a GDS
// emulator (on PATH for "local", in the env of the SSH host "box") and a
// loopback sshd; an invalid configuration must reach none of them.
func TestAccBadInputCorpus(t *testing.T) {
	testAccPreCheck(t)
	t.Setenv("SSH_AUTH_SOCK", "")
	srv := startKCPSEmu(t, kcpsTestScale)
	emu := gdsemu.StartT(t, gdsAccLayout())
	t.Setenv("PATH", emu.BinDir+":"+os.Getenv("PATH"))
	t.Setenv(gdsemu.EnvRoot, emu.Root)
	s := sshdtest.StartT(t)
	dir := t.TempDir()
	env := emu.HostEnv()
	provider := fmt.Sprintf(`
provider "backupctl" {
  hosts = {
    box = {
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
  kcps = {
    endpoint   = %q
    api_key    = %q
    secret_key = %q
  }
}
`, s.Addr, s.User, s.ClientKey, s.KnownHostsFile, env["PATH"], env[gdsemu.EnvRoot], srv.Endpoint, kcpsemu.DemoAPIKey, kcpsemu.DemoSecretKey)

	cases := badInputCorpus(dir, s)

	// Every base configuration is valid: the control plan, with all of
	// them together, must succeed (run last, after the counters are read).
	control := badInputControl(dir)

	cmd0 := transport.Total(transport.Snapshot().Commands)
	snap0 := transport.Snapshot()
	dial0, warm0 := transport.Total(snap0.Dials), transport.Total(snap0.Warm)
	api0 := srv.TotalCalls()
	sdx0 := len(emu.Calls())
	var mu sync.Mutex
	refused := 0
	t.Run("corpus", func(t *testing.T) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				cfg := provider + c.cfg
				if c.provider {
					cfg = c.cfg
				}
				var got error
				resource.Test(t, resource.TestCase{
					ProtoV6ProviderFactories: testProviderFactories,
					ErrorCheck: func(err error) error {
						got = err
						return nil
					},
					Steps: []resource.TestStep{{Config: cfg, PlanOnly: true}},
				})
				switch {
				case got == nil:
					t.Fatalf("plan accepted the configuration:\n%s", c.cfg)
				case !regexp.MustCompile(c.want).MatchString(got.Error()):
					t.Fatalf("want an error matching %s, got:\n%v", c.want, got)
				case !namesAttribute(got, c.attr):
					t.Fatalf("the diagnostic names %s neither in its text nor by quoting its line:\n%v", c.attr, got)
				}
				mu.Lock()
				refused++
				mu.Unlock()
			})
		}
	})
	cmds := transport.Total(transport.Snapshot().Commands) - cmd0
	// Configure connects to the configured hosts ahead of use (Pool.Warm):
	// those logins open no session. Any other connection means a resource
	// went to a host for a configuration it should have refused.
	snap := transport.Snapshot()
	dials := (transport.Total(snap.Dials) - dial0) - (transport.Total(snap.Warm) - warm0)
	sdx := len(emu.Calls()) - sdx0
	api := srv.TotalCalls() - api0
	if cmds != 0 || dials != 0 || sdx != 0 {
		t.Errorf("invalid configurations ran %d commands (%d sdx commands) and opened %d SSH connections for resources; want none", cmds, sdx, dials)
	}
	if api != 0 {
		t.Errorf("invalid configurations made %d KCPS API calls (%v); want none", api, srv.CallCounts())
	}
	if len(cases) < 40 {
		t.Errorf("the corpus has %d configurations; want at least 40", len(cases))
	}
	addSummary(fmt.Sprintf("bad-input corpus: %d configurations refused at plan, %d commands, %d API calls", refused, cmds+int64(sdx), api))

	t.Run("control", func(t *testing.T) {
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: testProviderFactories,
			Steps:                    []resource.TestStep{{Config: provider + control, PlanOnly: true, ExpectNonEmptyPlan: true}},
		})
		if srv.TotalCalls() == api0 || len(emu.Calls()) == sdx0 || transport.Total(transport.Snapshot().Dials) == dial0 {
			t.Errorf("the valid control plan reached neither KCPS, GDS nor the SSH host: the counters prove nothing")
		}
	})
}

// namesAttribute reports whether the user reading err learns which
// attribute is wrong: the diagnostic's own text names it, or, for a
// top-level attribute, terraform quotes the attribute's line. (For an
// attribute nested in an object terraform quotes only the resource's
// first line, so the text must name it.)
//
// A nested attribute may also be named by its last step alone when that
// is a compound name no sentence uses otherwise ("from_path is required"),
// not when it is a plain word ("name", "class").
func namesAttribute(err error, attr string) bool {
	text := diagText(err)
	if strings.Contains(text, attr) {
		return true
	}
	if strings.Contains(attr, ".") {
		leaf := attr[strings.LastIndex(attr, ".")+1:]
		word, _, _ := strings.Cut(leaf, "[")
		return strings.Contains(word, "_") && regexp.MustCompile(`\b`+regexp.QuoteMeta(leaf)+`\b`).MatchString(text)
	}
	root, _, _ := strings.Cut(attr, "[")
	quoted := regexp.MustCompile(`(?m)^[\s│]*\d+:\s+` + regexp.QuoteMeta(root) + `\s*=`)
	return quoted.MatchString(err.Error())
}

// Valid bases; every case changes one thing.
func badInputBases(dir string) map[string]hclBody {
	return map[string]hclBody{
		"policy":   {`host = "local"`, `paths = ["/etc/hostname"]`, fmt.Sprintf(`destination = { path = %q }`, filepath.Join(dir, "bk")), `keep = 2`},
		"database": {`engine = "postgresql"`, `host = "127.0.0.1"`, `port = 5432`, `user = "postgres"`, `databases = ["rs"]`, `bin_dir = "/usr/lib/postgresql/15/bin"`},
		"pair":     {`host = "local"`, `class = "Class1"`, `master = "Volume1"`, `proxy = "Volume2"`},
		"group":    {`host = "box"`, `class = "Class1"`, `master = "Group1"`, `proxy = "Group3"`, `volume_map = { Volume1 = "Proxy1", Volume3 = "Proxy3" }`},
		"snap":     {fmt.Sprintf("volume_id = %q", kcpsemu.DemoVolDetached), `keep = 3`, `trigger = "a"`},
		"sched":    {fmt.Sprintf("volume_id = %q", kcpsemu.DemoVolDBData), `interval = "daily"`, `hour = 3`, `keep = 3`},
		"archive":  {fmt.Sprintf(`archive = { file = "/var/backups/a.tar.gz", from_host = "local", target_host = "box", target_path = %q }`, filepath.Join(dir, "drill"))},
		"gdsrest":  {`gds = { host = "box", class = "Class1", proxy = "Volume2" }`, `mode = "in_place"`, `confirm = "box/Class1/Volume2"`},
		"kcpsrest": {fmt.Sprintf(`kcps = { root_snapshot_id = "s-root", data_snapshot_ids = ["s-data"], name = "web01-drill", service_offering_id = %q, network_id = %q, os_type_id = %q }`, kcpsemu.DemoServiceOffering, kcpsemu.DemoNetworkEast, kcpsemu.DemoOSType)},
		"volumes":  {`host = "box"`, `class = "Class1"`},
		"snaps":    {fmt.Sprintf("volume_id = %q", kcpsemu.DemoVolDBData)},
		"gens":     {`host = "box"`, fmt.Sprintf("path = %q", filepath.Join(dir, "bk"))},
		"host":     {`host = "box"`},
	}
}

// badInputControl is every base at once: valid, and reading from every
// emulator at plan.
func badInputControl(dir string) string {
	b := badInputBases(dir)
	return b["policy"].with("database = {\n    "+strings.Join(b["database"], "\n    ")+"\n  }").block("resource", "backupctl_backup_policy", "p") +
		b["pair"].block("resource", "backupctl_gds_proxy_pair", "p") +
		b["group"].block("resource", "backupctl_gds_proxy_pair", "g") +
		b["snap"].block("resource", "backupctl_kcps_volume_snapshot", "v") +
		b["sched"].block("resource", "backupctl_kcps_snapshot_schedule", "s") +
		b["archive"].block("resource", "backupctl_restore_from_snapshot", "a") +
		b["gdsrest"].block("resource", "backupctl_restore_from_snapshot", "g") +
		b["kcpsrest"].block("resource", "backupctl_restore_from_snapshot", "k") +
		b["volumes"].block("data", "backupctl_gds_volumes", "v") +
		b["snaps"].block("data", "backupctl_kcps_snapshots", "s") +
		b["gens"].block("data", "backupctl_backup_generations", "g") +
		b["host"].block("data", "backupctl_host", "h")
}

func badInputCorpus(dir string, s *sshdtest.Server) []badInput {
	b := badInputBases(dir)
	policy := func(kvs ...string) string {
		return b["policy"].with(kvs...).block("resource", "backupctl_backup_policy", "p")
	}
	db := func(kvs ...string) string {
		return policy("database = {\n    " + strings.Join(b["database"].with(kvs...), "\n    ") + "\n  }")
	}
	pair := func(kvs ...string) string {
		return b["pair"].with(kvs...).block("resource", "backupctl_gds_proxy_pair", "p")
	}
	group := func(kvs ...string) string {
		return b["group"].with(kvs...).block("resource", "backupctl_gds_proxy_pair", "g")
	}
	snap := func(kvs ...string) string {
		return b["snap"].with(kvs...).block("resource", "backupctl_kcps_volume_snapshot", "v")
	}
	sched := func(kvs ...string) string {
		return b["sched"].with(kvs...).block("resource", "backupctl_kcps_snapshot_schedule", "s")
	}
	restore := func(base string, kvs ...string) string {
		return b[base].with(kvs...).block("resource", "backupctl_restore_from_snapshot", "r")
	}
	archive := func(from, to string) string {
		return restore("archive", strings.Replace(b["archive"][0], from, to, 1))
	}
	ds := func(base, typ string, kvs ...string) string { return b[base].with(kvs...).block("data", typ, "d") }
	// Provider blocks with one problem; the data source would connect.
	prov := func(host, kcps string) string {
		p := "provider \"backupctl\" {\n"
		if host != "" {
			p += "  hosts = {\n    " + host + "\n  }\n"
		}
		if kcps != "" {
			p += "  kcps = { " + kcps + " }\n"
		}
		return p + "}\n" + ds("host", "backupctl_host", `host = "a"`)
	}
	auth := fmt.Sprintf(`private_key = %q, known_hosts_file = %q`, s.ClientKey, s.KnownHostsFile)

	return []badInput{
		// backupctl_backup_policy
		{name: "policy keep 0", attr: "keep", want: `must be at least 1`, cfg: policy(`keep = 0`)},
		{name: "policy relative path", attr: "paths[0]", want: `absolute path`, cfg: policy(`paths = ["etc/hostname"]`)},
		{name: "policy relative destination", attr: "destination.path", want: `absolute path`, cfg: policy(`destination = { path = "bk" }`)},
		{name: "policy unknown format", attr: "destination.format", want: `tar\.zst`, cfg: policy(fmt.Sprintf(`destination = { path = %q, format = "zip" }`, filepath.Join(dir, "bk")))},
		{name: "policy unknown preset", attr: "application", want: `smf_arms_proxy`, cfg: policy(`application = "smf_armsproxy"`)},
		{name: "policy interstage without server_group", attr: "labels", want: `server_group`, cfg: policy(`application = "interstage_managed"`, `-paths`, `export = ["true"]`)},
		{name: "policy groupmax server without master", attr: "labels", want: `master_host`, cfg: policy(`application = "groupmax_server"`, `-paths`)},
		{name: "policy smf_rs without database", attr: "database", want: `DBMS`, cfg: policy(`application = "smf_rs"`, `-paths`)},
		{name: "policy bad verify_on_refresh", attr: "verify_on_refresh", want: `checksum`, cfg: policy(`verify_on_refresh = "md5"`)},
		{name: "policy empty stop command", attr: "stop[0]", want: `length`, cfg: policy(`stop = [""]`)},
		{name: "policy empty start command", attr: "start[1]", want: `length`, cfg: policy(`start = ["true", ""]`)},
		{name: "policy empty after_success", attr: "after_success[0]", want: `length`, cfg: policy(`after_success = [""]`)},
		{name: "policy unknown host", attr: "host", want: `"nowhere" is not defined`, cfg: policy(`host = "nowhere"`)},
		{name: "policy unknown destination host", attr: "destination.host", want: `"nas9" is not defined`, cfg: policy(fmt.Sprintf(`destination = { host = "nas9", path = %q }`, filepath.Join(dir, "bk")))},
		{name: "policy command on unknown host", attr: "after_success[0]", want: `gm-master`, cfg: policy(`after_success = ["@gm-master: true"]`)},
		{name: "policy missing keep", attr: "keep", want: `"keep" is required`, cfg: policy(`-keep`)},
		{name: "database unknown engine", attr: "database.engine", want: `postgresql`, cfg: db(`engine = "oracle"`)},
		{name: "database port", attr: "database.port", want: `between 1 and 65535`, cfg: db(`port = 70000`)},

		// backupctl_gds_proxy_pair
		{name: "pair bad class", attr: "class", want: `Invalid GDS object name`, cfg: pair(`class = "Class 1"`)},
		{name: "pair master like an option", attr: "master", want: `Invalid GDS object name`, cfg: pair(`master = "-Volume1"`)},
		{name: "pair long proxy", attr: "proxy", want: `longer than 32`, cfg: pair(fmt.Sprintf("proxy = %q", strings.Repeat("v", 33)))},
		{name: "pair proxy is master", attr: "proxy", want: `Proxy equals master`, cfg: pair(`proxy = "Volume1"`)},
		{name: "pair bad state", attr: "state", want: `parted`, cfg: pair(`state = "split"`)},
		{name: "pair empty quiesce before", attr: "quiesce.before[0]", want: `length`, cfg: pair(`quiesce = { before = [""] }`)},
		{name: "pair empty quiesce after", attr: "quiesce.after[1]", want: `length`, cfg: pair(`quiesce = { after = ["true", ""] }`)},
		{name: "pair unknown host", attr: "host", want: `"nowhere" is not defined`, cfg: pair(`host = "nowhere"`)},
		{name: "pair volume_map on a volume pair", attr: "volume_map", want: `volume_map on a volume pair`, cfg: pair(`volume_map = { Volume1 = "Volume2" }`)},
		{name: "group empty volume_map", attr: "volume_map", want: `at least 1`, cfg: group(`volume_map = {}`)},
		{name: "group proxy named twice", attr: `volume_map["Volume3"]`, want: `Proxy volume named twice`, cfg: group(`volume_map = { Volume1 = "Proxy1", Volume3 = "Proxy1" }`)},
		{name: "group bad map key", attr: "volume_map", want: `Invalid GDS object name`, cfg: group(`volume_map = { "Vol ume1" = "Proxy1" }`)},

		// backupctl_kcps_volume_snapshot
		{name: "snapshot keep 9", attr: "keep", want: `between 1 and 8`, cfg: snap(`keep = 9`)},
		{name: "snapshot keep 0", attr: "keep", want: `between 1 and 8`, cfg: snap(`keep = 0`)},
		{name: "snapshot volume id", attr: "volume_id", want: `KCPS volume id`, cfg: snap(`volume_id = "vol-1"`)},
		{name: "snapshot vm_power", attr: "vm_power", want: `require_stopped`, cfg: snap(`vm_power = "hibernate"`)},
		{name: "snapshot missing volume", attr: "volume_id", want: `"volume_id" is required`, cfg: snap(`-volume_id`)},

		// backupctl_kcps_snapshot_schedule
		{name: "schedule weekly day 9", attr: "day", want: `DAILY`, cfg: sched(`interval = "weekly"`, `day = 9`)},
		{name: "schedule monthly without day", attr: "day", want: `monthly`, cfg: sched(`interval = "monthly"`)},
		{name: "schedule keep 9", attr: "keep", want: `between 1 and 8`, cfg: sched(`keep = 9`)},
		{name: "schedule hourly with hour", attr: "hour", want: `hour is not used by hourly`, cfg: sched(`interval = "hourly"`)},
		{name: "schedule daily without hour", attr: "hour", want: `hour is required`, cfg: sched(`-hour`)},
		{name: "schedule hour 24", attr: "hour", want: `between 0 and 23`, cfg: sched(`hour = 24`)},
		{name: "schedule minute 60", attr: "minute", want: `between 0 and 59`, cfg: sched(`minute = 60`)},
		{name: "schedule interval", attr: "interval", want: `monthly`, cfg: sched(`interval = "yearly"`)},
		{name: "schedule time zone", attr: "timezone", want: `Unknown time zone`, cfg: sched(`timezone = "Mars/Olympus"`)},
		{name: "schedule volume id", attr: "volume_id", want: `KCPS volume id`, cfg: sched(`volume_id = "DATA-1"`)},

		// backupctl_restore_from_snapshot
		{name: "restore two sources", attr: "archive", want: `archive and kcps are all set`, cfg: restore("archive", b["kcpsrest"][0])},
		{name: "restore no source", attr: "archive", want: `Exactly one source block`, cfg: restore("archive", `-archive`, `mode = "drill"`)},
		{name: "restore in_place without confirm", attr: "confirm", want: `confirm is required`, cfg: restore("archive", `mode = "in_place"`)},
		{name: "restore in_place wrong confirm", attr: "confirm", want: `does not match`, cfg: restore("gdsrest", `confirm = "box/Class1/Volume1"`)},
		{name: "restore bad mode", attr: "mode", want: `in_place`, cfg: restore("archive", `mode = "sideways"`)},
		{name: "restore bad max_rpo", attr: "max_rpo", want: `not a Go duration`, cfg: restore("archive", `max_rpo = "1 day"`)},
		{name: "restore negative max_rto", attr: "max_rto", want: `longer than zero`, cfg: restore("archive", `max_rto = "-5m"`)},
		{name: "restore verify without commands", attr: "verify.commands", want: `at least 1`, cfg: restore("archive", `verify = { commands = [] }`)},
		{name: "restore unknown preset", attr: "archive.application", want: `smf_arms_proxy`, cfg: archive(`from_host`, `application = "smf", from_host`)},
		{name: "restore gds drill", attr: "mode", want: `always in place`, cfg: restore("gdsrest", `-mode`, `-confirm`)},
		{name: "restore gds max_rpo without time", attr: "max_rpo", want: `snapshot_time`, cfg: restore("gdsrest", `max_rpo = "1h"`)},
		{name: "restore labels on kcps", attr: "require_labels", want: `applies to archives`, cfg: restore("kcpsrest", `require_labels = { server_group = "g" }`)},

		// data sources
		{name: "gds_volumes bad class", attr: "class", want: `Invalid GDS object name`, cfg: ds("volumes", "backupctl_gds_volumes", `class = "Class 1"`)},
		{name: "gds_volumes unknown host", attr: "host", want: `"nowhere" is not defined`, cfg: ds("volumes", "backupctl_gds_volumes", `host = "nowhere"`)},
		{name: "kcps_snapshots volume id", attr: "volume_id", want: `KCPS volume id`, cfg: ds("snaps", "backupctl_kcps_snapshots", `volume_id = "nope"`)},
		{name: "kcps_snapshots interval type", attr: "interval_type", want: `MONTHLY`, cfg: ds("snaps", "backupctl_kcps_snapshots", `interval_type = "YEARLY"`)},
		{name: "backup_generations relative path", attr: "path", want: `absolute path`, cfg: ds("gens", "backupctl_backup_generations", `path = "bk"`)},
		{name: "backup_generations verify", attr: "verify", want: `checksum`, cfg: ds("gens", "backupctl_backup_generations", `verify = "sha1"`)},
		{name: "backup_generations unknown host", attr: "host", want: `"nowhere" is not defined`, cfg: ds("gens", "backupctl_backup_generations", `host = "nowhere"`)},
		{name: "host unknown host", attr: "host", want: `"nowhere" is not defined`, cfg: ds("host", "backupctl_host", `host = "nowhere"`)},

		// nested attributes named by a compound leaf
		{name: "restore kcps empty network", attr: "kcps.network_id", want: `must not be empty`, cfg: restore("kcpsrest", strings.Replace(b["kcpsrest"][0], fmt.Sprintf("network_id = %q", kcpsemu.DemoNetworkEast), `network_id = " "`, 1))},
		{name: "restore generation without from_path", attr: "archive.from_path", want: `from_path is required`, cfg: archive(`file = "/var/backups/a.tar.gz"`, `generation_id = "a-1"`)},
		{name: "database relative bin_dir", attr: "database.bin_dir", want: `absolute path`, cfg: db(`bin_dir = "bin"`)},

		// nested attributes named in the diagnostic's summary
		{name: "database user like an option", attr: "database.user", want: `Invalid database user`, cfg: db(`user = "-Upostgres"`)},
		{name: "database listed twice", attr: "database.databases", want: `Duplicate database name`, cfg: db(`databases = ["rs", "rs"]`)},
		{name: "restore verify timeout", attr: "verify.timeout", want: `Invalid duration`, cfg: restore("archive", `verify = { commands = ["true"], timeout = "soon" }`)},
		{name: "restore relative target", attr: "archive.target_path", want: `Invalid path`, cfg: archive(fmt.Sprintf("target_path = %q", filepath.Join(dir, "drill")), `target_path = "drill"`)},
		{name: "restore drill into /", attr: "archive.target_path", want: `A drill into /`, cfg: archive(fmt.Sprintf("target_path = %q", filepath.Join(dir, "drill")), `target_path = "/"`)},
		{name: "restore bad sha256", attr: "archive.sha256", want: `Invalid SHA-256`, cfg: archive(`from_host`, `sha256 = "abc", from_host`)},
		{name: "restore unknown target host", attr: "archive.target_host", want: `Unknown host`, cfg: archive(`target_host = "box"`, `target_host = "nowhere"`)},
		{name: "restore gds bad class", attr: "gds.class", want: `Invalid GDS object name`, cfg: restore("gdsrest", `gds = { host = "box", class = "Class/1", proxy = "Volume2" }`)},
		{name: "restore gds snapshot_time", attr: "gds.snapshot_time", want: `Invalid time`, cfg: restore("gdsrest", `gds = { host = "box", class = "Class1", proxy = "Volume2", snapshot_time = "yesterday" }`)},
		{name: "restore kcps vm name", attr: "kcps.name", want: `Invalid VM name`, cfg: restore("kcpsrest", strings.Replace(b["kcpsrest"][0], `name = "web01-drill"`, `name = "web_01"`, 1))},
		{name: "restore kcps root as data", attr: "kcps.data_snapshot_ids", want: `ROOT snapshot listed as data`, cfg: restore("kcpsrest", strings.Replace(b["kcpsrest"][0], `data_snapshot_ids = ["s-data"]`, `data_snapshot_ids = ["s-root"]`, 1))},

		// provider block (loopback addresses only: nothing may be dialled)
		{name: "provider empty address", attr: `hosts["a"].address`, want: `must not be empty`, provider: true, cfg: prov(`a = { address = "", `+auth+` }`, "")},
		{name: "provider address with path", attr: `hosts["a"].address`, want: `no scheme, user or path`, provider: true, cfg: prov(fmt.Sprintf(`a = { address = "%s/x", `+auth+` }`, s.Addr), "")},
		{name: "provider user with colon", attr: `hosts["a"].user`, want: `not a valid login name`, provider: true, cfg: prov(fmt.Sprintf(`a = { address = %q, user = "root:x", `+auth+` }`, s.Addr), "")},
		{name: "provider env name", attr: `hosts["a"].env["A-B"]`, want: `not a valid variable name`, provider: true, cfg: prov(fmt.Sprintf(`a = { address = %q, env = { "A-B" = "1" }, `+auth+` }`, s.Addr), "")},
		{name: "provider no auth", attr: `hosts["a"]`, want: `No way to authenticate`, provider: true, cfg: prov(fmt.Sprintf(`a = { address = %q, known_hosts_file = %q }`, s.Addr, s.KnownHostsFile), "")},
		{name: "provider endpoint scheme", attr: "kcps.endpoint", want: `http\(s\) URL`, provider: true, cfg: prov(fmt.Sprintf(`a = { address = %q, `+auth+` }`, s.Addr), `endpoint = "ftp://127.0.0.1/client/api"`)},
	}
}
