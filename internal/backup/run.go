package backup

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/apps"
	"github.com/backupctl/terraform-provider-backupctl/internal/archive"
	"github.com/backupctl/terraform-provider-backupctl/internal/dbdump"
	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// Hosts hands out transports by provider host name (*transport.Pool).
type Hosts interface {
	Get(name string) (transport.Transport, error)
}

// Phases of a run, as reported in Step.Phase.
const (
	PhasePrepare      = "prepare"
	PhaseStop         = "stop"
	PhaseDump         = "database"
	PhaseExport       = "export"
	PhaseArchive      = "archive"
	PhaseVerify       = "verify"
	PhaseAfterSuccess = "after_success"
	PhaseStart        = "start"
	PhaseCleanup      = "cleanup"
	PhasePrune        = "prune"
)

// Step is one thing a run did (or skipped).
type Step struct {
	Phase   string
	Host    string
	Command string // as written by the user, or what was done
	// ExitStatus of a command (0 for steps that are not commands).
	ExitStatus int
	// Err is the failure, secrets masked ("" on success).
	Err string
	// Output is the tail of what a command printed, secrets masked.
	Output string
	// Skipped: not run because an earlier step failed.
	Skipped  bool
	Duration time.Duration
}

// Result is what a run did.
type Result struct {
	// Generation is the new generation: set only when the archive is
	// complete and verified.
	Generation *Generation
	// Err is the backup's own failure (stop, dump, export, archive, verify
	// or after_success); nil when the backup succeeded.
	Err error
	// StartErr joins the failures of start commands (all of them ran).
	StartErr error
	// CleanupErr: the export directory could not be removed.
	CleanupErr error
	// Pruned are the generation ids removed beyond keep; PruneErr a failure.
	Pruned   []string
	PruneErr error
	Steps    []Step
}

// Error joins every failure of the run, the backup's own first.
func (r *Result) Error() error {
	return errors.Join(r.Err, r.StartErr, r.CleanupErr, r.PruneErr)
}

