package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/backupctl/terraform-provider-backupctl/internal/apps"
	"github.com/backupctl/terraform-provider-backupctl/internal/archive"
	"github.com/backupctl/terraform-provider-backupctl/internal/backup"
	"github.com/backupctl/terraform-provider-backupctl/internal/dbdump"
)

var (
	_ resource.Resource                   = (*backupPolicyResource)(nil)
	_ resource.ResourceWithConfigure      = (*backupPolicyResource)(nil)
	_ resource.ResourceWithImportState    = (*backupPolicyResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*backupPolicyResource)(nil)
	_ resource.ResourceWithValidateConfig = (*backupPolicyResource)(nil)
)

func init() { registerResource(NewBackupPolicyResource) }

// NewBackupPolicyResource returns the backupctl_backup_policy resource.
func NewBackupPolicyResource() resource.Resource { return &backupPolicyResource{} }

const (
	backupCreateTimeout = 2 * time.Hour
	backupUpdateTimeout = 2 * time.Hour
	backupDeleteTimeout = 30 * time.Minute
	backupReadTimeout   = 30 * time.Minute

	// privateExpected is the private-state key holding the generation ids
	// the last apply left (see driftOf).
	privateExpected = "expected_generations"
)

type backupPolicyResource struct{ data *providerData }

type backupPolicyModel struct {
	ID                    types.String   `tfsdk:"id"`
	Host                  types.String   `tfsdk:"host"`
	Application           types.String   `tfsdk:"application"`
	Paths                 types.List     `tfsdk:"paths"`
	Exclude               types.List     `tfsdk:"exclude"`
	Stop                  types.List     `tfsdk:"stop"`
	Start                 types.List     `tfsdk:"start"`
	Export                types.List     `tfsdk:"export"`
	AfterSuccess          types.List     `tfsdk:"after_success"`
	Database              types.Object   `tfsdk:"database"`
	Destination           types.Object   `tfsdk:"destination"`
	Keep                  types.Int64    `tfsdk:"keep"`
	Trigger               types.String   `tfsdk:"trigger"`
	Labels                types.Map      `tfsdk:"labels"`
	ForceDestroy          types.Bool     `tfsdk:"force_destroy"`
	VerifyOnRefresh       types.String   `tfsdk:"verify_on_refresh"`
	Generations           types.List     `tfsdk:"generations"`
	EffectivePaths        types.List     `tfsdk:"effective_paths"`
	EffectiveExclude      types.List     `tfsdk:"effective_exclude"`
	EffectiveStop         types.List     `tfsdk:"effective_stop"`
	EffectiveStart        types.List     `tfsdk:"effective_start"`
	EffectiveExport       types.List     `tfsdk:"effective_export"`
	EffectiveAfterSuccess types.List     `tfsdk:"effective_after_success"`
	Timeouts              timeouts.Value `tfsdk:"timeouts"`
}

type databaseModel struct {
	Engine    types.String `tfsdk:"engine"`
	Host      types.String `tfsdk:"host"`
	Port      types.Int64  `tfsdk:"port"`
	User      types.String `tfsdk:"user"`
	Password  types.String `tfsdk:"password"`
	Databases types.List   `tfsdk:"databases"`
	BinDir    types.String `tfsdk:"bin_dir"`
	Options   types.List   `tfsdk:"options"`
}

type destinationModel struct {
	Host   types.String `tfsdk:"host"`
	Path   types.String `tfsdk:"path"`
	Format types.String `tfsdk:"format"`
}

var (
	destinationAttrTypes = map[string]attr.Type{
		"host": types.StringType, "path": types.StringType, "format": types.StringType,
	}
	generationAttrTypes = map[string]attr.Type{
		"id": types.StringType, "file": types.StringType, "bytes": types.Int64Type, "sha256": types.StringType,
		"files": types.Int64Type, "created": types.StringType, "labels": types.MapType{ElemType: types.StringType},
	}
	generationType = types.ObjectType{AttrTypes: generationAttrTypes}
)

// effective pairs each user attribute with its effective_* counterpart.
var effectiveAttrs = []struct{ own, eff string }{
	{"paths", "effective_paths"}, {"exclude", "effective_exclude"}, {"stop", "effective_stop"},
	{"start", "effective_start"}, {"export", "effective_export"}, {"after_success", "effective_after_success"},
}

