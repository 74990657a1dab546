package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// ReadManifest reads and parses the manifest beside the archive at p. A
// missing manifest is ErrMissing; an unreadable one is ErrCorrupt. Info.File
// is set to p.
func ReadManifest(ctx context.Context, t transport.Transport, p string) (*Manifest, error) {
	data, err := readFile(ctx, t, ManifestPath(p))
	if err != nil {
		return nil, err
	}
	return parseManifest(data, p)
}

func parseManifest(data []byte, p string) (*Manifest, error) {
	var m Manifest
	if err := decodeManifest(data, &m); err != nil {
		return nil, fmt.Errorf("%w: manifest of %s: %v", ErrCorrupt, p, err)
	}
	if m.Version < manifestVersionUTF8 || m.Version > ManifestVersion {
		if m.Version > ManifestVersion {
			return nil, fmt.Errorf("%w: manifest of %s: version %d is newer than this provider reads (%d): it was written by a newer backupctl",
				ErrCorrupt, p, m.Version, ManifestVersion)
		}
		return nil, fmt.Errorf("%w: manifest of %s: unsupported version %d", ErrCorrupt, p, m.Version)
	}
	m.Info.File = p
	return &m, nil
}

// Verify checks the archive at dstPath against its manifest and returns
// the manifest. mode "none" only reads the manifest; "size" (also "")
// compares the file size; "checksum" the size and SHA-256 of the file
// (computed on the host that holds it when it has sha256sum, so nothing
// crosses the network); "deep" also decompresses the archive and checks
// every member against the manifest. A missing archive or manifest is
// ErrMissing; a mismatch is ErrCorrupt (the manifest is still returned).
func Verify(ctx context.Context, t transport.Transport, dstPath string, mode VerifyMode) (*Manifest, error) {
	if !mode.Valid() {
		return nil, fmt.Errorf("unknown verify mode %q (size, checksum, deep or none)", mode)
	}
	m, err := ReadManifest(ctx, t, dstPath)
	if err != nil {
		return nil, err
	}
	return m, Check(ctx, t, m, mode)
}

// Check verifies the archive at m.Info.File against the manifest m (as
// returned by List or ReadManifest) without reading the manifest again;
// see Verify for the modes and errors.
func Check(ctx context.Context, t transport.Transport, m *Manifest, mode VerifyMode) error {
	if !mode.Valid() {
		return fmt.Errorf("unknown verify mode %q (size, checksum, deep or none)", mode)
	}
	p := m.Info.File
	switch mode {
	case VerifyNone:
		return nil
	case VerifySize, "":
		size, err := fileSize(ctx, t, p)
		if err != nil {
			return err
		}
		if size != m.Info.Bytes {
			return corrupt(p, "size is %d bytes, the manifest says %d", size, m.Info.Bytes)
		}
		return nil
	case VerifyChecksum:
		size, sum, err := fileSum(ctx, t, p)
		if err != nil {
			return err
		}
		if size >= 0 && size != m.Info.Bytes {
			return corrupt(p, "size is %d bytes, the manifest says %d", size, m.Info.Bytes)
		}
		if sum != m.Info.SHA256 {
			return corrupt(p, "SHA-256 is %s, the manifest says %s", sum, m.Info.SHA256)
		}
		return nil
	}
	return verifyDeep(ctx, t, p, m)
}

func corrupt(p, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrCorrupt, p, fmt.Sprintf(format, args...))
}

func fileSize(ctx context.Context, t transport.Transport, p string) (int64, error) {
	if directLocal(t) {
		fi, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			return 0, fmt.Errorf("%w: %s", ErrMissing, p)
		}
		if err != nil {
			return 0, err
		}
		return fi.Size(), nil
	}
	res, err := t.Run(ctx, transport.Command{Argv: []string{"/bin/sh", "-c", `[ -f "$1" ] || exit 44; wc -c < "$1"`, "sh", p}})
	if err != nil {
		return 0, err
	}
	if res.ExitStatus == exitMissing {
		return 0, fmt.Errorf("%w: %s on host %q", ErrMissing, p, t.Host())
	}
	if err := res.Err(t.Host(), []string{"wc", "-c", p}); err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(res.Stdout)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("host %q: size of %s: %q", t.Host(), p, res.Stdout)
	}
	return n, nil
}

