package transport

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// hostile returns values that a shell would act on if they were not quoted.
// canary is a file that any of them would create if it ran.
func hostile(canary string) []string {
	return []string{
		"; rm -rf /tmp/definitely-not-here; touch " + canary,
		"$(touch " + canary + ")",
		"`touch " + canary + "`",
		"${HOME}",
		"a\nb\n\ntouch " + canary,
		"it's",
		`say "hi" \" \\`,
		`'; touch ` + canary + `; '`,
		"*",
		"/*",
		"?",
		"[a-z]*",
		"~",
		"~root",
		"-rf",
		"--",
		"-n",
		"",
		" ",
		"\t",
		"a b",
		"\xff\xfe\x80 not utf8 \xc3",
		"日本語",
		"$PATH",
		"!!",
		"&& touch " + canary,
		"| touch " + canary,
		"> " + canary,
		"< /etc/passwd",
		"#comment",
		"=cmd",
		"FOO=bar",
		"%s %n",
		"\\",
		"\x01\x1b[31m",
	}
}

// splitNul splits printf '%s\0' output back into words.
func splitNul(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	parts := bytes.Split(bytes.TrimSuffix(b, []byte{0}), []byte{0})
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = string(p)
	}
	return out
}

func assertSameWords(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d words %q, want %d %q", len(got), got, len(want), want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("word %d: got %q, want %q", i, got[i], want[i])
		}
	}
}

// TestQuoteThroughShell feeds Join's output to a real /bin/sh and checks that
// every value arrives as exactly one word, byte for byte, and ran nothing.
func TestQuoteThroughShell(t *testing.T) {
	dir := t.TempDir()
	canary := filepath.Join(dir, "pwned")
	vals := hostile(canary)
	line := "printf '%s\\0' " + Join(vals)
	cmd := exec.Command("/bin/sh", "-c", line)
	cmd.Dir = dir // where a glob would expand
	if err := os.WriteFile(filepath.Join(dir, "a-file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sh -c %q: %v", line, err)
	}
	assertSameWords(t, splitNul(out), vals)
	if _, err := os.Stat(canary); err == nil {
		t.Fatal("a quoted value ran as a command (canary file created)")
	}
}

func TestQuoteWords(t *testing.T) {
	for in, want := range map[string]string{
		"":             "''",
		"plain":        "plain",
		"/a/b-c_d.e":   "/a/b-c_d.e",
		"user@host:22": "user@host:22",
		"a b":          "'a b'",
		"it's":         `'it'\''s'`,
		"=cmd":         "'=cmd'",
		"FOO=bar":      "'FOO=bar'",
		"-rf":          "-rf",
		"*":            "'*'",
		"~":            "'~'",
		"\xff":         "'\xff'",
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %q, want %q", in, got, want)
		}
	}
}

// An unquoted NAME=value as the first word would be an assignment, and the
// "command" would silently not run.
func TestQuoteAssignmentLikeProgram(t *testing.T) {
	out, err := exec.Command("/bin/sh", "-c", Join([]string{"FOO=bar", "x"})+" 2>&1; echo status=$?").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "status=127") {
		t.Fatalf("FOO=bar as argv[0] must be looked up as a program, got %q", out)
	}
}

func TestCommandLineShape(t *testing.T) {
	got := CommandLine([]string{"ls", "-l", "a b"}, nil, false, "")
	if got != "ls -l 'a b'" {
		t.Errorf("plain: %q", got)
	}
	got = CommandLine([]string{"ls"}, map[string]string{"B": "2", "A": "x y"}, false, "")
	if got != "env 'A=x y' 'B=2' ls" {
		t.Errorf("env (sorted, quoted): %q", got)
	}
	// sudo comes first, env after it: sudo's env_reset would drop variables
	// set before it.
	got = CommandLine([]string{"id"}, map[string]string{"K": "v"}, true, "")
	if got != "sudo -n -- env 'K=v' id" {
		t.Errorf("sudo: %q", got)
	}
	got = CommandLine([]string{"pwd"}, nil, true, "/srv/x y")
	if !strings.HasPrefix(got, "sudo -n -- env /bin/sh -c ") || !strings.HasSuffix(got, " sh '/srv/x y' pwd") {
		t.Errorf("sudo + dir: %q", got)
	}
}

// TestCommandLineThroughShell runs CommandLine's output with a real sh, as a
// remote login shell would, with hostile values in argv, env and dir.
func TestCommandLineThroughShell(t *testing.T) {
	base := t.TempDir()
	canary := filepath.Join(base, "pwned")
	// A "/" cannot be in a name: the canary is relative to base, the cwd.
	dir := filepath.Join(base, "dir $(touch pwned) `touch pwned` 'q' \"dq\" *")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	vals := hostile(canary)
	env := map[string]string{
		"V1": "$(touch " + canary + ")",
		"V2": "line1\nline2 'q' \"dq\" `x`",
		"V3": "",
	}
	script := `pwd; printf '%s\0' "$V1" "$V2" "${V3-unset}"; printf '%s\0' "$@"`
	argv := append([]string{"/bin/sh", "-c", script, "sh"}, vals...)
	line := CommandLine(argv, env, false, dir)
	c := exec.Command("/bin/sh", "-c", line)
	c.Dir = base
	out, err := c.Output()
	if err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	pwd, rest, _ := bytes.Cut(out, []byte("\n"))
	if string(pwd) != dir {
		t.Errorf("pwd = %q, want %q", pwd, dir)
	}
	words := splitNul(rest)
	assertSameWords(t, words[:3], []string{env["V1"], env["V2"], ""})
	assertSameWords(t, words[3:], vals)
	if _, err := os.Stat(canary); err == nil {
		t.Fatal("a quoted value ran as a command (canary file created)")
	}
}

func TestCheckEnv(t *testing.T) {
	for _, ok := range []string{"A", "_x", "PATH", "a1_B2"} {
		if err := CheckEnv(map[string]string{ok: "v"}); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "1A", "A B", "A=B", "-i", "--split-string", "--chdir", "A-B", "Ä", "A\nB"} {
		if err := CheckEnv(map[string]string{bad: "touch /tmp/x"}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestMergeEnv(t *testing.T) {
	base := map[string]string{"A": "1", "B": "2"}
	m := MergeEnv(base, map[string]string{"B": "3", "C": "4"})
	if m["A"] != "1" || m["B"] != "3" || m["C"] != "4" || len(m) != 3 {
		t.Fatalf("merged: %v", m)
	}
	if base["B"] != "2" {
		t.Fatal("MergeEnv changed its base")
	}
}
