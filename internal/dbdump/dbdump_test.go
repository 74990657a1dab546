package dbdump_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/dbdump"
	"github.com/backupctl/terraform-provider-backupctl/internal/dbdump/dbtest"
	"github.com/backupctl/terraform-provider-backupctl/internal/sshdtest"
	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// recorder is a local transport that remembers every argv and env it ran.
type recorder struct {
	transport.Local
	mu   sync.Mutex
	cmds []transport.Command
}

func (r *recorder) Run(ctx context.Context, c transport.Command) (transport.Result, error) {
	r.mu.Lock()
	r.cmds = append(r.cmds, c)
	r.mu.Unlock()
	return r.Local.Run(ctx, c)
}

var _ transport.Transport = (*recorder)(nil)

// assertNoSecretInCommands fails when pw occurs in any argv or env value,
// and checks that every command carried pw in its Secrets.
func (r *recorder) assertNoSecret(t *testing.T, pw string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.cmds) == 0 {
		t.Fatal("no command recorded")
	}
	for _, c := range r.cmds {
		for _, a := range c.Argv {
			if strings.Contains(a, pw) {
				t.Fatalf("password on a command line: %q", c.Argv)
			}
		}
		for k, v := range c.Env {
			if strings.Contains(v, pw) {
				t.Fatalf("password in the environment (%s)", k)
			}
		}
	}
}

// tempDirs returns the private temp dirs the run made (mktemp output is
// not recorded, so look at the rm -rf that closes a session).
func (r *recorder) removedDirs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var dirs []string
	for _, c := range r.cmds {
		if len(c.Argv) == 4 && c.Argv[0] == "rm" && c.Argv[1] == "-rf" {
			dirs = append(dirs, c.Argv[3])
		}
	}
	return dirs
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return c
}

func exportDir(t *testing.T) string {
	d := filepath.Join(t.TempDir(), "export")
	if err := os.Mkdir(d, 0o700); err != nil {
		t.Fatal(err)
	}
	return d
}

const pgSeed = `
CREATE ROLE app_owner LOGIN PASSWORD 'app-pw';
CREATE DATABASE shop OWNER app_owner;
CREATE DATABASE "we:ird db'x";
`

const pgShop = `
SET ROLE app_owner;
CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2), data bytea);
INSERT INTO items SELECT g, 'item ' || g, g * 1.25, decode(md5(g::text), 'hex') FROM generate_series(1, 500) g;
CREATE VIEW cheap AS SELECT * FROM items WHERE price < 10;
CREATE FUNCTION total() RETURNS numeric LANGUAGE sql AS 'SELECT sum(price) FROM items';
`

const pgFingerprint = `SELECT count(*), md5(string_agg(id || ':' || name || ':' || price || ':' || encode(data, 'hex'), ',' ORDER BY id)), total(), (SELECT count(*) FROM cheap), (SELECT tableowner FROM pg_tables WHERE tablename = 'items') FROM items`

func pgConfig(p *dbtest.Postgres) dbdump.Config {
	return dbdump.Config{Engine: dbdump.PostgreSQL, Host: "127.0.0.1", Port: p.Port, User: p.User,
		Password: p.Password, BinDir: p.BinDir}
}

