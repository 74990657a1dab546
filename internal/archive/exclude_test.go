package archive

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func TestMatcherRules(t *testing.T) {
	cases := []struct {
		pattern, name string
		want          bool
	}{
		{"*.log", "var/log/app.log", true},
		{"*.log", "var/log/app.log.1", false},
		{"cache", "srv/app/cache", true},
		{"cache", "srv/app/cache/x/y", true}, // leading dir: the contents go too
		{"cache", "srv/app/cached", false},
		{"app/cache", "srv/app/cache/x", true},
		{"pp/cache", "srv/app/cache", false}, // only after a "/"
		{"/srv/app", "srv/app/x", true},      // anchored
		{"/app", "srv/app", false},
		{"srv/*/x", "srv/a/b/x", true}, // "*" matches "/"
		{"[0-9]*.dat", "db/7table.dat", true},
		{"[!0-9]*.dat", "7table.dat", false},
		{"[!0-9]*.dat", "db/7table.dat", true}, // "d" then "*" across the "/"
		{"[^0-9]*.dat", "db/table.dat", true},
		{"[[:upper:]]*", "d/Readme", true},
		{"[[:upper:]]*", "d/readme", false},
		{"file\\*", "d/file*", true},
		{"file\\*", "d/filex", false},
		{"?.txt", "d/a.txt", true},
		{"?.txt", "d/ab.txt", false},
		{"[a-c]x", "d/bx", true},
		{"[]]x", "d/]x", true},
		{"[x", "d/[x", true}, // unterminated "[" is literal
		{"*", "anything/at/all", true},
		{".hidden", "d/.hidden", true},
		{"*hidden", "d/.hidden", true}, // no FNM_PERIOD
		{"名前", "d/名前/x", true},
		{"?前", "d/名前", true},
	}
	for _, c := range cases {
		m, err := NewMatcher([]string{c.pattern})
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Match(c.name); got != c.want {
			t.Errorf("pattern %q on %q: %v, want %v", c.pattern, c.name, got, c.want)
		}
	}
	if _, err := NewMatcher([]string{"/"}); err == nil {
		t.Error("empty pattern accepted")
	}
}

// The native walker excludes exactly what GNU tar excludes with the same
// patterns (TarArgs), on a tree made to hit every rule.
func TestExcludeMatchesGNUTar(t *testing.T) {
	base := t.TempDir()
	src := filepath.Join(base, "data")
	for _, f := range []string{
		"a/app.log", "a/app.log.1", "a/b/deep.log", "cache/x", "a/cache/y/z", "a/cached",
		"a/skip-anchored/f", "b/a/skip-anchored/f", "db/7table.dat", "db/table.dat",
		"keep/excluded1.txt", "keep/excluded12.txt", "x/keep/excluded2.txt", "star/file*", "star/filex",
		"bin/ax.bin", "bin/bx.bin", "dir with space/f", "Upper/readme", ".hidden/h", "名前/f",
	} {
		p := filepath.Join(src, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	patterns := []string{"*.log", "cache", src + "/a/skip-anchored", "[0-9]*.dat", "*/keep/excluded?.txt",
		"file\\*", "[!a]x.bin", "dir with space", "[[:upper:]]pper", ".hid*", "名前"}
	m, err := NewMatcher(patterns)
	if err != nil {
		t.Fatal(err)
	}
	rel := strings.TrimPrefix(src, "/")
	argv := append([]string{"tar", "-C", "/", "-cf", filepath.Join(base, "gnu.tar")}, m.TarArgs()...)
	run(t, append(argv, "--", rel)...)
	var gnu []string
	for _, l := range strings.Split(strings.TrimSpace(run(t, "tar", "-tf", filepath.Join(base, "gnu.tar"))), "\n") {
		gnu = append(gnu, strings.TrimSuffix(l, "/"))
	}
	man, err := Create(context.Background(), local, local, filepath.Join(base, "ours.tar.gz"),
		CreateOptions{Paths: []string{src}, Exclude: patterns})
	if err != nil {
		t.Fatal(err)
	}
	var ours []string
	for _, e := range man.Entries {
		ours = append(ours, e.Name)
	}
	sort.Strings(gnu)
	sort.Strings(ours)
	if strings.Join(gnu, "\n") != strings.Join(ours, "\n") {
		t.Errorf("GNU tar kept:\n%s\n\nwe kept:\n%s", strings.Join(gnu, "\n"), strings.Join(ours, "\n"))
	}
	// Sanity: the patterns did exclude something, and kept something.
	if len(ours) < 8 || len(ours) > 25 {
		t.Errorf("kept %d members: %v", len(ours), ours)
	}
	for _, n := range ours {
		if strings.HasSuffix(n, ".log") || strings.Contains(n+"/", "/cache/") || strings.Contains(n, "a/skip-anchored") && !strings.Contains(n, "b/a/") {
			t.Errorf("%s should have been excluded", n)
		}
	}
}
