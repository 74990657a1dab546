package archive

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"time"
)

// walker reads a local tree natively and feeds the builder: the fast path
// when the source is this machine and no sudo is needed.
type walker struct {
	ctx   context.Context
	b     *builder
	excl  *Matcher
	names *idNames
	links map[devIno]string
}

type devIno struct{ dev, ino uint64 }

func newWalker(ctx context.Context, b *builder, excl *Matcher) *walker {
	return &walker{ctx: ctx, b: b, excl: excl, names: newIDNames(), links: map[devIno]string{}}
}

// root archives abs under member name; exclude patterns apply when excl.
func (w *walker) root(abs, name string, excl bool) error {
	if excl && w.excl.Match(name) {
		return nil
	}
	fi, err := os.Lstat(abs)
	if err != nil {
		return err
	}
	return w.visit(abs, name, fi, excl)
}

func (w *walker) visit(abs, name string, fi fs.FileInfo, excl bool) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s: no stat data", abs)
	}
	h := &tar.Header{
		Name:    name,
		Mode:    int64(st.Mode & 0o7777),
		Uid:     int(st.Uid),
		Gid:     int(st.Gid),
		Uname:   w.names.user(st.Uid),
		Gname:   w.names.group(st.Gid),
		ModTime: time.Unix(st.Mtim.Sec, 0),
	}
	mode := fi.Mode()
	if !mode.IsDir() && st.Nlink > 1 && mode.Type() != fs.ModeSocket {
		key := devIno{st.Dev, st.Ino}
		if first, ok := w.links[key]; ok {
			h.Typeflag, h.Linkname = tar.TypeLink, first
			_, err := w.b.add(cleanHeader(name, h), nil)
			return err
		}
		w.links[key] = name
	}
	switch {
	case mode.IsDir():
		h.Typeflag = tar.TypeDir
		if _, err := w.b.add(cleanHeader(name, h), nil); err != nil {
			return err
		}
		return w.children(abs, name, excl)
	case mode.IsRegular():
		h.Typeflag, h.Size = tar.TypeReg, st.Size
		f, err := os.Open(abs)
		if err != nil {
			return err
		}
		_, err = w.b.add(cleanHeader(name, h), ctxReader{w.ctx, f})
		f.Close()
		return err
	case mode&fs.ModeSymlink != 0:
		target, err := os.Readlink(abs)
		if err != nil {
			return err
		}
		h.Typeflag, h.Linkname = tar.TypeSymlink, target
	case mode&fs.ModeNamedPipe != 0:
		h.Typeflag = tar.TypeFifo
	case mode&fs.ModeDevice != 0:
		h.Typeflag = tar.TypeBlock
		if mode&fs.ModeCharDevice != 0 {
			h.Typeflag = tar.TypeChar
		}
		rdev := st.Rdev
		h.Devmajor = int64((rdev>>8)&0xfff | (rdev>>32)&^0xfff)
		h.Devminor = int64(rdev&0xff | (rdev>>12)&^0xff)
	default:
		// Sockets (and anything else) cannot be archived; GNU tar skips
		// them too.
		return nil
	}
	_, err := w.b.add(cleanHeader(name, h), nil)
	return err
}

func (w *walker) children(abs, name string, excl bool) error {
	d, err := os.Open(abs)
	if err != nil {
		return err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", abs, err)
	}
	sort.Strings(names)
	for _, n := range names {
		child := name + "/" + n
		if excl && w.excl.Match(child) {
			continue
		}
		cabs := filepath.Join(abs, n)
		fi, err := os.Lstat(cabs)
		if err != nil {
			return err
		}
		if err := w.visit(cabs, child, fi, excl); err != nil {
			return err
		}
	}
	return nil
}

// ctxReader stops a long file copy when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// idNames caches user and group names by id.
type idNames struct {
	users, groups map[uint32]string
}

func newIDNames() *idNames {
	return &idNames{users: map[uint32]string{}, groups: map[uint32]string{}}
}

func (n *idNames) user(id uint32) string {
	if s, ok := n.users[id]; ok {
		return s
	}
	s := ""
	if u, err := user.LookupId(strconv.FormatUint(uint64(id), 10)); err == nil {
		s = u.Username
	}
	n.users[id] = s
	return s
}

func (n *idNames) group(id uint32) string {
	if s, ok := n.groups[id]; ok {
		return s
	}
	s := ""
	if g, err := user.LookupGroupId(strconv.FormatUint(uint64(id), 10)); err == nil {
		s = g.Name
	}
	n.groups[id] = s
	return s
}
