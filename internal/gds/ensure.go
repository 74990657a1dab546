package gds

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// Desired is the state a pair should reach.
type Desired struct {
	Pair
	// AllNodes stops proxy volumes on every node (shared class).
	AllNodes bool
	// Instant parts with -e instant.
	Instant bool
	// State is StateJoined or StateParted.
	State State
	// Fresh asks for a new snapshot even when the pair is already parted:
	// stop, Rejoin, wait for the copy, Part.
	Fresh bool
}

// Hooks run around Part (the quiesce commands of seed 003 steps 3 and 5).
// After runs whenever Before ran, even when Before or Part failed.
type Hooks struct {
	Before func(ctx context.Context) error
	After  func(ctx context.Context) error
}

// AfterTimeout bounds the After hook, which runs even when the caller's
// context has ended (a service stopped for the snapshot must come back).
var AfterTimeout = 10 * time.Minute

// Outcome is what Ensure did and found.
type Outcome struct {
	Status *Status
	// PartedAt is when this call parted the pair (zero if it did not).
	PartedAt time.Time
	// Steps lists the commands' purposes in order ("stop", "join", ...).
	Steps []string
}

// Ensure converges the pair to d, reading its state first, so that an
// earlier run cut short (for example during the copy) is picked up where
// it stopped:
//
//	none   -> stop proxy, Join, wait for the copy [, quiesce, Part]
//	joined -> wait for the copy [, quiesce, Part]
//	parted -> nothing; with Fresh or State joined: stop proxy, Rejoin,
//	          wait [, quiesce, Part]
//	mixed  -> stop and Rejoin the parted proxy volumes, then as joined
func (c *Client) Ensure(ctx context.Context, d Desired, h Hooks) (*Outcome, error) {
	if d.State != StateJoined && d.State != StateParted {
		return nil, fmt.Errorf("desired state %q: want joined or parted", d.State)
	}
	out := &Outcome{}
	info, err := c.Info(ctx, d.Class)
	if err != nil {
		return out, err
	}
	st, err := StatusOf(info, d.Class, d.Proxy)
	if err != nil {
		return out, err
	}
	if err := checkIdentity(st, d.Pair); err != nil {
		return out, err
	}
	step := func(s string) { out.Steps = append(out.Steps, s) }
	switch st.State {
	case StateNone:
		// Refuse what GDS would refuse before stopping anything: a
		// stopped proxy left behind by a Join that fails is an outage.
		if err := CheckJoin(c.T.Host(), info, d.Pair); err != nil {
			return out, err
		}
		if !d.IsGroup() {
			step("stop")
			if err := c.StopVolumes(ctx, d.Class, []string{d.Proxy}, d.AllNodes); err != nil {
				return out, err
			}
		}
		step("join")
		if err := c.Join(ctx, d.Pair); err != nil {
			return out, err
		}
	case StateParted, StateMixed:
		if st.State == StateParted && d.State == StateParted && !d.Fresh {
			out.Status = st
			return out, nil
		}
		var parted []string
		for _, v := range st.Volumes {
			if v.State == StateParted {
				parted = append(parted, v.Proxy)
			}
		}
		sort.Strings(parted)
		step("stop")
		if err := c.StopVolumes(ctx, d.Class, parted, d.AllNodes); err != nil {
			return out, err
		}
		target := parted
		if st.State == StateParted && d.IsGroup() {
			target = []string{d.Proxy}
		}
		step("rejoin")
		if err := c.Rejoin(ctx, d.Class, target); err != nil {
			return out, err
		}
	}
	step("wait")
	if err := c.WaitCopy(ctx, d.Class, d.Proxy); err != nil {
		return out, err
	}
	if d.State == StateParted {
		parted, err := c.quiescedPart(ctx, d, h, step)
		if parted {
			out.PartedAt = c.clock().Now()
		}
		if err != nil {
			// report what is there now, for state
			if s, serr := c.Status(context.WithoutCancel(ctx), d.Class, d.Proxy); serr == nil {
				out.Status = s
			}
			return out, err
		}
	}
	out.Status, err = c.Status(ctx, d.Class, d.Proxy)
	return out, err
}

// quiescedPart runs Before, Part and, always once Before was tried, After.
// parted reports whether Part itself succeeded.
func (c *Client) quiescedPart(ctx context.Context, d Desired, h Hooks, step func(string)) (parted bool, err error) {
	var errBefore, errPart, errAfter error
	if h.Before != nil {
		step("quiesce.before")
		errBefore = h.Before(ctx)
	}
	if errBefore == nil {
		step("part")
		errPart = c.Part(ctx, d.Class, []string{d.Proxy}, d.Instant)
		parted = errPart == nil
	}
	if h.After != nil {
		step("quiesce.after")
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), AfterTimeout)
		errAfter = h.After(actx)
		cancel()
	}
	var errs []error
	if errBefore != nil {
		errs = append(errs, fmt.Errorf("quiesce.before failed, the pair was not parted: %w", errBefore))
	}
	if errPart != nil {
		errs = append(errs, errPart)
	}
	if errAfter != nil {
		errs = append(errs, fmt.Errorf("quiesce.after failed: %w", errAfter))
	}
	return parted, errors.Join(errs...)
}