func (r *backupPolicyResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_backup_policy"
}

func generationsSchema(desc string) schema.ListNestedAttribute {
	return schema.ListNestedAttribute{Computed: true, Description: desc,
		NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
			"id":      schema.StringAttribute{Computed: true, Description: "Generation id: the archive's file name without `.tar.gz`/`.tar.zst` (`<dir name>-<UTC time>-<8 hex>`)."},
			"file":    schema.StringAttribute{Computed: true, Description: "Absolute path of the archive on the destination host."},
			"bytes":   schema.Int64Attribute{Computed: true, Description: "Size of the archive file."},
			"sha256":  schema.StringAttribute{Computed: true, Description: "SHA-256 of the archive file (hex), as recorded in its manifest."},
			"files":   schema.Int64Attribute{Computed: true, Description: "Number of archive members (files, directories, links)."},
			"created": schema.StringAttribute{Computed: true, Description: "When the source started being read (RFC 3339, UTC)."},
			"labels":  schema.MapAttribute{Computed: true, ElementType: types.StringType, Description: "The policy's labels when this generation was taken."},
		}}}
}

func (r *backupPolicyResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	cmdList := func(desc string) schema.ListAttribute {
		return schema.ListAttribute{Optional: true, ElementType: types.StringType, Description: desc,
			Validators: []validator.List{listvalidator.ValueStringsAre(stringvalidator.LengthAtLeast(1))}}
	}
	effList := func(own string) schema.ListAttribute {
		return schema.ListAttribute{Computed: true, ElementType: types.StringType,
			Description: "The `" + own + "` in effect: the policy's own when set, else the `application` preset's."}
	}
	resp.Schema = schema.Schema{
		Description: "A generation set of archives taken on a host (seeds 000, 001, 002): stop the application, dump its database, " +
			"run export commands, archive the paths (owners, modes and mtimes kept; plain GNU `tar -xpf` extracts them), " +
			"run `after_success` (e.g. the Groupmax journal clear), start the application again (always), and keep the newest `keep` " +
			"archives. Changing `trigger` takes a new generation. Import ID: `<destination host>:<destination path>`.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true,
				Description:   "`<destination host>:<destination path>`, the import ID.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"host": schema.StringAttribute{Required: true,
				Description: "Configured host (a key of the provider's `hosts`, or `local`) holding the paths; commands run there. " +
					"When `destination.host` is unset the archives are on this host too, so changing it replaces the policy (like a change of `destination`).",
				PlanModifiers: []planmodifier.String{destinationHostReplace{}}},
			"application": schema.StringAttribute{Optional: true,
				Description: "Preset from the manuals: " + strings.Join(apps.Names(), ", ") + ". Presets supply paths and " +
					"stop/start/export/after_success commands (shown in the effective_* attributes); every value set here replaces the preset's. " +
					"`interstage_managed` requires `labels.server_group`, `groupmax_server` requires `labels.master_host`.",
				Validators: []validator.String{stringvalidator.OneOf(apps.Names()...)}},
			"paths": schema.ListAttribute{Optional: true, ElementType: types.StringType,
				Description: "Absolute paths (files or directories) archived from `host`. Replaces the preset's paths when set."},
			"exclude": schema.ListAttribute{Optional: true, ElementType: types.StringType,
				Description: "Glob patterns with GNU tar `--exclude` semantics; a leading `/` anchors a pattern to the absolute path."},
			"stop":          cmdList("Commands run in order before the backup (`/bin/sh -c` on `host`, or `@<host>: command` on another configured host); the first failure stops the backup (start still runs)."),
			"start":         cmdList("Commands run after the backup, always and all of them, even when the backup failed. A failing start fails the apply without hiding the backup's result."),
			"export":        cmdList("Commands that write into `$BACKUP_EXPORT_DIR` (a fresh private directory on `host`, archived as `backupctl-export/`), run after `stop` and the database dump, in order."),
			"after_success": cmdList("Commands run after the archive is complete and verified, before `start` (e.g. the Groupmax journal clear). Not run when the backup failed."),
			"database": schema.SingleNestedAttribute{Optional: true,
				Description: "A database dumped on `host` into `$BACKUP_EXPORT_DIR/database/<engine>/` (archived under `backupctl-export/`). " +
					"PostgreSQL: one `pg_dump --format=custom` per database (consistent by nature), plus roles when `databases` is empty (whole cluster). " +
					"MySQL/MariaDB: `mariadb-dump` (or `mysqldump`) `--single-transaction`, all databases when `databases` is empty.",
				Attributes: map[string]schema.Attribute{
					"engine": schema.StringAttribute{Required: true, Description: "`postgresql` or `mysql` (MySQL and MariaDB).",
						Validators: []validator.String{stringvalidator.OneOf(dbdump.Engines()...)}},
					"host": schema.StringAttribute{Optional: true,
						Description: "Server address as seen from `host`: a name or IP, or an absolute socket path (PostgreSQL: the socket directory; MySQL: the socket file). Default: the local socket."},
					"port": schema.Int64Attribute{Optional: true, Description: "TCP port (default 5432 / 3306).",
						Validators: []validator.Int64{int64validator.Between(1, 65535)}},
					"user": schema.StringAttribute{Optional: true, Description: "Database user."},
					"password": schema.StringAttribute{Optional: true, Sensitive: true, WriteOnly: true,
						Description: "Write-only (Terraform 1.11+): never stored in state or plan. Written to a 0600 file in a private temporary directory on `host` for the dump only (never on a command line), then removed."},
					"databases": schema.ListAttribute{Optional: true, ElementType: types.StringType,
						Description: "Databases to dump; empty or unset: the whole server."},
					"bin_dir": schema.StringAttribute{Optional: true,
						Description: "Directory of the client tools (e.g. `/usr/lib/postgresql/15/bin`); default: PATH."},
					"options": schema.ListAttribute{Optional: true, ElementType: types.StringType,
						Description: "Extra arguments for pg_dump / mariadb-dump."},
				}},
			"destination": schema.SingleNestedAttribute{Required: true,
				Description: "Where the archives go: a directory that belongs to this policy alone.",
				Attributes: map[string]schema.Attribute{
					"host": schema.StringAttribute{Optional: true,
						Description: "Configured host holding the archives; default: `host`. Bytes stream from host to host through the provider without landing on disk here. " +
							"Changing the host the archives are on replaces the policy; setting it to the value it defaulted to (or unsetting it when it equals `host`) does not.",
						PlanModifiers: []planmodifier.String{destinationHostReplace{}}},
					"path": schema.StringAttribute{Required: true,
						Description:   "Absolute directory of this policy's archives (made if missing). Its name prefixes the generation files.",
						PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()}},
					"format": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString(string(archive.FormatTarGz)),
						Description: "`tar.gz` (default, parallel gzip) or `tar.zst`.",
						Validators:  []validator.String{stringvalidator.OneOf(string(archive.FormatTarGz), string(archive.FormatTarZst))}},
				}},
			"keep": schema.Int64Attribute{Required: true,
				Description: "How many generations are kept (at least 1). Older ones are pruned only after a new one is complete and verified; lowering keep prunes at the next apply."},
			"trigger": schema.StringAttribute{Optional: true,
				Description: "Any string; changing it takes a new generation (then prunes beyond `keep`)."},
			"labels": schema.MapAttribute{Optional: true, ElementType: types.StringType,
				Description: "Stored with every generation (`<archive>.labels.json`). Preset parameters: `server_group` (interstage_managed, required; restores check it), " +
					"`master_host` (groupmax_server, required: the configured host of the master management server, where the journal is cleared), " +
					"`groupmax_host` (groupmax_server: this server's Groupmax host name, default `uname -n`), `mng_journal` (groupmax_master: the MNG_JOURNAL directory), " +
					"`groupmail_dir` (Groupmax base, default `/usr/GroupMail`; `/var/opt/GroupMail` on HP-UX and AIX)."},
			"force_destroy": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				Description: "Destroy deletes every generation. Default false: destroy refuses while generations exist."},
			"verify_on_refresh": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString(string(archive.VerifySize)),
				Description: "How refresh checks each generation against its manifest: `size` (default), `checksum` (reads every archive) or `none`. " +
					"A generation that disappeared or fails its check shows in the plan as a change; applying it accepts the loss (a corrupt archive is deleted). " +
					"An archive whose manifest is missing or unreadable is reported with a warning at every refresh and kept on disk: it is not a generation and is never pruned.",
				Validators: []validator.String{stringvalidator.OneOf(string(archive.VerifySize), string(archive.VerifyChecksum), string(archive.VerifyNone))}},
			"generations":             generationsSchema("Complete, verified archives, newest first."),
			"effective_paths":         effList("paths"),
			"effective_exclude":       effList("exclude"),
			"effective_stop":          effList("stop"),
			"effective_start":         effList("start"),
			"effective_export":        effList("export"),
			"effective_after_success": effList("after_success"),
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true, Read: true,
				CreateDescription: "Default 2h: one whole backup run.",
				UpdateDescription: "Default 2h: a backup run when trigger changed.",
				DeleteDescription: "Default 30m.",
				ReadDescription:   "Default 30m (verify_on_refresh = checksum reads every archive)."}),
		},
	}
}

