package archive

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// srcTree builds the reference tree in a fresh directory and returns its
// absolute path and the member name it has inside archives.
func srcTree(t *testing.T) (string, string) {
	t.Helper()
	src := filepath.Join(t.TempDir(), "srv", "smf")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	buildTree(t, src)
	return src, strings.TrimPrefix(src, "/")
}

// Our archives extract with plain GNU tar -xpf, and the result equals the
// source tree: owners (by name and numeric-only), modes with special bits,
// mtimes, symlinks, hard links, empty directories, FIFOs.
func TestGNUTarExtractsOurArchives(t *testing.T) {
	src, rel := srcTree(t)
	want := snapshot(t, src)
	for _, tc := range []struct {
		format Format
		flags  []string
	}{
		{FormatTarGz, []string{"-xpzf"}},
		{FormatTarZst, []string{"--zstd", "-xpf"}},
	} {
		t.Run(string(tc.format), func(t *testing.T) {
			dir := t.TempDir()
			arch := filepath.Join(dir, "backup"+tc.format.Ext())
			m, err := Create(context.Background(), local, local, arch, CreateOptions{Paths: []string{src}, Format: tc.format})
			if err != nil {
				t.Fatal(err)
			}
			if m.Info.Format != tc.format || m.Info.Bytes == 0 || len(m.Info.SHA256) != 64 {
				t.Fatalf("info: %+v", m.Info)
			}
			if int(m.Info.Files) != len(want) {
				t.Errorf("manifest lists %d members, the tree has %d", m.Info.Files, len(want))
			}
			out := filepath.Join(dir, "out")
			os.Mkdir(out, 0o755)
			args := append(append([]string{"tar"}, tc.flags...), arch, "-C", out)
			run(t, args...)
			compareTrees(t, want, snapshot(t, filepath.Join(out, rel)), true, true)
		})
	}
}

// GNU tar's archives (with and without "./" names, gzip and zstd) extract
// with Extract into the same tree.
func TestExtractGNUTarArchives(t *testing.T) {
	src, rel := srcTree(t)
	want := snapshot(t, src)
	for _, tc := range []struct {
		name   string
		create []string
		sub    string
	}{
		{"absolute-gz", []string{"tar", "-C", "/", "-czf", "ARCH", rel}, rel},
		{"dot-zst", []string{"tar", "--zstd", "-C", src, "-cf", "ARCH", "."}, ""},
		{"posix-plain", []string{"tar", "--format=posix", "-C", "/", "-cf", "ARCH", rel}, rel},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			arch := filepath.Join(dir, "gnu.tar")
			argv := append([]string(nil), tc.create...)
			for i := range argv {
				if argv[i] == "ARCH" {
					argv[i] = arch
				}
			}
			run(t, argv...)
			out := filepath.Join(dir, "out")
			m, err := Extract(context.Background(), local, arch, local, out, ExtractOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if int(m.Info.Files) != len(want) {
				t.Errorf("manifest built from the archive lists %d members, the tree has %d", m.Info.Files, len(want))
			}
			compareTrees(t, want, snapshot(t, filepath.Join(out, tc.sub)), tc.sub == "", true)
		})
	}
}

// Create then Extract gives back the same tree, and the manifest returned
// by Extract is the one written by Create.
func TestRoundTrip(t *testing.T) {
	src, rel := srcTree(t)
	want := snapshot(t, src)
	for _, f := range []Format{FormatTarGz, FormatTarZst} {
		t.Run(string(f), func(t *testing.T) {
			dir := t.TempDir()
			arch := filepath.Join(dir, "a"+f.Ext())
			created, err := Create(context.Background(), local, local, arch, CreateOptions{Paths: []string{src}, Format: f})
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "restore")
			got, err := Extract(context.Background(), local, arch, local, out, ExtractOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got.Info.SHA256 != created.Info.SHA256 || len(got.Entries) != len(created.Entries) {
				t.Errorf("Extract returned %+v, Create wrote %+v", got.Info, created.Info)
			}
			compareTrees(t, want, snapshot(t, filepath.Join(out, rel)), true, true)
			if _, err := Extract(context.Background(), local, arch, local, out, ExtractOptions{}); err == nil || !strings.Contains(err.Error(), "already exists") {
				t.Errorf("second extraction without overwrite: %v", err)
			}
			if _, err := Extract(context.Background(), local, arch, local, out, ExtractOptions{Overwrite: true}); err != nil {
				t.Errorf("extraction with overwrite: %v", err)
			}
			compareTrees(t, want, snapshot(t, filepath.Join(out, rel)), true, true)
		})
	}
}

// The manifest records owner names and ids, modes, types and hashes.
func TestManifestContents(t *testing.T) {
	src, rel := srcTree(t)
	uid, gid := ensureTestUser(t)
	arch := filepath.Join(t.TempDir(), "m.tar.gz")
	now := time.Date(2024, 5, 6, 7, 8, 9, 500, time.UTC)
	m, err := Create(context.Background(), local, local, arch, CreateOptions{Paths: []string{src}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	// Full precision, in the file too: generations are ordered by it.
	if !m.Info.Created.Equal(now) {
		t.Errorf("created %v, want %v", m.Info.Created, now)
	}
	if back, err := ReadManifest(context.Background(), local, arch); err != nil {
		t.Error(err)
	} else if !back.Info.Created.Equal(now) {
		t.Errorf("manifest read back: created %v, want %v", back.Info.Created, now)
	}
	byName := map[string]Entry{}
	for _, e := range m.Entries {
		byName[e.Name] = e
	}
	key := byName[rel+"/etc/rs-key.pem"]
	if key.Type != TypeFile || key.Mode != 0o600 || key.UID != uid || key.GID != gid || key.Uname != testUser || key.Gname != testGroup || key.Size != 1700 {
		t.Errorf("rs-key.pem: %+v", key)
	}
	if key.SHA256 != fileSHA(t, filepath.Join(src, "etc/rs-key.pem")) {
		t.Errorf("rs-key.pem hash %s", key.SHA256)
	}
	if e := byName[rel+"/etc/hbprop.inc"]; e.UID != noNameUID || e.Uname != "" {
		t.Errorf("numeric owner: %+v", e)
	}
	if e := byName[rel+"/var/bin-tool"]; e.Mode != 0o4755 {
		t.Errorf("setuid mode: %o", e.Mode)
	}
	if e := byName[rel+"/etc/current.cfg"]; e.Type != TypeSymlink || e.Linkname != "proxy.cfg" {
		t.Errorf("symlink: %+v", e)
	}
	links := 0
	for _, e := range m.Entries {
		if e.Type == TypeHardlink {
			links++
			if e.Linkname == "" || byName[e.Linkname].Type != TypeFile {
				t.Errorf("hard link %s -> %q", e.Name, e.Linkname)
			}
		}
	}
	if links != 2 {
		t.Errorf("%d hard links, want 2", links)
	}
	if e := byName[rel+"/deep/empty/nested"]; e.Type != TypeDir || e.Mode != 0o711 {
		t.Errorf("empty dir: %+v", e)
	}
	if e := byName[rel+"/var/proxy/fifo"]; e.Type != TypeFIFO {
		t.Errorf("fifo: %+v", e)
	}
	if e := byName[rel+"/etc/proxy.cfg"]; !e.ModTime.Before(time.Date(2002, 1, 1, 0, 0, 0, 0, time.UTC)) || e.ModTime.Before(oldTime) {
		t.Errorf("mtime %v", e.ModTime)
	}
}
