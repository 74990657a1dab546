package provider

import (
	"context"
	"net"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"
)

// The wire layer (server_wire.go) must answer exactly as the ordinary path
// would, and leave to it every request it does not fully know. These tests
// put the same gRPC requests to a server with the wire layer and to one
// without, and compare the responses message by message.

// wireConn serves s over an in-memory gRPC connection, with the wire
// layer when wire is true.
func wireConn(t *testing.T, s *server, wire bool) *grpc.ClientConn {
	t.Helper()
	var opts []grpc.ServerOption
	if wire {
		w := loadWireProtocol()
		if w == nil {
			t.Fatal("the wire layer found no tfplugin6 in the protobuf registry")
		}
		opts = append(opts, grpc.ChainUnaryInterceptor(w.interceptor(s)))
	}
	gs := grpc.NewServer(opts...)
	p := &tf6server.GRPCProviderPlugin{GRPCProvider: func() tfprotov6.ProviderServer { return s }, Name: Address}
	if err := p.GRPCServer(nil, gs); err != nil {
		t.Fatal(err)
	}
	l := bufconn.Listen(1 << 20)
	go func() { _ = gs.Serve(l) }()
	conn, err := grpc.NewClient("passthrough:///wire", grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return l.DialContext(ctx) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(); gs.Stop() })
	return conn
}

func wireMessage(t *testing.T, name string) *dynamicpb.Message {
	t.Helper()
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		t.Fatal(err)
	}
	return dynamicpb.NewMessage(d.(protoreflect.MessageDescriptor))
}

func setField(t *testing.T, m protoreflect.Message, name string, v protoreflect.Value) {
	t.Helper()
	fd := m.Descriptor().Fields().ByName(protoreflect.Name(name))
	if fd == nil {
		t.Fatalf("%s has no field %s", m.Descriptor().FullName(), name)
	}
	m.Set(fd, v)
}

func setDynamic(t *testing.T, m protoreflect.Message, name string, dv *tfprotov6.DynamicValue) {
	t.Helper()
	d := wireMessage(t, "tfplugin6.DynamicValue")
	setField(t, d, "msgpack", protoreflect.ValueOfBytes(dv.MsgPack))
	setField(t, m, name, protoreflect.ValueOfMessage(d))
}

// wireCall makes one call on both servers and compares the responses; it
// returns whether the wire layer answered it itself.
func wireCall(t *testing.T, method, message string, build func(req *dynamicpb.Message)) bool {
	t.Helper()
	var resps [2]*dynamicpb.Message
	var answered bool
	for i, wire := range []bool{true, false} {
		s, _ := newTestServer(t)
		conn := wireConn(t, s, wire)
		req := wireMessage(t, "tfplugin6."+message+".Request")
		build(req)
		resps[i] = wireMessage(t, "tfplugin6."+message+".Response")
		if err := conn.Invoke(context.Background(), method, req, resps[i]); err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		if wire {
			answered = s.fast.wire.Load() == 1
		} else if s.fast.wire.Load() != 0 {
			t.Fatal("a server without the wire layer counted a wire answer")
		}
	}
	if !proto.Equal(resps[0], resps[1]) {
		t.Errorf("%s: the wire layer answered\n%v\nthe ordinary path\n%v", method, resps[0], resps[1])
	}
	return answered
}

func TestWireLayerAgreesWithOrdinaryPath(t *testing.T) {
	ctx := context.Background()
	s0, _ := newTestServer(t)
	typ := s0.resource(ctx, gdsType).typ
	prior := gdsState(t, typ, nil)
	cfg := gdsConfig(t, typ, nil)
	badCfg := gdsConfig(t, typ, map[string]tftypes.Value{"proxy": str("bad name")})
	stateJSON := `{"id":"gds1/Class1/Volume2","host":"gds1","class":"Class1","master":"Volume1","proxy":"Volume2","all_nodes":true,"state":"joined"}`
	pstr := func(s string) protoreflect.Value { return protoreflect.ValueOfString(s) }
	// plan fills a PlanResourceChange request from the prior state and c.
	plan := func(m *dynamicpb.Message, c tftypes.Value) {
		setField(t, m, "type_name", pstr(gdsType))
		setDynamic(t, m, "prior_state", dyn(t, typ, prior))
		setDynamic(t, m, "proposed_new_state", dyn(t, typ, proposed(t, typ, prior, c)))
		setDynamic(t, m, "config", dyn(t, typ, c))
	}
	// upgrade fills an UpgradeResourceState request for stateJSON, written
	// at the given schema version (0 = the current one).
	upgrade := func(m *dynamicpb.Message, version int64) {
		setField(t, m, "type_name", pstr(gdsType))
		if version != 0 {
			setField(t, m, "version", protoreflect.ValueOfInt64(version))
		}
		rs := wireMessage(t, "tfplugin6.RawState")
		setField(t, rs, "json", protoreflect.ValueOfBytes([]byte(stateJSON)))
		setField(t, m, "raw_state", protoreflect.ValueOfMessage(rs))
	}
	unknownField := protowire.AppendTag(nil, 99, protowire.BytesType)
	unknownField = protowire.AppendBytes(unknownField, []byte("from a newer Terraform"))

	cases := []struct {
		name, method, message string
		build                 func(*dynamicpb.Message)
		wire                  bool
	}{
		{"upgrade", rpcUpgrade, "UpgradeResourceState", func(m *dynamicpb.Message) {
			upgrade(m, 0)
		}, true},
		{"upgrade from an older schema version", rpcUpgrade, "UpgradeResourceState", func(m *dynamicpb.Message) {
			upgrade(m, 7)
		}, false},
		{"validate", rpcValidate, "ValidateResourceConfig", func(m *dynamicpb.Message) {
			setField(t, m, "type_name", pstr(gdsType))
			setDynamic(t, m, "config", dyn(t, typ, cfg))
		}, true},
		{"validate an invalid name (diagnostics: the ordinary path)", rpcValidate, "ValidateResourceConfig", func(m *dynamicpb.Message) {
			setField(t, m, "type_name", pstr(gdsType))
			setDynamic(t, m, "config", dyn(t, typ, badCfg))
		}, false},
		{"validate with a field unknown to this build", rpcValidate, "ValidateResourceConfig", func(m *dynamicpb.Message) {
			setField(t, m, "type_name", pstr(gdsType))
			setDynamic(t, m, "config", dyn(t, typ, cfg))
			m.SetUnknown(unknownField)
		}, false},
		{"plan unchanged", rpcPlan, "PlanResourceChange", func(m *dynamicpb.Message) {
			plan(m, cfg)
		}, true},
		{"plan with private state", rpcPlan, "PlanResourceChange", func(m *dynamicpb.Message) {
			plan(m, cfg)
			setField(t, m, "prior_private", protoreflect.ValueOfBytes([]byte(`{}`)))
		}, false},
		{"plan of a change", rpcPlan, "PlanResourceChange", func(m *dynamicpb.Message) {
			plan(m, gdsConfig(t, typ, map[string]tftypes.Value{"state": tftypes.NewValue(tftypes.String, "parted")}))
		}, false},
		// Unconfigured, the provider has no host: the fast refresh declines
		// and the framework words the error, on both servers.
		{"read before configuration", rpcRead, "ReadResource", func(m *dynamicpb.Message) {
			setField(t, m, "type_name", pstr(gdsType))
			setDynamic(t, m, "current_state", dyn(t, typ, prior))
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := wireCall(t, tc.method, tc.message, tc.build); got != tc.wire {
				t.Errorf("answered by the wire layer: %v, want %v", got, tc.wire)
			}
		})
	}
}
