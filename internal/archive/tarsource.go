package archive

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// tarSourceArgv is the GNU tar command that writes the source paths (made
// relative to "/") to stdout.
func tarSourceArgv(paths []string, excl *Matcher) []string {
	argv := []string{"tar", "-C", "/", "-c", "-f", "-", "--warning=no-file-ignored"}
	argv = append(argv, excl.TarArgs()...)
	argv = append(argv, "--")
	for _, p := range paths {
		argv = append(argv, strings.TrimPrefix(p, "/"))
	}
	return argv
}

// readTarSource runs GNU tar on t and feeds its members, renamed by rename
// (which may drop one by returning ""), to the builder. It fails when tar
// exits non-zero, even after a complete-looking stream.
func readTarSource(ctx context.Context, t transport.Transport, argv []string, rename func(string) string, b *builder) error {
	r := startReader(ctx, t, transport.Command{Argv: argv}, "tar")
	defer func() { _ = r.Close() }()
	tr := tar.NewReader(bufio.NewReaderSize(r, 1<<20))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return sourceErr(t, r, err)
		}
		name := rename(memberName(h.Name))
		if name == "" {
			continue
		}
		if h.Typeflag == tar.TypeLink {
			h.Linkname = rename(memberName(h.Linkname))
			if h.Linkname == "" {
				return fmt.Errorf("host %q: tar: hard link %s points outside the archived paths", t.Host(), h.Name)
			}
		}
		if h.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		if _, err := b.add(cleanHeader(name, h), tr); err != nil {
			return sourceErr(t, r, err)
		}
	}
	if err := r.wait(); err != nil {
		return fmt.Errorf("reading the source: %w", err)
	}
	return nil
}

// sourceErr prefers the source command's own failure (a dead connection,
// tar's message) over the parse error it caused.
func sourceErr(t transport.Transport, r *cmdReader, err error) error {
	var ee *transport.ExitError
	if errors.As(err, &ee) || errors.Is(err, ErrMissing) {
		return fmt.Errorf("reading the source: %w", err)
	}
	r.cancel()
	if werr := r.wait(); werr != nil && !errors.Is(werr, context.Canceled) {
		return fmt.Errorf("reading the source: %w", werr)
	}
	return fmt.Errorf("reading the source on host %q: %w", t.Host(), err)
}