// fileSum returns the size (or -1 when unknown) and SHA-256 of a file.
func fileSum(ctx context.Context, t transport.Transport, p string) (int64, string, error) {
	if directLocal(t) {
		return localSum(p)
	}
	// Hash where the data is: one line of output instead of the archive.
	script := `[ -f "$1" ] || exit 44; command -v sha256sum >/dev/null 2>&1 || exit 45; wc -c < "$1" && sha256sum < "$1"`
	res, err := t.Run(ctx, transport.Command{Argv: []string{"/bin/sh", "-c", script, "sh", p}})
	if err != nil {
		return 0, "", err
	}
	switch res.ExitStatus {
	case exitMissing:
		return 0, "", fmt.Errorf("%w: %s on host %q", ErrMissing, p, t.Host())
	case 45:
		return streamSum(ctx, t, p)
	}
	if err := res.Err(t.Host(), []string{"sha256sum", p}); err != nil {
		return 0, "", err
	}
	f := strings.Fields(string(res.Stdout))
	if len(f) < 2 || len(f[1]) != 64 {
		return 0, "", fmt.Errorf("host %q: checksum of %s: unexpected output %q", t.Host(), p, res.Stdout)
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return 0, "", fmt.Errorf("host %q: size of %s: %q", t.Host(), p, f[0])
	}
	return n, f[1], nil
}

// streamSum hashes a remote file here (for hosts without sha256sum).
func streamSum(ctx context.Context, t transport.Transport, p string) (int64, string, error) {
	r, wait, err := openArchive(ctx, t, p)
	if err != nil {
		return 0, "", err
	}
	defer r.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(h, r, make([]byte, 1<<20))
	if err == nil {
		err = wait()
	}
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// localSum hashes a local file with large reads.
func localSum(p string) (int64, string, error) {
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return 0, "", fmt.Errorf("%w: %s", ErrMissing, p)
	}
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(h, f, make([]byte, 4<<20))
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// hashingReader hashes and counts what is read through it.
type hashingReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	return n, err
}

// verifyDeep reads the whole archive and compares it with m.
func verifyDeep(ctx context.Context, t transport.Transport, p string, m *Manifest) error {
	r, wait, err := openArchive(ctx, t, p)
	if err != nil {
		return err
	}
	defer r.Close()
	hr := &hashingReader{r: r, h: sha256.New()}
	dec, err := newDecompressor(hr)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	defer dec.close()
	chk := newManifestCheck(m, p)
	tr := tar.NewReader(dec)
	h := sha256.New()
	buf := make([]byte, 256<<10)
	for {
		hd, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if werr := wait(); werr != nil {
				return werr
			}
			return corrupt(p, "%v", err)
		}
		if hd.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		e, err := entryOf(hd)
		if err != nil {
			return corrupt(p, "%v", err)
		}
		want, err := chk.next(e)
		if err != nil {
			return err
		}
		if e.Type == TypeFile {
			h.Reset()
			if _, err := copyHashed(io.Discard, h, tr, buf); err != nil {
				if werr := wait(); werr != nil {
					return werr
				}
				return corrupt(p, "%s: %v", e.Name, err)
			}
			if got := hex.EncodeToString(h.Sum(nil)); got != want.SHA256 {
				return corrupt(p, "%s: content SHA-256 %s, the manifest says %s", e.Name, got, want.SHA256)
			}
		}
	}
	if err := chk.done(); err != nil {
		return err
	}
	// Read to the end of the file, so the whole-file hash covers it all.
	if err := dec.finish(hr); err != nil {
		if werr := wait(); werr != nil {
			return werr
		}
		return corrupt(p, "%v", err)
	}
	if err := wait(); err != nil {
		return err
	}
	if hr.n != m.Info.Bytes {
		return corrupt(p, "size is %d bytes, the manifest says %d", hr.n, m.Info.Bytes)
	}
	if got := hex.EncodeToString(hr.h.Sum(nil)); got != m.Info.SHA256 {
		return corrupt(p, "SHA-256 is %s, the manifest says %s", got, m.Info.SHA256)
	}
	return nil
}

