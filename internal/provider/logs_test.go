package provider

import (
	"context"
	"os"
	"path"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// unsetLogVars removes every TF_LOG* variable for the test (restored after).
func unsetLogVars(t *testing.T) {
	t.Helper()
	names := append([]string(nil), quietLogVars...)
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "TF_LOG") {
			names = append(names, name)
		}
	}
	for _, name := range names {
		t.Setenv(name, "") // restores the old value at cleanup
		if err := os.Unsetenv(name); err != nil {
			t.Fatal(err)
		}
	}
}

func TestQuietLogs(t *testing.T) {
	unsetLogVars(t)
	t.Setenv("TF_LOG", "") // empty: Terraform reads it as unset
	QuietLogs()
	for _, v := range quietLogVars {
		if got := os.Getenv(v); got != "off" {
			t.Errorf("nobody asked for logs: %s=%q, want off", v, got)
		}
	}

	// The provider's own logger is off too, by the variable
	// terraform-plugin-go reads for it: TF_LOG_PROVIDER_ and the type name
	// of the address main serves.
	if want := "TF_LOG_PROVIDER_" + strings.ToUpper(path.Base(Address)); providerLogVar != want {
		t.Errorf("provider logger variable %s, want %s", providerLogVar, want)
	}
	if lvl := hclog.LevelFromString(os.Getenv(providerLogVar)); lvl != hclog.Off || !providerLogsOff() {
		t.Errorf("provider logger level %v after QuietLogs, want off", lvl)
	}

	// Asked for in any way: nothing is touched.
	for _, asked := range []string{"TF_LOG", "TF_LOG_PROVIDER", "TF_LOG_PROVIDER_BACKUPCTL", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_PATH"} {
		unsetLogVars(t)
		t.Setenv(asked, "debug")
		QuietLogs()
		for _, v := range quietLogVars {
			if got, ok := os.LookupEnv(v); ok && v != asked {
				t.Errorf("%s set: %s=%q was set too", asked, v, got)
			}
		}
		if got := os.Getenv(asked); got != "debug" {
			t.Errorf("%s=%q, want it left at debug", asked, got)
		}
	}
}

// With the provider's logger off, LogContext builds nothing; otherwise it
// sets up the subsystems (and masks).
func TestLogContextWhenLogsOff(t *testing.T) {
	d := &providerData{secrets: []string{"s3cret"}}
	ctx := context.Background()
	t.Setenv(providerLogVar, "off")
	if got := d.LogContext(ctx); got != ctx {
		t.Error("logger off: LogContext changed the context")
	}
	t.Setenv(providerLogVar, "")
	if got := d.LogContext(ctx); got == ctx {
		t.Error("logger on: LogContext returned the context unchanged")
	}
}
