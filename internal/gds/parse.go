package gds

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Info is what one sdxinfo printed. Rows are kept as sdxinfo gave them
// (no order is implied); columns are found by header name, so columns may
// come in any order and unknown columns are ignored.
type Info struct {
	Classes []ClassRow
	Disks   []DiskRow
	Groups  []GroupRow
	Volumes []VolumeRow
	Slices  []SliceRow
	// Columns lists the header names seen per object type ("volume": [...]).
	Columns map[string][]string

	ix *infoIndex // see index.go
}

// ClassRow is a "class" row.
type ClassRow struct {
	Name, Type, Scope string
}

// DiskRow is a "disk" row.
type DiskRow struct {
	Name, Type, Class, Group, Device, Status string
}

// GroupRow is a "group" row. Master is empty unless the group is a proxy
// group (and -e long printed the MASTER column).
type GroupRow struct {
	Name, Class, Type, Master string
	Disks                     []string
	Blocks                    int64
}

// VolumeRow is a "volume" row (the "*" rows for private and free space are
// dropped). Master and Proxy ("Join", "Part") are empty for a volume that
// is not a proxy.
type VolumeRow struct {
	Name, Type, Class, Group, Master, Proxy, JRM, Status string
	Blocks                                               int64
}

// SliceRow is a "slice" row. Copy is the progress column when present.
type SliceRow struct {
	Class, Group, Disk, Volume, Status, Copy string
}

// ParseInfo parses sdxinfo output. A line whose first word is OBJ starts a
// table; the dashes line under it is skipped; a blank line ends it. Lines
// that are SDX messages are ignored. Output with text but no table is an
// error (not sdxinfo output).
func ParseInfo(out []byte) (*Info, error) {
	info := &Info{Columns: map[string][]string{}}
	var header []string
	objCol := -1
	sawTable := false
	for n, line := range strings.Split(string(out), "\n") {
		line = strings.TrimRight(line, "\r")
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
			header, objCol = nil, -1
			continue
		case strings.HasPrefix(f[0], "SDX:"):
			continue
		case indexOf(f, "OBJ") >= 0 && isHeader(f):
			header = make([]string, len(f))
			for i, h := range f {
				header[i] = strings.ToUpper(h)
			}
			objCol = indexOf(header, "OBJ")
			sawTable = true
			continue
		case strings.Trim(line, "- \t") == "":
			continue
		}
		if header == nil {
			if sawTable {
				// a stray line between tables: ignore it
				continue
			}
			return nil, fmt.Errorf("sdxinfo output line %d is not part of a table: %q", n+1, line)
		}
		row := map[string]string{}
		for i, h := range header {
			if i < len(f) {
				row[h] = f[i]
			}
		}
		obj := ""
		if objCol < len(f) {
			obj = strings.ToLower(f[objCol])
		}
		if _, ok := info.Columns[obj]; !ok {
			info.Columns[obj] = header
		}
		info.add(obj, row)
	}
	if !sawTable && strings.TrimSpace(string(out)) != "" {
		return nil, fmt.Errorf("no sdxinfo table found in the output")
	}
	info.buildIndex()
	return info, nil
}

// isHeader: every word of a header line is upper case.
func isHeader(f []string) bool {
	for _, w := range f {
		if w != strings.ToUpper(w) {
			return false
		}
	}
	return true
}

func indexOf(s []string, w string) int {
	for i, x := range s {
		if x == w {
			return i
		}
	}
	return -1
}

// val returns a column value with "*" (not applicable) read as empty.
func val(row map[string]string, col string) string {
	v := row[col]
	if v == "*" {
		return ""
	}
	return v
}

func (info *Info) add(obj string, row map[string]string) {
	switch obj {
	case "class":
		info.Classes = append(info.Classes, ClassRow{Name: val(row, "NAME"), Type: val(row, "TYPE"), Scope: val(row, "SCOPE")})
	case "disk":
		info.Disks = append(info.Disks, DiskRow{Name: val(row, "NAME"), Type: val(row, "TYPE"), Class: val(row, "CLASS"),
			Group: val(row, "GROUP"), Device: val(row, "DEVNAM"), Status: val(row, "STATUS")})
	case "group":
		g := GroupRow{Name: val(row, "NAME"), Class: val(row, "CLASS"), Type: val(row, "TYPE"), Master: val(row, "MASTER")}
		if d := val(row, "DISKS"); d != "" {
			g.Disks = strings.Split(d, ":")
		}
		g.Blocks, _ = strconv.ParseInt(row["BLKS"], 10, 64)
		if g.Name != "" {
			info.Groups = append(info.Groups, g)
		}
	case "volume":
		v := VolumeRow{Name: val(row, "NAME"), Type: val(row, "TYPE"), Class: val(row, "CLASS"), Group: val(row, "GROUP"),
			Master: val(row, "MASTER"), Proxy: val(row, "PROXY"), JRM: val(row, "JRM"), Status: val(row, "STATUS")}
		v.Blocks, _ = strconv.ParseInt(row["BLOCKS"], 10, 64)
		if v.Name != "" { // "*" rows: private region, free space
			info.Volumes = append(info.Volumes, v)
		}
	case "slice":
		s := SliceRow{Class: val(row, "CLASS"), Group: val(row, "GROUP"), Disk: val(row, "DISK"),
			Volume: val(row, "VOLUME"), Status: val(row, "STATUS"), Copy: val(row, "COPY")}
		if s.Volume == "" {
			// some layouts print only the slice name disk.volume
			if _, v, ok := strings.Cut(val(row, "NAME"), "."); ok {
				s.Volume = v
			}
		}
		info.Slices = append(info.Slices, s)
	}
}

// HasProxyColumns reports whether the volume table carried MASTER and
// PROXY (sdxinfo -e long); without them proxy relations cannot be seen.
func (info *Info) HasProxyColumns() bool {
	cols := info.Columns["volume"]
	return indexOf(cols, "MASTER") >= 0 && indexOf(cols, "PROXY") >= 0
}

// Volume finds a volume row by class and name.
func (info *Info) Volume(class, name string) (VolumeRow, bool) {
	for i := range info.ix.rows(byVolumeName, len(info.Volumes), name) {
		if v := info.Volumes[i]; v.Name == name && (v.Class == "" || class == "" || v.Class == class) {
			return v, true
		}
	}
	return VolumeRow{}, false
}

// Group finds a group row by class and name.
func (info *Info) Group(class, name string) (GroupRow, bool) {
	for i := range info.ix.rows(byGroupName, len(info.Groups), name) {
		if g := info.Groups[i]; g.Name == name && (g.Class == "" || class == "" || g.Class == class) {
			return g, true
		}
	}
	return GroupRow{}, false
}

// GroupVolumes returns the volumes of group g, sorted by name.
func (info *Info) GroupVolumes(class, g string) []VolumeRow {
	var out []VolumeRow
	for i := range info.ix.rows(byVolumeGroup, len(info.Volumes), g) {
		if v := info.Volumes[i]; v.Group == g && (v.Class == "" || class == "" || v.Class == class) {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// VolumeSlices returns the slices of volume vol, sorted by disk.
func (info *Info) VolumeSlices(class, vol string) []SliceRow {
	var out []SliceRow
	for i := range info.ix.rows(bySliceVolume, len(info.Slices), vol) {
		if s := info.Slices[i]; s.Volume == vol && (s.Class == "" || class == "" || s.Class == class) {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Disk < out[j].Disk })
	return out
}
