package provider

import (
	"context"
	"encoding/json"
	"errors"
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
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
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
				Description: "Configured host (a key of the provider's `hosts`, or `local`) holding the paths; commands run there."},
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
						Description:   "Configured host holding the archives; default: `host`. Bytes stream from host to host through the provider without landing on disk here.",
						PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()}},
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
					"A generation that disappeared or fails its check shows in the plan as a change; applying it accepts the loss (a corrupt archive is deleted).",
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

// ---- conversions ----

// listValues returns a list's strings; nil for null; ok=false when the
// list or an element is unknown.
func listValues(l types.List) (vals []string, ok bool) {
	if l.IsUnknown() {
		return nil, false
	}
	if l.IsNull() {
		return nil, true
	}
	vals = []string{}
	for _, e := range l.Elements() {
		s, isStr := e.(types.String)
		if !isStr || s.IsUnknown() {
			return nil, false
		}
		vals = append(vals, s.ValueString())
	}
	return vals, true
}

func mapValues(m types.Map) (map[string]string, bool) {
	if m.IsUnknown() {
		return nil, false
	}
	out := map[string]string{}
	for k, e := range m.Elements() {
		s, isStr := e.(types.String)
		if !isStr || s.IsUnknown() {
			return nil, false
		}
		out[k] = s.ValueString()
	}
	return out, true
}

func stringsValue(vals []string) types.List {
	elems := make([]attr.Value, len(vals))
	for i, v := range vals {
		elems[i] = types.StringValue(v)
	}
	return types.ListValueMust(types.StringType, elems)
}

// stringMapValue is a map of strings as a Terraform map; nil gives an empty one.
func stringMapValue(vals map[string]string) types.Map {
	elems := make(map[string]attr.Value, len(vals))
	for k, v := range vals {
		elems[k] = types.StringValue(v)
	}
	return types.MapValueMust(types.StringType, elems)
}

func (m *backupPolicyModel) destination(ctx context.Context) (destinationModel, bool, diag.Diagnostics) {
	var d destinationModel
	if m.Destination.IsNull() || m.Destination.IsUnknown() {
		return d, false, nil
	}
	diags := m.Destination.As(ctx, &d, basetypes.ObjectAsOptions{})
	return d, !diags.HasError(), diags
}

func (m *backupPolicyModel) database(ctx context.Context) (*databaseModel, bool, diag.Diagnostics) {
	if m.Database.IsUnknown() {
		return nil, false, nil
	}
	if m.Database.IsNull() {
		return nil, true, nil
	}
	var d databaseModel
	diags := m.Database.As(ctx, &d, basetypes.ObjectAsOptions{})
	return &d, !diags.HasError(), diags
}

// ownSettings returns the policy's own values (nil = unset) and which
// attributes are not yet known.
func (m *backupPolicyModel) ownSettings() (apps.Settings, map[string]bool) {
	unknown := map[string]bool{}
	get := func(name string, l types.List) []string {
		v, ok := listValues(l)
		if !ok {
			unknown[name] = true
		}
		return v
	}
	s := apps.Settings{
		Paths:        get("paths", m.Paths),
		Exclude:      get("exclude", m.Exclude),
		Stop:         get("stop", m.Stop),
		Start:        get("start", m.Start),
		Export:       get("export", m.Export),
		AfterSuccess: get("after_success", m.AfterSuccess),
	}
	return s, unknown
}

// resolvePreset returns the preset of m (nil when none). known=false when
// the application or the labels are not known yet.
func (m *backupPolicyModel) resolvePreset(diags *diag.Diagnostics) (p *apps.Preset, known bool) {
	if m.Application.IsUnknown() {
		return nil, false
	}
	if m.Application.IsNull() || m.Application.ValueString() == "" {
		return nil, true
	}
	labels, ok := mapValues(m.Labels)
	if !ok {
		return nil, false
	}
	pr, err := apps.Resolve(m.Application.ValueString(), labels)
	if err != nil {
		addPresetError(diags, err, labels)
		return nil, true
	}
	return &pr, true
}

