package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// The wire layer answers the four per-instance calls of a plan (see
// server.go) at the gRPC level, before terraform-plugin-go converts the
// request and builds its per-request logging context (root loggers,
// subsystems, a request UUID, a dozen fields): for a plan of 200 GDS
// pairs, about a sixth of the provider's CPU went there, to logs that
// nobody reads. It is installed only when the provider's logs are off
// (QuietLogs); with any TF_LOG* variable set, every call takes the
// ordinary path, with its logs.
//
// It reads the request through protobuf reflection, by the names of
// tfplugin6.proto (terraform-plugin-go keeps the generated types
// internal), and takes only requests whose every field it knows; anything
// else, a newer field included, goes the ordinary way. The fast paths are
// the server's own (fastUpgrade, fastRead, fastValidate, fastPlan). An
// answer with diagnostics is not encoded here: it is handed to the server
// method through the context (withAnswer), and terraform-plugin-go
// encodes it, so that the fast path never runs twice for one call.

// wireMethod describes one call: the request fields the fast path may see
// set, and the response.
type wireMethod struct {
	known map[protoreflect.Name]bool
	resp  protoreflect.MessageType
	out   protoreflect.FieldDescriptor // the response's DynamicValue, if any
}

// wireProtocol is what the wire layer found of tfplugin6 in the protobuf
// registry; nil when something it needs is missing.
type wireProtocol struct {
	methods map[string]*wireMethod // by gRPC full method name
	msgpack protoreflect.FieldDescriptor
	json    protoreflect.FieldDescriptor
}

const (
	rpcUpgrade  = "/tfplugin6.Provider/UpgradeResourceState"
	rpcRead     = "/tfplugin6.Provider/ReadResource"
	rpcValidate = "/tfplugin6.Provider/ValidateResourceConfig"
	rpcPlan     = "/tfplugin6.Provider/PlanResourceChange"
)

// loadWireProtocol resolves the messages and fields the wire layer uses.
func loadWireProtocol() *wireProtocol {
	msg := func(name string) protoreflect.MessageDescriptor {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
		if err != nil {
			return nil
		}
		md, _ := d.(protoreflect.MessageDescriptor)
		return md
	}
	dv := msg("tfplugin6.DynamicValue")
	if dv == nil {
		return nil
	}
	w := &wireProtocol{methods: map[string]*wireMethod{},
		msgpack: dv.Fields().ByName("msgpack"), json: dv.Fields().ByName("json")}
	if w.msgpack == nil || w.json == nil {
		return nil
	}
	add := func(rpc, message, out string, known ...protoreflect.Name) bool {
		req := msg("tfplugin6." + message + ".Request")
		mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName("tfplugin6." + message + ".Response"))
		if req == nil || err != nil {
			return false
		}
		m := &wireMethod{known: map[protoreflect.Name]bool{}, resp: mt}
		for _, k := range known {
			if req.Fields().ByName(k) == nil {
				return false
			}
			m.known[k] = true
		}
		if out != "" {
			if m.out = mt.Descriptor().Fields().ByName(protoreflect.Name(out)); m.out == nil {
				return false
			}
		}
		w.methods[rpc] = m
		return true
	}
	if !add(rpcUpgrade, "UpgradeResourceState", "upgraded_state", "type_name", "version", "raw_state") ||
		!add(rpcRead, "ReadResource", "new_state", "type_name", "current_state", "provider_meta", "client_capabilities") ||
		!add(rpcValidate, "ValidateResourceConfig", "", "type_name", "config", "client_capabilities") ||
		!add(rpcPlan, "PlanResourceChange", "planned_state", "type_name", "prior_state", "proposed_new_state", "config", "provider_meta", "client_capabilities") {
		return nil
	}
	return w
}

