package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

var local = &transport.Local{}

const (
	testUser  = "bkarch_u1"
	testGroup = "bkarch_g1"
	// noNameUID has no passwd entry: it must survive as a number.
	noNameUID = 54321
	noNameGID = 54322
)

// ensureTestUser creates the test user and group (tests run as root).
func ensureTestUser(t *testing.T) (uid, gid int) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("archive tests must run as root (CI runs as root): owners are part of what they check")
	}
	if _, err := user.LookupGroup(testGroup); err != nil {
		run(t, "groupadd", "-f", testGroup)
	}
	if _, err := user.Lookup(testUser); err != nil {
		out, err := exec.Command("useradd", "-M", "-N", "-g", testGroup, "-s", "/usr/sbin/nologin", testUser).CombinedOutput()
		if err != nil && !strings.Contains(string(out), "already exists") {
			t.Fatalf("useradd: %v: %s", err, out)
		}
	}
	u, err := user.Lookup(testUser)
	if err != nil {
		t.Fatal(err)
	}
	g, err := user.LookupGroup(testGroup)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(g.Gid)
	return uid, gid
}

func run(t *testing.T, argv ...string) string {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return string(out)
}

var oldTime = time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)

// buildTree makes a tree with everything archives must keep: owners (a
// named user and group, a numeric-only id, root), special mode bits,
// symlinks (relative, absolute, dangling), hard links across directories,
// empty directories, a FIFO, long and non-ASCII names, an empty file and
// a file larger than one compression block.
func buildTree(t *testing.T, root string) {
	t.Helper()
	uid, gid := ensureTestUser(t)
	rng := rand.New(rand.NewPCG(1, 2))
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	dirs := map[string]fs.FileMode{
		"etc":               0o755,
		"var/proxy":         0o750,
		"var/proxy/spool":   0o700 | fs.ModeSetgid,
		"var/tmp":           0o777 | fs.ModeSticky,
		"empty":             0o755,
		"deep/empty/nested": 0o711,
		"long/" + strings.Repeat("d", 90) + "/" + strings.Repeat("e", 90): 0o755,
		"名前 with space": 0o755,
	}
	for d := range dirs {
		must(os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	files := []struct {
		name  string
		mode  fs.FileMode
		size  int
		owner [2]int
	}{
		{"etc/proxy.cfg", 0o640, 900, [2]int{0, gid}},
		{"etc/rs-key.pem", 0o600, 1700, [2]int{uid, gid}},
		{"etc/hbprop.inc", 0o444, 120, [2]int{noNameUID, noNameGID}},
		{"var/proxy/result.json", 0o644, 5000, [2]int{uid, 0}},
		{"var/proxy/spool/big.dat", 0o644, 3<<20 + 12345, [2]int{uid, gid}},
		{"var/proxy/empty-file", 0o644, 0, [2]int{0, 0}},
		{"var/bin-tool", 0o755 | fs.ModeSetuid, 300, [2]int{0, 0}},
		{"long/" + strings.Repeat("d", 90) + "/" + strings.Repeat("e", 90) + "/" + strings.Repeat("f", 120) + ".txt", 0o644, 77, [2]int{0, 0}},
		{"名前 with space/ファイル.txt", 0o644, 64, [2]int{uid, gid}},
	}
	for _, f := range files {
		p := filepath.Join(root, f.name)
		data := make([]byte, f.size)
		for i := range data {
			// Compressible but not trivial.
			data[i] = "abcdefgh \n"[rng.IntN(10)]
			if i%97 == 0 {
				data[i] = byte(rng.IntN(256))
			}
		}
		must(os.WriteFile(p, data, 0o600))
		must(os.Chown(p, f.owner[0], f.owner[1]))
		must(os.Chmod(p, f.mode))
	}
	must(os.Link(filepath.Join(root, "var/proxy/result.json"), filepath.Join(root, "etc/result-hardlink.json")))
	must(os.Link(filepath.Join(root, "var/proxy/result.json"), filepath.Join(root, "var/proxy/spool/result.2")))
	must(os.Symlink("proxy.cfg", filepath.Join(root, "etc/current.cfg")))
	must(os.Symlink("/etc/hostname", filepath.Join(root, "etc/abs-link")))
	must(os.Symlink("../nowhere/missing", filepath.Join(root, "var/dangling")))
	must(os.Lchown(filepath.Join(root, "etc/current.cfg"), uid, gid))
	must(syscall.Mkfifo(filepath.Join(root, "var/proxy/fifo"), 0o620))
	must(os.Chown(filepath.Join(root, "var/proxy/fifo"), uid, gid))
	must(os.Chown(filepath.Join(root, "var/proxy/spool"), uid, gid))
	must(os.Chown(filepath.Join(root, "empty"), noNameUID, gid))
	// Modes and times last, deepest first, so that creating children
	// does not change them.
	var all []string
	must(filepath.Walk(root, func(p string, _ fs.FileInfo, err error) error {
		all = append(all, p)
		return err
	}))
	sort.Sort(sort.Reverse(sort.StringSlice(all)))
	for i, p := range all {
		rel, _ := filepath.Rel(root, p)
		if m, ok := dirs[rel]; ok {
			must(os.Chmod(p, m))
		}
		mt := oldTime.Add(time.Duration(i) * time.Hour)
		ts := []syscall.Timespec{syscall.NsecToTimespec(mt.UnixNano()), syscall.NsecToTimespec(mt.UnixNano())}
		must(lutimes(p, ts))
	}
}

func lutimes(p string, ts []syscall.Timespec) error {
	return utimesNoFollow(p, ts)
}

// state is what a tree comparison looks at for one path.
type state struct {
	Type     string
	Mode     fs.FileMode
	UID, GID uint32
	Size     int64
	SHA      string
	MTime    int64
	Link     string
	Group    string // for hard links: the first path sharing the inode
	Rdev     uint64
}

// snapshot describes every path under root (root itself as ".").
func snapshot(t *testing.T, root string) map[string]state {
	t.Helper()
	out := map[string]state{}
	inodes := map[uint64]string{}
	var paths []string
	err := filepath.Walk(root, func(p string, _ fs.FileInfo, err error) error {
		paths = append(paths, p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(paths)
	for _, p := range paths {
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		rel, _ := filepath.Rel(root, p)
		s := state{Mode: fi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky),
			UID: st.Uid, GID: st.Gid, MTime: st.Mtim.Sec}
		switch {
		case fi.IsDir():
			s.Type = "dir"
		case fi.Mode().IsRegular():
			s.Type, s.Size = "file", fi.Size()
			s.SHA = fileSHA(t, p)
			if st.Nlink > 1 {
				if first, ok := inodes[st.Ino]; ok {
					s.Group = first
				} else {
					inodes[st.Ino] = rel
					s.Group = rel
				}
			}
		case fi.Mode()&fs.ModeSymlink != 0:
			s.Type = "symlink"
			s.Link, _ = os.Readlink(p)
			s.Mode = 0
		case fi.Mode()&fs.ModeNamedPipe != 0:
			s.Type = "fifo"
		case fi.Mode()&fs.ModeDevice != 0:
			s.Type, s.Rdev = "dev", st.Rdev
		default:
			s.Type = "other"
		}
		out[rel] = s
	}
	return out
}

func fileSHA(t *testing.T, p string) string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// compareTrees reports every difference between two snapshots. The root
// entry "." is skipped unless withRoot; symlink mtimes are compared only
// when linkTimes.
func compareTrees(t *testing.T, want, got map[string]state, withRoot, linkTimes bool) {
	t.Helper()
	var diffs []string
	for name, w := range want {
		if name == "." && !withRoot {
			continue
		}
		g, ok := got[name]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("%s: missing", name))
			continue
		}
		if w.Type == "symlink" && !linkTimes {
			w.MTime, g.MTime = 0, 0
		}
		if w != g {
			diffs = append(diffs, fmt.Sprintf("%s:\n  want %+v\n  got  %+v", name, w, g))
		}
	}
	for name := range got {
		if name == "." && !withRoot {
			continue
		}
		if _, ok := want[name]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: unexpected", name))
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("%d differences:\n%s", len(diffs), strings.Join(diffs, "\n"))
	}
}

// utimesNoFollow sets the times of p itself, even when it is a symlink.
func utimesNoFollow(p string, ts []syscall.Timespec) error {
	b, err := syscall.BytePtrFromString(p)
	if err != nil {
		return err
	}
	const atFDCWD = -100
	_, _, e := syscall.Syscall6(syscall.SYS_UTIMENSAT, uintptr(atFDCWD&0xffffffffffffffff), uintptr(unsafe.Pointer(b)),
		uintptr(unsafe.Pointer(&ts[0])), atSymlinkNofollow, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}
