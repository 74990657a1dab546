package gdsemu

import (
	"sort"
	"strings"
	"time"
)

// sdxproxy <Sub> -c class ...
func (r *run) sdxproxy() error {
	if len(r.args) == 0 {
		return usagef("no subcommand")
	}
	sub, rest := r.args[0], r.args[1:]
	type spec struct {
		ext    map[string]bool
		needM  bool
		allowA bool
		multiP bool
		fn     func(o *opts) (wait []string, err error)
	}
	specs := map[string]spec{
		"Join":          {ext: map[string]bool{"delay": true, "softcopy": false, "syncmode": false, "waitsync": false}, needM: true, allowA: true, fn: r.join},
		"Part":          {ext: map[string]bool{"instant": false, "mode": true, "unlock": false}, allowA: true, multiP: true, fn: r.part},
		"Rejoin":        {ext: map[string]bool{"delay": true, "softcopy": false, "waitsync": false}, multiP: true, fn: r.rejoin},
		"RejoinRestore": {ext: map[string]bool{"delay": true, "instant": false, "nowaitsync": false, "softcopy": false}, multiP: true, fn: r.rejoinRestore},
		"Restore":       {ext: map[string]bool{"instant": false, "nowaitsync": false}, multiP: true, fn: r.restore},
		"Break":         {ext: map[string]bool{"force": false, "restore": false}, fn: r.breakPair},
		"Cancel":        {ext: map[string]bool{}, fn: r.cancel},
		"Relate":        {ext: map[string]bool{}, needM: true, fn: r.relate},
		"Update":        {ext: map[string]bool{"instant": false, "nowaitsync": false}, multiP: true, fn: r.update},
	}
	sp, ok := specs[sub]
	if !ok {
		if sub == "Swap" || sub == "Root" {
			return errorf("%s: not supported by this emulator", sub)
		}
		return usagef("unknown subcommand %q", sub)
	}
	withArg := "cpe"
	if sp.needM {
		withArg += "m"
	}
	if sp.allowA {
		withArg += "a"
	}
	o, err := parseOpts(rest, "", withArg)
	if err != nil {
		return err
	}
	if o.vals['c'] == "" {
		return usagef("-c class is required")
	}
	if o.vals['p'] == "" {
		return usagef("-p proxy is required")
	}
	if sp.needM && o.vals['m'] == "" {
		return usagef("-m master is required")
	}
	if !sp.multiP && strings.Contains(o.vals['p'], ",") {
		return usagef("%s takes exactly one proxy", sub)
	}
	ext, err := extOpts(o.vals['e'], sp.ext)
	if err != nil {
		return err
	}
	if m, ok := ext["mode"]; ok && m != "rw" && m != "ro" {
		return usagef("-e mode must be rw or ro")
	}
	x := &opts{sub: sub, class: o.vals['c'], master: o.vals['m'], proxies: strings.Split(o.vals['p'], ","),
		attr: o.vals['a'], ext: ext}
	var wait []string
	err = r.withState(true, func(st *State) error {
		cs, err := r.visibleClasses(st, x.class)
		if err != nil {
			return err
		}
		x.st, x.c = st, cs[0]
		wait, err = sp.fn(x)
		return err
	})
	if err != nil {
		return err
	}
	if len(wait) > 0 {
		return r.waitCopies(x.class, wait)
	}
	return nil
}

// opts is one parsed sdxproxy invocation.
type opts struct {
	sub     string
	class   string
	master  string
	proxies []string
	attr    string
	ext     map[string]string
	st      *State
	c       *Class
}

func (x *opts) has(e string) bool { _, ok := x.ext[e]; return ok }

