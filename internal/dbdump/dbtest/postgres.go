package dbtest

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// Postgres is a running throwaway PostgreSQL cluster.
//
// TCP logins on 127.0.0.1:Port need User/Password (scram-sha-256); the
// socket in SocketDir trusts every local user, for the helper's own SQL.
type Postgres struct {
	Dir       string // everything of this cluster (data, socket, log)
	SocketDir string // unix socket directory (also a valid PGHOST)
	Port      int
	User      string // superuser, "postgres"
	Password  string
	BinDir    string // where initdb, postgres, pg_dump, psql... live

	srv    *server
	owner  *osUser
	ownDir bool
}

// PostgresBinDir finds the newest /usr/lib/postgresql/<v>/bin holding
// initdb and postgres, or the directory of initdb on PATH.
func PostgresBinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, d := range dirs {
		if firstExisting(filepath.Join(d, "initdb")) != "" && firstExisting(filepath.Join(d, "postgres")) != "" {
			return d, nil
		}
	}
	if p, err := lookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", fmt.Errorf("postgresql server binaries (initdb): %w", errNotFound)
}

func pgVersion(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// StartPostgresT starts a cluster for a test and stops it (and removes its
// files) at cleanup.
func StartPostgresT(t testing.TB) *Postgres {
	t.Helper()
	p, err := StartPostgres("")
	requireT(t, "postgresql", err)
	t.Cleanup(p.Stop)
	return p
}

// StartPostgres initializes and starts a cluster in dir (a new temp dir
// when dir is ""; it is then removed by Stop). dir must be traversable by
// the postgres OS user when running as root.
func StartPostgres(dir string) (*Postgres, error) {
	bin, err := PostgresBinDir()
	if err != nil {
		return nil, err
	}
	p := &Postgres{User: "postgres", Password: randomPassword(), BinDir: bin}
	if dir == "" {
		if dir, err = tempDir("dbtest-pg-"); err != nil {
			return nil, err
		}
		p.ownDir = true
	}
	p.Dir, p.SocketDir = dir, dir
	if p.owner, err = serviceUser("postgres"); err != nil {
		p.cleanup()
		return nil, err
	}
	if err := p.initdb(); err != nil {
		p.cleanup()
		return nil, err
	}
	// A port taken between our probe and the server's bind is retried.
	for attempt := 0; ; attempt++ {
		err = p.start()
		if err == nil {
			return p, nil
		}
		if attempt >= 2 || !strings.Contains(err.Error(), "could not") {
			p.cleanup()
			return nil, err
		}
	}
}

func (p *Postgres) initdb() error {
	if err := chown(p.owner, p.Dir); err != nil {
		return err
	}
	pwfile := filepath.Join(p.Dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(p.Password+"\n"), 0o600); err != nil {
		return err
	}
	defer func() { _ = os.Remove(pwfile) }()
	if err := chown(p.owner, pwfile); err != nil {
		return err
	}
	_, err := run(p.owner, []string{"LC_ALL=C.UTF-8"}, nil, filepath.Join(p.BinDir, "initdb"),
		"-D", filepath.Join(p.Dir, "data"), "-U", p.User, "--pwfile="+pwfile,
		"--auth-local=trust", "--auth-host=scram-sha-256",
		"-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions")
	return err
}

func (p *Postgres) start() error {
	port, err := freePort()
	if err != nil {
		return err
	}
	p.Port = port
	srv, err := startDaemon(p.owner, []string{filepath.Join(p.BinDir, "postgres"),
		"-D", filepath.Join(p.Dir, "data"), "-k", p.SocketDir, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "shared_buffers=16MB", "-c", "max_connections=30",
		"-c", "logging_collector=off", "-c", "log_min_messages=warning"})
	if err != nil {
		return err
	}
	pidFile := filepath.Join(p.Dir, "data", "postmaster.pid")
	err = waitFor(srv, "postgres", func() bool {
		b, err := os.ReadFile(pidFile)
		if err != nil {
			return false
		}
		// Line 8 of postmaster.pid is the status; "ready" once it accepts connections.
		lines := strings.Split(string(b), "\n")
		return len(lines) >= 8 && strings.TrimSpace(lines[7]) == "ready"
	})
	if err != nil {
		srv.stop(syscall.SIGKILL)
		return err
	}
	p.srv = srv
	return nil
}

// Stop shuts the cluster down (fast mode) and removes a temp dir it made.
func (p *Postgres) Stop() {
	if p.srv != nil {
		p.srv.stop(syscall.SIGINT)
		p.srv = nil
	}
	p.cleanup()
}

func (p *Postgres) cleanup() {
	if p.ownDir && p.Dir != "" {
		_ = os.RemoveAll(p.Dir)
		p.Dir = ""
	}
}

// Addr is 127.0.0.1:Port.
func (p *Postgres) Addr() string { return "127.0.0.1:" + strconv.Itoa(p.Port) }

// SQL runs sql in database db through the trusted socket as the superuser
// and returns the unaligned, tuples-only output (fields separated by "|").
// A statement error is an error (ON_ERROR_STOP).
func (p *Postgres) SQL(db, sql string) (string, error) {
	if db == "" {
		db = "postgres"
	}
	out, err := run(nil, []string{"PGCONNECT_TIMEOUT=10"}, []byte(sql), filepath.Join(p.BinDir, "psql"),
		"-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
		"-h", p.SocketDir, "-p", strconv.Itoa(p.Port), "-U", p.User, "-d", db, "-f", "-")
	return strings.TrimRight(out, "\n"), err
}

// MustSQL is SQL that fails the test on error.
func (p *Postgres) MustSQL(t testing.TB, db, sql string) string {
	t.Helper()
	out, err := p.SQL(db, sql)
	if err != nil {
		t.Fatalf("postgres SQL on %s: %v", db, err)
	}
	return out
}

// PgString quotes s as a PostgreSQL standard-conforming string literal.
func PgString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
