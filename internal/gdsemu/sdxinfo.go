package gdsemu

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// sdxinfo [-ACDGSV] [-c class] [-o object] [-e label,long]
func (r *run) sdxinfo() error {
	o, err := parseOpts(r.args, "ACDGSVI", "coe")
	if err != nil {
		return err
	}
	ext, err := extOpts(o.vals['e'], map[string]bool{"label": false, "long": false})
	if err != nil {
		return err
	}
	if o.flags['I'] {
		if len(o.flags) > 1 || o.vals['o'] != "" || o.vals['e'] != "" {
			return usagef("-I cannot be combined with other options than -c")
		}
	}
	_, long := ext["long"]
	_, label := ext["label"]
	views := map[byte]bool{}
	for _, c := range []byte("CDGSV") {
		if o.flags[c] || o.flags['A'] {
			views[c] = true
		}
	}
	if len(views) == 0 {
		for _, c := range []byte("CDGSV") {
			views[c] = true
		}
	}
	var out strings.Builder
	err = r.withState(false, func(st *State) error {
		if err := r.fault("", o.vals['o']); err != nil {
			return err
		}
		classes, err := r.visibleClasses(st, o.vals['c'])
		if err != nil {
			return err
		}
		if o.flags['I'] {
			writeTable(&out, r, []string{"OBJ", "NAME", "IOMONITOR"}, nil)
			return nil
		}
		sel, err := selectObjects(classes, o.vals['o'])
		if err != nil {
			return err
		}
		r.render(&out, sel, views, long, label)
		return nil
	})
	if err != nil {
		return err
	}
	_, err = io.WriteString(r.env.Stdout, out.String())
	return err
}

