package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// Names that are not UTF-8, as Groupmax and HP-UX hosts have them.
const (
	sjisFile   = "sjis-\x82\xa0.txt"        // "sjis-あ.txt" in Shift-JIS
	latin1Dir  = "caf\xe9"                  // "café" in Latin-1
	sjisLink   = "link-\x83e\x83X\x83g"     // "link-テスト" in Shift-JIS
	badByte    = "lit-\xff.txt"             // one invalid byte...
	replChar   = "lit-\xef\xbf\xbd.txt"     // ...and the U+FFFD it would become
	utf8Name   = "名前.txt"                   // valid UTF-8: stays a plain string
	sjisTarget = latin1Dir + "/" + sjisFile // a symlink target that is not UTF-8
)

// buildNonUTF8Tree makes, under root, a Latin-1 directory holding a
// Shift-JIS file, symlinks with non-UTF-8 names and targets, a hard link
// with a non-UTF-8 name, and two names that encoding/json would write
// alike (an invalid byte, and the U+FFFD it becomes).
func buildNonUTF8Tree(t *testing.T, root string) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, latin1Dir), 0o750))
	must(os.WriteFile(filepath.Join(root, sjisTarget), []byte("\x82\xa0 shift-jis content\n"), 0o640))
	must(os.WriteFile(filepath.Join(root, badByte), []byte("invalid byte"), 0o644))
	must(os.WriteFile(filepath.Join(root, replChar), []byte("replacement character"), 0o600))
	must(os.WriteFile(filepath.Join(root, utf8Name), []byte("utf-8"), 0o644))
	must(os.Symlink(sjisTarget, filepath.Join(root, sjisLink)))
	must(os.Symlink(latin1Dir, filepath.Join(root, "dir-link")))
	must(os.Link(filepath.Join(root, sjisTarget), filepath.Join(root, "hard-\xe9")))
	// Fixed times, deepest first (creating children changes a directory's).
	for i, p := range []string{sjisTarget, badByte, replChar, utf8Name, sjisLink, "dir-link", "hard-\xe9", latin1Dir, "."} {
		mt := oldTime.Add(time.Duration(i) * time.Hour).UnixNano()
		must(utimesNoFollow(filepath.Join(root, p), []syscall.Timespec{syscall.NsecToTimespec(mt), syscall.NsecToTimespec(mt)}))
	}
}

// nonUTF8Tree builds the tree in a fresh directory and returns its path
// and its member name prefix.
func nonUTF8Tree(t *testing.T) (string, string) {
	t.Helper()
	src := filepath.Join(t.TempDir(), "srv", "gmax")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	buildNonUTF8Tree(t, src)
	return src, strings.TrimPrefix(src, "/")
}

