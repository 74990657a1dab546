package backup

import (
	"strings"
	"testing"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/apps"
	"github.com/backupctl/terraform-provider-backupctl/internal/archive"
	"github.com/backupctl/terraform-provider-backupctl/internal/dbdump"
)

func valid() Policy {
	return Policy{
		Host:        "local",
		Settings:    apps.Settings{Paths: []string{"/var/service/smf/var/proxy"}},
		Destination: Destination{Path: "/backup/proxy"},
		Keep:        7,
	}
}

func attrs(errs []*FieldError) string {
	var s []string
	for _, e := range errs {
		s = append(s, e.Error())
	}
	return strings.Join(s, "\n")
}

func TestValidate(t *testing.T) {
	if errs := Validate(valid(), nil); len(errs) != 0 {
		t.Fatalf("valid policy refused: %s", attrs(errs))
	}
	cases := []struct {
		name   string
		mutate func(*Policy)
		preset string
		labels map[string]string
		want   string
	}{
		{"keep 0", func(p *Policy) { p.Keep = 0 }, "", nil, "keep: must be at least 1"},
		{"relative path", func(p *Policy) { p.Paths = []string{"var/x"} }, "", nil, "paths[0]"},
		{"root path", func(p *Policy) { p.Paths = []string{"/"} }, "", nil, "paths[0]"},
		{"relative destination", func(p *Policy) { p.Destination.Path = "backup" }, "", nil, "destination.path"},
		{"destination inside paths", func(p *Policy) { p.Destination.Path = "/var/service/smf/var/proxy/bk" }, "", nil, "destination.path"},
		{"bad format", func(p *Policy) { p.Destination.Format = "zip" }, "", nil, "destination.format"},
		{"empty command", func(p *Policy) { p.Stop = []string{"ok", " "} }, "", nil, "stop[1]"},
		{"empty exclude", func(p *Policy) { p.Exclude = []string{""} }, "", nil, "exclude[0]"},
		{"nothing", func(p *Policy) { p.Paths = nil }, "", nil, "paths: nothing to back up"},
		{"bad db", func(p *Policy) { p.Database = &dbdump.Config{Engine: "oracle"} }, "", nil, "database"},
		{"rs without db", func(p *Policy) {}, apps.SMFRS, nil, "database: application \"smf_rs\""},
		{"interstage without content", func(p *Policy) { p.Paths = nil }, apps.InterstageAdmin, nil, "export: application"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := valid()
			c.mutate(&p)
			var pre *apps.Preset
			if c.preset != "" {
				pr, err := apps.Resolve(c.preset, c.labels)
				if err != nil {
					t.Fatal(err)
				}
				pre = &pr
			}
			got := attrs(Validate(p, pre))
			if !strings.Contains(got, c.want) {
				t.Fatalf("want an error with %q, got:\n%s", c.want, got)
			}
		})
	}
	// Destination inside the paths is fine on another host.
	p := valid()
	p.Destination = Destination{Host: "nas", Path: "/var/service/smf/var/proxy/bk"}
	if errs := Validate(p, nil); len(errs) != 0 {
		t.Fatalf("other host: %s", attrs(errs))
	}
}

func TestCommandHosts(t *testing.T) {
	p := valid()
	p.AfterSuccess = []string{"@gm-master: rm -f /x/*", "local cmd"}
	p.Stop = []string{"@gm-master: APSTOP"}
	hosts := CommandHosts(p)
	if len(hosts) != 1 || len(hosts["gm-master"]) != 2 || hosts["gm-master"][0].Attr != "stop" && hosts["gm-master"][0].Attr != "after_success" {
		t.Fatalf("%v", hosts)
	}
}

func TestNaming(t *testing.T) {
	now := time.Date(2026, 11, 22, 6, 30, 0, 0, time.FixedZone("JST", 9*3600))
	id := NewID("/backup/arms proxy/", now)
	if !strings.HasPrefix(id, "arms_proxy-20261121T213000Z-") || len(id) != len("arms_proxy-20261121T213000Z-")+8 {
		t.Fatalf("id %q", id)
	}
	if a, b := NewID("/b/x", now), NewID("/b/x", now); a == b {
		t.Fatal("two ids in the same second are equal")
	}
	f := FilePath("/backup/p", id, archive.FormatTarZst)
	if f != "/backup/p/"+id+".tar.zst" || IDFromFile(f) != id {
		t.Fatalf("file %q id %q", f, IDFromFile(f))
	}
	if IDFromFile("/x/old.tar.gz") != "old" || Prefix("/") != "backup" || Prefix("/b/..") != "backup" {
		t.Fatal("edge cases")
	}
}
