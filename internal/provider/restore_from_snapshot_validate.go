// backupctl_restore_from_snapshot: what the configuration alone tells,
// refused before anything runs.

package provider

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/backupctl/terraform-provider-backupctl/internal/gds"
	"github.com/backupctl/terraform-provider-backupctl/internal/restore"
)

func rfsKnown(s types.String) bool { return !s.IsNull() && !s.IsUnknown() }

// rfsObject decodes a known, non-null object into out.
func rfsObject(ctx context.Context, o types.Object, out any, diags *diag.Diagnostics) bool {
	if o.IsNull() || o.IsUnknown() {
		return false
	}
	diags.Append(o.As(ctx, out, basetypes.ObjectAsOptions{})...)
	return !diags.HasError()
}

// rfsStrings returns the known elements of a list (nil when null or unknown).
func rfsStrings(ctx context.Context, l types.List, diags *diag.Diagnostics) []string {
	if l.IsNull() || l.IsUnknown() {
		return nil
	}
	var vs []types.String
	diags.Append(l.ElementsAs(ctx, &vs, false)...)
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		if v.IsUnknown() {
			return nil
		}
		out = append(out, v.ValueString())
	}
	return out
}

func rfsDuration(diags *diag.Diagnostics, p path.Path, s types.String) {
	if !rfsKnown(s) {
		return
	}
	if _, err := restore.ParseLimit(s.ValueString()); err != nil {
		attrError(diags, p, "Invalid duration", err.Error())
	}
}

// ValidateConfig refuses, before anything runs, what can be told from the
// configuration alone.
func (r *restoreResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m restoreModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	d := &resp.Diagnostics
	set, unknown := []string{}, false
	for name, o := range map[string]types.Object{"archive": m.Archive, "gds": m.GDS, "kcps": m.KCPS} {
		switch {
		case o.IsUnknown():
			unknown = true
		case !o.IsNull():
			set = append(set, name)
		}
	}
	sort.Strings(set)
	if !unknown && len(set) != 1 {
		detail := "Set exactly one of archive, gds or kcps: the source of the restore."
		if len(set) > 1 {
			detail = fmt.Sprintf("%s are all set: a restore has exactly one source (archive, gds or kcps). Use one resource per restore.", strings.Join(set, " and "))
		}
		attrError(d, path.Root(rfsFirstOr(set, "archive")), "Exactly one source block", detail)
	}
	mode, modeKnown := restore.ModeDrill, true
	switch {
	case m.Mode.IsUnknown():
		modeKnown = false
	case !m.Mode.IsNull():
		mode = m.Mode.ValueString()
	}

	identity, idKnown := "", false
	var a rfsArchiveModel
	if rfsObject(ctx, m.Archive, &a, d) {
		identity, idKnown = r.validateArchive(ctx, a, mode, modeKnown, d)
	}
	var g rfsGDSModel
	if rfsObject(ctx, m.GDS, &g, d) {
		identity, idKnown = restore.GDSIdentity(g.Host.ValueString(), g.Class.ValueString(), g.Proxy.ValueString()),
			rfsKnown(g.Host) && rfsKnown(g.Class) && rfsKnown(g.Proxy)
		for _, x := range []struct {
			n string
			v types.String
		}{{"class", g.Class}, {"proxy", g.Proxy}} {
			if rfsKnown(x.v) {
				if err := gds.CheckName(x.v.ValueString()); err != nil {
					attrError(d, path.Root("gds").AtName(x.n), "Invalid GDS object name", err.Error())
				}
			}
		}
		if modeKnown && mode != restore.ModeInPlace {
			attrError(d, path.Root("mode"), "A GDS restore is always in place",
				fmt.Sprintf("sdxproxy Restore copies the proxy back onto its master: there is no separate drill target. Set mode = %q and confirm = %q.",
					restore.ModeInPlace, identity))
		}
		if rfsKnown(g.SnapshotTime) {
			if _, err := time.Parse(time.RFC3339, g.SnapshotTime.ValueString()); err != nil {
				attrError(d, path.Root("gds").AtName("snapshot_time"), "Invalid time", fmt.Sprintf("%q is not an RFC 3339 time", g.SnapshotTime.ValueString()))
			}
		}
		if g.SnapshotTime.IsNull() && !m.MaxRPO.IsNull() {
			attrError(d, path.Root("max_rpo"), "max_rpo needs gds.snapshot_time",
				"GDS does not record when a proxy was parted: set gds.snapshot_time (e.g. backupctl_gds_proxy_pair.<name>.parted_at) to check max_rpo.")
		}
	}
	var k rfsKCPSModel
	if rfsObject(ctx, m.KCPS, &k, d) {
		identity, idKnown = restore.KCPSIdentity(k.Name.ValueString()), rfsKnown(k.Name)
		if rfsKnown(k.Name) && !rfsVMName.MatchString(k.Name.ValueString()) {
			attrError(d, path.Root("kcps").AtName("name"), "Invalid VM name",
				fmt.Sprintf("%q: a VM name is a host name of 2 to 63 letters, digits and hyphens, starting with a letter", k.Name.ValueString()))
		}
		for _, x := range []struct {
			n string
			v types.String
		}{{"root_snapshot_id", k.RootSnapshotID}, {"service_offering_id", k.ServiceOfferingID}, {"network_id", k.NetworkID}, {"os_type_id", k.OSTypeID}} {
			if rfsKnown(x.v) && strings.TrimSpace(x.v.ValueString()) == "" {
				attrError(d, path.Root("kcps").AtName(x.n), "Empty id", x.n+" must not be empty")
			}
		}
		if ids := rfsStrings(ctx, k.DataSnapshotIDs, d); rfsKnown(k.RootSnapshotID) {
			for i, id := range ids {
				if id == k.RootSnapshotID.ValueString() {
					attrError(d, path.Root("kcps").AtName("data_snapshot_ids").AtListIndex(i), "ROOT snapshot listed as data",
						"the ROOT snapshot becomes the template; list only data volume snapshots here")
				}
			}
		}
	}
	if (!m.GDS.IsNull() || !m.KCPS.IsNull()) && !m.RequireLabels.IsNull() && m.Archive.IsNull() {
		attrError(d, path.Root("require_labels"), "require_labels applies to archives",
			"Only archive generations carry labels; remove require_labels from a gds or kcps restore.")
	}

	// confirm
	if modeKnown && mode == restore.ModeInPlace {
		switch {
		case m.Confirm.IsNull():
			msg := "An in_place restore overwrites the live target: set confirm to the target's identity"
			if idKnown {
				msg += fmt.Sprintf(" (confirm = %q)", identity)
			}
			attrError(d, path.Root("confirm"), "confirm is required for in_place", msg+".")
		case rfsKnown(m.Confirm) && idKnown:
			if err := restore.CheckConfirm(mode, identity, m.Confirm.ValueString()); err != nil {
				attrError(d, path.Root("confirm"), "confirm does not match the target", err.Error())
			}
		}
	}
	if modeKnown && mode == restore.ModeDrill && !m.Confirm.IsNull() {
		d.AddAttributeWarning(path.Root("confirm"), "confirm is ignored in a drill", "confirm guards in_place restores only.")
	}

	rfsDuration(d, path.Root("max_rpo"), m.MaxRPO)
	rfsDuration(d, path.Root("max_rto"), m.MaxRTO)
	var v rfsVerifyModel
	if rfsObject(ctx, m.Verify, &v, d) {
		rfsDuration(d, path.Root("verify").AtName("timeout"), v.Timeout)
	}
}

