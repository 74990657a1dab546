package demo

import (
	"bytes"
	"strings"
	"testing"
)

func TestWriteReportFailedDrill(t *testing.T) {
	rep := `{"version":1,"kind":"archive","mode":"drill","target":"drill1:/var/tmp/d",
	  "source":{"from_host":"nas1","generation_id":"arms-proxy-20261122T033000Z-1a2b3c4d","file":"/b/x.tar.gz","application":"smf_arms_proxy"},
	  "started_at":"2026-11-22T04:30:05Z","rpo_seconds":3605,"max_rpo":"26h0m0s","max_rto":"1m0s",
	  "steps":[{"name":"extract","host":"drill1","started_at":"2026-11-22T04:30:06Z","seconds":51.2,"status":"ok","detail":"1210 members"},
	           {"name":"verify[0]: isstat","host":"drill1","started_at":"2026-11-22T04:31:00Z","seconds":0.5,"status":"failed","error":"exit status 7"}],
	  "checks":[{"name":"max_rpo","ok":true,"detail":"backup 1h0m5s old"},{"name":"verify[0]: isstat","ok":false,"detail":"exit status 7"}],
	  "notes":["Drill: stop/start not run."],"verified":false,"error":"verification failed"}`
	var b bytes.Buffer
	if err := WriteReport(&b, []byte(rep)); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"Restore report (archive, drill): NOT VERIFIED",
		"backup   arms-proxy-20261122T033000Z-1a2b3c4d (smf_arms_proxy) from nas1",
		"RPO      rpo_seconds = 3605 (age of the backup when the restore started; max_rpo 26h0m0s)",
		"RTO      rto_seconds = unknown (restore and verification; max_rto 1m0s)",
		"failed    0.50s  verify[0]: isstat [drill1]",
		"error: exit status 7",
		"FAILED verify[0]: isstat: exit status 7",
		"ok     max_rpo: backup 1h0m5s old",
		"- Drill: stop/start not run.",
		"  error: verification failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "/b/x.tar.gz") {
		t.Errorf("a generation is named by its id, not its file:\n%s", out)
	}
}

func TestWriteReportRejectsNonJSON(t *testing.T) {
	if err := WriteReport(&bytes.Buffer{}, []byte("null-ish")); err == nil {
		t.Fatal("no error for a report that is not JSON")
	}
}
