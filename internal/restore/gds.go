package restore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/gds"
)

// GDS copies a parted proxy volume (or group) back onto its master with
// sdxproxy Restore. It always overwrites the live master: there is no
// drill mode.
type GDS struct {
	Host, Class, Proxy string
	// Instant restores with -e instant: the master is usable at once and
	// the copy goes on in the background.
	Instant bool
	// QuiesceBefore stops what uses the master (in order, the first
	// failure stops the restore); QuiesceAfter brings it back (all of them,
	// always, once QuiesceBefore started).
	QuiesceBefore, QuiesceAfter []string
	// SnapshotTime is when the proxy was parted (the backup's time, e.g.
	// backupctl_gds_proxy_pair's parted_at); zero when unknown.
	SnapshotTime time.Time
	// Client, when set, runs the sdx commands (its transport must be the
	// host's); otherwise one is made with the real clock.
	Client *gds.Client

	st *gds.Status
}

var _ Source = (*GDS)(nil)

// Kind implements Source.
func (g *GDS) Kind() string { return KindGDS }

// Identity implements Source: "<host>/<class>/<proxy>".
func (g *GDS) Identity() string { return GDSIdentity(g.Host, g.Class, g.Proxy) }

// Describe implements Source.
func (g *GDS) Describe() map[string]string {
	d := map[string]string{"host": g.Host, "class": g.Class, "proxy": g.Proxy, "instant": fmt.Sprint(g.Instant)}
	if !g.SnapshotTime.IsZero() {
		d["snapshot_time"] = g.SnapshotTime.UTC().Format(time.RFC3339)
	}
	return d
}

func (g *GDS) client(r *Run) (*gds.Client, error) {
	if g.Client != nil {
		return g.Client, nil
	}
	t, err := r.Host(g.Host)
	if err != nil {
		return nil, err
	}
	g.Client = gds.New(t)
	return g.Client, nil
}

// Check implements Source: the proxy must be related to a master and
// parted, with no copy running.
func (g *GDS) Check(ctx context.Context, r *Run) (time.Time, error) {
	if r.Mode != ModeInPlace {
		return time.Time{}, fmt.Errorf("a GDS restore (sdxproxy Restore) always overwrites the master volume: use mode = %q with confirm = %q", ModeInPlace, g.Identity())
	}
	c, err := g.client(r)
	if err != nil {
		return time.Time{}, err
	}
	st, err := c.Status(ctx, g.Class, g.Proxy)
	if err != nil {
		return time.Time{}, err
	}
	switch {
	case !st.Exists:
		return time.Time{}, fmt.Errorf("%s: no such proxy volume or group in class %s on host %q", g.Proxy, g.Class, g.Host)
	case st.State == gds.StateNone:
		return time.Time{}, fmt.Errorf("%s in class %s is not a proxy (related to no master): nothing to restore from", g.Proxy, g.Class)
	case st.State == gds.StateJoined || st.State == gds.StateMixed:
		return time.Time{}, fmt.Errorf("refused: master %s and proxy %s are joined (%s), so the proxy holds no snapshot to restore: "+
			"sdxproxy Restore is impossible while joined (a fault of a joined master reaches the proxy too); part the pair first (backupctl_gds_proxy_pair state = \"parted\")",
			st.Master, g.Proxy, st.State)
	case st.Copying():
		return time.Time{}, fmt.Errorf("refused: a copy between master %s and proxy %s is still running (copy status %s): wait for it to finish", st.Master, g.Proxy, st.CopyStatus)
	}
	g.st = st
	r.Rec.Check("proxy parted", true, fmt.Sprintf("%s is parted from master %s", g.Proxy, st.Master))
	r.Rec.update(func(p *Report) { p.Source["master"] = st.Master })
	return g.SnapshotTime, nil
}

// Restore implements Source: quiesce.before, sdxproxy Restore (and, unless
// instant, the wait for the copy), quiesce.after.
func (g *GDS) Restore(ctx context.Context, r *Run) error {
	c, err := g.client(r)
	if err != nil {
		return err
	}
	env := g.env()
	err = commandList{Label: "quiesce.before", Cmds: g.QuiesceBefore}.run(ctx, r.Rec, r.Hosts, c.T, env)
	if err == nil {
		err = r.Rec.Step(fmt.Sprintf("sdxproxy Restore -c %s -p %s", g.Class, g.Proxy), g.Host, func() (string, error) {
			if g.Instant {
				if err := c.Restore(ctx, g.Class, []string{g.Proxy}, true); err != nil {
					return "", err
				}
				return fmt.Sprintf("instant restore of %s onto %s: the master is usable now, the copy goes on in the background", g.Proxy, g.st.Master), nil
			}
			st, err := c.RestoreAndWait(ctx, g.Class, g.Proxy, false)
			if err != nil {
				if errors.Is(err, gds.ErrJoined) {
					return "", fmt.Errorf("refused by GDS: %w (part the pair first)", err)
				}
				return "", err
			}
			return fmt.Sprintf("%s copied back onto %s; the pair stays %s", g.Proxy, st.Master, st.State), nil
		})
	}
	if len(g.QuiesceBefore) > 0 || len(g.QuiesceAfter) > 0 {
		fctx, cancel := finalContext(ctx)
		defer cancel()
		aerr := commandList{Label: "quiesce.after", Cmds: g.QuiesceAfter, All: true}.run(fctx, r.Rec, r.Hosts, c.T, env)
		err = errors.Join(err, aerr)
	}
	if err == nil {
		r.Rec.Note("The proxy stays parted: keep it parted until just before the next backup, so that an instant restore stays possible (Fujitsu's advice).")
		if g.Instant {
			r.Rec.Note("Instant restore: the copy onto the master continues in the background; sdxinfo -S shows COPY until it ends.")
		}
	}
	return err
}

func (g *GDS) env() map[string]string {
	e := map[string]string{"RESTORE_HOST": g.Host, "RESTORE_CLASS": g.Class, "RESTORE_PROXY": g.Proxy}
	if g.st != nil {
		e["RESTORE_MASTER"] = g.st.Master
		if g.st.MasterDevice != "" {
			e["RESTORE_MASTER_DEVICE"] = g.st.MasterDevice
		}
	}
	return e
}

// VerifyOn implements Source: the GDS host.
func (g *GDS) VerifyOn(*Run) (string, map[string]string) { return g.Host, g.env() }

// Rollback implements Source: a GDS restore creates nothing.
func (g *GDS) Rollback(_ context.Context, _ *Run, objs []Object) ([]Object, error) { return objs, nil }