func addPresetError(diags *diag.Diagnostics, err error, labels map[string]string) {
	if errors.Is(err, apps.ErrUnknown) {
		attrError(diags, path.Root("application"), "Unknown application preset", err.Error())
		return
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	for _, e := range errs {
		var le *apps.LabelError
		if errors.As(e, &le) {
			p := path.Root("labels")
			if _, present := labels[le.Label]; present {
				p = p.AtMapKey(le.Label)
			}
			summary := "Missing label required by the application preset"
			if _, present := labels[le.Label]; present {
				summary = "Invalid label for the application preset"
			}
			attrError(diags, p, summary, fmt.Sprintf("labels.%s: %s", le.Label, e.Error()))
			continue
		}
		attrError(diags, path.Root("application"), "Invalid application settings", e.Error())
	}
}

// fieldPath maps a backup.FieldError to an attribute path.
func fieldPath(e *backup.FieldError) path.Path {
	p := path.Root(e.Attr)
	if e.Index >= 0 {
		p = p.AtListIndex(e.Index)
	}
	if e.Key != "" {
		p = p.AtName(e.Key)
	}
	return p
}

// dbConfig converts the database block (password from the config, since
// it is write-only).
func dbConfig(d *databaseModel, password string) (*dbdump.Config, bool) {
	if d == nil {
		return nil, true
	}
	dbs, ok1 := listValues(d.Databases)
	opts, ok2 := listValues(d.Options)
	if d.Engine.IsUnknown() || d.Host.IsUnknown() || d.Port.IsUnknown() || d.User.IsUnknown() || d.BinDir.IsUnknown() || !ok1 || !ok2 {
		return nil, false
	}
	return &dbdump.Config{
		Engine:    dbdump.Engine(d.Engine.ValueString()),
		Host:      d.Host.ValueString(),
		Port:      int(d.Port.ValueInt64()),
		User:      d.User.ValueString(),
		Password:  password,
		Databases: dbs,
		BinDir:    d.BinDir.ValueString(),
		Options:   opts,
	}, true
}

// policy builds the run description of a fully known plan.
func (m *backupPolicyModel) policy(ctx context.Context, password string) (backup.Policy, *apps.Preset, diag.Diagnostics) {
	var diags diag.Diagnostics
	preset, _ := m.resolvePreset(&diags)
	own, _ := m.ownSettings()
	dest, _, d := m.destination(ctx)
	diags.Append(d...)
	dbm, _, d := m.database(ctx)
	diags.Append(d...)
	db, _ := dbConfig(dbm, password)
	labels, _ := mapValues(m.Labels)
	p := backup.Policy{
		Host:        m.Host.ValueString(),
		Application: m.Application.ValueString(),
		Settings:    apps.Effective(preset, own),
		Database:    db,
		Destination: backup.Destination{Host: dest.Host.ValueString(), Path: dest.Path.ValueString(), Format: archive.Format(dest.Format.ValueString())},
		Keep:        int(m.Keep.ValueInt64()),
		Labels:      labels,
		Trigger:     m.Trigger.ValueString(),
	}
	return p, preset, diags
}

func destID(host, dir string) string { return host + ":" + dir }

// ---- validation (no provider data, no command) ----

func (r *backupPolicyResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m backupPolicyModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(validatePolicy(ctx, &m, true)...)
}

// validatePolicy checks everything the configuration alone tells. Unknown
// values are skipped; they are checked again at apply.
func validatePolicy(ctx context.Context, m *backupPolicyModel, checkPassword bool) diag.Diagnostics {
	var diags diag.Diagnostics
	preset, presetKnown := m.resolvePreset(&diags)
	if diags.HasError() {
		// Unknown preset or missing label: the rest would repeat it.
		presetKnown = false
	}
	own, unknown := m.ownSettings()
	eff := apps.Effective(preset, own)
	if !presetKnown {
		for _, a := range effectiveAttrs {
			unknown[a.own] = true
		}
	}
	dest, destKnown, d := m.destination(ctx)
	diags.Append(d...)
	if !destKnown || dest.Path.IsUnknown() {
		unknown["destination"] = true
	}
	dbm, dbKnown, d := m.database(ctx)
	diags.Append(d...)
	if !dbKnown {
		unknown["database"] = true
	}
	if dbm != nil {
		diags.Append(validateDatabase(dbm, checkPassword)...)
	}
	if m.Keep.IsUnknown() {
		unknown["keep"] = true
	}
	if m.Host.IsUnknown() || dest.Host.IsUnknown() {
		unknown["destination"] = true
	}
	if unknown["paths"] || unknown["export"] || unknown["database"] {
		unknown["paths"], unknown["export"], unknown["database"] = true, true, true
	}
	labels, labelsKnown := mapValues(m.Labels)
	if !labelsKnown {
		unknown["labels"] = true
	}
	p := backup.Policy{
		Host:        m.Host.ValueString(),
		Settings:    eff,
		Destination: backup.Destination{Host: dest.Host.ValueString(), Path: dest.Path.ValueString(), Format: archive.Format(dest.Format.ValueString())},
		Keep:        int(m.Keep.ValueInt64()),
		Labels:      labels,
	}
	if p.Host == "" && m.Host.IsUnknown() {
		p.Host = "unknown"
	}
	if dbm != nil {
		// The block's own fields were checked above, with their paths.
		p.Database = &dbdump.Config{Engine: dbdump.PostgreSQL}
	}
	for _, e := range backup.Validate(p, preset) {
		if unknown[e.Attr] || (e.Attr == "destination" && e.Key == "format") {
			continue
		}
		attrError(&diags, fieldPath(e), "Invalid backup policy", e.Error())
	}
	return diags
}

func validateDatabase(d *databaseModel, checkPassword bool) diag.Diagnostics {
	var diags diag.Diagnostics
	base := path.Root("database")
	if s := d.BinDir; !s.IsNull() && !s.IsUnknown() && !strings.HasPrefix(s.ValueString(), "/") {
		attrError(&diags, base.AtName("bin_dir"), "Invalid bin_dir", fmt.Sprintf("%q must be an absolute path", s.ValueString()))
	}
	for _, f := range []struct {
		name string
		v    types.String
	}{{"host", d.Host}, {"user", d.User}} {
		if !f.v.IsNull() && !f.v.IsUnknown() && (f.v.ValueString() == "" || strings.HasPrefix(f.v.ValueString(), "-")) {
			attrError(&diags, base.AtName(f.name), "Invalid database "+f.name, fmt.Sprintf("%q must not be empty or start with '-'", f.v.ValueString()))
		}
	}
	if checkPassword && !d.Password.IsNull() && !d.Password.IsUnknown() && strings.ContainsAny(d.Password.ValueString(), "\n\r\x00") {
		attrError(&diags, base.AtName("password"), "Invalid database password", "The password must not contain a newline or NUL (the value is not shown).")
	}
	if dbs, ok := listValues(d.Databases); ok {
		seen := map[string]bool{}
		for i, db := range dbs {
			switch {
			case db == "" || strings.HasPrefix(db, "-") || strings.ContainsRune(db, 0):
				attrError(&diags, base.AtName("databases").AtListIndex(i), "Invalid database name", fmt.Sprintf("%q must not be empty or start with '-'", db))
			case seen[db]:
				attrError(&diags, base.AtName("databases").AtListIndex(i), "Duplicate database name", fmt.Sprintf("%q is listed twice", db))
			}
			seen[db] = true
		}
	}
	return diags
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
				h := dest.Host.ValueString()
				if dest.Host.IsNull() {
					h = plan.Host.ValueString()
				}
				resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("id"), types.StringValue(destID(h, dest.Path.ValueString())))...)
			}
		}
		return
	}
	var state backupPolicyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// Changing the destination replaces the policy: its destroy must be allowed.
	if pd, ok, _ := plan.destination(ctx); ok && !state.ForceDestroy.ValueBool() && !state.Generations.IsNull() && len(state.Generations.Elements()) > 0 {
		sd, _, _ := state.destination(ctx)
		if (known(pd.Path) && !pd.Path.Equal(sd.Path)) || (!pd.Host.IsUnknown() && !pd.Host.Equal(sd.Host)) {
			attrError(&resp.Diagnostics, path.Root("destination"), "Backup generations would be lost",
				fmt.Sprintf("Changing destination replaces the policy, which deletes the %d generation(s) in %s. Set force_destroy = true first (and apply), "+
					"or `terraform state rm` the policy to keep the old archives.", len(state.Generations.Elements()), state.ID.ValueString()))
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
			"Applying accepts these changes (a corrupt archive is deleted; no backup is taken):\n  - "+strings.Join(drift, "\n  - "))
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
	// Problems are the archives failing their check at the last refresh.
	Problems []string `json:"problems,omitempty"`
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

// ---- apply ----

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

func expectedOf(gens []backup.Generation) privateState {
	ps := privateState{Expected: []string{}, Files: map[string]string{}}
	for _, g := range gens {
		ps.Expected = append(ps.Expected, g.ID)
		ps.Files[g.ID] = g.File
	}
	return ps
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
	gens, _, err := r.refresh(ctx, &plan, archive.VerifySize)
	if err != nil {
		resp.Diagnostics.AddError("Cannot list the generations", err.Error())
		plan.Generations = types.ListValueMust(generationType, nil)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	resp.Diagnostics.Append(writePrivate(ctx, resp.Private, expectedOf(gens))...)
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
	if len(gens) == 0 && len(probs) == 0 {
		tflog.Info(ctx, "no generation left at the destination: removing the backup policy from state", map[string]any{"id": state.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	ps := readPrivate(ctx, req.Private)
	imported := state.Host.IsNull()
	if imported {
		adopt(&state, gens)
		ps = expectedOf(gens)
	}
	found := map[string]bool{}
	for _, g := range gens {
		found[g.ID] = true
	}
	ps.Drift, ps.Problems = nil, nil
	for _, p := range probs {
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
		// Leftovers (manifest, labels) of archives deleted out of band.
		current, _, err := backup.Generations(ctx, dst, p.Destination.Path, archive.VerifyNone)
		if err == nil {
			have := map[string]bool{}
			for _, g := range current {
				have[g.ID] = true
			}
			for _, id := range ps.Expected {
				if f := ps.Files[id]; f != "" && !have[id] {
					_ = backup.Remove(ctx, dst, f)
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
	gens, _, err := backup.Generations(ctx, dst, p.Destination.Path, archive.VerifySize)
	if err == nil && triggerOK && len(gens) > p.Keep {
		// keep was lowered (a new generation prunes by itself).
		if _, perr := backup.Prune(ctx, dst, gens, p.Keep); perr != nil {
			resp.Diagnostics.AddError("Cannot prune old generations", perr.Error())
		}
		gens, _, err = backup.Generations(ctx, dst, p.Destination.Path, archive.VerifySize)
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot list the generations", err.Error())
		plan.Generations = state.Generations
	} else {
		plan.Generations = generationsValue(gens)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	resp.Diagnostics.Append(writePrivate(ctx, resp.Private, expectedOf(gens))...)
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
