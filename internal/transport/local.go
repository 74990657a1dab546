package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"syscall"
	"time"
)

// Local runs commands on this machine.
type Local struct {
	Name string            // host name; "local" when empty
	Env  map[string]string // host env, applied to every command
	Sudo bool              // run through sudo -n
	// Observer, when set, is told about every command (for counters).
	Observer func(host string, argv []string)
}

var _ Transport = (*Local)(nil)

// Host implements Transport.
func (l *Local) Host() string {
	if l.Name == "" {
		return "local"
	}
	return l.Name
}

// Run implements Transport. The command runs in its own process group; when
// ctx ends the whole group is killed.
func (l *Local) Run(ctx context.Context, cmd Command) (Result, error) {
	if len(cmd.Argv) == 0 {
		return Result{}, errors.New("transport: empty command")
	}
	if l.Observer != nil {
		l.Observer(l.Host(), cmd.Argv)
	}
	countCommand(l.Host())
	argv := cmd.Argv
	if l.Sudo {
		argv = append([]string{"sudo", "-n", "--"}, argv...)
	}
	c := exec.Command(argv[0], argv[1:]...)
	c.Dir = cmd.Dir
	env := MergeEnv(l.Env, cmd.Env)
	if len(env) > 0 {
		c.Env = os.Environ()
		keys := make([]string, 0, len(env))
		for k := range env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			c.Env = append(c.Env, k+"="+env[k])
		}
	}
	c.Stdin = cmd.Stdin
	stdout, stderr, collect := outputs(cmd)
	c.Stdout, c.Stderr = stdout, stderr
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.Start(); err != nil {
		var res Result
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			// Like a shell: a missing program is status 127, not a transport fault.
			res.ExitStatus = 127
			res.Stderr = []byte(fmt.Sprintf("%s: command not found", argv[0]))
			return res, nil
		}
		return res, fmt.Errorf("host %q: start %s: %w", l.Host(), argv[0], err)
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		case <-done:
		}
	}()
	c.WaitDelay = 5 * time.Second
	err := c.Wait()
	close(done)
	var res Result
	collect(&res)
	if ctx.Err() != nil {
		return res, fmt.Errorf("host %q: %s: %w", l.Host(), argv[0], ctx.Err())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		res.ExitStatus = ee.ExitCode()
		if res.ExitStatus < 0 {
			res.ExitStatus = 128 + int(ee.Sys().(syscall.WaitStatus).Signal())
		}
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("host %q: %s: %w", l.Host(), argv[0], err)
	}
	return res, nil
}

// Put implements Transport. It goes through a command so that sudo applies.
func (l *Local) Put(ctx context.Context, path string, r io.Reader, mode uint32) error {
	return put(ctx, l, path, r, mode)
}

// Get implements Transport.
func (l *Local) Get(ctx context.Context, path string, w io.Writer) error {
	return get(ctx, l, path, w)
}

// Close implements Transport.
func (l *Local) Close() error { return nil }

// put writes through "cat" into a temporary name and renames it in place,
// so a reader never sees a half-written file.
func put(ctx context.Context, t Transport, path string, r io.Reader, mode uint32) error {
	script := `umask 077; t="$1.part.$$"; cat > "$t" && chmod "$2" "$t" && mv -f -- "$t" "$1" || { rm -f -- "$t"; exit 1; }`
	_, err := RunOK(ctx, t, Command{
		Argv:  []string{"/bin/sh", "-c", script, "sh", path, fmt.Sprintf("%o", mode)},
		Stdin: r,
	})
	if err != nil {
		return fmt.Errorf("put %s: %w", path, err)
	}
	return nil
}

func get(ctx context.Context, t Transport, path string, w io.Writer) error {
	_, err := RunOK(ctx, t, Command{Argv: []string{"cat", "--", path}, Stdout: w})
	if err != nil {
		return fmt.Errorf("get %s: %w", path, err)
	}
	return nil
}
