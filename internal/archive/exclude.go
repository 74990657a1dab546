package archive

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Matcher decides which members an exclude list removes, the way GNU tar's
// --exclude does by default (--wildcards, --wildcards-match-slash,
// --no-anchored, recursion):
//
//   - "*" matches any run of characters including "/", "?" any one
//     character, "[...]" a set ("[!...]" or "[^...]" negated, ranges,
//     [:alpha:]-style classes), "\" quotes the next character;
//   - a pattern matches a member name when it matches the whole name, or
//     the part after any "/" (so "*.log" and "cache" match at any depth);
//   - a pattern also matches when it matches a leading part of the name
//     that ends right before a "/" (a matched directory takes its contents);
//   - a pattern starting with "/" is anchored: it is matched against the
//     absolute path only (GNU tar gets it as --anchored with the "/"
//     removed, since members are stored without it).
type Matcher struct {
	floating []string
	anchored []string
}

// NewMatcher compiles patterns. Empty patterns are refused.
func NewMatcher(patterns []string) (*Matcher, error) {
	m := &Matcher{}
	for _, p := range patterns {
		if strings.TrimLeft(p, "/") == "" {
			return nil, fmt.Errorf("exclude pattern %q: empty", p)
		}
		if strings.ContainsRune(p, 0) {
			return nil, fmt.Errorf("exclude pattern %q: contains a NUL byte", p)
		}
		if strings.HasPrefix(p, "/") {
			m.anchored = append(m.anchored, strings.TrimLeft(p, "/"))
		} else {
			m.floating = append(m.floating, p)
		}
	}
	return m, nil
}

// Empty reports whether nothing is excluded.
func (m *Matcher) Empty() bool { return m == nil || len(m.floating)+len(m.anchored) == 0 }

// Match reports whether the member name (relative, no leading or trailing
// "/") is excluded.
func (m *Matcher) Match(name string) bool {
	if m == nil {
		return false
	}
	for _, p := range m.anchored {
		if globLeadingDir(p, name) {
			return true
		}
	}
	for _, p := range m.floating {
		if globLeadingDir(p, name) {
			return true
		}
		for i := 0; i < len(name); i++ {
			if name[i] == '/' && i+1 < len(name) && name[i+1] != '/' && globLeadingDir(p, name[i+1:]) {
				return true
			}
		}
	}
	return false
}

// TarArgs returns the GNU tar options that exclude the same members.
func (m *Matcher) TarArgs() []string {
	if m == nil {
		return nil
	}
	var a []string
	for _, p := range m.floating {
		a = append(a, "--exclude="+p)
	}
	if len(m.anchored) > 0 {
		a = append(a, "--anchored")
		for _, p := range m.anchored {
			a = append(a, "--exclude="+p)
		}
		a = append(a, "--no-anchored")
	}
	return a
}

// globLeadingDir matches pattern against s like fnmatch(3) with
// FNM_LEADING_DIR and without FNM_PATHNAME or FNM_PERIOD.
func globLeadingDir(pattern, s string) bool {
	return glob(pattern, s, 0)
}

// glob matches pattern from s[i:]; the pattern may stop at the end of s or
// right before a "/" in it.
func glob(p, s string, depth int) bool {
	if depth > 64 {
		// Pathological pattern: give up matching rather than recurse forever.
		return false
	}
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			if p == "" {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if glob(p, s[i:], depth+1) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
			_, n := decodeChar(s)
			p, s = p[1:], s[n:]
		case '[':
			if s == "" {
				return false
			}
			c, n := decodeChar(s)
			ok, rest, valid := matchClass(p, c)
			if !valid {
				// An unterminated "[" is an ordinary character.
				if s[0] != '[' {
					return false
				}
				p, s = p[1:], s[1:]
				continue
			}
			if !ok {
				return false
			}
			p, s = rest, s[n:]
		case '\\':
			if len(p) > 1 {
				p = p[1:]
			}
			fallthrough
		default:
			if s == "" || s[0] != p[0] {
				return false
			}
			p, s = p[1:], s[1:]
		}
	}
	return s == "" || s[0] == '/'
}

// decodeChar returns the first UTF-8 character of s (or its first byte when
// invalid) and its length.
func decodeChar(s string) (rune, int) {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError && n <= 1 {
		if s == "" {
			return 0, 0
		}
		return rune(s[0]), 1
	}
	return r, n
}

// matchClass matches c against the bracket expression at the start of p
// ("[...]"). valid is false when the expression is not terminated.
func matchClass(p string, c rune) (ok bool, rest string, valid bool) {
	i := 1
	negate := false
	if i < len(p) && (p[i] == '!' || p[i] == '^') {
		negate = true
		i++
	}
	first := true
	for i < len(p) {
		if p[i] == ']' && !first {
			return ok != negate, p[i+1:], true
		}
		first = false
		if p[i] == '[' && i+1 < len(p) && p[i+1] == ':' {
			end := strings.Index(p[i+2:], ":]")
			if end >= 0 {
				if inCharClass(p[i+2:i+2+end], c) {
					ok = true
				}
				i += 2 + end + 2
				continue
			}
		}
		lo, n := classChar(p[i:])
		if n == 0 {
			return false, "", false
		}
		i += n
		hi := lo
		if i+1 < len(p) && p[i] == '-' && p[i+1] != ']' {
			h, m := classChar(p[i+1:])
			if m == 0 {
				return false, "", false
			}
			hi = h
			i += 1 + m
		}
		if lo <= c && c <= hi {
			ok = true
		}
	}
	return false, "", false
}

func classChar(p string) (rune, int) {
	if p == "" {
		return 0, 0
	}
	if p[0] == '\\' && len(p) > 1 {
		r, n := decodeChar(p[1:])
		return r, n + 1
	}
	return decodeChar(p)
}

func inCharClass(name string, c rune) bool {
	switch name {
	case "alpha":
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	case "digit":
		return c >= '0' && c <= '9'
	case "alnum":
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	case "upper":
		return c >= 'A' && c <= 'Z'
	case "lower":
		return c >= 'a' && c <= 'z'
	case "space":
		return c == ' ' || c >= '\t' && c <= '\r'
	case "blank":
		return c == ' ' || c == '\t'
	case "punct":
		return c > ' ' && c < 0x7f && !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9')
	case "xdigit":
		return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
	case "print":
		return c >= ' ' && c < 0x7f
	case "graph":
		return c > ' ' && c < 0x7f
	case "cntrl":
		return c < ' ' || c == 0x7f
	}
	return false
}
