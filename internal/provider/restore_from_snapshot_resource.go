package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/backupctl/terraform-provider-backupctl/internal/apps"
	"github.com/backupctl/terraform-provider-backupctl/internal/gds"
	"github.com/backupctl/terraform-provider-backupctl/internal/kcps"
	"github.com/backupctl/terraform-provider-backupctl/internal/restore"
	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

var (
	_ resource.Resource                   = (*restoreResource)(nil)
	_ resource.ResourceWithConfigure      = (*restoreResource)(nil)
	_ resource.ResourceWithImportState    = (*restoreResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*restoreResource)(nil)
	_ resource.ResourceWithValidateConfig = (*restoreResource)(nil)
)

func init() { registerResource(NewRestoreFromSnapshotResource) }

// NewRestoreFromSnapshotResource returns backupctl_restore_from_snapshot.
func NewRestoreFromSnapshotResource() resource.Resource { return &restoreResource{} }

// Default timeouts: a KCPS restore of a large volume takes hours.
const (
	rfsCreateTimeout = 6 * time.Hour
	rfsDeleteTimeout = time.Hour
)

// rfsPrivateKey is the private state key holding what a drill created.
const rfsPrivateKey = "created"

type restoreResource struct{ data *providerData }

type restoreModel struct {
	ID            types.String   `tfsdk:"id"`
	Archive       types.Object   `tfsdk:"archive"`
	GDS           types.Object   `tfsdk:"gds"`
	KCPS          types.Object   `tfsdk:"kcps"`
	Mode          types.String   `tfsdk:"mode"`
	Confirm       types.String   `tfsdk:"confirm"`
	Verify        types.Object   `tfsdk:"verify"`
	Trigger       types.String   `tfsdk:"trigger"`
	MaxRPO        types.String   `tfsdk:"max_rpo"`
	MaxRTO        types.String   `tfsdk:"max_rto"`
	RequireLabels types.Map      `tfsdk:"require_labels"`
	StartedAt     types.String   `tfsdk:"started_at"`
	FinishedAt    types.String   `tfsdk:"finished_at"`
	RTOSeconds    types.Int64    `tfsdk:"rto_seconds"`
	RPOSeconds    types.Int64    `tfsdk:"rpo_seconds"`
	Verified      types.Bool     `tfsdk:"verified"`
	Report        types.String   `tfsdk:"report"`
	Timeouts      timeouts.Value `tfsdk:"timeouts"`
}

type rfsArchiveModel struct {
	GenerationID types.String `tfsdk:"generation_id"`
	FromPath     types.String `tfsdk:"from_path"`
	File         types.String `tfsdk:"file"`
	SHA256       types.String `tfsdk:"sha256"`
	FromHost     types.String `tfsdk:"from_host"`
	TargetHost   types.String `tfsdk:"target_host"`
	TargetPath   types.String `tfsdk:"target_path"`
	Overwrite    types.Bool   `tfsdk:"overwrite"`
	Application  types.String `tfsdk:"application"`
	Stop         types.List   `tfsdk:"stop"`
	Start        types.List   `tfsdk:"start"`
}

type rfsGDSModel struct {
	Host         types.String `tfsdk:"host"`
	Class        types.String `tfsdk:"class"`
	Proxy        types.String `tfsdk:"proxy"`
	Instant      types.Bool   `tfsdk:"instant"`
	SnapshotTime types.String `tfsdk:"snapshot_time"`
	Quiesce      types.Object `tfsdk:"quiesce"`
}

type rfsQuiesceModel struct {
	Before types.List `tfsdk:"before"`
	After  types.List `tfsdk:"after"`
}

type rfsKCPSModel struct {
	RootSnapshotID    types.String `tfsdk:"root_snapshot_id"`
	DataSnapshotIDs   types.List   `tfsdk:"data_snapshot_ids"`
	Name              types.String `tfsdk:"name"`
	ServiceOfferingID types.String `tfsdk:"service_offering_id"`
	NetworkID         types.String `tfsdk:"network_id"`
	OSTypeID          types.String `tfsdk:"os_type_id"`
	Start             types.Bool   `tfsdk:"start"`
}

