package gdsemu

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// ImportPath is the main package of the emulator binary.
const ImportPath = "github.com/backupctl/terraform-provider-backupctl/internal/gdsemu/cmd/gdsemu"

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// Build compiles the emulator once per process (go build, so the build
// cache makes it cheap) and returns the binary's path. The binary is
// written to a temporary name and renamed into place, so concurrent test
// processes never see a half-written file.
func Build() (string, error) {
	buildOnce.Do(func() {
		dir := filepath.Join(os.TempDir(), fmt.Sprintf("backupctl-gdsemu-%d", os.Getuid()))
		if buildErr = os.MkdirAll(dir, 0o755); buildErr != nil {
			return
		}
		// The go that runs these tests: "go env GOROOT" is not needed
		// because go test puts its own bin directory first on PATH.
		goBin := "go"
		tmp := filepath.Join(dir, fmt.Sprintf("gdsemu.%d", os.Getpid()))
		cmd := exec.Command(goBin, "build", "-o", tmp, ImportPath)
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("build gdsemu: %v: %s", err, out)
			return
		}
		buildPath = filepath.Join(dir, "gdsemu")
		buildErr = os.Rename(tmp, buildPath)
	})
	return buildPath, buildErr
}

// InstallLinks makes binDir hold sdxproxy, sdxinfo and sdxvolume as
// symbolic links to the emulator binary.
func InstallLinks(binDir, binary string) error {
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return err
	}
	for _, c := range Commands {
		p := filepath.Join(binDir, c)
		_ = os.Remove(p)
		if err := os.Symlink(binary, p); err != nil {
			return err
		}
	}
	return nil
}

// Emu is an emulator set up for a test: its root directory and a bin
// directory holding the three commands.
type Emu struct {
	Root   string
	BinDir string
}

// New sets up an emulator under dir (root in dir/root, commands in
// dir/bin) with layout cfg.
func New(dir string, cfg Config) (*Emu, error) {
	bin, err := Build()
	if err != nil {
		return nil, err
	}
	e := &Emu{Root: filepath.Join(dir, "root"), BinDir: filepath.Join(dir, "bin")}
	if err := InstallLinks(e.BinDir, bin); err != nil {
		return nil, err
	}
	if err := Setup(e.Root, cfg); err != nil {
		return nil, err
	}
	return e, nil
}

// StartT is New for a test, in a temporary directory.
func StartT(t testing.TB, cfg Config) *Emu {
	t.Helper()
	e, err := New(t.TempDir(), cfg)
	if err != nil {
		t.Fatalf("gds emulator: %v", err)
	}
	return e
}

// HostEnv is the env to give a host (local or SSH) so that its commands
// find the emulator: PATH with the bin directory first, and GDSEMU_ROOT.
func (e *Emu) HostEnv() map[string]string {
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/sbin:/usr/bin:/sbin:/bin"
	}
	return map[string]string{"PATH": e.BinDir + ":" + path, EnvRoot: e.Root}
}

// Count returns how many times cmd (and op, when not empty) ran.
func (e *Emu) Count(cmd, op string) int {
	n, err := CountCalls(e.Root, cmd, op)
	if err != nil {
		panic(err)
	}
	return n
}

// Calls returns the recorded invocations as command lines.
func (e *Emu) Calls() []string {
	cs, err := Calls(e.Root)
	if err != nil {
		panic(err)
	}
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = strings.Join(append([]string{c.Command}, c.Args...), " ")
	}
	return out
}

// Run runs one emulated command in-process (for tests and out-of-band
// changes): it returns stdout, stderr and the exit status.
func (e *Emu) Run(env map[string]string, argv ...string) (stdout, stderr string, status int) {
	var so, se strings.Builder
	status = Main(argv, Env{
		Getenv: func(k string) string {
			if v, ok := env[k]; ok {
				return v
			}
			if k == EnvRoot {
				return e.Root
			}
			return os.Getenv(k)
		},
		Stdout: &so, Stderr: &se,
	})
	return so.String(), se.String(), status
}

// MustRun runs a command in-process and fails the test when it fails.
func (e *Emu) MustRun(t testing.TB, argv ...string) string {
	t.Helper()
	out, errOut, st := e.Run(nil, argv...)
	if st != 0 {
		t.Fatalf("%s: exit %d: %s%s", strings.Join(argv, " "), st, out, errOut)
	}
	return out
}

// State reads the current state (for assertions).
func (e *Emu) State() (*State, error) {
	unlock, err := lock(e.Root)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return loadState(e.Root)
}
