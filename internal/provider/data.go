package provider

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// Log subsystems.
const (
	logTransport = "transport"
	logKCPS      = "kcps"
)

// providerDataFrom converts the data given to a resource's Configure. It
// returns nil (and no error) before the provider itself is configured.
func providerDataFrom(raw any, diags *diag.Diagnostics) *providerData {
	if raw == nil {
		return nil
	}
	d, ok := raw.(*providerData)
	if !ok {
		diags.AddError("Unexpected provider data", fmt.Sprintf("expected *providerData, got %T: this is a bug in backupctl", raw))
		return nil
	}
	return d
}

// LogContext returns ctx with the backupctl log subsystems set up and every
// configured secret masked in messages and fields. With the provider's
// logger off (QuietLogs) it returns ctx as it is: nothing can be written,
// and the subsystems' loggers, built for every call, were a few percent
// of the provider's CPU in a refresh of 200 GDS pairs.
func (d *providerData) LogContext(ctx context.Context) context.Context {
	if providerLogsOff() {
		return ctx
	}
	ctx = tflog.NewSubsystem(ctx, logTransport)
	ctx = tflog.NewSubsystem(ctx, logKCPS)
	secrets := nonEmpty(d.secrets)
	if len(secrets) > 0 {
		ctx = tflog.MaskMessageStrings(ctx, secrets...)
		ctx = tflog.MaskAllFieldValuesStrings(ctx, secrets...)
		for _, sub := range []string{logTransport, logKCPS} {
			ctx = tflog.SubsystemMaskMessageStrings(ctx, sub, secrets...)
			ctx = tflog.SubsystemMaskAllFieldValuesStrings(ctx, sub, secrets...)
		}
	}
	return ctx
}

func nonEmpty(s []string) []string {
	var out []string
	for _, v := range s {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// Transport returns the shared transport of host, wrapped so that every
// command is logged (secrets masked) in the "transport" subsystem.
func (d *providerData) Transport(host string) (transport.Transport, error) {
	t, err := d.Pool.Get(host)
	if err != nil {
		return nil, err
	}
	return &loggedTransport{Transport: t, secrets: d.secrets}, nil
}

// HostTransport is Transport for the host named by the attribute at p:
// nil, with an error naming p, when it cannot be had.
func (d *providerData) HostTransport(p path.Path, host string, diags *diag.Diagnostics) transport.Transport {
	t, err := d.Transport(host)
	if err != nil {
		attrError(diags, p, "Host unavailable", err.Error())
		return nil
	}
	return t
}

// DataSourceHost resolves a data source's optional host attribute (root
// "host", default "local"); false, with an error, when it is not configured.
func (d *providerData) DataSourceHost(v types.String, diags *diag.Diagnostics) (string, bool) {
	host := v.ValueString()
	if host == "" {
		host = transport.LocalHost
	}
	return host, d.CheckHost(path.Root("host"), host, diags)
}

// CheckHost adds an attribute error when host is not configured.
func (d *providerData) CheckHost(p path.Path, host string, diags *diag.Diagnostics) bool {
	if d == nil || d.Pool.Has(host) {
		return true
	}
	attrError(diags, p, "Unknown host",
		fmt.Sprintf("Host %q is not defined in the provider's hosts (known: %v). Add it to the provider block or use \"local\".", host, d.Pool.Names()))
	return false
}

type loggedTransport struct {
	transport.Transport
	secrets []string
}

var _ transport.Wrapper = (*loggedTransport)(nil)

// Unwrap implements transport.Wrapper: the archive engine reads and writes
// local files directly (those are logged by the callers' steps, not here).
func (l *loggedTransport) Unwrap() transport.Transport { return l.Transport }

func (l *loggedTransport) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	secrets := append(append([]string(nil), l.secrets...), cmd.Secrets...)
	line := transport.Mask(transport.Join(cmd.Argv), nonEmpty(secrets)...)
	start := time.Now()
	tflog.SubsystemDebug(ctx, logTransport, "run", map[string]any{"host": l.Host(), "command": line})
	res, err := l.Transport.Run(ctx, cmd)
	fields := map[string]any{"host": l.Host(), "command": line, "exit_status": res.ExitStatus,
		"duration": time.Since(start).Round(time.Millisecond).String()}
	if err != nil {
		fields["error"] = transport.Mask(err.Error(), nonEmpty(secrets)...)
	}
	if res.ExitStatus != 0 && len(res.Stderr) > 0 {
		fields["stderr"] = transport.Mask(truncate(string(res.Stderr), 4000), nonEmpty(secrets)...)
	}
	tflog.SubsystemTrace(ctx, logTransport, "done", fields)
	return res, err
}

func (l *loggedTransport) Put(ctx context.Context, p string, r io.Reader, mode uint32) error {
	tflog.SubsystemDebug(ctx, logTransport, "put", map[string]any{"host": l.Host(), "path": p})
	return l.Transport.Put(ctx, p, r, mode)
}

func (l *loggedTransport) Get(ctx context.Context, p string, w io.Writer) error {
	tflog.SubsystemDebug(ctx, logTransport, "get", map[string]any{"host": l.Host(), "path": p})
	return l.Transport.Get(ctx, p, w)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// attrError adds an attribute error whose summary also names the attribute:
// terraform points at the block, not at nested attributes (of the provider
// block, of objects inside a resource), so the path goes into the text too.
func attrError(diags *diag.Diagnostics, p path.Path, summary, detail string) {
	diags.AddAttributeError(p, fmt.Sprintf("%s (%s)", summary, p), detail)
}
