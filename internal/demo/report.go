package demo

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/restore"
)

// WriteReport renders a backupctl_restore_from_snapshot report (its JSON
// `report` attribute) for a person: the recovery objectives first, then
// the timed steps, the checks and the notes.
func WriteReport(w io.Writer, reportJSON []byte) error {
	var r restore.Report
	if err := json.Unmarshal(reportJSON, &r); err != nil {
		return fmt.Errorf("restore report: %w", err)
	}
	verdict := "VERIFIED"
	if !r.Verified {
		verdict = "NOT VERIFIED"
	}
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	p("Restore report (%s, %s): %s", r.Kind, r.Mode, verdict)
	p("  %-8s %s", "target", r.Target)
	if src := describeSource(r.Source); src != "" {
		p("  %-8s %s", "backup", src)
	}
	if r.BackupCreated != nil {
		p("  %-8s %s", "taken", r.BackupCreated.UTC().Format(time.RFC3339))
	}
	p("  %-8s %s", "RPO", objective("rpo_seconds", r.RPOSeconds, "max_rpo", r.MaxRPO, "age of the backup when the restore started"))
	p("  %-8s %s", "RTO", objective("rto_seconds", r.RTOSeconds, "max_rto", r.MaxRTO, "restore and verification"))
	if len(r.Steps) > 0 {
		p("  steps:")
		for _, s := range r.Steps {
			host := ""
			if s.Host != "" {
				host = " [" + s.Host + "]"
			}
			p("    %-6s %7.2fs  %s%s", s.Status, s.Seconds, s.Name, host)
			if s.Detail != "" {
				p("                     %s", s.Detail)
			}
			if s.Error != "" {
				p("                     error: %s", s.Error)
			}
		}
	}
	if len(r.Checks) > 0 {
		p("  checks:")
		for _, c := range r.Checks {
			mark := "ok"
			if !c.OK {
				mark = "FAILED"
			}
			line := c.Name
			if c.Detail != "" {
				line += ": " + c.Detail
			}
			p("    %-6s %s", mark, line)
		}
	}
	if len(r.Notes) > 0 {
		p("  notes:")
		for _, n := range r.Notes {
			p("    - %s", n)
		}
	}
	if r.Error != "" {
		p("  error: %s", r.Error)
	}
	return nil
}

func describeSource(src map[string]string) string {
	var parts []string
	for _, k := range []string{"generation_id", "root_snapshot_id", "proxy"} {
		if v := src[k]; v != "" {
			parts = append(parts, v)
			break
		}
	}
	if len(parts) == 0 && src["file"] != "" {
		parts = append(parts, src["file"])
	}
	if v := src["application"]; v != "" {
		parts = append(parts, "("+v+")")
	}
	if v := src["from_host"]; v != "" {
		parts = append(parts, "from "+v)
	}
	return strings.Join(parts, " ")
}

// objective renders "rto_seconds = 3 (restore and verification; max_rto 10m0s)".
func objective(name string, v *int64, limitName, limit, what string) string {
	val := "unknown"
	if v != nil {
		val = fmt.Sprintf("%d", *v)
	}
	s := fmt.Sprintf("%s = %s (%s", name, val, what)
	if limit != "" {
		s += "; " + limitName + " " + limit
	}
	return s + ")"
}