// checkExactManifest checks that the manifest written beside arch, and
// the one read back, hold every name exactly.
func checkExactManifest(t *testing.T, tr transport.Transport, arch, rel string) *Manifest {
	t.Helper()
	ctx := context.Background()
	data, err := os.ReadFile(ManifestPath(arch))
	if err != nil {
		t.Fatal(err)
	}
	var plain struct {
		Version int                      `json:"version"`
		Entries []map[string]interface{} `json:"entries"`
	}
	if err := json.Unmarshal(data, &plain); err != nil {
		t.Fatal(err)
	}
	if plain.Version != 2 {
		t.Errorf("manifest version %d, want 2 (it has names that version 1 readers would misread)", plain.Version)
	}
	// Exactly the names that are not UTF-8 have their bytes in base64:
	// the directory, the file in it, badByte, the symlink and the hard
	// link; the targets of both symlinks and of the hard link.
	count := map[string]int{}
	for _, e := range plain.Entries {
		for k := range e {
			if strings.HasSuffix(k, "_b64") {
				count[k]++
			}
		}
		if name, _ := e["name"].(string); strings.HasSuffix(name, utf8Name) || strings.HasSuffix(name, "dir-link") {
			if _, ok := e["name_b64"]; ok {
				t.Errorf("entry %q (UTF-8) has name_b64", name)
			}
		}
	}
	if len(count) != 2 || count["name_b64"] != 5 || count["linkname_b64"] != 3 {
		t.Errorf("base64 fields: %v", count)
	}
	m, err := ReadManifest(ctx, tr, arch)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Entry{}
	for _, e := range m.Entries {
		byName[e.Name] = e
	}
	for name, want := range map[string]struct{ typ, link string }{
		latin1Dir:  {TypeDir, ""},
		badByte:    {TypeFile, ""},
		replChar:   {TypeFile, ""},
		utf8Name:   {TypeFile, ""},
		sjisLink:   {TypeSymlink, sjisTarget},
		"dir-link": {TypeSymlink, latin1Dir},
	} {
		e, ok := byName[rel+"/"+name]
		if !ok {
			t.Errorf("manifest lacks %q", rel+"/"+name)
			continue
		}
		if e.Type != want.typ || e.Linkname != want.link {
			t.Errorf("%q: %s -> %q, want %s -> %q", name, e.Type, e.Linkname, want.typ, want.link)
		}
	}
	// The hard link and its file: which one comes first depends on the
	// order the tree is read in.
	a, b := byName[rel+"/hard-\xe9"], byName[rel+"/"+sjisTarget]
	if a.Type != TypeHardlink {
		a, b = b, a
	}
	if a.Type != TypeHardlink || b.Type != TypeFile || a.Linkname != b.Name {
		t.Errorf("hard link: %+v, %+v", a, b)
	}
	return m
}

// An archive of a tree whose names are not UTF-8 (Shift-JIS, Latin-1,
// symlink targets, hard links) verifies at every depth and extracts, here
// and over SSH, with the exact bytes of every name; GNU tar agrees. The
// tree is read natively, with GNU tar here, and with GNU tar over SSH.
func TestNonUTF8NamesRoundTrip(t *testing.T) {
	ctx := context.Background()
	_, sshSrc, sshDst := sshPair(t)
	tree, rel := nonUTF8Tree(t)
	want := snapshot(t, tree)
	for _, tc := range []struct {
		name     string
		src      transport.Transport
		forceTar bool
		format   Format
	}{
		{"native", local, false, FormatTarGz},
		{"gnu-tar", local, true, FormatTarZst},
		{"ssh", sshSrc, false, FormatTarGz},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			arch := filepath.Join(dir, "a"+tc.format.Ext())
			created, err := Create(ctx, tc.src, local, arch, CreateOptions{Paths: []string{tree}, Format: tc.format, forceTar: tc.forceTar})
			if err != nil {
				t.Fatal(err)
			}
			if created.Version != 2 {
				t.Errorf("Create returned version %d", created.Version)
			}
			m := checkExactManifest(t, local, arch, rel)
			if len(m.Entries) != len(created.Entries) {
				t.Fatalf("manifest read back has %d entries, Create made %d", len(m.Entries), len(created.Entries))
			}
			for i := range m.Entries {
				if m.Entries[i] != created.Entries[i] {
					t.Errorf("entry %d read back as %+v, Create made %+v", i, m.Entries[i], created.Entries[i])
				}
			}
			for _, tr := range []transport.Transport{local, sshDst} {
				for _, mode := range []VerifyMode{VerifySize, VerifyChecksum, VerifyDeep} {
					if _, err := Verify(ctx, tr, arch, mode); err != nil {
						t.Errorf("verify %s on %s: %v", mode, tr.Host(), err)
					}
				}
			}
			for _, tr := range []transport.Transport{local, sshDst} {
				target := filepath.Join(dir, "restore-"+tr.Host())
				got, err := Extract(ctx, local, arch, tr, target, ExtractOptions{})
				if err != nil {
					t.Fatalf("extract into %s: %v", tr.Host(), err)
				}
				if got.Info.SHA256 != created.Info.SHA256 {
					t.Errorf("Extract returned %+v", got.Info)
				}
				compareTrees(t, want, snapshot(t, filepath.Join(target, rel)), true, true)
			}
			// Without a manifest (an archive GNU tar would make), too.
			noMan := filepath.Join(dir, "copy"+tc.format.Ext())
			b, _ := os.ReadFile(arch)
			if err := os.WriteFile(noMan, b, 0o600); err != nil {
				t.Fatal(err)
			}
			target := filepath.Join(dir, "restore-ssh-nomanifest")
			if _, err := Extract(ctx, local, noMan, sshDst, target, ExtractOptions{}); err != nil {
				t.Fatal(err)
			}
			compareTrees(t, want, snapshot(t, filepath.Join(target, rel)), true, true)
			out := filepath.Join(dir, "gnu")
			os.Mkdir(out, 0o755)
			run(t, "tar", "-xpf", arch, "-C", out)
			compareTrees(t, want, snapshot(t, filepath.Join(out, rel)), true, true)
		})
	}
}

