package gdsemu

import (
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Commands the emulator answers as.
var Commands = []string{"sdxproxy", "sdxinfo", "sdxvolume"}

// Env is what one invocation sees of its environment.
type Env struct {
	Getenv func(string) string
	Stdout io.Writer
	Stderr io.Writer
	// Sleep waits (waitsync); time.Sleep when nil.
	Sleep func(time.Duration)
	// Euid is the caller's effective uid (os.Geteuid when nil).
	Euid func() int
}

// cmdError is an "SDX:<cmd>: ERROR: <text>" failure.
type cmdError struct {
	text   string
	status int
}

func (e *cmdError) Error() string { return e.text }

// errorf makes a failure whose text is printed after "SDX:<cmd>: ERROR: ".
func errorf(format string, a ...any) error {
	return &cmdError{text: fmt.Sprintf(format, a...), status: 1}
}

// usageError is a syntax error: the message, then a usage line.
type usageError struct{ text string }

func (e *usageError) Error() string { return e.text }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// run is the state of one invocation.
type run struct {
	cmd   string
	args  []string
	env   Env
	root  string
	node  string
	now   time.Time
	rng   *rand.Rand
	sleep func(time.Duration)
}

// Main runs one invocation: argv[0]'s base name picks the command, or
// argv[1] when argv[0] is "gdsemu". It returns the exit status.
func Main(argv []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.Stdout == nil {
		env.Stdout = os.Stdout
	}
	if env.Stderr == nil {
		env.Stderr = os.Stderr
	}
	if env.Euid == nil {
		env.Euid = os.Geteuid
	}
	if len(argv) == 0 {
		fmt.Fprintln(env.Stderr, "gdsemu: no command")
		return 2
	}
	name := filepath.Base(argv[0])
	args := argv[1:]
	if !isCommand(name) {
		if len(args) == 0 || !isCommand(args[0]) {
			fmt.Fprintf(env.Stderr, "usage: gdsemu {%s} [args...] (or call it through a link named like the command)\n", strings.Join(Commands, "|"))
			return 2
		}
		name, args = args[0], args[1:]
	}
	r := &run{cmd: name, args: args, env: env, sleep: env.Sleep}
	if r.sleep == nil {
		r.sleep = time.Sleep
	}
	err := r.main()
	switch e := err.(type) {
	case nil:
		return 0
	case *usageError:
		fmt.Fprintf(env.Stderr, "SDX:%s: ERROR: syntax error: %s\n", name, e.text)
		fmt.Fprintf(env.Stderr, "usage:\n%s", usage[name])
		return 1
	case *cmdError:
		fmt.Fprintf(env.Stderr, "SDX:%s: ERROR: %s\n", name, e.text)
		return e.status
	default:
		fmt.Fprintf(env.Stderr, "SDX:%s: ERROR: %v\n", name, err)
		return 1
	}
}

func isCommand(s string) bool {
	for _, c := range Commands {
		if c == s {
			return true
		}
	}
	return false
}

var usage = map[string]string{
	"sdxproxy": `  sdxproxy Join   -c class -m master -p proxy [-a mvol=pvol:jrm[:pslice][,...]] [-e delay=msec,softcopy,syncmode,waitsync]
  sdxproxy Part   -c class -p proxy,... [-a attribute=value] [-e instant,mode=val,unlock]
  sdxproxy Rejoin -c class -p proxy,... [-e delay=msec,softcopy,waitsync]
  sdxproxy RejoinRestore -c class -p proxy,... [-e delay=msec,instant,nowaitsync,softcopy]
  sdxproxy Restore -c class -p proxy,... [-e instant,nowaitsync]
  sdxproxy Break  -c class -p proxy [-e force,restore]
  sdxproxy Cancel -c class -p proxy
  sdxproxy Relate -c class -m master -p proxy
  sdxproxy Update -c class -p proxy,... [-e instant,nowaitsync]
`,
	"sdxinfo": `  sdxinfo [-ACDGSV] [-c class] [-o object] [-e label,long]
`,
	"sdxvolume": `  sdxvolume -F -c class [-v volume,...] [-e allnodes]
  sdxvolume -N -c class [-v volume,...] [-e allnodes]
`,
}

func (r *run) main() error {
	r.root = r.env.Getenv(EnvRoot)
	if r.root == "" {
		return fmt.Errorf("%s is not set: the emulator needs its root directory", EnvRoot)
	}
	r.count()
	if r.env.Getenv(EnvRequireRoot) == "1" && r.env.Euid() != 0 {
		return errorf("must be privileged user")
	}
	var seed int64
	if s := r.env.Getenv(EnvSeed); s != "" {
		seed, _ = strconv.ParseInt(s, 10, 64)
	} else {
		seed = time.Now().UnixNano() ^ int64(os.Getpid())<<20
	}
	r.rng = rand.New(rand.NewSource(seed))
	switch r.cmd {
	case "sdxinfo":
		return r.sdxinfo()
	case "sdxvolume":
		return r.sdxvolume()
	default:
		return r.sdxproxy()
	}
}

// clock returns the emulator's "now": GDSEMU_NOW, else the clock file,
// else the real time.
func (r *run) clock() (time.Time, error) {
	if s := r.env.Getenv(EnvNow); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("%s: %w", EnvNow, err)
		}
		return t, nil
	}
	b, err := os.ReadFile(filepath.Join(r.root, ClockFile))
	if err == nil {
		t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(b)))
		if err != nil {
			return time.Time{}, fmt.Errorf("clock file: %w", err)
		}
		return t, nil
	}
	return time.Now(), nil
}

