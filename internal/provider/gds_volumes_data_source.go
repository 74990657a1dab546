package provider

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/backupctl/terraform-provider-backupctl/internal/gds"
)

var (
	_ datasource.DataSource              = (*gdsVolumesDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*gdsVolumesDataSource)(nil)
)

func init() { registerDataSource(NewGDSVolumesDataSource) }

// NewGDSVolumesDataSource returns the backupctl_gds_volumes data source.
func NewGDSVolumesDataSource() datasource.DataSource { return &gdsVolumesDataSource{} }

type gdsVolumesDataSource struct{ data *providerData }

type gdsVolumesModel struct {
	ID      types.String `tfsdk:"id"`
	Host    types.String `tfsdk:"host"`
	Class   types.String `tfsdk:"class"`
	Groups  types.List   `tfsdk:"groups"`
	Volumes types.List   `tfsdk:"volumes"`
	Proxies types.List   `tfsdk:"proxies"`
}

var (
	gdsSliceType = types.ObjectType{AttrTypes: map[string]attr.Type{
		"disk": types.StringType, "status": types.StringType, "copy": types.StringType,
	}}
	gdsGroupType = types.ObjectType{AttrTypes: map[string]attr.Type{
		"name": types.StringType, "type": types.StringType, "disks": types.ListType{ElemType: types.StringType},
		"blocks": types.Int64Type, "master": types.StringType,
	}}
	gdsVolumeType = types.ObjectType{AttrTypes: map[string]attr.Type{
		"name": types.StringType, "group": types.StringType, "type": types.StringType, "status": types.StringType,
		"blocks": types.Int64Type, "size_mb": types.Int64Type, "master": types.StringType, "proxy_state": types.StringType,
		"device": types.StringType, "raw_device": types.StringType, "slices": types.ListType{ElemType: gdsSliceType},
	}}
	gdsProxyType = types.ObjectType{AttrTypes: map[string]attr.Type{
		"master": types.StringType, "proxy": types.StringType, "kind": types.StringType, "state": types.StringType,
		"copy_status": types.StringType, "volume_map": types.MapType{ElemType: types.StringType},
	}}
)

func (d *gdsVolumesDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_gds_volumes"
}

func (d *gdsVolumesDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	str := func(desc string) schema.Attribute { return schema.StringAttribute{Computed: true, Description: desc} }
	resp.Schema = schema.Schema{
		Description: "Groups, volumes, slices and proxy relations of one GDS class, from one `sdxinfo -A -c <class> -e long` " +
			"(shared with every backupctl_gds_proxy_pair of the same host and class in the run). Lists are sorted by name.",
		Attributes: map[string]schema.Attribute{
			"id":    str("`host/class`."),
			"host":  schema.StringAttribute{Optional: true, Description: "Configured host where sdxinfo runs. Default `local`."},
			"class": schema.StringAttribute{Required: true, Validators: []validator.String{gdsName{}}, Description: "Disk class."},
			"groups": schema.ListNestedAttribute{Computed: true, Description: "Groups of the class.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name":   str("Group name."),
					"type":   str("mirror, single, concat or stripe (when sdxinfo shows it)."),
					"disks":  schema.ListAttribute{Computed: true, ElementType: types.StringType, Description: "Disks of the group."},
					"blocks": schema.Int64Attribute{Computed: true, Description: "Size in 512-byte blocks."},
					"master": str("Master group when this is a proxy group, else null."),
				}}},
			"volumes": schema.ListNestedAttribute{Computed: true, Description: "Volumes of the class.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name":        str("Volume name."),
					"group":       str("Group holding the volume."),
					"type":        str("Group type of the volume."),
					"status":      str("Volume STATUS on the node sdxinfo ran on: ACTIVE, STOP or INVALID."),
					"blocks":      schema.Int64Attribute{Computed: true, Description: "Size in 512-byte blocks."},
					"size_mb":     schema.Int64Attribute{Computed: true, Description: "Size in MiB."},
					"master":      str("Master volume when this is a proxy volume, else null."),
					"proxy_state": str("`joined` or `parted` for a proxy volume, else null."),
					"device":      str("Block device `/dev/sfdsk/<class>/dsk/<volume>`."),
					"raw_device":  str("Raw device `/dev/sfdsk/<class>/rdsk/<volume>`."),
					"slices": schema.ListNestedAttribute{Computed: true, Description: "Slices of the volume, by disk.",
						NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
							"disk":   str("Disk the slice is on."),
							"status": str("Slice STATUS: ACTIVE, STOP, COPY, INVALID, NOUSE, TEMP, TEMP-STOP."),
							"copy":   str("Copy progress while COPY (e.g. `40%`) when sdxinfo shows it, else null."),
						}}},
				}}},
			"proxies": schema.ListNestedAttribute{Computed: true, Description: "Master/proxy relations, by proxy name.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"master":      str("Master volume or group."),
					"proxy":       str("Proxy volume or group."),
					"kind":        str("`volume` or `group`."),
					"state":       str("`joined`, `parted` or `mixed` (group pair with volumes in both states)."),
					"copy_status": str("Summary of the proxy slices: COPY, STOP, ACTIVE, INVALID."),
					"volume_map":  schema.MapAttribute{Computed: true, ElementType: types.StringType, Description: "Group pairs: master volume to proxy volume."},
				}}},
		},
	}
}

