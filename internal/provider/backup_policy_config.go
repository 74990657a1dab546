// backupctl_backup_policy: from the configuration to a backup.Policy, and
// what can be refused at plan time (no provider data, no command).

package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/backupctl/terraform-provider-backupctl/internal/apps"
	"github.com/backupctl/terraform-provider-backupctl/internal/archive"
	"github.com/backupctl/terraform-provider-backupctl/internal/backup"
	"github.com/backupctl/terraform-provider-backupctl/internal/dbdump"
)

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
