package transport

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Tests here run through both transports (bothTransports): what a resource
// sees must not depend on where its host is.

func TestRunArgvIsData(t *testing.T) {
	bothTransports(t, func(t *testing.T, tr Transport) {
		dir := t.TempDir()
		canary := filepath.Join(dir, "pwned")
		vals := hostile(canary)
		res, err := RunOK(context.Background(), tr, Command{
			Argv: append([]string{"printf", `%s\0`}, vals...),
			Dir:  dir,
		})
		if err != nil {
			t.Fatal(err)
		}
		assertSameWords(t, splitNul(res.Stdout), vals)
		// The same through a shell script that receives them as "$@".
		res, err = RunOK(context.Background(), tr, Command{
			Argv: append([]string{"/bin/sh", "-c", `printf '%s\0' "$@"`, "sh"}, vals...),
			Dir:  dir,
		})
		if err != nil {
			t.Fatal(err)
		}
		assertSameWords(t, splitNul(res.Stdout), vals)
		if _, err := os.Stat(canary); err == nil {
			t.Fatal("a value ran as a command (canary file created)")
		}
	})
}

func TestRunExitStatus(t *testing.T) {
	bothTransports(t, func(t *testing.T, tr Transport) {
		ctx := context.Background()
		res, err := tr.Run(ctx, Command{Argv: []string{"/bin/sh", "-c", "echo out; echo oops >&2; exit 3"}})
		if err != nil {
			t.Fatalf("a non-zero exit is not a Run error: %v", err)
		}
		if res.ExitStatus != 3 || string(res.Stdout) != "out\n" || string(res.Stderr) != "oops\n" {
			t.Fatalf("got %+v", res)
		}
		_, err = RunOK(ctx, tr, Command{Argv: []string{"/bin/sh", "-c", "echo oops >&2; exit 3"}})
		var ee *ExitError
		if !errors.As(err, &ee) || ee.Status != 3 || ee.Host != tr.Host() {
			t.Fatalf("RunOK: %v", err)
		}
		for _, want := range []string{tr.Host(), "echo oops", "status 3", ": oops"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%q lacks %q", err, want)
			}
		}

		// Killed by a signal: 128 + its number, like a shell reports it.
		res, err = tr.Run(ctx, Command{Argv: []string{"/bin/sh", "-c", "kill -TERM $$; sleep 5"}})
		if err != nil || res.ExitStatus != 128+15 {
			t.Fatalf("signal: %+v %v", res, err)
		}

		// A missing program is status 127 on both.
		res, err = tr.Run(ctx, Command{Argv: []string{"no-such-program-backupctl", "x"}})
		if err != nil || res.ExitStatus != 127 {
			t.Fatalf("missing program: %+v %v", res, err)
		}

		// A missing working directory is a failed command, not "not found".
		res, err = tr.Run(ctx, Command{Argv: []string{"true"}, Dir: filepath.Join(t.TempDir(), "missing")})
		if err != nil || res.ExitStatus == 0 || res.ExitStatus == 127 || !strings.Contains(string(res.Stderr), "missing") {
			t.Fatalf("missing dir: %+v %v", res, err)
		}

		if _, err := tr.Run(ctx, Command{}); err == nil {
			t.Fatal("an empty argv ran")
		}
	})
}

func TestRunEnvAndDir(t *testing.T) {
	bothTransports(t, func(t *testing.T, tr Transport) {
		switch tr := tr.(type) {
		case *Local:
			tr.Env = map[string]string{"BCTL_HOST": "host value", "BCTL_BOTH": "host"}
		case *SSH:
			tr.cfg.Env = map[string]string{"BCTL_HOST": "host value", "BCTL_BOTH": "host"}
		}
		dir := filepath.Join(t.TempDir(), "a dir 'with' $(quotes)")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		res, err := RunOK(context.Background(), tr, Command{
			Argv: []string{"/bin/sh", "-c", `pwd; printf '%s|%s|%s\n' "$BCTL_HOST" "$BCTL_BOTH" "$BCTL_CMD"`},
			Env:  map[string]string{"BCTL_BOTH": "command wins", "BCTL_CMD": "$(id)\nnext"},
			Dir:  dir,
		})
		if err != nil {
			t.Fatal(err)
		}
		want := dir + "\nhost value|command wins|$(id)\nnext\n"
		if string(res.Stdout) != want {
			t.Fatalf("got %q, want %q", res.Stdout, want)
		}
	})
}

