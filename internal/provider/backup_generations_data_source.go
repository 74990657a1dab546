package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/backupctl/terraform-provider-backupctl/internal/archive"
	"github.com/backupctl/terraform-provider-backupctl/internal/backup"
)

var (
	_ datasource.DataSource              = (*backupGenerationsDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*backupGenerationsDataSource)(nil)
)

func init() { registerDataSource(NewBackupGenerationsDataSource) }

// NewBackupGenerationsDataSource returns the backupctl_backup_generations data source.
func NewBackupGenerationsDataSource() datasource.DataSource { return &backupGenerationsDataSource{} }

type backupGenerationsDataSource struct{ data *providerData }

type backupGenerationsModel struct {
	ID          types.String `tfsdk:"id"`
	Host        types.String `tfsdk:"host"`
	Path        types.String `tfsdk:"path"`
	Verify      types.String `tfsdk:"verify"`
	Generations types.List   `tfsdk:"generations"`
	Problems    types.List   `tfsdk:"problems"`
}

func (d *backupGenerationsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_backup_generations"
}

func (d *backupGenerationsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "The complete archives (generations) found in a backup destination directory, newest first: those of a " +
			"`backupctl_backup_policy`, or any directory of backupctl archives. An archive counts once its manifest is written; " +
			"half-written `.partial` files never do.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, Description: "`<host>:<path>`."},
			"host": schema.StringAttribute{Optional: true,
				Description: "Configured host holding the archives (a key of the provider's `hosts`, or `local`). Default `local`."},
			"path": schema.StringAttribute{Required: true, Description: "Absolute destination directory.",
				Validators: []validator.String{stringvalidator.RegexMatches(regexp.MustCompile(`^/`), "must be an absolute path")}},
			"verify": schema.StringAttribute{Optional: true,
				Description: "Check each archive against its manifest: `size` (default), `checksum` or `none`. Archives failing it are listed in `problems`, not in `generations`.",
				Validators:  []validator.String{stringvalidator.OneOf(string(archive.VerifySize), string(archive.VerifyChecksum), string(archive.VerifyNone))}},
			"generations": schema.ListNestedAttribute{Computed: true,
				Description: "Complete archives that pass the check, newest first.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"id":      schema.StringAttribute{Computed: true, Description: "Generation id: the file name without `.tar.gz`/`.tar.zst`."},
					"file":    schema.StringAttribute{Computed: true, Description: "Absolute path of the archive."},
					"bytes":   schema.Int64Attribute{Computed: true, Description: "Size of the archive file."},
					"sha256":  schema.StringAttribute{Computed: true, Description: "SHA-256 of the archive file (hex), from its manifest."},
					"files":   schema.Int64Attribute{Computed: true, Description: "Number of archive members."},
					"created": schema.StringAttribute{Computed: true, Description: "When the source started being read (RFC 3339, UTC)."},
					"labels":  schema.MapAttribute{Computed: true, ElementType: types.StringType, Description: "Labels stored with the generation (empty for archives without a labels file)."},
				}}},
			"problems": schema.ListAttribute{Computed: true, ElementType: types.StringType,
				Description: "Archives that failed the check: `<file>: <reason>`."},
		},
	}
}

func (d *backupGenerationsDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *backupGenerationsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m backupGenerationsModel
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
	mode := archive.VerifyMode(m.Verify.ValueString())
	if mode == "" {
		mode = archive.VerifySize
	}
	dir := m.Path.ValueString()
	gens, probs, err := backup.Generations(ctx, t, dir, mode)
	if err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("Cannot list the archives in %s on %s", dir, host), err.Error())
		return
	}
	var ps []string
	for _, p := range probs {
		ps = append(ps, fmt.Sprintf("%s: %v", p.File, strings.TrimSpace(fmt.Sprint(p.Err))))
	}
	m.ID = types.StringValue(destID(host, dir))
	m.Host = types.StringValue(host)
	m.Generations = generationsValue(gens)
	m.Problems = stringsValue(ps)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