// copyRate is the rate for copies started now.
func (r *run) copyRate(st *State) float64 {
	if s := r.env.Getenv(EnvCopyRate); s != "" {
		if f, err := strconv.ParseFloat(s, 64); err == nil && f > 0 {
			return f
		}
	}
	return st.CopyRateMBps
}

// withState runs f on the state under the lock; when write is set and f
// succeeds the state is saved.
func (r *run) withState(write bool, f func(st *State) error) error {
	unlock, err := lock(r.root)
	if err != nil {
		return err
	}
	defer unlock()
	st, err := loadState(r.root)
	if err != nil {
		return err
	}
	now, err := r.clock()
	if err != nil {
		return err
	}
	r.now = now
	st.settle(now)
	r.node = r.env.Getenv(EnvNode)
	if r.node == "" {
		r.node = st.Nodes[0]
	}
	if err := f(st); err != nil {
		return err
	}
	if write {
		return st.save(r.root)
	}
	return nil
}

// options is a parsed getopt-style command line.
type options struct {
	flags map[byte]bool
	vals  map[byte]string
	rest  []string
}

// parseOpts reads options: letters in withArg take a value (next word or
// attached), letters in flags do not; flags may be combined ("-SV").
func parseOpts(args []string, flags, withArg string) (*options, error) {
	o := &options{flags: map[byte]bool{}, vals: map[byte]string{}}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if len(a) < 2 || a[0] != '-' {
			o.rest = append(o.rest, a)
			continue
		}
		for j := 1; j < len(a); j++ {
			c := a[j]
			switch {
			case strings.IndexByte(withArg, c) >= 0:
				v := a[j+1:]
				if v == "" {
					if i+1 >= len(args) {
						return nil, usagef("option -%c needs a value", c)
					}
					i++
					v = args[i]
				}
				if _, dup := o.vals[c]; dup {
					return nil, usagef("option -%c given twice", c)
				}
				o.vals[c] = v
				j = len(a)
			case strings.IndexByte(flags, c) >= 0:
				o.flags[c] = true
			default:
				return nil, usagef("unknown option -%c", c)
			}
		}
	}
	if len(o.rest) > 0 {
		return nil, usagef("unexpected argument %q", o.rest[0])
	}
	return o, nil
}

// extOpts parses a -e value: comma-separated words, some with "=value".
// allowed maps each accepted word to whether it takes a value.
func extOpts(s string, allowed map[string]bool) (map[string]string, error) {
	out := map[string]string{}
	if s == "" {
		return out, nil
	}
	for _, w := range strings.Split(s, ",") {
		k, v, hasV := strings.Cut(w, "=")
		needV, ok := allowed[k]
		if !ok {
			return nil, usagef("unknown -e option %q", k)
		}
		if needV != hasV || needV && v == "" {
			if needV {
				return nil, usagef("-e %s needs a value (%s=...)", k, k)
			}
			return nil, usagef("-e %s takes no value", k)
		}
		out[k] = v
	}
	return out, nil
}

// info prints an INFO message.
func (r *run) info(format string, a ...any) {
	fmt.Fprintf(r.env.Stdout, "SDX:%s: INFO: %s\n", r.cmd, fmt.Sprintf(format, a...))
}
