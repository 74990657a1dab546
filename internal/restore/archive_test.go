package restore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/apps"
	"github.com/backupctl/terraform-provider-backupctl/internal/archive"
	"github.com/backupctl/terraform-provider-backupctl/internal/backup"
	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

func TestArchiveDrillRestoresChecksAndRollsBack(t *testing.T) {
	ctx := context.Background()
	local := &transport.Local{}
	dir := t.TempDir()
	app := writeTree(t, filepath.Join(dir, "src"))
	created := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	file := makeGeneration(t, local, filepath.Join(dir, "backups"), created, "", nil, app)

	target := filepath.Join(dir, "drills", "one", "restored")
	clk := &stepClock{t: created.Add(2 * time.Hour), step: time.Second}
	src := &Archive{FromHost: "local", FromPath: filepath.Join(dir, "backups"), GenerationID: backup.IDFromFile(file),
		TargetHost: "local", TargetPath: target}
	var seen []Object
	res, err := Do(ctx, src, Spec{
		Mode: ModeDrill, Hosts: hostsOf(local), Now: clk.Now,
		Limits:         Limits{MaxRPO: 3 * time.Hour, MaxRTO: time.Hour},
		VerifyCommands: []string{`test "$(cat "$RESTORE_PATH` + app + `/app.cfg")" = listen=8080`, `test -x "$RESTORE_PATH` + app + `/run.sh"`},
		OnCreate:       func(o Object) { seen = append(seen, o) },
	})
	if err != nil {
		t.Fatalf("drill: %v\n%s", err, res.Report.JSON())
	}
	if !res.Verified || !res.Report.Verified {
		t.Fatalf("not verified:\n%s", res.Report.JSON())
	}
	restored := filepath.Join(target, app)
	b, err := os.ReadFile(filepath.Join(restored, "data", "results.db"))
	if err != nil || len(b) != 4*5000 {
		t.Fatalf("restored file: %d bytes, %v", len(b), err)
	}
	fi, _ := os.Stat(filepath.Join(restored, "run.sh"))
	if fi.Mode()&os.ModeSetuid == 0 || fi.Mode().Perm() != 0o755 {
		t.Errorf("run.sh mode %v", fi.Mode())
	}
	// The target, private (0700) while it was filled, has the mode mkdir
	// gives a directory here.
	ref := filepath.Join(dir, "ref")
	if err := os.Mkdir(ref, 0o777); err != nil {
		t.Fatal(err)
	}
	if got, want := modeOf(t, target), modeOf(t, ref); got != want {
		t.Errorf("target mode %v, want %v (mkdir's)", got, want)
	}
	// "drills" did not exist: it is the object a destroy removes.
	if len(res.Created) != 1 || res.Created[0].ID != filepath.Join(dir, "drills") || len(seen) != 1 {
		t.Fatalf("created %+v (seen %+v)", res.Created, seen)
	}
	// RPO is measured from the archive's creation to the start.
	if !res.HasRPO || res.RPO != 2*time.Hour+time.Second {
		t.Errorf("rpo %v", res.RPO)
	}
	if res.RTOSeconds() <= 0 || res.FinishedAt.Sub(res.StartedAt) != res.RTO {
		t.Errorf("rto %v from %v to %v", res.RTO, res.StartedAt, res.FinishedAt)
	}
	rep := res.Report.JSON()
	for _, want := range []string{`"verify archive checksum (before)"`, `"verify restored files (after)"`, `"extract"`,
		`"restored files match the manifest (after)"`, `"max_rpo"`, `"max_rto"`, `"verify[1]: test -x`, `"rpo_seconds": 7201`} {
		if !strings.Contains(rep, want) {
			t.Errorf("report lacks %s:\n%s", want, rep)
		}
	}
	for _, c := range res.Report.Checks {
		if !c.OK {
			t.Errorf("check failed: %+v", c)
		}
	}

	left, err := RemovePaths(ctx, hostsOf(local), res.Created)
	if err != nil || len(left) != 0 {
		t.Fatalf("remove: %v %v", left, err)
	}
	if exists(filepath.Join(dir, "drills")) {
		t.Fatal("drill target still there")
	}
	if !exists(file) {
		t.Fatal("the archive itself must stay")
	}
}

