package archive

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// cutSource runs commands on this machine, but a source "tar" stops
// after cut bytes and exits 2, like a source host whose tar died.
type cutSource struct {
	transport.Local
	cut int64
}

type cutWriter struct {
	w    io.Writer
	left int64
}

func (c *cutWriter) Write(p []byte) (int, error) {
	if c.left <= 0 {
		return len(p), nil
	}
	q := p
	if int64(len(q)) > c.left {
		q = q[:c.left]
	}
	c.left -= int64(len(q))
	if _, err := c.w.Write(q); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *cutSource) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	if cmd.Argv[0] != "tar" {
		return c.Local.Run(ctx, cmd)
	}
	cmd.Stdout = &cutWriter{w: cmd.Stdout, left: c.cut}
	res, err := c.Local.Run(ctx, cmd)
	res.ExitStatus = 2
	res.Stderr = []byte("tar: simulated failure")
	return res, err
}

// failingDest accepts only limit bytes of an archive, then fails like a
// full disk.
type failingDest struct {
	transport.Local
	limit string
}

func (f *failingDest) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	if cmd.Stdin != nil && len(cmd.Argv) > 4 && cmd.Argv[2] == sinkScript {
		cmd.Argv = []string{"/bin/sh", "-c", `head -c "$2" > "$1"; echo "No space left on device" >&2; exit 1`, "sh", cmd.Argv[4], f.limit}
	}
	return f.Local.Run(ctx, cmd)
}

// noisyTree writes size bytes of poorly compressible data.
func noisyTree(t *testing.T, size int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "noisy")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for i := 0; size > 0; i++ {
		n := min(size, 1<<20)
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		if err := os.WriteFile(filepath.Join(dir, "f"+strings.Repeat("x", i%5)+string(rune('a'+i%26))+".bin"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		size -= n
	}
	return dir
}

// assertNoGeneration checks that p left nothing that looks complete.
func assertNoGeneration(t *testing.T, tr transport.Transport, p string) {
	t.Helper()
	ctx := context.Background()
	if _, err := os.Stat(ManifestPath(p)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("manifest exists after a failed Create: %v", err)
	}
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("archive exists after a failed Create: %v", err)
	}
	if _, err := Verify(ctx, tr, p, VerifySize); !errors.Is(err, ErrMissing) {
		t.Errorf("verify after a failed Create: %v", err)
	}
	list, err := List(ctx, tr, filepath.Dir(p))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range list {
		if m.Info.File == p {
			t.Errorf("failed archive listed: %+v", m.Info)
		}
	}
}

// A source that dies mid-stream, or exits non-zero after a
// complete-looking stream, leaves no manifest and no listed archive; an
// earlier generation in the same directory stays listed.
func TestPartialSourceLeavesNoGeneration(t *testing.T) {
	tree := noisyTree(t, 4<<20)
	dir := t.TempDir()
	ctx := context.Background()
	good := filepath.Join(dir, "good.tar.gz")
	if _, err := Create(ctx, local, local, good, CreateOptions{Paths: []string{tree}}); err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int64{0, 100, 1 << 20} {
		p := filepath.Join(dir, "cut.tar.gz")
		_, err := Create(ctx, &cutSource{cut: cut}, local, p, CreateOptions{Paths: []string{tree}})
		if err == nil {
			t.Fatalf("cut at %d: Create succeeded", cut)
		}
		if !strings.Contains(err.Error(), "simulated failure") && cut > 0 {
			t.Errorf("cut at %d: error does not carry the source's message: %v", cut, err)
		}
		assertNoGeneration(t, local, p)
		if _, err := os.Stat(PartialPath(p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("partial file left: %v", err)
		}
	}
	// GNU tar writes a complete stream but exits 2 when a path is missing.
	p := filepath.Join(dir, "missing.tar.gz")
	_, err := Create(ctx, &cutSource{cut: 1 << 40}, local, p, CreateOptions{Paths: []string{tree}})
	if err == nil {
		t.Fatal("non-zero tar exit accepted")
	}
	assertNoGeneration(t, local, p)
	list, err := List(ctx, local, dir)
	if err != nil || len(list) != 1 || list[0].Info.File != good {
		t.Fatalf("list: %+v %v", infos(list), err)
	}
	// A partial file left by a crash is never listed either.
	if err := os.WriteFile(filepath.Join(dir, "crashed.tar.gz.partial"), []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if list, _ := List(ctx, local, dir); len(list) != 1 {
		t.Errorf("crashed partial listed: %+v", infos(list))
	}
}

// A destination that fails mid-stream (full disk) fails Create with its
// message, without hanging and without leaving anything listed.
func TestDestinationFailure(t *testing.T) {
	tree := noisyTree(t, 6<<20)
	dir := t.TempDir()
	p := filepath.Join(dir, "full.tar.zst")
	_, err := Create(context.Background(), local, &failingDest{limit: "200000"}, p, CreateOptions{Paths: []string{tree}, Format: FormatTarZst})
	if err == nil {
		t.Fatal("Create succeeded on a full destination")
	}
	if !strings.Contains(err.Error(), "No space left") {
		t.Errorf("error does not say why: %v", err)
	}
	assertNoGeneration(t, local, p)
}

// dropAfter wraps a transport so that the loopback sshd drops every
// connection once n bytes of a command's output went through.
type dropAfter struct {
	*transport.SSH
	n    int64
	drop func()
}

type countingOut struct {
	w    io.Writer
	n    int64
	at   int64
	once *sync.Once
	drop func()
}

func (c *countingOut) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	if c.n > c.at {
		c.once.Do(c.drop)
	}
	return c.w.Write(p)
}

func (d *dropAfter) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	if cmd.Argv[0] == "tar" {
		cmd.Stdout = &countingOut{w: cmd.Stdout, at: d.n, once: &sync.Once{}, drop: d.drop}
	}
	return d.SSH.Run(ctx, cmd)
}