// proxyVolumes resolves -p: proxy volumes, or proxy groups expanding to
// their proxy volumes.
func (x *opts) proxyVolumes() ([]*Volume, error) {
	var out []*Volume
	seen := map[string]bool{}
	for _, n := range x.proxies {
		switch {
		case x.c.Volumes[n] != nil:
			v := x.c.Volumes[n]
			if v.Master == "" {
				return nil, errorf("%s: not a proxy volume", n)
			}
			if !seen[n] {
				out = append(out, v)
				seen[n] = true
			}
		case x.c.Groups[n] != nil:
			g := x.c.Groups[n]
			if g.Master == "" {
				return nil, errorf("%s: not a proxy group", n)
			}
			for _, v := range x.c.groupVolumes(n) {
				if v.Master != "" && !seen[v.Name] {
					out = append(out, v)
					seen[v.Name] = true
				}
			}
		case n == "":
			return nil, usagef("empty proxy name in -p")
		default:
			return nil, errorf("%s: no such object", n)
		}
	}
	return out, nil
}

// activeNode returns a node where v is started, or "".
func activeNode(v *Volume) string {
	if len(v.Active) > 0 {
		return v.Active[0]
	}
	return ""
}

// syncGroup checks that group g allows synchronization snapshots.
func syncGroup(g *Group) error {
	if g.Type != "mirror" && g.Type != "single" {
		return errorf("%s: %s group cannot be used for a synchronization snapshot (mirror or single only)", g.Name, g.Type)
	}
	return nil
}

// checkRelate enforces the preconditions of Join and Relate.
func (r *run) checkRelate(x *opts, needStopped bool) (pair string, err error) {
	c := x.c
	m, p := x.master, x.proxies[0]
	if m == p {
		return "", errorf("%s: master and proxy must be different objects", m)
	}
	mv, pv := c.Volumes[m], c.Volumes[p]
	mg, pg := c.Groups[m], c.Groups[p]
	if mv == nil && mg == nil {
		return "", errorf("%s: no such object", m)
	}
	if pv == nil && pg == nil {
		return "", errorf("%s: no such object", p)
	}
	if (mv != nil) != (pv != nil) {
		return "", errorf("%s, %s: master and proxy must both be volumes or both be groups", m, p)
	}
	if mv != nil {
		if x.attr != "" {
			return "", errorf("-a can be specified only when master and proxy are groups")
		}
		if mv.Master != "" {
			return "", errorf("%s: master is a proxy volume (its master is %s)", m, mv.Master)
		}
		if pv.Master != "" {
			return "", errorf("%s: already related to master %s", p, pv.Master)
		}
		if len(c.proxiesOf(p)) > 0 {
			return "", errorf("%s: has a proxy of its own, cannot become a proxy", p)
		}
		if c.Groups[pv.Group].Master != "" || len(c.groupProxiesOf(pv.Group)) > 0 {
			return "", errorf("%s: group %s is related as a proxy group pair", p, pv.Group)
		}
		if mv.Group == pv.Group {
			return "", errorf("%s, %s: master and proxy belong to the same group %s", m, p, mv.Group)
		}
		if err := syncGroup(c.Groups[mv.Group]); err != nil {
			return "", err
		}
		if err := syncGroup(c.Groups[pv.Group]); err != nil {
			return "", err
		}
		if mv.SizeMB != pv.SizeMB {
			return "", errorf("%s: size %d blocks differs from master %s size %d blocks", p, pv.SizeMB*blocksPerMB, m, mv.SizeMB*blocksPerMB)
		}
		if mv.copying(r.now) || mv.Invalid {
			return "", errorf("%s: master is being copied or invalid", m)
		}
		if needStopped {
			if n := activeNode(pv); n != "" {
				return "", errorf("%s: volume is active on node %s, stop the proxy volume first", p, n)
			}
		}
		return "volume", nil
	}
	if mg.Master != "" {
		return "", errorf("%s: master is a proxy group (its master is %s)", m, mg.Master)
	}
	if pg.Master != "" {
		return "", errorf("%s: already related to master %s", p, pg.Master)
	}
	if len(c.groupProxiesOf(p)) > 0 {
		return "", errorf("%s: has a proxy of its own, cannot become a proxy", p)
	}
	if err := syncGroup(mg); err != nil {
		return "", err
	}
	if err := syncGroup(pg); err != nil {
		return "", err
	}
	if vs := c.groupVolumes(p); len(vs) > 0 {
		return "", errorf("%s: volume %s exists in the proxy group, delete the volumes of the proxy group before joining", p, vs[0].Name)
	}
	for _, v := range c.groupVolumes(m) {
		if v.Master != "" {
			return "", errorf("%s: master group holds proxy volume %s", m, v.Name)
		}
		if v.copying(r.now) || v.Invalid {
			return "", errorf("%s: master volume is being copied or invalid", v.Name)
		}
	}
	if x.attr == "" {
		return "", errorf("-a mvol=pvol:jrm[:pslice] is required when master and proxy are groups")
	}
	return "group", nil
}

