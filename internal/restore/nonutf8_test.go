package restore

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// A generation whose names are not UTF-8 (Shift-JIS, Latin-1, a symlink
// target) restores in a drill, here and over SSH: the archive checks,
// the extraction and the after-check (stat, sha256sum -c) all see the
// exact names.
func TestArchiveDrillNonUTF8Names(t *testing.T) {
	ctx := context.Background()
	box := sshBox(t)
	local := &transport.Local{}
	dir := t.TempDir()
	app := filepath.Join(dir, "src", "srv", "gmax")
	const latin1Dir, sjisFile = "caf\xe9", "sjis-\x82\xa0.txt"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(app, latin1Dir), 0o750))
	must(os.WriteFile(filepath.Join(app, latin1Dir, sjisFile), []byte("\x82\xa0\n"), 0o640))
	must(os.Symlink(latin1Dir+"/"+sjisFile, filepath.Join(app, "link-\x83e\x83X\x83g")))
	file := makeGeneration(t, local, filepath.Join(dir, "backups"), time.Now().Add(-time.Hour), "", nil, app)
	for _, host := range []string{"local", "box"} {
		t.Run(host, func(t *testing.T) {
			target := filepath.Join(dir, "drill-"+host)
			res, err := Do(ctx, &Archive{FromHost: "local", File: file, TargetHost: host, TargetPath: target},
				Spec{Mode: ModeDrill, Hosts: hostsOf(local, box),
					VerifyCommands: []string{`cmp "$RESTORE_PATH` + app + `/caf` + "\xe9" + `/sjis-` + "\x82\xa0" + `.txt" ` + app + "/" + latin1Dir + "/" + sjisFile}})
			if err != nil {
				t.Fatalf("%v\n%s", err, res.Report.JSON())
			}
			if !res.Verified {
				t.Fatalf("not verified:\n%s", res.Report.JSON())
			}
			for _, c := range res.Report.Checks {
				if !c.OK {
					t.Errorf("check failed: %+v", c)
				}
			}
			got, err := os.Readlink(filepath.Join(target, app, "link-\x83e\x83X\x83g"))
			if err != nil || got != latin1Dir+"/"+sjisFile {
				t.Errorf("restored symlink: %q %v", got, err)
			}
		})
	}
}