type rfsVerifyModel struct {
	Commands types.List   `tfsdk:"commands"`
	Timeout  types.String `tfsdk:"timeout"`
	Host     types.String `tfsdk:"host"`
}

var (
	rfsStringList  = types.ListType{ElemType: types.StringType}
	rfsQuiesceType = map[string]attr.Type{"before": rfsStringList, "after": rfsStringList}
	rfsArchiveType = map[string]attr.Type{
		"generation_id": types.StringType, "from_path": types.StringType, "file": types.StringType,
		"sha256": types.StringType, "from_host": types.StringType, "target_host": types.StringType,
		"target_path": types.StringType, "overwrite": types.BoolType, "application": types.StringType,
		"stop": rfsStringList, "start": rfsStringList,
	}
	rfsGDSType = map[string]attr.Type{
		"host": types.StringType, "class": types.StringType, "proxy": types.StringType, "instant": types.BoolType,
		"snapshot_time": types.StringType, "quiesce": types.ObjectType{AttrTypes: rfsQuiesceType},
	}
	rfsKCPSType = map[string]attr.Type{
		"root_snapshot_id": types.StringType, "data_snapshot_ids": rfsStringList, "name": types.StringType,
		"service_offering_id": types.StringType, "network_id": types.StringType, "os_type_id": types.StringType,
		"start": types.BoolType,
	}
)

