package main

import (
	"bufio"
	"context"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/kcps"
)

// The demo binary starts on loopback, prints its endpoint and credentials,
// answers signed calls and stops on SIGTERM.
func TestDemoBinary(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "kcpsemu")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	env := filepath.Join(dir, "kcps.env")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-env-file", env, "-admin")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	vals := map[string]string{}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if line == "ready" {
			break
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			vals[k] = v
		}
	}
	if !strings.HasPrefix(vals["endpoint"], "http://127.0.0.1:") || vals["api_key"] == "" || vals["secret_key"] == "" {
		t.Fatalf("printed %v", vals)
	}
	b, err := os.ReadFile(env)
	if err != nil || !strings.Contains(string(b), "BACKUPCTL_KCPS_ENDPOINT='"+vals["endpoint"]+"'") {
		t.Fatalf("env file: %s %v", b, err)
	}
	c, err := kcps.New(kcps.Config{Endpoint: vals["endpoint"], APIKey: vals["api_key"], SecretKey: vals["secret_key"]})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := c.ListVolumes(ctx, kcps.VolumeFilter{})
	if err != nil || len(vs) != 5 {
		t.Fatalf("%v %v", vs, err)
	}
	resp, err := http.Get(strings.TrimSuffix(vals["admin"], "/") + "/calls?" + url.Values{}.Encode())
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("admin: %v %v", resp, err)
	}
	resp.Body.Close()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v", err)
	}
}
