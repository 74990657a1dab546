package gds

import "iter"

// infoIndex finds an Info's rows by name instead of scanning them. Every
// pair's status looks up its volumes and slices, so without it a refresh
// of a class of n pairs costs n² comparisons (over 100 ms at 2,000 pairs).
// ParseInfo builds it; rows are not changed afterwards. An Info built by
// hand, or whose tables grew since, is scanned.
type infoIndex struct {
	nGroups, nVolumes, nSlices int
	groups                     map[string][]int // by NAME
	volumes                    map[string][]int // by NAME
	groupVolumes               map[string][]int // by GROUP
	slices                     map[string][]int // by VOLUME
}

func (info *Info) buildIndex() {
	ix := &infoIndex{nGroups: len(info.Groups), nVolumes: len(info.Volumes), nSlices: len(info.Slices),
		groups: map[string][]int{}, volumes: map[string][]int{}, groupVolumes: map[string][]int{}, slices: map[string][]int{}}
	for i, g := range info.Groups {
		ix.groups[g.Name] = append(ix.groups[g.Name], i)
	}
	for i, v := range info.Volumes {
		ix.volumes[v.Name] = append(ix.volumes[v.Name], i)
		ix.groupVolumes[v.Group] = append(ix.groupVolumes[v.Group], i)
	}
	for i, s := range info.Slices {
		ix.slices[s.Volume] = append(ix.slices[s.Volume], i)
	}
	info.ix = ix
}

// rows yields, in table order, the positions of a table of n rows whose
// indexed column may hold key: the ones the index lists (pick chooses the
// table's map and the row count it was built for), or all n when there
// is no index or the table changed since.
func (ix *infoIndex) rows(pick func(*infoIndex) (map[string][]int, int), n int, key string) iter.Seq[int] {
	return func(yield func(int) bool) {
		if ix != nil {
			if m, built := pick(ix); built == n {
				for _, i := range m[key] {
					if !yield(i) {
						return
					}
				}
				return
			}
		}
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
}

func byVolumeName(ix *infoIndex) (map[string][]int, int)  { return ix.volumes, ix.nVolumes }
func byVolumeGroup(ix *infoIndex) (map[string][]int, int) { return ix.groupVolumes, ix.nVolumes }
func byGroupName(ix *infoIndex) (map[string][]int, int)   { return ix.groups, ix.nGroups }
func bySliceVolume(ix *infoIndex) (map[string][]int, int) { return ix.slices, ix.nSlices }
