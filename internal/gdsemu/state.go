package gdsemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"time"
)

// blocksPerMB converts sizes to 512-byte blocks, the unit sdxinfo prints.
const blocksPerMB = 2048

// privateBlocks is the private region at the start of every disk.
const privateBlocks = 65536

// State is the whole emulated configuration.
type State struct {
	Nodes            []string          `json:"nodes"`
	CopyRateMBps     float64           `json:"copy_rate_mb_per_s"`
	JRMRejoinPercent float64           `json:"jrm_rejoin_percent"`
	Classes          map[string]*Class `json:"classes"`
}

// Class is a disk class.
type Class struct {
	Name    string             `json:"name"`
	Type    string             `json:"type"`
	Scope   []string           `json:"scope"`
	Disks   map[string]*Disk   `json:"disks"`
	Groups  map[string]*Group  `json:"groups"`
	Volumes map[string]*Volume `json:"volumes"`
}

// Disk is a physical disk registered in a class.
type Disk struct {
	Name   string `json:"name"`
	Group  string `json:"group"`
	Device string `json:"device"`
	SizeMB int64  `json:"size_mb"`
}

// Group is a mirror/single/... group. A proxy group has Master set.
type Group struct {
	Name   string   `json:"name"`
	Type   string   `json:"type"`
	Disks  []string `json:"disks"`
	Master string   `json:"master,omitempty"`
}

// Volume is a logical volume. A proxy volume has Master set and Rel
// "join" or "part".
type Volume struct {
	Name    string    `json:"name"`
	Group   string    `json:"group"`
	SizeMB  int64     `json:"size_mb"`
	First   int64     `json:"first_block"`
	JRM     bool      `json:"jrm"`
	PJRM    bool      `json:"pjrm"`
	Active  []string  `json:"active,omitempty"` // nodes where the volume is started
	Master  string    `json:"master,omitempty"`
	Rel     string    `json:"rel,omitempty"` // "join" | "part"
	Copy    *Copy     `json:"copy,omitempty"`
	Invalid bool      `json:"invalid,omitempty"` // data unusable (cancelled copy)
	Parted  time.Time `json:"parted_at,omitzero"`
}

// Copy is an equivalency copy into the volume that holds it.
type Copy struct {
	From     string    `json:"from"`
	Start    time.Time `json:"start"`
	MB       float64   `json:"mb"`
	RateMBps float64   `json:"rate"`
}

// Done reports when the copy ends.
func (c *Copy) Done() time.Time {
	if c.RateMBps <= 0 {
		return c.Start
	}
	return c.Start.Add(time.Duration(c.MB / c.RateMBps * float64(time.Second)))
}

// Progress is the share copied at now, 0..100.
func (c *Copy) Progress(now time.Time) int {
	total := c.Done().Sub(c.Start)
	if total <= 0 || !now.Before(c.Done()) {
		return 100
	}
	p := int(100 * now.Sub(c.Start) / total)
	if p < 0 {
		p = 0
	}
	return p
}

func newState(cfg Config) (*State, error) {
	if len(cfg.Nodes) == 0 {
		cfg.Nodes = []string{"node1"}
	}
	st := &State{
		Nodes:            cfg.Nodes,
		CopyRateMBps:     cfg.CopyRateMBps,
		JRMRejoinPercent: cfg.JRMRejoinPercent,
		Classes:          map[string]*Class{},
	}
	if st.CopyRateMBps <= 0 {
		st.CopyRateMBps = 100
	}
	if st.JRMRejoinPercent <= 0 {
		st.JRMRejoinPercent = 10
	}
	devN := 0
	for _, cc := range cfg.Classes {
		if err := checkName("class", cc.Name); err != nil {
			return nil, err
		}
		if _, dup := st.Classes[cc.Name]; dup {
			return nil, fmt.Errorf("class %s defined twice", cc.Name)
		}
		c := &Class{Name: cc.Name, Type: cc.Type, Scope: cc.Scope,
			Disks: map[string]*Disk{}, Groups: map[string]*Group{}, Volumes: map[string]*Volume{}}
		if c.Type == "" {
			c.Type = "local"
		}
		if c.Type != "local" && c.Type != "shared" {
			return nil, fmt.Errorf("class %s: type %q is not local or shared", c.Name, c.Type)
		}
		if len(c.Scope) == 0 {
			if c.Type == "shared" {
				c.Scope = append([]string(nil), st.Nodes...)
			} else {
				c.Scope = []string{st.Nodes[0]}
			}
		}
		for _, gc := range cc.Groups {
			if err := checkName("group", gc.Name); err != nil {
				return nil, err
			}
			if c.exists(gc.Name) {
				return nil, fmt.Errorf("class %s: name %s used twice", c.Name, gc.Name)
			}
			g := &Group{Name: gc.Name, Type: gc.Type, Disks: gc.Disks}
			if g.Type == "" {
				g.Type = "mirror"
			}
			switch g.Type {
			case "mirror", "single", "concat", "stripe":
			default:
				return nil, fmt.Errorf("group %s: unknown type %q", g.Name, g.Type)
			}
			if len(g.Disks) == 0 {
				return nil, fmt.Errorf("group %s: no disks", g.Name)
			}
			if g.Type == "single" && len(g.Disks) != 1 {
				return nil, fmt.Errorf("group %s: a single group has exactly one disk", g.Name)
			}
			c.Groups[g.Name] = g
			size := gc.DiskMB
			if size <= 0 {
				size = 8192
			}
			for _, dn := range g.Disks {
				if err := checkName("disk", dn); err != nil {
					return nil, err
				}
				if c.exists(dn) {
					return nil, fmt.Errorf("class %s: name %s used twice", c.Name, dn)
				}
				c.Disks[dn] = &Disk{Name: dn, Group: g.Name, Device: diskDevice(devN), SizeMB: size}
				devN++
			}
			for _, vc := range gc.Volumes {
				if err := checkName("volume", vc.Name); err != nil {
					return nil, err
				}
				if c.exists(vc.Name) {
					return nil, fmt.Errorf("class %s: name %s used twice", c.Name, vc.Name)
				}
				if vc.SizeMB <= 0 {
					return nil, fmt.Errorf("volume %s: size_mb must be positive", vc.Name)
				}
				v := &Volume{Name: vc.Name, Group: g.Name, SizeMB: vc.SizeMB, JRM: vc.JRM == nil || *vc.JRM}
				if !vc.Stopped {
					v.Active = append([]string(nil), c.Scope...)
				}
				c.addVolume(v)
			}
		}
		st.Classes[c.Name] = c
	}
	return st, nil
}

