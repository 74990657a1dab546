package gdsemu

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func testConfig() Config {
	return Config{
		Nodes:        []string{"node1", "node2"},
		CopyRateMBps: 100,
		Classes: []ClassConfig{{
			Name: "Class1", Type: "shared",
			Groups: []GroupConfig{
				{Name: "Group1", Disks: []string{"Disk1", "Disk2"}, Volumes: []VolumeConfig{{Name: "Volume1", SizeMB: 1000}, {Name: "Volume3", SizeMB: 500}}},
				{Name: "Group2", Disks: []string{"Disk3", "Disk4"}, Volumes: []VolumeConfig{{Name: "Volume2", SizeMB: 1000}}},
				{Name: "Group3", Disks: []string{"Disk5", "Disk6"}},
				{Name: "Group4", Type: "concat", Disks: []string{"Disk7"}, Volumes: []VolumeConfig{{Name: "Volume4", SizeMB: 1000}}},
				{Name: "Group5", Type: "single", Disks: []string{"Disk8"}, Volumes: []VolumeConfig{{Name: "Volume5", SizeMB: 1000}, {Name: "Small", SizeMB: 10}}},
			},
		}, {
			Name: "Local2", Type: "local", Scope: []string{"node2"},
			Groups: []GroupConfig{{Name: "G", Disks: []string{"D"}, Volumes: []VolumeConfig{{Name: "V", SizeMB: 10}}}},
		}},
	}
}

// newEmu sets up a root with the test layout and a fixed clock.
func newEmu(t *testing.T) *Emu {
	t.Helper()
	e := &Emu{Root: t.TempDir()}
	if err := Setup(e.Root, testConfig()); err != nil {
		t.Fatal(err)
	}
	setClock(t, e, t0)
	return e
}

func setClock(t *testing.T, e *Emu, at time.Time) {
	t.Helper()
	if err := SetClock(e.Root, at); err != nil {
		t.Fatal(err)
	}
}

// fails runs argv and asserts a non-zero exit with an ERROR line matching re.
func fails(t *testing.T, e *Emu, re string, argv ...string) {
	t.Helper()
	out, errOut, st := e.Run(nil, argv...)
	if st == 0 {
		t.Fatalf("%v: succeeded, want failure matching %q; stdout: %s", argv, re, out)
	}
	line := regexp.MustCompile(`(?m)^SDX:` + argv[0] + `: ERROR: (.*)?` + re)
	if !line.MatchString(errOut) {
		t.Fatalf("%v: stderr %q does not match %q", argv, errOut, re)
	}
}

// table parses one sdxinfo section into header-keyed rows.
func table(t *testing.T, out, obj string) []map[string]string {
	t.Helper()
	var header []string
	var rows []map[string]string
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) == 0:
			header = nil
		case f[0] == "OBJ":
			header = f
		case strings.HasPrefix(f[0], "---"):
		case f[0] == obj && header != nil:
			if len(f) != len(header) {
				t.Fatalf("row %q has %d fields, header %d", l, len(f), len(header))
			}
			m := map[string]string{}
			for i, h := range header {
				m[h] = f[i]
			}
			rows = append(rows, m)
		}
	}
	return rows
}

func sliceStatuses(t *testing.T, e *Emu, vol string) []string {
	t.Helper()
	var st []string
	for _, r := range table(t, e.MustRun(t, "sdxinfo", "-S", "-c", "Class1", "-o", vol), "slice") {
		st = append(st, r["STATUS"])
	}
	return st
}

func volumeRow(t *testing.T, e *Emu, vol string) map[string]string {
	t.Helper()
	for _, r := range table(t, e.MustRun(t, "sdxinfo", "-V", "-c", "Class1", "-o", vol, "-e", "long"), "volume") {
		if r["NAME"] == vol {
			return r
		}
	}
	t.Fatalf("volume %s not listed", vol)
	return nil
}

func allEqual(s []string, want string) bool {
	for _, x := range s {
		if x != want {
			return false
		}
	}
	return len(s) > 0
}

