package provider

import (
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
	"google.golang.org/grpc"
)

// Terraform's plugin handshake for protocol 6, as tf6server.Serve sends it.
const (
	handshakeProtocol    = 6
	handshakeCookieKey   = "TF_PLUGIN_MAGIC_COOKIE"
	handshakeCookieValue = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"
	// grpcMaxMessage is terraform-plugin-go's limit, both ways.
	grpcMaxMessage = 256 << 20
	// streamWorkers serve the calls on goroutines kept from call to call,
	// whose stacks have grown already: a new goroutine per call spent
	// about a tenth of the provider's CPU growing its stack. More than
	// Terraform's default parallelism (10); a call that finds every
	// worker busy gets a goroutine of its own, as without workers.
	streamWorkers = 16
)

// ServeOptions are the settings of Serve that tests and benchmarks change.
type ServeOptions struct {
	// Test serves for reattaching (TF_REATTACH_PROVIDERS); nil serves a
	// provider that Terraform started.
	Test *plugin.ServeTestConfig
	// Logger is go-plugin's own logger; nil keeps its default.
	Logger hclog.Logger
}

// Serve serves srv over go-plugin as tf6server.Serve does (same handshake,
// same message limits, the same terraform-plugin-go server behind it),
// but builds the gRPC server itself: with stream workers, and, when the
// provider's logs are off, with the wire layer in front of srv (see
// server_wire.go). main's debug mode keeps tf6server.Serve.
func Serve(srv tfprotov6.ProviderServer, opts ServeOptions) {
	var icpt grpc.UnaryServerInterceptor
	if s, ok := srv.(*server); ok && logsOff() {
		if w := loadWireProtocol(); w != nil {
			icpt = w.interceptor(s)
		}
	}
	var tfOpts []tf6server.ServeOpt
	if opts.Logger != nil {
		tfOpts = append(tfOpts, tf6server.WithGoPluginLogger(opts.Logger))
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: plugin.HandshakeConfig{
			ProtocolVersion:  handshakeProtocol,
			MagicCookieKey:   handshakeCookieKey,
			MagicCookieValue: handshakeCookieValue,
		},
		Plugins: plugin.PluginSet{"provider": &tf6server.GRPCProviderPlugin{
			GRPCProvider: func() tfprotov6.ProviderServer { return srv },
			Opts:         tfOpts,
			Name:         Address,
		}},
		GRPCServer: func(o []grpc.ServerOption) *grpc.Server {
			o = append(o, grpc.MaxRecvMsgSize(grpcMaxMessage), grpc.MaxSendMsgSize(grpcMaxMessage),
				grpc.NumStreamWorkers(streamWorkers))
			if icpt != nil {
				o = append(o, grpc.ChainUnaryInterceptor(icpt))
			}
			return grpc.NewServer(o...)
		},
		Logger: opts.Logger,
		Test:   opts.Test,
	})
}
