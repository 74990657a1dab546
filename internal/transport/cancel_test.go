package transport

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/backupctl/terraform-provider-backupctl/internal/sshdtest"
)

// runCancelled starts argv (which writes its pid to pidfile), waits until
// the process is there, cancels, and checks that Run returns the context's
// error. It returns the pid.
func runCancelled(t *testing.T, tr Transport, pidfile string, argv []string) (pid int, stdout *syncBuffer) {
	t.Helper()
	killAtCleanup(t, pidfile)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout = &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		_, err := tr.Run(ctx, Command{Argv: argv, Stdout: stdout})
		done <- err
	}()
	waitFor(t, "the command to write its pid", func() bool { return readPid(pidfile) > 0 })
	pid = readPid(pidfile)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run after cancel: %v", err)
	}
	return pid, stdout
}

// A cancelled command is killed on the host, not just abandoned.
func TestCancelKillsProcess(t *testing.T) {
	bothTransports(t, func(t *testing.T, tr Transport) {
		pidfile := filepath.Join(t.TempDir(), "pid")
		pid, _ := runCancelled(t, tr, pidfile, []string{"/bin/sh", "-c", `echo $$ > "$1"; exec sleep 300`, "sh", pidfile})
		waitFor(t, "the process to be gone", func() bool { return gone(pid) })
	})
}

// The children of a shell die with it: the whole process group is killed.
func TestCancelKillsShellAndChild(t *testing.T) {
	bothTransports(t, cancelShellAndChild)
}

func cancelShellAndChild(t *testing.T, tr Transport) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "pid")
	after := filepath.Join(dir, "after")
	script := `echo $$ > "$1"; sleep 300; echo x; touch "$2"`
	var child int
	killAtCleanup(t, pidfile)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		_, err := tr.Run(ctx, Command{Argv: []string{"/bin/sh", "-c", script, "sh", pidfile, after}, Stdout: out})
		done <- err
	}()
	waitFor(t, "the shell and its sleep", func() bool {
		if pid := readPid(pidfile); pid > 0 {
			if c := childrenOf(pid); len(c) == 1 {
				child = c[0]
				return true
			}
		}
		return false
	})
	shell := readPid(pidfile)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run after cancel: %v", err)
	}
	waitFor(t, "the shell to be gone", func() bool { return gone(shell) })
	waitFor(t, "the shell's child to be gone", func() bool { return gone(child) })
	if out.String() != "" {
		t.Fatalf("the shell went on after the kill: %q", out.String())
	}
	if _, err := os.Stat(after); err == nil {
		t.Fatal("the shell went on after the kill")
	}
}

// Cancelling while the command is reading a stream that never ends.
func TestCancelDuringStdin(t *testing.T) {
	bothTransports(t, func(t *testing.T, tr Transport) {
		pidfile := filepath.Join(t.TempDir(), "pid")
		killAtCleanup(t, pidfile)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() {
			_, err := tr.Run(ctx, Command{
				Argv:  []string{"/bin/sh", "-c", `echo $$ > "$1"; exec cat > /dev/null`, "sh", pidfile},
				Stdin: zeroReader{},
			})
			done <- err
		}()
		waitFor(t, "the command to write its pid", func() bool { return readPid(pidfile) > 0 })
		pid := readPid(pidfile)
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Run after cancel: %v", err)
		}
		waitFor(t, "the process to be gone", func() bool { return gone(pid) })
	})
}

// Cancelled and failed runs leave no goroutine behind (stdin pumps, waiters,
// keepalives, kill helpers) once the transport is closed. Not parallel: it
// counts the process's goroutines.
func TestNoGoroutineLeak(t *testing.T) {
	s := sshdtest.StartT(t)
	for _, tr := range []Transport{&Local{Name: hostName(t)}, newSSH(t, s, nil)} {
		base := runtime.NumGoroutine()
		dir := t.TempDir()
		for i := 0; i < 3; i++ {
			pidfile := filepath.Join(dir, fmt.Sprintf("pid%d", i))
			killAtCleanup(t, pidfile)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				_, err := tr.Run(ctx, Command{
					Argv:  []string{"/bin/sh", "-c", `echo $$ > "$1"; exec cat > /dev/null`, "sh", pidfile},
					Stdin: zeroReader{},
				})
				done <- err
			}()
			waitFor(t, "the command to start", func() bool { return readPid(pidfile) > 0 })
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Fatal(err)
			}
			if _, err := tr.Run(context.Background(), Command{Argv: []string{"cat"}, Stdin: &failingReader{r: stream(1, 1<<16)}}); !errors.Is(err, errSource) {
				t.Fatal(err)
			}
			// The command exits without reading its (endless) input.
			if _, err := RunOK(context.Background(), tr, Command{Argv: []string{"true"}, Stdin: zeroReader{}}); err != nil {
				t.Fatal(err)
			}
		}
		_ = tr.Close()
		waitFor(t, fmt.Sprintf("%s goroutines to return to %d", tr.Host(), base), func() bool {
			return runtime.NumGoroutine() <= base
		})
	}
}