func TestArchiveOverwriteFalseRefusesNonEmptyTarget(t *testing.T) {
	ctx := context.Background()
	local := &transport.Local{}
	dir := t.TempDir()
	app := writeTree(t, filepath.Join(dir, "src"))
	file := makeGeneration(t, local, filepath.Join(dir, "backups"), time.Now(), "", nil, app)
	target := filepath.Join(dir, "busy")
	if err := os.MkdirAll(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "keep.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Do(ctx, &Archive{FromHost: "local", File: file, TargetHost: "local", TargetPath: target},
		Spec{Mode: ModeDrill, Hosts: hostsOf(local)})
	if err == nil || !strings.Contains(err.Error(), "is not empty") || !strings.Contains(err.Error(), `"keep.txt"`) {
		t.Fatalf("err = %v", err)
	}
	if res.Verified || len(res.Created) != 0 {
		t.Fatalf("result %+v", res)
	}
	ents, _ := os.ReadDir(target)
	if len(ents) != 1 {
		t.Fatalf("target changed: %v", ents)
	}

	// With overwrite, a drill into a non-empty target removes only what
	// it added.
	res, err = Do(ctx, &Archive{FromHost: "local", File: file, TargetHost: "local", TargetPath: target, Overwrite: true},
		Spec{Mode: ModeDrill, Hosts: hostsOf(local)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Created) != 1 || res.Created[0].ID != filepath.Join(target, strings.Split(strings.TrimPrefix(app, "/"), "/")[0]) {
		t.Fatalf("created %+v", res.Created)
	}
	if _, err := RemovePaths(ctx, hostsOf(local), res.Created); err != nil {
		t.Fatal(err)
	}
	ents, _ = os.ReadDir(target)
	if len(ents) != 1 || ents[0].Name() != "keep.txt" {
		t.Fatalf("after removal: %v", ents)
	}
}

func TestArchiveChecksumMismatchRefusedBeforeAnything(t *testing.T) {
	ctx := context.Background()
	local := &transport.Local{}
	dir := t.TempDir()
	app := writeTree(t, filepath.Join(dir, "src"))
	file := makeGeneration(t, local, filepath.Join(dir, "backups"), time.Now(), "", nil, app)
	target := filepath.Join(dir, "t")

	_, err := Do(ctx, &Archive{FromHost: "local", File: file, SHA256: strings.Repeat("0", 64), TargetHost: "local", TargetPath: target},
		Spec{Mode: ModeDrill, Hosts: hostsOf(local)})
	if err == nil || !strings.Contains(err.Error(), "not the expected 0000") {
		t.Fatalf("err = %v", err)
	}
	// A corrupted archive fails its checksum against the manifest.
	b, _ := os.ReadFile(file)
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Do(ctx, &Archive{FromHost: "local", File: file, TargetHost: "local", TargetPath: target},
		Spec{Mode: ModeDrill, Hosts: hostsOf(local)})
	if err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("err = %v", err)
	}
	if exists(target) {
		t.Fatal("target created for a corrupt archive")
	}
	if c := res.Report.Checks; len(c) != 1 || c[0].OK || c[0].Name != "archive checksum (before)" {
		t.Fatalf("checks %+v", c)
	}
}

func TestArchiveRPOGateStopsBeforeRestoring(t *testing.T) {
	ctx := context.Background()
	local := &transport.Local{}
	dir := t.TempDir()
	app := writeTree(t, filepath.Join(dir, "src"))
	created := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	file := makeGeneration(t, local, filepath.Join(dir, "backups"), created, "", nil, app)
	target := filepath.Join(dir, "t")
	start := created.Add(49 * time.Hour)
	res, err := Do(ctx, &Archive{FromHost: "local", File: file, TargetHost: "local", TargetPath: target},
		Spec{Mode: ModeDrill, Hosts: hostsOf(local), Now: func() time.Time { return start }, Limits: Limits{MaxRPO: 24 * time.Hour},
			VerifyCommands: []string{"true"}})
	var le *LimitError
	if !errors.As(err, &le) || le.Which != "RPO" || le.Actual != 49*time.Hour {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), `max_rpo = "24h0m0s"`) || !strings.Contains(err.Error(), "49h0m0s old") {
		t.Errorf("message: %v", err)
	}
	if exists(target) || res.Verified || res.RPOSeconds() != 49*3600 {
		t.Fatalf("target restored anyway or result wrong: %+v", res)
	}
}

func TestArchiveRTOGate(t *testing.T) {
	ctx := context.Background()
	local := &transport.Local{}
	dir := t.TempDir()
	app := writeTree(t, filepath.Join(dir, "src"))
	created := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	file := makeGeneration(t, local, filepath.Join(dir, "backups"), created, "", nil, app)
	// Every reading of the clock is a minute later.
	clk := &stepClock{t: created, step: time.Minute}
	res, err := Do(ctx, &Archive{FromHost: "local", File: file, TargetHost: "local", TargetPath: filepath.Join(dir, "t")},
		Spec{Mode: ModeDrill, Hosts: hostsOf(local), Now: clk.Now, Limits: Limits{MaxRTO: 2 * time.Minute}})
	var le *LimitError
	if !errors.As(err, &le) || le.Which != "RTO" {
		t.Fatalf("err = %v", err)
	}
	if res.Verified || res.Report.Verified || len(res.Created) != 1 {
		t.Fatalf("result: verified %v created %v", res.Verified, res.Created)
	}
	if !strings.Contains(res.Report.Error, "RTO not met") {
		t.Errorf("report error %q", res.Report.Error)
	}
}