// Runner runs backups.
type Runner struct {
	Hosts Hosts
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Secrets are masked in step output and errors (e.g. the pool's).
	Secrets []string
	// OnStep, when set, is told about every step as it ends.
	OnStep func(Step)
	// FinalTimeout bounds the start commands and the cleanup, which run
	// even when ctx has ended (default 30 minutes).
	FinalTimeout time.Duration
	// OutputTail is how much of a command's output a Step keeps (default 4 KiB).
	OutputTail int
}

type run struct {
	r       *Runner
	p       Policy
	res     *Result
	secrets []string
	env     map[string]string
	src     transport.Transport
	dst     transport.Transport
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Run takes one backup of p and prunes beyond p.Keep. The returned error
// is non-nil only when the run could not start at all (bad policy, unknown
// host); everything else is in the Result.
func (r *Runner) Run(ctx context.Context, p Policy) (*Result, error) {
	if p.Keep < 1 {
		return nil, fmt.Errorf("keep must be at least 1")
	}
	if !p.Destination.Format.Valid() {
		return nil, fmt.Errorf("unknown format %q", p.Destination.Format)
	}
	src, err := r.Hosts.Get(p.Host)
	if err != nil {
		return nil, err
	}
	dst, err := r.Hosts.Get(p.DestHost())
	if err != nil {
		return nil, err
	}
	for h := range CommandHosts(p) {
		if _, err := r.Hosts.Get(h); err != nil {
			return nil, err
		}
	}
	x := &run{r: r, p: p, res: &Result{}, src: src, dst: dst}
	x.secrets = append([]string{}, r.Secrets...)
	if p.Database != nil && p.Database.Password != "" {
		x.secrets = append(x.secrets, p.Database.Password)
	}
	x.do(ctx)
	return x.res, nil
}

func (x *run) step(s Step) {
	s.Err = transport.Mask(s.Err, x.secrets...)
	s.Output = transport.Mask(s.Output, x.secrets...)
	x.res.Steps = append(x.res.Steps, s)
	if x.r.OnStep != nil {
		x.r.OnStep(s)
	}
}

func (x *run) mask(err error) error {
	if err == nil {
		return nil
	}
	msg := transport.Mask(err.Error(), x.secrets...)
	if msg == err.Error() {
		return err
	}
	return &maskedErr{msg: msg, err: err}
}

type maskedErr struct {
	msg string
	err error
}

func (e *maskedErr) Error() string { return e.msg }
func (e *maskedErr) Unwrap() error { return e.err }

func (x *run) do(ctx context.Context) {
	p := x.p
	started := x.r.now().UTC()
	id := NewID(p.Destination.Path, started)
	file := FilePath(p.Destination.Path, id, p.Destination.Format)
	x.env = map[string]string{
		"BACKUP_SOURCE_HOST":      p.Host,
		"BACKUP_DESTINATION_HOST": p.DestHost(),
		"BACKUP_ARCHIVE":          file,
		"BACKUP_GENERATION_ID":    id,
	}

	// Final steps run whatever happened, on a context that outlives ctx.
	exportDir := ""
	defer func() {
		fctx, cancel := x.finalContext(ctx)
		defer cancel()
		x.res.StartErr = x.runList(fctx, PhaseStart, p.Start, true)
		if exportDir != "" {
			x.res.CleanupErr = x.removeExportDir(fctx, exportDir)
		}
		if x.res.Err == nil && x.res.Generation != nil {
			x.prune(ctx, x.res.Generation.ID)
		}
	}()

	fail := func(phase string, err error) {
		x.res.Err = x.mask(fmt.Errorf("%s: %w", phase, err))
	}

	// 1. prepare
	hostname, err := x.prepare(ctx)
	if err != nil {
		fail(PhasePrepare, err)
		x.skip(PhaseStop, p.Stop)
		return
	}
	x.env["BACKUP_SOURCE_HOSTNAME"] = hostname
	if exportDir, err = x.makeExportDir(ctx); err != nil {
		fail(PhasePrepare, err)
		x.skip(PhaseStop, p.Stop)
		return
	}
	x.env["BACKUP_EXPORT_DIR"] = exportDir

	// 2. stop
	if err := x.runList(ctx, PhaseStop, p.Stop, false); err != nil {
		x.res.Err = err
		return
	}
	// 3. database and export
	if p.Database != nil {
		if err := x.dump(ctx, exportDir); err != nil {
			fail(PhaseDump, err)
			x.skip(PhaseExport, p.Export)
			return
		}
	}
	if err := x.runList(ctx, PhaseExport, p.Export, false); err != nil {
		x.res.Err = err
		return
	}
	// 4. archive, 5. verify
	sc := &Sidecar{Version: SidecarVersion, ID: id, Labels: p.Labels, Application: p.Application,
		Trigger: p.Trigger, SourceHost: p.Host, SourceHostname: hostname, Paths: p.Paths,
		Export: len(p.Export) > 0 || p.Database != nil, Started: started}
	if sc.Labels == nil {
		sc.Labels = map[string]string{}
	}
	if p.Database != nil {
		sc.Database, sc.Databases = string(p.Database.Engine), p.Database.Databases
	}
	gen, err := x.archive(ctx, file, exportDir, sc)
	if err != nil {
		x.res.Err = err
		x.skip(PhaseAfterSuccess, p.AfterSuccess)
		return
	}
	x.res.Generation = gen
	// 6. after_success
	if err := x.runList(ctx, PhaseAfterSuccess, p.AfterSuccess, false); err != nil {
		x.res.Err = err
	}
}

func (x *run) finalContext(ctx context.Context) (context.Context, context.CancelFunc) {
	d := x.r.FinalTimeout
	if d <= 0 {
		d = 30 * time.Minute
	}
	return context.WithTimeout(context.WithoutCancel(ctx), d)
}

func (x *run) prepare(ctx context.Context) (string, error) {
	t0 := time.Now()
	res, err := transport.RunOK(ctx, x.src, transport.Command{Argv: []string{"uname", "-n"}, Secrets: x.secrets})
	s := Step{Phase: PhasePrepare, Host: x.src.Host(), Command: "uname -n", Duration: time.Since(t0)}
	if err != nil {
		s.Err = err.Error()
		x.step(s)
		return "", err
	}
	x.step(s)
	return strings.TrimSpace(string(res.Stdout)), nil
}

func (x *run) makeExportDir(ctx context.Context) (string, error) {
	t0 := time.Now()
	res, err := transport.RunOK(ctx, x.src, transport.Command{Argv: []string{"mktemp", "-d", "-t", "backupctl-export.XXXXXXXXXX"}})
	s := Step{Phase: PhasePrepare, Host: x.src.Host(), Command: "mktemp -d (export directory)", Duration: time.Since(t0)}
	dir := strings.TrimSpace(string(res.Stdout))
	if err == nil && !path.IsAbs(dir) {
		err = fmt.Errorf("mktemp printed %q, not a path", dir)
	}
	if err != nil {
		s.Err = err.Error()
		x.step(s)
		return "", err
	}
	x.step(s)
	return dir, nil
}

func (x *run) removeExportDir(ctx context.Context, dir string) error {
	t0 := time.Now()
	_, err := transport.RunOK(ctx, x.src, transport.Command{Argv: []string{"rm", "-rf", "--", dir}})
	s := Step{Phase: PhaseCleanup, Host: x.src.Host(), Command: "rm -rf " + dir, Duration: time.Since(t0)}
	if err != nil {
		s.Err = err.Error()
		err = x.mask(fmt.Errorf("remove the export directory %s: %w", dir, err))
	}
	x.step(s)
	return err
}

// runList runs commands in order. With all, every command runs and the
// failures are joined; otherwise the first failure stops the list and the
// rest are reported as skipped.
func (x *run) runList(ctx context.Context, phase string, cmds []string, all bool) error {
	var errs []error
	for i, c := range cmds {
		if err := x.runOne(ctx, phase, i, c); err != nil {
			errs = append(errs, err)
			if !all {
				x.skip(phase, cmds[i+1:])
				break
			}
		}
	}
	return errors.Join(errs...)
}

func (x *run) skip(phase string, cmds []string) {
	for _, c := range cmds {
		h, cmd := apps.SplitHost(c)
		if h == "" {
			h = x.p.Host
		}
		x.step(Step{Phase: phase, Host: h, Command: cmd, Skipped: true})
	}
}

func (x *run) runOne(ctx context.Context, phase string, i int, c string) error {
	h, cmd := apps.SplitHost(c)
	t := x.src
	if h != "" {
		var err error
		if t, err = x.r.Hosts.Get(h); err != nil {
			x.step(Step{Phase: phase, Host: h, Command: cmd, Err: err.Error()})
			return fmt.Errorf("%s[%d]: %w", phase, i, err)
		}
	}
	sh := transport.Shell(cmd)
	sh.Env = x.env
	sh.Secrets = x.secrets
	sh.MaxOutput = 1 << 20
	t0 := time.Now()
	res, err := t.Run(ctx, sh)
	s := Step{Phase: phase, Host: t.Host(), Command: cmd, ExitStatus: res.ExitStatus,
		Output: x.tail(res), Duration: time.Since(t0)}
	if err == nil {
		err = res.Err(t.Host(), sh.Argv)
	}
	if err != nil {
		s.Err = err.Error()
		x.step(s)
		return x.mask(fmt.Errorf("%s[%d] on %s: %w", phase, i, t.Host(), err))
	}
	x.step(s)
	return nil
}

func (x *run) tail(res transport.Result) string {
	n := x.r.OutputTail
	if n <= 0 {
		n = 4 << 10
	}
	out := strings.TrimSpace(string(res.Stdout))
	if e := strings.TrimSpace(string(res.Stderr)); e != "" {
		if out != "" {
			out += "\n"
		}
		out += e
	}
	if len(out) > n {
		out = "..." + out[len(out)-n:]
	}
	return out
}

func (x *run) dump(ctx context.Context, exportDir string) error {
	cfg := *x.p.Database
	dir := path.Join(exportDir, DatabaseSubdir)
	t0 := time.Now()
	s := Step{Phase: PhaseDump, Host: x.src.Host(), Command: fmt.Sprintf("%s dump", cfg.Engine)}
	_, err := transport.RunOK(ctx, x.src, transport.Command{Argv: []string{"mkdir", "-m", "0700", "--", dir}})
	var idx *dbdump.Index
	if err == nil {
		idx, err = dbdump.Dump(ctx, x.src, cfg, dir)
	}
	s.Duration = time.Since(t0)
	if err != nil {
		s.Err = err.Error()
		x.step(s)
		return err
	}
	s.Output = fmt.Sprintf("%s: %d file(s)", idx.Tool, len(idx.Files))
	x.step(s)
	return nil
}

// archive writes the labels file, the archive and its manifest, then
// verifies the archive. On failure nothing of this generation is left.
func (x *run) archive(ctx context.Context, file, exportDir string, sc *Sidecar) (*Generation, error) {
	p := x.p
	t0 := time.Now()
	s := Step{Phase: PhaseArchive, Host: x.dst.Host(), Command: "archive to " + file}
	failed := func(phase string, err error) (*Generation, error) {
		s.Phase, s.Err, s.Duration = phase, transport.Mask(err.Error(), x.secrets...), time.Since(t0)
		x.step(s)
		cctx, cancel := x.finalContext(ctx)
		defer cancel()
		_ = Remove(cctx, x.dst, file)
		_, _ = x.dst.Run(cctx, transport.Command{Argv: []string{"rm", "-f", "--", archive.PartialPath(file)}})
		return nil, x.mask(fmt.Errorf("%s: %w", phase, err))
	}
	if _, err := transport.RunOK(ctx, x.dst, transport.Command{Argv: []string{"mkdir", "-p", "--", p.Destination.Path}}); err != nil {
		return failed(PhaseArchive, fmt.Errorf("make the destination directory: %w", err))
	}
	if err := writeSidecar(ctx, x.dst, file, sc); err != nil {
		return failed(PhaseArchive, fmt.Errorf("write the labels file: %w", err))
	}
	opts := archive.CreateOptions{
		Paths:   p.Paths,
		Exclude: p.Exclude,
		Format:  p.Destination.Format,
		Secrets: x.secrets,
		Now:     x.r.Now,
	}
	if sc.Export {
		opts.Extra = []archive.ExtraDir{{Path: exportDir, As: ExportAs}}
	}
	if _, err := archive.Create(ctx, x.src, x.dst, file, opts); err != nil {
		return failed(PhaseArchive, err)
	}
	s.Duration = time.Since(t0)
	x.step(s)
	t0 = time.Now()
	s = Step{Phase: PhaseVerify, Host: x.dst.Host(), Command: "verify checksum of " + file}
	m, err := archive.Verify(ctx, x.dst, file, archive.VerifyChecksum)
	if err != nil {
		return failed(PhaseVerify, err)
	}
	g := fromManifest(m)
	g.File = file
	g.ID = sc.ID
	g.Sidecar = sc
	for k, v := range sc.Labels {
		g.Labels[k] = v
	}
	s.Output = fmt.Sprintf("%d bytes, %d members, sha256 %s", g.Bytes, g.Files, g.SHA256)
	s.Duration = time.Since(t0)
	x.step(s)
	return &g, nil
}

func (x *run) prune(ctx context.Context, newID string) {
	t0 := time.Now()
	s := Step{Phase: PhasePrune, Host: x.dst.Host(), Command: fmt.Sprintf("keep %d newest in %s", x.p.Keep, x.p.Destination.Path)}
	gens, _, err := Generations(ctx, x.dst, x.p.Destination.Path, archive.VerifySize)
	if err == nil {
		// The new generation must be listed before anything goes, and it
		// counts as the newest whatever the timestamps say: an earlier
		// generation made in the same second, or by a runner whose clock
		// is ahead, must not push it out.
		gens, err = newestFirst(gens, newID)
		if err != nil {
			err = fmt.Errorf("%w in %s: nothing pruned", err, x.p.Destination.Path)
		}
	}
	if err == nil {
		x.res.Pruned, err = Prune(ctx, x.dst, gens, x.p.Keep)
	}
	if err == nil {
		var gone []string
		if gone, err = CleanLeftovers(ctx, x.dst, x.p.Destination.Path, newID); len(gone) > 0 {
			s.Output = "leftovers removed: " + strings.Join(gone, ", ")
		}
	}
	s.Duration = time.Since(t0)
	if len(x.res.Pruned) > 0 {
		s.Output = strings.TrimSpace("removed " + strings.Join(x.res.Pruned, ", ") + "; " + s.Output)
	}
	if err != nil {
		s.Err = err.Error()
		x.res.PruneErr = x.mask(fmt.Errorf("prune: %w", err))
	}
	x.step(s)
}

// newestFirst moves generation id to the front of gens; an error when it
// is not there.
func newestFirst(gens []Generation, id string) ([]Generation, error) {
	for i, g := range gens {
		if g.ID == id {
			out := make([]Generation, 0, len(gens))
			out = append(out, g)
			out = append(out, gens[:i]...)
			return append(out, gens[i+1:]...), nil
		}
	}
	return nil, fmt.Errorf("the new generation %s is not listed", id)
}

// HostsFunc adapts a function to Hosts.
type HostsFunc func(name string) (transport.Transport, error)

// Get implements Hosts.
func (f HostsFunc) Get(name string) (transport.Transport, error) { return f(name) }

var _ Hosts = HostsFunc(nil)
var _ Hosts = (*transport.Pool)(nil)