func (r *backupPolicyResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ---- plan ----

func (r *backupPolicyResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		r.planDestroy(ctx, req, resp)
		return
	}
	var plan backupPolicyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// Hosts must be configured (no command is run for this).
	if r.data != nil {
		if known(plan.Host) {
			r.data.CheckHost(path.Root("host"), plan.Host.ValueString(), &resp.Diagnostics)
		}
		if dest, ok, _ := plan.destination(ctx); ok && known(dest.Host) && !r.data.Pool.Has(dest.Host.ValueString()) {
			attrError(&resp.Diagnostics, path.Root("destination").AtName("host"), "Unknown host",
				fmt.Sprintf("destination.host: host %q is not defined in the provider's hosts (known: %v).", dest.Host.ValueString(), r.data.Pool.Names()))
		}
	}
	// effective_*: the preset's values where the policy sets none.
	var pdiags diag.Diagnostics
	preset, presetKnown := plan.resolvePreset(&pdiags)
	own, unknown := plan.ownSettings()
	eff := apps.Effective(preset, own)
	effVals := map[string][]string{"paths": eff.Paths, "exclude": eff.Exclude, "stop": eff.Stop,
		"start": eff.Start, "export": eff.Export, "after_success": eff.AfterSuccess}
	for _, a := range effectiveAttrs {
		v := types.ListUnknown(types.StringType)
		if presetKnown && !unknown[a.own] && !pdiags.HasError() {
			v = stringsValue(effVals[a.own])
		}
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root(a.eff), v)...)
	}
	if r.data != nil && presetKnown && !pdiags.HasError() {
		ownVals := map[string][]string{"stop": own.Stop, "start": own.Start, "export": own.Export, "after_success": own.AfterSuccess}
		for h, errs := range backup.CommandHosts(backup.Policy{Settings: eff}) {
			if r.data.Pool.Has(h) {
				continue
			}
			for _, e := range errs {
				if unknown[e.Attr] {
					continue
				}
				// A preset's command names a host through a label.
				p := path.Root("labels")
				if ownVals[e.Attr] != nil {
					p = fieldPath(e)
				}
				attrError(&resp.Diagnostics, p, "Unknown host in a command", e.Error())
			}
		}
	}
	if req.State.Raw.IsNull() {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("generations"), types.ListUnknown(generationType))...)
		if known(plan.Host) {
			if dest, ok, _ := plan.destination(ctx); ok && known(dest.Path) {
				if h, ok := effectiveDestHost(plan.Host, dest.Host); ok {
					resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("id"), types.StringValue(destID(h, dest.Path.ValueString())))...)
				}
			}
		}
		return
	}
	var state backupPolicyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// Changing the destination (its path, or the host the archives are on:
	// destination.host, or host when that is unset) replaces the policy:
	// its destroy must be allowed.
	if pd, ok, _ := plan.destination(ctx); ok && !state.ForceDestroy.ValueBool() && !state.Generations.IsNull() && len(state.Generations.Elements()) > 0 {
		sd, _, _ := state.destination(ctx)
		n := len(state.Generations.Elements())
		before, _ := effectiveDestHost(state.Host, sd.Host)
		after, afterKnown := effectiveDestHost(plan.Host, pd.Host)
		hostMoved := afterKnown && after != before
		switch {
		case (known(pd.Path) && !pd.Path.Equal(sd.Path)) || (hostMoved && !pd.Host.Equal(sd.Host)):
			attrError(&resp.Diagnostics, path.Root("destination"), "Backup generations would be lost",
				fmt.Sprintf("Changing destination replaces the policy, which deletes the %d generation(s) in %s. Set force_destroy = true first (and apply), "+
					"or `terraform state rm` the policy to keep the old archives.", n, state.ID.ValueString()))
			return
		case hostMoved:
			attrError(&resp.Diagnostics, path.Root("host"), "Backup generations would be lost",
				fmt.Sprintf("Changing host replaces the policy: destination.host is unset, so the archives follow host, from %q to %q. "+
					"The replacement deletes the %d generation(s) in %s. Set destination.host = %q to keep the archives where they are "+
					"(an update in place), set force_destroy = true first (and apply), or `terraform state rm` the policy to keep the old archives.",
					before, after, n, state.ID.ValueString(), before))
			return
		}
	}
	drift := driftFromPrivate(ctx, req.Private)
	switch {
	case !plan.Trigger.Equal(state.Trigger) || plan.Trigger.IsUnknown():
		// A new generation will be taken.
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("generations"), types.ListUnknown(generationType))...)
	case len(drift) > 0:
		resp.Diagnostics.AddWarning("Generations changed outside Terraform",
			"Applying accepts these changes (no backup is taken): a corrupt archive is deleted; an archive whose manifest is missing "+
				"or unreadable is kept on disk but is no longer a generation.\n  - "+strings.Join(drift, "\n  - "))
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("generations"), types.ListUnknown(generationType))...)
	default:
		// Lowering keep prunes now: the plan shows exactly what stays.
		gens := state.Generations
		if !plan.Keep.IsUnknown() && !gens.IsNull() && !gens.IsUnknown() {
			elems := gens.Elements()
			if k := int(plan.Keep.ValueInt64()); k >= 1 && len(elems) > k {
				gens = types.ListValueMust(generationType, elems[:k])
			}
		}
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("generations"), gens)...)
	}
}

