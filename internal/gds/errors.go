package gds

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// Kinds of GDS failure; an *Error wraps one of them, so errors.Is works.
var (
	ErrNotFound       = errors.New("no such GDS object")
	ErrActive         = errors.New("volume is active")
	ErrJoined         = errors.New("master and proxy are joined")
	ErrParted         = errors.New("master and proxy are parted")
	ErrNotProxy       = errors.New("not a proxy")
	ErrRelated        = errors.New("already related to a master")
	ErrCopying        = errors.New("copying in progress")
	ErrPrecondition   = errors.New("GDS precondition not met")
	ErrSyntax         = errors.New("sdx command syntax error")
	ErrPermission     = errors.New("not privileged")
	ErrNotInstalled   = errors.New("GDS commands not found")
	ErrInvalidData    = errors.New("volume data invalid")
	ErrUnknownFailure = errors.New("GDS command failed")
)

// Error is a failed sdx command with its message classified.
type Error struct {
	Host    string
	Argv    []string
	Status  int
	Command string // from the message: sdxproxy, sdxinfo, sdxvolume
	Object  string // the object the message names, when it names one
	Message string // the text after "ERROR: "
	Kind    error
}

func (e *Error) Error() string {
	if len(e.Argv) == 0 {
		// found before any command ran (a refused precondition)
		if e.Host == "" {
			return e.Message
		}
		return fmt.Sprintf("host %q: %s", e.Host, e.Message)
	}
	if e.Status == 0 {
		// the command succeeded; what it printed is the failure
		return fmt.Sprintf("host %q: %s: %s", e.Host, strings.Join(e.Argv, " "), e.Message)
	}
	return fmt.Sprintf("host %q: %s failed (exit %d): %s", e.Host, strings.Join(e.Argv, " "), e.Status, e.Message)
}

// Unwrap gives the kind.
func (e *Error) Unwrap() error { return e.Kind }

var msgRe = regexp.MustCompile(`(?m)^SDX:([A-Za-z0-9_]+): ERROR: (.*)$`)

// rules classify ERROR texts by wording; the first match wins. Real GDS
// message numbers are not printed, so wording is all there is.
var rules = []struct {
	re   *regexp.Regexp
	kind error
}{
	{regexp.MustCompile(`(?i)syntax error|usage:|invalid option|unknown option`), ErrSyntax},
	{regexp.MustCompile(`(?i)privileged|permission denied|not permitted|superuser|password is required|terminal is required`), ErrPermission},
	{regexp.MustCompile(`(?i)no such|not found|does not exist`), ErrNotFound},
	{regexp.MustCompile(`(?i)restore is impossible|are joined|already joined|is joined|while joined`), ErrJoined},
	{regexp.MustCompile(`(?i)already parted|is parted|not joined`), ErrParted},
	{regexp.MustCompile(`(?i)not a proxy`), ErrNotProxy},
	{regexp.MustCompile(`(?i)already related|already a proxy`), ErrRelated},
	{regexp.MustCompile(`(?i)copying.*in progress|in process of copying|copying is in process|being copied`), ErrCopying},
	{regexp.MustCompile(`(?i)is active|in use|busy|is running|started on`), ErrActive},
	{regexp.MustCompile(`(?i)invalid`), ErrInvalidData},
	{regexp.MustCompile(`(?i)same group|is a proxy|differs|cannot be used|has a proxy|holds proxy|exists in the proxy group|must be|required|cannot`), ErrPrecondition},
}

// objRe: messages start with the object they are about: "Volume2: ...".
var objRe = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9_-]{0,31})(?:, [A-Za-z0-9][A-Za-z0-9_-]{0,31})*: `)

// Classify turns a finished command into nil (exit 0) or an *Error.
func Classify(host string, argv []string, res transport.Result) error {
	if res.ExitStatus == 0 {
		return nil
	}
	e := &Error{Host: host, Argv: argv, Status: res.ExitStatus, Kind: ErrUnknownFailure}
	if len(argv) > 0 {
		e.Command = argv[0]
	}
	text := string(res.Stderr) + "\n" + string(res.Stdout)
	if m := msgRe.FindStringSubmatch(text); m != nil {
		e.Command, e.Message = m[1], strings.TrimSpace(m[2])
	} else {
		e.Message = strings.TrimSpace(string(res.Stderr))
		if e.Message == "" {
			e.Message = strings.TrimSpace(string(res.Stdout))
		}
		if len(e.Message) > 500 {
			e.Message = e.Message[:500] + "..."
		}
		if regexp.MustCompile(`(?i)sudo: .*(password is required|terminal is required)`).MatchString(e.Message) {
			e.Kind = ErrPermission
			return e
		}
		if res.ExitStatus == 127 || strings.Contains(e.Message, "command not found") {
			e.Kind = ErrNotInstalled
			e.Message = fmt.Sprintf("%s is not installed or not in PATH on this host (%s)", e.Command, e.Message)
			return e
		}
	}
	if m := objRe.FindStringSubmatch(e.Message); m != nil {
		e.Object = m[1]
	}
	for _, r := range rules {
		if r.re.MatchString(e.Message) {
			e.Kind = r.kind
			break
		}
	}
	return e
}
