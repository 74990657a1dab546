package demo

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/kcpsemu"
)

// demoRun is one run of examples/demo/run.sh in fast mode, in a sandbox:
// its own TMPDIR (where the demo makes its directory) and an empty HOME, so
// that anything it leaves behind shows.
type demoRun struct {
	cmd    *exec.Cmd
	tmp    string // TMPDIR
	home   string // HOME
	logs   string // BACKUPCTL_DEMO_LOGS
	lines  chan string
	eof    chan struct{} // closed when every writer of the output is gone
	done   chan struct{} // closed when bash has exited
	status int

	mu  sync.Mutex
	buf bytes.Buffer
}

func (r *demoRun) out() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.String()
}

func startDemo(t *testing.T) *demoRun {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("the demo runs terraform: set TF_ACC=1 (make test does)")
	}
	tf := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if tf == "" {
		p, err := exec.LookPath("terraform")
		if err != nil {
			t.Fatal("terraform not found: set TF_ACC_TERRAFORM_PATH")
		}
		tf = p
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	r := &demoRun{tmp: filepath.Join(base, "tmp"), home: filepath.Join(base, "home"), logs: filepath.Join(base, "logs"),
		lines: make(chan string, 4096), eof: make(chan struct{}), done: make(chan struct{})}
	for _, d := range []string{r.tmp, r.home} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The go caches stay where they are (a fresh HOME would rebuild
	// everything); everything else the demo might write follows HOME.
	goEnv := map[string]string{}
	for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH"} {
		out, err := exec.Command("go", "env", k).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", k, err)
		}
		goEnv[k] = strings.TrimSpace(string(out))
	}
	env := []string{}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "HOME" || k == "TMPDIR" || k == "XDG_CACHE_HOME" || k == "XDG_CONFIG_HOME":
		case strings.HasPrefix(k, "TF_") || strings.HasPrefix(k, "BACKUPCTL_"):
		default:
			env = append(env, kv)
		}
	}
	env = append(env, "HOME="+r.home, "TMPDIR="+r.tmp, "BACKUPCTL_DEMO_FAST=1", "BACKUPCTL_DEMO_LOGS="+r.logs,
		"NO_COLOR=1", "PATH="+filepath.Dir(tf)+":"+os.Getenv("PATH"))
	for k, v := range goEnv {
		env = append(env, k+"="+v)
	}
	r.cmd = exec.Command("bash", "examples/demo/run.sh")
	r.cmd.Dir = root
	r.cmd.Env = env
	// An *os.File, so that Wait returns when bash exits even if something
	// it started survives and holds the output open.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.cmd.Stdout, r.cmd.Stderr = pw, pw
	err = r.cmd.Start()
	_ = pw.Close()
	if err != nil {
		_ = pr.Close()
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			r.mu.Lock()
			r.buf.WriteString(sc.Text() + "\n")
			r.mu.Unlock()
			select {
			case r.lines <- sc.Text():
			default:
			}
		}
		close(r.lines)
		close(r.eof)
	}()
	go func() {
		_ = r.cmd.Wait()
		r.status = r.cmd.ProcessState.ExitCode()
		close(r.done)
	}()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			_ = r.cmd.Process.Kill()
			<-r.done
		}
		killSurvivors(r.tmp)
		_ = pr.Close()
		if t.Failed() {
			t.Logf("demo output:\n%s", r.out())
			r.logTail(t)
		}
	})
	return r
}

// wait waits for the demo to exit (at most limit), then for the end of its
// output (which a surviving process would hold open).
func (r *demoRun) wait(t *testing.T, limit time.Duration) {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(limit):
		t.Fatalf("the demo did not finish in %s", limit)
	}
	select {
	case <-r.eof:
	case <-time.After(10 * time.Second):
		t.Errorf("the demo's output is still open 10 s after it exited: something it started survives")
	}
}

// waitFor returns once a line of output matches re, failing when the demo
// ends first.
func (r *demoRun) waitFor(t *testing.T, re *regexp.Regexp, limit time.Duration) {
	t.Helper()
	deadline := time.After(limit)
	for {
		select {
		case l, ok := <-r.lines:
			if !ok {
				t.Fatalf("the demo ended before printing %q", re)
			}
			if re.MatchString(l) {
				return
			}
		case <-deadline:
			t.Fatalf("no line matching %q after %s", re, limit)
		}
	}
}

// logTail shows the end of each terraform log the demo kept.
func (r *demoRun) logTail(t *testing.T) {
	ents, _ := os.ReadDir(r.logs)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(r.logs, e.Name()))
		if err != nil {
			continue
		}
		if len(b) > 3000 {
			b = b[len(b)-3000:]
		}
		t.Logf("--- %s (end):\n%s", e.Name(), b)
	}
}

// checkNothingLeft fails when a process started by the demo survives, or a
// file remains in its TMPDIR or HOME.
func (r *demoRun) checkNothingLeft(t *testing.T) {
	t.Helper()
	if ps := survivors(r.tmp); len(ps) > 0 {
		t.Errorf("processes started by the demo survive it:\n%s", strings.Join(ps, "\n"))
	}
	for _, d := range []string{r.tmp, r.home} {
		var left []string
		_ = filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
			// The go command keeps its own state there (telemetry
			// counters), as it keeps its build cache: not the demo's.
			if e != nil && e.IsDir() && (p == filepath.Join(d, ".config") || p == filepath.Join(d, ".config", "go")) {
				return nil
			}
			if strings.HasPrefix(p, filepath.Join(d, ".config", "go")+"/") {
				return filepath.SkipDir
			}
			if err == nil && p != d {
				left = append(left, p)
			}
			return nil
		})
		if len(left) > 0 {
			t.Errorf("the demo left files in %s: %v", d, left)
		}
	}
}

