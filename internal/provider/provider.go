// Package provider is the Terraform glue of backupctl: schemas, plans and
// state. The work itself lives in plain packages (transport, gds, kcps,
// archive, backup...).
package provider

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

var (
	_ provider.Provider                   = (*backupctlProvider)(nil)
	_ provider.ProviderWithValidateConfig = (*backupctlProvider)(nil)
)

// Address is the provider's source address, as main serves it.
const Address = "registry.terraform.io/backupctl/backupctl"

// Environment variables that stand in for the kcps block's attributes.
const (
	envKCPSEndpoint  = "BACKUPCTL_KCPS_ENDPOINT"
	envKCPSAPIKey    = "BACKUPCTL_KCPS_API_KEY"
	envKCPSSecretKey = "BACKUPCTL_KCPS_SECRET_KEY"
	envKCPSZoneID    = "BACKUPCTL_KCPS_ZONE_ID"
)

type backupctlProvider struct {
	version string
	now     func() time.Time

	// data is the configuration of the last Configure, for the fast
	// paths of server.go (the framework keeps its own copy).
	data atomic.Pointer[providerData]
}

// configured returns the provider's configuration, nil before Configure.
func (p *backupctlProvider) configured() *providerData { return p.data.Load() }

// New returns the provider factory.
func New(version string) func() provider.Provider {
	return func() provider.Provider {
		return &backupctlProvider{version: version, now: time.Now}
	}
}

// providerModel is the provider block. hosts and kcps may be unknown
// during a plan (built from resources still to be created): see
// decodeProvider.
type providerModel struct {
	Hosts types.Map    `tfsdk:"hosts"`
	KCPS  types.Object `tfsdk:"kcps"`
}

// providerSettings is the provider block decoded. hostsUnknown: the hosts
// map itself is not known yet; kcpsUnknown: the kcps block is not (its
// attributes may be unknown one by one too: see KCPSConfig.Unknown).
type providerSettings struct {
	hosts        map[string]hostModel
	hostsUnknown bool
	kcps         *kcpsModel
	kcpsUnknown  bool
}

func decodeProvider(ctx context.Context, m providerModel) (providerSettings, diag.Diagnostics) {
	var s providerSettings
	var diags diag.Diagnostics
	switch {
	case m.Hosts.IsUnknown():
		s.hostsUnknown = true
	case !m.Hosts.IsNull():
		s.hosts = map[string]hostModel{}
		for name, v := range m.Hosts.Elements() {
			o, ok := v.(types.Object)
			if !ok {
				continue
			}
			var h hostModel
			if o.IsUnknown() {
				// the whole entry is not known yet: so is its address
				h = hostModel{Address: types.StringUnknown(), User: types.StringNull(), PrivateKey: types.StringNull(),
					Password: types.StringNull(), KnownHostsFile: types.StringNull(), HostKey: types.StringNull(),
					Sudo: types.BoolNull(), Env: types.MapNull(types.StringType), ConnectEarly: types.BoolNull()}
			} else {
				diags.Append(o.As(ctx, &h, basetypes.ObjectAsOptions{})...)
			}
			s.hosts[name] = h
		}
	}
	switch {
	case m.KCPS.IsUnknown():
		s.kcpsUnknown = true
	case !m.KCPS.IsNull():
		s.kcps = &kcpsModel{}
		diags.Append(m.KCPS.As(ctx, s.kcps, basetypes.ObjectAsOptions{})...)
	}
	return s, diags
}

type hostModel struct {
	Address        types.String `tfsdk:"address"`
	User           types.String `tfsdk:"user"`
	PrivateKey     types.String `tfsdk:"private_key"`
	Password       types.String `tfsdk:"password"`
	KnownHostsFile types.String `tfsdk:"known_hosts_file"`
	HostKey        types.String `tfsdk:"host_key"`
	Sudo           types.Bool   `tfsdk:"sudo"`
	Env            types.Map    `tfsdk:"env"`
	ConnectEarly   types.Bool   `tfsdk:"connect_early"`
}

type kcpsModel struct {
	Endpoint  types.String `tfsdk:"endpoint"`
	APIKey    types.String `tfsdk:"api_key"`
	SecretKey types.String `tfsdk:"secret_key"`
	ZoneID    types.String `tfsdk:"zone_id"`
}

