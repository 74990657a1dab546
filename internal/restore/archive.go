package restore

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/apps"
	"github.com/backupctl/terraform-provider-backupctl/internal/archive"
	"github.com/backupctl/terraform-provider-backupctl/internal/backup"
	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// ObjectPath is a file or directory a drill created on a host: Object.ID is
// the absolute path, Object.Name the provider host.
const ObjectPath = "path"

// Archive restores an archive generation (backupctl_backup_policy's, or any
// archive with a manifest) onto a directory of a host.
type Archive struct {
	// FromHost holds the archive. With GenerationID, FromPath is the
	// directory of the generations (the policy's destination path);
	// otherwise File is the archive's path and SHA256, when set, must be
	// its checksum.
	FromHost     string
	FromPath     string
	GenerationID string
	File         string
	SHA256       string

	TargetHost string
	TargetPath string
	// Overwrite allows a non-empty target (files are replaced).
	Overwrite bool
	// Application names the preset when the generation does not say it
	// (an archive without a labels file).
	Application string
	// Stop and Start replace the preset's restore commands when not nil
	// (in_place only).
	Stop, Start []string
	// RequireLabels must all be equal on the generation.
	RequireLabels map[string]string

	// found by Check
	file     string
	manifest *archive.Manifest
	labels   map[string]string
	app      string
	preset   *apps.Preset
	target   targetState
	root     bool
}

var _ Source = (*Archive)(nil)

// Kind implements Source.
func (a *Archive) Kind() string { return KindArchive }

// Identity implements Source: "<target_host>:<target_path>".
func (a *Archive) Identity() string { return ArchiveIdentity(a.TargetHost, a.TargetPath) }

// Describe implements Source.
func (a *Archive) Describe() map[string]string {
	d := map[string]string{"from_host": a.FromHost}
	set := func(k, v string) {
		if v != "" {
			d[k] = v
		}
	}
	set("from_path", a.FromPath)
	set("generation_id", a.GenerationID)
	set("file", a.File)
	set("sha256", a.SHA256)
	set("application", a.Application)
	return d
}

// targetState is what the target directory looked like before the restore.
type targetState struct {
	// Missing: target_path does not exist; Top is the topmost directory
	// that a mkdir -p creates.
	Missing bool
	Top     string
	NotDir  bool
	// First is one entry of a non-empty target.
	First string
	// Has lists the archive's top-level names already in the target.
	Has map[string]bool
}

const inspectScript = `t=$1; shift
printf 'uid=%s\0' "$(id -u)"
if [ ! -e "$t" ] && [ ! -L "$t" ]; then
  p=$t; top=$t
  while [ ! -e "$p" ] && [ ! -L "$p" ]; do top=$p; p=$(dirname -- "$p"); done
  printf 'missing=%s\0' "$top"; exit 0
fi
[ -d "$t" ] || { printf 'notdir=\0'; exit 0; }
for f in "$t"/* "$t"/.[!.]* "$t"/..?*; do
  if [ -e "$f" ] || [ -L "$f" ]; then printf 'first=%s\0' "${f##*/}"; break; fi
done
for n in "$@"; do
  if [ -e "$t/$n" ] || [ -L "$t/$n" ]; then printf 'has=%s\0' "$n"; fi
done
`

func inspectTarget(ctx context.Context, t transport.Transport, target string, names []string) (targetState, bool, error) {
	st := targetState{Has: map[string]bool{}}
	argv := append([]string{"/bin/sh", "-c", inspectScript, "sh", target}, names...)
	res, err := transport.RunOK(ctx, t, transport.Command{Argv: argv, MaxOutput: 64 << 20})
	if err != nil {
		return st, false, fmt.Errorf("inspect target %s: %w", target, err)
	}
	root := false
	for _, rec := range strings.Split(string(res.Stdout), "\x00") {
		k, v, ok := strings.Cut(rec, "=")
		if !ok {
			continue
		}
		switch k {
		case "uid":
			root = strings.TrimSpace(v) == "0"
		case "missing":
			st.Missing, st.Top = true, v
		case "notdir":
			st.NotDir = true
		case "first":
			st.First = v
		case "has":
			st.Has[v] = true
		}
	}
	return st, root, nil
}

