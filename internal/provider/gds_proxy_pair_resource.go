package provider

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/backupctl/terraform-provider-backupctl/internal/gds"
	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

var (
	_ resource.Resource                   = (*gdsProxyPairResource)(nil)
	_ resource.ResourceWithConfigure      = (*gdsProxyPairResource)(nil)
	_ resource.ResourceWithImportState    = (*gdsProxyPairResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*gdsProxyPairResource)(nil)
	_ resource.ResourceWithValidateConfig = (*gdsProxyPairResource)(nil)
)

func init() { registerResource(NewGDSProxyPairResource) }

// NewGDSProxyPairResource returns the backupctl_gds_proxy_pair resource.
func NewGDSProxyPairResource() resource.Resource { return &gdsProxyPairResource{} }

// Default timeouts: an equivalency copy of a large volume takes hours.
const (
	gdsCreateTimeout = 12 * time.Hour
	gdsUpdateTimeout = 12 * time.Hour
	gdsDeleteTimeout = 2 * time.Hour
)

type gdsProxyPairResource struct{ data *providerData }

type gdsProxyPairModel struct {
	ID              types.String   `tfsdk:"id"`
	Host            types.String   `tfsdk:"host"`
	Class           types.String   `tfsdk:"class"`
	Master          types.String   `tfsdk:"master"`
	Proxy           types.String   `tfsdk:"proxy"`
	VolumeMap       types.Map      `tfsdk:"volume_map"`
	AllNodes        types.Bool     `tfsdk:"all_nodes"`
	State           types.String   `tfsdk:"state"`
	SnapshotTrigger types.String   `tfsdk:"snapshot_trigger"`
	Quiesce         types.Object   `tfsdk:"quiesce"`
	Instant         types.Bool     `tfsdk:"instant"`
	CopyStatus      types.String   `tfsdk:"copy_status"`
	PartedAt        types.String   `tfsdk:"parted_at"`
	MasterDevice    types.String   `tfsdk:"master_device"`
	ProxyDevice     types.String   `tfsdk:"proxy_device"`
	Timeouts        timeouts.Value `tfsdk:"timeouts"`
}

var quiesceAttrTypes = map[string]attr.Type{
	"before": types.ListType{ElemType: types.StringType},
	"after":  types.ListType{ElemType: types.StringType},
}

func (r *gdsProxyPairResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_gds_proxy_pair"
}

// gdsName validates a GDS object name (class, group, volume).
type gdsName struct{}

var _ validator.String = gdsName{}

func (gdsName) Description(context.Context) string {
	return "a GDS object name: 1 to 32 letters, digits, '-' or '_', starting with a letter or digit"
}
func (v gdsName) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }
func (gdsName) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := gds.CheckName(req.ConfigValue.ValueString()); err != nil {
		attrError(&resp.Diagnostics, req.Path, "Invalid GDS object name", err.Error())
	}
}

