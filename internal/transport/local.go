package transport

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
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
	// A command must not start at all once ctx is over (it would run until
	// the kill lands, which is time enough for a quick rm).
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("host %q: %s: %w", l.Host(), cmd.Argv[0], err)
	}
	env := MergeEnv(l.Env, cmd.Env)
	if err := CheckEnv(env); err != nil {
		return Result{}, fmt.Errorf("host %q: %w", l.Host(), err)
	}
	if l.Observer != nil {
		l.Observer(l.Host(), cmd.Argv)
	}
	countCommand(l.Host())
	argv := cmd.Argv
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var c *exec.Cmd
	if l.Sudo {
		// sudo resets the environment (env_reset): pass the variables as
		// env(1) words after sudo, as the SSH command line does.
		words := []string{"sudo", "-n", "--"}
		if len(keys) > 0 {
			words = append(words, "env")
			for _, k := range keys {
				words = append(words, k+"="+env[k])
			}
		}
		argv = append(words, argv...)
		c = exec.Command(argv[0], argv[1:]...)
	} else {
		c = exec.Command(lookPathIn(argv[0], env["PATH"]), argv[1:]...)
		if len(keys) > 0 {
			c.Env = os.Environ()
			for _, k := range keys {
				c.Env = append(c.Env, k+"="+env[k])
			}
		}
	}
	c.Dir = cmd.Dir
	if cmd.Dir != "" {
		// Checked first: a start error for a missing dir looks just like
		// one for a missing program. Like the SSH command line's
		// "cd -- dir", this is a failed command (status 2, as from sh).
		if fi, err := os.Stat(cmd.Dir); err != nil || !fi.IsDir() {
			msg := "not a directory"
			if err != nil {
				msg = err.Error()
			}
			return Result{ExitStatus: 2, Stderr: []byte("cd: " + msg + "\n")}, nil
		}
	}
	var stdin io.WriteCloser
	if cmd.Stdin != nil {
		// Our own pump instead of exec's: a failing reader must kill the
		// command before its stdin is closed (see pumpStdin).
		var err error
		if stdin, err = c.StdinPipe(); err != nil {
			return Result{}, fmt.Errorf("host %q: %s: %w", l.Host(), argv[0], err)
		}
	}
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
	pid := c.Process.Pid
	kill := func() { _ = syscall.Kill(-pid, syscall.SIGKILL) }
	var pump *stdinPump
	if stdin != nil {
		pump = pumpStdin(cmd.Stdin, stdin, kill)
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			kill()
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
	if rerr := pump.readErr(); rerr != nil {
		return res, fmt.Errorf("host %q: %s: reading its input: %w (the command was killed)", l.Host(), argv[0], rerr)
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
// so a reader never sees a half-written file. The temporary name is chosen
// here, so that it can be removed when the command was killed (cancelled, or
// its source failed) before its own cleanup could run.
func put(ctx context.Context, t Transport, path string, r io.Reader, mode uint32) error {
	var rb [6]byte
	_, _ = rand.Read(rb[:])
	tmp := fmt.Sprintf("%s.part.%x", path, rb)
	script := `umask 077; cat > "$3" && chmod "$2" "$3" && mv -f -- "$3" "$1" || { rm -f -- "$3"; exit 1; }`
	_, err := RunOK(ctx, t, Command{
		Argv:  []string{"/bin/sh", "-c", script, "sh", path, fmt.Sprintf("%o", mode), tmp},
		Stdin: r,
	})
	if err != nil {
		var ee *ExitError
		if !errors.As(err, &ee) {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			_, _ = t.Run(cctx, Command{Argv: []string{"rm", "-f", "--", tmp}})
			cancel()
		}
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

// lookPathIn resolves prog with the host's PATH when one is configured, as a
// remote shell would: the PATH in a host's env applies to the local host too.
func lookPathIn(prog, pathEnv string) string {
	if pathEnv == "" || strings.Contains(prog, "/") {
		return prog
	}
	for _, dir := range filepath.SplitList(pathEnv) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, prog)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	// Not on the host's PATH: fail like a shell would (status 127), rather
	// than finding it on this process's PATH.
	return filepath.Join(filepath.SplitList(pathEnv)[0], prog)
}
