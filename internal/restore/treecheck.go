package restore

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/archive"
	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// TreeResult is what CheckTree found.
type TreeResult struct {
	// Checked counts the manifest entries compared; Hashed the regular
	// files whose SHA-256 was recomputed on the target.
	Checked, Hashed int
	// OwnersChecked is false when the target process was not root (an
	// extraction as another user cannot restore owners).
	OwnersChecked bool
	// Problems lists every difference, sorted ("name: what").
	Problems []string
}

// OK reports a tree that matches its manifest.
func (r TreeResult) OK() bool { return len(r.Problems) == 0 }

// Summary is a one-line account.
func (r TreeResult) Summary() string {
	s := fmt.Sprintf("%d entries compared with the manifest, %d file checksums recomputed", r.Checked, r.Hashed)
	if !r.OwnersChecked {
		s += ", owners not compared (not extracted as root)"
	}
	if len(r.Problems) > 0 {
		n := len(r.Problems)
		show := r.Problems
		if n > 10 {
			show = show[:10]
		}
		s += fmt.Sprintf("; %d problem(s): %s", n, strings.Join(show, "; "))
		if n > 10 {
			s += "; ..."
		}
	}
	return s
}

// CheckTree compares what was extracted under target on t with the
// archive's manifest: every entry exists with its type and permission bits
// (owner and group too when owners is true), regular files have their size
// and modification time, and their SHA-256 is recomputed on the target
// host (sha256sum -c, so no file content crosses the network). Entries of
// the target that the archive does not name are not looked at: in_place
// restores write into live trees.
func CheckTree(ctx context.Context, t transport.Transport, target string, entries []archive.Entry, owners bool) (TreeResult, error) {
	res := TreeResult{OwnersChecked: owners}
	if len(entries) == 0 {
		return res, nil
	}
	stats, err := statNames(ctx, t, target, entries)
	if err != nil {
		return res, err
	}
	var sums bytes.Buffer
	for _, e := range entries {
		res.Checked++
		st, ok := stats[e.Name]
		if !ok {
			res.Problems = append(res.Problems, e.Name+": missing")
			continue
		}
		if p := compareEntry(e, st, owners); p != "" {
			res.Problems = append(res.Problems, e.Name+": "+p)
			continue
		}
		if e.Type == archive.TypeFile && e.SHA256 != "" {
			res.Hashed++
			writeSumLine(&sums, e.SHA256, e.Name)
		}
	}
	if sums.Len() > 0 {
		bad, err := sha256Check(ctx, t, target, &sums)
		if err != nil {
			return res, err
		}
		for _, b := range bad {
			res.Problems = append(res.Problems, b+": content differs from the manifest (SHA-256)")
		}
	}
	sort.Strings(res.Problems)
	return res, nil
}

type statInfo struct {
	typ      string
	mode     int64
	uid, gid int
	size     int64
	mtime    int64
}

// statNames runs stat on every entry name (relative to target) in one
// command, names passed NUL-separated on stdin.
func statNames(ctx context.Context, t transport.Transport, target string, entries []archive.Entry) (map[string]statInfo, error) {
	var in bytes.Buffer
	for _, e := range entries {
		in.WriteString(e.Name)
		in.WriteByte(0)
	}
	// xargs exits 123 when stat failed on a name (missing): that is what
	// the comparison reports, so only other statuses are errors.
	cmd := transport.Command{
		Argv:      []string{"xargs", "-0", "-r", "stat", "--printf", `%n\0%F\0%a\0%u\0%g\0%s\0%Y\0`, "--"},
		Dir:       target,
		Stdin:     &in,
		MaxOutput: 1 << 30,
	}
	r, err := t.Run(ctx, cmd)
	if err != nil {
		return nil, fmt.Errorf("host %q: stat restored files in %s: %w", t.Host(), target, err)
	}
	if r.ExitStatus != 0 && r.ExitStatus != 123 {
		return nil, fmt.Errorf("host %q: stat restored files in %s: %w", t.Host(), target, r.Err(t.Host(), cmd.Argv))
	}
	f := bytes.Split(r.Stdout, []byte{0})
	out := make(map[string]statInfo, len(entries))
	for i := 0; i+7 <= len(f); i += 7 {
		mode, _ := strconv.ParseInt(string(f[i+2]), 8, 64)
		uid, _ := strconv.Atoi(string(f[i+3]))
		gid, _ := strconv.Atoi(string(f[i+4]))
		size, _ := strconv.ParseInt(string(f[i+5]), 10, 64)
		mt, _ := strconv.ParseInt(string(f[i+6]), 10, 64)
		out[string(f[i])] = statInfo{typ: string(f[i+1]), mode: mode, uid: uid, gid: gid, size: size, mtime: mt}
	}
	return out, nil
}