// killSurvivors kills (by pid) what survives of the demo.
func killSurvivors(dir string) {
	for _, p := range survivors(dir) {
		var pid int
		if _, err := fmt.Sscanf(p, "%d", &pid); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// survivors lists the processes that name dir in their environment (every
// process the demo starts inherits TMPDIR), command line, executable or
// working directory.
func survivors(dir string) []string {
	procs, _ := filepath.Glob("/proc/[0-9]*")
	var out []string
	for _, p := range procs {
		pid := filepath.Base(p)
		if pid == fmt.Sprint(os.Getpid()) {
			continue
		}
		environ, _ := os.ReadFile(filepath.Join(p, "environ"))
		cmdline, _ := os.ReadFile(filepath.Join(p, "cmdline"))
		exe, _ := os.Readlink(filepath.Join(p, "exe"))
		cwd, _ := os.Readlink(filepath.Join(p, "cwd"))
		if bytes.Contains(environ, []byte("TMPDIR="+dir+"\x00")) || bytes.Contains(cmdline, []byte(dir)) ||
			strings.HasPrefix(exe, dir) || strings.HasPrefix(cwd, dir) {
			out = append(out, pid+" "+strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
	}
	return out
}

// The whole demo in fast mode: it exits 0 and shows each part of the story.
func TestDemoEndToEnd(t *testing.T) {
	r := startDemo(t)
	r.wait(t, 5*time.Minute)
	out := r.out()
	if r.status != 0 {
		t.Fatalf("make demo exited %d", r.status)
	}
	for _, want := range []string{
		// first run: four resources created, the hand-made KCPS snapshots adopted
		`Apply complete! Resources: 1 imported, 4 added, 1 changed, 0 destroyed.`,
		// runs 2 and 3: the plan names the KCPS snapshot pruned with keep = 8
		`Warning: Snapshots will be deleted`,
		`Apply complete! Resources: 0 added, 5 changed, 0 destroyed.`,
		// the journal is cleared after the Groupmax archive
		`gm1: APSTOP`, `gm1: APSTART`, `journal files left in MCH_JOURNAL: 0`,
		// drift: the plan sees all three changes and exits 2
		`~ state            = "parted" -> "joined"`,
		`~ state   = "BackedUp" -> "Missing"`,
		`disappeared from the destination`,
		`Plan: 0 to add, 3 to change, 0 to destroy.`,
		`plan exit code: 2`,
		// converged
		`Apply complete! Resources: 0 added, 3 changed, 0 destroyed.`,
		`terraform plan -detailed-exitcode: exit code 0`,
		// the drill and its report
		`Restore report (archive, drill): VERIFIED`,
		`ok     max_rpo: backup`,
		`Destroy complete! Resources: 6 destroyed.`,
		`archives left on the NAS: 0; KCPS snapshots left of web01's data volume: 0; web01 is Running`,
		`Demo finished in`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if n := strings.Count(out, "Apply complete!"); n != 5 {
		t.Errorf("%d applies completed, want 5 (three backup runs, converge, drill)", n)
	}
	for _, re := range []string{
		`rpo_seconds = \d+ `, `rto_seconds = \d+ `,
		// runs 2 and 3 on KCPS: the VM stopped and started around each
		// snapshot, one generation pruned each time
		`stopVirtualMachine 2, createSnapshot 2, queryAsyncJobResult \d+, startVirtualMachine 2, deleteSnapshot 2,`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("the report lacks %s", re)
		}
	}
	// The proxy is parted between the quiesce commands, every time.
	quiesced := regexp.MustCompile(`# quiesce: umount /DATA\n\s+sdxproxy Part -c Class1 -p Volume2\n\s+# quiesce: mount `)
	if n := len(quiesced.FindAllString(out, -1)); n != 4 {
		t.Errorf("%d quiesced Parts shown, want 4 (three runs and the converge)", n)
	}
	// Secrets never show: not on the screen, not in terraform's output.
	logs, _ := filepath.Glob(filepath.Join(r.logs, "*"))
	for _, f := range append(logs, "") {
		text := out
		if f != "" {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			text = string(b)
		}
		for _, secret := range []string{kcpsemu.DemoSecretKey, "PRIVATE KEY"} {
			if strings.Contains(text, secret) {
				t.Errorf("%q appears in %s", secret, cmp(f, "the demo's output"))
			}
		}
	}
	r.checkNothingLeft(t)
}

// Interrupted in the middle of an apply, the demo still stops everything
// it started and removes its directory.
func TestDemoInterrupted(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			r := startDemo(t)
			r.waitFor(t, regexp.MustCompile(`: Creating\.\.\.`), 3*time.Minute)
			if err := r.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			r.wait(t, time.Minute)
			if want := 128 + int(sig); r.status != want {
				t.Errorf("exit status %d, want %d", r.status, want)
			}
			if !strings.Contains(r.out(), "everything it started is stopped") {
				t.Errorf("no word of the cleanup in the output")
			}
			r.checkNothingLeft(t)
		})
	}
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
