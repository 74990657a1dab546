package provider

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/backupctl/terraform-provider-backupctl/internal/archive"
	"github.com/backupctl/terraform-provider-backupctl/internal/backup"
	"github.com/backupctl/terraform-provider-backupctl/internal/gdsemu"
	"github.com/backupctl/terraform-provider-backupctl/internal/kcpsemu"
	"github.com/backupctl/terraform-provider-backupctl/internal/sshdtest"
	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// TestAccFaults is the fault-injection suite: each scenario injects one
// fault into a real apply (KCPS answering 5xx, dropping connections or
// failing jobs; the SSH connection killed in the middle of a command while
// a GDS copy is awaited and while an archive streams; the destination
// filling up). For each, the apply either fails with a clear message or
// gets through by retrying, no generation taken before is lost, no partial
// archive is listed, and the next apply converges (then nothing is left to
// plan). The summary line counts the scenarios whose fault really met the
// work, those that converged, and the generations lost.
func TestAccFaults(t *testing.T) {
	if os.Getenv(resource.EnvTfAcc) == "" {
		// as resource.Test does for each scenario; the tally below would
		// otherwise fail on scenarios that did not run
		t.Skipf("acceptance test: set %s=1 (make test does)", resource.EnvTfAcc)
	}
	testAccPreCheck(t)
	t.Setenv(envKCPSPollScale, fmt.Sprint(kcpsTestScale))
	// The provider's log of each scenario goes to its own file, where a
	// retried fault must leave a line.
	logDir := t.TempDir()
	t.Setenv("TF_LOG", "INFO")
	t.Setenv("TF_LOG_CORE", "OFF")
	t.Setenv("TF_LOG_PATH_MASK", filepath.Join(logDir, "%s.log"))

	var l faultLedger
	t.Run("scenarios", func(t *testing.T) {
		for _, f := range kcpsFaults() {
			t.Run("kcps "+f.name, func(t *testing.T) {
				t.Parallel()
				testKCPSFault(t, l.start(t), logDir, f)
			})
		}
		t.Run("ssh drop during GDS copy wait", func(t *testing.T) {
			t.Parallel()
			testGDSCopyWaitDrop(t, l.start(t))
		})
		t.Run("ssh drop while archive streams from source", func(t *testing.T) {
			t.Parallel()
			testArchiveStreamDrop(t, l.start(t), false)
		})
		t.Run("ssh drop while archive streams to destination", func(t *testing.T) {
			t.Parallel()
			testArchiveStreamDrop(t, l.start(t), true)
		})
		t.Run("destination full local", func(t *testing.T) {
			t.Parallel()
			testDestinationFull(t, l.start(t), false)
		})
		t.Run("destination full over ssh", func(t *testing.T) {
			t.Parallel()
			testDestinationFull(t, l.start(t), true)
		})
	})
	addSummary(l.summary())
	if l.injected != l.total || l.converged != l.total || l.lost != 0 {
		t.Errorf("%s (of %d scenarios)", l.summary(), l.total)
	}
}

// faultLedger tallies the scenarios' real outcomes.
type faultLedger struct {
	mu                               sync.Mutex
	total, injected, converged, lost int
}

// faultRun is one scenario's outcome, added to the ledger when it ends
// (also when it fails part way).
type faultRun struct {
	injected, converged bool
	lost                int
}

func (l *faultLedger) start(t *testing.T) *faultRun {
	r := &faultRun{}
	t.Cleanup(func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.total++
		if r.injected {
			l.injected++
		}
		if r.converged {
			l.converged++
		}
		l.lost += r.lost
	})
	return r
}

func (l *faultLedger) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprintf("faults: %d injected, %d converged, %d lost", l.injected, l.converged, l.lost)
}

// faultStep captures, through the TestCase's ErrorCheck, the error of the
// one step that meets the fault; any other step's error fails the test.
type faultStep struct {
	active bool
	err    error
}

func (f *faultStep) errorCheck(err error) error {
	if f.active {
		f.err = err
		return nil
	}
	return err
}