func (d *gdsVolumesDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func optString(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}

func (d *gdsVolumesDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m gdsVolumesModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	host, ok := d.data.DataSourceHost(m.Host, &resp.Diagnostics)
	if !ok {
		return
	}
	ctx = d.data.LogContext(ctx)
	c := d.data.gdsClient(ctx, host, &resp.Diagnostics)
	if c == nil {
		return
	}
	class := m.Class.ValueString()
	info, err := c.CachedInfo(ctx, class)
	if err != nil {
		if errors.Is(err, gds.ErrNotFound) {
			attrError(&resp.Diagnostics, path.Root("class"), "No such class", err.Error())
			return
		}
		resp.Diagnostics.AddError(fmt.Sprintf("sdxinfo on host %q", host), err.Error())
		return
	}
	m.ID = types.StringValue(host + "/" + class)
	m.Host = types.StringValue(host)

	groups := append([]gds.GroupRow(nil), info.Groups...)
	sort.Slice(groups, func(i, j int) bool { return groups[i].Name < groups[j].Name })
	var gv []attr.Value
	for _, g := range groups {
		disks := make([]attr.Value, len(g.Disks))
		for i, dk := range g.Disks {
			disks[i] = types.StringValue(dk)
		}
		gv = append(gv, types.ObjectValueMust(gdsGroupType.AttrTypes, map[string]attr.Value{
			"name": types.StringValue(g.Name), "type": optString(g.Type), "disks": types.ListValueMust(types.StringType, disks),
			"blocks": types.Int64Value(g.Blocks), "master": optString(g.Master),
		}))
	}
	vols := append([]gds.VolumeRow(nil), info.Volumes...)
	sort.Slice(vols, func(i, j int) bool { return vols[i].Name < vols[j].Name })
	var vv []attr.Value
	proxyNames := map[string]bool{}
	for _, v := range vols {
		var sv []attr.Value
		for _, s := range info.VolumeSlices(class, v.Name) {
			sv = append(sv, types.ObjectValueMust(gdsSliceType.AttrTypes, map[string]attr.Value{
				"disk": types.StringValue(s.Disk), "status": types.StringValue(s.Status), "copy": optString(s.Copy),
			}))
		}
		state := ""
		if v.Master != "" {
			st, err := gds.StatusOf(info, class, v.Name)
			if err == nil {
				state = string(st.State)
			}
			// a proxy volume of a proxy group is listed with its group
			if g, ok := info.Group(class, v.Group); ok && g.Master != "" {
				proxyNames[v.Group] = true
			} else {
				proxyNames[v.Name] = true
			}
		}
		vv = append(vv, types.ObjectValueMust(gdsVolumeType.AttrTypes, map[string]attr.Value{
			"name": types.StringValue(v.Name), "group": optString(v.Group), "type": optString(v.Type),
			"status": optString(v.Status), "blocks": types.Int64Value(v.Blocks), "size_mb": types.Int64Value(v.Blocks / 2048),
			"master": optString(v.Master), "proxy_state": optString(state),
			"device": types.StringValue(gds.Device(class, v.Name)), "raw_device": types.StringValue(gds.RawDevice(class, v.Name)),
			"slices": types.ListValueMust(gdsSliceType, sv),
		}))
	}
	names := make([]string, 0, len(proxyNames))
	for n := range proxyNames {
		names = append(names, n)
	}
	sort.Strings(names)
	var pv []attr.Value
	for _, n := range names {
		st, err := gds.StatusOf(info, class, n)
		if err != nil {
			resp.Diagnostics.AddError("Unexpected sdxinfo output", err.Error())
			return
		}
		if st.State == gds.StateNone {
			continue
		}
		kind := "volume"
		vm := types.MapNull(types.StringType)
		if st.Group {
			kind = "group"
			vm = stringMapValue(st.VolumeMap)
		}
		pv = append(pv, types.ObjectValueMust(gdsProxyType.AttrTypes, map[string]attr.Value{
			"master": types.StringValue(st.Master), "proxy": types.StringValue(n), "kind": types.StringValue(kind),
			"state": types.StringValue(string(st.State)), "copy_status": optString(st.CopyStatus), "volume_map": vm,
		}))
	}
	m.Groups = types.ListValueMust(gdsGroupType, gv)
	m.Volumes = types.ListValueMust(gdsVolumeType, vv)
	m.Proxies = types.ListValueMust(gdsProxyType, pv)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
