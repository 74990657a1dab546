package backup

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/apps"
	"github.com/backupctl/terraform-provider-backupctl/internal/archive"
	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// clock is an injected clock that moves one minute per call.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Minute)
	return c.t
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC)} }

type fixture struct {
	dir, src, dst, log string
	pool               *transport.Pool
	runner             *Runner
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	d := t.TempDir()
	f := &fixture{dir: d, src: filepath.Join(d, "src"), dst: filepath.Join(d, "dst", "smf-proxy"), log: filepath.Join(d, "order.log")}
	mustWrite(t, filepath.Join(f.src, "var/proxy/result-1.xml"), "<push id='1'/>", 0o640)
	mustWrite(t, filepath.Join(f.src, "var/proxy/sub/result-2.xml"), strings.Repeat("x", 5000), 0o600)
	mustWrite(t, filepath.Join(f.src, "etc/proxy.cfg"), "listen 127.0.0.1\n", 0o644)
	f.pool = transport.NewPool(nil)
	f.runner = &Runner{Hosts: f.pool, Now: newClock().Now}
	return f
}

func mustWrite(t *testing.T, p, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// logCmd returns a command that appends word to the order log.
func (f *fixture) logCmd(word string) string {
	return "echo " + word + " >> " + transport.Quote(f.log)
}

func (f *fixture) order(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(f.log)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

func (f *fixture) policy() Policy {
	return Policy{
		Host: "local",
		Settings: apps.Settings{
			Paths: []string{filepath.Join(f.src, "var/proxy"), filepath.Join(f.src, "etc/proxy.cfg")},
		},
		Destination: Destination{Path: f.dst},
		Keep:        3,
		Labels:      map[string]string{"site": "tokyo"},
		Trigger:     "t1",
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

func tarList(t *testing.T, file string) []string {
	t.Helper()
	out, err := exec.Command("tar", "-tzf", file).CombinedOutput()
	if err != nil {
		t.Fatalf("GNU tar cannot list %s: %v: %s", file, err, out)
	}
	return strings.Fields(string(out))
}

func has(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestRunOrderAndGeneration(t *testing.T) {
	f := newFixture(t)
	p := f.policy()
	p.Stop = []string{f.logCmd("stop1"), f.logCmd("stop2")}
	p.Export = []string{
		f.logCmd("export") + ` && echo "exported by $BACKUP_SOURCE_HOSTNAME" > "$BACKUP_EXPORT_DIR/export.txt"`,
	}
	p.AfterSuccess = []string{f.logCmd("after") + ` && test -s "$BACKUP_ARCHIVE" && echo "$BACKUP_GENERATION_ID" > ` + transport.Quote(filepath.Join(f.dir, "gen-id"))}
	p.Start = []string{f.logCmd("start1"), f.logCmd("start2")}

	res, err := f.runner.Run(ctx(t), p)
	if err != nil {
		t.Fatal(err)
	}
	if res.Error() != nil {
		t.Fatalf("run failed: %v\nsteps: %+v", res.Error(), res.Steps)
	}
	want := []string{"stop1", "stop2", "export", "after", "start1", "start2"}
	if got := f.order(t); !reflect.DeepEqual(got, want) {
		t.Fatalf("order = %v, want %v", got, want)
	}
	g := res.Generation
	if g == nil || g.Bytes == 0 || len(g.SHA256) != 64 || g.Files == 0 || g.Labels["site"] != "tokyo" {
		t.Fatalf("generation: %+v", g)
	}
	if !strings.HasPrefix(g.ID, "smf-proxy-20261122T") || filepath.Base(g.File) != g.ID+".tar.gz" {
		t.Fatalf("naming: id %s file %s", g.ID, g.File)
	}
	idFile, _ := os.ReadFile(filepath.Join(f.dir, "gen-id"))
	if strings.TrimSpace(string(idFile)) != g.ID {
		t.Fatalf("BACKUP_GENERATION_ID was %q, generation is %s", idFile, g.ID)
	}
	names := tarList(t, g.File)
	rel := strings.TrimPrefix(f.src, "/")
	for _, n := range []string{rel + "/var/proxy/sub/result-2.xml", rel + "/etc/proxy.cfg", ExportAs + "/export.txt"} {
		if !has(names, n) {
			t.Fatalf("archive lacks %s: %v", n, names)
		}
	}
	// The export directory is gone.
	for _, s := range res.Steps {
		if s.Phase == PhaseCleanup {
			d := strings.TrimPrefix(s.Command, "rm -rf ")
			if _, err := os.Stat(d); !os.IsNotExist(err) {
				t.Fatalf("export dir %s left behind", d)
			}
		}
	}
	// Listed with its labels from the sidecar.
	gens, probs, err := Generations(ctx(t), f.local(t), f.dst, archive.VerifyChecksum)
	if err != nil || len(probs) != 0 || len(gens) != 1 {
		t.Fatalf("Generations: %v %v %v", gens, probs, err)
	}
	if gens[0].ID != g.ID || gens[0].Labels["site"] != "tokyo" || gens[0].Sidecar.Trigger != "t1" || gens[0].SHA256 != g.SHA256 {
		t.Fatalf("listed %+v", gens[0])
	}
}

func TestStartRunsAfterFailedArchive(t *testing.T) {
	f := newFixture(t)
	p := f.policy()
	p.Paths = append(p.Paths, filepath.Join(f.src, "does-not-exist"))
	p.Stop = []string{f.logCmd("stop")}
	p.AfterSuccess = []string{f.logCmd("after")}
	p.Start = []string{f.logCmd("start1"), "exit 3", f.logCmd("start3")}
	res, err := f.runner.Run(ctx(t), p)
	if err != nil {
		t.Fatal(err)
	}
	if res.Err == nil || !strings.Contains(res.Err.Error(), "archive") {
		t.Fatalf("want an archive failure, got %v", res.Err)
	}
	if res.Generation != nil {
		t.Fatal("a failed archive made a generation")
	}
	// Every start ran, the failing one is reported beside the backup's error.
	if got := f.order(t); !reflect.DeepEqual(got, []string{"stop", "start1", "start3"}) {
		t.Fatalf("order = %v", got)
	}
	if res.StartErr == nil || !strings.Contains(res.StartErr.Error(), "status 3") {
		t.Fatalf("start failure not reported: %v", res.StartErr)
	}
	if !strings.Contains(res.Error().Error(), "archive") || !strings.Contains(res.Error().Error(), "status 3") {
		t.Fatalf("joined error hides one of the failures: %v", res.Error())
	}
	// Nothing of the failed generation is left (no partial, no labels file).
	entries, _ := os.ReadDir(f.dst)
	if len(entries) != 0 {
		t.Fatalf("destination not empty after a failed archive: %v", entries)
	}
	skipped := false
	for _, s := range res.Steps {
		skipped = skipped || (s.Phase == PhaseAfterSuccess && s.Skipped)
	}
	if !skipped {
		t.Fatal("after_success not reported as skipped")
	}
}

func TestStopFailureStopsTheListButStartsRun(t *testing.T) {
	f := newFixture(t)
	p := f.policy()
	p.Stop = []string{f.logCmd("stop1"), "echo refusing >&2; exit 4", f.logCmd("stop3")}
	p.Export = []string{f.logCmd("export")}
	p.Start = []string{f.logCmd("start1"), f.logCmd("start2")}
	res, _ := f.runner.Run(ctx(t), p)
	if got := f.order(t); !reflect.DeepEqual(got, []string{"stop1", "start1", "start2"}) {
		t.Fatalf("order = %v", got)
	}
	if res.Err == nil || !strings.Contains(res.Err.Error(), "stop[1]") || !strings.Contains(res.Err.Error(), "refusing") {
		t.Fatalf("stop error = %v", res.Err)
	}
	if res.StartErr != nil || res.Generation != nil {
		t.Fatalf("start err %v, generation %v", res.StartErr, res.Generation)
	}
}

func TestFailingStartDoesNotHideSuccessfulBackup(t *testing.T) {
	f := newFixture(t)
	p := f.policy()
	p.Start = []string{"exit 7", f.logCmd("start2")}
	res, _ := f.runner.Run(ctx(t), p)
	if res.Err != nil || res.Generation == nil {
		t.Fatalf("backup should have succeeded: %v", res.Err)
	}
	if res.StartErr == nil || f.order(t)[0] != "start2" {
		t.Fatalf("start: %v %v", res.StartErr, f.order(t))
	}
}

func TestStartRunsWhenTheContextEnds(t *testing.T) {
	f := newFixture(t)
	p := f.policy()
	c, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The stop step ends the apply's context (as a terraform timeout would).
	f.runner.OnStep = func(s Step) {
		if s.Phase == PhaseStop {
			cancel()
		}
	}
	p.Stop = []string{f.logCmd("stop")}
	p.Export = []string{f.logCmd("export")}
	p.Start = []string{f.logCmd("start")}
	res, _ := f.runner.Run(c, p)
	if res.Err == nil {
		t.Fatal("a cancelled run succeeded")
	}
	if got := f.order(t); !reflect.DeepEqual(got, []string{"stop", "start"}) {
		t.Fatalf("order = %v", got)
	}
}

func TestRotationKeepsNewest(t *testing.T) {
	f := newFixture(t)
	p := f.policy()
	p.Keep = 2
	var ids []string
	for i := 0; i < 4; i++ {
		res, err := f.runner.Run(ctx(t), p)
		if err != nil || res.Error() != nil {
			t.Fatalf("run %d: %v %v", i, err, res.Error())
		}
		ids = append(ids, res.Generation.ID)
		switch i {
		case 0, 1:
			if len(res.Pruned) != 0 {
				t.Fatalf("run %d pruned %v", i, res.Pruned)
			}
		default:
			if !reflect.DeepEqual(res.Pruned, []string{ids[i-2]}) {
				t.Fatalf("run %d pruned %v, want %s", i, res.Pruned, ids[i-2])
			}
		}
	}
	gens, _, err := Generations(ctx(t), f.local(t), f.dst, archive.VerifySize)
	if err != nil {
		t.Fatal(err)
	}
	if len(gens) != 2 || gens[0].ID != ids[3] || gens[1].ID != ids[2] {
		t.Fatalf("left %v, want newest first %s %s", gens, ids[3], ids[2])
	}
	// Only the two generations' files remain (archive, manifest, labels).
	entries, _ := os.ReadDir(f.dst)
	if len(entries) != 6 {
		var n []string
		for _, e := range entries {
			n = append(n, e.Name())
		}
		t.Fatalf("destination holds %v", n)
	}
}

// The generation a run makes is never the one it prunes, whatever the
// timestamps: runs within one second (here: one instant) and a runner
// whose clock is behind the one that made the older generations.
func TestRotationKeepsTheNewGenerationWhateverTheClock(t *testing.T) {
	f := newFixture(t)
	p := f.policy()
	p.Keep = 1
	stuck := time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		what string
		now  func() time.Time
	}{
		{"the same instant", func() time.Time { return stuck }},
		{"a clock an hour behind", func() time.Time { return stuck.Add(-time.Hour) }},
	} {
		f.runner.Now = tc.now
		for i := 0; i < 4; i++ {
			res, err := f.runner.Run(ctx(t), p)
			if err != nil || res.Error() != nil {
				t.Fatalf("%s, run %d: %v %v", tc.what, i, err, res.Error())
			}
			gens, _, err := Generations(ctx(t), f.local(t), f.dst, archive.VerifySize)
			if err != nil {
				t.Fatal(err)
			}
			if len(gens) != 1 || gens[0].ID != res.Generation.ID {
				t.Fatalf("%s, run %d: left %v, want only the run's own %s (pruned %v)", tc.what, i, gens, res.Generation.ID, res.Pruned)
			}
		}
	}
}

func TestNoPruneWhenTheBackupFails(t *testing.T) {
	f := newFixture(t)
	p := f.policy()
	p.Keep = 1
	res, _ := f.runner.Run(ctx(t), p)
	if res.Error() != nil {
		t.Fatal(res.Error())
	}
	first := res.Generation.ID
	p.Export = []string{"exit 1"}
	res, _ = f.runner.Run(ctx(t), p)
	if res.Err == nil || len(res.Pruned) != 0 {
		t.Fatalf("err %v pruned %v", res.Err, res.Pruned)
	}
	gens, _, _ := Generations(ctx(t), f.local(t), f.dst, archive.VerifySize)
	if len(gens) != 1 || gens[0].ID != first {
		t.Fatalf("the old generation must survive a failed run: %v", gens)
	}
}

func TestCorruptAndMissingGenerationsAreProblems(t *testing.T) {
	f := newFixture(t)
	p := f.policy()
	var files []string
	for i := 0; i < 3; i++ {
		res, _ := f.runner.Run(ctx(t), p)
		if res.Error() != nil {
			t.Fatal(res.Error())
		}
		files = append(files, res.Generation.File)
	}
	// Flip one byte in the middle of the oldest: same size, other content.
	b, _ := os.ReadFile(files[0])
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(files[0], b, 0o600); err != nil {
		t.Fatal(err)
	}
	local := f.local(t)
	gens, probs, err := Generations(ctx(t), local, f.dst, archive.VerifySize)
	if err != nil || len(gens) != 3 || len(probs) != 0 {
		t.Fatalf("size check must not see a same-size change: %d %v %v", len(gens), probs, err)
	}
	gens, probs, err = Generations(ctx(t), local, f.dst, archive.VerifyChecksum)
	if err != nil || len(gens) != 2 || len(probs) != 1 || probs[0].File != files[0] || probs[0].Missing {
		t.Fatalf("checksum: %d gens, problems %+v, %v", len(gens), probs, err)
	}
	// Truncate the middle one: a size check sees it.
	if err := os.Truncate(files[1], 10); err != nil {
		t.Fatal(err)
	}
	_, probs, _ = Generations(ctx(t), local, f.dst, archive.VerifySize)
	if len(probs) != 1 || probs[0].File != files[1] {
		t.Fatalf("size: %+v", probs)
	}
}

func (f *fixture) local(t *testing.T) transport.Transport {
	t.Helper()
	l, err := f.pool.Get("local")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestLeftoversOfInterruptedRunsAreCleaned(t *testing.T) {
	f := newFixture(t)
	p := f.policy()
	res, _ := f.runner.Run(ctx(t), p)
	if res.Error() != nil {
		t.Fatal(res.Error())
	}
	// What a killed run leaves: a partial archive and its labels file.
	stale := filepath.Join(f.dst, "smf-proxy-20261101T000000Z-deadbeef.tar.gz")
	mustWrite(t, stale+archive.PartialSuffix, "half", 0o600)
	mustWrite(t, stale+SidecarSuffix, `{"id":"x"}`, 0o644)
	// A labels file whose archive exists stays.
	res, _ = f.runner.Run(ctx(t), p)
	if res.Error() != nil {
		t.Fatal(res.Error())
	}
	for _, p := range []string{stale + archive.PartialSuffix, stale + SidecarSuffix} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Fatalf("%s not cleaned", p)
		}
	}
	for _, g := range []string{res.Generation.File} {
		if _, err := os.Stat(SidecarPath(g)); err != nil {
			t.Fatalf("labels of a live generation removed: %v", err)
		}
	}
	gens, _, _ := Generations(ctx(t), f.local(t), f.dst, archive.VerifySize)
	if len(gens) != 2 || gens[0].Sidecar == nil || gens[1].Sidecar == nil {
		t.Fatalf("generations after cleaning: %+v", gens)
	}
}

func TestRemoveAllAndRemoveProblems(t *testing.T) {
	f := newFixture(t)
	p := f.policy()
	var files []string
	for i := 0; i < 2; i++ {
		res, _ := f.runner.Run(ctx(t), p)
		if res.Error() != nil {
			t.Fatal(res.Error())
		}
		files = append(files, res.Generation.File)
	}
	if err := os.Truncate(files[0], 3); err != nil {
		t.Fatal(err)
	}
	_, probs, _ := Generations(ctx(t), f.local(t), f.dst, archive.VerifySize)
	removed, err := RemoveProblems(ctx(t), f.local(t), probs)
	if err != nil || len(removed) != 1 || removed[0] != files[0] {
		t.Fatalf("RemoveProblems: %v %v", removed, err)
	}
	for _, s := range []string{files[0], archive.ManifestPath(files[0]), SidecarPath(files[0])} {
		if _, err := os.Stat(s); !os.IsNotExist(err) {
			t.Fatalf("%s survived", s)
		}
	}
	ids, err := RemoveAll(ctx(t), f.local(t), f.dst)
	if err != nil || len(ids) != 1 {
		t.Fatalf("RemoveAll: %v %v", ids, err)
	}
	if _, err := os.Stat(f.dst); !os.IsNotExist(err) {
		t.Fatal("the emptied destination directory is still there")
	}
}