// outcome checks, once the fault step is over, that the apply either
// failed with a clear message or went through.
func (f *faultStep) outcome(t *testing.T, clearMessage string) {
	t.Helper()
	f.active = false
	if f.err == nil {
		t.Logf("the apply went through the fault")
		return
	}
	// terraform wraps long messages: match them on one line.
	if !regexp.MustCompile(clearMessage).MatchString(strings.Join(strings.Fields(f.err.Error()), " ")) {
		t.Fatalf("the apply failed without a clear message (want %s):\n%v", clearMessage, f.err)
	}
	t.Logf("the apply failed: %s", firstDiag(f.err))
}

// firstDiag is the first error summary and detail line of a terraform error.
func firstDiag(err error) string {
	text := diagText(err)
	if i := strings.Index(text, "Error: "); i >= 0 {
		text = text[i:]
	}
	if len(text) > 400 {
		text = text[:400] + "..."
	}
	return text
}

// ---- KCPS ----

type kcpsFault struct {
	name string
	// cmd is the command the fault meets ("" for failed jobs).
	cmd    string
	inject func(*kcpsemu.Server)
	// bit reports whether the fault met a request.
	bit func(*kcpsemu.Server) bool
	// clear matches the error when the apply fails.
	clear string
	// retried matches the provider's log when the apply went through
	// ("" when the provider logs nothing for that retry).
	retried string
	// refresh: the fault meets the refresh of a plan, not an apply.
	refresh bool
}

func faulted(cmd string) func(*kcpsemu.Server) bool {
	return func(s *kcpsemu.Server) bool { return s.FaultedCalls(cmd) > 0 }
}

func kcpsFaults() []kcpsFault {
	return []kcpsFault{
		{name: "5xx on createSnapshot", cmd: "createSnapshot", bit: faulted("createSnapshot"),
			inject:  func(s *kcpsemu.Server) { s.FailNext("createSnapshot", 2, kcpsemu.FaultError) },
			clear:   `(?s)Snapshot failed.*(503|530)`,
			retried: `createSnapshot outcome unknown.*looking before trying again`},
		{name: "connection dropped before createSnapshot", cmd: "createSnapshot", bit: faulted("createSnapshot"),
			inject:  func(s *kcpsemu.Server) { s.FailNext("createSnapshot", 1, kcpsemu.FaultDrop) },
			clear:   `(?s)Snapshot failed.*createSnapshot`,
			retried: `createSnapshot outcome unknown.*looking before trying again`},
		{name: "connection dropped after createSnapshot ran", cmd: "createSnapshot", bit: faulted("createSnapshot"),
			inject:  func(s *kcpsemu.Server) { s.FailNext("createSnapshot", 1, kcpsemu.FaultDropAfter) },
			clear:   `(?s)Snapshot failed.*createSnapshot`,
			retried: `the snapshot was created after all`},
		{name: "failed snapshot job", inject: func(s *kcpsemu.Server) { s.FailJobs("createSnapshot", 1) },
			bit: func(s *kcpsemu.Server) bool {
				for _, j := range s.Jobs("createSnapshot") {
					if j.Status == 2 {
						return true
					}
				}
				return false
			},
			clear: `(?s)Snapshot failed.*530`},
		{name: "5xx and drops while polling the job", cmd: "queryAsyncJobResult", bit: faulted("queryAsyncJobResult"),
			inject: func(s *kcpsemu.Server) {
				s.FailNext("queryAsyncJobResult", 2, kcpsemu.FaultError)
				s.FailNext("queryAsyncJobResult", 1, kcpsemu.FaultDrop)
				s.FailNext("queryAsyncJobResult", 1, kcpsemu.FaultTooMany)
			},
			clear: `(?s)Snapshot failed.*queryAsyncJobResult`},
		{name: "failed prune job", inject: func(s *kcpsemu.Server) { s.FailJobs("deleteSnapshot", 1) },
			bit: func(s *kcpsemu.Server) bool {
				for _, j := range s.Jobs("deleteSnapshot") {
					if j.Status == 2 {
						return true
					}
				}
				return false
			},
			clear: `(?s)(prune|delete).*530`},
		{name: "5xx and drops on the refresh listing", cmd: "listSnapshots", bit: faulted("listSnapshots"), refresh: true,
			inject: func(s *kcpsemu.Server) {
				s.FailNext("listSnapshots", 2, kcpsemu.FaultError)
				s.FailNext("listSnapshots", 1, kcpsemu.FaultDrop)
			},
			clear: `(?s)listSnapshots`},
	}
}

