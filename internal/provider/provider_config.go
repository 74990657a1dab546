package provider

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"golang.org/x/crypto/ssh"

	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

var (
	hostNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,62}$`)
	envNameRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// reservedHostNames cannot be used as keys of hosts.
var reservedHostNames = map[string]string{
	transport.LocalHost: "it always means this machine",
	"localhost":         "it is too easily confused with the implicit host \"local\"",
}

func known(v types.String) bool { return !v.IsNull() && !v.IsUnknown() }

func validateHosts(hosts map[string]hostModel, base path.Path) diag.Diagnostics {
	var diags diag.Diagnostics
	for name, h := range hosts {
		p := base.AtMapKey(name)
		if why, ok := reservedHostNames[name]; ok {
			attrError(&diags, p, "Reserved host name",
				fmt.Sprintf("The host name %q is reserved: %s. Choose another name.", name, why))
			continue
		}
		if !hostNameRE.MatchString(name) {
			attrError(&diags, p, "Invalid host name",
				fmt.Sprintf("Host name %q must start with a letter and contain only letters, digits, '.', '_' and '-' (at most 63).", name))
		}
		if known(h.Address) {
			if err := validateAddress(h.Address.ValueString()); err != nil {
				attrError(&diags, p.AtName("address"), "Invalid address", err.Error())
			}
		}
		if known(h.User) && (h.User.ValueString() == "" || strings.ContainsAny(h.User.ValueString(), " \t\n@:/")) {
			attrError(&diags, p.AtName("user"), "Invalid user", fmt.Sprintf("%q is not a valid login name.", h.User.ValueString()))
		}
		// No way to authenticate: no key, no password, and no agent. Unknown
		// values (file() of a key not yet known) are given the benefit of the doubt.
		if h.PrivateKey.IsNull() && h.Password.IsNull() && !agentAvailable() {
			attrError(&diags, p, "No way to authenticate",
				fmt.Sprintf("Host %q has neither private_key nor password, and no ssh-agent is running (SSH_AUTH_SOCK is unset). Set one of them.", name))
		}
		if known(h.PrivateKey) {
			if _, err := ssh.ParsePrivateKey([]byte(h.PrivateKey.ValueString())); err != nil {
				if _, ok := err.(*ssh.PassphraseMissingError); ok {
					attrError(&diags, p.AtName("private_key"), "Encrypted private key",
						"The private key is protected by a passphrase. Load it into ssh-agent and leave private_key unset.")
				} else {
					attrError(&diags, p.AtName("private_key"), "Invalid private key",
						"The private key could not be parsed (expected an OpenSSH or PEM private key). The value is not shown because it is sensitive.")
				}
			}
		}
		if known(h.HostKey) {
			if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(h.HostKey.ValueString())); err != nil {
				attrError(&diags, p.AtName("host_key"), "Invalid host key",
					fmt.Sprintf("host_key must be a public key in authorized_keys format, e.g. \"ssh-ed25519 AAAA...\": %v", err))
			}
			if !h.KnownHostsFile.IsNull() {
				attrError(&diags, p.AtName("host_key"), "Conflicting host key settings",
					"Set either host_key (a pinned key) or known_hosts_file, not both.")
			}
		}
		if !h.Env.IsNull() && !h.Env.IsUnknown() {
			for k := range h.Env.Elements() {
				if !envNameRE.MatchString(k) {
					attrError(&diags, p.AtName("env").AtMapKey(k), "Invalid environment variable name",
						fmt.Sprintf("%q is not a valid variable name (letters, digits and '_', not starting with a digit).", k))
				}
			}
		}
	}
	return diags
}

func validateAddress(a string) error {
	if a == "" {
		return fmt.Errorf("address must not be empty")
	}
	if strings.Contains(a, "://") || strings.ContainsAny(a, " \t\n/@") {
		return fmt.Errorf("%q is not a host or host:port (no scheme, user or path: put the user in \"user\")", a)
	}
	host, port := a, ""
	if h, p, err := net.SplitHostPort(a); err == nil {
		host, port = h, p
	} else if strings.Count(a, ":") == 1 {
		return fmt.Errorf("%q: %v", a, err)
	}
	if port == "" && strings.HasSuffix(a, ":") {
		return fmt.Errorf("%q: empty port", a)
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q: port must be a number from 1 to 65535", a)
		}
	}
	host = strings.Trim(host, "[]")
	if host == "" {
		return fmt.Errorf("%q has no host part", a)
	}
	if net.ParseIP(host) == nil {
		for _, label := range strings.Split(host, ".") {
			if label == "" || len(label) > 63 || !regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$`).MatchString(label) {
				return fmt.Errorf("%q is not a valid host name or IP address", host)
			}
		}
	}
	return nil
}

func validateKCPS(k kcpsModel, p path.Path) diag.Diagnostics {
	var diags diag.Diagnostics
	if known(k.Endpoint) {
		u, err := url.Parse(k.Endpoint.ValueString())
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			attrError(&diags, p.AtName("endpoint"), "Invalid KCPS endpoint",
				fmt.Sprintf("%q must be an http(s) URL such as https://portal.example/client/api.", k.Endpoint.ValueString()))
		}
	}
	if known(k.APIKey) && k.APIKey.ValueString() == "" {
		attrError(&diags, p.AtName("api_key"), "Empty api_key", "api_key must not be empty; leave it unset to use "+envKCPSAPIKey+".")
	}
	return diags
}

func (h hostModel) toConfig(ctx context.Context, name string) (transport.HostConfig, diag.Diagnostics) {
	var diags diag.Diagnostics
	// Settings not known yet (at plan time, from resources still to be
	// created): the host stays unreachable until apply, rather than being
	// reached with an empty value (an empty address would be this machine).
	var unknown []string
	for _, a := range []struct {
		name string
		v    attr.Value
	}{{"address", h.Address}, {"user", h.User}, {"private_key", h.PrivateKey}, {"password", h.Password},
		{"known_hosts_file", h.KnownHostsFile}, {"host_key", h.HostKey}, {"sudo", h.Sudo}, {"env", h.Env}} {
		if a.v.IsUnknown() {
			unknown = append(unknown, a.name)
		}
	}
	env := map[string]string{}
	envKnown := !h.Env.IsUnknown()
	for _, v := range h.Env.Elements() {
		envKnown = envKnown && !v.IsUnknown()
	}
	switch {
	case !envKnown && !h.Env.IsUnknown():
		unknown = append(unknown, "env")
	case envKnown && !h.Env.IsNull():
		diags.Append(h.Env.ElementsAs(ctx, &env, false)...)
	}
	user := h.User.ValueString()
	if user == "" {
		user = "root"
	}
	khf := h.KnownHostsFile.ValueString()
	if khf == "" && h.HostKey.ValueString() == "" {
		khf = "~/.ssh/known_hosts"
	}
	return transport.HostConfig{SSHConfig: transport.SSHConfig{
		Name:           name,
		Address:        h.Address.ValueString(),
		User:           user,
		PrivateKey:     h.PrivateKey.ValueString(),
		Password:       h.Password.ValueString(),
		KnownHostsFile: khf,
		HostKey:        h.HostKey.ValueString(),
		UseAgent:       true,
		Sudo:           h.Sudo.ValueBool(),
		Env:            env,
	}, Lazy: !h.ConnectEarly.IsNull() && !h.ConnectEarly.IsUnknown() && !h.ConnectEarly.ValueBool(), Unknown: unknown}, diags
}
