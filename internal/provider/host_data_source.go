package provider

import (
	"bufio"
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

var (
	_ datasource.DataSource              = (*hostDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*hostDataSource)(nil)
)

func init() { registerDataSource(NewHostDataSource) }

// NewHostDataSource returns the backupctl_host data source.
func NewHostDataSource() datasource.DataSource { return &hostDataSource{} }

type hostDataSource struct{ data *providerData }

type hostDataModel struct {
	ID       types.String `tfsdk:"id"`
	Host     types.String `tfsdk:"host"`
	Hostname types.String `tfsdk:"hostname"`
	OS       types.String `tfsdk:"os"`
	Kernel   types.String `tfsdk:"kernel"`
	User     types.String `tfsdk:"user"`
	Tools    types.Map    `tfsdk:"tools"`
}

// hostTools are the programs backupctl's resources drive.
var hostTools = []string{"sdxinfo", "sdxproxy", "sdxvolume", "tar", "pg_dump", "mysqldump", "mariadb-dump", "zstd", "sha256sum"}

// hostProbe is a fixed script: no user input is ever part of it.
const hostProbe = `uname -n; uname -s; uname -r; id -un
if [ -r /etc/os-release ]; then . /etc/os-release; echo "${PRETTY_NAME:-$NAME}"; else echo; fi
for t in "$@"; do if command -v "$t" >/dev/null 2>&1; then echo "tool $t yes"; else echo "tool $t no"; fi; done`

func (d *hostDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_host"
}

func (d *hostDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Facts about a configured host: name, operating system, and which of the tools backupctl drives are installed. Useful to check a host before pointing resources at it.",
		Attributes: map[string]schema.Attribute{
			"id":       schema.StringAttribute{Computed: true, Description: "The host name, as configured."},
			"host":     schema.StringAttribute{Optional: true, Description: "Configured host name (a key of the provider's `hosts`, or `local`). Default `local`."},
			"hostname": schema.StringAttribute{Computed: true, Description: "The host's own node name (`uname -n`)."},
			"os":       schema.StringAttribute{Computed: true, Description: "Operating system: `uname -s` and, where present, `/etc/os-release`'s PRETTY_NAME."},
			"kernel":   schema.StringAttribute{Computed: true, Description: "Kernel release (`uname -r`)."},
			"user":     schema.StringAttribute{Computed: true, Description: "The user commands effectively run as (after sudo)."},
			"tools": schema.MapAttribute{Computed: true, ElementType: types.BoolType,
				Description: "Which tools are on the PATH: " + strings.Join(hostTools, ", ") + "."},
		},
	}
}

func (d *hostDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *hostDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m hostDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	host, ok := d.data.DataSourceHost(m.Host, &resp.Diagnostics)
	if !ok {
		return
	}
	ctx = d.data.LogContext(ctx)
	t := d.data.HostTransport(path.Root("host"), host, &resp.Diagnostics)
	if t == nil {
		return
	}
	argv := append([]string{"/bin/sh", "-c", hostProbe, "backupctl-probe"}, hostTools...)
	res, err := transport.RunOK(ctx, t, transport.Command{Argv: argv})
	if err != nil {
		attrError(&resp.Diagnostics, path.Root("host"), fmt.Sprintf("Cannot probe host %q", host), err.Error())
		return
	}
	facts, err := parseHostProbe(string(res.Stdout))
	if err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("Unexpected answer from host %q", host), err.Error())
		return
	}
	tools := map[string]attr.Value{}
	for k, v := range facts.tools {
		tools[k] = types.BoolValue(v)
	}
	m.ID = types.StringValue(host)
	m.Host = types.StringValue(host)
	m.Hostname = types.StringValue(facts.hostname)
	m.Kernel = types.StringValue(facts.kernel)
	m.User = types.StringValue(facts.user)
	osName := facts.kernelName
	if facts.pretty != "" {
		osName += " (" + facts.pretty + ")"
	}
	m.OS = types.StringValue(osName)
	tm, diags := types.MapValue(types.BoolType, tools)
	resp.Diagnostics.Append(diags...)
	m.Tools = tm
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

type hostFacts struct {
	hostname, kernelName, kernel, user, pretty string
	tools                                      map[string]bool
}

func parseHostProbe(out string) (hostFacts, error) {
	var f hostFacts
	f.tools = map[string]bool{}
	var head []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "tool "); ok && len(head) >= 5 {
			name, yes, _ := strings.Cut(rest, " ")
			f.tools[name] = yes == "yes"
			continue
		}
		head = append(head, line)
	}
	if len(head) < 5 {
		return f, fmt.Errorf("probe printed %d header lines, want 5: %q", len(head), out)
	}
	f.hostname, f.kernelName, f.kernel, f.user, f.pretty = head[0], head[1], head[2], head[3], strings.TrimSpace(head[4])
	for _, t := range hostTools {
		if _, ok := f.tools[t]; !ok {
			return f, fmt.Errorf("probe did not report tool %q", t)
		}
	}
	return f, nil
}
