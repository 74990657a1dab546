package archive

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// remoteExtractor pipes checked members, as a fresh plain tar stream, into
// GNU tar on the target host.
type remoteExtractor struct {
	t    transport.Transport
	tw   *tar.Writer
	bw   *bufio.Writer
	pw   *io.PipeWriter
	done chan error
	buf  []byte
	// dot: the archive stores its root as "./"; the other names then get
	// "./" again, or GNU tar restores the root's mtime too early.
	dot bool
	// abortErr is the remote tar's result after an abort.
	abortErr error
}

var _ extractor = (*remoteExtractor)(nil)

// remoteTarScript runs the extraction on the target host: it enters the
// target with cd -P and checks that it is still the directory that
// checkRemoteTarget resolved ($2), so that a parent replaced in between
// by a symlink cannot send the files elsewhere; GNU tar then works
// relative to that directory, whatever happens to its path. -p keeps
// modes; owners are kept by GNU tar when it runs as root (or with
// --same-owner). --overwrite is never given: GNU tar then unlinks an
// existing file before creating it, so a symlink in the target is
// replaced, not written through. (--keep-old-files is not used for
// !Overwrite either: it also skips the metadata of existing directories;
// checkRemoteTarget refuses existing files instead.) A target that
// checkRemoteTarget created (private while it is filled) gets, when the
// archive has no member for it, the mode mkdir would have given it
// ($3 = 1): chmod's "=rwx" without a "who" leaves the umask's bits alone.
const remoteTarScript = `cd -P -- "$1" || exit 3
now=$(pwd -P)
if [ "$now" != "$2" ]; then
  printf 'now resolves to %s, not %s\n' "$now" "$2" >&2
  exit 3
fi
fix=$3
shift 3
tar -x -p -f - "$@" || exit
if [ "$fix" = 1 ]; then chmod =rwx . || exit; fi`

// errTargetMovedStatus is remoteTarScript's exit status when the target
// is no longer the directory that was checked (GNU tar's own are 0-2).
const errTargetMovedStatus = 3

// remoteTarArgv is the extracting command for target dir, as checked
// (tgt): remoteTarScript with tar's own options after its three arguments.
func remoteTarArgv(dir string, tgt checkedTarget, opts ExtractOptions) []string {
	fix := "0"
	if (tgt.created || opts.CreatedTarget) && !tgt.rootMember {
		fix = "1"
	}
	return append([]string{"/bin/sh", "-c", remoteTarScript, "sh", dir, tgt.root, fix}, tarOptions(opts)...)
}

// tarOptions are the options given to the remote tar besides -x -p -f -.
func tarOptions(opts ExtractOptions) []string {
	if opts.SameOwner {
		return []string{"--same-owner"}
	}
	return nil
}

func startRemoteExtractor(ctx context.Context, t transport.Transport, dir string, tgt checkedTarget, opts ExtractOptions) *remoteExtractor {
	pr, pw := io.Pipe()
	bw := bufio.NewWriterSize(pw, 256<<10)
	x := &remoteExtractor{t: t, tw: tar.NewWriter(bw), bw: bw, pw: pw, done: make(chan error, 1), buf: make([]byte, 256<<10)}
	argv := remoteTarArgv(dir, tgt, opts)
	go func() {
		res, err := t.Run(ctx, transport.Command{Argv: argv, Stdin: pr})
		if err == nil {
			err = remoteTarErr(t.Host(), dir, res, opts)
		}
		pr.CloseWithError(errSinkEnded)
		x.done <- err
	}()
	return x
}

// remoteTarErr names what failed in remoteTarScript: the target check,
// or tar (reported as tar's, not as the script's).
func remoteTarErr(host, dir string, res transport.Result, opts ExtractOptions) error {
	if res.ExitStatus == 0 {
		return nil
	}
	msg := strings.TrimSpace(string(res.Stderr))
	if res.ExitStatus == errTargetMovedStatus {
		return fmt.Errorf("%w: target %s on host %q was moved or replaced after it was checked (%s); nothing was extracted",
			ErrUnsafe, dir, host, msg)
	}
	return res.Err(host, append([]string{"tar", "-x", "-p", "-f", "-"}, tarOptions(opts)...))
}

func (x *remoteExtractor) add(name string, h *tar.Header, r io.Reader) error {
	n := cleanHeader(name, h)
	switch {
	case name == ".":
		n.Name, x.dot = "./", true
	case x.dot:
		n.Name = "./" + n.Name
		if n.Typeflag == tar.TypeLink {
			n.Linkname = "./" + n.Linkname
		}
	}
	if err := x.tw.WriteHeader(n); err != nil {
		return x.failed(err)
	}
	if r != nil {
		if _, err := io.CopyBuffer(x.tw, r, x.buf); err != nil {
			return x.failed(err)
		}
	}
	return nil
}

// failed returns the remote tar's error when it is the cause.
func (x *remoteExtractor) failed(err error) error {
	if errors.Is(err, errSinkEnded) || errors.Is(err, io.ErrClosedPipe) {
		if derr := <-x.done; derr != nil {
			x.done <- derr
			return derr
		}
		x.done <- nil
	}
	return err
}

func (x *remoteExtractor) finish() error {
	err := x.tw.Close()
	if err == nil {
		err = x.bw.Flush()
	}
	_ = x.pw.Close()
	if derr := <-x.done; derr != nil {
		return derr
	}
	return err
}

func (x *remoteExtractor) abort() {
	_ = x.pw.CloseWithError(errors.New("extraction aborted"))
	// The remote tar is killed (its input failed); its own error says
	// nothing more than the reason for aborting.
	x.abortErr = <-x.done
}

