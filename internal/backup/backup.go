// Package backup runs one backup of a policy and keeps its generations: the
// plain-Go core of backupctl_backup_policy (no Terraform in here).
//
// A run, in order:
//
//  1. prepare on the source host: `uname -n` (BACKUP_SOURCE_HOSTNAME) and a
//     fresh private export directory (`mktemp -d`, BACKUP_EXPORT_DIR);
//  2. stop commands, in order, stopping at the first failure;
//  3. the database dump (into $BACKUP_EXPORT_DIR/database) and the export
//     commands, in order, stopping at the first failure;
//  4. the archive: the paths plus the export directory (stored as
//     "backupctl-export/"), written as <file>.partial, renamed, manifest
//     last; the labels sidecar is written before it and removed if it fails;
//  5. the new archive is verified (checksum) against its manifest;
//  6. after_success commands (e.g. the Groupmax journal clear), in order;
//  7. start commands: always, all of them, even when an earlier step failed;
//     a failing start is reported beside the backup's own result;
//  8. the export directory is removed;
//  9. generations beyond keep are pruned, oldest first, only when the new
//     generation is complete and verified.
//
// Commands are /bin/sh -c strings run on the source host, or on another
// provider host when written "@host: command". They see BACKUP_EXPORT_DIR,
// BACKUP_SOURCE_HOST (the provider's name of the source host),
// BACKUP_SOURCE_HOSTNAME (its uname -n), BACKUP_DESTINATION_HOST,
// BACKUP_ARCHIVE (the archive's path on the destination host) and
// BACKUP_GENERATION_ID.
package backup

import (
	"fmt"
	"path"
	"strings"

	"github.com/backupctl/terraform-provider-backupctl/internal/apps"
	"github.com/backupctl/terraform-provider-backupctl/internal/archive"
	"github.com/backupctl/terraform-provider-backupctl/internal/dbdump"
)

// ExportAs is the member name the export directory is stored under.
const ExportAs = "backupctl-export"

// DatabaseSubdir is where, in the export directory, database dumps go.
const DatabaseSubdir = "database"

// Policy is everything one backup run needs, with preset values already
// applied (see apps.Effective).
type Policy struct {
	// Host is the provider host the paths and commands are on.
	Host string
	// Application is the preset name ("" for none); stored with each
	// generation so that a restore knows its steps.
	Application string
	// Settings are the effective paths, exclude and commands.
	apps.Settings
	// Database, when not nil, is dumped on Host into the export directory.
	Database *dbdump.Config
	// Destination is where the archives go.
	Destination Destination
	// Keep is how many generations are kept (>= 1).
	Keep int
	// Labels are stored with every generation.
	Labels map[string]string
	// Trigger is stored with the generation it made.
	Trigger string
}

// Destination is a directory of archives on a host.
type Destination struct {
	// Host is the provider host; "" means the policy's host.
	Host string
	// Path is the absolute directory that holds this policy's archives.
	Path string
	// Format is tar.gz (default) or tar.zst.
	Format archive.Format
}

// DestHost returns the destination host, defaulting to the source host.
func (p Policy) DestHost() string {
	if p.Destination.Host == "" {
		return p.Host
	}
	return p.Destination.Host
}

// FieldError is a plan-time problem with one attribute. Attr is the
// attribute's name as users write it; Index (>= 0) points into a list and
// Key into a map or a nested attribute.
type FieldError struct {
	Attr  string
	Index int
	Key   string
	Msg   string
}

func (e *FieldError) Error() string {
	where := e.Attr
	if e.Index >= 0 {
		where += fmt.Sprintf("[%d]", e.Index)
	}
	if e.Key != "" {
		where += "." + e.Key
	}
	return where + ": " + e.Msg
}

func fieldErr(attr string, msg string, args ...any) *FieldError {
	return &FieldError{Attr: attr, Index: -1, Msg: fmt.Sprintf(msg, args...)}
}

