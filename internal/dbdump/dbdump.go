// Package dbdump takes consistent logical dumps of PostgreSQL and
// MySQL/MariaDB databases on a host, through a transport, into a directory
// of that host (the backup's export directory), and restores them.
//
// The dump tools run on the host itself, so the data never crosses the
// transport; only the small index file does.
//
// PostgreSQL: one pg_dump per database in the custom format, uncompressed
// (--compress=0: the archive that holds the export directory compresses
// it once, which is faster and smaller than compressing twice). pg_dump is
// consistent by nature: it reads each database in one repeatable-read
// snapshot. When no database is named the whole cluster is taken: the
// roles and tablespaces (pg_dumpall --globals-only) plus every database
// that accepts connections. Restore: pg_restore (--create for a database
// the target lacks, --clean --if-exists for one it has).
//
// MySQL/MariaDB: one mariadb-dump (or mysqldump when mariadb-dump is
// absent) with --single-transaction, --routines, --events, --triggers and
// --hex-blob, all databases (--all-databases, with --flush-privileges) or
// the named ones, in one plain SQL file taken in a single snapshot. Restore
// feeds it to the mariadb/mysql client.
//
// The password never appears on a command line, in the environment or in
// logs: it is written to a 0600 file in a private temporary directory of
// the host (a pgpass file named by PGPASSFILE, or an option file passed with
// --defaults-extra-file), removed when the command is done, and marked as
// a secret of every command.
package dbdump

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// Engine names a database engine as users write it.
type Engine string

// Supported engines.
const (
	PostgreSQL Engine = "postgresql"
	MySQL      Engine = "mysql"
)

// Engines lists the supported engine names.
func Engines() []string { return []string{string(PostgreSQL), string(MySQL)} }

// Config is one database server and what to take from it.
type Config struct {
	Engine Engine
	// Host is the server address as seen from the host that runs the dump
	// tools: a name or IP (TCP), or an absolute path: PostgreSQL's socket
	// directory or MySQL's socket file. Empty: the client's default (the
	// local socket).
	Host string
	// Port is the TCP port; 0 means the engine's default.
	Port int
	// User is the database user; empty means the client's default.
	User string
	// Password is never logged, never put on a command line.
	Password string
	// Databases to dump; empty means the whole server.
	Databases []string
	// BinDir is where the client tools are (pg_dump, psql, pg_restore,
	// pg_dumpall / mariadb-dump or mysqldump, mariadb or mysql); empty: PATH.
	BinDir string
	// Options are extra arguments for the dump tool (e.g. "--no-owner").
	Options []string
}

// Validate checks what can be checked without touching a host.
func (c Config) Validate() error {
	var errs []error
	switch c.Engine {
	case PostgreSQL, MySQL:
	default:
		errs = append(errs, fmt.Errorf("engine %q is not supported (use %s)", c.Engine, strings.Join(Engines(), " or ")))
	}
	if c.Port < 0 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("port %d is out of range", c.Port))
	}
	if strings.ContainsAny(c.Password, "\n\r\x00") {
		errs = append(errs, errors.New("password must not contain a newline or NUL"))
	}
	if strings.HasPrefix(c.User, "-") {
		errs = append(errs, fmt.Errorf("user %q must not start with '-'", c.User))
	}
	if strings.HasPrefix(c.Host, "-") {
		errs = append(errs, fmt.Errorf("host %q must not start with '-'", c.Host))
	}
	if c.BinDir != "" && !path.IsAbs(c.BinDir) {
		errs = append(errs, fmt.Errorf("bin_dir %q must be an absolute path", c.BinDir))
	}
	seen := map[string]bool{}
	for _, d := range c.Databases {
		switch {
		case d == "":
			errs = append(errs, errors.New("a database name is empty"))
		case strings.HasPrefix(d, "-"):
			errs = append(errs, fmt.Errorf("database %q must not start with '-'", d))
		case strings.ContainsRune(d, 0):
			errs = append(errs, fmt.Errorf("database %q contains NUL", d))
		case seen[d]:
			errs = append(errs, fmt.Errorf("database %q is listed twice", d))
		}
		seen[d] = true
	}
	return errors.Join(errs...)
}

// secrets returns the values to mask in anything logged.
func (c Config) secrets() []string {
	if c.Password == "" {
		return nil
	}
	return []string{c.Password}
}

// Index is what Dump writes beside the dump files (IndexFile in the
// engine's directory) and what Restore reads back.
type Index struct {
	Engine Engine `json:"engine"`
	// Tool is the dump tool's --version line.
	Tool string `json:"tool"`
	// All is true when the whole server was dumped.
	All bool `json:"all"`
	// Globals is the file with roles/tablespaces (PostgreSQL, All only).
	Globals string `json:"globals,omitempty"`
	// Files: one per database (PostgreSQL) or one for all (MySQL).
	Files []IndexFile `json:"files"`
}

// IndexFile is one dump file, relative to the engine's directory.
type IndexFile struct {
	File      string   `json:"file"`
	Databases []string `json:"databases,omitempty"`
}

// IndexName is the index's file name inside the engine's directory.
const IndexName = "dbdump.json"

// Subdir is the directory, under the export directory, that Dump fills.
func Subdir(e Engine) string { return string(e) }

// fileName makes a database name safe as a file name: letters, digits,
// '_', '-' and '.' stay, anything else becomes %XX; a leading '.' too.
func fileName(db string) string {
	var b strings.Builder
	for i := 0; i < len(db); i++ {
		c := db[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || (c == '.' && i > 0)
		if ok {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