// joinVolume2 stops Volume2 everywhere and joins it to Volume1.
func joinVolume2(t *testing.T, e *Emu) {
	t.Helper()
	e.MustRun(t, "sdxvolume", "-F", "-c", "Class1", "-v", "Volume2", "-e", "allnodes")
	e.MustRun(t, "sdxproxy", "Join", "-c", "Class1", "-m", "Volume1", "-p", "Volume2")
}

func TestSliceViewMatchesManualShape(t *testing.T) {
	e := newEmu(t)
	out := e.MustRun(t, "sdxinfo", "-S", "-c", "Class1", "-o", "Volume2")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("want header, dashes and 2 slices, got:\n%s", out)
	}
	if got := strings.Fields(lines[0]); strings.Join(got, " ") != "OBJ CLASS GROUP DISK VOLUME STATUS" {
		t.Fatalf("header %q", lines[0])
	}
	if !regexp.MustCompile(`^-+( -+){5}$`).MatchString(lines[1]) {
		t.Fatalf("dashes line %q", lines[1])
	}
	// columns line up under the header
	col := strings.Index(lines[0], "STATUS")
	for _, l := range lines[2:] {
		if !strings.HasPrefix(l[col:], "ACTIVE") {
			t.Fatalf("STATUS column misaligned in %q", l)
		}
	}
	rows := table(t, out, "slice")
	disks := map[string]bool{}
	for _, r := range rows {
		if r["CLASS"] != "Class1" || r["GROUP"] != "Group2" || r["VOLUME"] != "Volume2" {
			t.Fatalf("row %v", r)
		}
		disks[r["DISK"]] = true
	}
	if !disks["Disk3"] || !disks["Disk4"] {
		t.Fatalf("disks %v", disks)
	}
}

func TestRowsComeInVaryingOrder(t *testing.T) {
	e := newEmu(t)
	orders := map[string]bool{}
	for i := 0; i < 20; i++ {
		out, _, st := e.Run(map[string]string{EnvSeed: fmt.Sprint(i)}, "sdxinfo", "-V", "-c", "Class1")
		if st != 0 {
			t.Fatal(out)
		}
		var names []string
		for _, r := range table(t, out, "volume") {
			names = append(names, r["NAME"])
		}
		orders[strings.Join(names, ",")] = true
	}
	if len(orders) < 2 {
		t.Fatalf("20 listings came in one order: %v", orders)
	}
}

func TestAllViewsAndLongColumns(t *testing.T) {
	e := newEmu(t)
	out := e.MustRun(t, "sdxinfo", "-c", "Class1", "-e", "long")
	for _, obj := range []string{"class", "disk", "group", "volume", "slice"} {
		if len(table(t, out, obj)) == 0 {
			t.Fatalf("no %s rows in:\n%s", obj, out)
		}
	}
	v := volumeRow(t, e, "Volume1")
	for _, k := range []string{"TYPE", "MASTER", "PROXY", "JRM", "BLOCKS", "STATUS"} {
		if _, ok := v[k]; !ok {
			t.Fatalf("long volume row lacks %s: %v", k, v)
		}
	}
	if v["MASTER"] != "*" || v["PROXY"] != "*" || v["STATUS"] != "ACTIVE" || v["BLOCKS"] != "2048000" {
		t.Fatalf("Volume1 %v", v)
	}
	// the private region and free space show as "*" rows
	var special []string
	for _, r := range table(t, e.MustRun(t, "sdxinfo", "-V", "-c", "Class1", "-o", "Group1"), "volume") {
		if r["NAME"] == "*" {
			special = append(special, r["STATUS"])
		}
	}
	if strings.Join(special, ",") != "PRIVATE,FREE" && strings.Join(special, ",") != "FREE,PRIVATE" {
		t.Fatalf("special rows %v", special)
	}
	// a class outside this node's scope is invisible
	fails(t, e, "Local2: no such class", "sdxinfo", "-c", "Local2")
	out, _, st := e.Run(map[string]string{EnvNode: "node2"}, "sdxinfo", "-C", "-c", "Local2")
	if st != 0 || len(table(t, out, "class")) != 1 {
		t.Fatalf("node2 should see Local2: %s", out)
	}
	fails(t, e, "Nope: no such object", "sdxinfo", "-c", "Class1", "-o", "Nope")
	fails(t, e, "syntax error", "sdxinfo", "-X")
	fails(t, e, "syntax error", "sdxinfo", "-e", "wide")
}