// rfsVMName is what KCPS (CloudStack) accepts as a VM name: a host name
// label.
var rfsVMName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,61}[A-Za-z0-9]$`)

var rfsSHA256 = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)

func (r *restoreResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_restore_from_snapshot"
}

func (r *restoreResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	cmds := func(desc string) schema.ListAttribute {
		return schema.ListAttribute{Optional: true, ElementType: types.StringType, Description: desc,
			Validators: []validator.List{listvalidator.ValueStringsAre(stringvalidator.LengthAtLeast(1))}}
	}
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	replace := []planmodifier.String{rfsReplaceString}
	resp.Schema = schema.Schema{
		Description: "A restore, or a restore drill, of a backup taken by backupctl: an archive generation written back onto a host, " +
			"a GDS proxy volume copied back onto its master (`sdxproxy Restore`), or a KCPS VM rebuilt from its volume snapshots. " +
			"The restore is measured (RPO before, RTO after), verified by your commands, and recorded in `report`. " +
			"The apply fails when the restore, a check, a verify command or a `max_rpo`/`max_rto` limit fails: that is what gates CI. " +
			"Every argument forces a new restore; change `trigger` to run the drill again.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, PlanModifiers: keep,
				Description: "`<kind>:<identity>`: `archive:<target_host>:<target_path>`, `gds:<host>/<class>/<proxy>` or `kcps:<name>`."},
			"archive": schema.SingleNestedAttribute{Optional: true,
				Description: "Restore an archive: a `backupctl_backup_policy` generation (`generation_id` with `from_path`) or any archive " +
					"with its manifest (`file`, optionally `sha256`). Its SHA-256 is checked before, every restored file after.",
				PlanModifiers: []planmodifier.Object{rfsReplaceObject},
				Attributes: map[string]schema.Attribute{
					"generation_id": schema.StringAttribute{Optional: true,
						Description: "Generation id (from `backupctl_backup_policy.generations[*].id` or `backupctl_backup_generations`). Needs `from_path`."},
					"from_path": schema.StringAttribute{Optional: true,
						Description: "Directory holding the generations on `from_host` (the policy's `destination.path`)."},
					"file": schema.StringAttribute{Optional: true,
						Description: "Absolute path of the archive on `from_host`, instead of `generation_id`. Its manifest must be beside it."},
					"sha256": schema.StringAttribute{Optional: true,
						Description: "Expected SHA-256 of the archive file (64 hex digits); the restore is refused when it differs."},
					"from_host": schema.StringAttribute{Required: true,
						Description: "Host holding the archive (`local` or a key of the provider's `hosts`)."},
					"target_host": schema.StringAttribute{Required: true,
						Description: "Host the files are written to."},
					"target_path": schema.StringAttribute{Required: true,
						Description: "Absolute, clean directory the archive is extracted into (members keep their paths below it: " +
							"`/` writes every file back where it was). A drill creates it when missing and removes what it created on destroy."},
					"overwrite": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false),
						Description: "Allow a non-empty `target_path` (existing files are replaced). Default false: a non-empty target is refused."},
					"application": schema.StringAttribute{Optional: true,
						Description: "Application preset of the archive when its labels file does not name one (" + strings.Join(apps.Names(), ", ") + ").",
						Validators:  []validator.String{stringvalidator.OneOf(apps.Names()...)}},
					"stop": cmds("In place only: commands run on `target_host` before the files are written back, in order, stopping at the first failure. " +
						"Default: the preset's (Interstage: `isstop -f`)."),
					"start": cmds("In place only: commands run on `target_host` after the files are written back, all of them, even when the restore failed. " +
						"Default: the preset's (SMF: `service arms-proxy restart`, `service hbserver restart`; Interstage: `isstart`)."),
				}},
			"gds": schema.SingleNestedAttribute{Optional: true,
				Description: "Copy a parted GDS proxy volume (or group) back onto its master with `sdxproxy Restore`. Refused while joined. " +
					"It always overwrites the master: `mode` must be `in_place`.",
				PlanModifiers: []planmodifier.Object{rfsReplaceObject},
				Attributes: map[string]schema.Attribute{
					"host":  schema.StringAttribute{Required: true, Description: "Host where the sdx commands run."},
					"class": schema.StringAttribute{Required: true, Description: "Disk class."},
					"proxy": schema.StringAttribute{Required: true, Description: "Proxy volume (or group) holding the snapshot."},
					"instant": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false),
						Description: "`sdxproxy Restore -e instant`: the master is usable at once while the copy goes on. Default false (wait for the copy)."},
					"snapshot_time": schema.StringAttribute{Optional: true,
						Description: "When the snapshot was taken (RFC 3339), e.g. `backupctl_gds_proxy_pair.x.parted_at`: GDS does not record it. Needed for `max_rpo`."},
					"quiesce": schema.SingleNestedAttribute{Optional: true,
						Description: "Commands run on `host` around the restore: stop what uses the master (unmount) before, bring it back after.",
						Attributes: map[string]schema.Attribute{
							"before": cmds("Run in order before `sdxproxy Restore`; the first failure stops the restore."),
							"after":  cmds("Run after it, all of them, even when the restore failed."),
						}},
				}},
			"kcps": schema.SingleNestedAttribute{Optional: true,
				Description: "Rebuild a VM from KCPS volume snapshots (seed 004): a template from the ROOT snapshot, a VM from it " +
					"(`deployValueVirtualMachine`), a volume from each data snapshot, attached. Refused across zones.",
				PlanModifiers: []planmodifier.Object{rfsReplaceObject},
				Attributes: map[string]schema.Attribute{
					"root_snapshot_id": schema.StringAttribute{Required: true, Description: "Snapshot of the ROOT (OS) volume."},
					"data_snapshot_ids": schema.ListAttribute{Optional: true, ElementType: types.StringType,
						Description: "Snapshots of the data volumes, attached in this order.",
						Validators:  []validator.List{listvalidator.ValueStringsAre(stringvalidator.LengthAtLeast(1)), listvalidator.UniqueValues()}},
					"name": schema.StringAttribute{Required: true,
						Description: "Name of the new VM (a host name: letters, digits, hyphens). The template is named `<name>-restore-root`, the volumes `<name>-restore-data<N>`."},
					"service_offering_id": schema.StringAttribute{Required: true, Description: "Service offering (size) of the VM."},
					"network_id":          schema.StringAttribute{Required: true, Description: "Guest network of the VM; it must be in the snapshots' zone."},
					"os_type_id":          schema.StringAttribute{Required: true, Description: "OS type of the template."},
					"start": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(true),
						Description: "Leave the VM running after the volumes are attached (true, default) or stopped."},
				}},
			"mode": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString(restore.ModeDrill), PlanModifiers: replace,
				Description: "`drill` (default): restore into a new target that destroy removes again. " +
					"`in_place`: restore over the live target; needs `confirm`; destroy removes nothing.",
				Validators: []validator.String{stringvalidator.OneOf(restore.ModeDrill, restore.ModeInPlace)}},
			"confirm": schema.StringAttribute{Optional: true, PlanModifiers: replace,
				Description: "In place only, required: the target's identity, repeated: `<target_host>:<target_path>` (archive), " +
					"`<host>/<class>/<proxy>` (gds), `<name>` (kcps)."},
			"verify": schema.SingleNestedAttribute{Optional: true,
				Description:   "Commands that prove the restored target works.",
				PlanModifiers: []planmodifier.Object{rfsReplaceObject},
				Attributes: map[string]schema.Attribute{
					"commands": schema.ListAttribute{Required: true, ElementType: types.StringType,
						Description: "Run in order with `/bin/sh -c`; the first failure fails the apply. They see `RESTORE_KIND`, `RESTORE_MODE`, " +
							"`RESTORE_TARGET` and, per kind, `RESTORE_HOST`, `RESTORE_PATH`, `RESTORE_ARCHIVE` (archive), `RESTORE_CLASS`, " +
							"`RESTORE_PROXY`, `RESTORE_MASTER`, `RESTORE_MASTER_DEVICE` (gds), `RESTORE_VM_ID`, `RESTORE_VM_NAME`, `RESTORE_ZONE_ID`, " +
							"`RESTORE_TEMPLATE_ID`, `RESTORE_VOLUME_IDS` (kcps).",
						Validators: []validator.List{listvalidator.SizeAtLeast(1), listvalidator.ValueStringsAre(stringvalidator.LengthAtLeast(1))}},
					"timeout": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString("10m"),
						Description: "Go duration the whole list must finish in; a command still running then is killed. Default `10m`."},
					"host": schema.StringAttribute{Optional: true,
						Description: "Host the commands run on. Default: `target_host` (archive), `host` (gds), `local` (kcps)."},
				}},
			"trigger": schema.StringAttribute{Optional: true, PlanModifiers: replace,
				Description: "Any string; changing it runs the restore again (e.g. the id of the newest generation, or a CI run number)."},
			"max_rpo": schema.StringAttribute{Optional: true, PlanModifiers: replace,
				Description: "Recovery point objective, a Go duration (`\"26h\"`): the backup may be at most this old when the restore starts. " +
					"Checked before anything changes; exceeding it fails the apply."},
			"max_rto": schema.StringAttribute{Optional: true, PlanModifiers: replace,
				Description: "Recovery time objective, a Go duration (`\"1h\"`): the restore and its verification must take at most this long; exceeding it fails the apply."},
			"require_labels": schema.MapAttribute{Optional: true, ElementType: types.StringType,
				PlanModifiers: []planmodifier.Map{rfsReplaceMap},
				Description: "Archive only: labels the generation must carry, e.g. `{ server_group = \"group1\" }`. " +
					"An Interstage managed-server backup is restored only when `server_group` is given and matches."},
			"started_at":  schema.StringAttribute{Computed: true, PlanModifiers: keep, Description: "When the restore started (RFC 3339)."},
			"finished_at": schema.StringAttribute{Computed: true, PlanModifiers: keep, Description: "When it finished, verification included (RFC 3339)."},
			"rto_seconds": schema.Int64Attribute{Computed: true, PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
				Description: "Seconds from start to the end of verification."},
			"rpo_seconds": schema.Int64Attribute{Computed: true, PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
				Description: "Age of the restored backup at the start, in seconds (null when unknown: gds without `snapshot_time`)."},
			"verified": schema.BoolAttribute{Computed: true, PlanModifiers: []planmodifier.Bool{boolplanmodifier.UseStateForUnknown()},
				Description: "True only when the restore, every check, every verify command and the limits passed."},
			"report": schema.StringAttribute{Computed: true, PlanModifiers: keep,
				Description: "The restore's report, JSON: steps with durations, checks, notes, objects created, RPO/RTO, the error if any."},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Delete: true,
				CreateDescription: "Default 6h: the whole restore and its verification.",
				DeleteDescription: "Default 1h: removing what a drill created."}),
		},
	}
}

