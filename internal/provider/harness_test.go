package provider

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// TestMain only adds the suite summaries (fault injection, bad-input
// corpus) after the tests ran.
func TestMain(m *testing.M) {
	code := m.Run()
	printSummaries()
	os.Exit(code)
}

// summaries are one-line results of whole suites, printed once at the end.
var summaries struct {
	mu    sync.Mutex
	lines []string
}

func addSummary(line string) {
	summaries.mu.Lock()
	defer summaries.mu.Unlock()
	summaries.lines = append(summaries.lines, line)
}

// printSummaries writes the summary lines to standard output, outside any
// test: plain `go test ./...` hides a passing package's output, so make test
// runs go test -json through internal/tools/testfmt, which shows them.
func printSummaries() {
	summaries.mu.Lock()
	defer summaries.mu.Unlock()
	if len(summaries.lines) > 0 {
		fmt.Println(strings.Join(summaries.lines, "\n"))
	}
}

// snippetLine matches the lines of a terraform diagnostic that quote the
// configuration ("with ...", "on main.tf line 3, in ...", "  3:   keep = 0")
// rather than say something about it.
var snippetLine = regexp.MustCompile(`^[\s│╷╵]*(with \S+,|on \S+ line \d+|\d+:|\(sensitive value\))`)

// diagText is an error from terraform without the quoted configuration
// (what the diagnostics themselves say), on one line: terraform wraps
// long details at spaces.
func diagText(err error) string {
	var keep []string
	for _, l := range strings.Split(err.Error(), "\n") {
		if !snippetLine.MatchString(l) {
			keep = append(keep, strings.Trim(l, " \t│╷╵"))
		}
	}
	return strings.Join(strings.Fields(strings.Join(keep, " ")), " ")
}
