package provider

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// testProviderFactories serves the provider in-process to terraform.
var testProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"backupctl": NewServer(New("test")),
}

// testAccPreCheck fails (not skips) a TF_ACC test that cannot run.
func testAccPreCheck(t *testing.T) {
	t.Helper()
	if os.Getenv("TF_ACC_TERRAFORM_PATH") == "" {
		if _, err := os.Stat("/usr/local/bin/terraform"); err != nil {
			t.Fatal("terraform not found: set TF_ACC_TERRAFORM_PATH")
		}
		t.Setenv("TF_ACC_TERRAFORM_PATH", "/usr/local/bin/terraform")
	}
	if os.Getenv("TF_CLI_CONFIG_FILE") == "" {
		// An empty CLI config silences the missing-config warning and keeps
		// terraform away from any registry.
		f := filepath.Join(t.TempDir(), "terraformrc")
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("TF_CLI_CONFIG_FILE", f)
	}
}
