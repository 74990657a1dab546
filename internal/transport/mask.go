package transport

import (
	"sort"
	"strings"
)

// Mask replaces every secret that occurs in s with "***". Secrets shorter
// than four bytes are still masked; empty ones are ignored.
func Mask(s string, secrets ...string) string {
	// Longest first: masking "abc" before "abcdef" would leave "***def".
	secs := append([]string(nil), secrets...)
	sort.SliceStable(secs, func(i, j int) bool { return len(secs[i]) > len(secs[j]) })
	for _, sec := range secs {
		if sec == "" {
			continue
		}
		// Logged command lines are built with Join: a secret holding a
		// single quote appears there as 'it'\''s', not verbatim.
		if strings.Contains(sec, "'") {
			s = strings.ReplaceAll(s, strings.ReplaceAll(sec, "'", `'\''`), "***")
		}
		s = strings.ReplaceAll(s, sec, "***")
		// Secrets that span lines (private keys) are also masked line by
		// line: a log may show them JSON-escaped or with other line ends.
		if strings.Contains(sec, "\n") {
			for _, line := range strings.Split(sec, "\n") {
				line = strings.TrimRight(line, "\r")
				if len(strings.TrimSpace(line)) >= 8 {
					s = strings.ReplaceAll(s, line, "***")
				}
			}
		}
	}
	return s
}
