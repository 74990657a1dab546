package apps

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func mustResolve(t *testing.T, name string, labels map[string]string) Preset {
	t.Helper()
	p, err := Resolve(name, labels)
	if err != nil {
		t.Fatalf("Resolve(%s): %v", name, err)
	}
	return p
}

func TestNamesMatchDesign(t *testing.T) {
	want := []string{"groupmax_master", "groupmax_server", "interstage_admin", "interstage_managed",
		"smf_arms_proxy", "smf_heartbeat", "smf_rs"}
	if got := Names(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Names() = %v", got)
	}
}

func TestUnknownPreset(t *testing.T) {
	_, err := Resolve("smf_arm_proxy", nil)
	if !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), "smf_arms_proxy") {
		t.Fatalf("want ErrUnknown listing the known names, got %v", err)
	}
}

func TestSMFPresetsFollowTheManual(t *testing.T) {
	ap := mustResolve(t, SMFArmsProxy, nil)
	if ap.Paths[0] != "/var/service/smf/var/proxy" || len(ap.Paths) != 5 || len(ap.Stop) != 0 {
		t.Fatalf("arms proxy: %+v", ap)
	}
	if !reflect.DeepEqual(ap.Restore.Start, []string{"/sbin/service arms-proxy restart"}) {
		t.Fatalf("arms proxy restore: %v", ap.Restore.Start)
	}
	hb := mustResolve(t, SMFHeartbeat, nil)
	if hb.Paths[0] != "/var/service/smf/var/hb" || !contains(hb.Paths, "/var/service/smf/etc/hbprop") {
		t.Fatalf("heartbeat paths: %v", hb.Paths)
	}
	if hb.Restore.Start[0] != "/sbin/service hbserver restart" || !strings.Contains(strings.Join(hb.Restore.Notes, " "), "disagree with RS and SA") {
		t.Fatalf("heartbeat restore: %+v", hb.Restore)
	}
	rs := mustResolve(t, SMFRS, nil)
	if !rs.RequiresDatabase || !contains(rs.Paths, "/var/service/smf/etc/rs-api.properties") {
		t.Fatalf("rs: %+v", rs)
	}
	if !strings.Contains(strings.Join(rs.Restore.Start, ";"), "tomcat restart") {
		t.Fatalf("rs restore must restart Tomcat: %v", rs.Restore.Start)
	}
}

// An in_place Groupmax restore stops the servers first and starts them
// after, with the backup's stop and start (not nxsrepstat, a backup-side
// check); a drill (elsewhere) runs neither.
func TestGroupmaxRestoreStopsAndStarts(t *testing.T) {
	for _, name := range []string{GroupmaxMaster, GroupmaxServer} {
		p := mustResolve(t, name, map[string]string{LabelMasterHost: "gmmaster"})
		if !reflect.DeepEqual(p.Restore.Stop, []string{"/usr/GroupMail/bin/APSTOP", "/usr/GroupMail/bin/GM_STOP", "xodstop"}) {
			t.Errorf("%s restore stop = %v", name, p.Restore.Stop)
		}
		if !reflect.DeepEqual(p.Restore.Start, []string{"xodstart", "/usr/GroupMail/bin/GM_START", "/usr/GroupMail/bin/APSTART"}) {
			t.Errorf("%s restore start = %v", name, p.Restore.Start)
		}
	}
}

func TestGroupmaxMasterOrderAndJournal(t *testing.T) {
	p := mustResolve(t, GroupmaxMaster, map[string]string{LabelMngJournal: "/gm/journal dir"})
	wantStop := []string{"/usr/GroupMail/bin/APSTOP", "/usr/GroupMail/bin/GM_STOP", "xodstop"}
	if !reflect.DeepEqual(p.Stop, wantStop) {
		t.Fatalf("stop = %v", p.Stop)
	}
	// Start is the stop order reversed.
	if !reflect.DeepEqual(p.Start, []string{"xodstart", "/usr/GroupMail/bin/GM_START", "/usr/GroupMail/bin/APSTART"}) {
		t.Fatalf("start = %v", p.Start)
	}
	if !reflect.DeepEqual(p.AfterSuccess, []string{"rm -f -- '/gm/journal dir/MCH_JOURNAL'/*"}) {
		t.Fatalf("after_success = %v", p.AfterSuccess)
	}
	if !contains(p.Paths, "/usr/GroupMail/x400/runtime") || !contains(p.Paths, "/usr/GroupMail/nxsdir") || len(p.Paths) != 9 {
		t.Fatalf("paths = %v", p.Paths)
	}
	// Without the label no journal is cleared, and the notes say why.
	p = mustResolve(t, GroupmaxMaster, nil)
	if len(p.AfterSuccess) != 0 || !strings.Contains(strings.Join(p.Notes, " "), "mng_journal") {
		t.Fatalf("no journal label: %+v", p)
	}
	// HP-UX/AIX base.
	p = mustResolve(t, GroupmaxMaster, map[string]string{LabelGroupMailDir: "/var/opt/GroupMail"})
	if p.Paths[0] != "/var/opt/GroupMail/Groupmax" || p.Stop[0] != "/var/opt/GroupMail/bin/APSTOP" {
		t.Fatalf("groupmail_dir not applied: %v %v", p.Paths, p.Stop)
	}
	if _, err := Resolve(GroupmaxMaster, map[string]string{LabelMngJournal: "journal"}); err == nil {
		t.Fatal("relative mng_journal accepted")
	}
}

