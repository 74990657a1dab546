package transport

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Local with Sudo runs "sudo -n -- env K=V argv". A stand-in sudo early in
// PATH checks its options and, like sudo's env_reset, drops the caller's
// environment: the variables must arrive as env(1) words.
func TestLocalSudo(t *testing.T) {
	bin := t.TempDir()
	log := filepath.Join(bin, "sudo.log")
	shim := `#!/bin/sh
printf '%s\n' "$*" >> "` + log + `"
[ "$1" = -n ] && [ "$2" = -- ] || { echo "sudo: bad options: $*" >&2; exit 99; }
shift 2
exec env -i PATH=/usr/bin:/bin "$@"
`
	if err := os.WriteFile(filepath.Join(bin, "sudo"), []byte(shim), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	t.Setenv("BCTL_LEAK", "from the caller")
	dir := t.TempDir()
	l := &Local{Name: hostName(t), Sudo: true, Env: map[string]string{"BCTL_HOST": "h v"}}
	res, err := RunOK(context.Background(), l, Command{
		Argv: []string{"/bin/sh", "-c", `printf '%s|%s|%s|%s\n' "$BCTL_HOST" "$BCTL_CMD" "$BCTL_LEAK" "$(pwd)"`},
		Env:  map[string]string{"BCTL_CMD": "$(x)"},
		Dir:  dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(res.Stdout), "h v|$(x)||"+dir+"\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	b, _ := os.ReadFile(log)
	if !strings.HasPrefix(string(b), "-n -- env BCTL_CMD=$(x) BCTL_HOST=h v /bin/sh -c ") {
		t.Fatalf("sudo was called as %q", b)
	}
	// Put goes through sudo as well.
	f := filepath.Join(dir, "f")
	if err := l.Put(context.Background(), f, strings.NewReader("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(log)
	if n := strings.Count(string(b), "\n"); n != 2 {
		t.Fatalf("%d sudo calls, want 2:\n%s", n, b)
	}
}

func TestLocalObserverAndCounters(t *testing.T) {
	t.Parallel()
	var seen [][]string
	l := &Local{Name: hostName(t), Observer: func(host string, argv []string) {
		if host == hostName(t) {
			seen = append(seen, argv)
		}
	}}
	mustRun(t, l, "true")
	mustRun(t, l, "echo", "x")
	if len(seen) != 2 || seen[1][1] != "x" {
		t.Fatalf("observer saw %q", seen)
	}
	if n := commandsOf(l.Host()); n != 2 {
		t.Fatalf("commands counted: %d", n)
	}
	if (&Local{}).Host() != "local" {
		t.Fatal("default name")
	}
}