// effectiveDestHost is the host the archives are on: destination.host, or
// host when that is unset or empty (as destinationHost and
// backup.Policy.DestHost). ok is false while it is unknown.
func effectiveDestHost(host, destHost types.String) (string, bool) {
	if destHost.IsUnknown() {
		return "", false
	}
	if h := destHost.ValueString(); h != "" {
		return h, true
	}
	if host.IsUnknown() {
		return "", false
	}
	return host.ValueString(), true
}

// destinationHostReplace, on host and destination.host, replaces the
// policy when the host its archives are on changes: a change of
// destination.host, or of host while destination.host is unset. Writing
// the default out (or leaving it out) is no replacement, nor is moving the
// source while destination.host keeps the archives where they are.
type destinationHostReplace struct{}

func (destinationHostReplace) Description(context.Context) string {
	return "Requires replacement when the destination host (destination.host, or host when unset) changes."
}

func (m destinationHostReplace) MarkdownDescription(ctx context.Context) string {
	return m.Description(ctx)
}

func (destinationHostReplace) PlanModifyString(ctx context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	if req.State.Raw.IsNull() || req.Plan.Raw.IsNull() || req.PlanValue.Equal(req.StateValue) {
		return
	}
	hosts := func(get func(context.Context, path.Path, any) diag.Diagnostics) (string, bool) {
		var host types.String
		var dest types.Object
		resp.Diagnostics.Append(get(ctx, path.Root("host"), &host)...)
		resp.Diagnostics.Append(get(ctx, path.Root("destination"), &dest)...)
		if dest.IsUnknown() {
			return "", false
		}
		destHost := types.StringNull()
		if h, ok := dest.Attributes()["host"].(types.String); ok {
			destHost = h
		}
		return effectiveDestHost(host, destHost)
	}
	before, _ := hosts(req.State.GetAttribute)
	after, ok := hosts(req.Plan.GetAttribute)
	resp.RequiresReplace = !ok || after != before
}