func rfsFirstOr(s []string, def string) string {
	if len(s) > 0 {
		return s[0]
	}
	return def
}

func (r *restoreResource) validateArchive(ctx context.Context, a rfsArchiveModel, mode string, modeKnown bool, d *diag.Diagnostics) (string, bool) {
	p := path.Root("archive")
	switch {
	case a.GenerationID.IsNull() && a.File.IsNull():
		attrError(d, p, "No archive named", "Set generation_id (with from_path) or file.")
	case !a.GenerationID.IsNull() && !a.File.IsNull():
		attrError(d, p.AtName("file"), "Both generation_id and file", "Name the archive once: generation_id (with from_path) or file (with sha256).")
	case !a.GenerationID.IsNull() && a.FromPath.IsNull():
		attrError(d, p.AtName("from_path"), "from_path is required with generation_id",
			"Set from_path to the directory holding the generations (the backup policy's destination.path).")
	case !a.File.IsNull() && !a.FromPath.IsNull():
		attrError(d, p.AtName("from_path"), "from_path is for generation_id", "With file, the archive's path is complete: remove from_path.")
	}
	for _, x := range []struct {
		n string
		v types.String
	}{{"file", a.File}, {"from_path", a.FromPath}, {"target_path", a.TargetPath}} {
		if rfsKnown(x.v) {
			if err := restore.CheckAbsClean(x.v.ValueString()); err != nil {
				attrError(d, p.AtName(x.n), "Invalid path", err.Error())
			}
		}
	}
	if rfsKnown(a.GenerationID) && (a.GenerationID.ValueString() == "" || strings.ContainsAny(a.GenerationID.ValueString(), "/\x00")) {
		attrError(d, p.AtName("generation_id"), "Invalid generation id", "a generation id is a file name without its extension")
	}
	if rfsKnown(a.SHA256) && !rfsSHA256.MatchString(a.SHA256.ValueString()) {
		attrError(d, p.AtName("sha256"), "Invalid SHA-256", fmt.Sprintf("%q is not 64 hex digits", a.SHA256.ValueString()))
	}
	if modeKnown && mode == restore.ModeDrill && rfsKnown(a.TargetPath) && a.TargetPath.ValueString() == "/" {
		attrError(d, p.AtName("target_path"), "A drill into /",
			"A drill restores into a scratch directory that destroy removes again; \"/\" is the live system. Use mode = \"in_place\" to write the files back where they were.")
	}
	if modeKnown && mode == restore.ModeDrill {
		for _, n := range []string{"stop", "start"} {
			l := a.Stop
			if n == "start" {
				l = a.Start
			}
			if !l.IsNull() {
				d.AddAttributeWarning(p.AtName(n), n+" is not run in a drill",
					"A drill restores away from the live service: stop and start commands run only for in_place restores.")
			}
		}
	}
	return restore.ArchiveIdentity(a.TargetHost.ValueString(), a.TargetPath.ValueString()), rfsKnown(a.TargetHost) && rfsKnown(a.TargetPath)
}
