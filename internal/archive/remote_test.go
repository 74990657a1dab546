package archive

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/sshdtest"
	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// sshPair starts a loopback sshd and returns two SSH transports to it,
// standing for two different hosts.
func sshPair(t *testing.T) (*sshdtest.Server, *transport.SSH, *transport.SSH) {
	t.Helper()
	s := sshdtest.StartT(t)
	mk := func(name string) *transport.SSH {
		tr := transport.NewSSH(transport.SSHConfig{
			Name: name, Address: s.Addr, User: s.User, PrivateKey: s.ClientKey, KnownHostsFile: s.KnownHostsFile,
		})
		t.Cleanup(func() { tr.Close() })
		return tr
	}
	return s, mk("src"), mk("dst")
}

// normalized describes a manifest by name, with hard links resolved to
// the content they share (the first name of a link group depends on the
// order a tree is read in).
func normalized(m *Manifest) []string {
	sha := map[string]string{}
	for _, e := range m.Entries {
		if e.Type == TypeFile {
			sha[e.Name] = e.SHA256
		}
	}
	var out []string
	for _, e := range m.Entries {
		typ, h, size, link := e.Type, e.SHA256, e.Size, e.Linkname
		if typ == TypeHardlink {
			typ, h, link = TypeFile, sha[e.Linkname], ""
			for _, f := range m.Entries {
				if f.Name == e.Linkname {
					size = f.Size
				}
			}
		}
		out = append(out, fmt.Sprintf("%s %s %d %s mode=%o %d:%d %s:%s %d %q", e.Name, typ, size, h, e.Mode,
			e.UID, e.GID, e.Uname, e.Gname, e.ModTime.Unix(), link))
	}
	sort.Strings(out)
	return out
}

