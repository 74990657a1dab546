package restore

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// A verify command that prints a configured secret: the report (steps,
// checks, error) and the Result show it masked.
func TestReportMasksSecrets(t *testing.T) {
	local := &transport.Local{}
	dir := t.TempDir()
	app := writeTree(t, filepath.Join(dir, "src"))
	file := makeGeneration(t, local, filepath.Join(dir, "backups"), time.Now(), "", nil, app)
	const secret = "s3cr3t-Pa55word"
	res, err := Do(context.Background(), &Archive{FromHost: "local", File: file, TargetHost: "local", TargetPath: filepath.Join(dir, "t")},
		Spec{Mode: ModeDrill, Hosts: hostsOf(local), Secrets: []string{secret, ""},
			VerifyCommands: []string{"echo token=" + secret + "; exit 2"}})
	if err == nil {
		t.Fatal("want a verification failure")
	}
	js := res.Report.JSON()
	if strings.Contains(js, secret) || !strings.Contains(js, "token=***") {
		t.Fatalf("report not masked: %s", js)
	}
	if res.Report.Error == "" || strings.Contains(res.Report.Error, secret) {
		t.Fatalf("report error %q", res.Report.Error)
	}
}
