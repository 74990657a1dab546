package dbdump

import (
	"context"
	"fmt"
	"path"
	"strconv"
)

const (
	mysqlDumpTools   = "mariadb-dump mysqldump"
	mysqlClientTools = "mariadb mysql"
	mysqlFile        = "dump.sql"
)

// mysqlArgs are the leading options of every MySQL tool: the option file
// first (the tools require --defaults-extra-file to come first), then the
// connection.
func (s *session) mysqlArgs() []string {
	var args []string
	if s.credFile != "" {
		args = append(args, "--defaults-extra-file="+s.credFile)
	}
	c := s.cfg
	switch {
	case path.IsAbs(c.Host):
		args = append(args, "--protocol=SOCKET", "--socket="+c.Host)
	case c.Host != "":
		args = append(args, "--protocol=TCP", "--host="+c.Host)
	}
	if c.Port != 0 {
		args = append(args, "--port="+strconv.Itoa(c.Port))
	}
	if c.User != "" {
		args = append(args, "--user="+c.User)
	}
	return args
}

func dumpMySQL(ctx context.Context, s *session, dir string) (*Index, error) {
	out := path.Join(dir, Subdir(MySQL))
	if err := mkdirPrivate(ctx, s.t, out); err != nil {
		return nil, err
	}
	idx := &Index{Engine: MySQL, Tool: s.version(ctx, mysqlDumpTools)}
	args := append(s.mysqlArgs(),
		"--single-transaction", "--routines", "--events", "--triggers", "--hex-blob",
		"--default-character-set=utf8mb4", "--result-file="+path.Join(out, mysqlFile))
	args = append(args, s.cfg.Options...)
	if len(s.cfg.Databases) == 0 {
		idx.All = true
		args = append(args, "--all-databases", "--flush-privileges")
	} else {
		args = append(args, "--databases")
		args = append(args, s.cfg.Databases...)
	}
	if _, err := s.tool(ctx, mysqlDumpTools, "", nil, nil, args...); err != nil {
		return nil, fmt.Errorf("mysql dump: %w", err)
	}
	idx.Files = []IndexFile{{File: mysqlFile, Databases: s.cfg.Databases}}
	if err := writeIndex(ctx, s.t, out, idx); err != nil {
		return nil, err
	}
	return idx, nil
}

func restoreMySQL(ctx context.Context, s *session, dir string) (*Index, error) {
	in := path.Join(dir, Subdir(MySQL))
	idx, err := ReadIndex(ctx, s.t, dir, MySQL)
	if err != nil {
		return nil, err
	}
	for _, f := range idx.Files {
		// The dump holds CREATE DATABASE / USE for every database it has.
		args := append(s.mysqlArgs(), "--default-character-set=utf8mb4", "--batch")
		if _, err := s.tool(ctx, mysqlClientTools, path.Join(in, f.File), nil, nil, args...); err != nil {
			return nil, fmt.Errorf("mysql restore of %s: %w", f.File, err)
		}
	}
	return idx, nil
}
