package provider

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/backupctl/terraform-provider-backupctl/internal/kcps"
)

var (
	_ resource.Resource                = (*kcpsVolumeSnapshotResource)(nil)
	_ resource.ResourceWithConfigure   = (*kcpsVolumeSnapshotResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*kcpsVolumeSnapshotResource)(nil)
	_ resource.ResourceWithImportState = (*kcpsVolumeSnapshotResource)(nil)
)

func init() { registerResource(NewKCPSVolumeSnapshotResource) }

// NewKCPSVolumeSnapshotResource returns backupctl_kcps_volume_snapshot.
func NewKCPSVolumeSnapshotResource() resource.Resource { return &kcpsVolumeSnapshotResource{} }

type kcpsVolumeSnapshotResource struct{ data *providerData }

type kcpsVolumeSnapshotModel struct {
	ID               types.String   `tfsdk:"id"`
	VolumeID         types.String   `tfsdk:"volume_id"`
	Keep             types.Int64    `tfsdk:"keep"`
	Trigger          types.String   `tfsdk:"trigger"`
	VMPower          types.String   `tfsdk:"vm_power"`
	ForceDestroy     types.Bool     `tfsdk:"force_destroy"`
	Generations      types.List     `tfsdk:"generations"`
	LatestSnapshotID types.String   `tfsdk:"latest_snapshot_id"`
	PrunedIDs        types.List     `tfsdk:"pruned_snapshot_ids"`
	Timeouts         timeouts.Value `tfsdk:"timeouts"`
}

// kcpsIDRE matches CloudStack's UUID ids.
var kcpsIDRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// privateImported marks a resource just imported: its first trigger value is
// recorded without taking a snapshot.
const privateImported = "imported"

const (
	defaultKCPSCreateTimeout = 4 * time.Hour
	defaultKCPSDeleteTimeout = time.Hour
)

func (r *kcpsVolumeSnapshotResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_kcps_volume_snapshot"
}

func (r *kcpsVolumeSnapshotResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "A generation set of KCPS ver1 snapshots of one volume: a change of `trigger` takes a new snapshot " +
			"and, once it is BackedUp, deletes the oldest generations beyond `keep`. The plan shows the new generation " +
			"and exactly which snapshots will be deleted.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, Description: "The volume id (also the import id).",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"volume_id": schema.StringAttribute{Required: true,
				Description:   "The KCPS volume (ROOT or DATADISK) to snapshot. Changing it replaces the resource.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators: []validator.String{stringvalidator.RegexMatches(kcpsIDRE,
					"must be a KCPS volume id (a UUID such as 9e5f6071-0000-4000-8000-000000000904)")}},
			"keep": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(8),
				Description: "How many generations to keep, 1 to 8 (KCPS keeps at most 8). Default 8. Lowering it prunes at the next apply.",
				Validators:  []validator.Int64{int64validator.Between(1, kcps.MaxSnapsLimit)}},
			"trigger": schema.StringAttribute{Optional: true,
				Description: "Any string; changing it to a new value takes a new generation (e.g. a date, a release tag). " +
					"After an import, the first value is recorded without taking a snapshot."},
			"vm_power": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString(string(kcps.RequireStopped)),
				Description: "KCPS takes a volume snapshot only while its VM is stopped (starting the VM makes it fail). " +
					"`require_stopped` (default) fails the apply when the VM runs; `stop_start` stops it, takes the snapshot and " +
					"starts it again if it was running, also when the snapshot failed.",
				Validators: []validator.String{stringvalidator.OneOf(string(kcps.RequireStopped), string(kcps.StopStart))}},
			"force_destroy": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				Description: "Destroying deletes every generation only when true (apply it first); by default destroy refuses while generations exist."},
			"generations": schema.ListNestedAttribute{Computed: true,
				Description: "The generations, newest first.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"id":      schema.StringAttribute{Computed: true, Description: "Snapshot id."},
					"name":    schema.StringAttribute{Computed: true, Description: "Snapshot name given by KCPS."},
					"state":   schema.StringAttribute{Computed: true, Description: "Snapshot state (`BackedUp`; `Missing` when it was deleted out of band: the next apply drops it)."},
					"created": schema.StringAttribute{Computed: true, Description: "When the snapshot was started (RFC 3339, UTC)."},
					"trigger": schema.StringAttribute{Computed: true, Description: "The `trigger` value that took it (null for imported snapshots)."},
				}}},
			"latest_snapshot_id": schema.StringAttribute{Computed: true, Description: "The newest generation's snapshot id."},
			"pruned_snapshot_ids": schema.ListAttribute{Computed: true, ElementType: types.StringType,
				Description: "In a plan: the snapshots the apply will delete. In the state: those the last apply deleted."},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true,
				CreateDescription: "Default 4h: a 100 GB snapshot takes about 3 hours on KCPS.",
				UpdateDescription: "Default 4h (an update takes a snapshot when trigger changes).",
				DeleteDescription: "Default 1h."}),
		},
	}
}

func (r *kcpsVolumeSnapshotResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// triggerTakes reports whether going from the state's trigger to the
// planned one takes a new generation.
func triggerTakes(state, plan types.String, imported bool) bool {
	if plan.IsUnknown() {
		return true
	}
	if plan.IsNull() || plan.Equal(state) {
		return false
	}
	return !(imported && state.IsNull())
}

func (r *kcpsVolumeSnapshotResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if r.data == nil {
		return
	}
	if req.Plan.Raw.IsNull() { // destroy
		var st kcpsVolumeSnapshotModel
		resp.Diagnostics.Append(req.State.Get(ctx, &st)...)
		gens, d := generationsFrom(ctx, st.Generations)
		resp.Diagnostics.Append(d...)
		if live := liveGenerations(gens); len(live) > 0 && !st.ForceDestroy.ValueBool() {
			resp.Diagnostics.AddError("Generations would be lost",
				fmt.Sprintf("backupctl_kcps_volume_snapshot for volume %s holds %d snapshot(s) (%s). Destroying it would delete them: "+
					"set force_destroy = true and apply first, or keep the snapshots by removing the resource from the state (terraform state rm).",
					st.VolumeID.ValueString(), len(live), strings.Join(genIDs(live), ", ")))
		}
		return
	}
	var plan, cfg kcpsVolumeSnapshotModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !plan.VolumeID.IsUnknown() {
		plan.ID = plan.VolumeID
	}
	if !req.State.Raw.IsNull() {
		// A new volume_id replaces the resource: the old generations would
		// be deleted.
		var st kcpsVolumeSnapshotModel
		resp.Diagnostics.Append(req.State.Get(ctx, &st)...)
		gens, d := generationsFrom(ctx, st.Generations)
		resp.Diagnostics.Append(d...)
		if live := liveGenerations(gens); !plan.VolumeID.Equal(st.VolumeID) && len(live) > 0 && !st.ForceDestroy.ValueBool() {
			attrError(&resp.Diagnostics, path.Root("volume_id"), "Generations would be lost",
				fmt.Sprintf("Changing volume_id replaces the resource, which deletes the %d snapshot(s) of volume %s (%s). "+
					"Set force_destroy = true and apply first, or add a new resource for the new volume.",
					len(live), st.VolumeID.ValueString(), strings.Join(genIDs(live), ", ")))
			return
		}
	}
	stopSummary, stopWarning, volumeMissing := r.checkVolumeAtPlan(ctx, plan, !req.State.Raw.IsNull(), &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	// The VM is touched only when a new generation is taken: warn then only.
	warnStop := func() {
		if stopWarning != "" {
			resp.Diagnostics.AddAttributeWarning(path.Root("vm_power"), stopSummary, stopWarning)
		}
	}

	// A generation the apply adopts (an interrupted run's snapshot) leaves
	// the VM alone: say that instead of the vm_power warning.
	takeWarnings := func(gens []kcpsGeneration) {
		if detail, ok := r.adoptionAtPlan(ctx, plan.VolumeID.ValueString(), gens, &resp.Diagnostics); ok {
			resp.Diagnostics.AddAttributeWarning(path.Root("generations"), "An interrupted snapshot will be adopted", detail)
			return
		}
		warnStop()
	}

	if req.State.Raw.IsNull() { // create
		takeWarnings(nil)
		plan.Generations = types.ListValueMust(kcpsGenerationType, []attr.Value{newGenerationObject(plan.Trigger)})
		plan.LatestSnapshotID = types.StringUnknown()
		plan.PrunedIDs = stringList(nil)
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}

	var st kcpsVolumeSnapshotModel
	resp.Diagnostics.Append(req.State.Get(ctx, &st)...)
	gens, d := generationsFrom(ctx, st.Generations)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	imported := isImported(ctx, req.Private)
	if plan.Keep.IsUnknown() {
		plan.Generations, plan.LatestSnapshotID = types.ListUnknown(kcpsGenerationType), types.StringUnknown()
		plan.PrunedIDs = types.ListUnknown(types.StringType)
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	rp := planRotation(gens, int(plan.Keep.ValueInt64()), triggerTakes(st.Trigger, plan.Trigger, imported))
	if rp.Take && volumeMissing {
		attrError(&resp.Diagnostics, path.Root("volume_id"), "Volume not found",
			fmt.Sprintf("The KCPS account has no volume %s any more: no new generation can be taken of it. Its snapshots stay; "+
				"keep the trigger as it was to keep them in state, or set force_destroy = true and destroy to delete them.", plan.VolumeID.ValueString()))
		return
	}
	if !rp.Take && len(rp.Prune) == 0 && len(rp.Accept) == 0 {
		plan.Generations, plan.LatestSnapshotID, plan.PrunedIDs = st.Generations, st.LatestSnapshotID, st.PrunedIDs
		if plan.PrunedIDs.IsNull() {
			plan.PrunedIDs = stringList(nil)
		}
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	var elems []attr.Value
	if rp.Take {
		takeWarnings(gens)
		elems = append(elems, newGenerationObject(plan.Trigger))
		plan.LatestSnapshotID = types.StringUnknown()
	}
	for _, g := range rp.Keep {
		elems = append(elems, g.object())
	}
	plan.Generations = types.ListValueMust(kcpsGenerationType, elems)
	plan.PrunedIDs = stringList(genIDs(rp.Prune))
	if !rp.Take {
		plan.LatestSnapshotID = types.StringNull()
		if len(rp.Keep) > 0 {
			plan.LatestSnapshotID = types.StringValue(rp.Keep[0].ID)
		}
	}
	if len(rp.Prune) > 0 {
		when := "now"
		if rp.Take {
			when = "once the new generation is BackedUp"
		}
		resp.Diagnostics.AddAttributeWarning(path.Root("generations"), "Snapshots will be deleted",
			fmt.Sprintf("Volume %s keeps %d generation(s): %s these snapshots are deleted: %s.",
				plan.VolumeID.ValueString(), plan.Keep.ValueInt64(), when, describeGens(rp.Prune)))
	}
	if len(rp.Accept) > 0 {
		resp.Diagnostics.AddAttributeWarning(path.Root("generations"), "Snapshots deleted outside Terraform",
			fmt.Sprintf("These generations of volume %s no longer exist and will be dropped from the state: %s.",
				plan.VolumeID.ValueString(), describeGens(rp.Accept)))
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// checkVolumeAtPlan looks the volume up in the shared listing (one call for
// every resource of the plan). For vm_power = "stop_start" and a VM, it
// returns the warning to show when a new generation is planned: that a
// running VM will be stopped and started again, or that a stopped one
// stays stopped (an apply killed between stop and start, kill -9 or a
// crash, leaves the VM stopped; the next apply does not know it stopped
// it, and this warning is how the operator learns of it before applying).
//
// A volume that is gone fails the plan of a new resource; for one in state
// it is only a warning (missing = true), since KCPS keeps the snapshots of
// a deleted volume: settings can still change, the generations can be
// pruned or destroyed, and only taking a new one is refused (ModifyPlan).
func (r *kcpsVolumeSnapshotResource) checkVolumeAtPlan(ctx context.Context, plan kcpsVolumeSnapshotModel, existing bool, diags *diag.Diagnostics) (summary, detail string, missing bool) {
	if plan.VolumeID.IsUnknown() || plan.VolumeID.IsNull() {
		return "", "", false
	}
	ctx = r.data.LogContext(ctx)
	acct := r.data.kcpsAccount()
	if acct.err != nil {
		diags.AddError("KCPS is not configured", acct.err.Error())
		return "", "", false
	}
	vol, found, err := acct.Volume(ctx, plan.VolumeID.ValueString())
	if err != nil {
		diags.AddError("Cannot list KCPS volumes", err.Error())
		return "", "", false
	}
	if !found && existing {
		diags.AddAttributeWarning(path.Root("volume_id"), "Volume not found",
			fmt.Sprintf("The KCPS account has no volume %s any more. Its snapshots (the generations in state) stay in KCPS; "+
				"no new generation can be taken. To delete them, set force_destroy = true and destroy the resource.", plan.VolumeID.ValueString()))
		return "", "", true
	}
	if !found {
		attrError(diags, path.Root("volume_id"), "Volume not found",
			fmt.Sprintf("The KCPS account has no volume %s.", plan.VolumeID.ValueString()))
		return "", "", true
	}
	if vol.VirtualMachineID == "" || vol.VMState == "" || plan.VMPower.ValueString() != string(kcps.StopStart) {
		return "", "", false
	}
	if vol.VMState == kcps.VMStopped {
		return "The VM is stopped and stays stopped",
			fmt.Sprintf("VM %s (%s) is Stopped: the new generation is taken with it stopped, and it is left stopped "+
				"(stop_start starts again only a VM it stopped itself). If an earlier apply was interrupted while it had "+
				"the VM stopped, start the VM again (startVirtualMachine) after this apply.", vol.VMName, vol.VirtualMachineID), false
	}
	return "The VM will be stopped",
		fmt.Sprintf("VM %s (%s) is %s: the new generation stops it, takes the snapshot and starts it again.", vol.VMName, vol.VirtualMachineID, vol.VMState), false
}

// adoptionBasis is what TakeSnapshot is told of the generations in state:
// their ids, and when the newest was created.
func adoptionBasis(gens []kcpsGeneration) (known map[string]bool, newest time.Time) {
	known = map[string]bool{}
	for _, g := range gens {
		known[g.ID] = true
		if t, err := time.Parse(time.RFC3339, g.Created); err == nil && t.After(newest) {
			newest = t
		}
	}
	return known, newest
}

// adoptionAtPlan tells, from the shared snapshot listing, whether the
// planned generation will be an interrupted run's snapshot, adopted by
// the apply (kcps.Adoptable, as TakeSnapshot decides), and returns what
// the plan says of it.
func (r *kcpsVolumeSnapshotResource) adoptionAtPlan(ctx context.Context, volumeID string, gens []kcpsGeneration, diags *diag.Diagnostics) (string, bool) {
	if volumeID == "" {
		return "", false
	}
	acct := r.data.kcpsAccount()
	if acct.err != nil {
		return "", false // reported by checkVolumeAtPlan
	}
	all, err := acct.Snapshots(r.data.LogContext(ctx))
	if err != nil {
		diags.AddError("Cannot list KCPS snapshots", err.Error())
		return "", false
	}
	known, adoptAfter := adoptionBasis(gens)
	s, ok := kcps.Adoptable(all, volumeID, known, adoptAfter)
	if !ok {
		return "", false
	}
	how := fmt.Sprintf("was taken after the newest generation (%s)", s.State)
	caveat := ""
	if s.InProgress() {
		how = fmt.Sprintf("is still being taken (%s)", s.State)
		if adoptAfter.IsZero() {
			caveat = " Should it finish before this apply runs, a new snapshot is taken instead, with vm_power applied."
		}
	}
	return fmt.Sprintf("Snapshot %s (%s) of volume %s, created %s, is a manual snapshot not among this resource's generations "+
		"that %s: what an apply interrupted while taking a snapshot leaves behind. This apply adopts it as the new generation "+
		"instead of taking another, so the VM is not stopped or started.%s If it is someone's own snapshot, know that as a "+
		"generation it will be pruned in its turn.",
		s.ID, s.Name, volumeID, s.Created.UTC().Format(time.RFC3339), how, caveat), true
}

func describeGens(gs []kcpsGeneration) string {
	parts := make([]string, len(gs))
	for i, g := range gs {
		parts[i] = fmt.Sprintf("%s (created %s)", g.ID, g.Created)
	}
	return strings.Join(parts, ", ")
}

func genIDs(gs []kcpsGeneration) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.ID
	}
	return out
}

type kcpsPrivateReader interface {
	GetKey(ctx context.Context, key string) ([]byte, diag.Diagnostics)
}

func isImported(ctx context.Context, p kcpsPrivateReader) bool {
	if p == nil {
		return false
	}
	b, _ := p.GetKey(ctx, privateImported)
	return len(b) > 0
}

func (r *kcpsVolumeSnapshotResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan kcpsVolumeSnapshotModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Create(ctx, defaultKCPSCreateTimeout)
	resp.Diagnostics.Append(d...)
	client := r.data.KCPSClient(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(r.data.LogContext(ctx), timeout)
	defer cancel()
	acct := r.data.kcpsAccount()
	defer acct.Invalidate()
	res, err := client.TakeSnapshot(ctx, kcps.TakeOptions{VolumeID: plan.VolumeID.ValueString(),
		VMPower: kcps.VMPower(plan.VMPower.ValueString()), Known: map[string]bool{}, Logf: kcpsLogf(ctx)})
	if err != nil {
		resp.Diagnostics.AddError("Snapshot failed", snapshotErrorDetail(plan.VolumeID.ValueString(), err))
		return
	}
	g := genFromSnapshot(res.Snapshot, plan.Trigger.ValueStringPointer())
	plan.ID = plan.VolumeID
	plan.Generations = generationsList([]kcpsGeneration{g})
	plan.LatestSnapshotID = types.StringValue(g.ID)
	plan.PrunedIDs = stringList(nil)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func snapshotErrorDetail(volumeID string, err error) string {
	msg := fmt.Sprintf("Snapshot of volume %s: %v", volumeID, err)
	if errors.Is(err, context.DeadlineExceeded) {
		msg += "\n\nThe create/update timeout ran out. The snapshot job goes on in KCPS: the next apply adopts it instead of starting another " +
			"(a first snapshot only while it is still running)."
	}
	return msg
}

func (r *kcpsVolumeSnapshotResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, st kcpsVolumeSnapshotModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &st)...)
	if resp.Diagnostics.HasError() {
		return
	}
	gens, d := generationsFrom(ctx, st.Generations)
	resp.Diagnostics.Append(d...)
	timeout, d := plan.Timeouts.Update(ctx, defaultKCPSCreateTimeout)
	resp.Diagnostics.Append(d...)
	client := r.data.KCPSClient(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(r.data.LogContext(ctx), timeout)
	defer cancel()
	acct := r.data.kcpsAccount()
	defer acct.Invalidate()

	rp := planRotation(gens, int(plan.Keep.ValueInt64()), triggerTakes(st.Trigger, plan.Trigger, isImported(ctx, req.Private)))
	if planned, d := generationsFrom(ctx, plan.Generations); !plan.Generations.IsUnknown() && !d.HasError() {
		// Do exactly what the plan showed.
		rp = rotationFromPlan(gens, planned)
	}
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateImported, nil)...)

	var result []kcpsGeneration
	if rp.Take {
		known, newest := adoptionBasis(gens)
		res, err := client.TakeSnapshot(ctx, kcps.TakeOptions{VolumeID: plan.VolumeID.ValueString(),
			VMPower: kcps.VMPower(plan.VMPower.ValueString()), Known: known, AdoptAfter: newest, Logf: kcpsLogf(ctx)})
		if err != nil {
			// Nothing changed: keep the state as it was (the old trigger, so
			// that the next plan tries again).
			resp.Diagnostics.AddError("Snapshot failed", snapshotErrorDetail(plan.VolumeID.ValueString(), err))
			resp.Diagnostics.Append(resp.State.Set(ctx, &st)...)
			return
		}
		result = append(result, genFromSnapshot(res.Snapshot, plan.Trigger.ValueStringPointer()))
	}
	result = append(result, rp.Keep...)
	// Prune only now that the new generation is BackedUp.
	var failed []kcpsGeneration
	var errs, pruned []string
	for _, g := range rp.Prune {
		if err := client.DeleteSnapshot(ctx, g.ID); err != nil {
			failed = append(failed, g)
			errs = append(errs, fmt.Sprintf("%s: %v", g.ID, err))
			continue
		}
		pruned = append(pruned, g.ID)
	}
	if rp.Take || len(rp.Prune) > 0 || plan.PrunedIDs.IsUnknown() {
		plan.PrunedIDs = stringList(pruned)
	} // else nothing was to be pruned: the plan kept the last apply's ids
	if len(failed) > 0 {
		// Keep what could not be deleted: the next plan prunes it again.
		result = append(result, failed...)
		resp.Diagnostics.AddError("Pruning failed",
			fmt.Sprintf("The new generation was taken, but these snapshots could not be deleted:\n%s", strings.Join(errs, "\n")))
	}
	plan.Generations = generationsList(result)
	plan.LatestSnapshotID = types.StringNull()
	if len(result) > 0 {
		plan.LatestSnapshotID = types.StringValue(result[0].ID)
	}
	plan.ID = plan.VolumeID
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *kcpsVolumeSnapshotResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var st kcpsVolumeSnapshotModel
	resp.Diagnostics.Append(req.State.Get(ctx, &st)...)
	if resp.Diagnostics.HasError() {
		return
	}
	acct := r.data.kcpsAccount()
	if acct.err != nil {
		resp.Diagnostics.AddError("KCPS is not configured", acct.err.Error())
		return
	}
	ctx = r.data.LogContext(ctx)
	all, err := acct.Snapshots(ctx)
	if err != nil {
		resp.Diagnostics.AddError("Cannot list KCPS snapshots", err.Error())
		return
	}
	volumeID := st.VolumeID.ValueString()
	byID := map[string]kcps.Snapshot{}
	var ofVolume []kcps.Snapshot
	for _, s := range all {
		byID[s.ID] = s
		if s.VolumeID == volumeID {
			ofVolume = append(ofVolume, s)
		}
	}
	var gens []kcpsGeneration
	if st.Generations.IsNull() && isImported(ctx, req.Private) {
		// Just imported: adopt the volume's finished manual snapshots.
		kcps.SortNewestFirst(ofVolume)
		for _, s := range ofVolume {
			if s.State == kcps.SnapshotBackedUp && (s.IntervalType == "" || s.IntervalType == "MANUAL") {
				gens = append(gens, genFromSnapshot(s, nil))
			}
		}
	} else {
		old, d := generationsFrom(ctx, st.Generations)
		resp.Diagnostics.Append(d...)
		for _, g := range old {
			if s, ok := byID[g.ID]; ok {
				ng := genFromSnapshot(s, g.Trigger)
				if ng.Created == "" {
					ng.Created = g.Created
				}
				gens = append(gens, ng)
			} else {
				g.State = generationMissing
				gens = append(gens, g)
			}
		}
	}
	_, volFound, err := acct.Volume(ctx, volumeID)
	if err != nil {
		resp.Diagnostics.AddError("Cannot list KCPS volumes", err.Error())
		return
	}
	if !volFound && len(liveGenerations(gens)) == 0 {
		// The volume and every generation are gone.
		resp.State.RemoveResource(ctx)
		return
	}
	st.Generations = generationsList(gens)
	if st.PrunedIDs.IsNull() || st.PrunedIDs.IsUnknown() {
		st.PrunedIDs = stringList(nil)
	}
	st.LatestSnapshotID = types.StringNull()
	if live := liveGenerations(gens); len(live) > 0 {
		st.LatestSnapshotID = types.StringValue(live[0].ID)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &st)...)
}

func (r *kcpsVolumeSnapshotResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var st kcpsVolumeSnapshotModel
	resp.Diagnostics.Append(req.State.Get(ctx, &st)...)
	gens, d := generationsFrom(ctx, st.Generations)
	resp.Diagnostics.Append(d...)
	timeout, d := st.Timeouts.Delete(ctx, defaultKCPSDeleteTimeout)
	resp.Diagnostics.Append(d...)
	client := r.data.KCPSClient(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(r.data.LogContext(ctx), timeout)
	defer cancel()
	acct := r.data.kcpsAccount()
	defer acct.Invalidate()
	existing, err := client.ListSnapshots(ctx, kcps.SnapshotFilter{VolumeID: st.VolumeID.ValueString()})
	if err != nil && !kcps.IsNotFound(err) {
		resp.Diagnostics.AddError("Cannot list KCPS snapshots", err.Error())
		return
	}
	exists := map[string]bool{}
	for _, s := range existing {
		exists[s.ID] = true
	}
	var live []kcpsGeneration
	for _, g := range gens {
		if exists[g.ID] {
			live = append(live, g)
		}
	}
	if len(live) > 0 && !st.ForceDestroy.ValueBool() {
		resp.Diagnostics.AddError("Generations would be lost",
			fmt.Sprintf("Volume %s still has %d generation(s) (%s); set force_destroy = true and apply first, or use terraform state rm to keep them.",
				st.VolumeID.ValueString(), len(live), strings.Join(genIDs(live), ", ")))
		return
	}
	var errs []string
	for _, g := range live {
		if err := client.DeleteSnapshot(ctx, g.ID); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", g.ID, err))
		}
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		resp.Diagnostics.AddError("Cannot delete snapshots", strings.Join(errs, "\n"))
	}
}

func (r *kcpsVolumeSnapshotResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	id := strings.TrimSpace(req.ID)
	if !kcpsIDRE.MatchString(id) {
		resp.Diagnostics.AddError("Invalid import id", fmt.Sprintf("Import a backupctl_kcps_volume_snapshot by its volume id (a UUID), got %q.", req.ID))
		return
	}
	for attr, v := range map[string]any{"id": id, "volume_id": id, "keep": int64(8), "vm_power": string(kcps.RequireStopped), "force_destroy": false} {
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(attr), v)...)
	}
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateImported, []byte("1"))...)
}

func stringList(ss []string) types.List {
	elems := make([]attr.Value, len(ss))
	for i, v := range ss {
		elems[i] = types.StringValue(v)
	}
	return types.ListValueMust(types.StringType, elems)
}