// checkIdentity refuses to touch a proxy related to another master, or a
// group pair whose volume map differs from the one asked for.
func checkIdentity(st *Status, p Pair) error {
	if !st.Exists {
		return &Error{Object: p.Proxy, Message: fmt.Sprintf("%s: no such volume or group in class %s", p.Proxy, p.Class), Kind: ErrNotFound}
	}
	if st.Group != p.IsGroup() {
		if st.Group {
			return fmt.Errorf("%s is a group in class %s: a group pair needs volume_map", p.Proxy, p.Class)
		}
		return fmt.Errorf("%s is a volume in class %s: volume_map applies to group pairs only", p.Proxy, p.Class)
	}
	if st.State == StateNone {
		return nil
	}
	if st.Master != p.Master {
		return &Error{Object: p.Proxy, Kind: ErrRelated,
			Message: fmt.Sprintf("%s: already related to master %s, not %s (break that pair first)", p.Proxy, st.Master, p.Master)}
	}
	if p.IsGroup() && !sameMap(st.VolumeMap, p.VolumeMap) {
		return &Error{Object: p.Proxy, Kind: ErrRelated,
			Message: fmt.Sprintf("%s: related with volume map %s, not %s", p.Proxy, MapAttr(st.VolumeMap), MapAttr(p.VolumeMap))}
	}
	return nil
}

func sameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// CheckJoin refuses, from the sdxinfo already read, a Join that GDS would
// refuse (A.1.11: master and proxy in one non-shadow class, in different
// groups, of mirror or single type; the master is not a proxy; the proxy
// has no proxy of its own; a proxy group holds no volumes), so that no
// proxy volume is stopped for a Join bound to fail. A started proxy is
// not refused: stopping it is the step before Join. Whatever sdxinfo does
// not show is left to GDS.
func CheckJoin(host string, info *Info, p Pair) error {
	refuse := func(obj string, kind error, format string, a ...any) error {
		return &Error{Host: host, Object: obj, Kind: kind, Message: fmt.Sprintf(format, a...)}
	}
	if p.Master == p.Proxy {
		return refuse(p.Master, ErrPrecondition, "%s: master and proxy must be different objects", p.Master)
	}
	for _, cl := range info.Classes {
		if cl.Name == p.Class && strings.EqualFold(cl.Type, "shadow") {
			return refuse(p.Class, ErrPrecondition, "%s: a shadow class cannot hold a proxy pair (master and proxy must be in one class, not shadow)", p.Class)
		}
	}
	syncType := func(role, group string) error {
		g, ok := info.Group(p.Class, group)
		if !ok || g.Type == "" {
			return nil
		}
		if t := strings.ToLower(g.Type); t != "mirror" && t != "single" {
			return refuse(group, ErrPrecondition, "%s: the %s group is of type %s, a synchronization snapshot (Join) needs a mirror or single group", group, role, g.Type)
		}
		return nil
	}
	if !p.IsGroup() {
		mv, ok := info.Volume(p.Class, p.Master)
		if !ok {
			if _, isGroup := info.Group(p.Class, p.Master); isGroup {
				return refuse(p.Master, ErrPrecondition, "%s is a group in class %s and %s a volume: master and proxy must both be volumes or both be groups (a group pair needs volume_map)", p.Master, p.Class, p.Proxy)
			}
			return refuse(p.Master, ErrNotFound, "%s: no such volume in class %s (the master)", p.Master, p.Class)
		}
		pv, _ := info.Volume(p.Class, p.Proxy)
		if mv.Master != "" {
			return refuse(p.Master, ErrPrecondition, "%s: the master is itself a proxy of %s, a proxy cannot be a master (break that pair first)", p.Master, mv.Master)
		}
		if own := proxiesOf(info, p.Proxy); len(own) > 0 {
			return refuse(p.Proxy, ErrPrecondition, "%s: has a proxy of its own (%s), a volume with a proxy cannot become a proxy (break that pair first)", p.Proxy, strings.Join(own, ", "))
		}
		if mv.Group != "" && mv.Group == pv.Group {
			return refuse(p.Proxy, ErrPrecondition, "%s, %s: master and proxy belong to the same group %s, the proxy must be in another group", p.Master, p.Proxy, mv.Group)
		}
		if mv.Group != "" {
			if err := syncType("master", mv.Group); err != nil {
				return err
			}
		}
		if pv.Group != "" {
			if err := syncType("proxy", pv.Group); err != nil {
				return err
			}
		}
		return nil
	}
	mg, ok := info.Group(p.Class, p.Master)
	if !ok {
		if _, isVolume := info.Volume(p.Class, p.Master); isVolume {
			return refuse(p.Master, ErrPrecondition, "%s is a volume in class %s and %s a group: master and proxy must both be volumes or both be groups", p.Master, p.Class, p.Proxy)
		}
		return refuse(p.Master, ErrNotFound, "%s: no such group in class %s (the master)", p.Master, p.Class)
	}
	pg, _ := info.Group(p.Class, p.Proxy)
	if mg.Master != "" {
		return refuse(p.Master, ErrPrecondition, "%s: the master is itself a proxy group of %s, a proxy cannot be a master (break that pair first)", p.Master, mg.Master)
	}
	if pg.Master != "" {
		return refuse(p.Proxy, ErrRelated, "%s: already related to master %s, not %s (break that pair first)", p.Proxy, pg.Master, p.Master)
	}
	var own []string
	for _, g := range info.Groups {
		if g.Master == p.Proxy && (g.Class == "" || g.Class == p.Class) {
			own = append(own, g.Name)
		}
	}
	if len(own) > 0 {
		sort.Strings(own)
		return refuse(p.Proxy, ErrPrecondition, "%s: has a proxy group of its own (%s), a group with a proxy cannot become a proxy (break that pair first)", p.Proxy, strings.Join(own, ", "))
	}
	if vs := info.GroupVolumes(p.Class, p.Proxy); len(vs) > 0 {
		names := make([]string, len(vs))
		for i, v := range vs {
			names[i] = v.Name
		}
		return refuse(p.Proxy, ErrPrecondition, "%s: the proxy group holds volumes (%s), the volumes of a proxy group must be deleted before Join", p.Proxy, strings.Join(names, ", "))
	}
	if err := syncType("master", p.Master); err != nil {
		return err
	}
	return syncType("proxy", p.Proxy)
}

