package dbtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// MariaDB is a running throwaway MariaDB (or MySQL-compatible) server.
//
// TCP logins on 127.0.0.1:Port use User ("root") and Password; the socket
// admits root without a password, for the helper's own SQL.
type MariaDB struct {
	Dir      string
	Socket   string
	Port     int
	User     string
	Password string
	Server   string // mariadbd or mysqld path
	Client   string // mariadb or mysql client path

	srv    *server
	ownDir bool
}

// lookPath is exec.LookPath with the sbin directories added (mariadbd
// lives in /usr/sbin, which a non-root PATH may lack).
func lookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	if p := firstExisting("/usr/sbin/"+name, "/usr/local/sbin/"+name, "/sbin/"+name); p != "" {
		return p, nil
	}
	return "", fmt.Errorf("%s: %w", name, errNotFound)
}

func lookFirst(names ...string) (string, error) {
	for _, n := range names {
		if p, err := lookPath(n); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("none of %s: %w", strings.Join(names, ", "), errNotFound)
}

// StartMariaDBT starts a server for a test and stops it at cleanup.
func StartMariaDBT(t testing.TB) *MariaDB {
	t.Helper()
	m, err := StartMariaDB("")
	requireT(t, "mariadb", err)
	t.Cleanup(m.Stop)
	return m
}

// StartMariaDB initializes and starts a server in dir (a new temp dir when
// dir is "", removed by Stop).
func StartMariaDB(dir string) (*MariaDB, error) {
	server, err := lookFirst("mariadbd", "mysqld")
	if err != nil {
		return nil, err
	}
	client, err := lookFirst("mariadb", "mysql")
	if err != nil {
		return nil, err
	}
	installDB, err := lookFirst("mariadb-install-db", "mysql_install_db")
	if err != nil {
		return nil, err
	}
	m := &MariaDB{User: "root", Password: randomPassword(), Server: server, Client: client}
	if dir == "" {
		if dir, err = tempDir("dbtest-my-"); err != nil {
			return nil, err
		}
		m.ownDir = true
	}
	m.Dir = dir
	// The socket path must stay short (108 bytes for sun_path).
	m.Socket = filepath.Join(dir, "my.sock")
	if _, err := run(nil, nil, nil, installDB, "--no-defaults", "--datadir="+filepath.Join(dir, "data"),
		"--user="+currentUser(), "--auth-root-authentication-method=normal", "--skip-test-db"); err != nil {
		m.cleanup()
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		err = m.start()
		if err == nil {
			break
		}
		if attempt >= 2 {
			m.cleanup()
			return nil, err
		}
	}
	// TCP logins (what the dumps use) need the password; the socket root
	// stays passwordless for SQL().
	q := "ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY " + MySQLString(m.Password) + ";"
	if _, err := m.SQL("", q); err != nil {
		m.Stop()
		return nil, err
	}
	return m, nil
}

func currentUser() string {
	if os.Geteuid() == 0 {
		return "root"
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return strconv.Itoa(os.Geteuid())
}

func (m *MariaDB) start() error {
	port, err := freePort()
	if err != nil {
		return err
	}
	m.Port = port
	srv, err := startDaemon(nil, []string{m.Server, "--no-defaults",
		"--datadir=" + filepath.Join(m.Dir, "data"), "--user=" + currentUser(),
		"--socket=" + m.Socket, "--port=" + strconv.Itoa(port), "--bind-address=127.0.0.1",
		"--pid-file=" + filepath.Join(m.Dir, "mariadbd.pid"), "--skip-name-resolve",
		"--innodb-buffer-pool-size=16M", "--innodb-log-file-size=8M", "--innodb-flush-log-at-trx-commit=0",
		"--skip-log-bin", "--log-error=" + filepath.Join(m.Dir, "error.log"), "--max-connections=30"})
	if err != nil {
		return err
	}
	err = waitFor(srv, "mariadbd", func() bool {
		c, err := net.DialTimeout("unix", m.Socket, 200*time.Millisecond)
		if err != nil {
			return false
		}
		_ = c.Close()
		return true
	})
	if err != nil {
		if b, rerr := os.ReadFile(filepath.Join(m.Dir, "error.log")); rerr == nil {
			err = fmt.Errorf("%w: %s", err, tail(string(b)))
		}
		srv.stop(syscall.SIGKILL)
		return err
	}
	m.srv = srv
	return nil
}

// Stop shuts the server down and removes a temp dir it made.
func (m *MariaDB) Stop() {
	if m.srv != nil {
		m.srv.stop(syscall.SIGTERM)
		m.srv = nil
	}
	m.cleanup()
}

func (m *MariaDB) cleanup() {
	if m.ownDir && m.Dir != "" {
		_ = os.RemoveAll(m.Dir)
		m.Dir = ""
	}
}

// SQL runs sql (in database db when not "") as root over the socket and
// returns tab-separated rows without headers.
func (m *MariaDB) SQL(db, sql string) (string, error) {
	argv := []string{m.Client, "--no-defaults", "--socket=" + m.Socket, "--user=root", "--batch", "--skip-column-names"}
	if db != "" {
		argv = append(argv, "--database="+db)
	}
	out, err := run(nil, nil, []byte(sql), argv...)
	return strings.TrimRight(out, "\n"), err
}

// MustSQL is SQL that fails the test on error.
func (m *MariaDB) MustSQL(t testing.TB, db, sql string) string {
	t.Helper()
	out, err := m.SQL(db, sql)
	if err != nil {
		t.Fatalf("mariadb SQL: %v", err)
	}
	return out
}

// MySQLString quotes s as a MySQL string literal (backslashes doubled, as
// MySQL's default sql_mode treats them as escapes).
func MySQLString(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