func diskDevice(n int) string {
	s := ""
	for {
		s = string(rune('a'+n%26)) + s
		n = n/26 - 1
		if n < 0 {
			break
		}
	}
	return "sd" + s
}

// exists reports whether name is taken by a disk, group or volume.
func (c *Class) exists(name string) bool {
	_, d := c.Disks[name]
	_, g := c.Groups[name]
	_, v := c.Volumes[name]
	return d || g || v
}

// addVolume places v after the last volume of its group.
func (c *Class) addVolume(v *Volume) {
	next := int64(privateBlocks)
	for _, o := range c.Volumes {
		if o.Group == v.Group {
			if end := o.First + o.SizeMB*blocksPerMB; end > next {
				next = end
			}
		}
	}
	v.First = next
	c.Volumes[v.Name] = v
}

// groupVolumes returns the volumes of group g, sorted by name.
func (c *Class) groupVolumes(g string) []*Volume {
	var vs []*Volume
	for _, v := range c.Volumes {
		if v.Group == g {
			vs = append(vs, v)
		}
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i].Name < vs[j].Name })
	return vs
}

// proxiesOf lists volumes whose master is name.
func (c *Class) proxiesOf(name string) []*Volume {
	var vs []*Volume
	for _, v := range c.Volumes {
		if v.Master == name {
			vs = append(vs, v)
		}
	}
	return vs
}

// groupProxiesOf lists groups whose master is name.
func (c *Class) groupProxiesOf(name string) []*Group {
	var gs []*Group
	for _, g := range c.Groups {
		if g.Master == name {
			gs = append(gs, g)
		}
	}
	return gs
}

// groupBlocks is the usable size of a group, in blocks.
func (c *Class) groupBlocks(g *Group) int64 {
	var per int64
	for _, dn := range g.Disks {
		if d := c.Disks[dn]; d != nil {
			switch g.Type {
			case "concat", "stripe":
				per += d.SizeMB * blocksPerMB
			default:
				if per == 0 || d.SizeMB*blocksPerMB < per {
					per = d.SizeMB * blocksPerMB
				}
			}
		}
	}
	return per
}

func (v *Volume) activeOn(node string) bool {
	for _, n := range v.Active {
		if n == node {
			return true
		}
	}
	return false
}

func (v *Volume) start(node string) {
	if !v.activeOn(node) {
		v.Active = append(v.Active, node)
		sort.Strings(v.Active)
	}
}

func (v *Volume) stop(node string) {
	out := v.Active[:0]
	for _, n := range v.Active {
		if n != node {
			out = append(out, n)
		}
	}
	v.Active = out
}

// copying reports whether a copy into v is still running at now.
func (v *Volume) copying(now time.Time) bool {
	return v.Copy != nil && now.Before(v.Copy.Done())
}

// settle forgets copies that have finished by now.
func (st *State) settle(now time.Time) {
	for _, c := range st.Classes {
		for _, v := range c.Volumes {
			if v.Copy != nil && !now.Before(v.Copy.Done()) {
				v.Copy = nil
			}
		}
	}
}

func loadState(root string) (*State, error) {
	b, err := os.ReadFile(filepath.Join(root, StateFile))
	if errors.Is(err, os.ErrNotExist) {
		cfg, cerr := loadConfig(root)
		if cerr != nil {
			return nil, cerr
		}
		return newState(cfg)
	}
	if err != nil {
		return nil, err
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("emulator state: %w", err)
	}
	return &st, nil
}

func (st *State) save(root string) error {
	b, err := json.MarshalIndent(st, "", " ")
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(root, StateFile), b)
}

// lock takes the exclusive lock of root and returns its release.
func lock(root string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(root, LockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// checkName applies the GDS naming rule: at most 32 characters of
// [A-Za-z0-9_-], not starting with '-' or '_'.
func checkName(kind, s string) error {
	if !ValidName(s) {
		return fmt.Errorf("%s name %q is invalid: up to 32 letters, digits, '-' or '_', starting with a letter or digit", kind, s)
	}
	return nil
}

// ValidName reports whether s is a valid GDS object name.
func ValidName(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for i, c := range s {
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '-' && c != '_') {
			return false
		}
	}
	return true
}