// targetDirs lists the directories the archive's members are written into
// (their parents, and directory members), relative, sorted.
func targetDirs(m *Manifest) []string {
	set := map[string]bool{}
	for _, e := range m.Entries {
		name := path.Clean(e.Name)
		if e.Type == TypeDir && name != "." {
			set[name] = true
		}
		for d := path.Dir(name); d != "." && d != "/" && !set[d]; d = path.Dir(d) {
			set[d] = true
		}
	}
	out := make([]string, 0, len(set))
	for d := range set {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// checkedTarget is what checkRemoteTarget found of the target.
type checkedTarget struct {
	root       string // the target's resolved path
	created    bool   // the target did not exist: made private (0700) to be filled
	rootMember bool   // the archive has a member for the target itself (".")
}

// checkRemoteTargetScript creates the target when missing (as
// makeTargetScript does), prints whether it did, the target's resolved
// path, and the resolved path of every directory read from stdin
// (relative to the target).
const checkRemoteTargetScript = `if [ -e "$1" ] || [ -L "$1" ]; then made=0; else
  ` + makeTargetScript + ` || exit
  made=1
fi
cd -P -- "$1" && printf '%s\0' "$made" && realpath -z -- . && xargs -0 -r realpath -z -m --`

// makeTargetScript makes the missing directory $1: its parents as mkdir -p
// does, $1 itself empty and 0700, so that no other user can put a symlink
// in it while it is filled.
const makeTargetScript = `p=${1%/*}; mkdir -p -- "${p:-/}" && mkdir -m 700 -- "$1"`

// MakeTarget makes the missing target directory dir on t as Extract
// does: private (0700) until an Extract with CreatedTarget has filled it.
// It fails when dir exists.
func MakeTarget(ctx context.Context, t transport.Transport, dir string) error {
	if err := checkAbs("target directory", dir); err != nil {
		return err
	}
	_, err := transport.RunOK(ctx, t, transport.Command{Argv: []string{"/bin/sh", "-c", makeTargetScript, "sh", cleanAbs(dir)}})
	return err
}

// checkRemoteTarget creates the target on t and resolves, there, every
// directory the archive writes into: when a symlink already in the target
// leads one of them outside it, the extraction is refused before anything
// is written.
func checkRemoteTarget(ctx context.Context, t transport.Transport, dir string, m *Manifest, overwrite bool) (checkedTarget, error) {
	var tgt checkedTarget
	for _, e := range m.Entries {
		if _, err := safeName(m.Info.File, e.Name); err != nil {
			return tgt, err
		}
		if path.Clean(e.Name) == "." {
			tgt.rootMember = true
		}
	}
	dirs := targetDirs(m)
	var in bytes.Buffer
	for _, d := range dirs {
		in.WriteString(d)
		in.WriteByte(0)
	}
	var out bytes.Buffer
	_, err := transport.RunOK(ctx, t, transport.Command{
		Argv:   []string{"/bin/sh", "-c", checkRemoteTargetScript, "sh", dir},
		Stdin:  &in,
		Stdout: &out,
	})
	if err != nil {
		return tgt, fmt.Errorf("checking target %s: %w", dir, err)
	}
	got := strings.Split(strings.TrimSuffix(out.String(), "\x00"), "\x00")
	if len(got) != len(dirs)+2 {
		return tgt, fmt.Errorf("checking target %s on host %q: realpath returned %d paths for %d", dir, t.Host(), len(got)-1, len(dirs)+1)
	}
	tgt.created, tgt.root = got[0] == "1", got[1]
	for i, d := range dirs {
		r := got[i+2]
		if tgt.root != "/" && r != tgt.root && !strings.HasPrefix(r, tgt.root+"/") {
			return tgt, fmt.Errorf("%w: target %s on host %q: %s resolves to %s, outside the target (a symlink is in the way)",
				ErrUnsafe, dir, t.Host(), d, r)
		}
	}
	if overwrite {
		return tgt, nil
	}
	return tgt, checkNoFiles(ctx, t, dir, m)
}

// checkNoFiles refuses an extraction without overwrite when a
// non-directory member already exists in the target.
func checkNoFiles(ctx context.Context, t transport.Transport, dir string, m *Manifest) error {
	var in bytes.Buffer
	for _, e := range m.Entries {
		if e.Type != TypeDir {
			in.WriteString(path.Clean(e.Name))
			in.WriteByte(0)
		}
	}
	if in.Len() == 0 {
		return nil
	}
	script := `cd -- "$1" && xargs -0 -r sh -c 'for f do if [ -e "$f" ] || [ -L "$f" ]; then printf "%s\0" "$f"; fi; done' sh`
	var out bytes.Buffer
	if _, err := transport.RunOK(ctx, t, transport.Command{
		Argv:   []string{"/bin/sh", "-c", script, "sh", dir},
		Stdin:  &in,
		Stdout: &out,
	}); err != nil {
		return fmt.Errorf("checking target %s: %w", dir, err)
	}
	if out.Len() == 0 {
		return nil
	}
	found := strings.Split(strings.TrimSuffix(out.String(), "\x00"), "\x00")
	more := ""
	if len(found) > 3 {
		more = fmt.Sprintf(" and %d more", len(found)-3)
		found = found[:3]
	}
	return fmt.Errorf("target %s on host %q already holds %s%s (extract with overwrite to replace them)",
		dir, t.Host(), strings.Join(found, ", "), more)
}