// topNames lists the first components of the manifest's member names.
func topNames(es []archive.Entry) []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range es {
		n := e.Name
		if n == "." || n == "" {
			continue
		}
		if i := strings.IndexByte(n, '/'); i >= 0 {
			n = n[:i]
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// resolveFile finds the archive of a generation id in FromPath.
func (a *Archive) resolveFile(ctx context.Context, from transport.Transport) (string, error) {
	if a.GenerationID == "" {
		return a.File, nil
	}
	for _, f := range []archive.Format{archive.FormatTarGz, archive.FormatTarZst} {
		p := backup.FilePath(a.FromPath, a.GenerationID, f)
		_, err := archive.ReadManifest(ctx, from, p)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, archive.ErrMissing) {
			return "", err
		}
	}
	return "", fmt.Errorf("generation %q not found in %s on host %q (no %s or %s with its manifest)",
		a.GenerationID, a.FromPath, a.FromHost, a.GenerationID+archive.FormatTarGz.Ext(), a.GenerationID+archive.FormatTarZst.Ext())
}

// readLabels reads the generation's labels file, if it has one.
func readLabels(ctx context.Context, from transport.Transport, file string) (*backup.Sidecar, error) {
	res, err := from.Run(ctx, transport.Command{Argv: []string{"test", "-f", backup.SidecarPath(file)}})
	if err != nil {
		return nil, err
	}
	if res.ExitStatus != 0 {
		return nil, nil
	}
	return backup.ReadSidecar(ctx, from, file)
}

// Check implements Source: the archive's checksum against its manifest
// (and against SHA256), the labels, the preset and the target.
func (a *Archive) Check(ctx context.Context, r *Run) (time.Time, error) {
	from, err := r.Host(a.FromHost)
	if err != nil {
		return time.Time{}, err
	}
	to, err := r.Host(a.TargetHost)
	if err != nil {
		return time.Time{}, err
	}
	if a.file, err = a.resolveFile(ctx, from); err != nil {
		return time.Time{}, err
	}
	r.Rec.update(func(p *Report) { p.Source["file"] = a.file })

	// Checksum before: the file against its manifest (and the caller's).
	err = r.Rec.Step("verify archive checksum (before)", a.FromHost, func() (string, error) {
		m, err := archive.Verify(ctx, from, a.file, archive.VerifyChecksum)
		if err != nil {
			return "", fmt.Errorf("archive %s on host %q: %w", a.file, a.FromHost, err)
		}
		a.manifest = m
		if a.SHA256 != "" && !strings.EqualFold(a.SHA256, m.Info.SHA256) {
			return "", fmt.Errorf("archive %s on host %q has SHA-256 %s, not the expected %s", a.file, a.FromHost, m.Info.SHA256, a.SHA256)
		}
		return fmt.Sprintf("%d bytes, sha256 %s, %d members", m.Info.Bytes, m.Info.SHA256, m.Info.Files), nil
	})
	if err != nil {
		r.Rec.Check("archive checksum (before)", false, err.Error())
		return time.Time{}, err
	}
	r.Rec.Check("archive checksum (before)", true, "sha256 "+a.manifest.Info.SHA256)
	r.Rec.update(func(p *Report) { p.Source["sha256"] = a.manifest.Info.SHA256 })

	sc, err := readLabels(ctx, from, a.file)
	if err != nil {
		return time.Time{}, fmt.Errorf("labels of %s: %w", a.file, err)
	}
	a.labels = map[string]string{}
	if sc != nil {
		for k, v := range sc.Labels {
			a.labels[k] = v
		}
		a.app = sc.Application
	}
	if err := a.checkLabels(r, sc != nil); err != nil {
		return time.Time{}, err
	}

	names := topNames(a.manifest.Entries)
	a.target, a.root, err = inspectTarget(ctx, to, a.TargetPath, names)
	if err != nil {
		return time.Time{}, err
	}
	switch {
	case a.target.NotDir:
		return time.Time{}, fmt.Errorf("target_path %s on host %q exists and is not a directory", a.TargetPath, a.TargetHost)
	case a.target.Missing && r.Mode == ModeInPlace:
		return time.Time{}, fmt.Errorf("target_path %s does not exist on host %q: an in_place restore writes over an existing tree", a.TargetPath, a.TargetHost)
	case a.target.First != "" && !a.Overwrite:
		return time.Time{}, fmt.Errorf("target_path %s on host %q is not empty (it holds %q): refusing to write over it; set overwrite = true to replace files there",
			a.TargetPath, a.TargetHost, a.target.First)
	}
	r.Rec.Check("target", true, a.targetDetail())
	return a.manifest.Info.Created, nil
}

func (a *Archive) targetDetail() string {
	switch {
	case a.target.Missing:
		return fmt.Sprintf("%s does not exist on %s: it will be created", a.TargetPath, a.TargetHost)
	case a.target.First == "":
		return fmt.Sprintf("%s on %s is empty", a.TargetPath, a.TargetHost)
	default:
		return fmt.Sprintf("%s on %s is not empty; overwrite = true", a.TargetPath, a.TargetHost)
	}
}

// checkLabels applies require_labels and the preset's rules.
func (a *Archive) checkLabels(r *Run, haveSidecar bool) error {
	if a.Application != "" {
		if a.app != "" && a.app != a.Application {
			return fmt.Errorf("the generation was taken with application %q, not %q", a.app, a.Application)
		}
		a.app = a.Application
	}
	keys := make([]string, 0, len(a.RequireLabels))
	for k := range a.RequireLabels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		want := a.RequireLabels[k]
		got, ok := a.labels[k]
		switch {
		case !haveSidecar:
			return fmt.Errorf("require_labels.%s = %q, but the archive %s has no labels file: its labels are unknown", k, want, a.file)
		case !ok:
			return fmt.Errorf("require_labels.%s = %q, but the generation has no label %q", k, want, k)
		case got != want:
			if k == apps.LabelServerGroup {
				return fmt.Errorf("refused: this is a backup of server group %q (label server_group), but require_labels.server_group = %q: a server group's backup must never be restored into a server of another group", got, want)
			}
			return fmt.Errorf("require_labels.%s = %q, but the generation's label is %q", k, want, got)
		}
		r.Rec.Check("label "+k, true, fmt.Sprintf("%q", got))
	}
	if a.app == "" {
		return nil
	}
	p, err := apps.Resolve(a.app, a.labels)
	if err != nil {
		return fmt.Errorf("the generation's application: %w", err)
	}
	a.preset = &p
	r.Rec.update(func(rep *Report) { rep.Source["application"] = a.app })
	// Labels the preset says must match: require_labels must name the
	// target's value (its equality with the generation's was checked above).
	for _, l := range p.Restore.MatchLabels {
		if _, ok := a.RequireLabels[l]; !ok {
			return fmt.Errorf("a %s backup (label %s = %q) is restored only into the same %s: set require_labels.%s to the target's %s",
				p.Title, l, a.labels[l], strings.ReplaceAll(l, "_", " "), l, strings.ReplaceAll(l, "_", " "))
		}
	}
	return nil
}