func TestPostgresWholeClusterDumpRestoresIntoFreshServer(t *testing.T) {
	src := dbtest.StartPostgresT(t)
	src.MustSQL(t, "", pgSeed)
	src.MustSQL(t, "shop", pgShop)
	src.MustSQL(t, "we:ird db'x", "CREATE TABLE t (v text); INSERT INTO t VALUES ('odd name kept');")
	want := src.MustSQL(t, "shop", pgFingerprint)

	rec := &recorder{}
	dir := exportDir(t)
	idx, err := dbdump.Dump(ctx(t), rec, pgConfig(src), dir)
	if err != nil {
		t.Fatalf("dump: %v", err)
	}
	if !idx.All || idx.Globals == "" || len(idx.Files) != 3 || !strings.Contains(idx.Tool, "pg_dump") {
		t.Fatalf("index: %+v", idx)
	}
	rec.assertNoSecret(t, src.Password)
	for _, d := range rec.removedDirs() {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Fatalf("credentials dir %s left behind", d)
		}
	}
	if len(rec.removedDirs()) != 1 {
		t.Fatalf("want one credentials dir removed, got %v", rec.removedDirs())
	}
	// Custom format, uncompressed: the archive compresses once.
	b, err := os.ReadFile(filepath.Join(dir, "postgresql", "shop.dump"))
	if err != nil || !strings.HasPrefix(string(b), "PGDMP") {
		t.Fatalf("shop.dump is not a pg_dump custom archive: %v", err)
	}
	if !strings.Contains(string(b), "item 42") {
		t.Fatal("shop.dump is compressed; want --compress=0")
	}

	dst := dbtest.StartPostgresT(t)
	if _, err := dbdump.Restore(ctx(t), &transport.Local{}, pgConfig(dst), dir); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if got := dst.MustSQL(t, "shop", pgFingerprint); got != want {
		t.Fatalf("restored shop differs:\n got %s\nwant %s", got, want)
	}
	if got := dst.MustSQL(t, "we:ird db'x", "SELECT v FROM t"); got != "odd name kept" {
		t.Fatalf("odd database: %q", got)
	}
	if got := dst.MustSQL(t, "", "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'app_owner'"); got != "t" {
		t.Fatalf("role app_owner not restored: %q", got)
	}
}

