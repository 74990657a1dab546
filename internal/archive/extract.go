package archive

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// Extract writes the archive at archivePath on src into targetDir on dst.
//
// Every member is checked in Go before anything is written: no absolute
// names, no "..", nothing under a symlink the archive itself created, hard
// links only to members already extracted, no character or block devices
// unless opts.AllowDevices, and the MaxBytes/MaxFiles limits (ErrUnsafe,
// ErrLimit). When the archive has a manifest, every member must match it
// in order, name, type, size and content hash, and the whole file its
// SHA-256 (ErrCorrupt); a failure stops the extraction at that member.
//
// A local target (no sudo) is written natively through os.Root, which also
// refuses any path that resolves outside targetDir through symlinks already
// there. A remote target gets the checked stream, re-written as a plain
// tar, piped into "tar -xpf -" run in targetDir on that host; before that,
// every directory the archive writes into is resolved there (realpath) and
// the extraction is refused if one leads outside targetDir, and the tar is
// run only if targetDir still resolves to the directory checked. A
// targetDir that does not exist is created 0700 until it is filled (see
// ExtractOptions.CreatedTarget). Left open: another user who may write in
// an existing targetDir can still race the tar there.
//
// Owners are restored when running as root (locally, or the remote tar's
// user) or with SameOwner: by user and group name when the target knows
// the name, else by numeric id, like GNU tar. Modes and mtimes are always
// restored. Extract returns the archive's manifest (built from the archive
// when it has none).
func Extract(ctx context.Context, src transport.Transport, archivePath string, dst transport.Transport, targetDir string, opts ExtractOptions) (*Manifest, error) {
	m, err := extract(ctx, src, archivePath, dst, targetDir, opts)
	return m, maskErr(err, opts.Secrets)
}

func extract(ctx context.Context, src transport.Transport, archivePath string, dst transport.Transport, targetDir string, opts ExtractOptions) (*Manifest, error) {
	if err := checkAbs("archive", archivePath); err != nil {
		return nil, err
	}
	if err := checkAbs("target directory", targetDir); err != nil {
		return nil, err
	}
	if opts.MaxBytes < 0 || opts.MaxFiles < 0 {
		return nil, errors.New("extract limits must not be negative")
	}
	targetDir = cleanAbs(targetDir)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	man, err := ReadManifest(ctx, src, archivePath)
	if err != nil && !errors.Is(err, ErrMissing) {
		return nil, err
	}
	if err != nil {
		man = nil
	}
	if man != nil {
		// Refuse an archive whose manifest already shows an unsafe member
		// or a limit exceeded, before anything is written; the stream is
		// then held to the manifest member by member.
		if err := precheck(man, opts); err != nil {
			return nil, err
		}
	}
	var x extractor
	if directLocal(dst) {
		lx, err := newLocalExtractor(targetDir, opts)
		if err != nil {
			return nil, err
		}
		x = lx
	} else {
		if man == nil {
			// Without a manifest, a first pass learns (and checks) what
			// the archive holds, so that the target can be checked first;
			// the second pass must then match it exactly.
			if man, err = scanArchive(ctx, src, archivePath, opts); err != nil {
				return nil, err
			}
		}
		tgt, err := checkRemoteTarget(ctx, dst, targetDir, man, opts.Overwrite)
		if err != nil {
			return nil, err
		}
		x = startRemoteExtractor(ctx, dst, targetDir, tgt, opts)
	}
	built, err := readMembers(ctx, src, archivePath, opts, man, x.add)
	if err != nil {
		x.abort()
		return nil, fmt.Errorf("extract %s into %s on host %q: %w", archivePath, targetDir, dst.Host(), err)
	}
	if err := x.finish(); err != nil {
		return nil, fmt.Errorf("extract %s into %s on host %q: %w", archivePath, targetDir, dst.Host(), err)
	}
	if man == nil {
		man = built
	}
	return man, nil
}

// extractor writes checked members somewhere.
type extractor interface {
	// add writes one member; r gives a regular file's content.
	add(name string, h *tar.Header, r io.Reader) error
	// finish applies what waits for the end (directory modes and times)
	// or waits for the remote tar.
	finish() error
	abort()
}

// scanArchive reads the archive once, checking every member, and returns
// a manifest of it.
func scanArchive(ctx context.Context, src transport.Transport, p string, opts ExtractOptions) (*Manifest, error) {
	return readMembers(ctx, src, p, opts, nil, func(string, *tar.Header, io.Reader) error { return nil })
}

