package restore

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/gdsemu"
	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

func gdsLayout() gdsemu.Config {
	return gdsemu.Config{
		Nodes:        []string{"node1"},
		CopyRateMBps: 200,
		Classes: []gdsemu.ClassConfig{{
			Name: "Class1",
			Groups: []gdsemu.GroupConfig{
				{Name: "Group1", Disks: []string{"Disk1", "Disk2"}, Volumes: []gdsemu.VolumeConfig{{Name: "Volume1", SizeMB: 20}}},
				{Name: "Group2", Disks: []string{"Disk3", "Disk4"}, Volumes: []gdsemu.VolumeConfig{{Name: "Volume2", SizeMB: 20}}},
			},
		}},
	}
}

// gdsHost starts an emulator with Volume2 joined to Volume1 and then parted.
func gdsHost(t *testing.T) (*gdsemu.Emu, transport.Transport) {
	emu := gdsemu.StartT(t, gdsLayout())
	t.Setenv("PATH", emu.BinDir+":"+os.Getenv("PATH"))
	emu.MustRun(t, "sdxvolume", "-F", "-c", "Class1", "-v", "Volume2")
	emu.MustRun(t, "sdxproxy", "Join", "-c", "Class1", "-m", "Volume1", "-p", "Volume2", "-e", "waitsync")
	emu.MustRun(t, "sdxproxy", "Part", "-c", "Class1", "-p", "Volume2")
	return emu, &transport.Local{Name: "gds1", Env: emu.HostEnv()}
}

func changes(emu *gdsemu.Emu) []string {
	var out []string
	for _, c := range emu.Calls() {
		if !strings.HasPrefix(c, "sdxinfo") {
			out = append(out, c)
		}
	}
	return out
}

func TestGDSRestoreInPlace(t *testing.T) {
	ctx := context.Background()
	emu, tr := gdsHost(t)
	if err := gdsemu.ResetCalls(emu.Root); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(emu.Root, gdsemu.CallsFile)
	parted := time.Date(2026, 11, 21, 22, 0, 0, 0, time.UTC)
	src := &GDS{Host: "gds1", Class: "Class1", Proxy: "Volume2", SnapshotTime: parted,
		QuiesceBefore: []string{"echo quiesce-before >> " + log},
		QuiesceAfter:  []string{"false", "echo quiesce-after >> " + log}}
	spec := Spec{Mode: ModeInPlace, Confirm: "gds1/Class1/Volume2", Hosts: hostsOf(tr),
		Now:            func() time.Time { return parted.Add(30 * time.Minute) },
		Limits:         Limits{MaxRPO: time.Hour},
		VerifyCommands: []string{`test "$RESTORE_MASTER_DEVICE" = /dev/sfdsk/Class1/dsk/Volume1 && sdxinfo -S -c Class1 -o Volume1 | grep -v COPY >/dev/null`}}
	res, err := Do(ctx, src, spec)
	// quiesce.after's failing "false" fails the restore, after every
	// after-command ran.
	if err == nil || !strings.Contains(err.Error(), "quiesce.after command 1 failed") {
		t.Fatalf("err = %v\n%s", err, res.Report.JSON())
	}
	got := changes(emu)
	want := []string{"quiesce-before", "sdxproxy Restore -c Class1 -p Volume2 -e nowaitsync", "quiesce-after"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("calls:\n%q\nwant\n%q", got, want)
	}

	src.QuiesceAfter = []string{"echo quiesce-after >> " + log}
	src.Instant = true
	res, err = Do(ctx, src, spec)
	if err != nil {
		t.Fatalf("%v\n%s", err, res.Report.JSON())
	}
	if !res.Verified || res.RPOSeconds() != 1800 || !strings.Contains(strings.Join(emu.Calls(), "\n"), "sdxproxy Restore -c Class1 -p Volume2 -e instant") {
		t.Fatalf("result:\n%s\ncalls %q", res.Report.JSON(), emu.Calls())
	}
	if !strings.Contains(res.Report.JSON(), "Fujitsu") {
		t.Errorf("report lacks the keep-parted note")
	}
}

func TestGDSRestoreRefused(t *testing.T) {
	ctx := context.Background()
	emu, tr := gdsHost(t)
	src := &GDS{Host: "gds1", Class: "Class1", Proxy: "Volume2"}

	// A drill has no separate target to go to.
	_, err := Do(ctx, src, Spec{Mode: ModeDrill, Hosts: hostsOf(tr)})
	if err == nil || !strings.Contains(err.Error(), `use mode = "in_place" with confirm = "gds1/Class1/Volume2"`) {
		t.Fatalf("drill: %v", err)
	}
	// The wrong confirm.
	_, err = Do(ctx, src, Spec{Mode: ModeInPlace, Confirm: "gds1/Class1/Volume1", Hosts: hostsOf(tr)})
	if err == nil || !strings.Contains(err.Error(), "does not name this restore's target") {
		t.Fatalf("confirm: %v", err)
	}
	// Joined: refused with a clear error and without any sdxproxy Restore.
	emu.MustRun(t, "sdxvolume", "-F", "-c", "Class1", "-v", "Volume2")
	emu.MustRun(t, "sdxproxy", "Rejoin", "-c", "Class1", "-p", "Volume2", "-e", "waitsync")
	if err := gdsemu.ResetCalls(emu.Root); err != nil {
		t.Fatal(err)
	}
	_, err = Do(ctx, &GDS{Host: "gds1", Class: "Class1", Proxy: "Volume2", QuiesceBefore: []string{"true"}},
		Spec{Mode: ModeInPlace, Confirm: "gds1/Class1/Volume2", Hosts: hostsOf(tr)})
	if err == nil || !strings.Contains(err.Error(), "are joined") || !strings.Contains(err.Error(), "part the pair first") {
		t.Fatalf("joined: %v", err)
	}
	if c := changes(emu); len(c) != 0 {
		t.Fatalf("changes while refusing: %q", c)
	}
	// A volume that is no proxy.
	_, err = Do(ctx, &GDS{Host: "gds1", Class: "Class1", Proxy: "Volume1"},
		Spec{Mode: ModeInPlace, Confirm: "gds1/Class1/Volume1", Hosts: hostsOf(tr)})
	if err == nil || !strings.Contains(err.Error(), "not a proxy") {
		t.Fatalf("master as proxy: %v", err)
	}
}
