package gds

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/benchfig"
	"github.com/backupctl/terraform-provider-backupctl/internal/gdsemu"
)

// bigClassOutput is what sdxinfo -A -c Big -e long prints, on the
// emulator, for a class holding a group pair of n volumes (one sdxproxy
// Join -a, which makes the proxy volumes), every proxy volume joined to
// its master volume.
func bigClassOutput(t *testing.T, n int) []byte {
	t.Helper()
	var m, p, pairs []string
	var mv []gdsemu.VolumeConfig
	for i := range n {
		m, p = append(m, fmt.Sprintf("m%04d", i)), append(p, fmt.Sprintf("p%04d", i))
		mv = append(mv, gdsemu.VolumeConfig{Name: m[i], SizeMB: 1})
		pairs = append(pairs, m[i]+"="+p[i]+":on")
	}
	e := gdsemu.StartT(t, gdsemu.Config{Nodes: []string{"node1", "node2"}, CopyRateMBps: 1e6,
		Classes: []gdsemu.ClassConfig{{Name: "Big", Type: "shared", Groups: []gdsemu.GroupConfig{
			{Name: "M", Disks: []string{"MD1", "MD2"}, DiskMB: 2 * int64(n), Volumes: mv},
			{Name: "P", Disks: []string{"PD1", "PD2"}, DiskMB: 2 * int64(n)},
		}}}})
	e.MustRun(t, "sdxproxy", "Join", "-c", "Big", "-m", "M", "-p", "P", "-a", strings.Join(pairs, ","))
	return []byte(e.MustRun(t, InfoArgv("Big", "")...))
}

// TestBenchGDSStatusOfBigClass (make bench): the status of every pair of
// a class of 2,000 volume pairs (what a refresh of 2,000
// backupctl_gds_proxy_pair resources asks of one shared sdxinfo), and of
// the 2,000-volume group pair, against parsing that sdxinfo output once.
// Target: no more than the parse (it was 12 times the parse when every
// lookup scanned the tables).
func TestBenchGDSStatusOfBigClass(t *testing.T) {
	if os.Getenv("BACKUPCTL_BENCH") != "1" {
		t.Skip("benchmark: run with BACKUPCTL_BENCH=1 (make bench)")
	}
	const n = 2000
	out := bigClassOutput(t, n)
	var parse, status []time.Duration
	for range 15 {
		start := time.Now()
		info, err := ParseInfo(out)
		if err != nil {
			t.Fatal(err)
		}
		parse = append(parse, time.Since(start))
		start = time.Now()
		for i := range n {
			st, err := StatusOf(info, "Big", fmt.Sprintf("p%04d", i))
			if err != nil || st.State != StateJoined || st.CopyStatus != SliceStop {
				t.Fatalf("p%04d: %+v, %v", i, st, err)
			}
		}
		g, err := StatusOf(info, "Big", "P")
		if err != nil || !g.Group || len(g.VolumeMap) != n || g.State != StateJoined {
			t.Fatalf("group P: %v (%d volumes), %v", g.State, len(g.VolumeMap), err)
		}
		status = append(status, time.Since(start))
	}
	med := func(d []time.Duration) float64 {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[len(d)/2].Seconds() * 1000
	}
	o, b := med(status), med(parse)
	benchfig.Report(t, benchfig.Figure{Figure: "gds: status of each of 2,000 pairs of one class and of their group pair vs parsing the class's sdxinfo once",
		Ours: o, Baseline: b, Ratio: o / b, Unit: "ms", Target: "ratio <= 1", Pass: o <= b})
}
