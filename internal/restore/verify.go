package restore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// DefaultVerifyTimeout bounds the verification commands when no timeout is
// given.
const DefaultVerifyTimeout = 10 * time.Minute

// Verify is the user's check of a restored target: commands run in order by
// /bin/sh -c on Host, the first failure ends it, and the whole list must
// finish within Timeout.
type Verify struct {
	Commands []string
	Timeout  time.Duration
	// Host runs the commands (the restored target, unless said otherwise).
	Host transport.Transport
	// Env is given to every command (RESTORE_* variables describing the
	// target).
	Env map[string]string
}

// VerifyError is a verification that did not pass.
type VerifyError struct {
	// Index is the failed command's position (0-based).
	Index    int
	Command  string
	Host     string
	Status   int
	Output   string
	TimedOut bool
	Timeout  time.Duration
	Err      error
}

func (e *VerifyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "verification failed: command %d (%s) on host %q", e.Index+1, short(e.Command, 200), e.Host)
	switch {
	case e.TimedOut:
		fmt.Fprintf(&b, " did not finish within verify.timeout = %q", e.Timeout.String())
	case e.Err != nil:
		fmt.Fprintf(&b, " could not run: %v", e.Err)
	default:
		fmt.Fprintf(&b, " exited with status %d", e.Status)
	}
	if e.Output != "" {
		fmt.Fprintf(&b, "; output: %s", e.Output)
	}
	return b.String()
}

// Run runs the verification, recording one step and one check per command.
// With no commands it records that nothing was verified by the user and
// returns nil.
func (v Verify) Run(ctx context.Context, rec *Recorder) error {
	if len(v.Commands) == 0 {
		rec.Skip("verify", "", "no verify commands given")
		return nil
	}
	timeout := v.Timeout
	if timeout <= 0 {
		timeout = DefaultVerifyTimeout
	}
	vctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for i, c := range v.Commands {
		name := fmt.Sprintf("verify[%d]: %s", i, short(c, 200))
		var verr *VerifyError
		_ = rec.Step(name, v.Host.Host(), func() (string, error) {
			cmd := transport.Shell(c)
			cmd.Env = v.Env
			cmd.MaxOutput = 64 << 10
			res, err := v.Host.Run(vctx, cmd)
			out := tail(string(res.Stdout)+"\n"+string(res.Stderr), 1000)
			switch {
			case vctx.Err() != nil && ctx.Err() == nil && errors.Is(vctx.Err(), context.DeadlineExceeded):
				verr = &VerifyError{Index: i, Command: c, Host: v.Host.Host(), Output: out, TimedOut: true, Timeout: timeout}
			case err != nil:
				verr = &VerifyError{Index: i, Command: c, Host: v.Host.Host(), Output: out, Err: err}
			case res.ExitStatus != 0:
				verr = &VerifyError{Index: i, Command: c, Host: v.Host.Host(), Output: out, Status: res.ExitStatus}
			}
			if verr != nil {
				return out, verr
			}
			return out, nil
		})
		if verr != nil {
			rec.Check(name, false, verr.Error())
			return verr
		}
		rec.Check(name, true, "exit status 0")
	}
	return nil
}
