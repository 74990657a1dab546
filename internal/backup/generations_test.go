package backup

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/backupctl/terraform-provider-backupctl/internal/archive"
)

func exists(t *testing.T, p string) bool {
	t.Helper()
	_, err := os.Stat(p)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return err == nil
}

// An archive whose manifest went is reported as Unverifiable in every
// mode, never counted towards keep, never pruned, and never deleted by
// RemoveProblems or RemoveLeftovers; RemoveAll (force_destroy) deletes it.
func TestArchiveWithoutManifestIsUnverifiableAndKept(t *testing.T) {
	f := newFixture(t)
	p := f.policy()
	var files []string
	for i := 0; i < 3; i++ {
		res, _ := f.runner.Run(ctx(t), p)
		if res.Error() != nil {
			t.Fatal(res.Error())
		}
		files = append(files, res.Generation.File)
	}
	orphan := files[0]
	if err := os.Remove(archive.ManifestPath(orphan)); err != nil {
		t.Fatal(err)
	}
	local := f.local(t)
	for _, mode := range []archive.VerifyMode{archive.VerifyNone, archive.VerifySize, archive.VerifyChecksum} {
		gens, probs, err := Generations(ctx(t), local, f.dst, mode)
		if err != nil || len(gens) != 2 || len(probs) != 1 {
			t.Fatalf("%s: %d gens, problems %+v, %v", mode, len(gens), probs, err)
		}
		pr := probs[0]
		if !pr.Unverifiable || pr.Missing || pr.File != orphan || pr.ID != IDFromFile(orphan) || !errors.Is(pr.Err, archive.ErrMissing) {
			t.Fatalf("%s: problem %+v", mode, pr)
		}
		if u := Unverifiable(probs); len(u) != 1 || u[0].File != orphan {
			t.Fatalf("Unverifiable: %+v", u)
		}
	}
	_, probs, _ := Generations(ctx(t), local, f.dst, archive.VerifySize)
	if removed, err := RemoveProblems(ctx(t), local, probs); err != nil || len(removed) != 0 {
		t.Fatalf("RemoveProblems removed %v (%v)", removed, err)
	}
	if gone, err := RemoveLeftovers(ctx(t), local, orphan); err != nil || gone {
		t.Fatalf("RemoveLeftovers of an existing archive: %v %v", gone, err)
	}
	if !exists(t, orphan) || !exists(t, SidecarPath(orphan)) {
		t.Fatal("the archive without a manifest, or its labels, was deleted")
	}

	// keep 2: the new run prunes the oldest verified generation only.
	p.Keep, p.Trigger = 2, "t2"
	res, _ := f.runner.Run(ctx(t), p)
	if res.Error() != nil {
		t.Fatal(res.Error())
	}
	if want := []string{IDFromFile(files[1])}; !reflect.DeepEqual(res.Pruned, want) {
		t.Fatalf("pruned %v, want %v", res.Pruned, want)
	}
	if !exists(t, orphan) || !exists(t, SidecarPath(orphan)) || exists(t, files[1]) {
		t.Fatalf("after the run: orphan %v, labels %v, pruned one %v", exists(t, orphan), exists(t, SidecarPath(orphan)), exists(t, files[1]))
	}
	gens, probs, err := Generations(ctx(t), local, f.dst, archive.VerifySize)
	if err != nil || len(gens) != 2 || gens[0].ID != res.Generation.ID || gens[1].File != files[2] || len(probs) != 1 {
		t.Fatalf("after the run: %+v %+v %v", gens, probs, err)
	}

	// force_destroy: everything goes, the orphan too.
	ids, err := RemoveAll(ctx(t), local, f.dst)
	if err != nil || len(ids) != 3 {
		t.Fatalf("RemoveAll: %v %v", ids, err)
	}
	if exists(t, orphan) || exists(t, f.dst) {
		t.Fatal("RemoveAll left the archive without a manifest")
	}
}

// RemoveLeftovers deletes the manifest and labels of an archive that is
// gone, and nothing of one that is there.
func TestRemoveLeftoversOnlyWhenTheArchiveIsGone(t *testing.T) {
	f := newFixture(t)
	res, _ := f.runner.Run(ctx(t), f.policy())
	if res.Error() != nil {
		t.Fatal(res.Error())
	}
	file := res.Generation.File
	local := f.local(t)
	if gone, err := RemoveLeftovers(ctx(t), local, file); err != nil || gone {
		t.Fatalf("intact generation: %v %v", gone, err)
	}
	for _, s := range []string{file, archive.ManifestPath(file), SidecarPath(file)} {
		if !exists(t, s) {
			t.Fatalf("%s removed from an intact generation", s)
		}
	}
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	if gone, err := RemoveLeftovers(ctx(t), local, file); err != nil || !gone {
		t.Fatalf("archive gone: %v %v", gone, err)
	}
	for _, s := range []string{archive.ManifestPath(file), SidecarPath(file)} {
		if exists(t, s) {
			t.Fatalf("%s left", s)
		}
	}
	if _, err := RemoveLeftovers(ctx(t), local, filepath.Base(file)); err == nil {
		t.Fatal("relative path accepted")
	}
}
