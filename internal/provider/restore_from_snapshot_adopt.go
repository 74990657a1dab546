// backupctl_restore_from_snapshot: the first apply after an archive or gds
// import records the configuration instead of restoring again.

package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
)

// rfsAdoptKey marks, in private state, an archive or gds restore just
// imported: its state holds the id alone, so every argument of the
// configuration differs from it. Replacing it would run the restore once
// more over the live data (a GDS restore copies the old proxy onto the
// master again); the next apply records the configuration instead, runs
// nothing, and clears the mark. A kcps import is not marked: replacing it
// is what removes the adopted leftovers and runs the drill afresh.
const rfsAdoptKey = "adopt"

func rfsAdopting(ctx context.Context, p privateGetter) bool {
	if p == nil {
		return false
	}
	b, _ := p.GetKey(ctx, rfsAdoptKey)
	return len(b) > 0
}

const rfsReplaceDesc = "Changing it runs a new restore (replacement), except on the first apply after an archive or gds import, which records it."

// The RequiresReplace of every argument, but not while adopting.
var (
	rfsReplaceString = stringplanmodifier.RequiresReplaceIf(func(ctx context.Context, req planmodifier.StringRequest, resp *stringplanmodifier.RequiresReplaceIfFuncResponse) {
		resp.RequiresReplace = !rfsAdopting(ctx, req.Private)
	}, rfsReplaceDesc, rfsReplaceDesc)
	rfsReplaceObject = objectplanmodifier.RequiresReplaceIf(func(ctx context.Context, req planmodifier.ObjectRequest, resp *objectplanmodifier.RequiresReplaceIfFuncResponse) {
		resp.RequiresReplace = !rfsAdopting(ctx, req.Private)
	}, rfsReplaceDesc, rfsReplaceDesc)
	rfsReplaceMap = mapplanmodifier.RequiresReplaceIf(func(ctx context.Context, req planmodifier.MapRequest, resp *mapplanmodifier.RequiresReplaceIfFuncResponse) {
		resp.RequiresReplace = !rfsAdopting(ctx, req.Private)
	}, rfsReplaceDesc, rfsReplaceDesc)
)

// adoptPlan, in ModifyPlan: the computed results stay as imported (there
// was no restore to measure), and the plan says nothing will run.
func (r *restoreResource) adoptPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse, m *restoreModel) {
	if req.State.Raw.IsNull() || !rfsAdopting(ctx, req.Private) {
		return
	}
	var st restoreModel
	resp.Diagnostics.Append(req.State.Get(ctx, &st)...)
	if resp.Diagnostics.HasError() {
		return
	}
	m.keepResults(&st)
	resp.Diagnostics.Append(resp.Plan.Set(ctx, m)...)
	resp.Diagnostics.AddWarning("Imported restore: configuration recorded, nothing runs",
		m.ID.ValueString()+" was imported: this apply records the configuration in state without restoring again. "+
			"Changing an argument afterwards runs a new restore, as usual.")
}

// keepResults copies the computed results of st into m.
func (m *restoreModel) keepResults(st *restoreModel) {
	m.ID, m.StartedAt, m.FinishedAt, m.Report = st.ID, st.StartedAt, st.FinishedAt, st.Report
	m.RTOSeconds, m.RPOSeconds, m.Verified = st.RTOSeconds, st.RPOSeconds, st.Verified
}

// adoptUpdate, in Update: records the plan, clears the mark. It reports
// whether it did.
func (r *restoreResource) adoptUpdate(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse, plan, state *restoreModel) bool {
	if !rfsAdopting(ctx, req.Private) {
		return false
	}
	plan.keepResults(state)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, rfsAdoptKey, nil)...)
	return true
}
