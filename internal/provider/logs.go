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
var quietLogVars = []string{"TF_LOG_PROVIDER", "TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK"}

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