// manifestCheck walks the manifest's entries in archive order.
type manifestCheck struct {
	m *Manifest
	p string
	i int
}

func newManifestCheck(m *Manifest, p string) *manifestCheck { return &manifestCheck{m: m, p: p} }

// next checks the next member against the manifest and returns the
// manifest's entry for it.
func (c *manifestCheck) next(e Entry) (Entry, error) {
	if c.i >= len(c.m.Entries) {
		return Entry{}, corrupt(c.p, "member %s is not in the manifest", e.Name)
	}
	want := c.m.Entries[c.i]
	c.i++
	if e.Name != want.Name || e.Type != want.Type || e.Size != want.Size || e.Linkname != want.Linkname {
		return want, corrupt(c.p, "member %d is %s %s (%d bytes), the manifest says %s %s (%d bytes)",
			c.i, e.Type, e.Name, e.Size, want.Type, want.Name, want.Size)
	}
	return want, nil
}

func (c *manifestCheck) done() error {
	if c.i != len(c.m.Entries) {
		return corrupt(c.p, "archive ends after %d members, the manifest lists %d", c.i, len(c.m.Entries))
	}
	return nil
}

// List returns the complete archives in dir on t (an archive file with its
// manifest beside it), newest first. Partial files, archives without a
// manifest and archives whose manifest cannot be used are not listed: see
// ListAll for those. A missing dir lists nothing.
func List(ctx context.Context, t transport.Transport, dir string) ([]Manifest, error) {
	ms, _, err := ListAll(ctx, t, dir)
	return ms, err
}

// Unlisted is an archive file (a regular "*.tar.gz" or "*.tar.zst") that
// List leaves out because nothing about it can be verified: its manifest
// is missing (Err wraps ErrMissing), or it cannot be parsed or is of a
// version this code does not read (Err wraps ErrCorrupt). The archive
// itself may well be intact: callers must not treat it as gone.
type Unlisted struct {
	File string
	Err  error
}

// ListAll is List plus the archive files in dir that List leaves out
// (sorted by file name). Partial files and manifests without their
// archive are in neither list.
func ListAll(ctx context.Context, t transport.Transport, dir string) ([]Manifest, []Unlisted, error) {
	if err := checkAbs("directory", dir); err != nil {
		return nil, nil, err
	}
	dir = cleanAbs(dir)
	var out []Manifest
	var unlisted []Unlisted
	add := func(name string, data []byte) {
		p := path.Join(dir, name)
		if data == nil {
			unlisted = append(unlisted, Unlisted{File: p,
				Err: fmt.Errorf("%w: %s has no manifest (%s is missing)", ErrMissing, p, ManifestPath(p))})
			return
		}
		m, err := parseManifest(data, p)
		if err != nil {
			unlisted = append(unlisted, Unlisted{File: p, Err: err})
			return
		}
		out = append(out, *m)
	}
	if directLocal(t) {
		ents, err := os.ReadDir(dir)
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, nil
		}
		if err != nil {
			return nil, nil, err
		}
		for _, e := range ents {
			name := e.Name()
			if !isArchiveName(name) {
				continue
			}
			if fi, err := os.Stat(path.Join(dir, name)); err != nil || !fi.Mode().IsRegular() {
				continue // removed meanwhile, or not a file
			}
			mp := path.Join(dir, name+ManifestSuffix)
			fi, err := os.Lstat(mp)
			switch {
			case errors.Is(err, os.ErrNotExist):
				add(name, nil)
				continue
			case err != nil:
				return nil, nil, err
			case !fi.Mode().IsRegular():
				unlisted = append(unlisted, Unlisted{File: path.Join(dir, name),
					Err: fmt.Errorf("%w: manifest of %s: %s is not a regular file", ErrCorrupt, path.Join(dir, name), mp)})
				continue
			}
			data, err := os.ReadFile(mp)
			if errors.Is(err, os.ErrNotExist) {
				add(name, nil) // removed meanwhile
				continue
			}
			if err != nil {
				return nil, nil, err
			}
			if data == nil {
				data = []byte{}
			}
			add(name, data)
		}
	} else {
		// One command prints, for every archive file, "name NUL" then
		// "M<size> NUL <manifest> NUL" (a regular manifest), "X NUL" (a
		// manifest that is not a regular file) or "N NUL" (no manifest).
		// The size keeps a damaged manifest holding NUL bytes from putting
		// the rest out of step.
		script := `cd -- "$1" 2>/dev/null || exit 0
for a in *` + FormatTarGz.Ext() + ` *` + FormatTarZst.Ext() + `; do
  [ -f "$a" ] || continue
  m="$a` + ManifestSuffix + `"
  if [ -f "$m" ] && [ ! -h "$m" ]; then
    n=$(wc -c < "$m") || exit 1
    printf '%s\0M%s\0' "$a" "$(printf '%s' "$n" | tr -d ' \t')" && cat -- "$m" && printf '\0' || exit 1
  elif [ -e "$m" ] || [ -h "$m" ]; then
    printf '%s\0X\0' "$a"
  else
    printf '%s\0N\0' "$a"
  fi
done`
		var buf bytes.Buffer
		_, err := transport.RunOK(ctx, t, transport.Command{Argv: []string{"/bin/sh", "-c", script, "sh", dir}, Stdout: &buf})
		if err != nil {
			return nil, nil, fmt.Errorf("list %s: %w", dir, err)
		}
		if err := parseListing(buf.Bytes(), dir, add, &unlisted); err != nil {
			return nil, nil, fmt.Errorf("list %s: %w", dir, err)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Info, out[j].Info
		if !a.Created.Equal(b.Created) {
			return a.Created.After(b.Created)
		}
		return a.File > b.File
	})
	sort.Slice(unlisted, func(i, j int) bool { return unlisted[i].File < unlisted[j].File })
	return out, unlisted, nil
}

