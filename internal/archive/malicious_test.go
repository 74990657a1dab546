package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// member is one raw header (no cleaning) for a hand-made archive.
type member struct {
	typ      byte
	name     string
	linkname string
	body     string
	major    int64
}

// writeRaw writes members as a gzip'd tar exactly as given; with manifest,
// it also writes a manifest that matches it (an attacker controlling both).
func writeRaw(t *testing.T, p string, members []member, manifest bool) {
	t.Helper()
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	var entries []Entry
	for _, m := range members {
		h := &tar.Header{Typeflag: m.typ, Name: m.name, Linkname: m.linkname, Mode: 0o644,
			ModTime: time.Unix(1e9, 0), Size: int64(len(m.body)), Devmajor: m.major, Devminor: 3, Format: tar.FormatPAX}
		if m.typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if m.typ == tar.TypeReg {
			tw.Write([]byte(m.body))
		}
		e, err := entryOf(h)
		if err != nil {
			t.Fatal(err)
		}
		if e.Type == TypeFile {
			s := sha256.Sum256([]byte(m.body))
			e.SHA256 = hex.EncodeToString(s[:])
		}
		entries = append(entries, e)
	}
	tw.Close()
	var gz bytes.Buffer
	c, _ := newCompressor(&gz, FormatTarGz, 0)
	c.Write(tarBuf.Bytes())
	c.Close()
	if err := os.WriteFile(p, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if manifest {
		s := sha256.Sum256(gz.Bytes())
		m := Manifest{Version: ManifestVersion, Info: Info{File: p, Bytes: int64(gz.Len()), SHA256: hex.EncodeToString(s[:]),
			Files: int64(len(entries)), Format: FormatTarGz}, Entries: entries}
		data, _ := json.Marshal(m)
		if err := os.WriteFile(ManifestPath(p), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// listTree lists every path under dir with file contents.
func listTree(t *testing.T, dir string) string {
	t.Helper()
	var out []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		line := rel
		if fi.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			line += "=" + string(b)
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			l, _ := os.Readlink(p)
			line += "->" + l
		}
		out = append(out, line)
		return nil
	})
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// The corpus: every archive tries to write outside its target (or a
// device node, or past a limit). Whatever the path (local target, remote
// target with and without a manifest), Extract fails with the right error
// and nothing outside the target changes.
func TestMaliciousArchives(t *testing.T) {
	_, _, remote := sshPair(t)
	type tcase struct {
		name    string
		members func(sandbox string) []member
		pre     func(t *testing.T, target, outside string) // prepares the target
		opts    ExtractOptions
		want    error // nil: must succeed (and still stay inside)
	}
	file := func(name, body string) member { return member{typ: tar.TypeReg, name: name, body: body} }
	cases := []tcase{
		{name: "dotdot", want: ErrUnsafe, members: func(string) []member {
			return []member{file("ok.txt", "ok"), file("../outside/evil.txt", "pwned")}
		}},
		{name: "nested-dotdot", want: ErrUnsafe, members: func(string) []member {
			return []member{file("a/b/../../../outside/evil.txt", "pwned")}
		}},
		{name: "absolute", want: ErrUnsafe, members: func(sb string) []member {
			return []member{file(filepath.Join(sb, "outside", "abs-evil.txt"), "pwned")}
		}},
		{name: "symlink-escape", want: ErrUnsafe, members: func(string) []member {
			return []member{{typ: tar.TypeSymlink, name: "link", linkname: "../outside"}, file("link/evil.txt", "pwned")}
		}},
		{name: "symlink-escape-absolute", want: ErrUnsafe, members: func(sb string) []member {
			return []member{{typ: tar.TypeSymlink, name: "abs", linkname: filepath.Join(sb, "outside")}, file("abs/evil.txt", "pwned")}
		}},
		{name: "symlink-inside-then-through", want: ErrUnsafe, members: func(string) []member {
			return []member{{typ: tar.TypeDir, name: "d/"}, {typ: tar.TypeSymlink, name: "l", linkname: "d"},
				{typ: tar.TypeSymlink, name: "l/up", linkname: "../../outside"}, file("l/up/evil.txt", "pwned")}
		}},
		{name: "symlink-then-overwrite-sentinel", want: ErrUnsafe, members: func(string) []member {
			return []member{{typ: tar.TypeSymlink, name: "s", linkname: "../outside/sentinel"},
				{typ: tar.TypeLink, name: "h", linkname: "s"}, file("h/x", "pwned")}
		}},
		{name: "hardlink-escape", want: ErrUnsafe, members: func(string) []member {
			return []member{{typ: tar.TypeLink, name: "h", linkname: "../outside/sentinel"}, file("h", "pwned")}
		}},
		{name: "hardlink-absolute", want: ErrUnsafe, members: func(sb string) []member {
			return []member{{typ: tar.TypeLink, name: "h", linkname: filepath.Join(sb, "outside", "sentinel")}, file("h", "pwned")}
		}},
		{name: "hardlink-not-a-member", want: ErrUnsafe, members: func(string) []member {
			return []member{{typ: tar.TypeLink, name: "h", linkname: "pre-existing"}}
		}, pre: func(t *testing.T, target, _ string) {
			os.WriteFile(filepath.Join(target, "pre-existing"), []byte("kept"), 0o644)
		}},
		{name: "device-node", want: ErrUnsafe, members: func(string) []member {
			return []member{file("a", "a"), {typ: tar.TypeChar, name: "null2", major: 1}}
		}},
		{name: "block-device", want: ErrUnsafe, members: func(string) []member {
			return []member{{typ: tar.TypeBlock, name: "disk", major: 8}}
		}},
		{name: "dot-as-file", want: ErrUnsafe, members: func(string) []member {
			return []member{file(".", "x")}
		}},
		{name: "existing-symlink-dir", want: ErrUnsafe, members: func(string) []member {
			return []member{file("pre/evil.txt", "pwned")}
		}, pre: func(t *testing.T, target, outside string) {
			os.Symlink("../outside", filepath.Join(target, "pre"))
		}},
		{name: "existing-symlink-file-overwrite", opts: ExtractOptions{Overwrite: true}, members: func(string) []member {
			return []member{file("presym", "replaced")}
		}, pre: func(t *testing.T, target, outside string) {
			os.Symlink("../outside/sentinel", filepath.Join(target, "presym"))
		}},
		{name: "existing-file-no-overwrite", want: errExists, members: func(string) []member {
			return []member{file("kept.txt", "new")}
		}, pre: func(t *testing.T, target, _ string) {
			os.WriteFile(filepath.Join(target, "kept.txt"), []byte("old"), 0o644)
		}},
		{name: "max-files", want: ErrLimit, opts: ExtractOptions{MaxFiles: 2}, members: func(string) []member {
			return []member{file("1", "1"), file("2", "2"), file("3", "3")}
		}},
		{name: "max-bytes", want: ErrLimit, opts: ExtractOptions{MaxBytes: 10}, members: func(string) []member {
			return []member{file("small", "12345"), file("big", "1234567890")}
		}},
	}
	targets := []struct {
		name     string
		dst      transport.Transport
		manifest bool
	}{
		{"local", local, false},
		{"local-manifest", local, true},
		{"remote", remote, false},
		{"remote-manifest", remote, true},
	}
	for _, tg := range targets {
		for _, tc := range cases {
			t.Run(tg.name+"/"+tc.name, func(t *testing.T) {
				sb := t.TempDir()
				target, outside := filepath.Join(sb, "target"), filepath.Join(sb, "outside")
				os.MkdirAll(target, 0o755)
				os.MkdirAll(outside, 0o755)
				os.WriteFile(filepath.Join(outside, "sentinel"), []byte("original"), 0o644)
				if tc.pre != nil {
					tc.pre(t, target, outside)
				}
				arch := filepath.Join(t.TempDir(), "evil.tar.gz")
				writeRaw(t, arch, tc.members(sb), tg.manifest)
				before := listTree(t, sb)
				_, err := Extract(context.Background(), local, arch, tg.dst, target, tc.opts)
				switch {
				case tc.want == nil && err != nil:
					t.Errorf("extract failed: %v", err)
				case tc.want == errExists && (err == nil || !strings.Contains(err.Error(), "already")):
					t.Errorf("want an 'already exists' error, got %v", err)
				case tc.want != nil && tc.want != errExists && !errors.Is(err, tc.want):
					t.Errorf("want %v, got %v", tc.want, err)
				}
				after := listTree(t, sb)
				if got, want := onlyOutside(after), onlyOutside(before); got != want {
					t.Errorf("outside the target changed:\nbefore:\n%s\nafter:\n%s", want, got)
				}
			})
		}
	}
	// Devices are fine inside the target when allowed.
	sb := t.TempDir()
	arch := filepath.Join(sb, "dev.tar.gz")
	writeRaw(t, arch, []member{{typ: tar.TypeChar, name: "dev/null2", major: 1}}, false)
	if _, err := Extract(context.Background(), local, arch, local, filepath.Join(sb, "t"), ExtractOptions{AllowDevices: true}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(filepath.Join(sb, "t", "dev", "null2")); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Errorf("device node: %v %v", fi, err)
	}
}

var errExists = errors.New("exists")

// onlyOutside keeps the lines of a listing that are not under target/.
func onlyOutside(listing string) string {
	var keep []string
	for _, l := range strings.Split(listing, "\n") {
		if l != "target" && !strings.HasPrefix(l, "target/") && !strings.HasPrefix(l, "target=") && !strings.HasPrefix(l, "target->") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}