// testKCPSFault: two generations (keep = 2), then a third trigger meets
// the fault; then the same configuration is applied again.
func testKCPSFault(t *testing.T, r *faultRun, logDir string, f kcpsFault) {
	srv := kcpsemu.StartT(t, kcpsTestConfig())
	const addr = "backupctl_kcps_volume_snapshot.v"
	vol := kcpsemu.DemoVolDetached
	cfg := func(trigger string) string {
		return kcpsSnapshotConfig(srv, vol, fmt.Sprintf("  keep = 2\n  trigger = %q\n  force_destroy = true", trigger))
	}
	var before []string // generations before the fault, newest first
	var fs faultStep
	steps := []resource.TestStep{
		{Config: cfg("g1")},
		{Config: cfg("g2"), Check: func(s *terraform.State) (err error) {
			before, err = stateGenerationIDs(s, addr)
			return err
		}},
		{PreConfig: func() { f.inject(srv); fs.active = true }, Config: cfg("g3")},
		{
			PreConfig: func() {
				r.injected = f.bit(srv)
				if !r.injected {
					t.Fatalf("the fault met no request: %v", srv.CallCounts())
				}
				fs.outcome(t, f.clear)
				if fs.err == nil && f.cmd != "" && srv.Calls(f.cmd) <= srv.FaultedCalls(f.cmd) {
					t.Fatalf("the apply went through, but %s was not sent again after its %d faults", f.cmd, srv.FaultedCalls(f.cmd))
				}
				if fs.err == nil && f.retried != "" {
					expectLogLine(t, logDir, f.retried)
				}
				r.lost = kcpsLost(srv, vol, before)
				srv.ClearFaults()
			},
			Config: cfg("g3"),
			Check: resource.ComposeAggregateTestCheckFunc(
				checkStateMatchesKCPS(srv, addr, vol, 2),
				checkPruneAfterBackedUp(srv),
				resource.TestCheckResourceAttr(addr, "generations.0.trigger", "g3"),
				func(s *terraform.State) error {
					// The newest generation from before the fault is kept.
					return resource.TestCheckResourceAttr(addr, "generations.1.id", before[0])(s)
				},
				func(*terraform.State) error {
					// One snapshot per trigger: none taken twice.
					if n := kcpsJobs(srv, "createSnapshot", 1); n != 3 {
						return fmt.Errorf("%d snapshots taken for 3 triggers", n)
					}
					return nil
				},
			),
		},
		{Config: cfg("g3"), PlanOnly: true},
	}
	if f.refresh {
		// The fault meets the refresh of an unchanged configuration.
		steps[2] = resource.TestStep{PreConfig: steps[2].PreConfig, Config: cfg("g2"), PlanOnly: true}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		ErrorCheck:               fs.errorCheck,
		Steps:                    steps,
	})
	r.converged = true
}

// checkPruneAfterBackedUp asserts that every generation deleted was
// deleted after the snapshot taken before it had succeeded. Removing the
// remains of a failed snapshot job is no prune.
func checkPruneAfterBackedUp(srv *kcpsemu.Server) resource.TestCheckFunc {
	return func(*terraform.State) error {
		creates := srv.Jobs("createSnapshot")
		failed := map[string]bool{}
		for _, c := range creates {
			if c.Status == 2 {
				failed[c.ObjectID] = true
			}
		}
		for _, d := range srv.Jobs("deleteSnapshot") {
			if failed[d.ObjectID] {
				continue
			}
			var last *kcpsemu.JobInfo
			for i := range creates {
				if !creates[i].Created.After(d.Created) {
					last = &creates[i]
				}
			}
			if last != nil && (last.Status != 1 || last.End.After(d.Created)) {
				return fmt.Errorf("snapshot %s was pruned at %s, before the new generation %s was BackedUp (%s, status %d)",
					d.ObjectID, d.Created, last.ObjectID, last.End, last.Status)
			}
		}
		return nil
	}
}

