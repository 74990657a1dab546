package gds

import (
	"errors"
	"strings"
	"testing"

	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// The seed 003 step 2 output, as printed there.
const seedSlices = `OBJ    CLASS   GROUP   DISK    VOLUME  STATUS
------ ------- ------- ------- ------- --------
slice  Class1  Group2  Disk3   Volume2 STOP
slice  Class1  Group2  Disk4   Volume2 STOP
`

func TestParseSeedOutput(t *testing.T) {
	info, err := ParseInfo([]byte(seedSlices))
	if err != nil {
		t.Fatal(err)
	}
	s := info.VolumeSlices("Class1", "Volume2")
	if len(s) != 2 || s[0].Disk != "Disk3" || s[1].Disk != "Disk4" || s[0].Status != "STOP" || s[1].Group != "Group2" {
		t.Fatalf("%+v", s)
	}
}

// Columns in another order, unknown extra columns, messages, CRLF, "*"
// rows and a header without dashes: all tolerated.
func TestParseTolerant(t *testing.T) {
	out := "SDX:sdxinfo: INFO: something to say\r\n" +
		"OBJ    NAME    CLASS   DISKS        BLKS     FREEBLKS SPARE  MASTER  TYPE   NEWCOL\r\n" +
		"------ ------- ------- ------------ -------- -------- ----- ------- ------ ------\r\n" +
		"group  Group3  Class1  Disk5:Disk6  16711680 0        0     Group1  mirror x\r\n" +
		"\r\n" +
		"OBJ    STATUS  NAME    PROXY  MASTER   CLASS   GROUP   BLOCKS  EXTRA   TYPE\n" +
		"volume ACTIVE  Volume1 *      *        Class1  Group1  2048000 foo     mirror\n" +
		"volume STOP    Proxy1  Join   Volume1  Class1  Group3  2048000 bar     mirror\n" +
		"volume PRIVATE *       *      *        Class1  Group1  65536   baz     mirror\n" +
		"\n" +
		"OBJ   VOLUME CLASS  DISK  GROUP  STATUS COPY\n" +
		"slice Proxy1 Class1 Disk5 Group3 COPY   40%\n" +
		"slice Proxy1 Class1 Disk6 Group3 COPY   41%\n" +
		"slice Volume1 Class1 Disk1 Group1 ACTIVE *\n"
	info, err := ParseInfo([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Volumes) != 2 {
		t.Fatalf("volumes %+v (the * row must be dropped)", info.Volumes)
	}
	p, ok := info.Volume("Class1", "Proxy1")
	if !ok || p.Master != "Volume1" || p.Proxy != "Join" || p.Status != "STOP" || p.Blocks != 2048000 || p.Group != "Group3" {
		t.Fatalf("%+v", p)
	}
	g, ok := info.Group("Class1", "Group3")
	if !ok || g.Master != "Group1" || len(g.Disks) != 2 || g.Type != "mirror" {
		t.Fatalf("%+v", g)
	}
	st, err := StatusOf(info, "Class1", "Group3")
	if err != nil {
		t.Fatal(err)
	}
	if !st.Group || st.Master != "Group1" || st.State != StateJoined || st.CopyStatus != "COPY" || st.CopyProgress != 40 ||
		st.VolumeMap["Volume1"] != "Proxy1" || st.ProxyDevice != "" {
		t.Fatalf("%+v", st)
	}
}

func TestParseRejectsNonTables(t *testing.T) {
	if _, err := ParseInfo([]byte("sh: sdxinfo: not found\n")); err == nil {
		t.Fatal("non-table output accepted")
	}
	info, err := ParseInfo(nil)
	if err != nil || len(info.Volumes) != 0 {
		t.Fatalf("empty output: %v %+v", err, info)
	}
}

const volumes = `OBJ    NAME    TYPE   CLASS  GROUP  DISK MASTER  PROXY SKIP JRM 1STBLK  LASTBLK BLOCKS  STATUS
------ ------- ------ ------ ------ ---- ------- ----- ---- --- ------- ------- ------- ------
volume Volume1 mirror Class1 Group1 *    *       *     off  on  65536   2113535 2048000 ACTIVE
volume Volume2 mirror Class1 Group2 *    Volume1 Part  off  on  65536   2113535 2048000 ACTIVE
volume Volume9 mirror Class1 Group2 *    *       *     off  on  2113536 4161535 2048000 ACTIVE
volume ProxyA  mirror Class1 Group3 *    VolA    Join  off  on  65536   2113535 2048000 STOP
volume ProxyB  mirror Class1 Group3 *    VolB    Part  off  on  2113536 4161535 2048000 ACTIVE
volume VolA    mirror Class1 Group4 *    *       *     off  on  65536   2113535 2048000 ACTIVE
volume VolB    mirror Class1 Group4 *    *       *     off  on  2113536 4161535 2048000 ACTIVE

OBJ   CLASS  GROUP  DISK  VOLUME  STATUS
----- ------ ------ ----- ------- ------
slice Class1 Group2 Disk3 Volume2 ACTIVE
slice Class1 Group2 Disk4 Volume2 ACTIVE
slice Class1 Group3 Disk5 ProxyA  STOP
slice Class1 Group3 Disk5 ProxyB  ACTIVE
`

func TestStatusOf(t *testing.T) {
	info, err := ParseInfo([]byte(volumes))
	if err != nil {
		t.Fatal(err)
	}
	st, err := StatusOf(info, "Class1", "Volume2")
	if err != nil {
		t.Fatal(err)
	}
	if st.State != StateParted || st.Master != "Volume1" || st.CopyStatus != "ACTIVE" ||
		st.MasterDevice != "/dev/sfdsk/Class1/dsk/Volume1" || st.ProxyDevice != "/dev/sfdsk/Class1/dsk/Volume2" {
		t.Fatalf("%+v", st)
	}
	st, _ = StatusOf(info, "Class1", "Volume9")
	if !st.Exists || st.State != StateNone || st.Master != "" {
		t.Fatalf("unrelated volume: %+v", st)
	}
	st, _ = StatusOf(info, "Class1", "Nope")
	if st.Exists {
		t.Fatalf("missing volume: %+v", st)
	}
	// no group rows at all: the group is unknown
	st, _ = StatusOf(info, "Class1", "Group3")
	if st.Exists {
		t.Fatalf("%+v", st)
	}
	info.Groups = append(info.Groups, GroupRow{Name: "Group3", Class: "Class1"})
	st, err = StatusOf(info, "Class1", "Group3")
	if err != nil {
		t.Fatal(err)
	}
	// no MASTER column on the group: found through the master volumes
	if st.State != StateMixed || st.Master != "Group4" || st.CopyStatus != "ACTIVE,STOP" || len(st.VolumeMap) != 2 {
		t.Fatalf("mixed group pair: %+v", st)
	}
	// without -e long there is no way to see relations
	short, _ := ParseInfo([]byte("OBJ NAME CLASS GROUP STATUS\nvolume Volume1 Class1 Group1 ACTIVE\n"))
	if _, err := StatusOf(short, "Class1", "Volume1"); err == nil || !strings.Contains(err.Error(), "MASTER/PROXY") {
		t.Fatalf("want a missing-columns error, got %v", err)
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		stderr string
		status int
		kind   error
		object string
	}{
		{"SDX:sdxproxy: ERROR: Volume2: master Volume1 and proxy are joined, restore is impossible (part them first)\n", 1, ErrJoined, "Volume2"},
		{"SDX:sdxproxy: ERROR: Volume2: volume is active on node node2, stop the proxy volume first\n", 1, ErrActive, "Volume2"},
		{"SDX:sdxproxy: ERROR: Volume2: already parted from master Volume1\n", 1, ErrParted, "Volume2"},
		{"SDX:sdxproxy: ERROR: Volume2: already joined to master Volume1\n", 1, ErrJoined, "Volume2"},
		{"SDX:sdxproxy: ERROR: Volume1: not a proxy volume\n", 1, ErrNotProxy, "Volume1"},
		{"SDX:sdxproxy: ERROR: Volume5: already related to master Volume1\n", 1, ErrRelated, "Volume5"},
		{"SDX:sdxproxy: ERROR: Volume2: copying from master Volume1 is in progress, parting is impossible until it completes\n", 1, ErrCopying, "Volume2"},
		{"SDX:sdxinfo: ERROR: ClassX: no such class\n", 1, ErrNotFound, "ClassX"},
		{"SDX:sdxproxy: ERROR: Volume1, Volume3: master and proxy belong to the same group Group1\n", 1, ErrPrecondition, "Volume1"},
		{"SDX:sdxproxy: ERROR: syntax error: unknown option -x\nusage: ...\n", 1, ErrSyntax, ""},
		{"SDX:sdxvolume: ERROR: must be privileged user\n", 1, ErrPermission, ""},
		{"SDX:sdxvolume: ERROR: Volume2: proxy volume is joined to master Volume1, it can be started or stopped only while parted\n", 1, ErrJoined, "Volume2"},
		{"SDX:sdxproxy: ERROR: Volume2: injected fault: I/O error\n", 1, ErrUnknownFailure, "Volume2"},
		{"sh: 1: sdxproxy: not found\n", 127, ErrNotInstalled, ""},
		{"sudo: a password is required\n", 1, ErrPermission, ""},
	}
	for _, c := range cases {
		err := Classify("gds1", []string{"sdxproxy", "Part"}, transport.Result{ExitStatus: c.status, Stderr: []byte(c.stderr)})
		var ge *Error
		if !errors.As(err, &ge) {
			t.Fatalf("%q: %v", c.stderr, err)
		}
		if !errors.Is(err, c.kind) || ge.Object != c.object {
			t.Errorf("%q: kind %v object %q, want %v %q", c.stderr, ge.Kind, ge.Object, c.kind, c.object)
		}
		if !strings.Contains(err.Error(), `host "gds1"`) {
			t.Errorf("message lacks the host: %v", err)
		}
	}
	// the ERROR line may come on stdout, after INFO lines
	err := Classify("h", []string{"sdxproxy"}, transport.Result{ExitStatus: 2,
		Stdout: []byte("SDX:sdxproxy: INFO: Volume2: waiting...\nSDX:sdxproxy: ERROR: Volume2: no such object\n")})
	if !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if Classify("h", nil, transport.Result{}) != nil {
		t.Fatal("exit 0 is not an error")
	}
}

func TestArgv(t *testing.T) {
	eq := func(got []string, want string) {
		t.Helper()
		if strings.Join(got, " ") != want {
			t.Errorf("got  %q\nwant %q", strings.Join(got, " "), want)
		}
	}
	eq(StopVolumeArgv("Class1", []string{"Volume2"}, true), "sdxvolume -F -c Class1 -v Volume2 -e allnodes")
	eq(StopVolumeArgv("Class1", []string{"P1", "P2"}, false), "sdxvolume -F -c Class1 -v P1,P2")
	eq(JoinArgv("Class1", "Volume1", "Volume2", nil), "sdxproxy Join -c Class1 -m Volume1 -p Volume2")
	eq(JoinArgv("Class1", "Group1", "Group2", map[string]string{"Volume2": "Proxy2", "Volume1": "Proxy1"}),
		"sdxproxy Join -c Class1 -m Group1 -p Group2 -a Volume1=Proxy1:on,Volume2=Proxy2:on")
	eq(PartArgv("Class1", []string{"Volume2"}, true), "sdxproxy Part -c Class1 -p Volume2 -e instant")
	eq(PartArgv("Class1", []string{"Volume2"}, false), "sdxproxy Part -c Class1 -p Volume2")
	eq(RejoinArgv("Class1", []string{"Volume2"}), "sdxproxy Rejoin -c Class1 -p Volume2")
	eq(RestoreArgv("Class1", []string{"Volume2"}, true), "sdxproxy Restore -c Class1 -p Volume2 -e instant,nowaitsync")
	eq(BreakArgv("Class1", "Volume2", false), "sdxproxy Break -c Class1 -p Volume2")
	eq(InfoArgv("Class1", ""), "sdxinfo -A -c Class1 -e long")
	eq(SliceInfoArgv("Class1", "Volume2"), "sdxinfo -S -c Class1 -o Volume2 -e long")
	if Device("Class1", "Volume2") != "/dev/sfdsk/Class1/dsk/Volume2" || RawDevice("C", "V") != "/dev/sfdsk/C/rdsk/V" {
		t.Fatal("device paths")
	}
	for s, ok := range map[string]bool{"Volume1": true, "a-b_c": true, "": false, "-x": false, "a b": false, "a;b": false, strings.Repeat("x", 33): false} {
		if (CheckName(s) == nil) != ok {
			t.Errorf("CheckName(%q) = %v", s, CheckName(s))
		}
	}
}
