package archive

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"
)

// builder writes members into a tar stream and records them for the
// manifest, hashing file contents on the way.
type builder struct {
	tw      *tar.Writer
	entries []Entry
	seen    map[string]struct{}
	h       hash.Hash
	buf     []byte
}

func newBuilder(w io.Writer) *builder {
	return &builder{
		tw:   tar.NewWriter(w),
		seen: map[string]struct{}{},
		h:    sha256.New(),
		buf:  make([]byte, 256<<10),
	}
}

// errShortFile reports a source file that ended before its size.
var errShortFile = errors.New("file shrank while being read")

// add writes one member; for a regular file, content gives exactly
// h.Size bytes (more are ignored). A name seen before is skipped (the
// returned bool is false) and content is not read.
func (b *builder) add(h *tar.Header, content io.Reader) (bool, error) {
	e, err := entryOf(h)
	if err != nil {
		return false, err
	}
	if _, dup := b.seen[e.Name]; dup {
		return false, nil
	}
	b.seen[e.Name] = struct{}{}
	if err := b.tw.WriteHeader(h); err != nil {
		return false, fmt.Errorf("%s: %w", e.Name, err)
	}
	if e.Type == TypeFile {
		b.h.Reset()
		n, err := copyHashed(b.tw, b.h, io.LimitReader(content, h.Size), b.buf)
		if err != nil {
			return false, fmt.Errorf("%s: %w", e.Name, err)
		}
		if n != h.Size {
			return false, fmt.Errorf("%s: %w (%d of %d bytes)", e.Name, errShortFile, n, h.Size)
		}
		e.SHA256 = hex.EncodeToString(b.h.Sum(nil))
	}
	b.entries = append(b.entries, e)
	return true, nil
}

// close writes the end-of-archive blocks.
func (b *builder) close() error { return b.tw.Close() }

// copyHashed copies r into w and h with buf, returning the bytes copied.
func copyHashed(w io.Writer, h hash.Hash, r io.Reader, buf []byte) (int64, error) {
	var n int64
	for {
		k, rerr := r.Read(buf)
		if k > 0 {
			h.Write(buf[:k])
			if _, err := w.Write(buf[:k]); err != nil {
				return n, err
			}
			n += int64(k)
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}

// memberName turns a tar name into the manifest's form: no "./" prefix, no
// trailing "/"; the root of a "tar -C dir ." archive ("./") is ".".
func memberName(name string) string {
	if name == "" {
		return ""
	}
	for len(name) >= 2 && name[:2] == "./" {
		name = name[2:]
	}
	for len(name) > 1 && name[len(name)-1] == '/' {
		name = name[:len(name)-1]
	}
	if name == "" || name == "/" {
		return "."
	}
	return name
}

// entryOf describes a header for the manifest.
func entryOf(h *tar.Header) (Entry, error) {
	e := Entry{
		Name:    memberName(h.Name),
		Mode:    h.Mode & 0o7777,
		UID:     h.Uid,
		GID:     h.Gid,
		Uname:   h.Uname,
		Gname:   h.Gname,
		ModTime: h.ModTime.UTC().Truncate(time.Second),
	}
	switch h.Typeflag {
	case tar.TypeReg, tar.TypeGNUSparse:
		e.Type, e.Size = TypeFile, h.Size
	case tar.TypeDir:
		e.Type = TypeDir
	case tar.TypeSymlink:
		e.Type, e.Linkname = TypeSymlink, h.Linkname
	case tar.TypeLink:
		e.Type, e.Linkname = TypeHardlink, memberName(h.Linkname)
	case tar.TypeChar:
		e.Type, e.Devmajor, e.Devminor = TypeChar, h.Devmajor, h.Devminor
	case tar.TypeBlock:
		e.Type, e.Devmajor, e.Devminor = TypeBlock, h.Devmajor, h.Devminor
	case tar.TypeFifo:
		e.Type = TypeFIFO
	default:
		return e, fmt.Errorf("%s: unsupported tar member type %q", h.Name, h.Typeflag)
	}
	return e, nil
}

// cleanHeader returns a fresh header with only the fields archives keep:
// mtime in whole seconds, no access/change times, no PAX extras, mode
// bits only; directories get a trailing "/" like GNU tar writes them.
func cleanHeader(name string, h *tar.Header) *tar.Header {
	n := &tar.Header{
		Name:     name,
		Mode:     h.Mode & 0o7777,
		Uid:      h.Uid,
		Gid:      h.Gid,
		Uname:    h.Uname,
		Gname:    h.Gname,
		ModTime:  h.ModTime.Truncate(time.Second),
		Typeflag: h.Typeflag,
		Linkname: h.Linkname,
	}
	switch h.Typeflag {
	case tar.TypeReg, tar.TypeGNUSparse:
		n.Typeflag = tar.TypeReg
		n.Size = h.Size
	case tar.TypeDir:
		n.Name += "/"
	case tar.TypeChar, tar.TypeBlock:
		n.Devmajor, n.Devminor = h.Devmajor, h.Devminor
	}
	return n
}