// proxiesOf lists, sorted, the volumes whose master is vol.
func proxiesOf(info *Info, vol string) []string {
	var out []string
	for _, v := range info.Volumes {
		if v.Master == vol {
			out = append(out, v.Name)
		}
	}
	sort.Strings(out)
	return out
}

// Dissolve breaks the pair (destroy): nothing to do when it is not
// related; a running copy is waited for first, whichever way it runs:
// into the proxy (Join, Rejoin) or back onto the master (Restore), since
// GDS refuses Break while either runs. The wait re-reads sdxinfo with the
// client's back-off (a connection lost during it is retried, as in
// WaitCopy) and ends with ctx.
func (c *Client) Dissolve(ctx context.Context, class, proxy string) error {
	st, err := c.Status(ctx, class, proxy)
	if err != nil {
		return err
	}
	clk := c.clock()
	var delay time.Duration
	lost := 0
	for {
		if !st.Exists || st.State == StateNone {
			return nil
		}
		if !st.Copying() {
			break
		}
		delay = c.Backoff.next(delay)
		c.logf("%s: %s/%s: copy between master %s and proxy in progress (%d%%), waiting before Break; next check in %s",
			c.T.Host(), class, proxy, st.Master, st.CopyProgress, delay)
		if err := clk.Sleep(ctx, delay); err != nil {
			return fmt.Errorf("waiting for the copy between master %s and proxy %s to end before Break: %w", st.Master, proxy, err)
		}
		next, err := c.Status(ctx, class, proxy)
		if err != nil {
			if !errors.Is(err, transport.ErrConnection) || ctx.Err() != nil || lost >= MaxLostPolls {
				return err
			}
			lost++
			continue
		}
		st, lost = next, 0
	}
	return c.Break(ctx, class, proxy, false)
}

// RestoreAndWait copies a parted proxy back to its master and waits until
// the master's slices stop copying. GDS refuses it while joined.
func (c *Client) RestoreAndWait(ctx context.Context, class, proxy string, instant bool) (*Status, error) {
	st, err := c.Status(ctx, class, proxy)
	if err != nil {
		return nil, err
	}
	if !st.Exists || st.State == StateNone {
		return st, &Error{Object: proxy, Kind: ErrNotProxy, Message: fmt.Sprintf("%s: not related to a master in class %s", proxy, class)}
	}
	if err := c.Restore(ctx, class, []string{proxy}, instant); err != nil {
		return st, err
	}
	if err := c.waitRestore(ctx, class, st.Master); err != nil {
		return st, err
	}
	return c.Status(ctx, class, proxy)
}

// ShellHooks returns Hooks running user commands with /bin/sh -c on t:
// before in order, stopping at the first failure; after all of them,
// whatever fails, reporting every failure.
func ShellHooks(t transport.Transport, before, after []string) Hooks {
	var h Hooks
	if len(before) > 0 {
		h.Before = func(ctx context.Context) error {
			for _, cmd := range before {
				if _, err := transport.RunOK(ctx, t, transport.Shell(cmd)); err != nil {
					return err
				}
			}
			return nil
		}
	}
	if len(after) > 0 {
		h.After = func(ctx context.Context) error {
			var errs []error
			for _, cmd := range after {
				if _, err := transport.RunOK(ctx, t, transport.Shell(cmd)); err != nil {
					errs = append(errs, err)
				}
			}
			return errors.Join(errs...)
		}
	}
	return h
}