func kcpsTestConfig() kcpsemu.Config {
	cfg := kcpsemu.DefaultConfig()
	cfg.TimeScale = kcpsTestScale
	return cfg
}

// kcpsJobs counts the jobs of command that ended with status.
func kcpsJobs(srv *kcpsemu.Server, command string, status int) int {
	n := 0
	for _, j := range srv.Jobs(command) {
		if j.Status == status {
			n++
		}
	}
	return n
}

// kcpsLost counts the generations of before (newest first) gone from KCPS,
// except the oldest when a newer snapshot has completed (the prune keep
// asks for).
func kcpsLost(srv *kcpsemu.Server, vol string, before []string) int {
	now := map[string]bool{}
	for _, s := range srv.Snapshots(vol) {
		now[s.ID] = true
	}
	newer := kcpsJobs(srv, "createSnapshot", 1) > len(before)
	lost := 0
	for i, id := range before {
		if !now[id] && !(newer && i == len(before)-1) {
			lost++
		}
	}
	return lost
}

// expectLogLine fails unless a provider log of this test matches re.
func expectLogLine(t *testing.T, logDir, re string) {
	t.Helper()
	name := strings.ReplaceAll(t.Name(), "/", "__")
	b, err := os.ReadFile(filepath.Join(logDir, name+".log"))
	if err != nil {
		t.Fatalf("provider log: %v", err)
	}
	if m := regexp.MustCompile(re).Find(b); m == nil {
		t.Fatalf("the retried fault left no line matching %s in the provider log (%d bytes)", re, len(b))
	}
}

// ---- SSH connection killed mid-command ----

// gate is where a wrapper script on a host and the test meet: the wrapper
// holds its command once, creating "waiting", until "release" exists.
type gate string

func newGate(t *testing.T) gate {
	d := filepath.Join(t.TempDir(), "gate")
	if err := os.Mkdir(d, 0o777); err != nil {
		t.Fatal(err)
	}
	g := gate(d)
	t.Cleanup(g.release) // a wrapper never outlives the test
	return g
}

func (g gate) path(n string) string { return filepath.Join(string(g), n) }

func (g gate) touch(n string) {
	_ = os.WriteFile(g.path(n), nil, 0o666)
}

func (g gate) arm()     { g.touch("armed") }
func (g gate) release() { g.touch("release") }

// hold is the shell code a wrapper runs where it holds: once per gate, and
// only while the gate is armed.
func (g gate) hold() string {
	return fmt.Sprintf(`if [ -e %[1]s/armed ] && mkdir %[1]s/held 2>/dev/null; then : > %[1]s/waiting; while [ ! -e %[1]s/release ]; do sleep 0.05; done; fi`,
		transport.Quote(string(g)))
}

// dropWhenHeld kills every connection of s once the wrapper holds its
// command, then lets the wrapper go on. Stop it with the returned
// function, which reports whether the connections were dropped.
func (g gate) dropWhenHeld(s *sshdtest.Server) (stop func() bool) {
	done := make(chan struct{})
	dropped := make(chan bool, 1)
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if _, err := os.Stat(g.path("waiting")); err == nil {
				s.DropConnections()
				g.release()
				dropped <- true
				return
			}
			select {
			case <-done:
				dropped <- false
				return
			case <-tick.C:
			}
		}
	}()
	return func() bool {
		close(done)
		return <-dropped
	}
}

