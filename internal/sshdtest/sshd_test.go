package sshdtest

import (
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigOptions(t *testing.T) {
	s := StartT(t, WithMaxSessions(3))
	conf, err := os.ReadFile(filepath.Join(s.Dir, "sshd_config"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"MaxSessions 3\n", "PasswordAuthentication no\n", "AllowUsers " + s.User + "\n", "SetEnv SHLVL=1\n"} {
		if !strings.Contains(string(conf), want) {
			t.Errorf("sshd_config lacks %q", want)
		}
	}
	if s.PasswordUser != "" || s.ClientPassword != "" {
		t.Fatal("a password user without WithPassword")
	}
}

// The throwaway user exists while the server runs and is gone after Stop.
func TestPasswordUserRemoved(t *testing.T) {
	s := StartT(t, WithPassword())
	if s.PasswordUser == "" || len(s.ClientPassword) < 16 {
		t.Fatalf("user %q, password of %d bytes", s.PasswordUser, len(s.ClientPassword))
	}
	u, err := user.Lookup(s.PasswordUser)
	if err != nil || u.HomeDir != "/" {
		t.Fatalf("lookup %s: %v %v", s.PasswordUser, u, err)
	}
	conf, _ := os.ReadFile(filepath.Join(s.Dir, "sshd_config"))
	if !strings.Contains(string(conf), "PasswordAuthentication yes\n") || !strings.Contains(string(conf), " "+s.PasswordUser+"\n") {
		t.Fatalf("sshd_config:\n%s", conf)
	}
	name := s.PasswordUser
	s.Stop()
	if _, err := user.Lookup(name); err == nil {
		t.Fatalf("user %s still exists after Stop", name)
	}
}

func TestNoReexecFor(t *testing.T) {
	for version, want := range map[string]string{
		"OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL 3.0.15 3 Sep 2024": "-r",
		"OpenSSH_8.4p1, OpenSSL 1.1.1w":                             "-r",
		"OpenSSH_9.7p1":                                             "-r",
		"OpenSSH_9.8p1 Ubuntu-1, OpenSSL 3.3.1":                     "",
		"OpenSSH_10.0p2":                                            "",
		"sshd: illegal option -- V":                                 "",
		"":                                                          "",
	} {
		if got := strings.Join(noReexecFor(version), " "); got != want {
			t.Errorf("noReexecFor(%q) = %q, want %q", version, got, want)
		}
	}
}