func (r *restoreResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ModifyPlan checks, at plan time, that every host named is configured and
// that KCPS is configured for a kcps restore. Nothing is run.
func (r *restoreResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return
	}
	var m restoreModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	d := &resp.Diagnostics
	host := func(p path.Path, s types.String) {
		if rfsKnown(s) {
			r.data.CheckHost(p, s.ValueString(), d)
		}
	}
	cmdHosts := func(p path.Path, l types.List) {
		for i, c := range rfsStrings(ctx, l, d) {
			if h, _ := apps.SplitHost(c); h != "" {
				r.data.CheckHost(p.AtListIndex(i), h, d)
			}
		}
	}
	var a rfsArchiveModel
	if rfsObject(ctx, m.Archive, &a, d) {
		host(path.Root("archive").AtName("from_host"), a.FromHost)
		host(path.Root("archive").AtName("target_host"), a.TargetHost)
		cmdHosts(path.Root("archive").AtName("stop"), a.Stop)
		cmdHosts(path.Root("archive").AtName("start"), a.Start)
	}
	var g rfsGDSModel
	if rfsObject(ctx, m.GDS, &g, d) {
		host(path.Root("gds").AtName("host"), g.Host)
		var q rfsQuiesceModel
		if rfsObject(ctx, g.Quiesce, &q, d) {
			cmdHosts(path.Root("gds").AtName("quiesce").AtName("before"), q.Before)
			cmdHosts(path.Root("gds").AtName("quiesce").AtName("after"), q.After)
		}
	}
	if !m.KCPS.IsNull() {
		r.data.KCPSClient(d)
	}
	var v rfsVerifyModel
	if rfsObject(ctx, m.Verify, &v, d) {
		host(path.Root("verify").AtName("host"), v.Host)
	}
	if !d.HasError() {
		r.adoptPlan(ctx, req, resp, &m)
	}
}

