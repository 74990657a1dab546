package gds

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/backupctl/terraform-provider-backupctl/internal/gdsemu"
	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// Ensure refuses, from the sdxinfo it has read, a Join that GDS would
// refuse (A.1.11) before it runs anything: no proxy volume is left stopped
// on every node by a Join bound to fail.
func TestEnsureRefusesImpossibleJoinBeforeStopping(t *testing.T) {
	// a pair Volume1 -> Volume2, joined out of band
	relate := func(t *testing.T, f *fixture) {
		f.emu.MustRun(t, "sdxvolume", "-F", "-c", "Class1", "-v", "Volume2", "-e", "allnodes")
		f.emu.MustRun(t, "sdxproxy", "Join", "-c", "Class1", "-m", "Volume1", "-p", "Volume2")
	}
	withConcat := func() gdsemu.Config {
		cfg := layout()
		cfg.Classes[0].Groups = append(cfg.Classes[0].Groups, gdsemu.GroupConfig{Name: "Group4", Type: "concat",
			Disks: []string{"Disk7"}, Volumes: []gdsemu.VolumeConfig{{Name: "Volume4", SizeMB: 1000}}})
		return cfg
	}
	cases := []struct {
		name   string
		cfg    func() gdsemu.Config
		setup  func(t *testing.T, f *fixture)
		pair   Pair
		kind   error
		want   string
		active []string // volumes that must stay started on every node
	}{
		{name: "same group", pair: Pair{Class: "Class1", Master: "Volume1", Proxy: "Volume3"}, kind: ErrPrecondition,
			want: "Volume1, Volume3: master and proxy belong to the same group Group1", active: []string{"Volume3"}},
		{name: "master is a proxy", setup: relate, pair: Pair{Class: "Class1", Master: "Volume2", Proxy: "Volume5"}, kind: ErrPrecondition,
			want: "Volume2: the master is itself a proxy of Volume1", active: []string{"Volume5"}},
		{name: "proxy has a proxy", setup: relate, pair: Pair{Class: "Class1", Master: "Volume5", Proxy: "Volume1"}, kind: ErrPrecondition,
			want: "Volume1: has a proxy of its own (Volume2)", active: []string{"Volume1"}},
		{name: "missing master", pair: Pair{Class: "Class1", Master: "Nope", Proxy: "Volume2"}, kind: ErrNotFound,
			want: "Nope: no such volume in class Class1", active: []string{"Volume2"}},
		{name: "master is a group", pair: Pair{Class: "Class1", Master: "Group1", Proxy: "Volume2"}, kind: ErrPrecondition,
			want: "must both be volumes or both be groups", active: []string{"Volume2"}},
		{name: "concat group", cfg: withConcat, pair: Pair{Class: "Class1", Master: "Volume1", Proxy: "Volume4"}, kind: ErrPrecondition,
			want: "Group4: the proxy group is of type concat", active: []string{"Volume4"}},
		{name: "proxy group has a proxy", setup: func(t *testing.T, f *fixture) {
			f.emu.MustRun(t, "sdxproxy", "Join", "-c", "Class1", "-m", "Group1", "-p", "Group3", "-a", "Volume1=Proxy1:on,Volume3=Proxy3:on")
		}, pair: Pair{Class: "Class1", Master: "Group5", Proxy: "Group1", VolumeMap: map[string]string{"Volume5": "Proxy5"}},
			kind: ErrPrecondition, want: "Group1: has a proxy group of its own (Group3)", active: []string{"Volume1", "Volume3"}},
		{name: "proxy group holds volumes", pair: Pair{Class: "Class1", Master: "Group1", Proxy: "Group2",
			VolumeMap: map[string]string{"Volume1": "Proxy1", "Volume3": "Proxy3"}}, kind: ErrPrecondition,
			want: "Group2: the proxy group holds volumes (Other, Volume2)", active: []string{"Volume2", "Other"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var f *fixture
			if tc.cfg != nil {
				emu := gdsemu.StartT(t, tc.cfg())
				f = newFixture(t, emu, localTransport(t, emu))
			} else {
				f = localFixture(t)
			}
			if tc.setup != nil {
				tc.setup(t, f)
			}
			f.reset(t)
			out, err := f.client.Ensure(context.Background(), Desired{Pair: tc.pair, AllNodes: true, State: StateJoined}, Hooks{})
			if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want %v naming %q, got %v", tc.kind, tc.want, err)
			}
			if !strings.HasPrefix(err.Error(), `host "gds1": `) {
				t.Fatalf("the error should name the host: %v", err)
			}
			if len(out.Steps) != 0 {
				t.Fatalf("steps %v before a refused Join", out.Steps)
			}
			if ch := f.changes(); len(ch) != 0 {
				t.Fatalf("commands ran before a refused Join: %q", ch)
			}
			st, err := f.emu.State()
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range tc.active {
				if v := st.Classes["Class1"].Volumes[name]; len(v.Active) != 2 {
					t.Fatalf("%s was left started on %v, want node1 and node2", name, v.Active)
				}
			}
		})
	}
}

// localTransport is localFixture's transport for an emulator of another
// layout.
func localTransport(t *testing.T, emu *gdsemu.Emu) transport.Transport {
	t.Setenv("PATH", emu.BinDir+":"+os.Getenv("PATH"))
	return &transport.Local{Name: "gds1", Env: emu.HostEnv()}
}
