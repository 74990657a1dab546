package restore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// FinalTimeout bounds what runs even after the restore's context ended:
// start and quiesce.after commands (a service stopped for the restore must
// come back) and the removal of what a failed drill created.
var FinalTimeout = 30 * time.Minute

// finalContext outlives ctx's cancellation, for at most FinalTimeout.
func finalContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), FinalTimeout)
}

// Source is one kind of restore (archive, gds, kcps).
type Source interface {
	// Kind is KindArchive, KindGDS or KindKCPS.
	Kind() string
	// Identity is the target's identity (what confirm repeats).
	Identity() string
	// Describe says what is restored, for the report.
	Describe() map[string]string
	// Check examines the backup and the target before anything changes,
	// refuses unsafe restores and returns when the backup was taken (zero
	// when that cannot be known).
	Check(ctx context.Context, r *Run) (time.Time, error)
	// Restore does the work, recording its steps in r.Rec and every object
	// it creates with r.Create as soon as it exists.
	Restore(ctx context.Context, r *Run) error
	// VerifyOn returns the default host of the verify commands and the
	// RESTORE_* variables they see.
	VerifyOn(r *Run) (host string, env map[string]string)
	// Rollback removes what a failed drill created (objs, from r.Created).
	// It returns the objects it could not remove.
	Rollback(ctx context.Context, r *Run, objs []Object) ([]Object, error)
}

// Spec is how a restore is run.
type Spec struct {
	Mode    string
	Confirm string
	Trigger string
	Limits  Limits
	// Verify: Host may be "" (the source's default).
	VerifyCommands []string
	VerifyTimeout  time.Duration
	VerifyHost     string
	Hosts          Hosts
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// OnCreate hears about every object as soon as it exists, so that the
	// caller can keep it for destroy even if the restore dies afterwards.
	OnCreate func(Object)
	// Secrets are masked in the report (command output, errors).
	Secrets []string
}

// Run is the state of one restore, handed to the source.
type Run struct {
	Spec
	Rec *Recorder
	// Created lists the objects created so far.
	Created []Object
}

// Create records an object the restore made.
func (r *Run) Create(o Object) {
	r.Created = append(r.Created, o)
	r.Rec.Created(o)
	if r.OnCreate != nil {
		r.OnCreate(o)
	}
}

// Drill reports whether the run is a drill.
func (r *Run) Drill() bool { return r.Mode == ModeDrill }

// Host returns a provider host's transport.
func (r *Run) Host(name string) (transport.Transport, error) {
	if r.Hosts == nil {
		return nil, fmt.Errorf("host %q: no hosts configured", name)
	}
	return r.Hosts(name)
}

// Result is the outcome of a restore.
type Result struct {
	Report     Report
	StartedAt  time.Time
	FinishedAt time.Time
	// RPO is zero (and HasRPO false) when the backup's time is unknown.
	RPO    time.Duration
	HasRPO bool
	RTO    time.Duration
	// Verified is true only when the restore, every check, every verify
	// command and the limits passed.
	Verified bool
	// Created is what the restore made and did not remove again: what a
	// drill's destroy must remove.
	Created []Object
	// Began is true once the restore itself started (after every check):
	// from then on the target may have changed.
	Began bool
}

// RPOSeconds and RTOSeconds are the durations in whole seconds.
func (res Result) RPOSeconds() int64 { return wholeSeconds(res.RPO) }
func (res Result) RTOSeconds() int64 { return wholeSeconds(res.RTO) }

