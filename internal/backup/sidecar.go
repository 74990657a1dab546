package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
		if errors.As(err, &ee) {
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
