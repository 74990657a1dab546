// Command kcpsemu serves the KCPS API emulator on loopback for the demo.
//
//	kcpsemu [-config seed.json] [-addr 127.0.0.1:0] [-scale 0.001] [-env-file path] [-admin]
//
// It prints the endpoint, API key and secret key (lines "endpoint=...",
// "api_key=...", "secret_key=...") and, with -env-file, writes them as
// BACKUPCTL_KCPS_* shell assignments. It stops on SIGINT or SIGTERM.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/backupctl/terraform-provider-backupctl/internal/kcpsemu"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "kcpsemu:", err)
		os.Exit(1)
	}
}

func run() error {
	configPath := flag.String("config", "", "JSON seed (default: the built-in demo account)")
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback only)")
	scale := flag.Float64("scale", 0, "time scale of jobs (1 = KCPS pace; default: the config's, else 0.001)")
	envFile := flag.String("env-file", "", "write BACKUPCTL_KCPS_ENDPOINT/API_KEY/SECRET_KEY here (mode 0600)")
	admin := flag.Bool("admin", false, "serve the unsigned /_emu/ out-of-band endpoints")
	dump := flag.Bool("print-config", false, "print the default seed as JSON and exit")
	flag.Parse()

	cfg := kcpsemu.DefaultConfig()
	if *dump {
		return printJSON(cfg)
	}
	if *configPath != "" {
		c, err := kcpsemu.LoadConfig(*configPath)
		if err != nil {
			return err
		}
		cfg = c
	}
	if *scale > 0 {
		cfg.TimeScale = *scale
	}
	if cfg.TimeScale <= 0 {
		cfg.TimeScale = 0.001
	}
	cfg.Admin = cfg.Admin || *admin
	srv, err := kcpsemu.Start(cfg, *addr)
	if err != nil {
		return err
	}
	defer func() { _ = srv.Close() }()
	acct := cfg.Accounts[0]
	fmt.Printf("endpoint=%s\napi_key=%s\nsecret_key=%s\ntime_scale=%g\n", srv.Endpoint, acct.APIKey, acct.SecretKey, cfg.TimeScale)
	if cfg.Admin {
		fmt.Printf("admin=http://%s/_emu/\n", srv.Addr)
	}
	if *envFile != "" {
		body := fmt.Sprintf("BACKUPCTL_KCPS_ENDPOINT=%s\nBACKUPCTL_KCPS_API_KEY=%s\nBACKUPCTL_KCPS_SECRET_KEY=%s\n",
			shellQuote(srv.Endpoint), shellQuote(acct.APIKey), shellQuote(acct.SecretKey))
		if err := os.WriteFile(*envFile, []byte(body), 0o600); err != nil {
			return err
		}
	}
	fmt.Println("ready")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	return nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
