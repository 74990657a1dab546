package demo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/backupctl/terraform-provider-backupctl/internal/sshdtest"
)

// SSHD is the loopback sshd that plays the demo's servers.
type SSHD struct {
	*sshdtest.Server
}

// StartSSHD starts sshd with its files in dir (made if missing, mode 0700).
func StartSSHD(dir string) (*SSHD, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	s, err := sshdtest.Start(dir)
	if err != nil {
		return nil, err
	}
	return &SSHD{s}, nil
}

// KeyFile is the client's private key (sshdtest writes it beside its config).
func (s *SSHD) KeyFile() string { return filepath.Join(s.Dir, "client_ed25519") }

// PIDFile is where sshd writes its process id.
func (s *SSHD) PIDFile() string { return filepath.Join(s.Dir, "sshd.pid") }

// TerraformEnv is the connection as TF_VAR_ assignments for examples/demo,
// one per line, shell-quoted.
func (s *SSHD) TerraformEnv() string {
	vars := [][2]string{
		{"ssh_address", s.Addr},
		{"ssh_user", s.User},
		{"ssh_private_key_file", s.KeyFile()},
		{"ssh_known_hosts_file", s.KnownHostsFile},
	}
	var b strings.Builder
	for _, v := range vars {
		fmt.Fprintf(&b, "TF_VAR_%s=%s\n", v[0], shellQuote(v[1]))
	}
	return b.String()
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
