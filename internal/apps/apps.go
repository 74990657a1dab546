// Package apps holds the application presets of backupctl_backup_policy:
// what to archive and which commands to run, taken from the vendors'
// procedures (seeds 000, 001, 002; facts in reference/apps.md).
//
// A preset only supplies defaults. Every value is visible (the provider
// shows them as effective_* attributes) and every value can be replaced by
// the user. Some presets take parameters from the policy's labels (the
// labels are stored with every generation, so a restore knows them too):
//
//	interstage_managed  server_group   required: the server group whose backup this is
//	groupmax_server     master_host    required: provider host of the master management server
//	groupmax_server     groupmax_host  optional: this server's Groupmax host name (default: uname -n)
//	groupmax_master     mng_journal    optional: the MNG_JOURNAL directory (journal clear needs it)
//	groupmax_*          groupmail_dir  optional: /usr/GroupMail (/var/opt/GroupMail on HP-UX, AIX)
//
// Commands are /bin/sh -c strings run on the policy's host, except those
// written "@<host>: command", which run on that provider host. While they
// run, the backup sets BACKUP_SOURCE_HOSTNAME (uname -n of the policy's
// host), BACKUP_EXPORT_DIR and, after the archive, BACKUP_ARCHIVE.
package apps

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// Preset names, as users write them in `application`.
const (
	SMFArmsProxy      = "smf_arms_proxy"
	SMFHeartbeat      = "smf_heartbeat"
	SMFRS             = "smf_rs"
	GroupmaxMaster    = "groupmax_master"
	GroupmaxServer    = "groupmax_server"
	InterstageAdmin   = "interstage_admin"
	InterstageManaged = "interstage_managed"
)

// Label keys the presets read.
const (
	LabelServerGroup  = "server_group"
	LabelMasterHost   = "master_host"
	LabelGroupmaxHost = "groupmax_host"
	LabelMngJournal   = "mng_journal"
	LabelGroupMailDir = "groupmail_dir"
)

// Preset is the resolved defaults of one application.
type Preset struct {
	Name  string
	Title string
	Seed  string // the manual it comes from (seeds/<Seed>_*.txt)

	Paths        []string
	Exclude      []string
	Stop         []string
	Start        []string
	Export       []string
	AfterSuccess []string

	// RequiresDatabase: the application's data is in a DBMS and the policy
	// must have a database block.
	RequiresDatabase bool
	// RequiresContent: the preset names no paths of its own; the policy
	// must list paths or export commands.
	RequiresContent bool
	// RequiredLabels must be set in the policy's labels.
	RequiredLabels []string

	Restore Restore
	// Notes are shown in the docs and the plan's description.
	Notes []string
}

// Restore is what a restore of this application's archive does around
// writing the files back (used by backupctl_restore_from_snapshot).
type Restore struct {
	// Stop runs before the files are written back, Start after (always).
	Stop  []string
	Start []string
	// MatchLabels must be equal on the generation and the restore target
	// (Interstage: never restore another server group's backup).
	MatchLabels []string
	// Notes go into the restore report.
	Notes []string
}

// Names lists the presets, sorted.
func Names() []string {
	n := make([]string, 0, len(builders))
	for k := range builders {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Known reports whether name is a preset.
func Known(name string) bool { _, ok := builders[name]; return ok }

// LabelError is a missing or invalid label; Label names it so that the
// provider can point at labels["<Label>"].
type LabelError struct {
	Preset, Label, Reason string
}

func (e *LabelError) Error() string {
	return fmt.Sprintf("application %q: label %q %s", e.Preset, e.Label, e.Reason)
}

// ErrUnknown is returned (wrapped) for a name that is not a preset.
var ErrUnknown = errors.New("unknown application preset")

// Resolve returns preset name with its label parameters applied. A
// missing required label or a bad label value is a *LabelError.
func Resolve(name string, labels map[string]string) (Preset, error) {
	b, ok := builders[name]
	if !ok {
		return Preset{}, fmt.Errorf("%w %q (known: %s)", ErrUnknown, name, strings.Join(Names(), ", "))
	}
	p, err := b(labels)
	if err != nil {
		return Preset{}, err
	}
	p.Name = name
	var errs []error
	for _, l := range p.RequiredLabels {
		if strings.TrimSpace(labels[l]) == "" {
			errs = append(errs, &LabelError{Preset: name, Label: l, Reason: "is required by this preset"})
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Preset{}, err
	}
	return p, nil
}

var builders = map[string]func(labels map[string]string) (Preset, error){
	SMFArmsProxy:      smfArmsProxy,
	SMFHeartbeat:      smfHeartbeat,
	SMFRS:             smfRS,
	GroupmaxMaster:    groupmaxMaster,
	GroupmaxServer:    groupmaxServer,
	InterstageAdmin:   interstageAdmin,
	InterstageManaged: interstageManaged,
}

// absLabel returns labels[key] or def, checking it is an absolute path.
func absLabel(preset string, labels map[string]string, key, def string) (string, error) {
	v, ok := labels[key]
	if !ok || v == "" {
		return def, nil
	}
	if !path.IsAbs(v) {
		return "", &LabelError{Preset: preset, Label: key, Reason: fmt.Sprintf("must be an absolute path, got %q", v)}
	}
	return path.Clean(v), nil
}

// OnHost returns cmd marked to run on provider host h ("@h: cmd").
func OnHost(h, cmd string) string { return "@" + h + ": " + cmd }

// SplitHost parses "@host: command" into host and command; a command
// without the prefix returns host "".
func SplitHost(cmd string) (host, command string) {
	if !strings.HasPrefix(cmd, "@") {
		return "", cmd
	}
	h, rest, ok := strings.Cut(cmd[1:], ":")
	if !ok || h == "" || strings.ContainsAny(h, " \t\n'\"$`") {
		return "", cmd
	}
	return h, strings.TrimLeft(rest, " \t")
}

// q quotes a value for a preset command.
func q(s string) string { return transport.Quote(s) }
