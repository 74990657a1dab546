package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/backupctl/terraform-provider-backupctl/internal/kcps"
)

var (
	_ resource.Resource                   = (*kcpsSnapshotScheduleResource)(nil)
	_ resource.ResourceWithConfigure      = (*kcpsSnapshotScheduleResource)(nil)
	_ resource.ResourceWithValidateConfig = (*kcpsSnapshotScheduleResource)(nil)
	_ resource.ResourceWithImportState    = (*kcpsSnapshotScheduleResource)(nil)
)

func init() { registerResource(NewKCPSSnapshotScheduleResource) }

// NewKCPSSnapshotScheduleResource returns backupctl_kcps_snapshot_schedule.
func NewKCPSSnapshotScheduleResource() resource.Resource { return &kcpsSnapshotScheduleResource{} }

type kcpsSnapshotScheduleResource struct{ data *providerData }

type kcpsScheduleModel struct {
	ID       types.String `tfsdk:"id"`
	VolumeID types.String `tfsdk:"volume_id"`
	Interval types.String `tfsdk:"interval"`
	Minute   types.Int64  `tfsdk:"minute"`
	Hour     types.Int64  `tfsdk:"hour"`
	Day      types.Int64  `tfsdk:"day"`
	Timezone types.String `tfsdk:"timezone"`
	Keep     types.Int64  `tfsdk:"keep"`
}

const defaultKCPSTimezone = "Asia/Tokyo"

func (r *kcpsSnapshotScheduleResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_kcps_snapshot_schedule"
}

func (r *kcpsSnapshotScheduleResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "A KCPS (CloudStack) snapshot policy: KCPS takes a snapshot of the volume on a schedule and keeps the last `keep`. " +
			"Schedules KCPS would silently turn into daily ones (a weekly or monthly schedule without a valid day) are refused at plan.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, Description: "The policy id.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"volume_id": schema.StringAttribute{Required: true, Description: "The volume the policy snapshots. Changing it replaces the policy.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:    []validator.String{stringvalidator.RegexMatches(kcpsIDRE, "must be a KCPS volume id (a UUID)")}},
			"interval": schema.StringAttribute{Required: true,
				Description:   "`hourly`, `daily`, `weekly` or `monthly`. Changing it replaces the policy (KCPS keeps one policy per volume and interval).",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:    []validator.String{stringvalidator.OneOf("hourly", "daily", "weekly", "monthly")}},
			"minute": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(0),
				Description: "Minute of the hour, 0-59. Default 0.", Validators: []validator.Int64{int64validator.Between(0, 59)}},
			"hour": schema.Int64Attribute{Optional: true,
				Description: "Hour of the day, 0-23: required for daily, weekly and monthly; not allowed for hourly.",
				Validators:  []validator.Int64{int64validator.Between(0, 23)}},
			"day": schema.Int64Attribute{Optional: true,
				Description: "Weekly: day of the week, 1 (Sunday) to 7 (Saturday). Monthly: day of the month, 1-31. Required for those, not allowed otherwise.",
				Validators:  []validator.Int64{int64validator.Between(1, 31)}},
			"timezone": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString(defaultKCPSTimezone),
				Description: "Time zone of the schedule: an IANA name (`Asia/Tokyo`, the default) or a Java short id such as `JST`."},
			"keep": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(8),
				Description: "How many scheduled snapshots KCPS keeps (maxsnaps), 1 to 8. Default 8.",
				Validators:  []validator.Int64{int64validator.Between(1, kcps.MaxSnapsLimit)}},
		},
	}
}

func (r *kcpsSnapshotScheduleResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig checks the combination of interval, hour and day: what KCPS
// would refuse, and what it would silently turn into a daily policy.
func (r *kcpsSnapshotScheduleResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m kcpsScheduleModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || m.Interval.IsUnknown() || m.Interval.IsNull() {
		return
	}
	interval := m.Interval.ValueString()
	switch interval {
	case "hourly":
		if !m.Hour.IsNull() {
			attrError(&resp.Diagnostics, path.Root("hour"), "hour is not used by hourly schedules",
				"An hourly policy runs at `minute` past every hour; remove `hour`.")
		}
	default:
		if m.Hour.IsNull() {
			attrError(&resp.Diagnostics, path.Root("hour"), "hour is required",
				fmt.Sprintf("A %s schedule needs `hour` (0-23).", interval))
		}
	}
	switch interval {
	case "hourly", "daily":
		if !m.Day.IsNull() {
			attrError(&resp.Diagnostics, path.Root("day"), fmt.Sprintf("day is not used by %s schedules", interval),
				"`day` is for weekly (1-7) and monthly (1-31) schedules; remove it.")
		}
	case "weekly", "monthly":
		if m.Day.IsUnknown() {
			return
		}
		maxDay := int64(7)
		what := "a day of the week, 1 (Sunday) to 7 (Saturday)"
		if interval == "monthly" {
			maxDay, what = 31, "a day of the month, 1 to 31"
		}
		if m.Day.IsNull() || m.Day.ValueInt64() < 1 || m.Day.ValueInt64() > maxDay {
			got := "none"
			if !m.Day.IsNull() {
				got = fmt.Sprint(m.Day.ValueInt64())
			}
			attrError(&resp.Diagnostics, path.Root("day"), fmt.Sprintf("Invalid day for a %s schedule", interval),
				fmt.Sprintf("A %s schedule needs %s (got %s). KCPS would not refuse it: it would silently make it a DAILY policy.", interval, what, got))
		} else if interval == "monthly" && m.Day.ValueInt64() > 28 {
			resp.Diagnostics.AddAttributeWarning(path.Root("day"), "Not every month has this day",
				fmt.Sprintf("Day %d does not exist in every month; check how KCPS handles shorter months, or use 1-28.", m.Day.ValueInt64()))
		}
	}
	if !m.Timezone.IsUnknown() && !m.Timezone.IsNull() && !kcps.ValidTimezone(m.Timezone.ValueString()) {
		attrError(&resp.Diagnostics, path.Root("timezone"), "Unknown time zone",
			fmt.Sprintf("%q is neither an IANA time zone (Asia/Tokyo) nor a Java short id (JST).", m.Timezone.ValueString()))
	}
}

func (m kcpsScheduleModel) schedule() kcps.Schedule {
	return kcps.Schedule{Interval: strings.ToUpper(m.Interval.ValueString()), Minute: int(m.Minute.ValueInt64()),
		Hour: int(m.Hour.ValueInt64()), Day: int(m.Day.ValueInt64())}.Normalized()
}

func (r *kcpsSnapshotScheduleResource) apply(ctx context.Context, client *kcps.Client, m *kcpsScheduleModel) error {
	s := m.schedule()
	if err := s.Validate(); err != nil {
		return err
	}
	p, err := client.CreateSnapshotPolicy(ctx, kcps.PolicyParams{VolumeID: m.VolumeID.ValueString(), IntervalType: s.Interval,
		Schedule: s.String(), Timezone: m.Timezone.ValueString(), MaxSnaps: int(m.Keep.ValueInt64())})
	if err != nil {
		return err
	}
	if p.IntervalType != "" && p.IntervalType != s.Interval {
		return fmt.Errorf("KCPS stored the policy %s as %s instead of %s (schedule %q)", p.ID, p.IntervalType, s.Interval, p.Schedule)
	}
	m.ID = types.StringValue(p.ID)
	return nil
}

func (r *kcpsSnapshotScheduleResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m kcpsScheduleModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	client := r.data.KCPSClient(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.data.LogContext(ctx)
	// KCPS keeps one policy per volume and interval and would silently
	// replace an existing one: refuse instead.
	existing, err := client.ListSnapshotPolicies(ctx, m.VolumeID.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("Cannot list snapshot policies", err.Error())
		return
	}
	for _, p := range existing {
		if strings.EqualFold(p.IntervalType, m.Interval.ValueString()) {
			resp.Diagnostics.AddError("A policy already exists",
				fmt.Sprintf("Volume %s already has a %s snapshot policy (%s). Import it: terraform import <address> %s/%s",
					m.VolumeID.ValueString(), strings.ToLower(p.IntervalType), p.ID, m.VolumeID.ValueString(), p.ID))
			return
		}
	}
	if err := r.apply(ctx, client, &m); err != nil {
		resp.Diagnostics.AddError("Cannot create the snapshot policy", err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *kcpsSnapshotScheduleResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m kcpsScheduleModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	client := r.data.KCPSClient(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	// Same volume and interval: createSnapshotPolicy updates it in place.
	if err := r.apply(r.data.LogContext(ctx), client, &m); err != nil {
		resp.Diagnostics.AddError("Cannot update the snapshot policy", err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *kcpsSnapshotScheduleResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m kcpsScheduleModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	client := r.data.KCPSClient(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	ps, err := client.ListSnapshotPolicies(r.data.LogContext(ctx), m.VolumeID.ValueString())
	if kcps.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot list snapshot policies", err.Error())
		return
	}
	var found *kcps.SnapshotPolicy
	for i := range ps {
		if ps[i].ID == m.ID.ValueString() {
			found = &ps[i]
		}
	}
	if found == nil {
		resp.State.RemoveResource(ctx)
		return
	}
	if d := setScheduleFromPolicy(&m, *found); d != "" {
		resp.Diagnostics.AddWarning("Unexpected schedule from KCPS", d)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// setScheduleFromPolicy stores KCPS's values in m as numbers, so that "05"
// and "5" are the same and no perpetual diff appears.
func setScheduleFromPolicy(m *kcpsScheduleModel, p kcps.SnapshotPolicy) string {
	s, err := kcps.ParseSchedule(p.IntervalType, p.Schedule)
	if err != nil {
		return fmt.Sprintf("policy %s: %v", p.ID, err)
	}
	m.ID = types.StringValue(p.ID)
	m.VolumeID = types.StringValue(p.VolumeID)
	m.Interval = types.StringValue(strings.ToLower(s.Interval))
	m.Minute = types.Int64Value(int64(s.Minute))
	m.Hour, m.Day = types.Int64Null(), types.Int64Null()
	if s.Interval != "HOURLY" {
		m.Hour = types.Int64Value(int64(s.Hour))
	}
	if s.Interval == "WEEKLY" || s.Interval == "MONTHLY" {
		m.Day = types.Int64Value(int64(s.Day))
	}
	if p.Timezone != "" && !kcps.SameTimezone(p.Timezone, m.Timezone.ValueString()) {
		m.Timezone = types.StringValue(p.Timezone)
	}
	if p.MaxSnaps > 0 {
		m.Keep = types.Int64Value(int64(p.MaxSnaps))
	}
	return ""
}

func (r *kcpsSnapshotScheduleResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m kcpsScheduleModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	client := r.data.KCPSClient(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := client.DeleteSnapshotPolicies(r.data.LogContext(ctx), m.ID.ValueString()); err != nil {
		resp.Diagnostics.AddError("Cannot delete the snapshot policy", err.Error())
	}
}

// ImportState takes "<volume_id>/<policy_id>" or "<volume_id>/<interval>"
// (KCPS lists policies only per volume).
func (r *kcpsSnapshotScheduleResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	vol, which, ok := strings.Cut(strings.TrimSpace(req.ID), "/")
	if !ok || !kcpsIDRE.MatchString(vol) || which == "" {
		resp.Diagnostics.AddError("Invalid import id",
			fmt.Sprintf("Import a backupctl_kcps_snapshot_schedule as <volume_id>/<policy_id> or <volume_id>/<interval> (hourly, daily, weekly, monthly); got %q.", req.ID))
		return
	}
	client := r.data.KCPSClient(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	ps, err := client.ListSnapshotPolicies(r.data.LogContext(ctx), vol)
	if err != nil {
		resp.Diagnostics.AddError("Cannot list snapshot policies", err.Error())
		return
	}
	for _, p := range ps {
		if p.ID == which || strings.EqualFold(p.IntervalType, which) {
			m := kcpsScheduleModel{Timezone: types.StringValue(p.Timezone)}
			if d := setScheduleFromPolicy(&m, p); d != "" {
				resp.Diagnostics.AddError("Unexpected schedule from KCPS", d)
				return
			}
			if m.VolumeID.ValueString() == "" {
				m.VolumeID = types.StringValue(vol)
			}
			resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
			return
		}
	}
	resp.Diagnostics.AddError("No such policy", fmt.Sprintf("Volume %s has no snapshot policy %q.", vol, which))
}