// isArchiveName reports whether a file name is one of an archive.
func isArchiveName(name string) bool {
	for _, f := range []Format{FormatTarGz, FormatTarZst} {
		if strings.HasSuffix(name, f.Ext()) && len(name) > len(f.Ext()) {
			return true
		}
	}
	return false
}

// parseListing reads the remote listing of ListAll.
func parseListing(b []byte, dir string, add func(string, []byte), unlisted *[]Unlisted) error {
	field := func() (string, bool) {
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return "", false
		}
		f := string(b[:i])
		b = b[i+1:]
		return f, true
	}
	for len(b) > 0 {
		name, ok := field()
		if !ok {
			return fmt.Errorf("truncated listing")
		}
		kind, ok := field()
		if !ok || kind == "" || !isArchiveName(name) {
			return fmt.Errorf("unexpected listing output near %q", name)
		}
		switch kind[0] {
		case 'N':
			add(name, nil)
		case 'X':
			p := path.Join(dir, name)
			*unlisted = append(*unlisted, Unlisted{File: p,
				Err: fmt.Errorf("%w: manifest of %s: %s is not a regular file", ErrCorrupt, p, ManifestPath(p))})
		case 'M':
			n, err := strconv.Atoi(kind[1:])
			if err != nil || n < 0 || n+1 > len(b) || b[n] != 0 {
				// The manifest changed between its size and its content.
				return fmt.Errorf("the manifest of %s changed while it was read; try again", name)
			}
			data := append([]byte{}, b[:n]...)
			b = b[n+1:]
			add(name, data)
		default:
			return fmt.Errorf("unexpected listing output near %q", name)
		}
	}
	return nil
}

// Remove deletes the archive at dstPath, its manifest (first, so that the
// archive stops being listed) and any partial file. Missing files are not
// an error.
func Remove(ctx context.Context, t transport.Transport, dstPath string) error {
	if err := checkAbs("archive", dstPath); err != nil {
		return err
	}
	return removeFiles(ctx, t, dstPath)
}

func removeFiles(ctx context.Context, t transport.Transport, p string) error {
	files := []string{ManifestPath(p), p, PartialPath(p)}
	if directLocal(t) {
		for _, f := range files {
			if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
		return nil
	}
	_, err := transport.RunOK(ctx, t, transport.Command{Argv: append([]string{"rm", "-f", "--"}, files...)})
	return err
}
