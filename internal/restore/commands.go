package restore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/backupctl/terraform-provider-backupctl/internal/apps"
	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// Hosts returns the transport of a provider host by name.
type Hosts func(name string) (transport.Transport, error)

// commandList is a list of user or preset commands (stop, start, quiesce)
// run by /bin/sh -c on a default host; a command written "@host: cmd" runs
// on that provider host instead.
type commandList struct {
	// Label names the list in the report ("stop", "quiesce.before"...).
	Label string
	Cmds  []string
	// All runs every command even after a failure (start, quiesce.after).
	All bool
}

// run runs the list and returns the first failure (with All, every failure
// joined).
func (l commandList) run(ctx context.Context, rec *Recorder, hosts Hosts, def transport.Transport, env map[string]string) error {
	var errs []error
	for i, c := range l.Cmds {
		t := def
		h, script := apps.SplitHost(c)
		if h != "" {
			var err error
			if t, err = hosts(h); err != nil {
				err = fmt.Errorf("%s[%d]: %w", l.Label, i, err)
				rec.Skip(fmt.Sprintf("%s[%d]", l.Label, i), h, err.Error())
				errs = append(errs, err)
				if !l.All {
					break
				}
				continue
			}
		}
		err := rec.Step(fmt.Sprintf("%s[%d]: %s", l.Label, i, short(script, 200)), t.Host(), func() (string, error) {
			cmd := transport.Shell(script)
			cmd.Env = env
			cmd.MaxOutput = 64 << 10
			res, err := transport.RunOK(ctx, t, cmd)
			return tail(string(res.Stdout)+string(res.Stderr), 500), err
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("%s command %d failed: %w", l.Label, i+1, err))
			if !l.All {
				break
			}
		}
	}
	return errors.Join(errs...)
}

// short cuts s to n bytes on one line.
func short(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// tail keeps the last n bytes of s, trimmed.
func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
