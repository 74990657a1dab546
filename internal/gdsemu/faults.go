package gdsemu

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Fault makes matching invocations fail with an ERROR message.
type Fault struct {
	Command string `json:"command"`           // "sdxproxy", "sdxinfo", "sdxvolume"
	Op      string `json:"op,omitempty"`      // sdxproxy subcommand ("Part"), or "-F"/"-N"; empty: any
	Message string `json:"message,omitempty"` // text after "ERROR: " (a default names the fault)
	// Times is how many invocations fail; 0 means every one.
	Times int `json:"times,omitempty"`
}

func (f Fault) matches(cmd, op string) bool {
	return f.Command == cmd && (f.Op == "" || f.Op == op)
}

func (f Fault) err(obj string) error {
	msg := f.Message
	if msg == "" {
		msg = "injected fault: I/O error"
		if obj != "" {
			msg = obj + ": " + msg
		}
	}
	return errorf("%s", msg)
}

// InjectFault adds a fault to root's fault list.
func InjectFault(root string, f Fault) error {
	unlock, err := lock(root)
	if err != nil {
		return err
	}
	defer unlock()
	fs, err := readFaults(root)
	if err != nil {
		return err
	}
	fs = append(fs, f)
	b, _ := json.MarshalIndent(fs, "", "  ")
	return writeAtomic(filepath.Join(root, FaultsFile), b)
}

// ClearFaults removes every injected fault.
func ClearFaults(root string) error {
	err := os.Remove(filepath.Join(root, FaultsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

func readFaults(root string) ([]Fault, error) {
	b, err := os.ReadFile(filepath.Join(root, FaultsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var fs []Fault
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil, nil
	}
	if err := json.Unmarshal(b, &fs); err != nil {
		return nil, err
	}
	return fs, nil
}

// fault returns the injected failure for (r.cmd, op), if any; a fault
// with a count is used up. It must be called with the state lock held.
func (r *run) fault(op, obj string) error {
	for _, w := range strings.Split(r.env.Getenv(EnvFault), ";") {
		w = strings.TrimSpace(w)
		if w == "" {
			continue
		}
		c, o, _ := strings.Cut(w, " ")
		if (Fault{Command: c, Op: strings.TrimSpace(o)}).matches(r.cmd, op) {
			return (Fault{}).err(obj)
		}
	}
	fs, err := readFaults(r.root)
	if err != nil {
		return err
	}
	for i, f := range fs {
		if !f.matches(r.cmd, op) {
			continue
		}
		if f.Times > 0 {
			if f.Times == 1 {
				fs = append(fs[:i], fs[i+1:]...)
			} else {
				fs[i].Times--
			}
			b, _ := json.MarshalIndent(fs, "", "  ")
			if err := writeAtomic(filepath.Join(r.root, FaultsFile), b); err != nil {
				return err
			}
		}
		return f.err(obj)
	}
	return nil
}

// Call is one recorded invocation.
type Call struct {
	Command string
	Args    []string
}

// count appends this invocation to the call log. O_APPEND keeps lines of
// concurrent callers whole.
func (r *run) count() {
	f, err := os.OpenFile(filepath.Join(r.root, CallsFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = f.WriteString(strings.Join(append([]string{r.cmd}, r.args...), "\t") + "\n")
}

// Calls returns every recorded invocation, oldest first.
func Calls(root string) ([]Call, error) {
	f, err := os.Open(filepath.Join(root, CallsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var calls []Call
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		w := strings.Split(sc.Text(), "\t")
		if len(w) == 0 || w[0] == "" {
			continue
		}
		calls = append(calls, Call{Command: w[0], Args: w[1:]})
	}
	return calls, sc.Err()
}

// CountCalls returns how many times cmd ran (and, when op is not empty,
// with op as its first argument, e.g. "Join").
func CountCalls(root, cmd, op string) (int, error) {
	calls, err := Calls(root)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range calls {
		if c.Command == cmd && (op == "" || len(c.Args) > 0 && c.Args[0] == op) {
			n++
		}
	}
	return n, nil
}

// ResetCalls empties the call log.
func ResetCalls(root string) error {
	err := os.Remove(filepath.Join(root, CallsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// SetClock fixes the emulator's "now" for every caller (through the clock
// file); the zero time returns to the real clock.
func SetClock(root string, t time.Time) error {
	p := filepath.Join(root, ClockFile)
	if t.IsZero() {
		err := os.Remove(p)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	return writeAtomic(p, []byte(t.UTC().Format(time.RFC3339Nano)+"\n"))
}
