package gds

import (
	"fmt"
	"sort"
	"strings"
)

// State of a master/proxy pair.
type State string

// Pair states. Mixed is a group pair whose proxy volumes are not all in
// the same state (parted or rejoined one by one out of band).
const (
	StateNone   State = "none"
	StateJoined State = "joined"
	StateParted State = "parted"
	StateMixed  State = "mixed"
)

// Slice STATUS values the manuals show.
const (
	SliceActive   = "ACTIVE"
	SliceStop     = "STOP"
	SliceCopy     = "COPY"
	SliceInvalid  = "INVALID"
	SliceNoUse    = "NOUSE"
	SliceTemp     = "TEMP"
	SliceTempStop = "TEMP-STOP"
)

// Pair names a master/proxy pair. VolumeMap (master volume -> proxy
// volume) is set for a group pair and empty for a volume pair.
type Pair struct {
	Class     string
	Master    string
	Proxy     string
	VolumeMap map[string]string
}

// IsGroup reports whether this is a group pair.
func (p Pair) IsGroup() bool { return len(p.VolumeMap) > 0 }

// ProxyVolumes lists the proxy volume names, sorted.
func (p Pair) ProxyVolumes() []string {
	if !p.IsGroup() {
		return []string{p.Proxy}
	}
	var out []string
	for _, v := range p.VolumeMap {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// String is host-independent identity: class/proxy.
func (p Pair) String() string { return p.Class + "/" + p.Proxy }

// ProxyVolume is one related proxy volume as sdxinfo shows it.
type ProxyVolume struct {
	Master string
	Proxy  string
	State  State
	Status string // volume STATUS
	Slices []SliceRow
}

// Status is what sdxinfo says of the proxy object of a pair.
type Status struct {
	Class string
	Proxy string
	// Exists is false when the proxy object is not in the class at all.
	Exists bool
	// Group is true when the proxy object is a group.
	Group bool
	// Master is the object the proxy is related to ("" when none).
	Master string
	// VolumeMap is master volume -> proxy volume of a related group pair.
	VolumeMap map[string]string
	State     State
	Volumes   []ProxyVolume
	// CopyStatus summarizes the slices of the proxy volumes (and of the
	// master volumes while a restore copies back): COPY while any slice
	// copies, INVALID when any is invalid, else their common STATUS.
	CopyStatus string
	// CopyProgress is the lowest progress reported (0..100), -1 unknown.
	CopyProgress int
	MasterDevice string
	ProxyDevice  string

	copying bool // some slice counted in CopyStatus shows COPY
}

// Copying reports whether an equivalency copy is still running: a slice
// of a proxy volume, or of a master volume during a Restore, shows COPY
// (even when another slice is INVALID, which CopyStatus reports first).
func (s *Status) Copying() bool { return s.copying || s.CopyStatus == SliceCopy }

// Pair returns the pair as found (for import).
func (s *Status) Pair() Pair {
	return Pair{Class: s.Class, Master: s.Master, Proxy: s.Proxy, VolumeMap: s.VolumeMap}
}

// StatusOf reads the state of proxy object proxy (volume or group) of
// class from info, which must come from sdxinfo -e long.
func StatusOf(info *Info, class, proxy string) (*Status, error) {
	st := &Status{Class: class, Proxy: proxy, State: StateNone, CopyProgress: -1}
	if len(info.Volumes) > 0 && !info.HasProxyColumns() {
		return nil, fmt.Errorf("sdxinfo printed no MASTER/PROXY columns (was -e long honoured?): proxy relations cannot be read")
	}
	var members []VolumeRow
	var masterVols []string
	if v, ok := info.Volume(class, proxy); ok {
		st.Exists = true
		if v.Master != "" {
			members = []VolumeRow{v}
			st.Master = v.Master
			masterVols = []string{v.Master}
		}
	} else if g, ok := info.Group(class, proxy); ok {
		st.Exists, st.Group = true, true
		st.Master = g.Master
		for _, v := range info.GroupVolumes(class, proxy) {
			if v.Master == "" {
				continue
			}
			members = append(members, v)
			masterVols = append(masterVols, v.Master)
			if st.Master == "" {
				// no MASTER column on groups: the master group is the
				// group of the master volumes
				if mv, ok := info.Volume(class, v.Master); ok {
					st.Master = mv.Group
				}
			}
		}
		if len(members) > 0 {
			st.VolumeMap = map[string]string{}
			for _, v := range members {
				st.VolumeMap[v.Master] = v.Name
			}
		}
	} else {
		return st, nil
	}
	if len(members) == 0 {
		st.Master = ""
		return st, nil
	}
	states := map[State]bool{}
	var statuses []string
	for _, v := range members {
		pv := ProxyVolume{Master: v.Master, Proxy: v.Name, Status: v.Status, Slices: info.VolumeSlices(class, v.Name)}
		switch strings.ToLower(v.Proxy) {
		case "join", "joined":
			pv.State = StateJoined
		case "part", "parted":
			pv.State = StateParted
		default:
			return nil, fmt.Errorf("proxy volume %s: unknown PROXY value %q", v.Name, v.Proxy)
		}
		states[pv.State] = true
		for _, s := range pv.Slices {
			statuses = append(statuses, s.Status)
			st.noteProgress(s)
		}
		st.Volumes = append(st.Volumes, pv)
	}
	for _, mv := range masterVols {
		for _, s := range info.VolumeSlices(class, mv) {
			if s.Status == SliceCopy {
				statuses = append(statuses, s.Status)
				st.noteProgress(s)
			}
		}
	}
	switch {
	case len(states) > 1:
		st.State = StateMixed
	case states[StateJoined]:
		st.State = StateJoined
	default:
		st.State = StateParted
	}
	st.CopyStatus = summarize(statuses)
	for _, s := range statuses {
		st.copying = st.copying || s == SliceCopy
	}
	if !st.Group {
		st.MasterDevice = Device(class, st.Master)
		st.ProxyDevice = Device(class, proxy)
	}
	return st, nil
}

func (s *Status) noteProgress(sl SliceRow) {
	if sl.Status != SliceCopy {
		return
	}
	p := -1
	if strings.HasSuffix(sl.Copy, "%") {
		if _, err := fmt.Sscanf(strings.TrimSuffix(sl.Copy, "%"), "%d", &p); err != nil {
			p = -1
		}
	}
	if p >= 0 && (s.CopyProgress < 0 || p < s.CopyProgress) {
		s.CopyProgress = p
	}
}

func summarize(statuses []string) string {
	if len(statuses) == 0 {
		return ""
	}
	set := map[string]bool{}
	for _, s := range statuses {
		set[s] = true
	}
	switch {
	case set[SliceInvalid]:
		return SliceInvalid
	case set[SliceCopy]:
		return SliceCopy
	case len(set) == 1:
		return statuses[0]
	}
	var all []string
	for s := range set {
		all = append(all, s)
	}
	sort.Strings(all)
	return strings.Join(all, ",")
}