func (p *backupctlProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "backupctl"
	resp.Version = p.version
}

func (p *backupctlProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "backupctl turns backup and restore runbooks (PRIMECLUSTER GDS proxy volumes, KCPS volume snapshots, SMF SDK, Groupmax and Interstage servers) into declarative state.",
		Attributes: map[string]schema.Attribute{
			"hosts": schema.MapNestedAttribute{
				Optional: true,
				Description: "Hosts where commands run, by name. The host `local` (this machine, no SSH) always exists and cannot be redefined. " +
					"Host keys are always verified, against `known_hosts_file` or a pinned `host_key`.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"address": schema.StringAttribute{Required: true,
						Description: "Host name or IP address, optionally with `:port` (default port 22). IPv6 with a port: `[2001:db8::1]:2222`."},
					"user": schema.StringAttribute{Optional: true,
						Description: "Login user. Default `root` (GDS and the application tools need superuser; use `sudo` with another user)."},
					"private_key": schema.StringAttribute{Optional: true, Sensitive: true,
						Description: "Private key (OpenSSH or PEM), e.g. `file(\"~/.ssh/id_ed25519\")`. Keys with a passphrase: load them into ssh-agent instead."},
					"password": schema.StringAttribute{Optional: true, Sensitive: true,
						Description: "Password (password and keyboard-interactive authentication)."},
					"known_hosts_file": schema.StringAttribute{Optional: true,
						Description: "known_hosts file the server's key is checked against. Default `~/.ssh/known_hosts`."},
					"host_key": schema.StringAttribute{Optional: true,
						Description: "Pinned server public key in authorized_keys format (`ssh-ed25519 AAAA...`), instead of `known_hosts_file`."},
					"sudo": schema.BoolAttribute{Optional: true,
						Description: "Run every command through non-interactive `sudo -n` (needs NOPASSWD). Default false."},
					"env": schema.MapAttribute{Optional: true, ElementType: types.StringType,
						Description: "Environment for every command on this host, applied inside the remote command line (sshd's AcceptEnv is never relied upon)."},
					"connect_early": schema.BoolAttribute{Optional: true,
						Description: "Log in as soon as the provider is configured, in the background, so that the SSH handshake overlaps Terraform's own " +
							"start-up work instead of delaying the first command. A connection no command uses within 10 seconds is closed again. " +
							"Default true; set false for a host whose logins are audited or rationed, which is then connected only when a command needs it. " +
							"Hosts that log in through the ssh-agent alone are never connected early (the agent may ask its user)."},
				}},
			},
			"kcps": schema.SingleNestedAttribute{
				Optional:    true,
				Description: "KCPS (KDDI Cloud Platform Service ver1, CloudStack 4.3 API) account.",
				Attributes: map[string]schema.Attribute{
					"endpoint": schema.StringAttribute{Optional: true,
						Description: "API endpoint, `https://<portal>/client/api`. Or `" + envKCPSEndpoint + "`."},
					"api_key": schema.StringAttribute{Optional: true,
						Description: "API key. Or `" + envKCPSAPIKey + "`."},
					"secret_key": schema.StringAttribute{Optional: true, Sensitive: true,
						Description: "Secret key used to sign requests. Or `" + envKCPSSecretKey + "`."},
					"zone_id": schema.StringAttribute{Optional: true,
						Description: "Default zone for restores. Or `" + envKCPSZoneID + "`."},
				},
			},
		},
	}
}

func (p *backupctlProvider) ValidateConfig(ctx context.Context, req provider.ValidateConfigRequest, resp *provider.ValidateConfigResponse) {
	var m providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	s, diags := decodeProvider(ctx, m)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(validateHosts(s.hosts, path.Root("hosts"))...)
	if s.kcps != nil {
		resp.Diagnostics.Append(validateKCPS(*s.kcps, path.Root("kcps"))...)
	}
}