type mapping struct {
	master, proxy string
	jrm           bool
}

// parseMap reads -a mvol=pvol:jrm[:pslice][,...] against master group m.
func (x *opts) parseMap(m string) ([]mapping, error) {
	c := x.c
	var out []mapping
	seenM, seenP := map[string]bool{}, map[string]bool{}
	for _, item := range strings.Split(x.attr, ",") {
		mv, rest, ok := strings.Cut(item, "=")
		if !ok {
			return nil, usagef("-a %q: expected mvol=pvol:jrm[:pslice]", item)
		}
		parts := strings.Split(rest, ":")
		if len(parts) < 2 || len(parts) > 3 {
			return nil, usagef("-a %q: expected mvol=pvol:jrm[:pslice]", item)
		}
		pv, jrm := parts[0], parts[1]
		if jrm != "on" && jrm != "off" {
			return nil, usagef("-a %q: jrm must be on or off", item)
		}
		if len(parts) == 3 && parts[2] != "on" && parts[2] != "off" {
			return nil, usagef("-a %q: pslice must be on or off", item)
		}
		v := c.Volumes[mv]
		if v == nil || v.Group != m {
			return nil, errorf("%s: no such volume in master group %s", mv, m)
		}
		if !ValidName(pv) {
			return nil, errorf("%s: invalid name", pv)
		}
		if c.exists(pv) || seenP[pv] {
			return nil, errorf("%s: name already in use in class %s", pv, c.Name)
		}
		if seenM[mv] {
			return nil, errorf("%s: master volume given twice in -a", mv)
		}
		seenM[mv], seenP[pv] = true, true
		out = append(out, mapping{master: mv, proxy: pv, jrm: jrm == "on"})
	}
	for _, v := range c.groupVolumes(m) {
		if !seenM[v.Name] {
			return nil, errorf("%s: master volume has no proxy volume name in -a", v.Name)
		}
	}
	return out, nil
}

func (r *run) startCopy(rate float64, into *Volume, from string, mb float64) {
	into.Copy = &Copy{From: from, Start: r.now, MB: mb, RateMBps: rate}
}

func (r *run) relateOrJoin(x *opts, join bool) ([]string, error) {
	kind, err := r.checkRelate(x, join)
	if err != nil {
		return nil, err
	}
	var maps []mapping
	if kind == "group" {
		if maps, err = x.parseMap(x.master); err != nil {
			return nil, err
		}
	}
	if err := r.fault(x.sub, x.proxies[0]); err != nil {
		return nil, err
	}
	rate := r.copyRate(x.st)
	rel := "part"
	if join {
		rel = "join"
	}
	c := x.c
	var copied []string
	if kind == "volume" {
		pv := c.Volumes[x.proxies[0]]
		pv.Master, pv.Rel, pv.PJRM, pv.Invalid = x.master, rel, false, false
		if join {
			r.startCopy(rate, pv, x.master, float64(pv.SizeMB))
			copied = append(copied, pv.Name)
		} else {
			pv.Parted = r.now
		}
	} else {
		pg := c.Groups[x.proxies[0]]
		pg.Master = x.master
		for _, mp := range maps {
			mv := c.Volumes[mp.master]
			pv := &Volume{Name: mp.proxy, Group: pg.Name, SizeMB: mv.SizeMB, First: mv.First, JRM: mp.jrm,
				Master: mv.Name, Rel: rel}
			c.Volumes[pv.Name] = pv
			if join {
				r.startCopy(rate, pv, mv.Name, float64(pv.SizeMB))
				copied = append(copied, pv.Name)
			} else {
				pv.Parted = r.now
			}
		}
	}
	if join && x.has("waitsync") {
		return copied, nil
	}
	return nil, nil
}

