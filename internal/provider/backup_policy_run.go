// backupctl_backup_policy: running a backup on the host and reading the
// generation set back, shared by Create, Read and Update.

package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/backupctl/terraform-provider-backupctl/internal/apps"
	"github.com/backupctl/terraform-provider-backupctl/internal/archive"
	"github.com/backupctl/terraform-provider-backupctl/internal/backup"
)

func (r *backupPolicyResource) runner(ctx context.Context) *backup.Runner {
	return &backup.Runner{
		Hosts:   backup.HostsFunc(r.data.Transport),
		Now:     r.data.Now,
		Secrets: r.data.Secrets(),
		OnStep: func(s backup.Step) {
			fields := map[string]any{"phase": s.Phase, "host": s.Host, "command": s.Command,
				"exit_status": s.ExitStatus, "duration": s.Duration.Round(time.Millisecond).String()}
			if s.Skipped {
				fields["skipped"] = true
			}
			if s.Err != "" {
				fields["error"] = s.Err
			}
			if s.Output != "" {
				fields["output"] = s.Output
			}
			tflog.Info(ctx, "backup step", fields)
		},
	}
}

// password reads the write-only database password from the configuration.
func password(ctx context.Context, cfg interface {
	GetAttribute(context.Context, path.Path, any) diag.Diagnostics
}) (string, diag.Diagnostics) {
	var pw types.String
	diags := cfg.GetAttribute(ctx, path.Root("database").AtName("password"), &pw)
	if diags.HasError() {
		// No database block: no password.
		return "", nil
	}
	return pw.ValueString(), nil
}

// runBackup takes a generation and reports the run in diags. It returns
// whether the backup itself succeeded (the trigger may then advance).
func (r *backupPolicyResource) runBackup(ctx context.Context, m *backupPolicyModel, pw string, diags *diag.Diagnostics) bool {
	p, preset, d := m.policy(ctx, pw)
	diags.Append(d...)
	if diags.HasError() {
		return false
	}
	if errs := backup.Validate(p, preset); len(errs) > 0 {
		for _, e := range errs {
			attrError(diags, fieldPath(e), "Invalid backup policy", e.Error())
		}
		return false
	}
	res, err := r.runner(ctx).Run(ctx, p)
	if err != nil {
		diags.AddError("Backup not started", err.Error())
		return false
	}
	summary := stepSummary(res.Steps)
	if res.Err != nil {
		diags.AddError("Backup failed", res.Err.Error()+"\n\nSteps:\n"+summary)
	}
	if res.StartErr != nil {
		diags.AddError("Start command failed: the application may be down",
			res.StartErr.Error()+"\n\nEvery start command was run. "+backupOutcome(res)+"\n\nSteps:\n"+summary)
	}
	if res.CleanupErr != nil {
		diags.AddWarning("Export directory not removed", res.CleanupErr.Error())
	}
	if res.PruneErr != nil {
		diags.AddWarning("Old generations not pruned", res.PruneErr.Error()+"\nThe next apply prunes them.")
	}
	return res.Err == nil && res.Generation != nil
}

func backupOutcome(res *backup.Result) string {
	if res.Err == nil && res.Generation != nil {
		return fmt.Sprintf("The backup itself succeeded: generation %s (%d bytes).", res.Generation.ID, res.Generation.Bytes)
	}
	return "The backup itself failed too (see the other error)."
}

func stepSummary(steps []backup.Step) string {
	var b strings.Builder
	for _, s := range steps {
		status := "ok"
		switch {
		case s.Skipped:
			status = "skipped"
		case s.Err != "":
			status = "FAILED: " + firstLine(s.Err)
		}
		fmt.Fprintf(&b, "  %-13s %-10s %s -> %s\n", s.Phase, s.Host, truncate(s.Command, 160), status)
	}
	return b.String()
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return truncate(line, 300)
}

// refresh lists the destination into m.Generations and returns the
// problems found.
// destinationHost is the destination and its host: destination.host, or
// the source host when that is unset or empty.
func (m *backupPolicyModel) destinationHost(ctx context.Context) (destinationModel, string) {
	dest, _, _ := m.destination(ctx)
	h := dest.Host.ValueString()
	if dest.Host.IsNull() || h == "" {
		h = m.Host.ValueString()
	}
	return dest, h
}