func (r *backupPolicyResource) planDestroy(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	var state backupPolicyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if state.ForceDestroy.ValueBool() || state.Generations.IsNull() || len(state.Generations.Elements()) == 0 {
		return
	}
	resp.Diagnostics.AddError("Backup generations would be lost",
		fmt.Sprintf("%s holds %d generation(s); destroying the policy would delete them. Set force_destroy = true (and apply) to allow it, "+
			"or remove the resource from state with `terraform state rm` to keep the archives.", state.ID.ValueString(), len(state.Generations.Elements())))
}

// privateGetter is the part of private state the resource reads.
type privateGetter interface {
	GetKey(ctx context.Context, key string) ([]byte, diag.Diagnostics)
}

type privateSetter interface {
	SetKey(ctx context.Context, key string, value []byte) diag.Diagnostics
}

// privateState is what the resource keeps out of sight: the generations the
// last apply left, and the drift refresh found against them.
type privateState struct {
	Expected []string `json:"expected"`
	Drift    []string `json:"drift,omitempty"`
	// Files of the expected generations, for cleaning up missing ones.
	Files map[string]string `json:"files,omitempty"`
	// Problems are the archives failing their check at the last refresh
	// (deleted when the drift is accepted).
	Problems []string `json:"problems,omitempty"`
	// Accepted are the archive files without a usable manifest that the
	// last apply saw (and reported): they are kept on disk, are not
	// generations, and are drift only until an apply has accepted them.
	Accepted []string `json:"accepted_unverifiable,omitempty"`
}