// statType maps stat's %F to a manifest entry type.
func statType(f string) string {
	switch f {
	case "regular file", "regular empty file":
		return archive.TypeFile
	case "directory":
		return archive.TypeDir
	case "symbolic link":
		return archive.TypeSymlink
	case "character special file":
		return archive.TypeChar
	case "block special file":
		return archive.TypeBlock
	case "fifo":
		return archive.TypeFIFO
	}
	return f
}

func compareEntry(e archive.Entry, st statInfo, owners bool) string {
	want := e.Type
	if want == archive.TypeHardlink {
		want = archive.TypeFile
	}
	if got := statType(st.typ); got != want {
		return fmt.Sprintf("is a %s, the archive holds a %s", got, want)
	}
	var p []string
	if e.Type != archive.TypeSymlink && st.mode&0o7777 != e.Mode&0o7777 {
		p = append(p, fmt.Sprintf("mode %04o, want %04o", st.mode&0o7777, e.Mode&0o7777))
	}
	if owners && (st.uid != e.UID || st.gid != e.GID) {
		p = append(p, fmt.Sprintf("owner %d:%d, want %d:%d", st.uid, st.gid, e.UID, e.GID))
	}
	if e.Type == archive.TypeFile {
		if st.size != e.Size {
			p = append(p, fmt.Sprintf("size %d, want %d", st.size, e.Size))
		}
		if !e.ModTime.IsZero() && st.mtime != e.ModTime.Unix() {
			p = append(p, fmt.Sprintf("modified %s, want %s",
				time.Unix(st.mtime, 0).UTC().Format(time.RFC3339), e.ModTime.UTC().Format(time.RFC3339)))
		}
	}
	return strings.Join(p, ", ")
}

// writeSumLine writes one sha256sum -c line, escaping names with a
// newline or a backslash the way sha256sum itself does.
func writeSumLine(b *bytes.Buffer, sum, name string) {
	if strings.ContainsAny(name, "\n\\") {
		name = strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(name)
		b.WriteByte('\\')
	}
	b.WriteString(sum)
	b.WriteString("  ")
	b.WriteString(name)
	b.WriteByte('\n')
}

// sha256Check runs sha256sum -c in target and returns the names that
// failed.
func sha256Check(ctx context.Context, t transport.Transport, target string, sums *bytes.Buffer) ([]string, error) {
	cmd := transport.Command{Argv: []string{"sha256sum", "--check", "--quiet", "-"}, Dir: target, Stdin: sums, MaxOutput: 4 << 20}
	r, err := t.Run(ctx, cmd)
	if err != nil {
		return nil, fmt.Errorf("host %q: sha256sum in %s: %w", t.Host(), target, err)
	}
	var bad []string
	for _, line := range strings.Split(string(r.Stdout), "\n") {
		if i := strings.LastIndex(line, ": FAILED"); i > 0 {
			name := line[:i]
			if strings.HasPrefix(name, `\`) {
				name = strings.NewReplacer(`\\`, `\`, `\n`, "\n").Replace(name[1:])
			}
			bad = append(bad, name)
		}
	}
	if r.ExitStatus != 0 && len(bad) == 0 {
		return nil, fmt.Errorf("host %q: sha256sum in %s: %w", t.Host(), target, r.Err(t.Host(), cmd.Argv))
	}
	return bad, nil
}