func (r *backupPolicyResource) refresh(ctx context.Context, m *backupPolicyModel, mode archive.VerifyMode) ([]backup.Generation, []backup.Problem, error) {
	dest, h := m.destinationHost(ctx)
	t, err := r.data.Transport(h)
	if err != nil {
		return nil, nil, err
	}
	gens, probs, err := backup.Generations(ctx, t, dest.Path.ValueString(), mode)
	if err != nil {
		return nil, nil, err
	}
	m.Generations = generationsValue(gens)
	return gens, probs, nil
}

func generationsValue(gens []backup.Generation) types.List {
	elems := make([]attr.Value, 0, len(gens))
	for _, g := range gens {
		elems = append(elems, types.ObjectValueMust(generationAttrTypes, map[string]attr.Value{
			"id":      types.StringValue(g.ID),
			"file":    types.StringValue(g.File),
			"bytes":   types.Int64Value(g.Bytes),
			"sha256":  types.StringValue(g.SHA256),
			"files":   types.Int64Value(g.Files),
			"created": types.StringValue(g.Created.UTC().Format(time.RFC3339)),
			"labels":  stringMapValue(g.Labels),
		}))
	}
	return types.ListValueMust(generationType, elems)
}

// expectedOf is the private state an apply leaves: the generations it
// saw, and the unverifiable archives it reported (accepted).
func expectedOf(gens []backup.Generation, unverifiable []backup.Problem) privateState {
	ps := privateState{Expected: []string{}, Files: map[string]string{}}
	for _, g := range gens {
		ps.Expected = append(ps.Expected, g.ID)
		ps.Files[g.ID] = g.File
	}
	for _, p := range unverifiable {
		ps.Accepted = append(ps.Accepted, p.File)
	}
	return ps
}

// unverifiableReason says what is wrong with the manifest of an archive
// that cannot be verified.
func unverifiableReason(p backup.Problem) string {
	m := archive.ManifestPath(p.File)
	switch {
	case p.Err == nil:
		return "its manifest " + m + " is missing or unreadable"
	case errors.Is(p.Err, archive.ErrMissing):
		return "its manifest " + m + " is missing"
	default:
		msg := p.Err.Error()
		// "archive corrupt: manifest of <file>: <why>" -> "<why>"
		if _, why, ok := strings.Cut(msg, "manifest of "+p.File+": "); ok {
			msg = why
		}
		return "its manifest " + m + " cannot be used: " + msg
	}
}

// warnUnverifiable tells the user about archive files without a usable
// manifest: what is wrong, what the provider does (keep them, never count
// or prune them) and what they can do.
func warnUnverifiable(diags *diag.Diagnostics, probs []backup.Problem) {
	if len(probs) == 0 {
		return
	}
	var b strings.Builder
	for _, p := range probs {
		fmt.Fprintf(&b, "  - %s: %s\n", p.File, unverifiableReason(p))
	}
	diags.AddWarning(fmt.Sprintf("%d archive(s) kept but not verifiable: manifest missing or unreadable", len(probs)),
		"These archive files in the destination have no usable manifest:\n"+b.String()+"\n"+
			"Without a usable manifest an archive cannot be checked or restored by backupctl, so it is not listed in `generations` and does not "+
			"count towards `keep`. It may still be intact, and the only copy of its data: backupctl never prunes or deletes it (only a destroy "+
			"with force_destroy = true does), and reports it at every refresh.\n\n"+
			"To fix it, put the manifest back (<archive>.manifest.json, e.g. from a copy of the destination), or upgrade the provider when the "+
			"manifest is of a newer version: the archive is then a generation again (and pruned by `keep` as usual). If the archive is not "+
			"needed (e.g. left by an interrupted backup), delete it by hand: rm <archive> <archive>.labels.json")
}

// setEffective fills the effective_* attributes of a known model.
func setEffective(m *backupPolicyModel, eff apps.Settings) {
	m.EffectivePaths = stringsValue(eff.Paths)
	m.EffectiveExclude = stringsValue(eff.Exclude)
	m.EffectiveStop = stringsValue(eff.Stop)
	m.EffectiveStart = stringsValue(eff.Start)
	m.EffectiveExport = stringsValue(eff.Export)
	m.EffectiveAfterSuccess = stringsValue(eff.AfterSuccess)
}
