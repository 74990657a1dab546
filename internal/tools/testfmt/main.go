// Command testfmt reads `go test -json` and prints what plain `go test`
// prints (the "ok"/"FAIL"/"?" line of every package, and the output of
// failed tests), plus the lines a test binary prints outside any test, such
// as the suite summaries of internal/provider ("faults: ...",
// "bad-input corpus: ..."), which plain `go test ./...` would hide.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

func main() {
	in := bufio.NewReader(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	buffers := map[string][]string{} // package/test -> output lines
	failed := false
	for {
		line, err := in.ReadString('\n')
		if len(line) > 0 {
			var e event
			if json.Unmarshal([]byte(line), &e) != nil || e.Action == "" {
				// Not an event (e.g. a build error on stdout): pass it on.
				fmt.Fprint(out, line)
			} else {
				handle(out, buffers, e, &failed)
			}
			if e.Test == "" {
				_ = out.Flush()
			}
		}
		if err != nil {
			break
		}
	}
	_ = out.Flush()
	if failed {
		os.Exit(1)
	}
}

func handle(out *bufio.Writer, buffers map[string][]string, e event, failed *bool) {
	key := e.Package + "\x00" + e.Test
	switch {
	case e.Action == "build-output":
		fmt.Fprint(out, e.Output)
	case e.Action == "build-fail":
		*failed = true
	case e.Test != "" && e.Action == "output":
		if !isFraming(e.Output) {
			buffers[key] = append(buffers[key], e.Output)
		}
	case e.Test != "" && e.Action == "fail":
		*failed = true
		// Plain go test prints the "--- FAIL" line before the test's log.
		lines := buffers[key]
		for _, l := range lines {
			if strings.HasPrefix(strings.TrimSpace(l), "--- FAIL") {
				fmt.Fprint(out, l)
			}
		}
		for _, l := range lines {
			if !strings.HasPrefix(strings.TrimSpace(l), "--- FAIL") {
				fmt.Fprint(out, l)
			}
		}
		delete(buffers, key)
	case e.Test != "" && (e.Action == "pass" || e.Action == "skip"):
		delete(buffers, key)
	case e.Test == "" && e.Action == "output":
		if e.Output != "PASS\n" && !isFraming(e.Output) {
			fmt.Fprint(out, e.Output)
		}
	case e.Test == "" && e.Action == "fail":
		*failed = true
	}
}

// isFraming reports the lines only -v output has.
func isFraming(s string) bool {
	for _, p := range []string{"=== RUN", "=== PAUSE", "=== CONT", "=== NAME"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
