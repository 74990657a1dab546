package archive

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// unverifiableDir makes, in a fresh directory, one archive of every kind
// ListAll tells apart and returns the directory.
func unverifiableDir(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	tree := t.TempDir()
	if err := os.WriteFile(filepath.Join(tree, "f"), []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mk := func(name string, days int) string {
		p := filepath.Join(dir, name)
		now := oldTime.AddDate(20, 0, days)
		f := FormatTarGz
		if strings.HasSuffix(name, ".tar.zst") {
			f = FormatTarZst
		}
		if _, err := Create(ctx, local, local, p, CreateOptions{Paths: []string{tree}, Format: f, Now: func() time.Time { return now }}); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mk("good-old.tar.gz", 0)
	mk("good-new.tar.zst", 1)
	// No manifest at all (deleted, or a run killed between rename and manifest).
	noManifest := mk("nomanifest.tar.gz", 2)
	if err := os.Remove(ManifestPath(noManifest)); err != nil {
		t.Fatal(err)
	}
	// Unparsable, with NUL bytes that must not put a remote listing out of step.
	write(ManifestPath(mk("garbage.tar.gz", 3)), "{not json\x00\x00\x00 nor this")
	// Written by a newer version.
	newer := mk("newer.tar.zst", 4)
	var m map[string]any
	b, _ := os.ReadFile(ManifestPath(newer))
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["version"] = ManifestVersion + 1
	b, _ = json.Marshal(m)
	write(ManifestPath(newer), string(b))
	// Empty manifest.
	write(ManifestPath(mk("empty.tar.gz", 5)), "")
	// A manifest that is a directory.
	dirManifest := mk("dirmanifest.tar.gz", 6)
	os.Remove(ManifestPath(dirManifest))
	if err := os.Mkdir(ManifestPath(dirManifest), 0o755); err != nil {
		t.Fatal(err)
	}
	// Neither listed nor unlisted: partial files, manifests without their
	// archive, files that are not archives, directories named like archives.
	write(filepath.Join(dir, "crashed.tar.gz.partial"), "half")
	gone := mk("gone.tar.gz", 7)
	os.Remove(gone)
	write(filepath.Join(dir, "notes.txt"), "x")
	write(filepath.Join(dir, ".tar.gz"), "x")
	if err := os.Mkdir(filepath.Join(dir, "adir.tar.gz"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func checkListAll(t *testing.T, tr transport.Transport, dir string) {
	t.Helper()
	ms, un, err := ListAll(context.Background(), tr, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || filepath.Base(ms[0].Info.File) != "good-new.tar.zst" || filepath.Base(ms[1].Info.File) != "good-old.tar.gz" {
		t.Fatalf("listed %+v", infos(ms))
	}
	want := map[string]struct {
		err  error
		text string
	}{
		"dirmanifest.tar.gz": {ErrCorrupt, "not a regular file"},
		"empty.tar.gz":       {ErrCorrupt, "manifest of"},
		"garbage.tar.gz":     {ErrCorrupt, "manifest of"},
		"newer.tar.zst":      {ErrCorrupt, "newer"},
		"nomanifest.tar.gz":  {ErrMissing, "has no manifest"},
	}
	var got []string
	for _, u := range un {
		name := filepath.Base(u.File)
		got = append(got, name)
		w, ok := want[name]
		if !ok {
			t.Errorf("unexpected unlisted %s: %v", u.File, u.Err)
			continue
		}
		if u.File != filepath.Join(dir, name) || !errors.Is(u.Err, w.err) || !strings.Contains(u.Err.Error(), w.text) || !strings.Contains(u.Err.Error(), u.File) {
			t.Errorf("%s: %v (want %v, %q)", name, u.Err, w.err, w.text)
		}
	}
	if strings.Join(got, " ") != "dirmanifest.tar.gz empty.tar.gz garbage.tar.gz newer.tar.zst nomanifest.tar.gz" {
		t.Errorf("unlisted (sorted): %v", got)
	}
	// List is unchanged: only the complete ones.
	if list, err := List(context.Background(), tr, dir); err != nil || len(list) != 2 {
		t.Errorf("List: %+v %v", infos(list), err)
	}
	if ms, un, err := ListAll(context.Background(), tr, filepath.Join(dir, "nope")); err != nil || len(ms)+len(un) != 0 {
		t.Errorf("missing dir: %v %v %v", ms, un, err)
	}
}

// An archive whose manifest is missing or unusable is not listed, but
// ListAll names it with the reason, locally and through SSH alike.
func TestListAllReportsArchivesWithoutUsableManifest(t *testing.T) {
	dir := unverifiableDir(t)
	t.Run("local", func(t *testing.T) { checkListAll(t, local, dir) })
	t.Run("ssh", func(t *testing.T) {
		_, _, dst := sshPair(t)
		checkListAll(t, dst, dir)
	})
}

func TestParseListingRejectsOutOfStepOutput(t *testing.T) {
	add := func(string, []byte) {}
	var un []Unlisted
	for _, in := range []string{
		"a.tar.gz\x00M5\x00{}\x00", // shorter than announced
		"a.tar.gz\x00M1\x00{}\x00", // longer than announced
		"a.tar.gz\x00",             // truncated
		"a.tar.gz\x00Q\x00",        // unknown kind
		"notes.txt\x00N\x00",       // not an archive name
	} {
		if err := parseListing([]byte(in), "/d", add, &un); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
	var names []string
	add = func(n string, data []byte) { names = append(names, n+"="+string(data)) }
	if err := parseListing([]byte("a.tar.gz\x00M2\x00{}\x00b.tar.zst\x00N\x00"), "/d", add, &un); err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, ",") != "a.tar.gz={},b.tar.zst=" {
		t.Errorf("parsed %v", names)
	}
}