// Validate checks a policy before anything runs. preset is the resolved
// preset (nil when none). Every problem is returned.
func Validate(p Policy, preset *apps.Preset) []*FieldError {
	var errs []*FieldError
	add := func(e *FieldError) { errs = append(errs, e) }
	if strings.TrimSpace(p.Host) == "" {
		add(fieldErr("host", "must not be empty"))
	}
	if p.Keep < 1 {
		add(fieldErr("keep", "must be at least 1, got %d", p.Keep))
	}
	for i, s := range p.Paths {
		switch {
		case !path.IsAbs(s):
			add(&FieldError{Attr: "paths", Index: i, Msg: fmt.Sprintf("%q must be an absolute path", s)})
		case path.Clean(s) == "/":
			add(&FieldError{Attr: "paths", Index: i, Msg: `"/" (the whole host) cannot be archived`})
		case strings.ContainsRune(s, 0):
			add(&FieldError{Attr: "paths", Index: i, Msg: "contains NUL"})
		}
	}
	if _, err := archive.NewMatcher(p.Exclude); err != nil {
		add(fieldErr("exclude", "%v", err))
	}
	for i, s := range p.Exclude {
		if s == "" {
			add(&FieldError{Attr: "exclude", Index: i, Msg: "must not be empty"})
		}
	}
	for _, l := range []struct {
		attr string
		cmds []string
	}{{"stop", p.Stop}, {"start", p.Start}, {"export", p.Export}, {"after_success", p.AfterSuccess}} {
		for i, c := range l.cmds {
			if _, cmd := apps.SplitHost(c); strings.TrimSpace(cmd) == "" {
				add(&FieldError{Attr: l.attr, Index: i, Msg: "command must not be empty"})
			}
		}
	}
	d := p.Destination
	switch {
	case !path.IsAbs(d.Path):
		add(&FieldError{Attr: "destination", Index: -1, Key: "path", Msg: fmt.Sprintf("%q must be an absolute path", d.Path)})
	case path.Clean(d.Path) == "/":
		add(&FieldError{Attr: "destination", Index: -1, Key: "path", Msg: `must not be "/"`})
	default:
		// Archiving into a directory that is itself archived would put the
		// older generations into every new one.
		if p.DestHost() == p.Host {
			dp := path.Clean(d.Path)
			for _, s := range p.Paths {
				if path.IsAbs(s) && within(dp, path.Clean(s)) {
					add(&FieldError{Attr: "destination", Index: -1, Key: "path",
						Msg: fmt.Sprintf("%q is inside the archived path %q on the same host", d.Path, s)})
				}
			}
		}
	}
	if !d.Format.Valid() {
		add(&FieldError{Attr: "destination", Index: -1, Key: "format", Msg: fmt.Sprintf("%q is not tar.gz or tar.zst", d.Format)})
	}
	if p.Database != nil {
		if err := p.Database.Validate(); err != nil {
			add(fieldErr("database", "%v", err))
		}
	}
	for k := range p.Labels {
		if k == "" || strings.ContainsAny(k, "\n\x00") {
			add(fieldErr("labels", "label names must be non-empty single-line strings"))
		}
	}
	if preset != nil {
		if preset.RequiresDatabase && p.Database == nil {
			add(fieldErr("database", "application %q keeps its data in a DBMS: a database block is required", preset.Name))
		}
		if preset.RequiresContent && len(p.Paths) == 0 && len(p.Export) == 0 && p.Database == nil {
			add(fieldErr("export", "application %q names no paths of its own: list export commands (writing into $BACKUP_EXPORT_DIR) or paths", preset.Name))
		}
	}
	if len(p.Paths) == 0 && len(p.Export) == 0 && p.Database == nil && (preset == nil || !preset.RequiresContent) {
		add(fieldErr("paths", "nothing to back up: set paths, export commands, a database or an application"))
	}
	return errs
}

// within reports whether p is dir or inside it.
func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

// CommandHosts returns the provider hosts a policy's commands name with
// "@host:", so that the caller can check they are configured.
func CommandHosts(p Policy) map[string][]*FieldError {
	out := map[string][]*FieldError{}
	for _, l := range []struct {
		attr string
		cmds []string
	}{{"stop", p.Stop}, {"start", p.Start}, {"export", p.Export}, {"after_success", p.AfterSuccess}} {
		for i, c := range l.cmds {
			if h, _ := apps.SplitHost(c); h != "" {
				out[h] = append(out[h], &FieldError{Attr: l.attr, Index: i,
					Msg: fmt.Sprintf("host %q (from \"@%s:\") is not configured in the provider's hosts", h, h)})
			}
		}
	}
	return out
}