// Do runs a restore of src. The returned Result is filled even when the
// restore fails (the report says how far it got); the error says why.
//
// In drill mode, when the restore itself fails, what it created is removed
// at once (whatever cannot be removed stays in Result.Created for destroy);
// when only the verification or the RTO limit fails, the restored target is
// kept for inspection and removed by destroy.
func Do(ctx context.Context, src Source, spec Spec) (Result, error) {
	now := spec.Now
	if now == nil {
		now = time.Now
	}
	rep := &Report{Kind: src.Kind(), Mode: spec.Mode, Target: src.Identity(), Source: src.Describe()}
	if spec.Limits.MaxRPO > 0 {
		rep.MaxRPO = spec.Limits.MaxRPO.String()
	}
	if spec.Limits.MaxRTO > 0 {
		rep.MaxRTO = spec.Limits.MaxRTO.String()
	}
	if spec.Trigger != "" {
		if rep.Source == nil {
			rep.Source = map[string]string{}
		}
		rep.Source["trigger"] = spec.Trigger
	}
	rec := NewRecorder(now, rep)
	for _, s := range spec.Secrets {
		if s != "" {
			rec.secrets = append(rec.secrets, s)
		}
	}
	r := &Run{Spec: spec, Rec: rec}
	res := Result{StartedAt: rec.Now()}
	rec.update(func(p *Report) { p.StartedAt = res.StartedAt })

	var end time.Time
	finish := func(err error) (Result, error) {
		res.FinishedAt = end
		if res.FinishedAt.IsZero() {
			res.FinishedAt = rec.Now()
		}
		res.RTO = res.FinishedAt.Sub(res.StartedAt)
		res.Created = append([]Object(nil), r.Created...)
		res.Verified = err == nil
		rec.update(func(p *Report) {
			f := res.FinishedAt
			p.FinishedAt = &f
			rto := res.RTOSeconds()
			p.RTOSeconds = &rto
			p.Verified = res.Verified
			if err != nil {
				p.Error = rec.mask(err.Error())
			}
		})
		res.Report = rec.Report()
		return res, err
	}

	if spec.Mode != ModeDrill && spec.Mode != ModeInPlace {
		return finish(fmt.Errorf("mode %q: want %q or %q", spec.Mode, ModeDrill, ModeInPlace))
	}
	if err := CheckConfirm(spec.Mode, src.Identity(), spec.Confirm); err != nil {
		return finish(err)
	}

	var created time.Time
	err := rec.Step("check backup and target", "", func() (string, error) {
		var err error
		created, err = src.Check(ctx, r)
		if err != nil || created.IsZero() {
			return "", err
		}
		return "backup taken " + created.UTC().Format(time.RFC3339), nil
	})
	if err != nil {
		return finish(err)
	}
	if !created.IsZero() {
		res.RPO, res.HasRPO = res.StartedAt.Sub(created), true
		rpo := res.RPOSeconds()
		c := created.UTC()
		rec.update(func(p *Report) { p.BackupCreated, p.RPOSeconds = &c, &rpo })
		if err := spec.Limits.CheckRPO(created, res.StartedAt, ""); err != nil {
			rec.Check("max_rpo", false, err.Error())
			return finish(err)
		}
		if spec.Limits.MaxRPO > 0 {
			rec.Check("max_rpo", true, fmt.Sprintf("backup %s old, limit %s", FormatDuration(res.RPO), spec.Limits.MaxRPO))
		}
	} else if spec.Limits.MaxRPO > 0 {
		err := errors.New("max_rpo is set but the time the backup was taken is unknown")
		rec.Check("max_rpo", false, err.Error())
		return finish(err)
	}

	res.Began = true
	if err := src.Restore(ctx, r); err != nil {
		if r.Drill() && len(r.Created) > 0 {
			fctx, cancel := finalContext(ctx)
			left, rerr := src.Rollback(fctx, r, r.Created)
			cancel()
			r.Created = left
			if rerr != nil {
				err = errors.Join(err, fmt.Errorf("removing what the failed drill created: %w (destroy will try again)", rerr))
			}
		}
		return finish(err)
	}

	host, env := src.VerifyOn(r)
	if spec.VerifyHost != "" {
		host = spec.VerifyHost
	}
	if len(spec.VerifyCommands) > 0 {
		t, err := r.Host(host)
		if err != nil {
			return finish(fmt.Errorf("verify: %w", err))
		}
		env = transport.MergeEnv(env, map[string]string{
			"RESTORE_KIND":   src.Kind(),
			"RESTORE_MODE":   spec.Mode,
			"RESTORE_TARGET": src.Identity(),
		})
		v := Verify{Commands: spec.VerifyCommands, Timeout: spec.VerifyTimeout, Host: t, Env: env}
		if err := v.Run(ctx, rec); err != nil {
			return finish(err)
		}
	} else {
		rec.Skip("verify", host, "no verify commands given")
	}

	end = rec.Now()
	took := end.Sub(res.StartedAt)
	if err := spec.Limits.CheckRTO(took); err != nil {
		rec.Check("max_rto", false, err.Error())
		return finish(err)
	}
	if spec.Limits.MaxRTO > 0 {
		rec.Check("max_rto", true, fmt.Sprintf("restore took %s, limit %s", FormatDuration(took), spec.Limits.MaxRTO))
	}
	return finish(nil)
}
