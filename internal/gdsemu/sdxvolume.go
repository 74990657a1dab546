package gdsemu

import "strings"

// sdxvolume -F|-N -c class [-v volume,...] [-e allnodes]
func (r *run) sdxvolume() error {
	o, err := parseOpts(r.args, "FN", "cve")
	if err != nil {
		return err
	}
	if o.flags['F'] == o.flags['N'] {
		return usagef("give exactly one of -F (stop) or -N (start)")
	}
	ext, err := extOpts(o.vals['e'], map[string]bool{"allnodes": false})
	if err != nil {
		return err
	}
	_, allNodes := ext["allnodes"]
	op := "-N"
	if o.flags['F'] {
		op = "-F"
	}
	var msgs []string
	err = r.withState(true, func(st *State) error {
		cs, err := r.visibleClasses(st, o.vals['c'])
		if err != nil {
			return err
		}
		if o.vals['c'] == "" {
			return usagef("-c class is required")
		}
		c := cs[0]
		var vols []*Volume
		if o.vals['v'] == "" {
			for _, g := range c.Groups {
				vols = append(vols, c.groupVolumes(g.Name)...)
			}
		} else {
			for _, n := range strings.Split(o.vals['v'], ",") {
				v := c.Volumes[n]
				if v == nil {
					return errorf("%s: no such volume", n)
				}
				vols = append(vols, v)
			}
		}
		nodes := []string{r.node}
		if allNodes {
			nodes = c.Scope
		}
		for _, v := range vols {
			if v.Master != "" && v.Rel == "join" {
				return errorf("%s: proxy volume is joined to master %s, it can be started or stopped only while parted", v.Name, v.Master)
			}
			if op == "-N" && v.Invalid {
				return errorf("%s: volume data is invalid, cannot start", v.Name)
			}
			if op == "-N" && v.copying(r.now) && v.Master != "" {
				return errorf("%s: copying is in progress, cannot start", v.Name)
			}
		}
		if err := r.fault(op, o.vals['v']); err != nil {
			return err
		}
		for _, v := range vols {
			for _, n := range nodes {
				if op == "-F" {
					if v.activeOn(n) {
						v.stop(n)
						msgs = append(msgs, v.Name+": stopped volume on node "+n)
					}
				} else if !v.activeOn(n) {
					v.start(n)
					msgs = append(msgs, v.Name+": started volume on node "+n)
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, m := range msgs {
		r.info("%s", m)
	}
	return nil
}
