package transport

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// countingHash counts and hashes what is written to it, keeping nothing.
type countingHash struct {
	n int64
	h hash.Hash
}

func (c *countingHash) Write(p []byte) (int, error) {
	if c.h == nil {
		c.h = sha256.New()
	}
	c.n += int64(len(p))
	c.h.Write(p)
	return len(p), nil
}

func (c *countingHash) sum() string {
	if c.h == nil {
		c.h = sha256.New()
	}
	return hex.EncodeToString(c.h.Sum(nil))
}

// stream returns n deterministic pseudo-random bytes, made as they are read.
func stream(seed byte, n int64) io.Reader {
	var s [32]byte
	s[0] = seed
	return io.LimitReader(rand.NewChaCha8(s), n)
}

func streamSum(seed byte, n int64) string {
	var c countingHash
	_, _ = io.Copy(&c, stream(seed, n))
	return c.sum()
}

// 50 MiB of output go to a writer as they come; nothing is captured.
func TestRunLargeOutputStreamed(t *testing.T) {
	const size = 50 << 20
	want := func() string {
		var c countingHash
		_, _ = io.Copy(&c, io.LimitReader(zeroReader{}, size))
		return c.sum()
	}()
	bothTransports(t, func(t *testing.T, tr Transport) {
		var w countingHash
		res, err := RunOK(context.Background(), tr, Command{
			Argv:   []string{"head", "-c", "52428800", "/dev/zero"},
			Stdout: &w,
		})
		if err != nil {
			t.Fatal(err)
		}
		if w.n != size || w.sum() != want {
			t.Fatalf("got %d bytes, sha256 %s", w.n, w.sum())
		}
		if res.Stdout != nil || res.Truncated {
			t.Fatalf("output was captured as well: %d bytes", len(res.Stdout))
		}
	})
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// 64 MiB, generated as read, go through sha256sum on the host.
func TestRunStdinThroughSha256sum(t *testing.T) {
	const size = 64 << 20
	want := streamSum(7, size)
	bothTransports(t, func(t *testing.T, tr Transport) {
		res, err := RunOK(context.Background(), tr, Command{
			Argv:  []string{"sha256sum"},
			Stdin: stream(7, size),
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Fields(string(res.Stdout)); len(got) == 0 || got[0] != want {
			t.Fatalf("sha256sum printed %q, want %s", res.Stdout, want)
		}
	})
}

// gatedReader stops after half its stream until open is closed: a transport
// that read all of stdin before starting the command, or held the output
// back until the end, would never open the gate.
type gatedReader struct {
	r    io.Reader
	left int64 // bytes before the gate
	open chan struct{}
}

func (g *gatedReader) Read(p []byte) (int, error) {
	if g.left == 0 {
		<-g.open
		g.left = -1
	}
	if g.left > 0 && int64(len(p)) > g.left {
		p = p[:g.left]
	}
	n, err := g.r.Read(p)
	if g.left > 0 {
		g.left -= int64(n)
	}
	return n, err
}

// gateWriter opens the gate once it has seen the first output.
type gateWriter struct {
	countingHash
	open   chan struct{}
	opened atomic.Bool
}

func (g *gateWriter) Write(p []byte) (int, error) {
	if len(p) > 0 && g.opened.CompareAndSwap(false, true) {
		close(g.open)
	}
	return g.countingHash.Write(p)
}

// Stdin and stdout stream at the same time: cat echoes the first half
// before the second half is even produced.
func TestRunStdinStdoutStreaming(t *testing.T) {
	const size = 32 << 20
	want := streamSum(9, size)
	bothTransports(t, func(t *testing.T, tr Transport) {
		open := make(chan struct{})
		in := &gatedReader{r: stream(9, size), left: size / 2, open: open}
		out := &gateWriter{open: open}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() {
			_, err := RunOK(ctx, tr, Command{Argv: []string{"cat"}, Stdin: in, Stdout: out})
			done <- err
		}()
		waitFor(t, "cat to echo the first half", out.opened.Load)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if out.n != size || out.sum() != want {
			t.Fatalf("cat gave back %d bytes, sha256 %s", out.n, out.sum())
		}
	})
}

// failingReader yields n bytes, then an error.
type failingReader struct {
	r io.Reader
}

var errSource = errors.New("source broke")

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errSource
	}
	return n, err
}

func TestPutGetRoundTrip(t *testing.T) {
	bothTransports(t, func(t *testing.T, tr Transport) {
		ctx := context.Background()
		dir := t.TempDir()
		path := filepath.Join(dir, "conf 'x' $(y).txt")
		const size = 3<<20 + 17
		if err := tr.Put(ctx, path, stream(1, size), 0o640); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o640 || fi.Size() != size {
			t.Fatalf("mode %v size %d", fi.Mode(), fi.Size())
		}
		var got countingHash
		if err := tr.Get(ctx, path, &got); err != nil {
			t.Fatal(err)
		}
		if got.n != size || got.sum() != streamSum(1, size) {
			t.Fatalf("got back %d bytes, sha256 %s", got.n, got.sum())
		}

		// Replacing is atomic: a reader holding the old file still reads
		// all of it, and the path names a new file with the new mode.
		old, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer old.Close()
		if err := tr.Put(ctx, path, strings.NewReader("new\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		var oldRest countingHash
		if _, err := io.Copy(&oldRest, old); err != nil || oldRest.sum() != streamSum(1, size) {
			t.Fatalf("the old file changed under its reader: %d bytes %v", oldRest.n, err)
		}
		b, err := os.ReadFile(path)
		fi, _ = os.Stat(path)
		if err != nil || string(b) != "new\n" || fi.Mode().Perm() != 0o600 {
			t.Fatalf("after replace: %q %v %v", b, fi.Mode(), err)
		}
		ofi, _ := old.Stat()
		if os.SameFile(ofi, fi) {
			t.Fatal("the file was rewritten in place, not replaced")
		}

		// An executable and an empty file.
		exe := filepath.Join(dir, "run.sh")
		if err := tr.Put(ctx, exe, strings.NewReader("#!/bin/sh\necho ran\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		res, err := RunOK(ctx, tr, Command{Argv: []string{exe}})
		if err != nil || string(res.Stdout) != "ran\n" {
			t.Fatalf("put executable: %q %v", res.Stdout, err)
		}
		empty := filepath.Join(dir, "empty")
		if err := tr.Put(ctx, empty, strings.NewReader(""), 0o600); err != nil {
			t.Fatal(err)
		}
		var e bytes.Buffer
		if err := tr.Get(ctx, empty, &e); err != nil || e.Len() != 0 {
			t.Fatalf("empty: %d %v", e.Len(), err)
		}
		assertOnlyFiles(t, dir, "conf 'x' $(y).txt", "run.sh", "empty")

		// Errors name the path.
		missing := filepath.Join(dir, "missing")
		if err := tr.Get(ctx, missing, io.Discard); err == nil || !strings.Contains(err.Error(), missing) {
			t.Fatalf("get missing: %v", err)
		}
		if err := tr.Put(ctx, filepath.Join(missing, "f"), strings.NewReader("x"), 0o600); err == nil || !strings.Contains(err.Error(), missing) {
			t.Fatalf("put into missing dir: %v", err)
		}
	})
}

// A source that fails midway must not be installed as if complete: the old
// file stays, and no temporary file is left behind.
func TestPutSourceFailsKeepsOldFile(t *testing.T) {
	bothTransports(t, func(t *testing.T, tr Transport) {
		ctx := context.Background()
		dir := t.TempDir()
		path := filepath.Join(dir, "data")
		if err := os.WriteFile(path, []byte("old content\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		err := tr.Put(ctx, path, &failingReader{r: stream(3, 1<<20)}, 0o600)
		if !errors.Is(err, errSource) {
			t.Fatalf("Put with a failing source: %v", err)
		}
		b, _ := os.ReadFile(path)
		if string(b) != "old content\n" {
			t.Fatalf("the file was replaced by a truncated stream (%d bytes)", len(b))
		}
		// The killed writer's temporary file is removed too.
		assertOnlyFiles(t, dir, "data")

		// Run reports the source's error too, and the command is killed
		// before it sees a clean end of input.
		res, err := tr.Run(ctx, Command{
			Argv:  []string{"/bin/sh", "-c", "cat >/dev/null && echo saw-eof"},
			Stdin: &failingReader{r: stream(4, 256<<10)},
		})
		if !errors.Is(err, errSource) || strings.Contains(string(res.Stdout), "saw-eof") {
			t.Fatalf("Run with a failing stdin: %q %v", res.Stdout, err)
		}
	})
}

// assertOnlyFiles checks dir holds the named entries (patterns allowed, each
// optional when it has a '*').
func assertOnlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		ok := false
		for _, n := range names {
			if m, _ := filepath.Match(n, e.Name()); m {
				ok = true
			}
		}
		if !ok {
			t.Errorf("unexpected file %q in %s", e.Name(), dir)
		}
	}
	for _, n := range names {
		if strings.Contains(n, "*") {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("missing %q: %v", n, err)
		}
	}
}
