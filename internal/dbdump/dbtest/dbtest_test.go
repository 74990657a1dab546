package dbtest

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
)

func TestPostgresStartsWithPasswordOnTCP(t *testing.T) {
	p := StartPostgresT(t)
	if got := p.MustSQL(t, "", "select 40+2"); got != "42" {
		t.Fatalf("select: %q", got)
	}
	psql := p.BinDir + "/psql"
	tcp := func(pw string) error {
		c := exec.Command(psql, "-X", "-A", "-t", "-h", "127.0.0.1", "-p", strconv.Itoa(p.Port),
			"-U", p.User, "-d", "postgres", "-c", "select 1")
		c.Env = append(os.Environ(), "PGPASSWORD="+pw, "PGPASSFILE=/nonexistent")
		return c.Run()
	}
	if err := tcp(p.Password); err != nil {
		t.Fatalf("TCP login with the password failed: %v", err)
	}
	if err := tcp("wrong"); err == nil {
		t.Fatal("TCP login with a wrong password succeeded: the server does not check passwords")
	}
	dir := p.Dir
	p.Stop()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("Stop left %s behind", dir)
	}
}

func TestMariaDBStartsWithPasswordOnTCP(t *testing.T) {
	m := StartMariaDBT(t)
	if got := m.MustSQL(t, "", "select 40+2"); got != "42" {
		t.Fatalf("select: %q", got)
	}
	tcp := func(pw string) error {
		c := exec.Command(m.Client, "--no-defaults", "--protocol=tcp", "--host=127.0.0.1",
			"--port="+strconv.Itoa(m.Port), "--user=root", "-e", "select 1")
		c.Env = append(os.Environ(), "MYSQL_PWD="+pw)
		return c.Run()
	}
	if err := tcp(m.Password); err != nil {
		t.Fatalf("TCP login with the password failed: %v", err)
	}
	if err := tcp("wrong"); err == nil {
		t.Fatal("TCP login with a wrong password succeeded")
	}
}
