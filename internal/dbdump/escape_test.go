package dbdump

import (
	"strings"
	"testing"
)

func TestPgpassEscape(t *testing.T) {
	if got := pgpassEscape(`a:b\c`); got != `a\:b\\c` {
		t.Fatalf("got %q", got)
	}
}

func TestOptionFileQuote(t *testing.T) {
	if got := optionFileQuote(`p"w\#x`); got != `"p\"w\\#x"` {
		t.Fatalf("got %q", got)
	}
}

func TestFileName(t *testing.T) {
	cases := map[string]string{
		"shop":        "shop",
		"we:ird db'x": "we%3Aird%20db%27x",
		"../etc":      "%2E.%2Fetc",
		".hidden":     "%2Ehidden",
		"a.b-c_d":     "a.b-c_d",
	}
	for in, want := range cases {
		if got := fileName(in); got != want {
			t.Errorf("fileName(%q) = %q, want %q", in, got, want)
		}
		if strings.Contains(fileName(in), "/") {
			t.Errorf("fileName(%q) has a slash", in)
		}
	}
}

func TestPgConnString(t *testing.T) {
	if got := pgConnString(`a'b\c`); got != `dbname='a\'b\\c'` {
		t.Fatalf("got %q", got)
	}
}

func TestValidate(t *testing.T) {
	bad := []Config{
		{Engine: "oracle"},
		{Engine: PostgreSQL, Port: 70000},
		{Engine: MySQL, Password: "a\nb"},
		{Engine: MySQL, Databases: []string{"-x"}},
		{Engine: MySQL, Databases: []string{"a", "a"}},
		{Engine: PostgreSQL, BinDir: "bin"},
		{Engine: PostgreSQL, User: "--help"},
	}
	for _, c := range bad {
		if c.Validate() == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if err := (Config{Engine: MySQL, Host: "/run/mysqld/mysqld.sock", Databases: []string{"a"}}).Validate(); err != nil {
		t.Fatal(err)
	}
}