func TestJoinCopyPartRejoinBreak(t *testing.T) {
	e := newEmu(t)
	out := e.MustRun(t, "sdxvolume", "-F", "-c", "Class1", "-v", "Volume2", "-e", "allnodes")
	if !strings.Contains(out, "SDX:sdxvolume: INFO: Volume2: stopped volume on node node1") ||
		!strings.Contains(out, "stopped volume on node node2") {
		t.Fatalf("stop messages: %q", out)
	}
	e.MustRun(t, "sdxproxy", "Join", "-c", "Class1", "-m", "Volume1", "-p", "Volume2")
	if st := sliceStatuses(t, e, "Volume2"); !allEqual(st, "COPY") {
		t.Fatalf("right after Join: %v, want COPY", st)
	}
	v := volumeRow(t, e, "Volume2")
	if v["MASTER"] != "Volume1" || v["PROXY"] != "Join" || v["STATUS"] != "STOP" {
		t.Fatalf("joined proxy row %v", v)
	}
	// 1000 MB at 100 MB/s: 10 s
	setClock(t, e, t0.Add(5*time.Second))
	long := table(t, e.MustRun(t, "sdxinfo", "-S", "-c", "Class1", "-o", "Volume2", "-e", "long"), "slice")
	if long[0]["STATUS"] != "COPY" || long[0]["COPY"] != "50%" {
		t.Fatalf("halfway: %v", long)
	}
	setClock(t, e, t0.Add(10*time.Second))
	if st := sliceStatuses(t, e, "Volume2"); !allEqual(st, "STOP") {
		t.Fatalf("after the copy: %v, want STOP", st)
	}
	e.MustRun(t, "sdxproxy", "Part", "-c", "Class1", "-p", "Volume2")
	v = volumeRow(t, e, "Volume2")
	if v["PROXY"] != "Part" || v["STATUS"] != "ACTIVE" {
		t.Fatalf("parted proxy row %v", v)
	}
	fails(t, e, "Volume2: already parted", "sdxproxy", "Part", "-c", "Class1", "-p", "Volume2")
	// Rejoin needs the proxy stopped
	fails(t, e, "Volume2: volume is active on node node1", "sdxproxy", "Rejoin", "-c", "Class1", "-p", "Volume2")
	e.MustRun(t, "sdxvolume", "-F", "-c", "Class1", "-v", "Volume2")
	e.MustRun(t, "sdxproxy", "Rejoin", "-c", "Class1", "-p", "Volume2")
	// JRM: a rejoin copies 10% (100 MB: 1 s)
	if st := sliceStatuses(t, e, "Volume2"); !allEqual(st, "COPY") {
		t.Fatalf("after Rejoin: %v", st)
	}
	setClock(t, e, t0.Add(11*time.Second))
	if st := sliceStatuses(t, e, "Volume2"); !allEqual(st, "STOP") {
		t.Fatalf("after the rejoin copy: %v", st)
	}
	fails(t, e, "Volume2: already joined", "sdxproxy", "Rejoin", "-c", "Class1", "-p", "Volume2")
	e.MustRun(t, "sdxproxy", "Break", "-c", "Class1", "-p", "Volume2")
	v = volumeRow(t, e, "Volume2")
	if v["MASTER"] != "*" || v["PROXY"] != "*" {
		t.Fatalf("broken pair still related: %v", v)
	}
	fails(t, e, "Volume2: not a proxy volume", "sdxproxy", "Break", "-c", "Class1", "-p", "Volume2")
}

