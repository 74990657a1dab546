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

// Steps are listed in the order they started, nested ones after the step
// that runs them, each with its own duration from the clock.
func TestRecorderStepOrder(t *testing.T) {
	clk := &stepClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), step: time.Second}
	rec := NewRecorder(clk.Now, &Report{})
	_ = rec.Step("outer", "h", func() (string, error) {
		_ = rec.Step("inner", "h", func() (string, error) { return "", nil })
		return "done", nil
	})
	st := rec.Report().Steps
	if len(st) != 2 || st[0].Name != "outer" || st[1].Name != "inner" {
		t.Fatalf("steps %+v", st)
	}
	// outer: start t+1, end t+4 (inner read t+2, t+3)
	if st[0].Seconds != 3 || st[1].Seconds != 1 || st[0].Status != StatusOK || st[0].Detail != "done" {
		t.Fatalf("steps %+v", st)
	}
}