// The SSH connection to the source is killed mid-stream: Create fails with
// a clear message, nothing is listed, and the next Create converges.
func TestSSHDroppedMidStream(t *testing.T) {
	s, src, _ := sshPair(t)
	tree := noisyTree(t, 12<<20)
	dir := t.TempDir()
	ctx := context.Background()
	p := filepath.Join(dir, "dropped.tar.gz")
	_, err := Create(ctx, &dropAfter{SSH: src, n: 2 << 20, drop: s.DropConnections}, local, p, CreateOptions{Paths: []string{tree}})
	if err == nil {
		t.Fatal("Create succeeded although the connection dropped")
	}
	t.Logf("error: %v", err)
	assertNoGeneration(t, local, p)
	m, err := Create(ctx, src, local, p, CreateOptions{Paths: []string{tree}})
	if err != nil {
		t.Fatalf("next Create: %v", err)
	}
	if _, err := Verify(ctx, local, p, VerifyDeep); err != nil || m.Info.Files < 13 {
		t.Fatalf("after retry: %v (%d members)", err, m.Info.Files)
	}
}

// Verify tells missing from corrupt, at each depth.
func TestVerifyDetectsDamage(t *testing.T) {
	tree, _ := srcTree(t)
	ctx := context.Background()
	dir := t.TempDir()
	mk := func(name string) string {
		p := filepath.Join(dir, name)
		if _, err := Create(ctx, local, local, p, CreateOptions{Paths: []string{tree}}); err != nil {
			t.Fatal(err)
		}
		for _, mode := range []VerifyMode{VerifyNone, VerifySize, VerifyChecksum, VerifyDeep} {
			if _, err := Verify(ctx, local, p, mode); err != nil {
				t.Fatalf("fresh archive, %s: %v", mode, err)
			}
		}
		return p
	}
	expect := func(p string, mode VerifyMode, want error) {
		t.Helper()
		m, err := Verify(ctx, local, p, mode)
		if !errors.Is(err, want) {
			t.Errorf("%s (%s): got %v, want %v", filepath.Base(p), mode, err, want)
		}
		if errors.Is(err, ErrCorrupt) && m == nil && want == ErrCorrupt {
			// A corrupt archive still reports what its manifest says,
			// unless the manifest itself is what is broken.
			if _, rerr := ReadManifest(ctx, local, p); rerr == nil {
				t.Errorf("%s: no manifest returned with ErrCorrupt", filepath.Base(p))
			}
		}
	}
	missing := mk("missing.tar.gz")
	os.Remove(missing)
	for _, mode := range []VerifyMode{VerifySize, VerifyChecksum, VerifyDeep} {
		expect(missing, mode, ErrMissing)
	}
	noManifest := mk("nomanifest.tar.gz")
	os.Remove(ManifestPath(noManifest))
	expect(noManifest, VerifyNone, ErrMissing)

	truncated := mk("truncated.tar.gz")
	fi, _ := os.Stat(truncated)
	os.Truncate(truncated, fi.Size()-100)
	for _, mode := range []VerifyMode{VerifySize, VerifyChecksum, VerifyDeep} {
		expect(truncated, mode, ErrCorrupt)
	}

	flipped := mk("flipped.tar.gz")
	corruptByte(t, flipped)
	expect(flipped, VerifySize, nil) // same size: only a checksum sees it
	expect(flipped, VerifyChecksum, ErrCorrupt)
	expect(flipped, VerifyDeep, ErrCorrupt)
	if _, err := Extract(ctx, local, flipped, local, filepath.Join(dir, "x"), ExtractOptions{}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("extracting a corrupted archive: %v", err)
	}

	// A manifest whose member hash was changed: the file checksum still
	// matches, the deep check does not.
	edited := mk("edited.tar.gz")
	m, _ := ReadManifest(ctx, local, edited)
	for i := range m.Entries {
		if m.Entries[i].Type == TypeFile && m.Entries[i].Size > 0 {
			m.Entries[i].SHA256 = strings.Repeat("0", 64)
			break
		}
	}
	data, _ := json.Marshal(m)
	os.WriteFile(ManifestPath(edited), data, 0o600)
	expect(edited, VerifyChecksum, nil)
	expect(edited, VerifyDeep, ErrCorrupt)

	garbage := mk("garbage.tar.gz")
	os.WriteFile(ManifestPath(garbage), []byte("{not json"), 0o600)
	expect(garbage, VerifyNone, ErrCorrupt)
	list, err := List(ctx, local, dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range list {
		names = append(names, filepath.Base(m.Info.File))
	}
	// Listed: complete archives, even damaged ones (Verify judges them);
	// not listed: no archive, no manifest, unparsable manifest.
	sort.Strings(names)
	if got := strings.Join(names, " "); got != "edited.tar.gz flipped.tar.gz truncated.tar.gz" {
		t.Errorf("listed %q", got)
	}
}

// cancelAfter is a destination that cancels the caller's context once n
// bytes of the archive arrived.
type cancelAfter struct {
	transport.Local
	n      int64
	cancel context.CancelFunc
}

type cancellingReader struct {
	r      io.Reader
	n      int64
	cancel context.CancelFunc
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n -= int64(k)
	if c.n <= 0 {
		c.cancel()
	}
	return k, err
}

func (c *cancelAfter) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	if cmd.Stdin != nil {
		cmd.Stdin = &cancellingReader{r: cmd.Stdin, n: c.n, cancel: c.cancel}
	}
	return c.Local.Run(ctx, cmd)
}

