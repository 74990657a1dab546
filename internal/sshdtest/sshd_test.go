package sshdtest

import (
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
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

// A port taken between being found free and sshd binding it: by a plain
// listener that never speaks, or by another test's sshd. Start moves on to
// another port and returns its own server.
func TestStartRetriesWhenPortTaken(t *testing.T) {
	other := StartT(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	silent := l.Addr().(*net.TCPAddr).Port
	for name, taken := range map[string]int{"silent listener": silent, "another sshd": other.Port()} {
		t.Run(name, func(t *testing.T) {
			var picked []int
			pickPort = func() (int, error) {
				if len(picked) == 0 {
					picked = append(picked, taken)
					return taken, nil
				}
				p, err := freePort()
				picked = append(picked, p)
				return p, err
			}
			defer func() { pickPort = freePort }()
			s := StartT(t)
			if len(picked) < 2 || s.Port() == taken {
				t.Fatalf("ports tried %v, server on %d: want a second port after %d", picked, s.Port(), taken)
			}
			if got := answersWith(s.Addr, mustParseKey(t, s.HostKey)); got != probeOurs {
				t.Fatalf("the server at %s answers %v, want its own host key", s.Addr, got)
			}
			if got := answersWith(other.Addr, mustParseKey(t, s.HostKey)); got != probeOther {
				t.Fatalf("the other server answers %v, want another host key", got)
			}
		})
	}
}

func mustParseKey(t *testing.T, line string) ssh.PublicKey {
	t.Helper()
	k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	return k
}