func (r *gdsProxyPairResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{
		Description: "A PRIMECLUSTER GDS Snapshot master/proxy pair (seed 003): the proxy volume (or group) joined to its master " +
			"and kept synchronized, or parted from it as a snapshot. Creating it stops the proxy, joins it, waits until every " +
			"proxy slice shows STOP and, with `state = \"parted\"`, parts it between the `quiesce` commands. " +
			"Changing `snapshot_trigger` while parted takes a fresh snapshot (stop, Rejoin, wait, Part). Destroying it breaks the relation.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true,
				Description:   "`host/class/proxy`, the import ID.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"host": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString(transport.LocalHost),
				Description:   "Configured host (a key of the provider's `hosts`, or `local`) where the sdx commands run: any node of the class scope.",
				PlanModifiers: replace},
			"class": schema.StringAttribute{Required: true, Validators: []validator.String{gdsName{}},
				Description: "Disk class holding master and proxy.", PlanModifiers: replace},
			"master": schema.StringAttribute{Required: true, Validators: []validator.String{gdsName{}},
				Description: "Master volume, or master group for a group pair.", PlanModifiers: replace},
			"proxy": schema.StringAttribute{Required: true, Validators: []validator.String{gdsName{}},
				Description: "Proxy volume, or proxy group for a group pair (the proxy group must hold no volumes before the Join).", PlanModifiers: replace},
			"volume_map": schema.MapAttribute{Optional: true, ElementType: types.StringType,
				Description: "Group pairs only: master volume name to proxy volume name (`sdxproxy Join -a mvol=pvol:on,...`). " +
					"Every volume of the master group must be mapped; the proxy volumes are created by the Join.",
				Validators: []validator.Map{
					mapvalidator.SizeAtLeast(1),
					mapvalidator.KeysAre(gdsName{}),
					mapvalidator.ValueStringsAre(gdsName{}),
				},
				PlanModifiers: []planmodifier.Map{mapplanmodifier.RequiresReplace()}},
			"all_nodes": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				Description: "Shared class: stop the proxy volume on every node (`sdxvolume -F -e allnodes`) before Join and Rejoin. Default false."},
			"state": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString(string(gds.StateJoined)),
				Description: "`joined` (synchronized with the master) or `parted` (the proxy holds a snapshot). Default `joined`. " +
					"Read reports `mixed` when the volumes of a group pair are not all in one state.",
				Validators: []validator.String{stringvalidator.OneOf(string(gds.StateJoined), string(gds.StateParted))}},
			"snapshot_trigger": schema.StringAttribute{Optional: true,
				Description: "Any string. Changing it from one value to another while `state = \"parted\"` takes a fresh snapshot: " +
					"stop the proxy, Rejoin, wait for the copy, quiesce, Part. Setting it where it was unset only records it."},
			"quiesce": schema.SingleNestedAttribute{Optional: true,
				Description: "Commands run with `/bin/sh -c` on `host` around Part, for a consistent snapshot (seed 003 steps 3 and 5): " +
					"stop the service or unmount before, start or mount after.",
				Attributes: map[string]schema.Attribute{
					"before": schema.ListAttribute{Optional: true, ElementType: types.StringType,
						Description: "Run in order before Part; the first failure stops them and Part is not run.",
						Validators:  []validator.List{listvalidator.ValueStringsAre(stringvalidator.LengthAtLeast(1))}},
					"after": schema.ListAttribute{Optional: true, ElementType: types.StringType,
						Description: "Run in order after Part, always and all of them, even when `before` or Part failed.",
						Validators:  []validator.List{listvalidator.ValueStringsAre(stringvalidator.LengthAtLeast(1))}},
				}},
			"instant": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				Description: "Part with `-e instant`. Default false."},
			"copy_status": schema.StringAttribute{Computed: true,
				Description: "Slice STATUS of the proxy volumes as sdxinfo shows it: `COPY` while copying, `STOP` when a joined pair is synchronized, " +
					"`ACTIVE` for a started parted proxy, `INVALID` when a copy failed."},
			"parted_at": schema.StringAttribute{Computed: true,
				Description: "When this resource last parted the pair (RFC 3339); null while joined or when parted outside Terraform."},
			"master_device": schema.StringAttribute{Computed: true,
				Description: "Block device of the master volume, `/dev/sfdsk/<class>/dsk/<master>` (null for group pairs)."},
			"proxy_device": schema.StringAttribute{Computed: true,
				Description: "Block device of the proxy volume holding the snapshot, `/dev/sfdsk/<class>/dsk/<proxy>` (null for group pairs)."},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true,
				CreateDescription: "Default 12h: Join and the full copy (and Part).",
				UpdateDescription: "Default 12h: Rejoin, copy, Part.",
				DeleteDescription: "Default 2h: waits for a running copy, then Break."}),
		},
	}
}

