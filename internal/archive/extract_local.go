package archive

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path"
	"strconv"
	"strings"
	"syscall"
)

// localExtractor writes members under a directory of this machine through
// os.Root: no path, even through a symlink already in the target, can
// resolve outside it.
type localExtractor struct {
	root      *os.Root
	overwrite bool
	chown     bool
	// fixMode: the caller made the target 0700 (CreatedTarget); without a
	// member for it, it gets mkdir's mode when filled.
	fixMode bool
	dirs    []dirMeta
	made    map[string]bool
	users   map[string]int
	groups  map[string]int
	buf     []byte
}

type dirMeta struct {
	name string
	h    *tar.Header
}

var _ extractor = (*localExtractor)(nil)

func newLocalExtractor(dir string, opts ExtractOptions) (*localExtractor, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &localExtractor{
		root:      root,
		overwrite: opts.Overwrite,
		fixMode:   opts.CreatedTarget,
		chown:     chownWanted(opts, os.Geteuid()),
		made:      map[string]bool{".": true},
		users:     map[string]int{},
		groups:    map[string]int{},
		buf:       make([]byte, 256<<10),
	}, nil
}

func (x *localExtractor) add(name string, h *tar.Header, r io.Reader) error {
	if err := x.write(name, h, r); err != nil {
		if strings.Contains(err.Error(), "path escapes from parent") {
			// os.Root refused: a symlink already in the target leads out.
			return fmt.Errorf("%w: %s: a symlink in the target leads outside it: %v", ErrUnsafe, name, err)
		}
		var pe *fs.PathError
		var le *os.LinkError
		if errors.As(err, &pe) || errors.As(err, &le) {
			// Keep the target-relative name in the message.
			return fmt.Errorf("%s: %w", name, err)
		}
		return err
	}
	return nil
}

func (x *localExtractor) write(name string, h *tar.Header, r io.Reader) error {
	if name == "." {
		x.fixMode = false
		x.dirs = append(x.dirs, dirMeta{name, h})
		return nil
	}
	if err := x.parent(name); err != nil {
		return err
	}
	switch h.Typeflag {
	case tar.TypeDir:
		err := x.root.Mkdir(name, 0o700)
		if errors.Is(err, fs.ErrExist) {
			fi, lerr := x.root.Lstat(name)
			switch {
			case lerr != nil:
				return lerr
			case fi.IsDir():
				err = nil
			case x.overwrite:
				if err = x.root.Remove(name); err == nil {
					err = x.root.Mkdir(name, 0o700)
				}
			default:
				return fmt.Errorf("%s: a non-directory is in the way (extract with overwrite to replace it)", name)
			}
		}
		if err != nil {
			return err
		}
		x.made[name] = true
		x.dirs = append(x.dirs, dirMeta{name, h})
		return nil
	case tar.TypeReg, tar.TypeGNUSparse:
		var f *os.File
		err := x.replace(name, func() (err error) {
			f, err = x.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			return err
		})
		if err != nil {
			return err
		}
		n, err := io.CopyBuffer(f, r, x.buf)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		if n != h.Size {
			return fmt.Errorf("%s: %w: %d of %d bytes", name, ErrCorrupt, n, h.Size)
		}
		return x.meta(name, h, false)
	case tar.TypeSymlink:
		if err := x.replace(name, func() error { return x.root.Symlink(h.Linkname, name) }); err != nil {
			return err
		}
		return x.meta(name, h, true)
	case tar.TypeLink:
		return x.replace(name, func() error { return x.root.Link(h.Linkname, name) })
	case tar.TypeFifo, tar.TypeChar, tar.TypeBlock:
		mode := uint32(syscall.S_IFIFO)
		var dev uint64
		switch h.Typeflag {
		case tar.TypeChar:
			mode = syscall.S_IFCHR
		case tar.TypeBlock:
			mode = syscall.S_IFBLK
		}
		if h.Typeflag != tar.TypeFifo {
			dev = makedev(uint64(h.Devmajor), uint64(h.Devminor))
		}
		if err := x.replace(name, func() error { return mknodAt(x.root, name, mode|0o600, dev) }); err != nil {
			return err
		}
		return x.meta(name, h, false)
	}
	return fmt.Errorf("%s: unsupported member type %q", name, h.Typeflag)
}