func TestArchiveServerGroupMustMatch(t *testing.T) {
	ctx := context.Background()
	local := &transport.Local{}
	dir := t.TempDir()
	app := writeTree(t, filepath.Join(dir, "src"))
	file := makeGeneration(t, local, filepath.Join(dir, "backups"), time.Now(), apps.InterstageManaged,
		map[string]string{"server_group": "groupA"}, app)
	target := filepath.Join(dir, "t")
	do := func(req map[string]string) (Result, error) {
		return Do(ctx, &Archive{FromHost: "local", File: file, TargetHost: "local", TargetPath: target, RequireLabels: req},
			Spec{Mode: ModeDrill, Hosts: hostsOf(local)})
	}
	_, err := do(map[string]string{"server_group": "groupB"})
	if err == nil || !strings.Contains(err.Error(), `server group "groupA"`) || !strings.Contains(err.Error(), `require_labels.server_group = "groupB"`) {
		t.Fatalf("mismatch: %v", err)
	}
	_, err = do(nil)
	if err == nil || !strings.Contains(err.Error(), "set require_labels.server_group") {
		t.Fatalf("missing: %v", err)
	}
	if exists(target) {
		t.Fatal("target written by a refused restore")
	}
	res, err := do(map[string]string{"server_group": "groupA"})
	if err != nil {
		t.Fatal(err)
	}
	// A drill does not run the preset's isstop/isstart, and says so.
	rep := res.Report.JSON()
	if !strings.Contains(rep, "isstop -f; isstart") || !strings.Contains(rep, "Only a backup of the same server group") {
		t.Errorf("report:\n%s", rep)
	}
}

func TestArchiveInPlaceHeartbeat(t *testing.T) {
	ctx := context.Background()
	local := &transport.Local{}
	dir := t.TempDir()
	app := writeTree(t, filepath.Join(dir, "src"))
	file := makeGeneration(t, local, filepath.Join(dir, "backups"), time.Now(), apps.SMFHeartbeat, map[string]string{}, app)
	root := filepath.Join(dir, "live")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	id := ArchiveIdentity("local", root)

	// Without the right confirm nothing runs.
	_, err := Do(ctx, &Archive{FromHost: "local", File: file, TargetHost: "local", TargetPath: root, Overwrite: true},
		Spec{Mode: ModeInPlace, Confirm: "local:/elsewhere", Hosts: hostsOf(local)})
	if err == nil || !strings.Contains(err.Error(), "does not name this restore's target") {
		t.Fatalf("confirm: %v", err)
	}

	// The preset restarts hbserver (absent here: its failure is reported,
	// after the files were written back).
	res, err := Do(ctx, &Archive{FromHost: "local", File: file, TargetHost: "local", TargetPath: root, Overwrite: true},
		Spec{Mode: ModeInPlace, Confirm: id, Hosts: hostsOf(local)})
	if err == nil || !strings.Contains(err.Error(), "start command 1 failed") || !strings.Contains(err.Error(), "/sbin/service hbserver restart") {
		t.Fatalf("preset start: %v", err)
	}
	if !exists(filepath.Join(root, app, "app.cfg")) {
		t.Fatal("files not written back")
	}

	// With start overridden, the restart runs after the files are back;
	// an in_place restore creates nothing for destroy.
	marker := filepath.Join(dir, "restarted")
	res, err = Do(ctx, &Archive{FromHost: "local", File: file, TargetHost: "local", TargetPath: root, Overwrite: true,
		Stop: []string{"true"}, Start: []string{`test -f "$RESTORE_PATH` + app + `/app.cfg" && touch ` + marker}},
		Spec{Mode: ModeInPlace, Confirm: id, Hosts: hostsOf(local)})
	if err != nil {
		t.Fatalf("%v\n%s", err, res.Report.JSON())
	}
	if !exists(marker) || len(res.Created) != 0 {
		t.Fatalf("marker %v, created %v", exists(marker), res.Created)
	}
	if !strings.Contains(res.Report.JSON(), "may disagree with RS and SA") {
		t.Errorf("report lacks the heartbeat note:\n%s", res.Report.JSON())
	}
}