func (r *run) join(x *opts) ([]string, error)   { return r.relateOrJoin(x, true) }
func (r *run) relate(x *opts) ([]string, error) { return r.relateOrJoin(x, false) }

func (r *run) part(x *opts) ([]string, error) {
	vs, err := x.proxyVolumes()
	if err != nil {
		return nil, err
	}
	pjrm := false
	if x.attr != "" {
		k, v, _ := strings.Cut(x.attr, "=")
		if k != "pjrm" || v != "on" && v != "off" {
			return nil, usagef("-a %q: only pjrm=on|off is accepted", x.attr)
		}
		pjrm = v == "on"
	}
	for _, v := range vs {
		if v.Rel != "join" {
			return nil, errorf("%s: already parted from master %s", v.Name, v.Master)
		}
		if v.copying(r.now) && !x.has("instant") {
			return nil, errorf("%s: copying from master %s is in progress, parting is impossible until it completes", v.Name, v.Master)
		}
	}
	if err := r.fault("Part", strings.Join(x.proxies, ",")); err != nil {
		return nil, err
	}
	for _, v := range vs {
		v.Rel, v.PJRM, v.Parted = "part", pjrm, r.now
		v.start(r.node)
	}
	return nil, nil
}

// checkParted: every proxy parted, stopped everywhere, and no copy running
// on the pair.
func (r *run) checkParted(x *opts, vs []*Volume, needStopped bool) error {
	for _, v := range vs {
		if v.Rel != "part" {
			return errorf("%s: already joined to master %s", v.Name, v.Master)
		}
		if needStopped {
			if n := activeNode(v); n != "" {
				return errorf("%s: volume is active on node %s, stop the proxy volume first", v.Name, n)
			}
		}
		if m := x.c.Volumes[v.Master]; m != nil && m.copying(r.now) || v.copying(r.now) {
			return errorf("%s: copying between master %s and proxy is in progress", v.Name, v.Master)
		}
	}
	return nil
}

func (r *run) rejoin(x *opts) ([]string, error) {
	vs, err := x.proxyVolumes()
	if err != nil {
		return nil, err
	}
	if err := r.checkParted(x, vs, true); err != nil {
		return nil, err
	}
	if err := r.fault("Rejoin", strings.Join(x.proxies, ",")); err != nil {
		return nil, err
	}
	rate := r.copyRate(x.st)
	var names []string
	for _, v := range vs {
		mb := float64(v.SizeMB)
		if v.JRM && !v.Invalid {
			mb = mb * x.st.JRMRejoinPercent / 100
		}
		v.Rel, v.Invalid, v.Parted = "join", false, time.Time{}
		r.startCopy(rate, v, v.Master, mb)
		names = append(names, v.Name)
	}
	if x.has("waitsync") {
		return names, nil
	}
	return nil, nil
}

func (r *run) restoreInto(x *opts, rejoin bool) ([]string, error) {
	vs, err := x.proxyVolumes()
	if err != nil {
		return nil, err
	}
	for _, v := range vs {
		if v.Rel == "join" {
			return nil, errorf("%s: master %s and proxy are joined, restore is impossible (part them first)", v.Name, v.Master)
		}
		if v.Invalid {
			return nil, errorf("%s: proxy data is invalid, cannot restore from it", v.Name)
		}
	}
	if err := r.checkParted(x, vs, rejoin); err != nil {
		return nil, err
	}
	if err := r.fault(x.sub, strings.Join(x.proxies, ",")); err != nil {
		return nil, err
	}
	rate := r.copyRate(x.st)
	var masters []string
	for _, v := range vs {
		m := x.c.Volumes[v.Master]
		r.startCopy(rate, m, v.Name, float64(m.SizeMB))
		masters = append(masters, m.Name)
		if rejoin {
			v.Rel, v.Parted = "join", time.Time{}
		}
	}
	if x.has("instant") || x.has("nowaitsync") {
		return nil, nil
	}
	return masters, nil
}

