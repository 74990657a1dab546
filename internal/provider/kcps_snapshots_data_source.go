package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/backupctl/terraform-provider-backupctl/internal/kcps"
)

var (
	_ datasource.DataSource              = (*kcpsSnapshotsDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*kcpsSnapshotsDataSource)(nil)
)

func init() { registerDataSource(NewKCPSSnapshotsDataSource) }

// NewKCPSSnapshotsDataSource returns the backupctl_kcps_snapshots data source.
func NewKCPSSnapshotsDataSource() datasource.DataSource { return &kcpsSnapshotsDataSource{} }

type kcpsSnapshotsDataSource struct{ data *providerData }

type kcpsSnapshotsModel struct {
	ID           types.String `tfsdk:"id"`
	VolumeID     types.String `tfsdk:"volume_id"`
	IntervalType types.String `tfsdk:"interval_type"`
	Snapshots    types.List   `tfsdk:"snapshots"`
	LatestID     types.String `tfsdk:"latest_id"`
}

var kcpsSnapshotAttrTypes = map[string]attr.Type{
	"id": types.StringType, "name": types.StringType, "state": types.StringType, "created": types.StringType,
	"interval_type": types.StringType, "volume_id": types.StringType, "volume_name": types.StringType,
	"volume_type": types.StringType, "zone_id": types.StringType,
}

func (d *kcpsSnapshotsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_kcps_snapshots"
}

func (d *kcpsSnapshotsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	str := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, Description: desc}
	}
	resp.Schema = schema.Schema{
		Description: "The snapshots of a KCPS volume, newest first: manual ones (including those of backupctl_kcps_volume_snapshot) and those of snapshot policies.",
		Attributes: map[string]schema.Attribute{
			"id": str("The volume id."),
			"volume_id": schema.StringAttribute{Required: true, Description: "The volume.",
				Validators: []validator.String{stringvalidator.RegexMatches(kcpsIDRE, "must be a KCPS volume id (a UUID)")}},
			"interval_type": schema.StringAttribute{Optional: true,
				Description: "Only snapshots of this kind: `MANUAL`, `HOURLY`, `DAILY`, `WEEKLY` or `MONTHLY`.",
				Validators:  []validator.String{stringvalidator.OneOfCaseInsensitive("MANUAL", "HOURLY", "DAILY", "WEEKLY", "MONTHLY")}},
			"latest_id": str("The newest BackedUp snapshot's id (null when there is none)."),
			"snapshots": schema.ListNestedAttribute{Computed: true, Description: "The snapshots, newest first.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"id": str("Snapshot id."), "name": str("Name given by KCPS."),
					"state":         str("`Creating`, `BackingUp`, `BackedUp` or `Error`."),
					"created":       str("When it was started (RFC 3339, UTC)."),
					"interval_type": str("`MANUAL` or the policy's interval."),
					"volume_id":     str("Volume id."), "volume_name": str("Volume name."),
					"volume_type": str("`ROOT` or `DATADISK`."), "zone_id": str("Zone (site) of the snapshot: restores stay in it."),
				}}},
		},
	}
}

func (d *kcpsSnapshotsDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *kcpsSnapshotsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m kcpsSnapshotsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	client := d.data.KCPSClient(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = d.data.LogContext(ctx)
	vol := m.VolumeID.ValueString()
	if _, err := client.GetVolume(ctx, vol); err != nil {
		if kcps.IsNotFound(err) {
			attrError(&resp.Diagnostics, path.Root("volume_id"), "Volume not found", fmt.Sprintf("The KCPS account has no volume %s.", vol))
		} else {
			resp.Diagnostics.AddError("Cannot read the volume", err.Error())
		}
		return
	}
	ss, err := client.ListSnapshots(ctx, kcps.SnapshotFilter{VolumeID: vol, IntervalType: m.IntervalType.ValueString()})
	if err != nil {
		resp.Diagnostics.AddError("Cannot list snapshots", err.Error())
		return
	}
	kcps.SortNewestFirst(ss)
	elems := make([]attr.Value, 0, len(ss))
	m.LatestID = types.StringNull()
	for _, s := range ss {
		if m.LatestID.IsNull() && s.State == kcps.SnapshotBackedUp {
			m.LatestID = types.StringValue(s.ID)
		}
		elems = append(elems, types.ObjectValueMust(kcpsSnapshotAttrTypes, map[string]attr.Value{
			"id": types.StringValue(s.ID), "name": types.StringValue(s.Name), "state": types.StringValue(s.State),
			"created": types.StringValue(formatCreated(s.Created)), "interval_type": types.StringValue(s.IntervalType),
			"volume_id": types.StringValue(s.VolumeID), "volume_name": types.StringValue(s.VolumeName),
			"volume_type": types.StringValue(s.VolumeType), "zone_id": types.StringValue(s.ZoneID),
		}))
	}
	m.ID = types.StringValue(vol)
	list, diags := types.ListValue(types.ObjectType{AttrTypes: kcpsSnapshotAttrTypes}, elems)
	resp.Diagnostics.Append(diags...)
	m.Snapshots = list
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