// v1Entry and v1Manifest are the manifest as version 1 (before names
// could be stored exactly) wrote it.
type v1Entry struct {
	Name     string    `json:"name"`
	Type     string    `json:"type"`
	Size     int64     `json:"size,omitempty"`
	SHA256   string    `json:"sha256,omitempty"`
	Mode     int64     `json:"mode"`
	UID      int       `json:"uid"`
	GID      int       `json:"gid"`
	Uname    string    `json:"uname,omitempty"`
	Gname    string    `json:"gname,omitempty"`
	ModTime  time.Time `json:"mtime"`
	Linkname string    `json:"linkname,omitempty"`
	Devmajor int64     `json:"devmajor,omitempty"`
	Devminor int64     `json:"devminor,omitempty"`
}

type v1Manifest struct {
	Version int       `json:"version"`
	Info    Info      `json:"info"`
	Entries []v1Entry `json:"entries"`
}

// A manifest written by version 1 still reads, verifies and extracts; and
// a tree whose names are all UTF-8 still gets exactly that manifest.
func TestVersion1ManifestStillVerifies(t *testing.T) {
	ctx := context.Background()
	tree, rel := srcTree(t) // non-ASCII UTF-8 names, long names, links
	arch := filepath.Join(t.TempDir(), "old.tar.gz")
	created, err := Create(ctx, local, local, arch, CreateOptions{Paths: []string{tree}})
	if err != nil {
		t.Fatal(err)
	}
	written, err := os.ReadFile(ManifestPath(arch))
	if err != nil {
		t.Fatal(err)
	}
	old := v1Manifest{Version: 1, Info: created.Info}
	for _, e := range created.Entries {
		old.Entries = append(old.Entries, v1Entry(e))
	}
	v1, err := json.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	if created.Version != 1 || !bytes.Equal(written, v1) {
		t.Errorf("a UTF-8 tree's manifest (version %d) is not what version 1 wrote:\n%s\n%s", created.Version, written, v1)
	}
	if err := os.WriteFile(ManifestPath(arch), v1, 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, dst := sshPair(t)
	for _, tr := range []transport.Transport{local, dst} {
		for _, mode := range []VerifyMode{VerifyNone, VerifySize, VerifyChecksum, VerifyDeep} {
			if _, err := Verify(ctx, tr, arch, mode); err != nil {
				t.Errorf("verify %s on %s: %v", mode, tr.Host(), err)
			}
		}
	}
	if ms, err := List(ctx, local, filepath.Dir(arch)); err != nil || len(ms) != 1 || ms[0].Version != 1 {
		t.Errorf("list: %+v %v", ms, err)
	}
	out := filepath.Join(t.TempDir(), "restore")
	if _, err := Extract(ctx, local, arch, local, out, ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	compareTrees(t, snapshot(t, tree), snapshot(t, filepath.Join(out, rel)), true, true)

	// A hand-written version 1 manifest: escapes decode as before, and a
	// U+FFFD in a name is taken as it is.
	m, err := parseManifest([]byte(`{"version":1,"info":{"file":"x","bytes":1,"sha256":"ab","files":2,"created":"2024-01-02T03:04:05Z","format":"tar.gz"},
		"entries":[{"name":"caf\u00e9","type":"dir","mode":493,"uid":0,"gid":0,"mtime":"2024-01-02T03:04:05Z"},
		{"name":"caf\u00e9/sjis-\ufffd\ufffd.txt","type":"symlink","mode":511,"uid":0,"gid":0,"mtime":"2024-01-02T03:04:05Z","linkname":"../\u540d"}]}`), "/b/x.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != 1 || len(m.Entries) != 2 || m.Entries[0].Name != "café" || m.Entries[1].Name != "café/sjis-\uFFFD\uFFFD.txt" || m.Entries[1].Linkname != "../名" {
		t.Errorf("parsed %+v", m)
	}
}

// Any bytes survive a manifest's write and read, in every name field;
// valid UTF-8 is written only as a plain string.
func TestManifestNamesExactForAnyBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var names []string
	for b := 0; b < 256; b++ {
		names = append(names, "n"+string([]byte{byte(b)})+"x")
	}
	for i := 0; i < 500; i++ {
		b := make([]byte, 1+rng.IntN(40))
		for j := range b {
			b[j] = byte(rng.IntN(256))
		}
		names = append(names, string(b))
	}
	names = append(names, "plain", utf8Name, replChar, "\u2028<&>\"\\")
	var entries []Entry
	for i, n := range names {
		entries = append(entries, Entry{Name: n, Type: TypeSymlink, Linkname: names[(i+1)%len(names)],
			Uname: names[(i+2)%len(names)], Gname: names[(i+3)%len(names)], ModTime: oldTime})
	}
	m := &Manifest{Version: manifestVersionFor(entries), Info: Info{File: "/b/a.tar.gz", Format: FormatTarGz}, Entries: entries}
	if m.Version != 2 {
		t.Errorf("version %d", m.Version)
	}
	data, err := encodeManifest(m)
	if err != nil {
		t.Fatal(err)
	}
	back, err := parseManifest(data, "/b/a.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	for i := range entries {
		if back.Entries[i] != entries[i] {
			t.Fatalf("entry %d: wrote %+v, read %+v", i, entries[i], back.Entries[i])
		}
	}
	// What a version 1 reader sees: the lossy names, and the version it refuses.
	var old v1Manifest
	if err := json.Unmarshal(data, &old); err != nil {
		t.Fatal(err)
	}
	for i, e := range old.Entries {
		if e.Name != lossyUTF8(entries[i].Name) {
			t.Errorf("plain name %q, want %q", e.Name, lossyUTF8(entries[i].Name))
		}
	}
	// Valid UTF-8 only: no base64, version 1.
	valid := []Entry{{Name: utf8Name, Type: TypeFile, Uname: "ユーザ"}, {Name: replChar, Type: TypeFile}}
	m = &Manifest{Version: manifestVersionFor(valid), Entries: valid}
	data, _ = encodeManifest(m)
	if m.Version != 1 || bytes.Contains(data, []byte("_b64")) {
		t.Errorf("version %d: %s", m.Version, data)
	}
}

// A base64 name that disagrees with its plain name (a manifest edited in
// one place only) makes the manifest unusable.
func TestManifestMismatchedRawNameRefused(t *testing.T) {
	m := &Manifest{Version: 2, Entries: []Entry{{Name: sjisFile, Type: TypeFile}}}
	data, err := encodeManifest(m)
	if err != nil {
		t.Fatal(err)
	}
	edited := bytes.Replace(data, []byte(`"name":"sjis-`), []byte(`"name":"SJIS-`), 1)
	if bytes.Equal(edited, data) {
		t.Fatalf("nothing edited in %s", data)
	}
	if _, err := parseManifest(edited, "/b/a.tar.gz"); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "name_b64") {
		t.Errorf("edited manifest: %v", err)
	}
	if back, err := parseManifest(data, "/b/a.tar.gz"); err != nil || back.Entries[0].Name != sjisFile {
		t.Errorf("unedited: %+v %v", back, err)
	}
}
