package backup

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/backupctl/terraform-provider-backupctl/internal/apps"
	"github.com/backupctl/terraform-provider-backupctl/internal/archive"
	"github.com/backupctl/terraform-provider-backupctl/internal/backup/backuptest"
	"github.com/backupctl/terraform-provider-backupctl/internal/dbdump"
	"github.com/backupctl/terraform-provider-backupctl/internal/dbdump/dbtest"
	"github.com/backupctl/terraform-provider-backupctl/internal/sshdtest"
	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// gnuExtract extracts an archive with plain GNU tar -xpf into a new dir.
func gnuExtract(t *testing.T, file string) string {
	t.Helper()
	out := t.TempDir()
	flag := "-xpzf"
	if strings.HasSuffix(file, ".tar.zst") {
		flag = "--zstd -xpf"
	}
	args := append(strings.Fields(flag), file, "-C", out)
	if b, err := exec.Command("tar", args...).CombinedOutput(); err != nil {
		t.Fatalf("GNU tar %v: %v: %s", args, err, b)
	}
	return out
}

func TestSMFTreeKeepsOwnersModesAndTimesThroughGNUTar(t *testing.T) {
	for _, format := range []archive.Format{archive.FormatTarGz, archive.FormatTarZst} {
		t.Run(string(format), func(t *testing.T) {
			root := t.TempDir()
			proxyPaths, _ := backuptest.SMFTree(t, root)
			pool := transport.NewPool(nil)
			r := &Runner{Hosts: pool, Now: newClock().Now}
			p := Policy{Host: "local", Application: apps.SMFArmsProxy,
				Settings:    apps.Settings{Paths: proxyPaths},
				Destination: Destination{Path: filepath.Join(t.TempDir(), "arms-proxy"), Format: format},
				Keep:        7}
			res, err := r.Run(ctx(t), p)
			if err != nil || res.Error() != nil {
				t.Fatalf("%v %v", err, res.Error())
			}
			out := gnuExtract(t, res.Generation.File)
			want := backuptest.Snapshot(t, filepath.Join(root, "var/service/smf"))
			got := backuptest.Snapshot(t, filepath.Join(out, strings.TrimPrefix(root, "/"), "var/service/smf"))
			// Only the listed paths were archived: the heartbeat files are not.
			for k := range want {
				if strings.HasPrefix(k, "var/hb") || strings.HasPrefix(k, "etc/hb") {
					delete(want, k)
				}
			}
			// Parent directories that were not listed are made by tar itself.
			for _, k := range []string{".", "var", "etc"} {
				delete(want, k)
				delete(got, k)
			}
			if d := backuptest.Diff(want, got); d != "" {
				t.Fatalf("extracted tree differs:\n%s", d)
			}
		})
	}
}

func TestRemoteSourceThroughSSH(t *testing.T) {
	s := sshdtest.StartT(t)
	pool := transport.NewPool(map[string]transport.HostConfig{
		"smf1": {SSHConfig: transport.SSHConfig{Address: s.Addr, User: s.User, PrivateKey: s.ClientKey, KnownHostsFile: s.KnownHostsFile}},
	})
	t.Cleanup(func() { _ = pool.Close() })
	f := newFixture(t)
	f.runner.Hosts = pool
	p := f.policy()
	p.Host = "smf1"
	p.Destination.Host = "local"
	p.Stop = []string{f.logCmd("stop-on-$BACKUP_SOURCE_HOST")}
	p.Export = []string{`echo remote > "$BACKUP_EXPORT_DIR/x"`}
	p.Start = []string{f.logCmd("start")}
	res, err := f.runner.Run(ctx(t), p)
	if err != nil || res.Error() != nil {
		t.Fatalf("%v %v", err, res.Error())
	}
	if got := f.order(t); !reflect.DeepEqual(got, []string{"stop-on-smf1", "start"}) {
		t.Fatalf("order %v", got)
	}
	if !has(tarList(t, res.Generation.File), ExportAs+"/x") {
		t.Fatal("export file missing")
	}
	// The generations are listed through SSH too.
	ssh, _ := pool.Get("smf1")
	gens, _, err := Generations(ctx(t), ssh, f.dst, archive.VerifyChecksum)
	if err != nil || len(gens) != 1 || gens[0].SHA256 != res.Generation.SHA256 || gens[0].Labels["site"] != "tokyo" {
		t.Fatalf("listed over ssh: %+v %v", gens, err)
	}
}

