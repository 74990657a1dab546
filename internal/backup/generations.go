package backup

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/archive"
	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// Generation is one complete archive of a policy.
type Generation struct {
	ID      string
	File    string
	Bytes   int64
	SHA256  string
	Files   int64
	Created time.Time
	Format  archive.Format
	Labels  map[string]string
	// Sidecar is nil for an archive without a labels file (adopted).
	Sidecar *Sidecar
}

// Problem is an archive that failed its check, or one that cannot be
// checked at all.
type Problem struct {
	ID   string
	File string
	// Missing: the archive is gone (its manifest was listed).
	Missing bool
	// Unverifiable: the archive file is there but its manifest is missing,
	// unparsable or of a newer version, so nothing about it can be
	// checked. Such an archive is not a generation (it is neither counted
	// towards keep nor pruned) and is never deleted except by RemoveAll:
	// it may be intact, and the only copy of its data.
	Unverifiable bool
	Err          error
}

func fromManifest(m *archive.Manifest) Generation {
	return Generation{
		ID:      IDFromFile(m.Info.File),
		File:    m.Info.File,
		Bytes:   m.Info.Bytes,
		SHA256:  m.Info.SHA256,
		Files:   m.Info.Files,
		Created: m.Info.Created.UTC(),
		Format:  m.Info.Format,
		Labels:  map[string]string{},
	}
}

