package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// SidecarVersion is the version written.
const SidecarVersion = 1

// Sidecar is the small JSON file beside an archive that says what the
// generation is: its labels and where it came from. It is written before
// the archive (and removed if the archive fails), so a complete archive
// always has it; an archive adopted from elsewhere may lack it.
type Sidecar struct {
	Version        int               `json:"version"`
	ID             string            `json:"id"`
	Labels         map[string]string `json:"labels"`
	Application    string            `json:"application,omitempty"`
	Trigger        string            `json:"trigger,omitempty"`
	SourceHost     string            `json:"source_host"`
	SourceHostname string            `json:"source_hostname,omitempty"`
	Paths          []string          `json:"paths"`
	// Export is true when the archive holds backupctl-export/.
	Export bool `json:"export,omitempty"`
	// Database is the engine dumped into backupctl-export/database ("" none).
	Database  string    `json:"database,omitempty"`
	Databases []string  `json:"databases,omitempty"`
	Started   time.Time `json:"started"`
}

func writeSidecar(ctx context.Context, t transport.Transport, archivePath string, s *Sidecar) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return t.Put(ctx, SidecarPath(archivePath), bytes.NewReader(append(b, '\n')), 0o644)
}

// errNoSidecar means an archive has no labels file.
var errNoSidecar = errors.New("no labels file")

// ReadSidecar reads the labels file of an archive.
func ReadSidecar(ctx context.Context, t transport.Transport, archivePath string) (*Sidecar, error) {
	var buf bytes.Buffer
	if err := t.Get(ctx, SidecarPath(archivePath), &buf); err != nil {
		var ee *transport.ExitError
		if errors.As(err, &ee) && strings.Contains(ee.Stderr, "No such file") {
			return nil, errNoSidecar
		}
		return nil, err
	}
	var s Sidecar
	if err := json.Unmarshal(buf.Bytes(), &s); err != nil {
		return nil, fmt.Errorf("%s: %w", SidecarPath(archivePath), err)
	}
	return &s, nil
}

// readSidecars reads every labels file in dir with one command, keyed by
// the archive path it belongs to. A missing dir holds none.
func readSidecars(ctx context.Context, t transport.Transport, dir string) (map[string]*Sidecar, error) {
	script := `cd -- "$1" 2>/dev/null || exit 0
for f in *` + SidecarSuffix + `; do
  [ -f "$f" ] || continue
  printf '%s\0' "$f" && cat -- "$f" && printf '\0'
done`
	var buf bytes.Buffer
	if _, err := transport.RunOK(ctx, t, transport.Command{Argv: []string{"/bin/sh", "-c", script, "sh", dir}, Stdout: &buf}); err != nil {
		return nil, fmt.Errorf("read labels files in %s: %w", dir, err)
	}
	out := map[string]*Sidecar{}
	parts := bytes.Split(buf.Bytes(), []byte{0})
	for i := 0; i+1 < len(parts); i += 2 {
		name := string(parts[i])
		var s Sidecar
		if err := json.Unmarshal(parts[i+1], &s); err != nil {
			// A damaged labels file does not hide the archive: it is listed
			// without labels.
			continue
		}
		out[path.Join(dir, strings.TrimSuffix(name, SidecarSuffix))] = &s
	}
	return out, nil
}
