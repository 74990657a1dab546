// backupctl_restore_from_snapshot: import, and adopting what a KCPS drill
// left behind.

package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/backupctl/terraform-provider-backupctl/internal/restore"
)

// ImportState takes `<kind>:<identity>`. Importing `kcps:<name>` adopts
// what a drill of that name left (the VM, its `<name>-restore-data<N>`
// volumes and its `<name>-restore-root` template, e.g. after the state was
// lost) so that destroy removes it; archive and gds imports only record
// the id and adopt nothing (destroy removes nothing), and the next apply
// records the configuration without restoring again (rfsAdoptKey).
func (r *restoreResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	kind, ident, ok := strings.Cut(req.ID, ":")
	m := restoreModel{
		ID: types.StringValue(req.ID), Archive: types.ObjectNull(rfsArchiveType), GDS: types.ObjectNull(rfsGDSType),
		KCPS: types.ObjectNull(rfsKCPSType), Mode: types.StringValue(restore.ModeDrill), Confirm: types.StringNull(),
		Verify:  types.ObjectNull(map[string]attr.Type{"commands": rfsStringList, "timeout": types.StringType, "host": types.StringType}),
		Trigger: types.StringNull(), MaxRPO: types.StringNull(), MaxRTO: types.StringNull(),
		RequireLabels: types.MapNull(types.StringType), StartedAt: types.StringNull(), FinishedAt: types.StringNull(),
		RTOSeconds: types.Int64Null(), RPOSeconds: types.Int64Null(), Verified: types.BoolNull(), Report: types.StringNull(),
		Timeouts: timeouts.Value{Object: types.ObjectNull(map[string]attr.Type{"create": types.StringType, "delete": types.StringType})},
	}
	bad := func() {
		resp.Diagnostics.AddError("Invalid import ID",
			fmt.Sprintf("%q: want archive:<target_host>:<target_path>, gds:<host>/<class>/<proxy> or kcps:<name>", req.ID))
	}
	if !ok || ident == "" {
		bad()
		return
	}
	var created rfsCreated
	switch kind {
	case restore.KindArchive:
		h, p, ok := strings.Cut(ident, ":")
		if !ok || restore.CheckAbsClean(p) != nil || h == "" {
			bad()
			return
		}
		m.Mode = types.StringValue(restore.ModeInPlace)
	case restore.KindGDS:
		if parts := strings.Split(ident, "/"); len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
			bad()
			return
		}
		m.Mode = types.StringValue(restore.ModeInPlace)
	case restore.KindKCPS:
		if r.data == nil {
			resp.Diagnostics.AddError("Provider not configured", "Importing a KCPS drill needs the provider's kcps settings.")
			return
		}
		c := r.data.KCPSClient(&resp.Diagnostics)
		if c == nil {
			return
		}
		objs, zone, err := restore.FindKCPSLeftovers(ctx, c, ident)
		if err != nil {
			resp.Diagnostics.AddError("Import failed", err.Error())
			return
		}
		if len(objs) == 0 {
			resp.Diagnostics.AddError("Nothing to import", fmt.Sprintf("no VM named %q, no template %q and no volumes %q were found",
				ident, ident+"-restore-root", ident+"-restore-data<N>"))
			return
		}
		created = rfsCreated{Objects: objs, ZoneID: zone}
		kobj, diags := types.ObjectValue(rfsKCPSType, map[string]attr.Value{
			"root_snapshot_id": types.StringNull(), "data_snapshot_ids": types.ListNull(types.StringType), "name": types.StringValue(ident),
			"service_offering_id": types.StringNull(), "network_id": types.StringNull(), "os_type_id": types.StringNull(), "start": types.BoolNull(),
		})
		resp.Diagnostics.Append(diags...)
		m.KCPS = kobj
	default:
		bad()
		return
	}
	if b, err := json.Marshal(created); err == nil {
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, rfsPrivateKey, b)...)
	}
	if kind != restore.KindKCPS {
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, rfsAdoptKey, []byte("1"))...)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