// interceptor returns the gRPC interceptor of the wire layer for s.
func (w *wireProtocol) interceptor(s *server) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		m := w.methods[info.FullMethod]
		pm, ok := req.(proto.Message)
		if m == nil || !ok {
			return handler(ctx, req)
		}
		r := pm.ProtoReflect()
		if !m.onlyKnown(r) {
			return handler(ctx, req)
		}
		var resp any
		var out *tfprotov6.DynamicValue
		simple := false // no diagnostics: encoded here
		switch info.FullMethod {
		case rpcUpgrade:
			a := s.fastUpgrade(ctx, w.upgradeRequest(r))
			resp, simple = a, a != nil && len(a.Diagnostics) == 0
			if simple {
				out = a.UpgradedState
			}
		case rpcRead:
			// Only a refresh waits (for a host): like terraform-plugin-go's
			// own calls, it ends when Terraform stops the provider.
			rctx, cancel := context.WithCancel(ctx)
			stop := context.AfterFunc(s.stopContext(), cancel)
			a := s.fastRead(rctx, w.readRequest(r))
			stop()
			cancel()
			resp, simple = a, a != nil && len(a.Diagnostics) == 0
			if simple {
				out = a.NewState
			}
		case rpcValidate:
			a := s.fastValidate(ctx, w.validateRequest(r))
			resp, simple = a, a != nil && len(a.Diagnostics) == 0
		case rpcPlan:
			a := s.fastPlan(ctx, w.planRequest(r))
			resp, simple = a, a != nil && len(a.Diagnostics) == 0
			if simple {
				out = a.PlannedState
			}
		}
		if !simple || (m.out != nil && (out == nil || len(out.JSON) > 0)) {
			return handler(withAnswer(ctx, resp), req)
		}
		s.fast.wire.Add(1)
		msg := m.resp.New()
		if m.out != nil {
			dv := msg.Mutable(m.out).Message()
			dv.Set(w.msgpack, protoreflect.ValueOfBytes(out.MsgPack))
		}
		return msg.Interface(), nil
	}
}

// onlyKnown: every field set in the request is one the fast path reads,
// and nothing unknown to this build came with it.
func (m *wireMethod) onlyKnown(r protoreflect.Message) bool {
	if len(r.GetUnknown()) > 0 {
		return false
	}
	ok := true
	r.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		ok = m.known[fd.Name()]
		return ok
	})
	return ok
}

func field(r protoreflect.Message, name protoreflect.Name) (protoreflect.Value, bool) {
	fd := r.Descriptor().Fields().ByName(name)
	if fd == nil || !r.Has(fd) {
		return protoreflect.Value{}, false
	}
	return r.Get(fd), true
}

// wireString is a string field; "" when unset.
func wireString(r protoreflect.Message, name protoreflect.Name) string {
	if v, ok := field(r, name); ok {
		return v.String()
	}
	return ""
}

// dynamic converts a DynamicValue field; nil when unset.
func (w *wireProtocol) dynamic(r protoreflect.Message, name protoreflect.Name) *tfprotov6.DynamicValue {
	v, ok := field(r, name)
	if !ok {
		return nil
	}
	dm := v.Message()
	return &tfprotov6.DynamicValue{MsgPack: dm.Get(w.msgpack).Bytes(), JSON: dm.Get(w.json).Bytes()}
}

func (w *wireProtocol) upgradeRequest(r protoreflect.Message) *tfprotov6.UpgradeResourceStateRequest {
	req := &tfprotov6.UpgradeResourceStateRequest{TypeName: wireString(r, "type_name")}
	if v, ok := field(r, "version"); ok {
		req.Version = v.Int()
	}
	if v, ok := field(r, "raw_state"); ok {
		rs := v.Message()
		fd := rs.Descriptor().Fields().ByName("json")
		flat := rs.Descriptor().Fields().ByName("flatmap")
		if fd != nil && flat != nil && !rs.Has(flat) && len(rs.GetUnknown()) == 0 {
			req.RawState = &tfprotov6.RawState{JSON: rs.Get(fd).Bytes()}
		}
	}
	return req
}

func (w *wireProtocol) readRequest(r protoreflect.Message) *tfprotov6.ReadResourceRequest {
	return &tfprotov6.ReadResourceRequest{TypeName: wireString(r, "type_name"), CurrentState: w.dynamic(r, "current_state"),
		ProviderMeta: w.dynamic(r, "provider_meta")}
}

func (w *wireProtocol) validateRequest(r protoreflect.Message) *tfprotov6.ValidateResourceConfigRequest {
	return &tfprotov6.ValidateResourceConfigRequest{TypeName: wireString(r, "type_name"), Config: w.dynamic(r, "config")}
}

func (w *wireProtocol) planRequest(r protoreflect.Message) *tfprotov6.PlanResourceChangeRequest {
	return &tfprotov6.PlanResourceChangeRequest{TypeName: wireString(r, "type_name"), PriorState: w.dynamic(r, "prior_state"),
		ProposedNewState: w.dynamic(r, "proposed_new_state"), Config: w.dynamic(r, "config"),
		ProviderMeta: w.dynamic(r, "provider_meta")}
}