func TestJoinConstraints(t *testing.T) {
	e := newEmu(t)
	// the proxy must be stopped on every node: -F without allnodes leaves node2
	e.MustRun(t, "sdxvolume", "-F", "-c", "Class1", "-v", "Volume2")
	fails(t, e, "Volume2: volume is active on node node2", "sdxproxy", "Join", "-c", "Class1", "-m", "Volume1", "-p", "Volume2")
	e.MustRun(t, "sdxvolume", "-F", "-c", "Class1", "-v", "Volume2", "-e", "allnodes")
	fails(t, e, "same group Group1", "sdxproxy", "Join", "-c", "Class1", "-m", "Volume3", "-p", "Volume1")
	fails(t, e, "size .* differs", "sdxproxy", "Join", "-c", "Class1", "-m", "Volume3", "-p", "Volume2")
	fails(t, e, "concat group cannot be used", "sdxproxy", "Join", "-c", "Class1", "-m", "Volume4", "-p", "Volume2")
	fails(t, e, "-a can be specified only when master and proxy are groups",
		"sdxproxy", "Join", "-c", "Class1", "-m", "Volume1", "-p", "Volume2", "-a", "Volume1=Volume2:on")
	fails(t, e, "Nope: no such object", "sdxproxy", "Join", "-c", "Class1", "-m", "Nope", "-p", "Volume2")
	fails(t, e, "both be volumes or both be groups", "sdxproxy", "Join", "-c", "Class1", "-m", "Volume1", "-p", "Group3")
	fails(t, e, "ClassX: no such class", "sdxproxy", "Join", "-c", "ClassX", "-m", "Volume1", "-p", "Volume2")
	fails(t, e, "syntax error", "sdxproxy", "Join", "-c", "Class1", "-p", "Volume2")
	fails(t, e, "syntax error", "sdxproxy", "Join", "-c", "Class1", "-m", "Volume1", "-p", "Volume2", "-e", "instant")
	fails(t, e, "syntax error", "sdxproxy", "Rejoin", "-c", "Class1", "-p", "Volume2", "-e", "syncmode")
	e.MustRun(t, "sdxproxy", "Join", "-c", "Class1", "-m", "Volume1", "-p", "Volume2")
	// the master may not be a proxy; a proxy cannot get a proxy of its own
	e.MustRun(t, "sdxvolume", "-F", "-c", "Class1", "-v", "Volume5", "-e", "allnodes")
	fails(t, e, "Volume2: master is a proxy volume", "sdxproxy", "Join", "-c", "Class1", "-m", "Volume2", "-p", "Volume5")
	fails(t, e, "Volume2: already related to master Volume1", "sdxproxy", "Join", "-c", "Class1", "-m", "Volume5", "-p", "Volume2")
	fails(t, e, "Volume1: has a proxy of its own", "sdxproxy", "Join", "-c", "Class1", "-m", "Volume5", "-p", "Volume1")
	// a master can have a second proxy (single group)
	e.MustRun(t, "sdxproxy", "Join", "-c", "Class1", "-m", "Volume1", "-p", "Volume5")
}

func TestStartStopOnlyWhileParted(t *testing.T) {
	e := newEmu(t)
	joinVolume2(t, e)
	fails(t, e, "Volume2: proxy volume is joined", "sdxvolume", "-F", "-c", "Class1", "-v", "Volume2")
	fails(t, e, "Volume2: proxy volume is joined", "sdxvolume", "-N", "-c", "Class1", "-v", "Volume2")
	setClock(t, e, t0.Add(time.Minute))
	e.MustRun(t, "sdxproxy", "Part", "-c", "Class1", "-p", "Volume2")
	e.MustRun(t, "sdxvolume", "-F", "-c", "Class1", "-v", "Volume2", "-e", "allnodes")
	e.MustRun(t, "sdxvolume", "-N", "-c", "Class1", "-v", "Volume2", "-e", "allnodes")
	if v := volumeRow(t, e, "Volume2"); v["STATUS"] != "ACTIVE" {
		t.Fatalf("started parted proxy: %v", v)
	}
	fails(t, e, "syntax error", "sdxvolume", "-F", "-N", "-c", "Class1")
	fails(t, e, "Nope: no such volume", "sdxvolume", "-F", "-c", "Class1", "-v", "Nope")
}