// ---- apply ----

// rfsCreated is the private state of a restore: what a drill created.
type rfsCreated struct {
	Objects []restore.Object `json:"objects"`
	ZoneID  string           `json:"zone_id,omitempty"`
}

// build turns the plan into a restore source and spec.
func (r *restoreResource) build(ctx context.Context, m *restoreModel, d *diag.Diagnostics) (restore.Source, restore.Spec, string) {
	spec := restore.Spec{
		Mode:    m.Mode.ValueString(),
		Confirm: m.Confirm.ValueString(),
		Trigger: m.Trigger.ValueString(),
		Now:     r.data.Now,
		Hosts:   func(name string) (transport.Transport, error) { return r.data.Transport(name) },
		Secrets: r.data.Secrets(),
	}
	if rfsKnown(m.MaxRPO) {
		spec.Limits.MaxRPO, _ = restore.ParseLimit(m.MaxRPO.ValueString())
	}
	if rfsKnown(m.MaxRTO) {
		spec.Limits.MaxRTO, _ = restore.ParseLimit(m.MaxRTO.ValueString())
	}
	var v rfsVerifyModel
	if rfsObject(ctx, m.Verify, &v, d) {
		spec.VerifyCommands = rfsStrings(ctx, v.Commands, d)
		spec.VerifyTimeout, _ = restore.ParseLimit(v.Timeout.ValueString())
		spec.VerifyHost = v.Host.ValueString()
	}
	var a rfsArchiveModel
	if rfsObject(ctx, m.Archive, &a, d) {
		src := &restore.Archive{
			FromHost: a.FromHost.ValueString(), FromPath: a.FromPath.ValueString(), GenerationID: a.GenerationID.ValueString(),
			File: a.File.ValueString(), SHA256: a.SHA256.ValueString(),
			TargetHost: a.TargetHost.ValueString(), TargetPath: a.TargetPath.ValueString(), Overwrite: a.Overwrite.ValueBool(),
			Application: a.Application.ValueString(),
		}
		if !a.Stop.IsNull() {
			src.Stop = rfsStrings(ctx, a.Stop, d)
		}
		if !a.Start.IsNull() {
			src.Start = rfsStrings(ctx, a.Start, d)
		}
		if !m.RequireLabels.IsNull() {
			src.RequireLabels = map[string]string{}
			d.Append(m.RequireLabels.ElementsAs(ctx, &src.RequireLabels, false)...)
		}
		return src, spec, ""
	}
	var g rfsGDSModel
	if rfsObject(ctx, m.GDS, &g, d) {
		src := &restore.GDS{Host: g.Host.ValueString(), Class: g.Class.ValueString(), Proxy: g.Proxy.ValueString(), Instant: g.Instant.ValueBool()}
		if rfsKnown(g.SnapshotTime) {
			src.SnapshotTime, _ = time.Parse(time.RFC3339, g.SnapshotTime.ValueString())
		}
		var q rfsQuiesceModel
		if rfsObject(ctx, g.Quiesce, &q, d) {
			src.QuiesceBefore = rfsStrings(ctx, q.Before, d)
			src.QuiesceAfter = rfsStrings(ctx, q.After, d)
		}
		t := r.data.HostTransport(path.Root("gds").AtName("host"), src.Host, d)
		if t == nil {
			return nil, spec, ""
		}
		c := gds.New(t)
		c.Logf = func(format string, args ...any) {
			tflog.SubsystemDebug(ctx, logTransport, fmt.Sprintf(format, args...))
		}
		src.Client = c
		return src, spec, ""
	}
	var k rfsKCPSModel
	if rfsObject(ctx, m.KCPS, &k, d) {
		c := r.data.KCPSClient(d)
		if c == nil {
			return nil, spec, ""
		}
		src := &restore.KCPS{Client: c, RootSnapshotID: k.RootSnapshotID.ValueString(), DataSnapshotIDs: rfsStrings(ctx, k.DataSnapshotIDs, d),
			Name: k.Name.ValueString(), ServiceOfferingID: k.ServiceOfferingID.ValueString(), NetworkID: k.NetworkID.ValueString(),
			OSTypeID: k.OSTypeID.ValueString(), ZoneID: r.data.KCPS.ZoneID, Start: k.Start.ValueBool()}
		return src, spec, r.data.KCPS.ZoneID
	}
	d.AddError("No restore source", "Set exactly one of archive, gds or kcps.")
	return nil, spec, ""
}

