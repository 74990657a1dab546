package restore

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/sshdtest"
	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// The archive is read on one host and written on another over SSH; the
// after-check (stat, sha256sum -c) and the verify commands run there.
func TestArchiveDrillOverSSH(t *testing.T) {
	ctx := context.Background()
	box := sshBox(t)
	local := &transport.Local{}
	dir := t.TempDir()
	app := writeTree(t, filepath.Join(dir, "src"))
	created := time.Now().Add(-time.Hour)
	file := makeGeneration(t, local, filepath.Join(dir, "backups"), created, "", nil, app)
	target := filepath.Join(dir, "remote", "target")

	res, err := Do(ctx, &Archive{FromHost: "local", File: file, TargetHost: "box", TargetPath: target},
		Spec{Mode: ModeDrill, Hosts: hostsOf(local, box),
			VerifyCommands: []string{`test "$(hostname)" = "` + hostname(t) + `" && cmp "$RESTORE_PATH` + app + `/app.cfg" ` + app + `/app.cfg`}})
	if err != nil {
		t.Fatalf("%v\n%s", err, res.Report.JSON())
	}
	for _, st := range res.Report.Steps {
		if strings.HasPrefix(st.Name, "verify[") && st.Host != "box" {
			t.Errorf("verify ran on %q", st.Host)
		}
	}
	if !strings.Contains(res.Report.JSON(), "file checksums recomputed") {
		t.Errorf("report:\n%s", res.Report.JSON())
	}
	fi, err := os.Stat(filepath.Join(target, app, "data", "results.db"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("restored: %v %v", fi, err)
	}
	// Private (0700) while it was filled, then mkdir's mode, as here.
	ref := filepath.Join(dir, "ref")
	if err := os.Mkdir(ref, 0o777); err != nil {
		t.Fatal(err)
	}
	if got, want := modeOf(t, target), modeOf(t, ref); got != want {
		t.Errorf("target mode %v, want %v (mkdir's)", got, want)
	}
	left, err := RemovePaths(ctx, hostsOf(local, box), res.Created)
	if err != nil || len(left) > 0 || exists(filepath.Join(dir, "remote")) {
		t.Fatalf("cleanup: %v %v", left, err)
	}
}

func hostname(t *testing.T) string {
	h, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// sshBox is host "box": the loopback sshd, reached over SSH.
func sshBox(t *testing.T) *transport.SSH {
	t.Helper()
	s := sshdtest.StartT(t)
	box := transport.NewSSH(transport.SSHConfig{Name: "box", Address: s.Addr, User: s.User, PrivateKey: s.ClientKey,
		KnownHostsFile: s.KnownHostsFile, Env: map[string]string{"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}})
	t.Cleanup(func() { _ = box.Close() })
	return box
}
