package transport

import (
	"fmt"
	"sort"
	"strings"
)

// Quote returns s quoted for a POSIX shell: any byte sequence comes back as
// exactly one word with its value unchanged.
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	// '=' is not in the safe set: an unquoted NAME=value as the first word
	// is an assignment to sh, not a command, and zsh expands a leading "=cmd".
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.ContainsRune("@%+:,./-_", c)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Join quotes every word and joins them with spaces.
func Join(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = Quote(a)
	}
	return strings.Join(q, " ")
}

// CommandLine builds the one string a remote login shell runs for argv:
// host env and command env go through env(1) (sshd's AcceptEnv is never
// relied upon), optionally under non-interactive sudo, optionally after cd.
func CommandLine(argv []string, env map[string]string, sudo bool, dir string) string {
	var words []string
	if sudo {
		words = append(words, "sudo", "-n", "--")
	}
	if len(env) > 0 || dir != "" {
		keys := make([]string, 0, len(env))
		for k := range env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		words = append(words, "env")
		for _, k := range keys {
			words = append(words, k+"="+env[k])
		}
	}
	if dir != "" {
		// env cannot change directory: run through sh with the dir as $1.
		words = append(words, "/bin/sh", "-c", `cd -- "$1" && shift && exec "$@"`, "sh", dir)
	}
	words = append(words, argv...)
	return Join(words)
}

// CheckEnv refuses variable names that are not portable shell names. A name
// is an argv word for env(1): one like "--split-string" or "-i" would be
// taken as an option (GNU env -S even runs its value as a command).
func CheckEnv(env map[string]string) error {
	for k := range env {
		if !ValidEnvName(k) {
			return fmt.Errorf("environment variable name %q is not valid: use letters, digits and _ and do not start with a digit", k)
		}
	}
	return nil
}

// ValidEnvName reports whether k matches [A-Za-z_][A-Za-z0-9_]*.
func ValidEnvName(k string) bool {
	if k == "" {
		return false
	}
	for i, c := range k {
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// MergeEnv returns base overlaid with extra (extra wins).
func MergeEnv(base, extra map[string]string) map[string]string {
	if len(base) == 0 {
		return extra
	}
	if len(extra) == 0 {
		return base
	}
	m := make(map[string]string, len(base)+len(extra))
	for k, v := range base {
		m[k] = v
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}