// Cancelling mid-stream stops Create promptly, leaves nothing listed and
// no goroutine behind.
func TestCancelMidStream(t *testing.T) {
	tree := noisyTree(t, 12<<20)
	dir := t.TempDir()
	before := runtime.NumGoroutine()
	for _, f := range []Format{FormatTarGz, FormatTarZst} {
		ctx, cancel := context.WithCancel(context.Background())
		p := filepath.Join(dir, "cancelled"+f.Ext())
		_, err := Create(ctx, local, &cancelAfter{n: 1 << 20, cancel: cancel}, p, CreateOptions{Paths: []string{tree}, Format: f})
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s: want context.Canceled, got %v", f, err)
		}
		assertNoGeneration(t, local, p)
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+2 {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

// A destination that cannot be created fails Create at once, with the
// destination's own message, locally and through SSH.
func TestDestinationUnwritable(t *testing.T) {
	_, _, dst := sshPair(t)
	tree := noisyTree(t, 3<<20)
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(blocker, "sub", "a.tar.gz")
	for _, tr := range []transport.Transport{local, dst} {
		_, err := Create(context.Background(), local, tr, p, CreateOptions{Paths: []string{tree}})
		if err == nil || !strings.Contains(err.Error(), "ot a directory") {
			t.Errorf("%s: %v", tr.Host(), err)
		}
	}
}

// Extracting an archive that is not there says so, through either
// transport, and writes nothing.
func TestExtractMissingArchive(t *testing.T) {
	_, src, _ := sshPair(t)
	target := filepath.Join(t.TempDir(), "target")
	for _, tr := range []transport.Transport{local, src} {
		_, err := Extract(context.Background(), tr, "/nonexistent/backupctl/a.tar.gz", local, target, ExtractOptions{})
		if !errors.Is(err, ErrMissing) {
			t.Errorf("%s: %v", tr.Host(), err)
		}
	}
	if ents, _ := os.ReadDir(target); len(ents) != 0 {
		t.Errorf("target holds %d entries", len(ents))
	}
}