// readMembers streams the archive at p, checks each member (and, with a
// manifest, that it matches) and hands it to add. It returns a manifest
// built from what it read.
func readMembers(ctx context.Context, src transport.Transport, p string, opts ExtractOptions, man *Manifest,
	add func(string, *tar.Header, io.Reader) error) (*Manifest, error) {
	r, wait, err := openArchive(ctx, src, p)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	// failed prefers the source's own failure (missing file, lost
	// connection) over the parse error it caused.
	failed := func(err error) error {
		if werr := wait(); werr != nil {
			return werr
		}
		return err
	}
	hr := &hashingReader{r: r, h: sha256.New()}
	dec, err := newDecompressor(hr)
	if err != nil {
		return nil, failed(fmt.Errorf("%s: %w", p, err))
	}
	defer dec.close()
	v := newValidator(opts, man, p)
	built := &Manifest{Version: ManifestVersion, Info: Info{File: p, Format: dec.format}}
	tr := tar.NewReader(dec)
	fh := sha256.New()
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, failed(corrupt(p, "%v", err))
		}
		if h.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		name, e, want, err := v.check(h)
		if err != nil {
			return nil, err
		}
		var content io.Reader
		if e.Type == TypeFile {
			fh.Reset()
			content = io.TeeReader(io.LimitReader(tr, h.Size), fh)
		}
		if err := add(name, h, content); err != nil {
			return nil, err
		}
		if e.Type == TypeFile {
			// Whatever add did not read still counts for the hash.
			if _, err := io.Copy(fh, io.LimitReader(tr, h.Size)); err != nil {
				return nil, failed(corrupt(p, "%s: %v", e.Name, err))
			}
			e.SHA256 = hex.EncodeToString(fh.Sum(nil))
			if man != nil && e.SHA256 != want.SHA256 {
				return nil, corrupt(p, "%s: content SHA-256 %s, the manifest says %s", e.Name, e.SHA256, want.SHA256)
			}
		}
		built.Entries = append(built.Entries, e)
	}
	if err := v.done(); err != nil {
		return nil, err
	}
	if err := dec.finish(hr); err != nil {
		return nil, failed(corrupt(p, "%v", err))
	}
	if err := wait(); err != nil {
		return nil, err
	}
	sum := hex.EncodeToString(hr.h.Sum(nil))
	if man != nil && (hr.n != man.Info.Bytes || sum != man.Info.SHA256) {
		return nil, corrupt(p, "file is %d bytes with SHA-256 %s, the manifest says %d bytes, %s", hr.n, sum, man.Info.Bytes, man.Info.SHA256)
	}
	built.Info.Bytes, built.Info.SHA256, built.Info.Files = hr.n, sum, int64(len(built.Entries))
	built.Version = manifestVersionFor(built.Entries)
	return built, nil
}

// precheck runs the member checks over a manifest's entries.
func precheck(m *Manifest, opts ExtractOptions) error {
	v := newValidator(opts, nil, m.Info.File)
	for _, e := range m.Entries {
		if _, _, _, err := v.check(headerOf(e)); err != nil {
			return err
		}
	}
	return nil
}

// headerOf is the tar header a manifest entry stands for.
func headerOf(e Entry) *tar.Header {
	h := &tar.Header{Name: e.Name, Linkname: e.Linkname, Size: e.Size, Mode: e.Mode,
		Uid: e.UID, Gid: e.GID, Uname: e.Uname, Gname: e.Gname, ModTime: e.ModTime,
		Devmajor: e.Devmajor, Devminor: e.Devminor}
	switch e.Type {
	case TypeFile:
		h.Typeflag = tar.TypeReg
	case TypeDir:
		h.Typeflag = tar.TypeDir
	case TypeSymlink:
		h.Typeflag = tar.TypeSymlink
	case TypeHardlink:
		h.Typeflag = tar.TypeLink
	case TypeChar:
		h.Typeflag = tar.TypeChar
	case TypeBlock:
		h.Typeflag = tar.TypeBlock
	case TypeFIFO:
		h.Typeflag = tar.TypeFifo
	default:
		h.Typeflag = 0xff // refused by check
	}
	return h
}

// validator decides whether members are safe to extract.
type validator struct {
	opts     ExtractOptions
	chk      *manifestCheck
	p        string
	symlinks map[string]bool   // members extracted as symlinks
	nodes    map[string]string // non-directory members extracted, by type
	files    int64
	bytes    int64
}