func (r *gdsProxyPairResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig catches what the names alone tell: volume_map on a volume
// pair (a key equal to the master, or a value equal to the proxy, means
// both are volumes: GDS names are unique in a class), master = proxy, and
// one proxy volume named twice.
func (r *gdsProxyPairResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m gdsProxyPairModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	known := func(s types.String) bool { return !s.IsNull() && !s.IsUnknown() }
	if known(m.Master) && known(m.Proxy) && m.Master.ValueString() == m.Proxy.ValueString() {
		attrError(&resp.Diagnostics, path.Root("proxy"), "Proxy equals master",
			fmt.Sprintf("master and proxy are both %q: a proxy must be another volume (or group) of the class", m.Proxy.ValueString()))
	}
	if m.VolumeMap.IsNull() || m.VolumeMap.IsUnknown() {
		return
	}
	vm := map[string]types.String{}
	resp.Diagnostics.Append(m.VolumeMap.ElementsAs(ctx, &vm, false)...)
	seen := map[string]string{}
	keys := make([]string, 0, len(vm))
	for k := range vm {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := vm[k]
		if known(m.Master) && k == m.Master.ValueString() || known(m.Proxy) && v.ValueString() == m.Proxy.ValueString() {
			attrError(&resp.Diagnostics, path.Root("volume_map"), "volume_map on a volume pair",
				fmt.Sprintf("volume_map maps the volumes of a master group to the proxy volumes the Join creates in the proxy group; "+
					"%q = %q names master and proxy themselves, so this is a volume pair: remove volume_map "+
					"(or set master and proxy to the group names)", k, v.ValueString()))
			return
		}
		if v.IsUnknown() {
			continue
		}
		if other, dup := seen[v.ValueString()]; dup {
			attrError(&resp.Diagnostics, path.Root("volume_map").AtMapKey(k), "Proxy volume named twice",
				fmt.Sprintf("%q is the proxy of both %q and %q", v.ValueString(), other, k))
		}
		seen[v.ValueString()] = k
	}
}

// gdsClient returns a gds client for host (the root attribute "host")
// with the provider-wide snapshot cache (one sdxinfo per host+class per
// terraform run); nil, with an error naming the attribute, when the host
// cannot be had.
func (d *providerData) gdsClient(ctx context.Context, host string, diags *diag.Diagnostics) *gds.Client {
	t := d.HostTransport(path.Root("host"), host, diags)
	if t == nil {
		return nil
	}
	c := gds.New(t)
	c.Cache = d.Shared("gds.snapshot-cache", func() any { return gds.NewCache(0) }).(*gds.Cache)
	c.Logf = func(format string, args ...any) {
		tflog.SubsystemDebug(ctx, logTransport, fmt.Sprintf(format, args...))
	}
	return c
}

func (m *gdsProxyPairModel) volumeMap(ctx context.Context, diags *diag.Diagnostics) map[string]string {
	if m.VolumeMap.IsNull() || m.VolumeMap.IsUnknown() {
		return nil
	}
	out := map[string]string{}
	diags.Append(m.VolumeMap.ElementsAs(ctx, &out, false)...)
	return out
}

func (m *gdsProxyPairModel) pair(ctx context.Context, diags *diag.Diagnostics) gds.Pair {
	return gds.Pair{Class: m.Class.ValueString(), Master: m.Master.ValueString(), Proxy: m.Proxy.ValueString(),
		VolumeMap: m.volumeMap(ctx, diags)}
}

func (m *gdsProxyPairModel) quiesce(ctx context.Context, diags *diag.Diagnostics) (before, after []string) {
	if m.Quiesce.IsNull() || m.Quiesce.IsUnknown() {
		return nil, nil
	}
	attrs := m.Quiesce.Attributes()
	get := func(name string) []string {
		l, ok := attrs[name].(types.List)
		if !ok || l.IsNull() || l.IsUnknown() {
			return nil
		}
		var out []string
		diags.Append(l.ElementsAs(ctx, &out, false)...)
		return out
	}
	return get("before"), get("after")
}

func (m *gdsProxyPairModel) desired(ctx context.Context, diags *diag.Diagnostics, fresh bool) gds.Desired {
	return gds.Desired{Pair: m.pair(ctx, diags), AllNodes: m.AllNodes.ValueBool(), Instant: m.Instant.ValueBool(),
		State: gds.State(m.State.ValueString()), Fresh: fresh}
}

// rotation reports whether the plan asks for a fresh snapshot: the
// trigger changed from one value to another and the pair is to be parted.
func rotation(prior, plan *gdsProxyPairModel) bool {
	if prior == nil || plan.State.ValueString() != string(gds.StateParted) {
		return false
	}
	if prior.SnapshotTrigger.IsNull() || plan.SnapshotTrigger.IsNull() {
		return false
	}
	return plan.SnapshotTrigger.IsUnknown() || !prior.SnapshotTrigger.Equal(plan.SnapshotTrigger)
}

// devices are known from the configuration alone for a volume pair.
func (m *gdsProxyPairModel) setDevices() {
	m.MasterDevice, m.ProxyDevice = types.StringNull(), types.StringNull()
	if m.Class.IsUnknown() || m.Master.IsUnknown() || m.Proxy.IsUnknown() || m.VolumeMap.IsUnknown() {
		m.MasterDevice, m.ProxyDevice = types.StringUnknown(), types.StringUnknown()
		return
	}
	if !m.VolumeMap.IsNull() {
		return
	}
	m.MasterDevice = types.StringValue(gds.Device(m.Class.ValueString(), m.Master.ValueString()))
	m.ProxyDevice = types.StringValue(gds.Device(m.Class.ValueString(), m.Proxy.ValueString()))
}

func pairID(host, class, proxy string) string { return host + "/" + class + "/" + proxy }

// ModifyPlan refuses an unknown host before anything runs, fills what the
// configuration determines (id, devices) and makes the transition visible:
// copy_status and parted_at become unknown when the pair will move, and a
// warning says what will run.
func (r *gdsProxyPairResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	if !req.State.Raw.IsNull() && req.Plan.Raw.Equal(req.State.Raw) {
		return // nothing changes
	}
	var plan gdsProxyPairModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var prior *gdsProxyPairModel
	if !req.State.Raw.IsNull() {
		prior = &gdsProxyPairModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, prior)...)
		if resp.Diagnostics.HasError() {
			return
		}
	}
	if r.data != nil && !plan.Host.IsUnknown() {
		if !r.data.CheckHost(path.Root("host"), plan.Host.ValueString(), &resp.Diagnostics) {
			return
		}
	}
	if !plan.Host.IsUnknown() && !plan.Class.IsUnknown() && !plan.Proxy.IsUnknown() {
		plan.ID = types.StringValue(pairID(plan.Host.ValueString(), plan.Class.ValueString(), plan.Proxy.ValueString()))
	}
	plan.setDevices()
	id := plan.ID.ValueString()
	switch {
	case plan.State.IsUnknown():
		plan.CopyStatus, plan.PartedAt = types.StringUnknown(), types.StringUnknown()
	case prior == nil:
		plan.CopyStatus = types.StringUnknown()
		plan.PartedAt = types.StringNull()
		if plan.State.ValueString() == string(gds.StateParted) {
			plan.PartedAt = types.StringUnknown()
		}
	default:
		from, to := prior.State.ValueString(), plan.State.ValueString()
		rot := rotation(prior, &plan)
		switch {
		case rot:
			plan.CopyStatus, plan.PartedAt = types.StringUnknown(), types.StringUnknown()
			resp.Diagnostics.AddWarning("GDS proxy pair: fresh snapshot planned",
				fmt.Sprintf("%s: snapshot_trigger changed while parted: the proxy will be stopped, rejoined to %s (copy of the blocks changed since the last Part), "+
					"then parted again between the quiesce commands.", id, plan.Master.ValueString()))
		case from != to:
			plan.CopyStatus = types.StringUnknown()
			plan.PartedAt = types.StringNull()
			what := ""
			switch to {
			case string(gds.StateParted):
				plan.PartedAt = types.StringUnknown()
				what = "wait for the copy, run quiesce.before, Part, run quiesce.after"
			default:
				what = "stop the proxy, Rejoin, wait until every slice is STOP"
			}
			resp.Diagnostics.AddWarning("GDS proxy pair: state transition planned",
				fmt.Sprintf("%s: %s -> %s: %s.", id, from, to, what))
		default:
			// only settings change; the copy may still finish meanwhile
			plan.CopyStatus, plan.PartedAt = types.StringUnknown(), prior.PartedAt
		}
	}
	if prior == nil {
		r.checkJoin(ctx, &plan, &resp.Diagnostics)
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// checkJoin refuses at plan time a new pair that GDS would refuse to Join
// (the manuals' preconditions, as sdxinfo shows them: see gds.CheckJoin),
// from the run's shared sdxinfo of the class. A host that cannot be read
// now is only a warning: the apply checks again before any command.
func (r *gdsProxyPairResource) checkJoin(ctx context.Context, plan *gdsProxyPairModel, diags *diag.Diagnostics) {
	if r.data == nil || diags.HasError() || plan.Host.IsUnknown() || plan.Class.IsUnknown() || plan.Master.IsUnknown() ||
		plan.Proxy.IsUnknown() || plan.VolumeMap.IsUnknown() {
		return
	}
	var d diag.Diagnostics
	c := r.data.gdsClient(r.data.LogContext(ctx), plan.Host.ValueString(), &d)
	p := plan.pair(ctx, &d)
	if c == nil || d.HasError() {
		return
	}
	refusal, err := c.JoinRefusal(ctx, p)
	switch {
	case err != nil:
		diags.AddWarning("GDS proxy pair: Join preconditions not checked",
			fmt.Sprintf("%s: sdxinfo could not be read at plan time (%v); the apply checks them again before any command runs.", plan.ID.ValueString(), err))
	case refusal != nil:
		at := path.Root("proxy")
		var ge *gds.Error
		if errors.As(refusal, &ge) {
			switch ge.Object {
			case p.Master:
				at = path.Root("master")
			case p.Class:
				at = path.Root("class")
			}
		}
		attrError(diags, at, "GDS proxy pair "+plan.ID.ValueString()+": GDS would refuse the Join", refusal.Error()+"\n\nNo change was made on the host.")
	}
}

func (r *gdsProxyPairResource) hooks(ctx context.Context, t transport.Transport, m *gdsProxyPairModel, diags *diag.Diagnostics) gds.Hooks {
	before, after := m.quiesce(ctx, diags)
	return gds.ShellHooks(t, before, after)
}

// apply converges the pair and fills the computed attributes of m.
func (r *gdsProxyPairResource) apply(ctx context.Context, m *gdsProxyPairModel, fresh bool, prior *gdsProxyPairModel, diags *diag.Diagnostics) bool {
	ctx = r.data.LogContext(ctx)
	host := m.Host.ValueString()
	c := r.data.gdsClient(ctx, host, diags)
	if c == nil {
		return false
	}
	d := m.desired(ctx, diags, fresh)
	h := r.hooks(ctx, c.T, m, diags)
	if diags.HasError() {
		return false
	}
	out, err := c.Ensure(ctx, d, h)
	if out != nil && !out.PartedAt.IsZero() {
		m.PartedAt = types.StringValue(out.PartedAt.UTC().Format(time.RFC3339))
	} else if prior != nil && !prior.PartedAt.IsNull() && !prior.PartedAt.IsUnknown() && m.State.ValueString() == string(gds.StateParted) {
		m.PartedAt = prior.PartedAt
	} else {
		m.PartedAt = types.StringNull()
	}
	if out != nil && out.Status != nil {
		m.fromStatus(out.Status)
	}
	if err != nil {
		addGDSError(diags, err, pairID(host, d.Class, d.Proxy))
		// The pair was parted even though something around it failed:
		// the snapshot exists, so the state must say so.
		return out != nil && !out.PartedAt.IsZero()
	}
	return true
}

// fromStatus copies what sdxinfo says into m.
func (m *gdsProxyPairModel) fromStatus(st *gds.Status) {
	m.State = types.StringValue(string(st.State))
	if st.State == gds.StateNone {
		return
	}
	m.Master = types.StringValue(st.Master)
	m.CopyStatus = types.StringValue(st.CopyStatus)
	if st.Group {
		m.VolumeMap = stringMapValue(st.VolumeMap)
		m.MasterDevice, m.ProxyDevice = types.StringNull(), types.StringNull()
	} else {
		m.VolumeMap = types.MapNull(types.StringType)
		m.MasterDevice, m.ProxyDevice = types.StringValue(st.MasterDevice), types.StringValue(st.ProxyDevice)
	}
	if st.State != gds.StateParted {
		m.PartedAt = types.StringNull()
	}
}

// addGDSError reports err with what it means for the user.
func addGDSError(diags *diag.Diagnostics, err error, id string) {
	hint := ""
	switch {
	case errors.Is(err, gds.ErrJoined):
		hint = "\n\nThe pair is joined; this needs it parted."
	case errors.Is(err, gds.ErrActive):
		hint = "\n\nA volume is in use or started on some node. For a shared class set all_nodes = true, and unmount the proxy before a Rejoin."
	case errors.Is(err, gds.ErrRelated):
		hint = "\n\nThe proxy belongs to another relation; break it (sdxproxy Break) or point this resource at it."
	case errors.Is(err, gds.ErrNotInstalled):
		hint = "\n\nGDS Snapshot (sdxproxy, sdxinfo, sdxvolume) must be installed and on the PATH of the host (see the host's env)."
	case errors.Is(err, gds.ErrPermission):
		hint = "\n\nThe sdx commands need superuser: log in as root or set sudo = true on the host."
	case errors.Is(err, context.DeadlineExceeded):
		hint = "\n\nThe timeout was reached. The next apply picks up where this one stopped; raise timeouts if copies take longer."
	}
	if strings.Contains(err.Error(), "volume_map applies to group pairs only") || strings.Contains(err.Error(), "a group pair needs volume_map") {
		attrError(diags, path.Root("volume_map"), "GDS proxy pair "+id, err.Error())
		return
	}
	diags.AddError("GDS proxy pair "+id, err.Error()+hint)
}

func (r *gdsProxyPairResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m gdsProxyPairModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := m.Timeouts.Create(ctx, gdsCreateTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	m.ID = types.StringValue(pairID(m.Host.ValueString(), m.Class.ValueString(), m.Proxy.ValueString()))
	// A new resource always gets a snapshot of now, also when it adopts a
	// pair already parted (for example by an earlier failed create).
	if !r.apply(ctx, &m, true, nil, &resp.Diagnostics) {
		// Nothing is saved: the next apply reads the pair and converges.
		return
	}
	if resp.Diagnostics.HasError() {
		// Parted, but something around the Part failed (quiesce.after):
		// the pair exists and holds this snapshot, so it goes in state,
		// and Terraform marks it tainted, as for any create that failed
		// half way.
		resp.Diagnostics.AddError("GDS proxy pair "+m.ID.ValueString()+" was parted",
			"The snapshot was taken (the pair is parted) before the error above, so the pair is recorded in state. Terraform marks it tainted: "+
				"the next apply breaks it and joins and parts it again (a full copy and a fresh snapshot). "+
				"To keep this snapshot instead, run terraform untaint on this resource once the error is dealt with.")
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *gdsProxyPairResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m, prior gdsProxyPairModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := m.Timeouts.Update(ctx, gdsUpdateTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if r.apply(ctx, &m, rotation(&prior, &m), &prior, &resp.Diagnostics) {
		resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
	}
}

func (r *gdsProxyPairResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m gdsProxyPairModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := m.Timeouts.Delete(ctx, gdsDeleteTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(r.data.LogContext(ctx), timeout)
	defer cancel()
	c := r.data.gdsClient(ctx, m.Host.ValueString(), &resp.Diagnostics)
	if c == nil {
		return
	}
	if err := c.Dissolve(ctx, m.Class.ValueString(), m.Proxy.ValueString()); err != nil && !errors.Is(err, gds.ErrNotFound) {
		addGDSError(&resp.Diagnostics, err, m.ID.ValueString())
	}
}

func (r *gdsProxyPairResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m gdsProxyPairModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	was := m
	gone := r.refresh(ctx, r.data, &m, &resp.Diagnostics)
	switch {
	case resp.Diagnostics.HasError():
	case gone:
		resp.State.RemoveResource(ctx)
	case !m.sameAs(&was):
		resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
	}
	// otherwise resp.State already holds the prior state
}

// refresh reads the pair from the shared sdxinfo snapshot of its class
// into m. gone: the pair (or its class) no longer exists. It uses only
// the attributes gdsModelFromState decodes.
func (r *gdsProxyPairResource) refresh(ctx context.Context, d *providerData, m *gdsProxyPairModel, diags *diag.Diagnostics) (gone bool) {
	if d == nil {
		diags.AddError("Provider not configured", "backupctl_gds_proxy_pair was read before the provider was configured: it needs the provider's hosts.")
		return false
	}
	ctx = d.LogContext(ctx)
	host := m.Host.ValueString()
	c := d.gdsClient(ctx, host, diags)
	if c == nil {
		return false
	}
	st, err := c.CachedStatus(ctx, m.Class.ValueString(), m.Proxy.ValueString())
	if errors.Is(err, gds.ErrNotFound) {
		tflog.Info(ctx, "GDS class no longer exists: removing the pair from state", map[string]any{"id": m.ID.ValueString()})
		return true
	}
	if err != nil {
		addGDSError(diags, err, m.ID.ValueString())
		return false
	}
	if !st.Exists || st.State == gds.StateNone {
		tflog.Info(ctx, "GDS proxy pair no longer related: removing it from state", map[string]any{"id": m.ID.ValueString()})
		return true
	}
	m.fromStatus(st)
	if m.ID.IsNull() || m.ID.ValueString() == "" {
		m.ID = types.StringValue(pairID(host, m.Class.ValueString(), m.Proxy.ValueString()))
	}
	return false
}

var (
	_ fastReader    = (*gdsProxyPairResource)(nil)
	_ fastValidator = (*gdsProxyPairResource)(nil)
	_ fastPlanner   = (*gdsProxyPairResource)(nil)
)

// fastRead (server.go) refreshes straight from the decoded state; a pair
// that changed or went away is left to Read.
func (r *gdsProxyPairResource) fastRead(ctx context.Context, d *providerData, state tftypes.Value) (bool, diag.Diagnostics, bool) {
	m, ok := gdsModelFromState(state)
	if !ok {
		return false, nil, false
	}
	var diags diag.Diagnostics
	was := m
	if gone := r.refresh(ctx, d, &m, &diags); gone {
		return false, diags, false
	}
	return m.sameAs(&was), diags, true
}

// gdsModelFromState decodes the attributes refresh and sameAs use.
func gdsModelFromState(v tftypes.Value) (gdsProxyPairModel, bool) {
	var m gdsProxyPairModel
	var obj map[string]tftypes.Value
	if v.As(&obj) != nil {
		return m, false
	}
	ok := true
	str := func(name string) types.String {
		s, good := tfString(obj[name])
		ok = ok && good
		return s
	}
	m.ID, m.Host, m.Class, m.Master, m.Proxy = str("id"), str("host"), str("class"), str("master"), str("proxy")
	m.State, m.CopyStatus, m.PartedAt = str("state"), str("copy_status"), str("parted_at")
	m.MasterDevice, m.ProxyDevice = str("master_device"), str("proxy_device")
	vm, good := tfStringMap(obj["volume_map"])
	m.VolumeMap = vm
	return m, ok && good
}

// fastAccept (server.go) accepts what every validator of the schema and
// ValidateConfig would pass without a word: class, master and proxy set
// (or unknown) to valid GDS names, a valid state, master != proxy, and no
// volume_map, quiesce or timeouts (those are left to the framework).
func (r *gdsProxyPairResource) fastAccept(config tftypes.Value) bool {
	var obj map[string]tftypes.Value
	if config.As(&obj) != nil {
		return false
	}
	names := map[string]string{}
	for name, v := range obj {
		switch name {
		case "host", "all_nodes", "instant", "snapshot_trigger":
		case "class", "master", "proxy":
			s, ok := tfString(v)
			if !ok || s.IsNull() { // required
				return false
			}
			if known(s) {
				if gds.CheckName(s.ValueString()) != nil {
					return false
				}
				names[name] = s.ValueString()
			}
		case "state":
			s, ok := tfString(v)
			if !ok || known(s) && s.ValueString() != string(gds.StateJoined) && s.ValueString() != string(gds.StateParted) {
				return false
			}
		default: // volume_map, quiesce, timeouts, and the computed attributes
			if !v.IsNull() {
				return false
			}
		}
	}
	m, p := names["master"], names["proxy"]
	return m == "" || m != p
}

func (r *gdsProxyPairResource) fastPlan() {}

// sameAs compares the attributes Read may change.
func (m *gdsProxyPairModel) sameAs(o *gdsProxyPairModel) bool {
	return m.ID.Equal(o.ID) && m.State.Equal(o.State) && m.Master.Equal(o.Master) && m.VolumeMap.Equal(o.VolumeMap) &&
		m.CopyStatus.Equal(o.CopyStatus) && m.PartedAt.Equal(o.PartedAt) &&
		m.MasterDevice.Equal(o.MasterDevice) && m.ProxyDevice.Equal(o.ProxyDevice)
}

// ImportState takes host/class/proxy; Read finds master, volume map and
// state. all_nodes and instant start at their defaults.
func (r *gdsProxyPairResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	parts := strings.Split(req.ID, "/")
	if len(parts) != 3 || parts[0] == "" {
		resp.Diagnostics.AddError("Invalid import ID",
			fmt.Sprintf("want host/class/proxy (for example gds1/Class1/Volume2), got %q", req.ID))
		return
	}
	for _, p := range parts[1:] {
		if err := gds.CheckName(p); err != nil {
			resp.Diagnostics.AddError("Invalid import ID", err.Error())
			return
		}
	}
	if r.data != nil && !r.data.CheckHost(path.Root("host"), parts[0], &resp.Diagnostics) {
		return
	}
	set := func(p string, v any) { resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(p), v)...) }
	set("id", req.ID)
	set("host", parts[0])
	set("class", parts[1])
	set("proxy", parts[2])
	set("all_nodes", false)
	set("instant", false)
	set("state", string(gds.StateJoined))
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("quiesce"), types.ObjectNull(quiesceAttrTypes))...)
}