func TestPartWhileCopying(t *testing.T) {
	e := newEmu(t)
	joinVolume2(t, e)
	fails(t, e, "Volume2: copying from master Volume1 is in progress", "sdxproxy", "Part", "-c", "Class1", "-p", "Volume2")
	fails(t, e, "syntax error", "sdxproxy", "Part", "-c", "Class1", "-p", "Volume2", "-e", "waitsync")
	// -e instant parts at once; the background copy goes on
	e.MustRun(t, "sdxproxy", "Part", "-c", "Class1", "-p", "Volume2", "-e", "instant")
	if v := volumeRow(t, e, "Volume2"); v["PROXY"] != "Part" {
		t.Fatalf("%v", v)
	}
	if st := sliceStatuses(t, e, "Volume2"); !allEqual(st, "COPY") {
		t.Fatalf("instant part: %v, want background COPY", st)
	}
	fails(t, e, "Volume1: not a proxy volume", "sdxproxy", "Part", "-c", "Class1", "-p", "Volume1")
	fails(t, e, "Group1: not a proxy group", "sdxproxy", "Part", "-c", "Class1", "-p", "Group1")
}

func TestRestoreRefusedWhileJoined(t *testing.T) {
	e := newEmu(t)
	joinVolume2(t, e)
	setClock(t, e, t0.Add(time.Minute))
	fails(t, e, "Volume2: master Volume1 and proxy are joined, restore is impossible", "sdxproxy", "Restore", "-c", "Class1", "-p", "Volume2")
	fails(t, e, "restore is impossible", "sdxproxy", "RejoinRestore", "-c", "Class1", "-p", "Volume2")
	e.MustRun(t, "sdxproxy", "Part", "-c", "Class1", "-p", "Volume2")
	e.MustRun(t, "sdxproxy", "Restore", "-c", "Class1", "-p", "Volume2", "-e", "nowaitsync")
	if st := sliceStatuses(t, e, "Volume1"); !allEqual(st, "COPY") {
		t.Fatalf("master during restore: %v", st)
	}
	if v := volumeRow(t, e, "Volume2"); v["PROXY"] != "Part" {
		t.Fatalf("restore must leave the pair parted: %v", v)
	}
	fails(t, e, "copying .* in progress", "sdxproxy", "Break", "-c", "Class1", "-p", "Volume2")
	setClock(t, e, t0.Add(2*time.Minute))
	if st := sliceStatuses(t, e, "Volume1"); !allEqual(st, "ACTIVE") {
		t.Fatalf("master after restore: %v", st)
	}
}

func TestBreakWhileCopyingNeedsForce(t *testing.T) {
	e := newEmu(t)
	joinVolume2(t, e)
	fails(t, e, "copying between master Volume1 and proxy is in progress", "sdxproxy", "Break", "-c", "Class1", "-p", "Volume2")
	e.MustRun(t, "sdxproxy", "Break", "-c", "Class1", "-p", "Volume2", "-e", "force")
	if st := sliceStatuses(t, e, "Volume2"); !allEqual(st, "INVALID") {
		t.Fatalf("forced break mid-copy: %v", st)
	}
}