// A name env(1) would read as an option is refused before anything runs.
func TestRunRefusesBadEnvName(t *testing.T) {
	bothTransports(t, func(t *testing.T, tr Transport) {
		canary := filepath.Join(t.TempDir(), "pwned")
		for _, k := range []string{"--split-string", "-i", "A=B", "1X"} {
			_, err := tr.Run(context.Background(), Command{
				Argv: []string{"touch", canary},
				Env:  map[string]string{k: "touch " + canary},
			})
			if err == nil || !strings.Contains(err.Error(), "not valid") {
				t.Errorf("env name %q: %v", k, err)
			}
		}
		if _, err := os.Stat(canary); err == nil {
			t.Fatal("a command ran with an invalid env name")
		}
	})
}

func TestRunCapturedOutputCap(t *testing.T) {
	bothTransports(t, func(t *testing.T, tr Transport) {
		ctx := context.Background()
		res, err := RunOK(ctx, tr, Command{
			Argv:      []string{"/bin/sh", "-c", "head -c 1000000 /dev/zero; head -c 5000 /dev/zero >&2"},
			MaxOutput: 4096,
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Stdout) != 4096 || len(res.Stderr) != 4096 || !res.Truncated {
			t.Fatalf("stdout %d, stderr %d, truncated %v", len(res.Stdout), len(res.Stderr), res.Truncated)
		}
		// Exactly at the cap is not truncated.
		res, err = RunOK(ctx, tr, Command{Argv: []string{"head", "-c", "4096", "/dev/zero"}, MaxOutput: 4096})
		if err != nil || len(res.Stdout) != 4096 || res.Truncated {
			t.Fatalf("at the cap: %d %v %v", len(res.Stdout), res.Truncated, err)
		}
		// A caller's writer gets everything, and the cap does not apply.
		var w countingHash
		res, err = RunOK(ctx, tr, Command{Argv: []string{"head", "-c", "100000", "/dev/zero"}, Stdout: &w, MaxOutput: 10})
		if err != nil || w.n != 100000 || res.Stdout != nil || res.Truncated {
			t.Fatalf("writer: %d bytes, %d captured, %v %v", w.n, len(res.Stdout), res.Truncated, err)
		}
	})
}

func TestRunCancelledBeforeStart(t *testing.T) {
	bothTransports(t, func(t *testing.T, tr Transport) {
		canary := filepath.Join(t.TempDir(), "ran")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := tr.Run(ctx, Command{Argv: []string{"touch", canary}})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
		if _, err := os.Stat(canary); err == nil {
			t.Fatal("the command ran after its context was cancelled")
		}
	})
}

// The PATH of a host's env decides where a local program is found, as it
// would on a remote host.
func TestLocalUsesHostPATH(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "backupctl-only-here")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho found-in-host-path\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	l := &Local{Env: map[string]string{"PATH": dir + ":/usr/bin:/bin"}}
	res, err := RunOK(context.Background(), l, Command{Argv: []string{"backupctl-only-here"}})
	if err != nil || strings.TrimSpace(string(res.Stdout)) != "found-in-host-path" {
		t.Fatalf("run with host PATH: %q, %v", res.Stdout, err)
	}
	// Not on the host PATH: status 127 even though this process's PATH has it.
	l = &Local{Env: map[string]string{"PATH": dir}}
	res, err = l.Run(context.Background(), Command{Argv: []string{"sh", "-c", "true"}})
	if err != nil || res.ExitStatus != 127 {
		t.Fatalf("sh outside the host PATH: status %d, %v; want 127", res.ExitStatus, err)
	}
}

type wrapped struct{ Transport }

func (w wrapped) Unwrap() Transport { return w.Transport }

func TestBaseUnwraps(t *testing.T) {
	l := &Local{}
	if Base(wrapped{wrapped{l}}) != Transport(l) {
		t.Fatal("Base did not find the local transport under two wrappers")
	}
	if Base(l) != Transport(l) {
		t.Fatal("Base changed an unwrapped transport")
	}
}