func TestDatabaseDumpIsArchivedAndRestores(t *testing.T) {
	src := dbtest.StartPostgresT(t)
	src.MustSQL(t, "", "CREATE DATABASE rs;")
	src.MustSQL(t, "rs", "CREATE TABLE sa_config (id int primary key, body text); INSERT INTO sa_config SELECT g, repeat('cfg', g) FROM generate_series(1, 200) g;")
	f := newFixture(t)
	var seen []Step
	f.runner.OnStep = func(s Step) { seen = append(seen, s) }
	p := f.policy()
	p.Application = apps.SMFRS
	p.Database = &dbdump.Config{Engine: dbdump.PostgreSQL, Host: "127.0.0.1", Port: src.Port,
		User: src.User, Password: src.Password, BinDir: src.BinDir, Databases: []string{"rs"}}
	res, err := f.runner.Run(ctx(t), p)
	if err != nil || res.Error() != nil {
		t.Fatalf("%v %v", err, res.Error())
	}
	for _, s := range seen {
		if strings.Contains(s.Command+s.Output+s.Err, src.Password) {
			t.Fatalf("password in step %+v", s)
		}
	}
	if res.Generation.Sidecar.Database != "postgresql" {
		t.Fatalf("sidecar: %+v", res.Generation.Sidecar)
	}
	out := gnuExtract(t, res.Generation.File)
	dst := dbtest.StartPostgresT(t)
	cfg := dbdump.Config{Engine: dbdump.PostgreSQL, Host: dst.SocketDir, Port: dst.Port, User: dst.User, BinDir: dst.BinDir}
	if _, err := dbdump.Restore(ctx(t), &transport.Local{}, cfg, filepath.Join(out, ExportAs, DatabaseSubdir)); err != nil {
		t.Fatal(err)
	}
	q := "SELECT count(*), md5(string_agg(body, ',' ORDER BY id)) FROM sa_config"
	if got, want := dst.MustSQL(t, "rs", q), src.MustSQL(t, "rs", q); got != want {
		t.Fatalf("restored %s, want %s", got, want)
	}
}

// groupmaxFake installs stand-ins for the Groupmax and Object Server
// commands that append their name to the order log, and the directories
// the preset archives.
func groupmaxFake(t *testing.T, f *fixture) (base, bin string) {
	base = filepath.Join(f.dir, "GroupMail")
	bin = filepath.Join(f.dir, "objbin")
	for _, d := range groupmaxDirs {
		mustWrite(t, filepath.Join(base, d, "data"), "gm "+d, 0o640)
	}
	script := func(dir, name string) {
		mustWrite(t, filepath.Join(dir, name), "#!/bin/sh\necho "+name+" >> "+transport.Quote(f.log)+"\n", 0o755)
	}
	for _, n := range []string{"APSTOP", "APSTART", "GM_STOP", "GM_START"} {
		script(filepath.Join(base, "bin"), n)
	}
	mustWrite(t, filepath.Join(base, "bin", "nxsrepstat"), "#!/bin/sh\necho \"nxsrepstat:$2\" >> "+transport.Quote(f.log)+"\n", 0o755)
	script(bin, "xodstop")
	script(bin, "xodstart")
	return base, bin
}

var groupmaxDirs = []string{"Groupmax", "nxcdir", "nxudir", "nxrdir", "nxsdir", "oafkairan", "x400/config", "x400/runtime", "isp"}

