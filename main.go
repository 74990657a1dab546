// Command terraform-provider-backupctl serves the backupctl Terraform provider.
package main

import (
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"github.com/backupctl/terraform-provider-backupctl/internal/provider"
)

// version is set by goreleaser.
var version = "dev"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()
	provider.TuneRuntime()
	if !debug {
		provider.QuietLogs() // in debug mode the logs go to the terminal
	}

	srv, err := provider.NewServer(provider.New(version))()
	if err != nil {
		log.Fatal(err.Error())
	}
	if !debug {
		provider.Serve(srv, provider.ServeOptions{})
		return
	}
	err = tf6server.Serve(provider.Address, func() tfprotov6.ProviderServer { return srv }, tf6server.WithManagedDebug())
	if err != nil {
		log.Fatal(err.Error())
	}
}