func TestPostgresNamedDatabaseOnly(t *testing.T) {
	src := dbtest.StartPostgresT(t)
	src.MustSQL(t, "", "CREATE DATABASE a; CREATE DATABASE b;")
	src.MustSQL(t, "a", "CREATE TABLE x AS SELECT generate_series(1, 10) AS n;")
	cfg := pgConfig(src)
	cfg.Databases = []string{"a"}
	dir := exportDir(t)
	idx, err := dbdump.Dump(ctx(t), &transport.Local{}, cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	if idx.All || idx.Globals != "" || len(idx.Files) != 1 || idx.Files[0].Databases[0] != "a" {
		t.Fatalf("index: %+v", idx)
	}
	if _, err := os.Stat(filepath.Join(dir, "postgresql", "b.dump")); !os.IsNotExist(err) {
		t.Fatal("database b was dumped although only a was named")
	}
	dst := dbtest.StartPostgresT(t)
	if _, err := dbdump.Restore(ctx(t), &transport.Local{}, pgConfig(dst), dir); err != nil {
		t.Fatal(err)
	}
	if got := dst.MustSQL(t, "a", "SELECT sum(n) FROM x"); got != "55" {
		t.Fatalf("restored sum %q", got)
	}
}

func TestPostgresWrongPasswordFailsWithoutLeaking(t *testing.T) {
	src := dbtest.StartPostgresT(t)
	cfg := pgConfig(src)
	cfg.Password = "not-the-password:" + src.Password
	_, err := dbdump.Dump(ctx(t), &transport.Local{}, cfg, exportDir(t))
	if err == nil {
		t.Fatal("dump with a wrong password succeeded")
	}
	if strings.Contains(err.Error(), cfg.Password) {
		t.Fatalf("error shows the password: %v", err)
	}
	if !strings.Contains(err.Error(), "password authentication failed") {
		t.Fatalf("error does not say why: %v", err)
	}
}

const mySeed = `
CREATE DATABASE shop;
USE shop;
CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, price DECIMAL(10,2), data VARBINARY(32)) ENGINE=InnoDB;
INSERT INTO items WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 500)
  SELECT n, CONCAT('item ', n), n * 1.25, UNHEX(MD5(n)) FROM g;
CREATE TABLE audit (n INT);
CREATE TRIGGER items_ai AFTER INSERT ON items FOR EACH ROW INSERT INTO audit VALUES (NEW.id);
CREATE FUNCTION total() RETURNS DECIMAL(20,2) READS SQL DATA RETURN (SELECT SUM(price) FROM items);
CREATE USER 'app'@'%' IDENTIFIED BY 'app-pw';
GRANT SELECT ON shop.* TO 'app'@'%';
`

const myFingerprint = `SELECT COUNT(*), MD5(GROUP_CONCAT(id, ':', name, ':', price, ':', HEX(data) ORDER BY id)), shop.total() FROM shop.items`

func myConfig(m *dbtest.MariaDB) dbdump.Config {
	return dbdump.Config{Engine: dbdump.MySQL, Host: "127.0.0.1", Port: m.Port, User: m.User, Password: m.Password}
}

func TestMySQLAllDatabasesRestoreIntoFreshServer(t *testing.T) {
	src := dbtest.StartMariaDBT(t)
	src.MustSQL(t, "", mySeed)
	want := src.MustSQL(t, "", "SET SESSION group_concat_max_len = 1000000; "+myFingerprint)

	rec := &recorder{}
	dir := exportDir(t)
	idx, err := dbdump.Dump(ctx(t), rec, myConfig(src), dir)
	if err != nil {
		t.Fatalf("dump: %v", err)
	}
	rec.assertNoSecret(t, src.Password)
	if !idx.All || len(idx.Files) != 1 {
		t.Fatalf("index %+v", idx)
	}
	var sawSingleTx bool
	for _, c := range rec.cmds {
		for _, a := range c.Argv {
			sawSingleTx = sawSingleTx || a == "--single-transaction"
		}
	}
	if !sawSingleTx {
		t.Fatal("the dump did not use --single-transaction")
	}

	dst := dbtest.StartMariaDBT(t)
	if _, err := dbdump.Restore(ctx(t), &transport.Local{}, myConfig(dst), dir); err != nil {
		t.Fatalf("restore: %v", err)
	}
	got := dst.MustSQL(t, "", "SET SESSION group_concat_max_len = 1000000; "+myFingerprint)
	if got != want {
		t.Fatalf("restored data differs:\n got %s\nwant %s", got, want)
	}
	// The trigger came back too.
	dst.MustSQL(t, "shop", "INSERT INTO items VALUES (9999, 'new', 1, NULL)")
	if n := dst.MustSQL(t, "shop", "SELECT COUNT(*) FROM audit WHERE n = 9999"); n != "1" {
		t.Fatalf("trigger not restored: %s", n)
	}
	if n := dst.MustSQL(t, "", "SELECT COUNT(*) FROM mysql.user WHERE user = 'app'"); n != "1" {
		t.Fatalf("user app not restored: %s", n)
	}
}

func TestMySQLNamedDatabaseOverSocketThroughSSH(t *testing.T) {
	src := dbtest.StartMariaDBT(t)
	src.MustSQL(t, "", "CREATE DATABASE keep1; CREATE DATABASE skip1; CREATE TABLE keep1.t (v INT); INSERT INTO keep1.t VALUES (7);")
	s := sshdtest.StartT(t)
	ssh := transport.NewSSH(transport.SSHConfig{Name: "db1", Address: s.Addr, User: s.User,
		PrivateKey: s.ClientKey, KnownHostsFile: s.KnownHostsFile})
	t.Cleanup(func() { _ = ssh.Close() })
	cfg := dbdump.Config{Engine: dbdump.MySQL, Host: src.Socket, User: "root", Databases: []string{"keep1"}}
	dir := exportDir(t)
	if _, err := dbdump.Dump(ctx(t), ssh, cfg, dir); err != nil {
		t.Fatalf("dump over ssh: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "mysql", "dump.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "CREATE DATABASE /*!32312 IF NOT EXISTS*/ `keep1`") || strings.Contains(string(b), "skip1") {
		t.Fatal("the dump does not hold exactly database keep1")
	}
	dst := dbtest.StartMariaDBT(t)
	cfg.Host = dst.Socket
	if _, err := dbdump.Restore(ctx(t), ssh, cfg, dir); err != nil {
		t.Fatalf("restore over ssh: %v", err)
	}
	if got := dst.MustSQL(t, "", "SELECT v FROM keep1.t"); got != "7" {
		t.Fatalf("restored %q", got)
	}
}

func TestMySQLWrongPasswordFails(t *testing.T) {
	src := dbtest.StartMariaDBT(t)
	cfg := myConfig(src)
	cfg.Password = "wrong\"#pw"
	_, err := dbdump.Dump(ctx(t), &transport.Local{}, cfg, exportDir(t))
	if err == nil || !strings.Contains(err.Error(), "Access denied") {
		t.Fatalf("want access denied, got %v", err)
	}
}