// parent makes sure the member's directory exists.
func (x *localExtractor) parent(name string) error {
	dir := path.Dir(name)
	if x.made[dir] {
		return nil
	}
	if err := x.root.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for d := dir; d != "." && !x.made[d]; d = path.Dir(d) {
		x.made[d] = true
	}
	return nil
}

// replace runs create; when the name exists and overwriting is allowed, it
// removes what is there (never a directory) and runs create again.
func (x *localExtractor) replace(name string, create func() error) error {
	err := create()
	if !errors.Is(err, fs.ErrExist) {
		return err
	}
	if !x.overwrite {
		return fmt.Errorf("%s: already exists in the target (extract with overwrite to replace it)", name)
	}
	fi, lerr := x.root.Lstat(name)
	if lerr != nil {
		return lerr
	}
	if fi.IsDir() {
		return fmt.Errorf("%s: a directory is in the way", name)
	}
	if err := x.root.Remove(name); err != nil {
		return err
	}
	return create()
}

// meta restores owner, mode and mtime of a member just created.
func (x *localExtractor) meta(name string, h *tar.Header, symlink bool) error {
	if x.chown {
		if err := x.root.Lchown(name, x.uid(h), x.gid(h)); err != nil {
			return err
		}
	}
	if symlink {
		return lutimesAt(x.root, name, h.ModTime)
	}
	if err := x.root.Chmod(name, fileMode(h.Mode, x.chown)); err != nil {
		return err
	}
	atime, mtime := restoreTimes(h)
	return x.root.Chtimes(name, atime, mtime)
}

func (x *localExtractor) finish() error {
	defer func() { _ = x.root.Close() }()
	for i := len(x.dirs) - 1; i >= 0; i-- {
		d := x.dirs[i]
		if err := x.meta(d.name, d.h, false); err != nil {
			return fmt.Errorf("%s: %w", d.name, err)
		}
	}
	if x.fixMode {
		return x.root.Chmod(".", 0o777&^umask())
	}
	return nil
}

// umask is this process's umask (from /proc/self/status: reading it with
// syscall.Umask would change it for a moment, for every thread); 022
// where it cannot be read.
func umask() os.FileMode {
	b, err := os.ReadFile("/proc/self/status")
	if err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "Umask:"); ok {
				if n, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32); err == nil {
					return os.FileMode(n) & 0o777
				}
			}
		}
	}
	return 0o022
}

func (x *localExtractor) abort() { _ = x.root.Close() }

// uid maps the member's owner like GNU tar: by name when this system knows
// it, else by number.
func (x *localExtractor) uid(h *tar.Header) int {
	if h.Uname == "" {
		return h.Uid
	}
	id, ok := x.users[h.Uname]
	if !ok {
		id = -1
		if u, err := user.Lookup(h.Uname); err == nil {
			if n, err := strconv.Atoi(u.Uid); err == nil {
				id = n
			}
		}
		x.users[h.Uname] = id
	}
	if id < 0 {
		return h.Uid
	}
	return id
}

func (x *localExtractor) gid(h *tar.Header) int {
	if h.Gname == "" {
		return h.Gid
	}
	id, ok := x.groups[h.Gname]
	if !ok {
		id = -1
		if g, err := user.LookupGroup(h.Gname); err == nil {
			if n, err := strconv.Atoi(g.Gid); err == nil {
				id = n
			}
		}
		x.groups[h.Gname] = id
	}
	if id < 0 {
		return h.Gid
	}
	return id
}

// fileMode converts tar mode bits; setuid and setgid only survive when the
// owner was restored too.
func fileMode(m int64, owned bool) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	if m&0o4000 != 0 && owned {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 && owned {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

func makedev(major, minor uint64) uint64 {
	return (major&0xfffff000)<<32 | (major&0xfff)<<8 | (minor&0xffffff00)<<12 | minor&0xff
}