// Generations lists the complete archives in dir on t, newest first, each
// checked with mode (size, checksum or none). An archive that fails its
// check is returned as a Problem instead, and so is an archive file whose
// manifest is missing or unusable (Unverifiable, whatever the mode). A
// directory that does not exist holds no generations.
func Generations(ctx context.Context, t transport.Transport, dir string, mode archive.VerifyMode) ([]Generation, []Problem, error) {
	ms, unlisted, err := archive.ListAll(ctx, t, dir)
	if err != nil {
		if errors.Is(err, archive.ErrMissing) {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("list archives in %s on %s: %w", dir, t.Host(), err)
	}
	var sidecars map[string]*Sidecar
	if len(ms) > 0 {
		if sidecars, err = readSidecars(ctx, t, dir); err != nil {
			return nil, nil, err
		}
	}
	var gens []Generation
	var probs []Problem
	for i := range ms {
		g := fromManifest(&ms[i])
		if mode != archive.VerifyNone {
			// The manifest List read: reading it again could see it gone
			// and mistake an intact archive for a missing one.
			if err := archive.Check(ctx, t, &ms[i], orSize(mode)); err != nil {
				switch {
				case errors.Is(err, archive.ErrMissing):
					probs = append(probs, Problem{ID: g.ID, File: g.File, Missing: true, Err: err})
					continue
				case errors.Is(err, archive.ErrCorrupt):
					probs = append(probs, Problem{ID: g.ID, File: g.File, Err: err})
					continue
				default:
					return nil, nil, fmt.Errorf("check %s on %s: %w", g.File, t.Host(), err)
				}
			}
		}
		if sc := sidecars[g.File]; sc != nil {
			g.Sidecar = sc
			for k, v := range sc.Labels {
				g.Labels[k] = v
			}
		}
		gens = append(gens, g)
	}
	for _, u := range unlisted {
		probs = append(probs, Problem{ID: IDFromFile(u.File), File: u.File, Unverifiable: true, Err: u.Err})
	}
	return gens, probs, nil
}

// Unverifiable returns the problems that are unverifiable archives.
func Unverifiable(probs []Problem) []Problem {
	var out []Problem
	for _, p := range probs {
		if p.Unverifiable {
			out = append(out, p)
		}
	}
	return out
}

func orSize(m archive.VerifyMode) archive.VerifyMode {
	if m == "" {
		return archive.VerifySize
	}
	return m
}

// Remove deletes one generation: archive, manifest and labels file.
func Remove(ctx context.Context, t transport.Transport, file string) error {
	if err := archive.Remove(ctx, t, file); err != nil && !errors.Is(err, archive.ErrMissing) {
		return err
	}
	_, err := transport.RunOK(ctx, t, transport.Command{Argv: []string{"rm", "-f", "--", SidecarPath(file)}})
	return err
}

// Prune removes the generations of gens (newest first) beyond keep and
// returns the ids it removed. It stops at the first failure.
func Prune(ctx context.Context, t transport.Transport, gens []Generation, keep int) ([]string, error) {
	if keep < 1 {
		return nil, fmt.Errorf("keep must be at least 1, got %d", keep)
	}
	var removed []string
	for i := keep; i < len(gens); i++ {
		if err := Remove(ctx, t, gens[i].File); err != nil {
			return removed, fmt.Errorf("prune %s: %w", gens[i].ID, err)
		}
		removed = append(removed, gens[i].ID)
	}
	return removed, nil
}

// PruneCandidates returns the ids a Prune with keep would remove.
func PruneCandidates(gens []Generation, keep int) []string {
	var ids []string
	for i := keep; i < len(gens); i++ {
		ids = append(ids, gens[i].ID)
	}
	return ids
}

// RemoveAll deletes every generation in dir (listed, failing its check or
// unverifiable: this is destroy with force_destroy), then the directory
// itself when it is empty. It returns the removed ids.
func RemoveAll(ctx context.Context, t transport.Transport, dir string) ([]string, error) {
	gens, probs, err := Generations(ctx, t, dir, archive.VerifyNone)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, g := range gens {
		if err := Remove(ctx, t, g.File); err != nil {
			return removed, fmt.Errorf("remove %s: %w", g.ID, err)
		}
		removed = append(removed, g.ID)
	}
	for _, p := range probs {
		if err := Remove(ctx, t, p.File); err != nil {
			return removed, fmt.Errorf("remove %s: %w", p.ID, err)
		}
		removed = append(removed, p.ID)
	}
	// Only an empty directory goes; anything else in it stays.
	_, _ = t.Run(ctx, transport.Command{Argv: []string{"rmdir", "--", dir}})
	return removed, nil
}

// RemoveProblems deletes the archives that failed their check (accepting
// the drift: a corrupt archive cannot be restored and would be reported
// forever) and the leftovers of missing ones (a manifest or labels file
// without its archive). Unverifiable archives are skipped: they are never
// deleted by accepting drift. It returns the removed files.
func RemoveProblems(ctx context.Context, t transport.Transport, probs []Problem) ([]string, error) {
	var removed []string
	for _, p := range probs {
		if p.Unverifiable {
			continue
		}
		if err := Remove(ctx, t, p.File); err != nil {
			return removed, fmt.Errorf("remove %s: %w", p.File, err)
		}
		removed = append(removed, p.File)
	}
	return removed, nil
}

// leftoversOfScript removes the manifest, labels and partial files of
// archive $1, only when the archive itself does not exist (checked on the
// host, at the moment of removing). It prints "kept" otherwise.
const leftoversOfScript = `[ -e "$1" ] || [ -h "$1" ] && { echo kept; exit 0; }
rm -f -- "$1` + archive.ManifestSuffix + `" "$1` + SidecarSuffix + `" "$1` + archive.PartialSuffix + `"`

// RemoveLeftovers deletes what is left of a generation whose archive file
// is gone (its manifest, labels and partial files). When the archive file
// exists it removes nothing and reports false: the archive, and the labels
// that describe it, stay.
func RemoveLeftovers(ctx context.Context, t transport.Transport, file string) (bool, error) {
	if !path.IsAbs(file) {
		return false, fmt.Errorf("archive path %q is not absolute", file)
	}
	res, err := transport.RunOK(ctx, t, transport.Command{Argv: []string{"/bin/sh", "-c", leftoversOfScript, "sh", file}})
	if err != nil {
		return false, fmt.Errorf("remove the leftovers of %s: %w", file, err)
	}
	return strings.TrimSpace(string(res.Stdout)) != "kept", nil
}

// leftoversScript removes, in directory $1, the half-written archives
// ("*.partial") and the labels files whose archive is gone, except those
// of generation $2 (the run in progress). It prints what it removed.
const leftoversScript = `cd -- "$1" 2>/dev/null || exit 0
for f in *` + archive.PartialSuffix + `; do
  [ -f "$f" ] || continue
  case "$f" in "$2".*) continue ;; esac
  rm -f -- "$f" && printf '%s\n' "$f"
done
for f in *` + SidecarSuffix + `; do
  [ -f "$f" ] || continue
  [ -e "${f%` + SidecarSuffix + `}" ] && continue
  case "$f" in "$2".*) continue ;; esac
  rm -f -- "$f" && printf '%s\n' "$f"
done`

// CleanLeftovers removes what interrupted runs left in dir: partial
// archives and labels files without their archive (never those of the
// generation keepID). The directory belongs to one policy, whose runs
// never overlap, so anything half-written there is stale. It returns the
// removed file names.
func CleanLeftovers(ctx context.Context, t transport.Transport, dir, keepID string) ([]string, error) {
	res, err := transport.RunOK(ctx, t, transport.Command{Argv: []string{"/bin/sh", "-c", leftoversScript, "sh", dir, keepID}})
	if err != nil {
		return nil, fmt.Errorf("clean leftovers in %s: %w", dir, err)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(res.Stdout)), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out, nil
}
