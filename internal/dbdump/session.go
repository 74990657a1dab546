package dbdump

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// session is one piece of work on a host: a private temporary directory
// holding the credentials file, removed by close.
type session struct {
	t   transport.Transport
	cfg Config
	tmp string // private dir on the host ("" until opened)
	// credFile is the pgpass or option file ("" when there is no password).
	credFile string
}

func openSession(ctx context.Context, t transport.Transport, cfg Config) (*session, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &session{t: t, cfg: cfg}
	if cfg.Password == "" {
		return s, nil
	}
	// mktemp -d makes a 0700 directory only its owner can enter.
	res, err := transport.RunOK(ctx, t, transport.Command{Argv: []string{"mktemp", "-d", "-t", "backupctl-db.XXXXXXXXXX"}})
	if err != nil {
		return nil, fmt.Errorf("make a private temp dir on %s: %w", t.Host(), err)
	}
	s.tmp = strings.TrimSpace(string(res.Stdout))
	if !path.IsAbs(s.tmp) {
		return nil, fmt.Errorf("mktemp on %s printed %q, not a path", t.Host(), s.tmp)
	}
	var content string
	switch cfg.Engine {
	case PostgreSQL:
		s.credFile = path.Join(s.tmp, "pgpass")
		// Every host, port, database and user: the file serves this one run.
		content = "*:*:*:*:" + pgpassEscape(cfg.Password) + "\n"
	case MySQL:
		s.credFile = path.Join(s.tmp, "client.cnf")
		content = "[client]\npassword=" + optionFileQuote(cfg.Password) + "\n"
	}
	if err := t.Put(ctx, s.credFile, strings.NewReader(content), 0o600); err != nil {
		s.close()
		return nil, fmt.Errorf("write the credentials file on %s: %w", t.Host(), err)
	}
	return s, nil
}

// close removes the private directory, even when ctx has ended.
func (s *session) close() {
	if s.tmp == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(context.Background()), 30*time.Second)
	defer cancel()
	_, _ = s.t.Run(ctx, transport.Command{Argv: []string{"rm", "-rf", "--", s.tmp}})
	s.tmp = ""
}

// pgpassEscape escapes ':' and '\' as the pgpass format requires.
func pgpassEscape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return strings.ReplaceAll(s, ":", `\:`)
}

// optionFileQuote quotes a value for a MySQL option file: inside double
// quotes, '\' and '"' are escaped with a backslash; '#' is then literal.
func optionFileQuote(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}

// toolScript runs the first of several candidate programs that exists, in
// $1 (a directory) or else on PATH, with stdin from $3 when not empty.
// Candidate names ($2) are ours, never user input.
const toolScript = `d=$1; names=$2; in=$3; shift 3
for n in $names; do
  if [ -n "$d" ]; then p="$d/$n"; [ -x "$p" ] || continue
  else p=$(command -v "$n") || continue; fi
  if [ -n "$in" ]; then exec "$p" "$@" < "$in"; fi
  exec "$p" "$@"
done
echo "$names: not found${d:+ in $d}" >&2
exit 127`

// tool runs one of names with args; env is added to the command's
// environment; stdinFile (a path on the host) is fed to it when not "".
func (s *session) tool(ctx context.Context, names, stdinFile string, env map[string]string, stdin io.Reader, args ...string) (transport.Result, error) {
	argv := append([]string{"/bin/sh", "-c", toolScript, "sh", s.cfg.BinDir, names, stdinFile}, args...)
	return transport.RunOK(ctx, s.t, transport.Command{
		Argv:    argv,
		Env:     env,
		Stdin:   stdin,
		Secrets: s.cfg.secrets(),
	})
}

// version returns the first line a tool prints for --version.
func (s *session) version(ctx context.Context, names string) string {
	res, err := s.tool(ctx, names, "", nil, nil, "--version")
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(res.Stdout)), "\n")
	return line
}

func mkdirPrivate(ctx context.Context, t transport.Transport, dir string) error {
	_, err := transport.RunOK(ctx, t, transport.Command{Argv: []string{"mkdir", "-p", "-m", "0700", "--", dir}})
	return err
}

func writeIndex(ctx context.Context, t transport.Transport, dir string, idx *Index) error {
	b, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return err
	}
	return t.Put(ctx, path.Join(dir, IndexName), bytes.NewReader(append(b, '\n')), 0o600)
}

// ReadIndex reads the index a Dump left in dir/<engine>.
func ReadIndex(ctx context.Context, t transport.Transport, dir string, e Engine) (*Index, error) {
	var buf bytes.Buffer
	if err := t.Get(ctx, path.Join(dir, Subdir(e), IndexName), &buf); err != nil {
		return nil, fmt.Errorf("read the dump index: %w", err)
	}
	var idx Index
	if err := json.Unmarshal(buf.Bytes(), &idx); err != nil {
		return nil, fmt.Errorf("dump index %s: %w", path.Join(dir, Subdir(e), IndexName), err)
	}
	if idx.Engine != e {
		return nil, fmt.Errorf("dump in %s is a %s dump, not %s", dir, idx.Engine, e)
	}
	for _, f := range idx.Files {
		if f.File == "" || strings.Contains(f.File, "/") || strings.HasPrefix(f.File, ".") {
			return nil, fmt.Errorf("dump index names a bad file %q", f.File)
		}
	}
	return &idx, nil
}
