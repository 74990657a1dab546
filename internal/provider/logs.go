package provider

import (
	"os"
	"strings"
)

// The loggers of the plugin SDK and of this provider default to TRACE: the
// provider encodes a JSON line for nearly every step of every request and
// Terraform parses each one, only to drop it unless TF_LOG or
// TF_LOG_PROVIDER asks for provider logs. A plan of 200 GDS pairs wrote
// about 3,000 of them.
//
// terraform-plugin-go sets the level of this provider's own logger from
// TF_LOG_PROVIDER_BACKUPCTL (the provider's type name), not from
// TF_LOG_PROVIDER, which only Terraform reads; the SDK's loggers have
// variables of their own.
var quietLogVars = []string{"TF_LOG_PROVIDER", providerLogVar, "TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK"}

// providerLogVar sets the level of the provider's root logger, and with it
// of its subsystems (transport, kcps).
const providerLogVar = "TF_LOG_PROVIDER_BACKUPCTL"

// QuietLogs turns the provider's loggers off when nobody can read them: no
// TF_LOG* variable set (to anything but "") in the environment Terraform
// passed on. Any of them, even one Terraform would ignore, leaves
// everything as it was.
// main calls it, except in debug mode, where the logs go to the terminal.
func QuietLogs() {
	for _, kv := range os.Environ() {
		if name, val, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "TF_LOG") && val != "" {
			return
		}
	}
	for _, v := range quietLogVars {
		_ = os.Setenv(v, "off")
	}
}

// providerLogsOff reports whether the provider's own logger is off, read
// as terraform-plugin-go reads it for every request.
func providerLogsOff() bool {
	return strings.EqualFold(os.Getenv(providerLogVar), "off")
}

// logsOff reports whether every logger of the provider and of the SDK is
// off, as QuietLogs leaves them: nobody reads what the provider would
// log, and the wire layer (server_wire.go) may answer without logging.
func logsOff() bool {
	for _, v := range quietLogVars {
		if !strings.EqualFold(os.Getenv(v), "off") {
			return false
		}
	}
	for _, kv := range os.Environ() {
		name, val, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "TF_LOG") && val != "" && !strings.EqualFold(val, "off") {
			return false
		}
	}
	return true
}