// visibleClasses are the classes whose scope includes the current node,
// or the one named by -c.
func (r *run) visibleClasses(st *State, name string) ([]*Class, error) {
	var cs []*Class
	for _, c := range st.Classes {
		if name != "" && c.Name != name {
			continue
		}
		in := false
		for _, n := range c.Scope {
			in = in || n == r.node
		}
		if in {
			cs = append(cs, c)
		}
	}
	if name != "" && len(cs) == 0 {
		return nil, errorf("%s: no such class", name)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
	return cs, nil
}

// selection is what one sdxinfo prints, per class.
type selection struct {
	class   *Class
	disks   map[string]bool
	groups  map[string]bool
	volumes map[string]bool
	// slices: volume -> disks
	slices map[string]map[string]bool
}

func selectObjects(classes []*Class, obj string) ([]*selection, error) {
	var out []*selection
	for _, c := range classes {
		s := &selection{class: c, disks: map[string]bool{}, groups: map[string]bool{},
			volumes: map[string]bool{}, slices: map[string]map[string]bool{}}
		addSlices := func(v *Volume) {
			g := c.Groups[v.Group]
			for _, d := range g.Disks {
				if s.slices[v.Name] == nil {
					s.slices[v.Name] = map[string]bool{}
				}
				s.slices[v.Name][d] = true
			}
		}
		switch {
		case obj == "":
			for n := range c.Disks {
				s.disks[n] = true
			}
			for n := range c.Groups {
				s.groups[n] = true
			}
			for n, v := range c.Volumes {
				s.volumes[n] = true
				addSlices(v)
			}
		case c.Volumes[obj] != nil:
			v := c.Volumes[obj]
			s.volumes[v.Name] = true
			s.groups[v.Group] = true
			for _, d := range c.Groups[v.Group].Disks {
				s.disks[d] = true
			}
			addSlices(v)
		case c.Groups[obj] != nil:
			g := c.Groups[obj]
			s.groups[g.Name] = true
			for _, d := range g.Disks {
				s.disks[d] = true
			}
			for _, v := range c.groupVolumes(g.Name) {
				s.volumes[v.Name] = true
				addSlices(v)
			}
		case c.Disks[obj] != nil:
			d := c.Disks[obj]
			s.disks[d.Name] = true
			s.groups[d.Group] = true
			for _, v := range c.groupVolumes(d.Group) {
				s.volumes[v.Name] = true
				s.slices[v.Name] = map[string]bool{d.Name: true}
			}
		case obj == c.Name:
			// the class itself: everything in it
			sel, _ := selectObjects([]*Class{c}, "")
			s = sel[0]
		default:
			continue
		}
		out = append(out, s)
	}
	if obj != "" && len(out) == 0 {
		return nil, errorf("%s: no such object", obj)
	}
	return out, nil
}

// render prints the sections in the manual's order; rows in random order.
func (r *run) render(w *strings.Builder, sels []*selection, views map[byte]bool, long, label bool) {
	first := true
	section := func(header []string, rows [][]string) {
		if len(rows) == 0 {
			return
		}
		if !first {
			w.WriteString("\n")
		}
		first = false
		writeTable(w, r, header, rows)
	}
	if views['C'] {
		h := []string{"OBJ", "NAME", "TYPE", "SCOPE", "SPARE"}
		if label {
			h = append(h, "LABEL")
		}
		var rows [][]string
		for _, s := range sels {
			row := []string{"class", s.class.Name, s.class.Type, strings.Join(s.class.Scope, ":"), "0"}
			if label {
				row = append(row, "*")
			}
			rows = append(rows, row)
		}
		section(h, rows)
	}
	if views['D'] {
		var rows [][]string
		for _, s := range sels {
			for dn := range s.disks {
				d := s.class.Disks[dn]
				g := s.class.Groups[d.Group]
				rows = append(rows, []string{"disk", d.Name, g.Type, s.class.Name, d.Group, d.Device,
					strconv.FormatInt(d.SizeMB*blocksPerMB, 10), strings.Join(s.class.Scope, ":"), "ENABLE"})
			}
		}
		section([]string{"OBJ", "NAME", "TYPE", "CLASS", "GROUP", "DEVNAM", "DEVBLKS", "DEVCONNECT", "STATUS"}, rows)
	}
	if views['G'] {
		h := []string{"OBJ", "NAME", "CLASS", "DISKS", "BLKS", "FREEBLKS", "SPARE"}
		if long {
			h = append(h, "MASTER", "TYPE", "WIDTH", "ACTDISK")
		}
		var rows [][]string
		for _, s := range sels {
			for gn := range s.groups {
				g := s.class.Groups[gn]
				blks := s.class.groupBlocks(g)
				used := int64(privateBlocks)
				for _, v := range s.class.groupVolumes(g.Name) {
					used += v.SizeMB * blocksPerMB
				}
				free := blks - used
				if free < 0 {
					free = 0
				}
				row := []string{"group", g.Name, s.class.Name, strings.Join(g.Disks, ":"),
					strconv.FormatInt(blks, 10), strconv.FormatInt(free, 10), "0"}
				if long {
					row = append(row, star(g.Master), g.Type, "*", "*")
				}
				rows = append(rows, row)
			}
		}
		section(h, rows)
	}
	if views['V'] {
		h := []string{"OBJ", "NAME", "CLASS", "GROUP", "SKIP", "JRM", "1STBLK", "LASTBLK", "BLOCKS", "STATUS"}
		if long {
			h = []string{"OBJ", "NAME", "TYPE", "CLASS", "GROUP", "DISK", "MASTER", "PROXY", "SKIP", "JRM",
				"MODE", "CONC", "WIDTH", "PJRM", "FREEZE", "1STBLK", "LASTBLK", "BLOCKS", "STATUS"}
		}
		var rows [][]string
		for _, s := range sels {
			groupsShown := map[string]bool{}
			for vn := range s.volumes {
				v := s.class.Volumes[vn]
				g := s.class.Groups[v.Group]
				groupsShown[v.Group] = true
				blocks := v.SizeMB * blocksPerMB
				rows = append(rows, r.volumeRow(s.class, g, vn, v.First, blocks, r.volumeStatus(v), v, long))
			}
			// the private region and the free space of each group shown
			for gn := range groupsShown {
				g := s.class.Groups[gn]
				rows = append(rows, r.volumeRow(s.class, g, "*", 0, privateBlocks, "PRIVATE", nil, long))
				end := int64(privateBlocks)
				for _, v := range s.class.groupVolumes(gn) {
					if e := v.First + v.SizeMB*blocksPerMB; e > end {
						end = e
					}
				}
				if total := s.class.groupBlocks(g); total > end {
					rows = append(rows, r.volumeRow(s.class, g, "*", end, total-end, "FREE", nil, long))
				}
			}
		}
		section(h, rows)
	}
	if views['S'] {
		h := []string{"OBJ", "CLASS", "GROUP", "DISK", "VOLUME", "STATUS"}
		if long {
			h = []string{"OBJ", "NAME", "CLASS", "GROUP", "DISK", "VOLUME", "COPY", "STATUS"}
		}
		var rows [][]string
		for _, s := range sels {
			for vn, disks := range s.slices {
				v := s.class.Volumes[vn]
				for dn := range disks {
					st := r.sliceStatus(v)
					if long {
						cp := "*"
						if st == "COPY" {
							cp = strconv.Itoa(v.Copy.Progress(r.now)) + "%"
						}
						rows = append(rows, []string{"slice", dn + "." + vn, s.class.Name, v.Group, dn, vn, cp, st})
					} else {
						rows = append(rows, []string{"slice", s.class.Name, v.Group, dn, vn, st})
					}
				}
			}
		}
		section(h, rows)
	}
}

func (r *run) volumeRow(c *Class, g *Group, name string, first, blocks int64, status string, v *Volume, long bool) []string {
	last := strconv.FormatInt(first+blocks-1, 10)
	if !long {
		skip, jrm := "*", "*"
		if v != nil {
			skip, jrm = "off", onoff(v.JRM)
		}
		return []string{"volume", name, c.Name, g.Name, skip, jrm,
			strconv.FormatInt(first, 10), last, strconv.FormatInt(blocks, 10), status}
	}
	disk := "*"
	if g.Type == "single" {
		disk = g.Disks[0]
	}
	row := []string{"volume", name, g.Type, c.Name, g.Name, disk}
	if v == nil {
		row = append(row, "*", "*", "*", "*", "*", "*", "*", "*", "*")
	} else {
		proxy, pjrm := "*", "*"
		switch v.Rel {
		case "join":
			proxy = "Join"
			pjrm = onoff(v.PJRM)
		case "part":
			proxy = "Part"
			pjrm = onoff(v.PJRM)
		}
		row = append(row, star(v.Master), proxy, "off", onoff(v.JRM), "rw", "*", "*", pjrm, "off")
	}
	return append(row, strconv.FormatInt(first, 10), last, strconv.FormatInt(blocks, 10), status)
}

func (r *run) volumeStatus(v *Volume) string {
	switch {
	case v.Invalid:
		return "INVALID"
	case v.activeOn(r.node):
		return "ACTIVE"
	default:
		return "STOP"
	}
}

func (r *run) sliceStatus(v *Volume) string {
	switch {
	case v.Invalid:
		return "INVALID"
	case v.copying(r.now):
		return "COPY"
	case v.activeOn(r.node):
		return "ACTIVE"
	default:
		return "STOP"
	}
}

// writeTable prints a header, a dashes line and the rows (shuffled), each
// column as wide as its widest cell.
func writeTable(w *strings.Builder, r *run, header []string, rows [][]string) {
	r.rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
	width := make([]int, len(header))
	for i, h := range header {
		width[i] = len(h)
	}
	for _, row := range rows {
		for i, c := range row {
			if len(c) > width[i] {
				width[i] = len(c)
			}
		}
	}
	line := func(cells []string) {
		for i, c := range cells {
			if i == len(cells)-1 {
				w.WriteString(c)
			} else {
				fmt.Fprintf(w, "%-*s ", width[i], c)
			}
		}
		w.WriteString("\n")
	}
	line(header)
	dashes := make([]string, len(header))
	for i := range header {
		dashes[i] = strings.Repeat("-", width[i])
	}
	line(dashes)
	for _, row := range rows {
		line(row)
	}
}

func star(s string) string {
	if s == "" {
		return "*"
	}
	return s
}

func onoff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