func TestGroupmaxServerPresetOrderAndJournalClearOnMaster(t *testing.T) {
	f := newFixture(t)
	base, objbin := groupmaxFake(t, f)
	journal := filepath.Join(base, "nxsdir", "journal")
	for _, n := range []string{"gmsrv1.jnl", "gmsrv1-2.jnl", "gmsrv10", "other.jnl"} {
		mustWrite(t, filepath.Join(journal, n), "j", 0o600)
	}
	env := map[string]string{"PATH": objbin + ":/usr/bin:/bin"}
	pool := transport.NewPool(map[string]transport.HostConfig{
		"gm1":       {SSHConfig: transport.SSHConfig{Env: env}},
		"gm-master": {SSHConfig: transport.SSHConfig{Env: env}},
	})
	f.runner.Hosts = pool
	labels := map[string]string{apps.LabelMasterHost: "gm-master", apps.LabelGroupmaxHost: "gmsrv1", apps.LabelGroupMailDir: base}
	pre, err := apps.Resolve(apps.GroupmaxServer, labels)
	if err != nil {
		t.Fatal(err)
	}
	p := Policy{Host: "gm1", Application: pre.Name, Settings: apps.Effective(&pre, apps.Settings{}),
		Destination: Destination{Path: filepath.Join(f.dir, "bk", "gm1")}, Keep: 2, Labels: labels}
	if errs := Validate(p, &pre); len(errs) != 0 {
		t.Fatalf("validate: %v", errs)
	}
	res, err := f.runner.Run(ctx(t), p)
	if err != nil || res.Error() != nil {
		t.Fatalf("%v %v", err, res.Error())
	}
	want := []string{"nxsrepstat:gmsrv1", "APSTOP", "GM_STOP", "xodstop", "xodstart", "GM_START", "APSTART"}
	if got := f.order(t); !reflect.DeepEqual(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	// gmsrv1* went, on the master; the others stayed.
	left, _ := os.ReadDir(journal)
	var names []string
	for _, e := range left {
		names = append(names, e.Name())
	}
	if !reflect.DeepEqual(names, []string{"other.jnl"}) {
		t.Fatalf("journal left: %v", names)
	}
	var masterStep bool
	for _, s := range res.Steps {
		masterStep = masterStep || (s.Phase == PhaseAfterSuccess && s.Host == "gm-master")
	}
	if !masterStep {
		t.Fatal("the journal clear did not run on the master host")
	}
	if !has(tarList(t, res.Generation.File), strings.TrimPrefix(base, "/")+"/x400/runtime/data") {
		t.Fatal("x400/runtime not archived")
	}
}

func TestJournalNotClearedWhenTheArchiveFails(t *testing.T) {
	f := newFixture(t)
	base, objbin := groupmaxFake(t, f)
	jdir := filepath.Join(f.dir, "mng", "MCH_JOURNAL")
	mustWrite(t, filepath.Join(jdir, "j1"), "j", 0o600)
	pool := transport.NewPool(map[string]transport.HostConfig{
		"gm": {SSHConfig: transport.SSHConfig{Env: map[string]string{"PATH": objbin + ":/usr/bin:/bin"}}},
	})
	f.runner.Hosts = pool
	labels := map[string]string{apps.LabelMngJournal: filepath.Join(f.dir, "mng"), apps.LabelGroupMailDir: base}
	pre, _ := apps.Resolve(apps.GroupmaxMaster, labels)
	eff := apps.Effective(&pre, apps.Settings{})
	eff.Paths = append(eff.Paths, filepath.Join(base, "no-such-object-server-file"))
	p := Policy{Host: "gm", Settings: eff, Destination: Destination{Path: filepath.Join(f.dir, "bk")}, Keep: 1, Labels: labels}
	res, _ := f.runner.Run(ctx(t), p)
	if res.Err == nil {
		t.Fatal("archive of a missing file succeeded")
	}
	if _, err := os.Stat(filepath.Join(jdir, "j1")); err != nil {
		t.Fatal("the journal was cleared although the backup failed")
	}
	if got := f.order(t); !reflect.DeepEqual(got, []string{"APSTOP", "GM_STOP", "xodstop", "xodstart", "GM_START", "APSTART"}) {
		t.Fatalf("order %v", got)
	}
	// And when it succeeds, MCH_JOURNAL/* goes.
	p.Paths = eff.Paths[:len(eff.Paths)-1]
	if res, _ = f.runner.Run(ctx(t), p); res.Error() != nil {
		t.Fatal(res.Error())
	}
	if ents, _ := os.ReadDir(jdir); len(ents) != 0 {
		t.Fatalf("journal not cleared: %v", ents)
	}
}