func (r *run) restore(x *opts) ([]string, error)       { return r.restoreInto(x, false) }
func (r *run) rejoinRestore(x *opts) ([]string, error) { return r.restoreInto(x, true) }

func (r *run) update(x *opts) ([]string, error) {
	vs, err := x.proxyVolumes()
	if err != nil {
		return nil, err
	}
	if err := r.checkParted(x, vs, true); err != nil {
		return nil, err
	}
	if err := r.fault("Update", strings.Join(x.proxies, ",")); err != nil {
		return nil, err
	}
	rate := r.copyRate(x.st)
	var names []string
	for _, v := range vs {
		v.Invalid = false
		r.startCopy(rate, v, v.Master, float64(v.SizeMB))
		v.Parted = r.now
		names = append(names, v.Name)
	}
	if x.has("instant") || x.has("nowaitsync") {
		return nil, nil
	}
	return names, nil
}

func (r *run) breakPair(x *opts) ([]string, error) {
	c := x.c
	p := x.proxies[0]
	var vs []*Volume
	var g *Group
	switch {
	case c.Volumes[p] != nil:
		v := c.Volumes[p]
		if v.Master == "" {
			return nil, errorf("%s: not a proxy volume", p)
		}
		if pg := c.Groups[v.Group]; pg.Master != "" {
			return nil, errorf("%s: proxy volume of proxy group %s cannot be broken alone, break the group", p, pg.Name)
		}
		vs = []*Volume{v}
	case c.Groups[p] != nil:
		g = c.Groups[p]
		if g.Master == "" {
			return nil, errorf("%s: not a proxy group", p)
		}
		for _, v := range c.groupVolumes(p) {
			if v.Master != "" {
				vs = append(vs, v)
			}
		}
	default:
		return nil, errorf("%s: no such object", p)
	}
	force := x.has("force") || x.has("restore")
	for _, v := range vs {
		m := c.Volumes[v.Master]
		if (v.copying(r.now) || m != nil && m.copying(r.now) && m.Copy.From == v.Name) && !force {
			return nil, errorf("%s: copying between master %s and proxy is in progress (use -e force to break anyway)", v.Name, v.Master)
		}
	}
	if err := r.fault("Break", p); err != nil {
		return nil, err
	}
	for _, v := range vs {
		if v.copying(r.now) {
			v.Copy, v.Invalid = nil, true
		}
		if m := c.Volumes[v.Master]; m != nil && m.copying(r.now) && m.Copy.From == v.Name {
			m.Copy, m.Invalid = nil, true
		}
		v.Master, v.Rel, v.PJRM, v.Parted = "", "", false, time.Time{}
	}
	if g != nil {
		g.Master = ""
	}
	return nil, nil
}

func (r *run) cancel(x *opts) ([]string, error) {
	vs, err := x.proxyVolumes()
	if err != nil {
		return nil, err
	}
	n := 0
	for _, v := range vs {
		if v.copying(r.now) {
			v.Copy, v.Invalid = nil, true
			n++
		}
		if m := x.c.Volumes[v.Master]; m != nil && m.copying(r.now) && m.Copy.From == v.Name {
			m.Copy, m.Invalid = nil, true
			n++
		}
	}
	if n == 0 {
		return nil, errorf("%s: no copying in progress", x.proxies[0])
	}
	return nil, nil
}

// waitCopies waits, without holding the lock, until the copies into the
// named volumes have finished, as -e waitsync (or the default of Restore)
// does.
func (r *run) waitCopies(class string, vols []string) error {
	sort.Strings(vols)
	for _, v := range vols {
		r.info("%s: waiting for the completion of copying...", v)
	}
	for {
		var pending []string
		err := r.withState(false, func(st *State) error {
			c := st.Classes[class]
			for _, n := range vols {
				if v := c.Volumes[n]; v != nil && v.copying(r.now) {
					pending = append(pending, n)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(pending) == 0 {
			break
		}
		r.sleep(50 * time.Millisecond)
	}
	for _, v := range vols {
		r.info("%s: copying completed successfully", v)
	}
	return nil
}