// writeScript writes an executable shell script.
func writeScript(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

// sshBox is a provider block with one host "box" on the test sshd, whose
// commands see env.
func sshBox(s *sshdtest.Server, env map[string]string) string {
	var e []string
	for k, v := range env {
		e = append(e, fmt.Sprintf("%s = %q", k, v))
	}
	return fmt.Sprintf(`
provider "backupctl" {
  hosts = {
    box = {
      address          = %q
      user             = %q
      private_key      = %q
      known_hosts_file = %q
      env              = { %s }
    }
  }
}
`, s.Addr, s.User, s.ClientKey, s.KnownHostsFile, strings.Join(e, ", "))
}

// sshDropped matches an error that says the SSH host's connection broke.
const sshDropped = `(host "box"|box).*(connection|EOF|closed|lost|reset|broken|exited without exit status)`

// testGDSCopyWaitDrop creates a parted pair over SSH; the first slice
// listing of the copy wait (sdxinfo -S) is held, and the connection is
// killed while it runs.
func testGDSCopyWaitDrop(t *testing.T, r *faultRun) {
	emu := gdsemu.StartT(t, gdsAccLayout())
	s := sshdtest.StartT(t)
	g := newGate(t)
	g.arm()
	wrap := filepath.Join(t.TempDir(), "wrap")
	writeScript(t, filepath.Join(wrap, "sdxinfo"), fmt.Sprintf(`case " $* " in *" -S "*) %s;; esac
exec %s "$@"`, g.hold(), transport.Quote(filepath.Join(emu.BinDir, "sdxinfo"))))
	env := emu.HostEnv()
	env["PATH"] = wrap + ":" + env["PATH"]
	env[gdsemu.EnvCopyRate] = "100" // 100 MB: a one-second copy
	cfg := sshBox(s, env) + `
resource "backupctl_gds_proxy_pair" "p" {
  host      = "box"
  class     = "Class1"
  master    = "Volume1"
  proxy     = "Volume2"
  all_nodes = true
  state     = "parted"
}
`
	var fs faultStep
	var stop func() bool
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		ErrorCheck:               fs.errorCheck,
		Steps: []resource.TestStep{
			{PreConfig: func() { stop = g.dropWhenHeld(s); fs.active = true }, Config: cfg},
			{
				PreConfig: func() {
					r.injected = stop()
					if !r.injected {
						t.Fatal("the copy wait never ran sdxinfo -S through the wrapper: nothing was dropped")
					}
					fs.outcome(t, `(?is)`+sshDropped)
				},
				Config: cfg,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(pairAddr, "state", "parted"),
					func(*terraform.State) error {
						// The copy begun before the drop was awaited, not
						// begun again; the snapshot was parted once.
						j, p := emu.Count("sdxproxy", "Join"), emu.Count("sdxproxy", "Part")
						if j != 1 || p != 1 {
							r.lost = max(j-1, 0)
							return fmt.Errorf("Join ran %d times and Part %d times; want once each: %q", j, p, emu.Calls())
						}
						return nil
					},
				),
			},
			{Config: cfg, PlanOnly: true},
		},
	})
	r.converged = true
}