// effective returns the stop and start commands of an in_place restore.
func (a *Archive) effective() (stop, start []string) {
	var ps, pt []string
	if a.preset != nil {
		ps, pt = a.preset.Restore.Stop, a.preset.Restore.Start
	}
	stop, start = ps, pt
	if a.Stop != nil {
		stop = a.Stop
	}
	if a.Start != nil {
		start = a.Start
	}
	return stop, start
}

// Restore implements Source.
func (a *Archive) Restore(ctx context.Context, r *Run) error {
	to, err := r.Host(a.TargetHost)
	if err != nil {
		return err
	}
	from, err := r.Host(a.FromHost)
	if err != nil {
		return err
	}
	if a.preset != nil {
		for _, n := range a.preset.Restore.Notes {
			r.Rec.Note(n)
		}
	}
	stop, start := a.effective()
	env := a.env()
	if r.Mode == ModeInPlace {
		err := commandList{Label: "stop", Cmds: stop}.run(ctx, r.Rec, r.Hosts, to, env)
		if err == nil {
			err = a.extract(ctx, r, from, to, false)
		}
		// Services stopped for the restore come back, whatever happened.
		fctx, cancel := finalContext(ctx)
		defer cancel()
		serr := commandList{Label: "start", Cmds: start, All: true}.run(fctx, r.Rec, r.Hosts, to, env)
		return errors.Join(err, serr)
	}
	if len(stop)+len(start) > 0 {
		r.Rec.Note(fmt.Sprintf("Drill: the restore went to %s, away from the live service, so its stop/start commands (%s) were not run.",
			a.TargetPath, strings.Join(append(append([]string{}, stop...), start...), "; ")))
	}
	if a.target.Missing {
		err := r.Rec.Step("create target directory", a.TargetHost, func() (string, error) {
			// Private (0700) until filled, so that no other user can put
			// a symlink in it meanwhile: Extract gives it mkdir's mode
			// when done (CreatedTarget).
			return a.TargetPath, archive.MakeTarget(ctx, to, a.TargetPath)
		})
		if err != nil {
			return err
		}
		r.Create(Object{Type: ObjectPath, ID: a.target.Top, Name: a.TargetHost})
	} else {
		for _, n := range topNames(a.manifest.Entries) {
			if !a.target.Has[n] {
				r.Create(Object{Type: ObjectPath, ID: path.Join(a.TargetPath, n), Name: a.TargetHost})
			}
		}
	}
	return a.extract(ctx, r, from, to, a.target.Missing)
}

