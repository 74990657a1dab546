package gds

import (
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

// The index answers every lookup as a scan of the tables does: the same
// rows in the same order, class filtering and "*" (no class) included, for
// rows in any order and names shared between classes and tables.
func TestIndexAnswersAsScan(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	classes := []string{"C1", "C2", "*"}
	names := []string{"V1", "V2", "V3", "G1", "G2"}
	var vol, grp, sl []string
	for i := 0; i < 60; i++ {
		c, n, g := classes[rng.Intn(3)], names[rng.Intn(5)], names[3+rng.Intn(2)]
		vol = append(vol, fmt.Sprintf("volume %s mirror %s %s %d * * on ACTIVE", n, c, g, i))
		sl = append(sl, fmt.Sprintf("slice %s %s D%d %s STOP *", c, g, rng.Intn(4), n))
		if i%4 == 0 {
			grp = append(grp, fmt.Sprintf("group %s %s mirror * %d", names[rng.Intn(5)], c, i))
		}
	}
	out := "OBJ NAME CLASS TYPE MASTER BLKS\n--- --- --- --- --- ---\n" + strings.Join(grp, "\n") +
		"\n\nOBJ NAME TYPE CLASS GROUP BLOCKS MASTER PROXY JRM STATUS\n" + strings.Join(vol, "\n") +
		"\n\nOBJ CLASS GROUP DISK VOLUME STATUS COPY\n" + strings.Join(sl, "\n") + "\n"
	indexed, err := ParseInfo([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if indexed.ix == nil || len(indexed.Volumes) != 60 || len(indexed.Slices) != 60 || len(indexed.Groups) != 15 {
		t.Fatalf("parsed %d volumes, %d slices, %d groups, index %v", len(indexed.Volumes), len(indexed.Slices), len(indexed.Groups), indexed.ix != nil)
	}
	scanned := *indexed
	scanned.ix = nil
	for _, c := range []string{"C1", "C2", "", "C9"} {
		for _, n := range append(names, "none") {
			v1, ok1 := indexed.Volume(c, n)
			v2, ok2 := scanned.Volume(c, n)
			g1, gok1 := indexed.Group(c, n)
			g2, gok2 := scanned.Group(c, n)
			if v1 != v2 || ok1 != ok2 || !reflect.DeepEqual(g1, g2) || gok1 != gok2 {
				t.Errorf("Volume/Group(%q, %q): index %+v %v %+v %v, scan %+v %v %+v %v", c, n, v1, ok1, g1, gok1, v2, ok2, g2, gok2)
			}
			if a, b := indexed.GroupVolumes(c, n), scanned.GroupVolumes(c, n); !reflect.DeepEqual(a, b) {
				t.Errorf("GroupVolumes(%q, %q): index %+v, scan %+v", c, n, a, b)
			}
			if a, b := indexed.VolumeSlices(c, n), scanned.VolumeSlices(c, n); !reflect.DeepEqual(a, b) {
				t.Errorf("VolumeSlices(%q, %q): index %+v, scan %+v", c, n, a, b)
			}
		}
	}
}

// Rows added after parsing are found: a table that grew is scanned.
func TestIndexOfGrownTableIsNotUsed(t *testing.T) {
	info, err := ParseInfo([]byte("OBJ NAME CLASS GROUP STATUS\nvolume V1 C1 G1 ACTIVE\n\nOBJ CLASS GROUP DISK VOLUME STATUS\nslice C1 G1 D1 V1 ACTIVE\n"))
	if err != nil {
		t.Fatal(err)
	}
	info.Volumes = append(info.Volumes, VolumeRow{Name: "V2", Class: "C1", Group: "G1"})
	info.Slices = append(info.Slices, SliceRow{Class: "C1", Group: "G1", Disk: "D1", Volume: "V2"})
	if _, ok := info.Volume("C1", "V2"); !ok {
		t.Error("appended volume V2 not found")
	}
	if len(info.GroupVolumes("C1", "G1")) != 2 || len(info.VolumeSlices("C1", "V2")) != 1 {
		t.Errorf("group volumes %+v, slices of V2 %+v", info.GroupVolumes("C1", "G1"), info.VolumeSlices("C1", "V2"))
	}
}
