package dbdump

import (
	"context"
	"fmt"
	"path"

	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// Dump takes the dump described by cfg with the tools of host t, into
// dir/<engine>/ on that host (dir must exist; the subdirectory is made
// 0700). It returns the index it also wrote there.
func Dump(ctx context.Context, t transport.Transport, cfg Config, dir string) (*Index, error) {
	if !path.IsAbs(dir) {
		return nil, fmt.Errorf("dump directory %q must be absolute", dir)
	}
	s, err := openSession(ctx, t, cfg)
	if err != nil {
		return nil, err
	}
	defer s.close()
	switch cfg.Engine {
	case PostgreSQL:
		return dumpPostgres(ctx, s, dir)
	default:
		return dumpMySQL(ctx, s, dir)
	}
}

// Restore loads a dump that Dump wrote into dir/<engine>/ on host t into
// the server cfg describes (cfg.Databases is ignored: the dump decides).
func Restore(ctx context.Context, t transport.Transport, cfg Config, dir string) (*Index, error) {
	if !path.IsAbs(dir) {
		return nil, fmt.Errorf("dump directory %q must be absolute", dir)
	}
	cfg.Databases = nil
	s, err := openSession(ctx, t, cfg)
	if err != nil {
		return nil, err
	}
	defer s.close()
	switch cfg.Engine {
	case PostgreSQL:
		return restorePostgres(ctx, s, dir)
	default:
		return restoreMySQL(ctx, s, dir)
	}
}
