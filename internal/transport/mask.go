package transport

import "strings"

// Mask replaces every secret that occurs in s with "***". Secrets shorter
// than four bytes are still masked; empty ones are ignored.
func Mask(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		s = strings.ReplaceAll(s, sec, "***")
		// Secrets that span lines (private keys) are also masked line by line.
		if strings.Contains(sec, "\n") {
			for _, line := range strings.Split(sec, "\n") {
				if len(strings.TrimSpace(line)) >= 8 {
					s = strings.ReplaceAll(s, line, "***")
				}
			}
		}
	}
	return s
}