func (r *restoreResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m restoreModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if r.data == nil {
		resp.Diagnostics.AddError("Provider not configured", "backupctl_restore_from_snapshot needs a configured provider.")
		return
	}
	timeout, diags := m.Timeouts.Create(ctx, rfsCreateTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(r.data.LogContext(ctx), timeout)
	defer cancel()
	src, spec, zone := r.build(ctx, &m, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	spec.OnCreate = func(o restore.Object) {
		tflog.Info(ctx, "restore created an object", map[string]any{"type": o.Type, "id": o.ID, "name": o.Name})
	}
	m.ID = types.StringValue(src.Kind() + ":" + src.Identity())
	tflog.Info(ctx, "restore starting", map[string]any{"id": m.ID.ValueString(), "mode": spec.Mode})
	res, err := restore.Do(ctx, src, spec)
	if k, ok := src.(*restore.KCPS); ok && zone == "" {
		zone = k.Zone()
	}
	rfsFill(&m, res, r.data.Secrets())
	if err != nil {
		err = rfsMaskedError{err: err, secrets: r.data.Secrets()}
	}
	if err != nil && !res.Began && len(res.Created) == 0 {
		// Refused before anything changed: no resource comes to exist.
		rfsAddError(&resp.Diagnostics, err, res, spec.Mode)
		return
	}
	b, jerr := json.Marshal(rfsCreated{Objects: res.Created, ZoneID: zone})
	if jerr == nil {
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, rfsPrivateKey, b)...)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
	if err != nil {
		rfsAddError(&resp.Diagnostics, err, res, spec.Mode)
	}
}

// rfsMaskedError hides configured secrets in an error's message, keeping
// the chain for errors.As.
type rfsMaskedError struct {
	err     error
	secrets []string
}

func (e rfsMaskedError) Error() string { return transport.Mask(e.err.Error(), nonEmpty(e.secrets)...) }
func (e rfsMaskedError) Unwrap() error { return e.err }

func rfsFill(m *restoreModel, res restore.Result, secrets []string) {
	m.StartedAt = types.StringValue(res.StartedAt.UTC().Format(time.RFC3339))
	m.FinishedAt = types.StringValue(res.FinishedAt.UTC().Format(time.RFC3339))
	m.RTOSeconds = types.Int64Value(res.RTOSeconds())
	m.RPOSeconds = types.Int64Null()
	if res.HasRPO {
		m.RPOSeconds = types.Int64Value(res.RPOSeconds())
	}
	m.Verified = types.BoolValue(res.Verified)
	// The report holds command output: no configured secret goes to state.
	m.Report = types.StringValue(transport.Mask(res.Report.JSON(), nonEmpty(secrets)...))
}

// rfsAddError turns a failed restore into one clear diagnostic.
func rfsAddError(d *diag.Diagnostics, err error, res restore.Result, mode string) {
	var le *restore.LimitError
	var ve *restore.VerifyError
	summary := "Restore failed"
	switch {
	case errors.As(err, &le) && le.Which == "RPO":
		summary = "Recovery point objective not met (max_rpo)"
	case errors.As(err, &le):
		summary = "Recovery time objective not met (max_rto)"
	case errors.As(err, &ve):
		summary = "Restore verification failed"
	case !res.Began:
		summary = "Restore refused"
	}
	detail := err.Error()
	switch {
	case mode == restore.ModeDrill && len(res.Created) > 0:
		var names []string
		for _, o := range res.Created {
			names = append(names, fmt.Sprintf("%s %s", o.Type, o.ID))
		}
		detail += "\n\nThe drill's restored target is kept for inspection (" + strings.Join(names, ", ") +
			"): `terraform destroy` removes it, and so does the next apply, which replaces this tainted resource."
	case mode == restore.ModeInPlace && res.Began:
		detail += "\n\nThe target may be partly restored: see `report` (verified = false) in the state."
	}
	d.AddError(summary, detail)
}

func (r *restoreResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m restoreModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || r.data == nil {
		return
	}
	if m.Mode.ValueString() != restore.ModeDrill {
		return
	}
	created, diags := rfsPrivate(ctx, req.Private)
	resp.Diagnostics.Append(diags...)
	if len(created.Objects) == 0 {
		return
	}
	ctx = r.data.LogContext(ctx)
	// A drill whose every object is gone (removed out of band) is gone:
	// the next plan runs it again. While any object remains, the state
	// keeps tracking them so that destroy removes them.
	for _, o := range created.Objects {
		exists, err := r.objectExists(ctx, o)
		if err != nil {
			resp.Diagnostics.AddWarning("Cannot check the drill's objects", err.Error())
			return
		}
		if exists {
			return
		}
	}
	tflog.Info(ctx, "every object of the drill is gone: removing it from state", map[string]any{"id": m.ID.ValueString()})
	resp.State.RemoveResource(ctx)
}

type rfsPrivateGetter interface {
	GetKey(ctx context.Context, key string) ([]byte, diag.Diagnostics)
}

func rfsPrivate(ctx context.Context, p rfsPrivateGetter) (rfsCreated, diag.Diagnostics) {
	var c rfsCreated
	b, diags := p.GetKey(ctx, rfsPrivateKey)
	if len(b) == 0 || diags.HasError() {
		return c, diags
	}
	if err := json.Unmarshal(b, &c); err != nil {
		diags.AddError("Unreadable private state", "The list of objects this restore created cannot be read: "+err.Error())
	}
	return c, diags
}

func (r *restoreResource) objectExists(ctx context.Context, o restore.Object) (bool, error) {
	switch o.Type {
	case restore.ObjectPath:
		t, err := r.data.Transport(o.Name)
		if err != nil {
			return false, err
		}
		res, err := t.Run(ctx, transport.Command{Argv: []string{"test", "-e", o.ID}})
		if err != nil {
			return false, err
		}
		return res.ExitStatus == 0, nil
	case restore.ObjectVM, restore.ObjectVolume, restore.ObjectTemplate:
		var d diag.Diagnostics
		c := r.data.KCPSClient(&d)
		if c == nil {
			return false, errors.New("KCPS is not configured")
		}
		var err error
		switch o.Type {
		case restore.ObjectVM:
			var vm kcps.VirtualMachine
			vm, err = c.GetVirtualMachine(ctx, o.ID)
			if err == nil && vm.State == "Destroyed" {
				return false, nil
			}
		case restore.ObjectVolume:
			_, err = c.GetVolume(ctx, o.ID)
		default:
			var ts []kcps.Template
			ts, err = c.ListTemplates(ctx, o.ID)
			if err == nil && len(ts) == 0 {
				return false, nil
			}
		}
		if kcps.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	}
	return false, nil
}

// Update only happens for timeouts (every other argument replaces), and
// on the first apply after an archive or gds import (restore_from_snapshot_adopt.go).
func (r *restoreResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state restoreModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if r.adoptUpdate(ctx, req, resp, &plan, &state) {
		return
	}
	state.Timeouts = plan.Timeouts
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Delete removes what a drill created; an in_place restore leaves
// everything as it is.
func (r *restoreResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m restoreModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if m.Mode.ValueString() != restore.ModeDrill {
		tflog.Info(ctx, "in_place restore: nothing to remove", map[string]any{"id": m.ID.ValueString()})
		return
	}
	created, diags := rfsPrivate(ctx, req.Private)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() || len(created.Objects) == 0 {
		return
	}
	if r.data == nil {
		resp.Diagnostics.AddError("Provider not configured", "Removing a drill needs a configured provider.")
		return
	}
	timeout, diags := m.Timeouts.Delete(ctx, rfsDeleteTimeout)
	resp.Diagnostics.Append(diags...)
	ctx, cancel := context.WithTimeout(r.data.LogContext(ctx), timeout)
	defer cancel()
	hosts := func(name string) (transport.Transport, error) { return r.data.Transport(name) }
	left, err := restore.RemovePaths(ctx, hosts, created.Objects)
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	var c *kcps.Client
	for _, o := range left {
		if o.Type != restore.ObjectPath {
			var d diag.Diagnostics
			if c = r.data.KCPSClient(&d); c == nil {
				errs = append(errs, errors.New("KCPS is not configured: the drill's KCPS objects cannot be removed"))
			}
			break
		}
	}
	if c != nil {
		var kerrs []error
		left, kerrs = restore.RemoveKCPS(ctx, c, created.ZoneID, left)
		errs = append(errs, kerrs...)
	}
	if len(errs) > 0 || len(left) > 0 {
		var names []string
		for _, o := range left {
			names = append(names, o.Type+" "+o.ID)
		}
		resp.Diagnostics.AddError("Drill not fully removed",
			fmt.Sprintf("%v\n\nStill there: %s. The resource stays in state; destroy again to retry.", errors.Join(errs...), strings.Join(names, ", ")))
		// Keep only what is left, so that a retry does not redo the rest.
		if b, err := json.Marshal(rfsCreated{Objects: left, ZoneID: created.ZoneID}); err == nil {
			resp.Diagnostics.Append(resp.Private.SetKey(ctx, rfsPrivateKey, b)...)
		}
	}
}
