// Package backuptest builds application-like file trees with mixed owners
// for backup and restore tests, and compares trees by metadata and
// content. It is a test tool; the provider never imports it.
package backuptest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
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
)

// Owner is an OS user and group a tree's files belong to.
type Owner struct {
	User, Group string
	UID, GID    int
}

// EnsureOwner returns user/group name, creating them when running as root
// and they are missing. Not root: the current user and group.
func EnsureOwner(t testing.TB, name string) Owner {
	t.Helper()
	if os.Geteuid() != 0 {
		u, _ := user.Current()
		g, _ := user.LookupGroupId(u.Gid)
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return Owner{User: u.Username, Group: g.Name, UID: uid, GID: gid}
	}
	if _, err := user.LookupGroup(name); err != nil {
		if out, err := exec.Command("groupadd", "--system", name).CombinedOutput(); err != nil && !strings.Contains(string(out), "already exists") {
			t.Fatalf("groupadd %s: %v: %s", name, err, out)
		}
	}
	if _, err := user.Lookup(name); err != nil {
		out, err := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
			"--gid", name, name).CombinedOutput()
		if err != nil && !strings.Contains(string(out), "already exists") {
			t.Fatalf("useradd %s: %v: %s", name, err, out)
		}
	}
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(g.Gid)
	return Owner{User: name, Group: name, UID: uid, GID: gid}
}

// File is one member of a tree to build.
type File struct {
	Path    string // relative to the tree's root
	Content string // regular file content
	Dir     bool
	Symlink string // target, for a symlink
	Mode    os.FileMode
	Owner   Owner
	MTime   time.Time
}