func newValidator(opts ExtractOptions, man *Manifest, p string) *validator {
	v := &validator{opts: opts, p: p, symlinks: map[string]bool{}, nodes: map[string]string{}}
	if man != nil {
		v.chk = newManifestCheck(man, p)
	}
	return v
}

func unsafeErr(p, name, format string, args ...any) error {
	return fmt.Errorf("%w: %s: member %q %s", ErrUnsafe, p, name, fmt.Sprintf(format, args...))
}

// safeName cleans a member name; it refuses absolute names and "..".
func safeName(p, raw string) (string, error) {
	if raw == "" {
		return "", unsafeErr(p, raw, "has an empty name")
	}
	if strings.HasPrefix(raw, "/") {
		return "", unsafeErr(p, raw, "has an absolute name")
	}
	for _, part := range strings.Split(raw, "/") {
		if part == ".." {
			return "", unsafeErr(p, raw, "has a \"..\" component")
		}
	}
	return path.Clean(raw), nil
}

// check validates a member and returns its cleaned name, its entry and
// (with a manifest) the manifest's entry for it.
func (v *validator) check(h *tar.Header) (string, Entry, Entry, error) {
	name, err := safeName(v.p, h.Name)
	if err != nil {
		return "", Entry{}, Entry{}, err
	}
	e, err := entryOf(h)
	if err != nil {
		return "", e, Entry{}, unsafeErr(v.p, h.Name, "has an unsupported type %q", h.Typeflag)
	}
	if name == "." && e.Type != TypeDir {
		return "", e, Entry{}, unsafeErr(v.p, h.Name, "names the target directory itself")
	}
	for d := path.Dir(name); d != "." && d != "/"; d = path.Dir(d) {
		if v.symlinks[d] {
			return "", e, Entry{}, unsafeErr(v.p, h.Name, "would be written through the symlink %q", d)
		}
	}
	switch e.Type {
	case TypeChar, TypeBlock:
		if !v.opts.AllowDevices {
			return "", e, Entry{}, unsafeErr(v.p, h.Name, "is a device node (not allowed)")
		}
	case TypeHardlink:
		target, err := safeName(v.p, h.Linkname)
		if err != nil {
			return "", e, Entry{}, unsafeErr(v.p, h.Name, "is a hard link to %q outside the target", h.Linkname)
		}
		typ, ok := v.nodes[target]
		if !ok {
			return "", e, Entry{}, unsafeErr(v.p, h.Name, "is a hard link to %q, which is not an earlier member", h.Linkname)
		}
		if typ == TypeDir {
			return "", e, Entry{}, unsafeErr(v.p, h.Name, "is a hard link to the directory %q", h.Linkname)
		}
		h.Linkname = target
	}
	v.files++
	if v.opts.MaxFiles > 0 && v.files > v.opts.MaxFiles {
		return "", e, Entry{}, fmt.Errorf("%w: %s: more than %d members", ErrLimit, v.p, v.opts.MaxFiles)
	}
	if e.Type == TypeFile {
		v.bytes += h.Size
		if v.opts.MaxBytes > 0 && v.bytes > v.opts.MaxBytes {
			return "", e, Entry{}, fmt.Errorf("%w: %s: contents exceed %d bytes (at %s)", ErrLimit, v.p, v.opts.MaxBytes, name)
		}
	}
	var want Entry
	if v.chk != nil {
		if want, err = v.chk.next(e); err != nil {
			return "", e, want, err
		}
	}
	// Record what the target will hold at this name.
	delete(v.symlinks, name)
	delete(v.nodes, name)
	switch e.Type {
	case TypeDir:
	case TypeSymlink:
		v.symlinks[name] = true
		v.nodes[name] = TypeSymlink
	case TypeHardlink:
		typ := v.nodes[path.Clean(h.Linkname)]
		if typ == TypeSymlink {
			v.symlinks[name] = true
		}
		v.nodes[name] = typ
	default:
		v.nodes[name] = e.Type
	}
	return name, e, want, nil
}

func (v *validator) done() error {
	if v.chk != nil {
		return v.chk.done()
	}
	return nil
}

// chownWanted says whether owners are restored.
func chownWanted(opts ExtractOptions, euid int) bool { return opts.SameOwner || euid == 0 }

// atime used when restoring times: the archive has none.
func restoreTimes(h *tar.Header) (time.Time, time.Time) {
	m := h.ModTime.Truncate(time.Second)
	return m, m
}
