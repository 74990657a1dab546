package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"path"
	"strings"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// Create streams a tar of opts.Paths on src into dstPath on dst. The bytes
// go from the source (a native walk of this machine, or GNU tar on a
// remote host) through this process (manifest hashing, compression) to
// "cat > <dstPath>.partial" on the destination without landing whole in
// memory or in temporary files here. The partial file is renamed to dstPath
// when complete, and the manifest "<dstPath>.manifest.json" is written
// last: a failed or interrupted Create never leaves a manifest, so the
// half-written archive never looks complete. An existing archive at
// dstPath is replaced (its manifest is removed before the rename).
func Create(ctx context.Context, src, dst transport.Transport, dstPath string, opts CreateOptions) (*Manifest, error) {
	m, err := create(ctx, src, dst, dstPath, opts)
	return m, maskErr(err, opts.Secrets)
}

// plan is a validated CreateOptions.
type plan struct {
	paths []string
	excl  *Matcher
	extra []ExtraDir
}

func planCreate(dstPath string, opts CreateOptions) (*plan, error) {
	if err := checkAbs("destination", dstPath); err != nil {
		return nil, err
	}
	if strings.HasSuffix(dstPath, "/") {
		return nil, fmt.Errorf("destination %q: must name a file", dstPath)
	}
	if !opts.Format.Valid() {
		return nil, fmt.Errorf("unknown archive format %q (tar.gz or tar.zst)", opts.Format)
	}
	if len(opts.Paths) == 0 && len(opts.Extra) == 0 {
		return nil, errors.New("nothing to archive: no paths")
	}
	var p plan
	for _, s := range opts.Paths {
		if err := checkAbs("path", s); err != nil {
			return nil, err
		}
		c := cleanAbs(s)
		if c == "/" {
			return nil, fmt.Errorf("path %q: archiving the whole root file system is not supported; list the directories", s)
		}
		p.paths = append(p.paths, c)
	}
	p.paths = dropNested(p.paths)
	excl, err := NewMatcher(opts.Exclude)
	if err != nil {
		return nil, err
	}
	p.excl = excl
	seen := map[string]bool{}
	for _, e := range opts.Extra {
		if err := checkAbs("extra directory", e.Path); err != nil {
			return nil, err
		}
		as := path.Clean(e.As)
		if e.As == "" || strings.HasPrefix(e.As, "/") || as == "." || as == ".." || strings.HasPrefix(as, "../") {
			return nil, fmt.Errorf("extra directory %q: As %q must be a relative name inside the archive", e.Path, e.As)
		}
		if seen[as] {
			return nil, fmt.Errorf("extra directory %q: As %q is used twice", e.Path, e.As)
		}
		seen[as] = true
		for _, q := range p.paths {
			n := strings.TrimPrefix(q, "/")
			if as == n || strings.HasPrefix(as, n+"/") || strings.HasPrefix(n, as+"/") {
				return nil, fmt.Errorf("extra directory %q: As %q overlaps the archived path %s", e.Path, e.As, q)
			}
		}
		p.extra = append(p.extra, ExtraDir{Path: cleanAbs(e.Path), As: as})
	}
	return &p, nil
}

// dropNested removes paths that lie inside another listed path, and
// duplicates, keeping the given order.
func dropNested(paths []string) []string {
	var out []string
	for i, p := range paths {
		inside := false
		for j, q := range paths {
			if i != j && (strings.HasPrefix(p, q+"/") || (p == q && j < i)) {
				inside = true
				break
			}
		}
		if !inside {
			out = append(out, p)
		}
	}
	return out
}

// countingWriter counts and hashes what goes to the destination.
type countingWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	return n, err
}

func create(ctx context.Context, src, dst transport.Transport, dstPath string, opts CreateOptions) (*Manifest, error) {
	p, err := planCreate(dstPath, opts)
	if err != nil {
		return nil, err
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Full precision: generations are ordered by it, and two made within
	// one second must still come out in the order they were made.
	started := now().UTC()
	sk, err := openSink(ctx, dst, dstPath)
	if err != nil {
		return nil, fmt.Errorf("destination %s on host %q: %w", dstPath, dst.Host(), err)
	}
	out := &countingWriter{w: sk, h: sha256.New()}
	comp, err := newCompressor(out, opts.Format, opts.Level)
	if err != nil {
		_ = sk.abort()
		return nil, err
	}
	b := newBuilder(comp)
	err = produce(ctx, src, p, opts.forceTar, b)
	if err == nil {
		err = b.close()
	}
	if cerr := comp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		cancel()
		serr := sk.abort()
		if serr != nil && (errors.Is(err, errSinkEnded) || errors.Is(err, io.ErrClosedPipe)) {
			err = serr
		}
		return nil, fmt.Errorf("archive %s on host %q not written: %w", dstPath, dst.Host(), err)
	}
	if err := sk.commit(ctx); err != nil {
		return nil, fmt.Errorf("archive %s on host %q not written: %w", dstPath, dst.Host(), err)
	}
	m := &Manifest{
		Version: manifestVersionFor(b.entries),
		Info: Info{
			File:    dstPath,
			Bytes:   out.n,
			SHA256:  hex.EncodeToString(out.h.Sum(nil)),
			Files:   int64(len(b.entries)),
			Created: started,
			Format:  opts.Format.orDefault(),
		},
		Entries: b.entries,
	}
	if m.Entries == nil {
		m.Entries = []Entry{}
	}
	data, err := encodeManifest(m)
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(ctx, dst, ManifestPath(dstPath), data); err != nil {
		// Without its manifest the archive is not a generation: remove it.
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer rcancel()
		_ = removeFiles(rctx, dst, dstPath)
		return nil, fmt.Errorf("manifest for %s on host %q: %w", dstPath, dst.Host(), err)
	}
	return m, nil
}

// produce feeds every member of the plan to b.
func produce(ctx context.Context, src transport.Transport, p *plan, forceTar bool, b *builder) error {
	if directLocal(src) && !forceTar {
		w := newWalker(ctx, b, p.excl)
		for _, q := range p.paths {
			if err := w.root(q, strings.TrimPrefix(q, "/"), true); err != nil {
				return err
			}
		}
		for _, e := range p.extra {
			if err := w.root(e.Path, e.As, false); err != nil {
				return err
			}
		}
		return nil
	}
	if len(p.paths) > 0 {
		if err := readTarSource(ctx, src, tarSourceArgv(p.paths, p.excl), func(n string) string { return n }, b); err != nil {
			return err
		}
	}
	for _, e := range p.extra {
		as := e.As
		argv := []string{"tar", "-C", e.Path, "-c", "-f", "-", "--warning=no-file-ignored", "--", "."}
		rename := func(n string) string {
			if n == "." || n == "" {
				return as
			}
			return as + "/" + n
		}
		if err := readTarSource(ctx, src, argv, rename, b); err != nil {
			return err
		}
	}
	return nil
}