func TestArchiveVerifyFailureKeepsTargetForDestroy(t *testing.T) {
	ctx := context.Background()
	local := &transport.Local{}
	dir := t.TempDir()
	app := writeTree(t, filepath.Join(dir, "src"))
	file := makeGeneration(t, local, filepath.Join(dir, "backups"), time.Now(), "", nil, app)
	target := filepath.Join(dir, "t")
	res, err := Do(ctx, &Archive{FromHost: "local", File: file, TargetHost: "local", TargetPath: target},
		Spec{Mode: ModeDrill, Hosts: hostsOf(local), VerifyCommands: []string{"true", "echo checking >&2; exit 3", "touch " + filepath.Join(dir, "never")}})
	var ve *VerifyError
	if !errors.As(err, &ve) || ve.Index != 1 || ve.Status != 3 || !strings.Contains(ve.Output, "checking") {
		t.Fatalf("err = %#v", err)
	}
	if exists(filepath.Join(dir, "never")) {
		t.Fatal("commands after the failure ran")
	}
	if res.Verified || len(res.Created) != 1 || !exists(target) {
		t.Fatalf("verified %v created %v", res.Verified, res.Created)
	}
	if _, err := RemovePaths(ctx, hostsOf(local), res.Created); err != nil || exists(target) {
		t.Fatalf("cleanup: %v", err)
	}
}

func TestVerifyTimeout(t *testing.T) {
	ctx := context.Background()
	local := &transport.Local{}
	rec := NewRecorder(nil, &Report{})
	err := Verify{Commands: []string{"sleep 30"}, Timeout: 200 * time.Millisecond, Host: local}.Run(ctx, rec)
	var ve *VerifyError
	if !errors.As(err, &ve) || !ve.TimedOut || !strings.Contains(err.Error(), `verify.timeout = "200ms"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestCheckTreeFindsDamage(t *testing.T) {
	ctx := context.Background()
	local := &transport.Local{}
	dir := t.TempDir()
	app := writeTree(t, filepath.Join(dir, "src"))
	file := makeGeneration(t, local, filepath.Join(dir, "backups"), time.Now(), "", nil, app)
	target := filepath.Join(dir, "t")
	if _, err := Do(ctx, &Archive{FromHost: "local", File: file, TargetHost: "local", TargetPath: target},
		Spec{Mode: ModeDrill, Hosts: hostsOf(local)}); err != nil {
		t.Fatal(err)
	}
	m, err := archive.ReadManifest(ctx, local, file)
	if err != nil {
		t.Fatal(err)
	}
	r, err := CheckTree(ctx, local, target, m.Entries, true)
	if err != nil || !r.OK() || r.Hashed != 4 {
		t.Fatalf("clean tree: %+v %v", r, err)
	}
	rel := filepath.Join(target, app)
	// same size, other content; another mode; a missing file; odd name changed
	if err := os.WriteFile(filepath.Join(rel, "app.cfg"), []byte("listen=9090\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	old := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	_ = os.Chtimes(filepath.Join(rel, "app.cfg"), old, old)
	_ = os.Chmod(filepath.Join(rel, "run.sh"), 0o755)
	_ = os.Remove(filepath.Join(rel, "current.cfg"))
	odd := filepath.Join(rel, "data", "odd\nname\\x")
	_ = os.WriteFile(odd, []byte("ODD"), 0o644)
	// Same size and mtime as archived: only the content differs.
	for _, e := range m.Entries {
		if strings.HasSuffix(e.Name, "odd\nname\\x") {
			_ = os.Chtimes(odd, e.ModTime, e.ModTime)
		}
	}
	r, err = CheckTree(ctx, local, target, m.Entries, true)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(r.Problems, "\n")
	for _, want := range []string{"app.cfg: content differs", "run.sh: mode 0755, want 4755", "current.cfg: missing", "odd\nname\\x: content differs"} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
}

// The context ends while a stop command runs: nothing is extracted, and
// the start commands still run (a stopped service must come back).
func TestArchiveInPlaceStartRunsAfterCancel(t *testing.T) {
	local := &transport.Local{}
	dir := t.TempDir()
	app := writeTree(t, filepath.Join(dir, "src"))
	file := makeGeneration(t, local, filepath.Join(dir, "backups"), time.Now(), "", nil, app)
	live := filepath.Join(dir, "live")
	if err := os.MkdirAll(live, 0o755); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(dir, "started")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	res, err := Do(ctx, &Archive{FromHost: "local", File: file, TargetHost: "local", TargetPath: live, Overwrite: true,
		Stop: []string{"sleep 20"}, Start: []string{"touch " + marker}},
		Spec{Mode: ModeInPlace, Confirm: ArchiveIdentity("local", live), Hosts: hostsOf(local)})
	if err == nil || !strings.Contains(err.Error(), "stop command 1 failed") {
		t.Fatalf("err = %v", err)
	}
	if !exists(marker) {
		t.Fatalf("start did not run after the cancel:\n%s", res.Report.JSON())
	}
	if ents, _ := os.ReadDir(live); len(ents) != 0 {
		t.Fatalf("extracted after a failed stop: %v", ents)
	}
}

func modeOf(t *testing.T, p string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}
