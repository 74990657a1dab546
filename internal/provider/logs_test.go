package provider

import (
	"os"
	"strings"
	"testing"
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