// randomFile writes n incompressible bytes.
func randomFile(t *testing.T, path string, n int) {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// generationIDs lists the generations backup_policy would list in dir on
// this machine.
func generationIDs(t *testing.T, dir string) []string {
	t.Helper()
	gens, _, err := backup.Generations(t.Context(), &transport.Local{}, dir, archive.VerifyChecksum)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, g := range gens {
		ids = append(ids, g.ID)
	}
	return ids
}

// partials lists half-written archives left in dir.
func partials(dir string) []string {
	m, _ := filepath.Glob(filepath.Join(dir, "*.partial"))
	return m
}

// lostFrom counts the ids of before missing from now.
func lostFrom(before, now []string) int {
	have := map[string]bool{}
	for _, id := range now {
		have[id] = true
	}
	n := 0
	for _, id := range before {
		if !have[id] {
			n++
		}
	}
	return n
}

// testArchiveStreamDrop backs up a tree between this machine and the SSH
// host "box"; a wrapper on box holds the stream after its first MiB (tar
// on the source, or cat writing the destination) and the connection is
// killed while the archive streams.
func testArchiveStreamDrop(t *testing.T, r *faultRun, remoteDest bool) {
	s := sshdtest.StartT(t)
	g := newGate(t)
	wrap := filepath.Join(t.TempDir(), "wrap")
	// tar on box: the source stream (tar -c -f - ...) is held after 1 MiB.
	writeScript(t, filepath.Join(wrap, "tar"), fmt.Sprintf(`case " $* " in *" -c -f - "*)
  /usr/bin/tar "$@" | { dd bs=64k count=16 iflag=fullblock 2>/dev/null; %s; exec /bin/cat; }
  exit 0;;
esac
exec /usr/bin/tar "$@"`, g.hold()))
	// cat on box: writing a .partial archive is held after 1 MiB.
	writeScript(t, filepath.Join(wrap, "cat"), fmt.Sprintf(`case "$# $(readlink /proc/$$/fd/1)" in "0 "*.partial)
  dd bs=64k count=16 iflag=fullblock 2>/dev/null; %s; exec /bin/cat;;
esac
exec /bin/cat "$@"`, g.hold()))
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	randomFile(t, filepath.Join(src, "data", "big.bin"), 4<<20)
	randomFile(t, filepath.Join(src, "conf", "app.conf"), 4<<10)
	dest := filepath.Join(dir, "dest")
	log := orderLog(filepath.Join(dir, "order.log"))
	host, destHost := "box", "local"
	if remoteDest {
		host, destHost = "local", "box"
	}
	cfg := func(trigger string) string {
		return sshBox(s, map[string]string{"PATH": wrap + ":/usr/sbin:/usr/bin:/sbin:/bin"}) + fmt.Sprintf(`
resource "backupctl_backup_policy" "this" {
  host          = %q
  paths         = [%q]
  stop          = [%q]
  start         = [%q]
  destination   = { host = %q, path = %q }
  keep          = 3
  trigger       = %q
  force_destroy = true
}
`, host, src, log.cmd("stop"), log.cmd("start"), destHost, dest, trigger)
	}
	var before []string
	var fs faultStep
	var stop func() bool
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		ErrorCheck:               fs.errorCheck,
		Steps: []resource.TestStep{
			{Config: cfg("1"), Check: func(*terraform.State) error {
				before = generationIDs(t, dest)
				if len(before) != 1 {
					return fmt.Errorf("generations %v", before)
				}
				return nil
			}},
			{PreConfig: func() { g.arm(); stop = g.dropWhenHeld(s); fs.active = true }, Config: cfg("2")},
			{
				PreConfig: func() {
					r.injected = stop()
					if !r.injected {
						t.Fatal("the archive never streamed through the wrapper: nothing was dropped")
					}
					fs.outcome(t, `(?is)Backup failed.*archive.*`+sshDropped)
					now := generationIDs(t, dest)
					r.lost = lostFrom(before, now)
					if fs.err != nil && len(now) != len(before) {
						t.Errorf("after the failed backup the destination lists %v; want the generations before it, %v", now, before)
					}
					if p := partials(dest); len(p) != 0 {
						t.Errorf("a half-written archive is left: %v", p)
					}
					// start ran after the failed archive, as after the first one
					if w := log.words(t); strings.Join(w, " ") != "stop start stop start" {
						t.Errorf("stop/start ran as %v", w)
					}
				},
				Config: cfg("2"),
				Check: func(*terraform.State) error {
					now := generationIDs(t, dest)
					if len(now) != 2 || lostFrom(before, now) != 0 {
						return fmt.Errorf("generations %v after the retry; want 2 including %v", now, before)
					}
					if p := partials(dest); len(p) != 0 {
						return fmt.Errorf("a half-written archive is left: %v", p)
					}
					return nil
				},
			},
			{Config: cfg("2"), PlanOnly: true},
		},
	})
	r.converged = true
}

// ---- destination full ----

// smallFS mounts a 2 MiB tmpfs on dir (root only). grow makes it 32 MiB.
func smallFS(t *testing.T, dir string) (grow func(), err error) {
	if os.Getenv("BACKUPCTL_TEST_EMULATE_FULL") != "" {
		return nil, fmt.Errorf("BACKUPCTL_TEST_EMULATE_FULL is set")
	}
	if err := syscall.Mount("backupctl-test", dir, "tmpfs", 0, "size=2m,mode=0755"); err != nil {
		return nil, err
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			_ = syscall.Unmount(dir, syscall.MNT_DETACH)
		}
	})
	return func() {
		if err := syscall.Mount("backupctl-test", dir, "tmpfs", syscall.MS_REMOUNT, "size=32m"); err != nil {
			t.Fatalf("grow the tmpfs: %v", err)
		}
	}, nil
}

