package dbdump

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"
)

const (
	pgDump    = "pg_dump"
	pgDumpAll = "pg_dumpall"
	pgRestore = "pg_restore"
	psql      = "psql"
	pgGlobals = "globals.sql"
)

// pgEnv is the environment of every PostgreSQL tool: the password file,
// and no prompt ever (-w is passed too).
func (s *session) pgEnv() map[string]string {
	env := map[string]string{"PGCONNECT_TIMEOUT": "30"}
	if s.credFile != "" {
		env["PGPASSFILE"] = s.credFile
	}
	return env
}

// pgConnArgs are the connection options shared by every PostgreSQL tool.
func (c Config) pgConnArgs() []string {
	args := []string{"-w"}
	if c.Host != "" {
		args = append(args, "--host="+c.Host)
	}
	if c.Port != 0 {
		args = append(args, "--port="+strconv.Itoa(c.Port))
	}
	if c.User != "" {
		args = append(args, "--username="+c.User)
	}
	return args
}

// pgConnString returns a libpq connection string naming database db, so
// that no database name is ever mistaken for a connection string or an
// option.
func pgConnString(db string) string {
	v := strings.ReplaceAll(db, `\`, `\\`)
	v = strings.ReplaceAll(v, `'`, `\'`)
	return "dbname='" + v + "'"
}

func dumpPostgres(ctx context.Context, s *session, dir string) (*Index, error) {
	out := path.Join(dir, Subdir(PostgreSQL))
	if err := mkdirPrivate(ctx, s.t, out); err != nil {
		return nil, err
	}
	idx := &Index{Engine: PostgreSQL, Tool: s.version(ctx, pgDump)}
	dbs := s.cfg.Databases
	if len(dbs) == 0 {
		idx.All = true
		var err error
		if dbs, err = s.pgDatabases(ctx); err != nil {
			return nil, err
		}
		args := append(s.cfg.pgConnArgs(), "--globals-only", "--file="+path.Join(out, pgGlobals))
		if _, err := s.tool(ctx, pgDumpAll, "", s.pgEnv(), nil, args...); err != nil {
			return nil, fmt.Errorf("pg_dumpall --globals-only: %w", err)
		}
		idx.Globals = pgGlobals
	}
	for _, db := range dbs {
		file := fileName(db) + ".dump"
		args := append(s.cfg.pgConnArgs(), "--format=custom", "--compress=0",
			"--file="+path.Join(out, file))
		args = append(args, s.cfg.Options...)
		args = append(args, "--dbname="+pgConnString(db))
		if _, err := s.tool(ctx, pgDump, "", s.pgEnv(), nil, args...); err != nil {
			return nil, fmt.Errorf("pg_dump of database %q: %w", db, err)
		}
		idx.Files = append(idx.Files, IndexFile{File: file, Databases: []string{db}})
	}
	if err := writeIndex(ctx, s.t, out, idx); err != nil {
		return nil, err
	}
	return idx, nil
}

// pgDatabases lists the databases that accept connections, templates
// excepted (template0/1 belong to the target cluster).
func (s *session) pgDatabases(ctx context.Context) ([]string, error) {
	args := append(s.cfg.pgConnArgs(), "-X", "-A", "-t", "-0", "-v", "ON_ERROR_STOP=1",
		"--dbname="+pgConnString("postgres"),
		"-c", "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname")
	res, err := s.tool(ctx, psql, "", s.pgEnv(), nil, args...)
	if err != nil {
		return nil, fmt.Errorf("list databases: %w", err)
	}
	var dbs []string
	for _, d := range strings.Split(string(res.Stdout), "\x00") {
		if d = strings.TrimSuffix(d, "\n"); d != "" {
			dbs = append(dbs, d)
		}
	}
	return dbs, nil
}

func (s *session) pgDatabaseExists(ctx context.Context, db string) (bool, error) {
	args := append(s.cfg.pgConnArgs(), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-v", "db="+db,
		"--dbname="+pgConnString("postgres"), "-f", "-")
	res, err := s.tool(ctx, psql, "", s.pgEnv(), strings.NewReader("SELECT count(*) FROM pg_database WHERE datname = :'db';\n"), args...)
	if err != nil {
		return false, fmt.Errorf("look up database %q: %w", db, err)
	}
	return strings.TrimSpace(string(res.Stdout)) == "1", nil
}

func restorePostgres(ctx context.Context, s *session, dir string) (*Index, error) {
	in := path.Join(dir, Subdir(PostgreSQL))
	idx, err := ReadIndex(ctx, s.t, dir, PostgreSQL)
	if err != nil {
		return nil, err
	}
	if idx.Globals != "" {
		if idx.Globals != pgGlobals {
			return nil, fmt.Errorf("dump index names a bad globals file %q", idx.Globals)
		}
		if err := s.pgRestoreGlobals(ctx, path.Join(in, idx.Globals)); err != nil {
			return nil, err
		}
	}
	for _, f := range idx.Files {
		if len(f.Databases) != 1 {
			return nil, fmt.Errorf("dump index: file %s names %d databases, want 1", f.File, len(f.Databases))
		}
		db := f.Databases[0]
		exists, err := s.pgDatabaseExists(ctx, db)
		if err != nil {
			return nil, err
		}
		args := s.cfg.pgConnArgs()
		if exists {
			args = append(args, "--clean", "--if-exists", "--dbname="+pgConnString(db))
		} else {
			args = append(args, "--create", "--dbname="+pgConnString("postgres"))
		}
		args = append(args, path.Join(in, f.File))
		if _, err := s.tool(ctx, pgRestore, "", s.pgEnv(), nil, args...); err != nil {
			return nil, fmt.Errorf("pg_restore of database %q: %w", db, err)
		}
	}
	return idx, nil
}

// pgRestoreGlobals applies the roles and tablespaces of a whole-cluster
// dump. Roles that already exist (the bootstrap superuser at least) make
// their CREATE ROLE fail; psql goes on and the ALTER ROLE that follows
// applies the dumped attributes and password. The role restore connects as
// is the exception: its ALTER ROLE is left out, so that it keeps the
// password the rest of the restore logs in with. The file is small (roles
// only); it is read and filtered here and fed to psql on stdin.
func (s *session) pgRestoreGlobals(ctx context.Context, file string) error {
	var buf bytes.Buffer
	if err := s.t.Get(ctx, file, &buf); err != nil {
		return fmt.Errorf("read %s: %w", file, err)
	}
	args := append(s.cfg.pgConnArgs(), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
		"--dbname="+pgConnString("postgres"), "-c", "SELECT quote_ident(current_user)")
	res, err := s.tool(ctx, psql, "", s.pgEnv(), nil, args...)
	if err != nil {
		return fmt.Errorf("restore roles: %w", err)
	}
	skip := "ALTER ROLE " + strings.TrimSpace(string(res.Stdout)) + " WITH "
	var script bytes.Buffer
	sc := bufio.NewScanner(&buf)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		if !strings.HasPrefix(sc.Text(), skip) {
			script.Write(sc.Bytes())
			script.WriteByte('\n')
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", file, err)
	}
	args = append(s.cfg.pgConnArgs(), "-X", "-q", "--dbname="+pgConnString("postgres"), "-f", "-")
	if _, err := s.tool(ctx, psql, "", s.pgEnv(), &script, args...); err != nil {
		return fmt.Errorf("restore roles and tablespaces: %w", err)
	}
	return nil
}