func TestGroupPair(t *testing.T) {
	e := newEmu(t)
	fails(t, e, "Group2: volume Volume2 exists in the proxy group", "sdxproxy", "Join", "-c", "Class1", "-m", "Group1", "-p", "Group2",
		"-a", "Volume1=P1:on,Volume3=P3:on")
	fails(t, e, "-a mvol=pvol:jrm\\[:pslice\\] is required", "sdxproxy", "Join", "-c", "Class1", "-m", "Group1", "-p", "Group3")
	fails(t, e, "Volume3: master volume has no proxy volume name", "sdxproxy", "Join", "-c", "Class1", "-m", "Group1", "-p", "Group3", "-a", "Volume1=P1:on")
	fails(t, e, "Volume2: name already in use", "sdxproxy", "Join", "-c", "Class1", "-m", "Group1", "-p", "Group3", "-a", "Volume1=Volume2:on,Volume3=P3:on")
	fails(t, e, "syntax error", "sdxproxy", "Join", "-c", "Class1", "-m", "Group1", "-p", "Group3", "-a", "Volume1=P1:maybe,Volume3=P3:on")
	fails(t, e, "Group4: concat group", "sdxproxy", "Join", "-c", "Class1", "-m", "Group4", "-p", "Group3", "-a", "Volume4=P4:on")
	e.MustRun(t, "sdxproxy", "Join", "-c", "Class1", "-m", "Group1", "-p", "Group3", "-a", "Volume1=Proxy1:on,Volume3=Proxy3:off:on")
	for _, p := range []string{"Proxy1", "Proxy3"} {
		v := volumeRow(t, e, p)
		if v["GROUP"] != "Group3" || v["PROXY"] != "Join" || v["MASTER"] != strings.Replace(p, "Proxy", "Volume", 1) {
			t.Fatalf("%s: %v", p, v)
		}
	}
	groups := table(t, e.MustRun(t, "sdxinfo", "-G", "-c", "Class1", "-o", "Group3", "-e", "long"), "group")
	if len(groups) != 1 || groups[0]["MASTER"] != "Group1" {
		t.Fatalf("proxy group row %v", groups)
	}
	setClock(t, e, t0.Add(time.Minute))
	fails(t, e, "Proxy1: proxy volume of proxy group Group3 cannot be broken alone", "sdxproxy", "Break", "-c", "Class1", "-p", "Proxy1")
	e.MustRun(t, "sdxproxy", "Part", "-c", "Class1", "-p", "Group3")
	for _, p := range []string{"Proxy1", "Proxy3"} {
		if v := volumeRow(t, e, p); v["PROXY"] != "Part" || v["STATUS"] != "ACTIVE" {
			t.Fatalf("%s after group Part: %v", p, v)
		}
	}
	e.MustRun(t, "sdxvolume", "-F", "-c", "Class1", "-v", "Proxy1,Proxy3", "-e", "allnodes")
	e.MustRun(t, "sdxproxy", "Rejoin", "-c", "Class1", "-p", "Group3")
	setClock(t, e, t0.Add(2*time.Minute))
	e.MustRun(t, "sdxproxy", "Break", "-c", "Class1", "-p", "Group3")
	if v := volumeRow(t, e, "Proxy1"); v["MASTER"] != "*" {
		t.Fatalf("after group Break: %v", v)
	}
}

func TestWaitsyncWaitsForTheCopy(t *testing.T) {
	e := newEmu(t)
	e.MustRun(t, "sdxvolume", "-F", "-c", "Class1", "-v", "Volume2", "-e", "allnodes")
	var so, se strings.Builder
	now := t0
	sleeps := 0
	st := Main([]string{"sdxproxy", "Join", "-c", "Class1", "-m", "Volume1", "-p", "Volume2", "-e", "waitsync"}, Env{
		Getenv: func(k string) string {
			if k == EnvRoot {
				return e.Root
			}
			return ""
		},
		Stdout: &so, Stderr: &se,
		Sleep: func(d time.Duration) {
			sleeps++
			now = now.Add(time.Second)
			setClock(t, e, now)
		},
	})
	if st != 0 {
		t.Fatalf("exit %d: %s", st, se.String())
	}
	if sleeps < 9 {
		t.Fatalf("returned after %d simulated seconds, the copy takes 10", sleeps)
	}
	want := "SDX:sdxproxy: INFO: Volume2: waiting for the completion of copying...\nSDX:sdxproxy: INFO: Volume2: copying completed successfully\n"
	if so.String() != want {
		t.Fatalf("stdout %q", so.String())
	}
	if st := sliceStatuses(t, e, "Volume2"); !allEqual(st, "STOP") {
		t.Fatalf("after waitsync: %v", st)
	}
}