// A remote source is read with GNU tar there; its manifest equals the one
// the native walker makes of the same tree, extra directories included,
// and the archive (written on a third "host") extracts with GNU tar.
func TestRemoteSourceMatchesLocalWalker(t *testing.T) {
	_, src, dst := sshPair(t)
	tree, rel := srcTree(t)
	export := t.TempDir()
	if err := os.WriteFile(filepath.Join(export, "nxdump.dat"), []byte("export data\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	opts := CreateOptions{
		Paths:   []string{tree},
		Exclude: []string{"*.pem", "/" + rel + "/var/tmp"},
		Extra:   []ExtraDir{{Path: export, As: "_export"}},
	}
	dir := t.TempDir()
	ctx := context.Background()
	viaSSH, err := Create(ctx, src, dst, filepath.Join(dir, "remote.tar.gz"), opts)
	if err != nil {
		t.Fatal(err)
	}
	native, err := Create(ctx, local, local, filepath.Join(dir, "local.tar.gz"), opts)
	if err != nil {
		t.Fatal(err)
	}
	a, b := normalized(viaSSH), normalized(native)
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Errorf("GNU tar source:\n%s\n\nnative walker:\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	joined := strings.Join(a, "\n")
	if !strings.Contains(joined, "_export/nxdump.dat file 12") || strings.Contains(joined, ".pem") || strings.Contains(joined, "var/tmp") {
		t.Errorf("extra dir or excludes not applied:\n%s", joined)
	}
	// The stored file is exactly what the manifest says.
	if _, err := Verify(ctx, dst, filepath.Join(dir, "remote.tar.gz"), VerifyDeep); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o755)
	run(t, "tar", "-xpzf", filepath.Join(dir, "remote.tar.gz"), "-C", out)
	want := snapshot(t, tree)
	for name := range want {
		if strings.HasSuffix(name, ".pem") || name == "var/tmp" {
			delete(want, name)
		}
	}
	compareTrees(t, want, snapshot(t, filepath.Join(out, rel)), true, true)
}

// Archive on one remote host, extraction into another: the stream is
// checked here and piped into tar there; the tree comes back equal.
func TestRemoteExtract(t *testing.T) {
	_, src, dst := sshPair(t)
	tree, rel := srcTree(t)
	ctx := context.Background()
	dir := t.TempDir()
	for _, f := range []Format{FormatTarGz, FormatTarZst} {
		t.Run(string(f), func(t *testing.T) {
			arch := filepath.Join(dir, "a"+f.Ext())
			created, err := Create(ctx, src, src, arch, CreateOptions{Paths: []string{tree}, Format: f})
			if err != nil {
				t.Fatal(err)
			}
			target := filepath.Join(dir, "restore-"+string(f))
			got, err := Extract(ctx, src, arch, dst, target, ExtractOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got.Info.SHA256 != created.Info.SHA256 {
				t.Errorf("Extract returned manifest %+v", got.Info)
			}
			compareTrees(t, snapshot(t, tree), snapshot(t, filepath.Join(target, rel)), true, true)
			// Without overwrite, a second extraction refuses to replace files.
			if _, err := Extract(ctx, src, arch, dst, target, ExtractOptions{}); err == nil {
				t.Error("second extraction without overwrite succeeded")
			}
			if _, err := Extract(ctx, src, arch, dst, target, ExtractOptions{Overwrite: true}); err != nil {
				t.Errorf("extraction with overwrite: %v", err)
			}
			compareTrees(t, snapshot(t, tree), snapshot(t, filepath.Join(target, rel)), true, true)
		})
	}
	// A GNU tar archive without a manifest: checked in a first pass.
	gnu := filepath.Join(dir, "gnu.tar.gz")
	run(t, "tar", "-C", tree, "-czf", gnu, ".")
	target := filepath.Join(dir, "restore-gnu")
	m, err := Extract(ctx, src, gnu, dst, target, ExtractOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Info.Files == 0 || m.Info.Format != FormatTarGz {
		t.Errorf("manifest of a GNU archive: %+v", m.Info)
	}
	compareTrees(t, snapshot(t, tree), snapshot(t, target), true, true)
}

// Verify, List and Remove through SSH behave like locally.
func TestRemoteVerifyListRemove(t *testing.T) {
	_, _, dst := sshPair(t)
	tree, _ := srcTree(t)
	ctx := context.Background()
	dir := t.TempDir()
	var paths []string
	for i := 0; i < 3; i++ {
		p := filepath.Join(dir, fmt.Sprintf("gen%d.tar.zst", i))
		now := oldTime.AddDate(20, 0, i)
		if _, err := Create(ctx, local, dst, p, CreateOptions{Paths: []string{tree}, Format: FormatTarZst, Now: func() time.Time { return now }}); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	list, err := List(ctx, dst, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[0].Info.File != paths[2] || list[2].Info.File != paths[0] {
		t.Fatalf("list: %+v", infos(list))
	}
	for _, mode := range []VerifyMode{VerifyNone, VerifySize, VerifyChecksum, VerifyDeep} {
		if _, err := Verify(ctx, dst, paths[1], mode); err != nil {
			t.Errorf("verify %s: %v", mode, err)
		}
	}
	corruptByte(t, paths[1])
	if _, err := Verify(ctx, dst, paths[1], VerifyChecksum); !errors.Is(err, ErrCorrupt) {
		t.Errorf("checksum verify of a corrupted archive: %v", err)
	}
	// Check works from List's manifests without reading them again.
	for _, m := range list {
		err := Check(ctx, dst, &m, VerifyChecksum)
		if corrupted := m.Info.File == paths[1]; corrupted != errors.Is(err, ErrCorrupt) || !corrupted && err != nil {
			t.Errorf("check %s: %v", m.Info.File, err)
		}
	}
	if err := Remove(ctx, dst, paths[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(ctx, dst, paths[0], VerifySize); !errors.Is(err, ErrMissing) {
		t.Errorf("verify of a removed archive: %v", err)
	}
	list, _ = List(ctx, dst, dir)
	if len(list) != 2 {
		t.Errorf("after remove: %+v", infos(list))
	}
	if list, err := List(ctx, dst, filepath.Join(dir, "nope")); err != nil || len(list) != 0 {
		t.Errorf("list of a missing dir: %v %v", list, err)
	}
}

func infos(ms []Manifest) []Info {
	var out []Info
	for _, m := range ms {
		out = append(out, m.Info)
	}
	return out
}

// corruptByte flips one byte in the middle of a file (same size).
func corruptByte(t *testing.T, p string) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	b := make([]byte, 1)
	off := fi.Size() / 2
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x55
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// extractChecked runs the remote extraction's second half, after
// checkRemoteTarget, as Extract does.
func extractChecked(ctx context.Context, src transport.Transport, arch string, man *Manifest, dst transport.Transport, target string, tgt checkedTarget, opts ExtractOptions) error {
	x := startRemoteExtractor(ctx, dst, target, tgt, opts)
	if _, err := readMembers(ctx, src, arch, opts, man, x.add); err != nil {
		x.abort()
		return err
	}
	return x.finish()
}

// remoteArchive: two SSH "hosts", a source tree, and an archive of it
// (with its manifest) in a fresh directory.
func remoteArchive(t *testing.T) (src, dst *transport.SSH, tree, dir, arch string, man *Manifest) {
	t.Helper()
	_, src, dst = sshPair(t)
	tree, _ = srcTree(t)
	dir = t.TempDir()
	arch = filepath.Join(dir, "a.tar.gz")
	ctx := context.Background()
	if _, err := Create(ctx, src, src, arch, CreateOptions{Paths: []string{tree}}); err != nil {
		t.Fatal(err)
	}
	man, err := ReadManifest(ctx, src, arch)
	if err != nil {
		t.Fatal(err)
	}
	return src, dst, tree, dir, arch, man
}

// A target moved away after it was checked, a symlink to elsewhere put
// in its place, gets nothing: the extraction is refused, nothing is
// written where the symlink leads.
func TestRemoteExtractRefusesTargetReplacedAfterCheck(t *testing.T) {
	src, dst, _, dir, arch, man := remoteArchive(t)
	ctx := context.Background()
	target, elsewhere := filepath.Join(dir, "target"), filepath.Join(dir, "elsewhere")
	for _, d := range []string{target, elsewhere} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tgt, err := checkRemoteTarget(ctx, dst, target, man, false)
	if err != nil || tgt.created {
		t.Fatalf("check: %+v %v", tgt, err)
	}
	if err := os.Rename(target, target+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, target); err != nil {
		t.Fatal(err)
	}
	err = extractChecked(ctx, src, arch, man, dst, target, tgt, ExtractOptions{})
	if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "moved or replaced after it was checked") ||
		!strings.Contains(err.Error(), "now resolves to "+elsewhere) {
		t.Fatalf("extraction into a replaced target: %v", err)
	}
	for _, d := range []string{elsewhere, target + ".old"} {
		if ents, _ := os.ReadDir(d); len(ents) != 0 {
			t.Errorf("%s holds %d entries", d, len(ents))
		}
	}
}

// A target that does not exist is made private (0700) before anything is
// written into it, and gets mkdir's mode once filled, or, when the
// archive has a member for it, that member's mode.
func TestRemoteExtractFreshTargetPrivateWhileFilled(t *testing.T) {
	src, dst, tree, dir, arch, man := remoteArchive(t)
	ctx := context.Background()
	// mkdir's mode on that host, for this user
	ref := filepath.Join(dir, "ref")
	if _, err := transport.RunOK(ctx, dst, transport.Command{Argv: []string{"mkdir", ref}}); err != nil {
		t.Fatal(err)
	}
	mkdirMode := modeOf(t, ref)
	target := filepath.Join(dir, "new", "target")
	tgt, err := checkRemoteTarget(ctx, dst, target, man, false)
	if err != nil || !tgt.created || tgt.rootMember || tgt.root != target {
		t.Fatalf("check: %+v %v", tgt, err)
	}
	if m := modeOf(t, target); m != 0o700 {
		t.Fatalf("target made %v before extraction, want 0700", m)
	}
	if m := modeOf(t, filepath.Dir(target)); m != mkdirMode {
		t.Errorf("its parent made %v, want %v", m, mkdirMode)
	}
	if err := extractChecked(ctx, src, arch, man, dst, target, tgt, ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	if m := modeOf(t, target); m != mkdirMode {
		t.Errorf("target %v once filled, want mkdir's %v", m, mkdirMode)
	}
	// An archive with a member for its root ("./", GNU tar -C dir .).
	if err := os.Chmod(tree, 0o751); err != nil {
		t.Fatal(err)
	}
	gnu := filepath.Join(dir, "gnu.tar.gz")
	run(t, "tar", "-C", tree, "-czf", gnu, ".")
	target2 := filepath.Join(dir, "new", "target2")
	if _, err := Extract(ctx, src, gnu, dst, target2, ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	if m := modeOf(t, target2); m != 0o751 {
		t.Errorf("target %v, want the archive's 0751", m)
	}
	// A target the caller made private (CreatedTarget) is given mkdir's mode too.
	target3 := filepath.Join(dir, "new", "target3")
	if err := MakeTarget(ctx, dst, target3); err != nil {
		t.Fatal(err)
	}
	if m := modeOf(t, target3); m != 0o700 {
		t.Fatalf("MakeTarget made %v, want 0700", m)
	}
	if err := MakeTarget(ctx, dst, target3); err == nil {
		t.Error("MakeTarget of an existing directory succeeded")
	}
	if _, err := Extract(ctx, src, arch, dst, target3, ExtractOptions{CreatedTarget: true}); err != nil {
		t.Fatal(err)
	}
	if m := modeOf(t, target3); m != mkdirMode {
		t.Errorf("target made by the caller: %v once filled, want %v", m, mkdirMode)
	}
}

func modeOf(t *testing.T, p string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// The remote tar's failure is reported as tar's, not as the script's.
func TestRemoteTarErr(t *testing.T) {
	opts := ExtractOptions{SameOwner: true}
	err := remoteTarErr("box", "/srv/t", transport.Result{ExitStatus: 2, Stderr: []byte("tar: a: Cannot open: Permission denied\n")}, opts)
	if err == nil || err.Error() != `host "box": tar exited with status 2: tar: a: Cannot open: Permission denied` {
		t.Errorf("tar failure: %v", err)
	}
	var ee *transport.ExitError
	if !errors.As(err, &ee) || strings.Join(ee.Argv, " ") != "tar -x -p -f - --same-owner" {
		t.Errorf("tar failure: %#v", err)
	}
	if err := remoteTarErr("box", "/srv/t", transport.Result{}, opts); err != nil {
		t.Errorf("success: %v", err)
	}
}