func TestGroupmaxServer(t *testing.T) {
	_, err := Resolve(GroupmaxServer, nil)
	var le *LabelError
	if !errors.As(err, &le) || le.Label != LabelMasterHost {
		t.Fatalf("want a LabelError for master_host, got %v", err)
	}
	p := mustResolve(t, GroupmaxServer, map[string]string{LabelMasterHost: "gm-master"})
	if !strings.Contains(p.Stop[0], "nxsrepstat") || p.Stop[1] != "/usr/GroupMail/bin/APSTOP" || p.Stop[3] != "xodstop" {
		t.Fatalf("stop = %v", p.Stop)
	}
	if len(p.AfterSuccess) != 1 {
		t.Fatalf("after_success = %v", p.AfterSuccess)
	}
	h, cmd := SplitHost(p.AfterSuccess[0])
	if h != "gm-master" || cmd != `rm -f -- /usr/GroupMail/nxsdir/journal/"${BACKUP_SOURCE_HOSTNAME:?}"*` {
		t.Fatalf("journal clear = %q on %q", cmd, h)
	}
	p = mustResolve(t, GroupmaxServer, map[string]string{LabelMasterHost: "m", LabelGroupmaxHost: "gmsrv1"})
	if _, cmd := SplitHost(p.AfterSuccess[0]); cmd != "rm -f -- /usr/GroupMail/nxsdir/journal/gmsrv1*" {
		t.Fatalf("journal clear = %q", cmd)
	}
	if _, err := Resolve(GroupmaxServer, map[string]string{LabelMasterHost: "m", LabelGroupmaxHost: "../x"}); err == nil {
		t.Fatal("groupmax_host with a slash accepted")
	}
}

func TestInterstage(t *testing.T) {
	_, err := Resolve(InterstageManaged, map[string]string{})
	var le *LabelError
	if !errors.As(err, &le) || le.Label != LabelServerGroup {
		t.Fatalf("want LabelError server_group, got %v", err)
	}
	p := mustResolve(t, InterstageManaged, map[string]string{LabelServerGroup: "sg1"})
	if !reflect.DeepEqual(p.Stop, []string{"isstop -f"}) || !reflect.DeepEqual(p.Start, []string{"isstart"}) {
		t.Fatalf("stop/start %v %v", p.Stop, p.Start)
	}
	if !p.RequiresContent || len(p.Paths) != 0 || !reflect.DeepEqual(p.Restore.MatchLabels, []string{"server_group"}) {
		t.Fatalf("managed: %+v", p)
	}
	if a := mustResolve(t, InterstageAdmin, nil); len(a.RequiredLabels) != 0 || a.Stop[0] != "isstop -f" {
		t.Fatalf("admin: %+v", a)
	}
}

func TestEffectiveOverrides(t *testing.T) {
	p := mustResolve(t, GroupmaxMaster, nil)
	eff := Effective(&p, Settings{Stop: []string{"my-stop"}, Exclude: []string{}})
	if !reflect.DeepEqual(eff.Stop, []string{"my-stop"}) {
		t.Fatalf("stop override lost: %v", eff.Stop)
	}
	if !reflect.DeepEqual(eff.Start, p.Start) || !reflect.DeepEqual(eff.Paths, p.Paths) {
		t.Fatal("unset fields did not take the preset's values")
	}
	// An explicitly empty list overrides too.
	eff = Effective(&p, Settings{Start: []string{}})
	if eff.Start == nil || len(eff.Start) != 0 {
		t.Fatalf("empty start override: %#v", eff.Start)
	}
	// The result does not alias the preset.
	eff.Paths[0] = "changed"
	if p.Paths[0] == "changed" {
		t.Fatal("Effective aliases the preset's slices")
	}
	none := Effective(nil, Settings{})
	if none.Paths == nil || none.AfterSuccess == nil {
		t.Fatal("nil fields without a preset")
	}
}

func TestSplitHost(t *testing.T) {
	cases := []struct{ in, host, cmd string }{
		{"@m1: rm -f x", "m1", "rm -f x"},
		{"rm -f x", "", "rm -f x"},
		{"@: x", "", "@: x"},
		{"@a b: x", "", "@a b: x"},
		{"@gm-master:ls", "gm-master", "ls"},
	}
	for _, c := range cases {
		h, cmd := SplitHost(c.in)
		if h != c.host || cmd != c.cmd {
			t.Errorf("SplitHost(%q) = %q, %q", c.in, h, cmd)
		}
	}
	if h, cmd := SplitHost(OnHost("x", "y")); h != "x" || cmd != "y" {
		t.Fatal("OnHost/SplitHost round trip")
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