// Build creates files under root (directories first, then files, then
// modes and times bottom-up so directory mtimes stick).
func Build(t testing.TB, root string, files []File) {
	t.Helper()
	sorted := append([]File(nil), files...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })
	for _, f := range sorted {
		p := filepath.Join(root, f.Path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		switch {
		case f.Dir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		case f.Symlink != "":
			if err := os.Symlink(f.Symlink, p); err != nil {
				t.Fatal(err)
			}
		default:
			if err := os.WriteFile(p, []byte(f.Content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Deepest first, so that setting a file's time does not move its
	// directory's afterwards.
	for i := len(sorted) - 1; i >= 0; i-- {
		f := sorted[i]
		p := filepath.Join(root, f.Path)
		if os.Geteuid() == 0 && f.Owner.User != "" {
			if err := os.Lchown(p, f.Owner.UID, f.Owner.GID); err != nil {
				t.Fatal(err)
			}
		}
		if f.Symlink == "" {
			if f.Mode != 0 {
				if err := os.Chmod(p, f.Mode); err != nil {
					t.Fatal(err)
				}
			}
			if !f.MTime.IsZero() {
				if err := os.Chtimes(p, f.MTime, f.MTime); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// SMFTree builds an SMF-like tree under root (var/service/smf/...): the
// ARMS-Proxy data and config with owners smf/smfproxy, private keys 0600,
// a setgid directory, a symlink, an empty directory and fixed mtimes.
// It returns the absolute paths a policy would list.
func SMFTree(t testing.TB, root string) (proxyPaths, hbPaths []string) {
	t.Helper()
	smf := EnsureOwner(t, "bkctl-smf")
	proxy := EnsureOwner(t, "bkctl-proxy")
	old := time.Date(2024, 3, 1, 9, 30, 15, 0, time.UTC)
	newer := time.Date(2025, 7, 14, 22, 1, 2, 0, time.UTC)
	b := "var/service/smf/"
	Build(t, root, []File{
		{Path: b + "var/proxy", Dir: true, Mode: 0o2750, Owner: proxy, MTime: old},
		{Path: b + "var/proxy/results", Dir: true, Mode: 0o750, Owner: proxy, MTime: newer},
		{Path: b + "var/proxy/results/push-0001.xml", Content: "<push id='1' result='ok'/>\n", Mode: 0o640, Owner: proxy, MTime: old},
		{Path: b + "var/proxy/results/push-0002.xml", Content: strings.Repeat("<line/>\n", 4000), Mode: 0o600, Owner: smf, MTime: newer},
		{Path: b + "var/proxy/empty", Dir: true, Mode: 0o700, Owner: smf, MTime: old},
		{Path: b + "var/proxy/latest", Symlink: "results/push-0002.xml", Owner: proxy},
		{Path: b + "etc/proxy.cfg", Content: "listen = 127.0.0.1:8443\n", Mode: 0o644, Owner: smf, MTime: old},
		{Path: b + "etc/ca-cert.pem", Content: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", Mode: 0o644, Owner: smf, MTime: old},
		{Path: b + "etc/rs-cert.pem", Content: "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n", Mode: 0o644, Owner: smf, MTime: old},
		{Path: b + "etc/rs-key.pem", Content: "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n", Mode: 0o600, Owner: smf, MTime: old},
		{Path: b + "var/hb", Dir: true, Mode: 0o755, Owner: smf, MTime: old},
		{Path: b + "var/hb/status.db", Content: "hb-state\x00\x01\x02", Mode: 0o660, Owner: smf, MTime: newer},
		{Path: b + "etc/hbserver.conf", Content: "interval 60\n", Mode: 0o644, Owner: smf, MTime: old},
		{Path: b + "etc/hbprop.inc", Content: "prop=1\n", Mode: 0o644, Owner: smf, MTime: old},
		{Path: b + "etc/hbprop", Dir: true, Mode: 0o755, Owner: smf, MTime: old},
		{Path: b + "etc/hbprop/site-a.prop", Content: "a=1\n", Mode: 0o640, Owner: proxy, MTime: newer},
	})
	etc := filepath.Join(root, b, "etc")
	proxyPaths = []string{filepath.Join(root, b, "var/proxy"), filepath.Join(etc, "proxy.cfg"),
		filepath.Join(etc, "ca-cert.pem"), filepath.Join(etc, "rs-cert.pem"), filepath.Join(etc, "rs-key.pem")}
	hbPaths = []string{filepath.Join(root, b, "var/hb"), filepath.Join(etc, "hbserver.conf"),
		filepath.Join(etc, "hbprop.inc"), filepath.Join(etc, "hbprop")}
	return proxyPaths, hbPaths
}

// Meta is what a tree comparison looks at for one path.
type Meta struct {
	Type   string
	Mode   os.FileMode
	UID    int
	GID    int
	MTime  int64 // seconds
	SHA256 string
	Link   string
}

func (m Meta) String() string {
	return fmt.Sprintf("%s %v %d:%d mtime=%d sha=%.12s link=%q", m.Type, m.Mode, m.UID, m.GID, m.MTime, m.SHA256, m.Link)
}

// Snapshot returns the metadata of every path under root, keyed by the
// path relative to root ("." for root itself).
func Snapshot(t testing.TB, root string) map[string]Meta {
	t.Helper()
	out := map[string]Meta{}
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		st := fi.Sys().(*syscall.Stat_t)
		m := Meta{Mode: fi.Mode() & (os.ModePerm | os.ModeSetuid | os.ModeSetgid | os.ModeSticky),
			UID: int(st.Uid), GID: int(st.Gid), MTime: fi.ModTime().Unix()}
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			m.Type = "symlink"
			m.Link, _ = os.Readlink(p)
			m.Mode, m.MTime = 0, 0 // not portable across tar implementations
		case fi.IsDir():
			m.Type = "dir"
		case fi.Mode().IsRegular():
			m.Type = "file"
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			h := sha256.New()
			_, err = io.Copy(h, f)
			f.Close()
			if err != nil {
				return err
			}
			m.SHA256 = hex.EncodeToString(h.Sum(nil))
		default:
			m.Type = "other"
		}
		out[rel] = m
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Diff describes the differences between two snapshots ("" when equal).
func Diff(want, got map[string]Meta) string {
	var lines []string
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			lines = append(lines, "missing: "+k)
		case g != w:
			lines = append(lines, fmt.Sprintf("%s:\n  want %v\n   got %v", k, w, g))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			lines = append(lines, "extra: "+k)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