func readPrivate(ctx context.Context, p privateGetter) privateState {
	var ps privateState
	if p == nil {
		return ps
	}
	b, _ := p.GetKey(ctx, privateExpected)
	if len(b) > 0 {
		_ = json.Unmarshal(b, &ps)
	}
	return ps
}

func writePrivate(ctx context.Context, p privateSetter, ps privateState) diag.Diagnostics {
	b, err := json.Marshal(ps)
	if err != nil {
		var d diag.Diagnostics
		d.AddError("Internal error", err.Error())
		return d
	}
	return p.SetKey(ctx, privateExpected, b)
}

func driftFromPrivate(ctx context.Context, p privateGetter) []string {
	return readPrivate(ctx, p).Drift
}

// ---- apply (running a backup: backup_policy_run.go) ----

func (r *backupPolicyResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan backupPolicyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Create(ctx, backupCreateTimeout)
	resp.Diagnostics.Append(d...)
	ctx, cancel := context.WithTimeout(r.data.LogContext(ctx), timeout)
	defer cancel()
	pw, d := password(ctx, req.Config)
	resp.Diagnostics.Append(d...)

	p, _, d := plan.policy(ctx, pw)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	setEffective(&plan, p.Settings)
	plan.ID = types.StringValue(destID(p.DestHost(), p.Destination.Path))
	ok := r.runBackup(ctx, &plan, pw, &resp.Diagnostics)
	if !ok {
		// No generation: nothing was created.
		return
	}
	gens, probs, err := r.refresh(ctx, &plan, archive.VerifySize)
	if err != nil {
		resp.Diagnostics.AddError("Cannot list the generations", err.Error())
		plan.Generations = types.ListValueMust(generationType, nil)
	}
	unverifiable := backup.Unverifiable(probs)
	warnUnverifiable(&resp.Diagnostics, unverifiable)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	resp.Diagnostics.Append(writePrivate(ctx, resp.Private, expectedOf(gens, unverifiable))...)
}