// extract writes the archive into the target; created: the drill has
// just made the target (archive.MakeTarget).
func (a *Archive) extract(ctx context.Context, r *Run, from, to transport.Transport, created bool) error {
	err := r.Rec.Step("extract", a.TargetHost, func() (string, error) {
		m, err := archive.Extract(ctx, from, a.file, to, a.TargetPath, archive.ExtractOptions{Overwrite: a.Overwrite, CreatedTarget: created})
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%d members from %s:%s into %s", len(m.Entries), a.FromHost, a.file, a.TargetPath), nil
	})
	if err != nil {
		return err
	}
	for _, e := range a.manifest.Entries {
		if e.Name == backup.ExportAs || strings.HasPrefix(e.Name, backup.ExportAs+"/") {
			r.Rec.Note(fmt.Sprintf("The archive holds %s/ (export files and database dumps): it was restored as %s; import it with the application's own tools.",
				backup.ExportAs, path.Join(a.TargetPath, backup.ExportAs)))
			break
		}
	}
	var tree TreeResult
	err = r.Rec.Step("verify restored files (after)", a.TargetHost, func() (string, error) {
		var err error
		tree, err = CheckTree(ctx, to, a.TargetPath, a.manifest.Entries, a.root)
		if err != nil {
			return "", err
		}
		if !tree.OK() {
			return tree.Summary(), fmt.Errorf("restored files in %s on host %q differ from the archive's manifest: %s", a.TargetPath, a.TargetHost, tree.Summary())
		}
		return tree.Summary(), nil
	})
	r.Rec.Check("restored files match the manifest (after)", err == nil && tree.OK(), tree.Summary())
	return err
}

// env is what stop/start and verify commands see.
func (a *Archive) env() map[string]string {
	return map[string]string{
		"RESTORE_HOST":    a.TargetHost,
		"RESTORE_PATH":    a.TargetPath,
		"RESTORE_ARCHIVE": a.file,
	}
}

// VerifyOn implements Source: the target host.
func (a *Archive) VerifyOn(*Run) (string, map[string]string) { return a.TargetHost, a.env() }

// Rollback implements Source.
func (a *Archive) Rollback(ctx context.Context, r *Run, objs []Object) ([]Object, error) {
	return RemovePaths(ctx, r.Hosts, objs)
}

// RemovePaths removes the ObjectPath objects (rm -rf on their host) and
// returns those it could not remove, with the errors. Other objects are
// returned untouched.
func RemovePaths(ctx context.Context, hosts Hosts, objs []Object) ([]Object, error) {
	var left []Object
	var errs []error
	for _, o := range objs {
		if o.Type != ObjectPath {
			left = append(left, o)
			continue
		}
		if err := CheckAbsClean(o.ID); err != nil || o.ID == "/" {
			errs = append(errs, fmt.Errorf("refusing to remove %q on host %q", o.ID, o.Name))
			left = append(left, o)
			continue
		}
		t, err := hosts(o.Name)
		if err == nil {
			_, err = transport.RunOK(ctx, t, transport.Command{Argv: []string{"rm", "-rf", "--", o.ID}})
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("remove %s on host %q: %w", o.ID, o.Name, err))
			left = append(left, o)
		}
	}
	return left, errors.Join(errs...)
}