// testDestinationFull: the destination (on this machine, or on "box" over
// SSH) is a 2 MiB filesystem; a generation that does not fit fails, the
// filesystem is grown, and the next apply takes it. keep = 1, so a prune
// before the new archive were complete would lose the only generation.
// Where mounting is not permitted, the limit is emulated on "box": a cat
// wrapper that stops writing a .partial archive after 2 MiB with ENOSPC's
// message (always over SSH then).
func testDestinationFull(t *testing.T, r *faultRun, remote bool) {
	s := sshdtest.StartT(t)
	dir := t.TempDir()
	dest := filepath.Join(dir, "fs")
	if err := os.MkdirAll(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	wrap := filepath.Join(t.TempDir(), "wrap")
	full := filepath.Join(dir, "full")
	grow, err := smallFS(t, dest)
	if err != nil {
		remote = true
		t.Logf("destination full: mounting a tmpfs is not permitted (%v); the limit is emulated on the SSH host", err)
		if err := os.WriteFile(full, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		writeScript(t, filepath.Join(wrap, "cat"), fmt.Sprintf(`case "$# $(readlink /proc/$$/fd/1)" in "0 "*.partial)
  if [ -e %[1]s ]; then
    head -c 2097152
    if [ -n "$(head -c 1 | od -An)" ]; then echo "cat: write error: No space left on device" >&2; exit 1; fi
    exit 0
  fi;;
esac
exec /bin/cat "$@"`, transport.Quote(full)))
		grow = func() { _ = os.Remove(full) }
	} else {
		t.Logf("destination full: a tmpfs of 2 MiB mounted on %s", dest)
	}
	src := filepath.Join(dir, "src")
	randomFile(t, filepath.Join(src, "small.conf"), 64<<10)
	destHost := "local"
	if remote {
		destHost = "box"
	}
	archives := filepath.Join(dest, "bk")
	cfg := func(trigger string) string {
		return sshBox(s, map[string]string{"PATH": wrap + ":/usr/sbin:/usr/bin:/sbin:/bin"}) + fmt.Sprintf(`
resource "backupctl_backup_policy" "this" {
  host          = "local"
  paths         = [%q]
  destination   = { host = %q, path = %q }
  keep          = 1
  trigger       = %q
  force_destroy = true
}
`, src, destHost, archives, trigger)
	}
	var before []string
	var fs faultStep
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		ErrorCheck:               fs.errorCheck,
		Steps: []resource.TestStep{
			{Config: cfg("1"), Check: func(*terraform.State) error {
				before = generationIDs(t, archives)
				if len(before) != 1 {
					return fmt.Errorf("generations %v", before)
				}
				return nil
			}},
			{
				PreConfig: func() {
					randomFile(t, filepath.Join(src, "big.bin"), 3<<20)
					fs.active = true
				},
				Config: cfg("2"),
			},
			{
				PreConfig: func() {
					if fs.err == nil {
						t.Fatal("a 3 MiB archive was written to a 2 MiB destination")
					}
					r.injected = true
					fs.outcome(t, `(?i)Backup failed.*no space left on device`)
					now := generationIDs(t, archives)
					r.lost = lostFrom(before, now)
					if len(now) != 1 || r.lost != 0 {
						t.Errorf("after the failed backup the destination lists %v; want %v", now, before)
					}
					if p := partials(archives); len(p) != 0 {
						t.Errorf("a half-written archive is left: %v", p)
					}
					grow()
				},
				Config: cfg("2"),
				Check: func(*terraform.State) error {
					now := generationIDs(t, archives)
					if len(now) != 1 || now[0] == before[0] {
						return fmt.Errorf("generations %v after the retry; want one new generation (keep = 1), not %v", now, before)
					}
					if p := partials(archives); len(p) != 0 {
						return fmt.Errorf("a half-written archive is left: %v", p)
					}
					return nil
				},
			},
			{Config: cfg("2"), PlanOnly: true},
		},
	})
	r.converged = true
}