func (r *backupPolicyResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state backupPolicyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := state.Timeouts.Read(ctx, backupReadTimeout)
	resp.Diagnostics.Append(d...)
	ctx, cancel := context.WithTimeout(r.data.LogContext(ctx), timeout)
	defer cancel()
	mode := archive.VerifyMode(state.VerifyOnRefresh.ValueString())
	if mode == "" {
		mode = archive.VerifySize
	}
	gens, probs, err := r.refresh(ctx, &state, mode)
	if err != nil {
		resp.Diagnostics.AddError("Cannot list the backup generations", err.Error())
		return
	}
	// An archive without a usable manifest is reported at every refresh
	// but is not a generation: it neither keeps the policy in state nor
	// counts as one (and nothing ever deletes it but force_destroy).
	unverifiable := backup.Unverifiable(probs)
	warnUnverifiable(&resp.Diagnostics, unverifiable)
	if len(gens) == 0 && len(probs) == len(unverifiable) {
		tflog.Info(ctx, "no generation left at the destination: removing the backup policy from state", map[string]any{"id": state.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	ps := readPrivate(ctx, req.Private)
	imported := state.Host.IsNull()
	if imported {
		adopt(&state, gens)
		ps = expectedOf(gens, nil)
	}
	found := map[string]bool{}
	for _, g := range gens {
		found[g.ID] = true
	}
	accepted := map[string]bool{}
	for _, f := range ps.Accepted {
		accepted[f] = true
	}
	ps.Drift, ps.Problems = nil, nil
	for _, p := range probs {
		if p.Unverifiable {
			// It is there: not "disappeared", and never in ps.Problems
			// (which accepting the drift deletes).
			found[p.ID] = true
			if !accepted[p.File] {
				ps.Drift = append(ps.Drift, fmt.Sprintf("%s cannot be verified (%s); it stays on disk but is no longer a generation",
					p.ID, unverifiableReason(p)))
			}
			continue
		}
		what := "fails its check"
		if p.Missing {
			what = "is missing"
		}
		ps.Drift = append(ps.Drift, fmt.Sprintf("%s %s: %v", p.ID, what, p.Err))
		ps.Problems = append(ps.Problems, p.File)
		found[p.ID] = true
	}
	for _, id := range ps.Expected {
		if !found[id] {
			ps.Drift = append(ps.Drift, id+" disappeared from the destination")
		}
	}
	sort.Strings(ps.Drift)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
	resp.Diagnostics.Append(writePrivate(ctx, resp.Private, ps)...)
}

// adopt fills an imported policy from its newest generation's labels file.
func adopt(m *backupPolicyModel, gens []backup.Generation) {
	var sc *backup.Sidecar
	for _, g := range gens {
		if g.Sidecar != nil {
			sc = g.Sidecar
			break
		}
	}
	if len(gens) > 0 {
		dest := map[string]attr.Value{
			"host":   types.StringNull(),
			"path":   types.StringNull(),
			"format": types.StringValue(string(gens[0].Format)),
		}
		for k, v := range m.Destination.Attributes() {
			if k != "format" {
				dest[k] = v
			}
		}
		m.Destination = types.ObjectValueMust(destinationAttrTypes, dest)
	}
	if sc == nil {
		return
	}
	m.Host = types.StringValue(sc.SourceHost)
	if attrs := m.Destination.Attributes(); attrs["host"] != nil && attrs["host"].Equal(types.StringValue(sc.SourceHost)) {
		// Written "destination.host unset" in the configuration.
		dest := map[string]attr.Value{}
		for k, v := range attrs {
			dest[k] = v
		}
		dest["host"] = types.StringNull()
		m.Destination = types.ObjectValueMust(destinationAttrTypes, dest)
	}
	if sc.Application != "" {
		m.Application = types.StringValue(sc.Application)
	}
	if sc.Trigger != "" {
		m.Trigger = types.StringValue(sc.Trigger)
	}
	if len(sc.Labels) > 0 {
		m.Labels = stringMapValue(sc.Labels)
	}
}

func (r *backupPolicyResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state backupPolicyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Update(ctx, backupUpdateTimeout)
	resp.Diagnostics.Append(d...)
	ctx, cancel := context.WithTimeout(r.data.LogContext(ctx), timeout)
	defer cancel()
	pw, d := password(ctx, req.Config)
	resp.Diagnostics.Append(d...)
	p, _, d := plan.policy(ctx, pw)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	setEffective(&plan, p.Settings)
	dst, err := r.data.Transport(p.DestHost())
	if err != nil {
		resp.Diagnostics.AddError("Destination host unavailable", err.Error())
		return
	}
	// Accept drift: corrupt archives and leftovers of missing ones go.
	ps := readPrivate(ctx, req.Private)
	if len(ps.Drift) > 0 {
		var probs []backup.Problem
		for _, f := range ps.Problems {
			probs = append(probs, backup.Problem{File: f})
		}
		if _, err := backup.RemoveProblems(ctx, dst, probs); err != nil {
			resp.Diagnostics.AddError("Cannot remove a corrupt archive", err.Error())
			return
		}
		// Leftovers (manifest, labels) of archives deleted out of band. An
		// archive file that is still there (e.g. its manifest went) is not
		// gone: RemoveLeftovers never deletes an archive, nor the labels of
		// one that exists.
		current, cprobs, err := backup.Generations(ctx, dst, p.Destination.Path, archive.VerifyNone)
		if err == nil {
			have := map[string]bool{}
			for _, g := range current {
				have[g.ID] = true
			}
			for _, pr := range cprobs {
				have[pr.ID] = true
			}
			for _, id := range ps.Expected {
				if f := ps.Files[id]; f != "" && !have[id] {
					_, _ = backup.RemoveLeftovers(ctx, dst, f)
				}
			}
		}
	}
	triggerOK := true
	if !plan.Trigger.Equal(state.Trigger) {
		triggerOK = r.runBackup(ctx, &plan, pw, &resp.Diagnostics)
		if !triggerOK {
			// Keep the old trigger: the next apply tries again.
			plan.Trigger = state.Trigger
		}
	}
	gens, probs, err := backup.Generations(ctx, dst, p.Destination.Path, archive.VerifySize)
	if err == nil && triggerOK && len(gens) > p.Keep {
		// keep was lowered (a new generation prunes by itself). Only
		// verified generations are pruned or counted.
		if _, perr := backup.Prune(ctx, dst, gens, p.Keep); perr != nil {
			resp.Diagnostics.AddError("Cannot prune old generations", perr.Error())
		}
		gens, probs, err = backup.Generations(ctx, dst, p.Destination.Path, archive.VerifySize)
	}
	unverifiable := backup.Unverifiable(probs)
	if err == nil {
		warnUnverifiable(&resp.Diagnostics, unverifiable)
	} else {
		// Unknown: keep what was accepted, so nothing is re-reported.
		for _, f := range ps.Accepted {
			unverifiable = append(unverifiable, backup.Problem{File: f, Unverifiable: true})
		}
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot list the generations", err.Error())
		plan.Generations = state.Generations
	} else {
		plan.Generations = generationsValue(gens)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	resp.Diagnostics.Append(writePrivate(ctx, resp.Private, expectedOf(gens, unverifiable))...)
}

func (r *backupPolicyResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state backupPolicyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := state.Timeouts.Delete(ctx, backupDeleteTimeout)
	resp.Diagnostics.Append(d...)
	ctx, cancel := context.WithTimeout(r.data.LogContext(ctx), timeout)
	defer cancel()
	dest, h := state.destinationHost(ctx)
	t, err := r.data.Transport(h)
	if err != nil {
		resp.Diagnostics.AddError("Destination host unavailable", err.Error())
		return
	}
	dir := dest.Path.ValueString()
	gens, probs, err := backup.Generations(ctx, t, dir, archive.VerifyNone)
	if err != nil {
		resp.Diagnostics.AddError("Cannot list the generations", err.Error())
		return
	}
	if n := len(gens) + len(probs); n > 0 && !state.ForceDestroy.ValueBool() {
		resp.Diagnostics.AddError("Backup generations would be lost",
			fmt.Sprintf("%s holds %d generation(s). Set force_destroy = true (and apply) to delete them with the policy.", destID(h, dir), n))
		return
	}
	if _, err := backup.RemoveAll(ctx, t, dir); err != nil {
		resp.Diagnostics.AddError("Cannot delete the generations", err.Error())
	}
}

// ImportState takes `<destination host>:<destination path>`; the
// generations found there are adopted, and host, application, labels and
// trigger are read from the newest generation's labels file.
func (r *backupPolicyResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	host, dir, ok := strings.Cut(req.ID, ":")
	if !ok || host == "" || !strings.HasPrefix(dir, "/") {
		resp.Diagnostics.AddError("Invalid import ID",
			fmt.Sprintf("want <destination host>:<absolute destination path>, e.g. local:/backup/arms-proxy; got %q", req.ID))
		return
	}
	if r.data != nil && !r.data.Pool.Has(host) {
		resp.Diagnostics.AddError("Invalid import ID", fmt.Sprintf("host %q is not configured in the provider's hosts (known: %v)", host, r.data.Pool.Names()))
		return
	}
	destHost := types.StringValue(host)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), types.StringValue(destID(host, dir)))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("destination"), types.ObjectValueMust(destinationAttrTypes, map[string]attr.Value{
		"host": destHost, "path": types.StringValue(dir), "format": types.StringValue(string(archive.FormatTarGz)),
	}))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("force_destroy"), types.BoolValue(false))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("verify_on_refresh"), types.StringValue(string(archive.VerifySize)))...)
	// Read sees the missing host and adopts.
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("host"), types.StringNull())...)
}
