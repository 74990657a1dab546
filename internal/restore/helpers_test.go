package restore

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/archive"
	"github.com/backupctl/terraform-provider-backupctl/internal/backup"
	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// hostsOf serves transports by name.
func hostsOf(ts ...transport.Transport) Hosts {
	m := map[string]transport.Transport{}
	for _, t := range ts {
		m[t.Host()] = t
	}
	return func(name string) (transport.Transport, error) {
		t, ok := m[name]
		if !ok {
			return nil, fmt.Errorf("host %q is not configured", name)
		}
		return t, nil
	}
}

// stepClock is a clock that moves on by step at every reading.
type stepClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.step)
	return c.t
}

// writeTree makes a small tree with owners, modes, a symlink, an empty
// directory and a file whose name needs escaping, under root/srv/app.
func writeTree(t *testing.T, root string) string {
	t.Helper()
	app := filepath.Join(root, "srv", "app")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(app, "data", "empty"), 0o750))
	must(os.WriteFile(filepath.Join(app, "app.cfg"), []byte("listen=8080\n"), 0o640))
	must(os.WriteFile(filepath.Join(app, "data", "results.db"), []byte(strings.Repeat("row\n", 5000)), 0o600))
	must(os.WriteFile(filepath.Join(app, "data", "odd\nname\\x"), []byte("odd"), 0o644))
	must(os.WriteFile(filepath.Join(app, "run.sh"), []byte("#!/bin/sh\necho ok\n"), 0o4755))
	must(os.Chmod(filepath.Join(app, "run.sh"), os.ModeSetuid|0o755))
	must(os.Symlink("app.cfg", filepath.Join(app, "current.cfg")))
	if os.Geteuid() == 0 {
		must(os.Chown(filepath.Join(app, "data", "results.db"), 65534, 65534))
	}
	old := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	must(os.Chtimes(filepath.Join(app, "app.cfg"), old, old))
	return app
}

// makeGeneration archives paths into dir like backup_policy does (archive
// plus manifest plus labels file) and returns the archive's path.
func makeGeneration(t *testing.T, tr transport.Transport, dir string, created time.Time, app string, labels map[string]string, paths ...string) string {
	t.Helper()
	ctx := context.Background()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	id := backup.NewID(dir, created)
	file := backup.FilePath(dir, id, archive.FormatTarGz)
	if labels != nil || app != "" {
		sc := backup.Sidecar{Version: backup.SidecarVersion, ID: id, Labels: labels, Application: app,
			SourceHost: tr.Host(), Paths: paths, Started: created}
		b, _ := json.Marshal(sc)
		if err := os.WriteFile(backup.SidecarPath(file), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := archive.Create(ctx, tr, tr, file, archive.CreateOptions{Paths: paths, Now: func() time.Time { return created }}); err != nil {
		t.Fatal(err)
	}
	return file
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}