func (p *backupctlProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var m providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	s, diags := decodeProvider(ctx, m)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	hosts := map[string]transport.HostConfig{}
	for name, h := range s.hosts {
		cfg, diags := h.toConfig(ctx, name)
		resp.Diagnostics.Append(diags...)
		hosts[name] = cfg
	}
	if resp.Diagnostics.HasError() {
		return
	}
	d := &providerData{
		Pool: transport.NewPool(hosts),
		KCPS: kcpsFromModel(s.kcps, s.kcpsUnknown),
		now:  p.now,
	}
	if s.hostsUnknown {
		d.Pool.SetHostsUnknown()
	}
	d.secrets = append(d.Pool.Secrets(), d.KCPS.SecretKey)
	tflog.Debug(ctx, "backupctl configured", map[string]any{"hosts": d.Pool.Names(), "kcps_endpoint": d.KCPS.Endpoint})
	resp.DataSourceData = d
	resp.ResourceData = d
	if old := p.data.Swap(d); old != nil {
		// Configured again: only a provider served for debugging (reattach)
		// lives through several Terraform runs. Their connections are done.
		go func() { _ = old.Pool.Close() }()
	}
	// Terraform spends a while building its graph between Configure and the
	// first resource call; the SSH handshakes (tens of milliseconds on a
	// LAN, more over a WAN) overlap it instead of stalling the first reads.
	d.Pool.Warm(warmIdle)
}

// warmIdle is how long a connection opened at Configure waits for a first
// command before it is closed (a host this run does not use).
const warmIdle = 10 * time.Second

func (p *backupctlProvider) Resources(_ context.Context) []func() resource.Resource {
	registryMu.Lock()
	defer registryMu.Unlock()
	return append([]func() resource.Resource(nil), resources...)
}

func (p *backupctlProvider) DataSources(_ context.Context) []func() datasource.DataSource {
	registryMu.Lock()
	defer registryMu.Unlock()
	return append([]func() datasource.DataSource(nil), dataSources...)
}

// KCPSConfig is the resolved kcps block (attributes, then environment).
type KCPSConfig struct {
	Endpoint  string
	APIKey    string
	SecretKey string
	ZoneID    string
	// Unknown lists the settings not known yet (a plan where they come
	// from resources still to be created): KCPS is not called until they
	// are, and the environment variables do not stand in for them.
	Unknown []string
}

func kcpsFromModel(m *kcpsModel, unknown bool) KCPSConfig {
	if unknown {
		return KCPSConfig{Unknown: []string{"kcps"}}
	}
	pick := func(v types.String, env string) string {
		if v.IsNull() || v.IsUnknown() || v.ValueString() == "" {
			return os.Getenv(env)
		}
		return v.ValueString()
	}
	var k kcpsModel
	if m != nil {
		k = *m
	} else {
		k = kcpsModel{Endpoint: types.StringNull(), APIKey: types.StringNull(), SecretKey: types.StringNull(), ZoneID: types.StringNull()}
	}
	var unknownAttrs []string
	for _, a := range []struct {
		name string
		v    types.String
	}{{"endpoint", k.Endpoint}, {"api_key", k.APIKey}, {"secret_key", k.SecretKey}, {"zone_id", k.ZoneID}} {
		if a.v.IsUnknown() {
			unknownAttrs = append(unknownAttrs, "kcps."+a.name)
		}
	}
	return KCPSConfig{
		Endpoint:  pick(k.Endpoint, envKCPSEndpoint),
		APIKey:    pick(k.APIKey, envKCPSAPIKey),
		SecretKey: pick(k.SecretKey, envKCPSSecretKey),
		ZoneID:    pick(k.ZoneID, envKCPSZoneID),
		Unknown:   unknownAttrs,
	}
}

// providerData is what resources and data sources receive from Configure.
type providerData struct {
	Pool     *transport.Pool
	KCPS     KCPSConfig
	now      func() time.Time
	secrets  []string
	sharedMu sync.Mutex
	shared   map[string]any
}

// Now is the provider's clock (injected in tests).
func (d *providerData) Now() time.Time { return d.now() }

// Shared returns the per-provider-instance value stored under key, making it
// with mk the first time. Use it for caches shared by every resource of one
// plan or apply (one sdxinfo per host+class, one listSnapshots per account).
func (d *providerData) Shared(key string, mk func() any) any {
	d.sharedMu.Lock()
	defer d.sharedMu.Unlock()
	if v, ok := d.shared[key]; ok {
		return v
	}
	if d.shared == nil {
		d.shared = map[string]any{}
	}
	v := mk()
	d.shared[key] = v
	return v
}

// Secrets lists every configured secret, for masking.
func (d *providerData) Secrets() []string { return d.secrets }
