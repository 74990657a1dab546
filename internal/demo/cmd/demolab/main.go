// Command demolab is make demo's helper (see examples/demo/run.sh):
//
//	demolab sshd -dir DIR -env-file FILE   run a loopback sshd until SIGTERM/SIGINT
//	demolab report [FILE]                  render a restore report (JSON, default stdin)
//
// sshd writes the connection for examples/demo as TF_VAR_ assignments to
// FILE, then prints "ready".
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/backupctl/terraform-provider-backupctl/internal/demo"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: demolab sshd -dir DIR -env-file FILE | demolab report [FILE]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "sshd":
		err = runSSHD(os.Args[2:])
	case "report":
		err = runReport(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "demolab:", err)
		os.Exit(1)
	}
}

func runSSHD(args []string) error {
	fs := flag.NewFlagSet("sshd", flag.ContinueOnError)
	dir := fs.String("dir", "", "directory for sshd's files")
	envFile := fs.String("env-file", "", "write the TF_VAR_ssh_* assignments here")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" || *envFile == "" {
		return fmt.Errorf("sshd needs -dir and -env-file")
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	s, err := demo.StartSSHD(*dir)
	if err != nil {
		return err
	}
	defer s.Stop()
	if err := os.WriteFile(*envFile, []byte(s.TerraformEnv()), 0o600); err != nil {
		return err
	}
	fmt.Printf("sshd=%s pid_file=%s\nready\n", s.Addr, s.PIDFile())
	<-sig
	return nil
}

func runReport(args []string) error {
	var in io.Reader = os.Stdin
	if len(args) > 0 && args[0] != "-" {
		f, err := os.Open(args[0])
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	b, err := io.ReadAll(in)
	if err != nil {
		return err
	}
	return demo.WriteReport(os.Stdout, b)
}