func TestFaultInjectionAndCounters(t *testing.T) {
	e := newEmu(t)
	joinVolume2(t, e)
	setClock(t, e, t0.Add(time.Minute))
	if err := InjectFault(e.Root, Fault{Command: "sdxproxy", Op: "Part", Times: 1}); err != nil {
		t.Fatal(err)
	}
	fails(t, e, "Volume2: injected fault", "sdxproxy", "Part", "-c", "Class1", "-p", "Volume2")
	if v := volumeRow(t, e, "Volume2"); v["PROXY"] != "Join" {
		t.Fatalf("a failed Part changed the state: %v", v)
	}
	e.MustRun(t, "sdxproxy", "Part", "-c", "Class1", "-p", "Volume2")
	// the environment variable form
	_, errOut, st := e.Run(map[string]string{EnvFault: "sdxinfo"}, "sdxinfo", "-c", "Class1")
	if st == 0 || !strings.Contains(errOut, "SDX:sdxinfo: ERROR:") {
		t.Fatalf("env fault: %d %q", st, errOut)
	}
	if err := InjectFault(e.Root, Fault{Command: "sdxvolume", Message: "disk on fire"}); err != nil {
		t.Fatal(err)
	}
	fails(t, e, "disk on fire$", "sdxvolume", "-F", "-c", "Class1", "-v", "Volume2")
	fails(t, e, "disk on fire", "sdxvolume", "-F", "-c", "Class1", "-v", "Volume2")
	if err := ClearFaults(e.Root); err != nil {
		t.Fatal(err)
	}
	e.MustRun(t, "sdxvolume", "-F", "-c", "Class1", "-v", "Volume2")

	if n := e.Count("sdxproxy", "Part"); n != 2 {
		t.Fatalf("Part calls %d, want 2", n)
	}
	if n := e.Count("sdxproxy", ""); n != 3 {
		t.Fatalf("sdxproxy calls %d, want 3", n)
	}
	if n := e.Count("sdxinfo", ""); n != 2 {
		t.Fatalf("sdxinfo calls %d, want 2 (%v)", n, e.Calls())
	}
	if err := ResetCalls(e.Root); err != nil {
		t.Fatal(err)
	}
	if n := e.Count("sdxinfo", ""); n != 0 {
		t.Fatal(n)
	}
}

func TestRequireRoot(t *testing.T) {
	e := newEmu(t)
	var se strings.Builder
	st := Main([]string{"sdxinfo"}, Env{
		Getenv: func(k string) string {
			return map[string]string{EnvRoot: e.Root, EnvRequireRoot: "1"}[k]
		},
		Stdout: &strings.Builder{}, Stderr: &se, Euid: func() int { return 1000 },
	})
	if st == 0 || se.String() != "SDX:sdxinfo: ERROR: must be privileged user\n" {
		t.Fatalf("%d %q", st, se.String())
	}
}

func TestValidName(t *testing.T) {
	for s, want := range map[string]bool{
		"Volume1": true, "a": true, "1x": true, "vol-1_b": true, strings.Repeat("a", 32): true,
		"": false, "-v": false, "_v": false, "vol 1": false, "vol;rm": false, strings.Repeat("a", 33): false, "ボリューム": false,
	} {
		if ValidName(s) != want {
			t.Errorf("ValidName(%q) = %v", s, !want)
		}
	}
}

// TestConcurrentProcesses runs the real binary from many processes at
// once: the lock keeps the state whole and every call is counted.
func TestConcurrentProcesses(t *testing.T) {
	e := StartT(t, testConfig())
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			args := []string{"-c", "Class1"}
			name := "sdxinfo"
			if i%2 == 0 {
				name = "sdxvolume"
				op := "-F"
				if i%4 == 0 {
					op = "-N"
				}
				args = append([]string{op}, "-c", "Class1", "-v", "Volume3")
			}
			cmd := exec.Command(filepath.Join(e.BinDir, name), args...)
			cmd.Env = append(os.Environ(), EnvRoot+"="+e.Root)
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Errorf("%s %v: %v: %s", name, args, err, out)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	b, err := os.ReadFile(filepath.Join(e.Root, StateFile))
	if err != nil {
		t.Fatal(err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("state damaged: %v", err)
	}
	if got := e.Count("sdxinfo", "") + e.Count("sdxvolume", ""); got != n {
		t.Fatalf("%d calls counted, want %d", got, n)
	}
	// the usage path: gdsemu <cmd>
	out, err := exec.Command(filepath.Join(filepath.Dir(mustBuild(t)), "gdsemu"), "sdxinfo", "-C").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "GDSEMU_ROOT is not set") {
		t.Fatalf("without root: %v %s", err, out)
	}
}

func mustBuild(t *testing.T) string {
	p, err := Build()
	if err != nil {
		t.Fatal(err)
	}
	return p
}
