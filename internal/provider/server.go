package provider

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/defaults"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// The provider is served by the plugin framework, behind a thin layer that
// answers the four calls Terraform makes for every resource instance on a
// plan (UpgradeResourceState, ReadResource, ValidateResourceConfig,
// PlanResourceChange) without the framework's per-attribute machinery when
// the answer is "nothing to do". A refresh of hundreds of GDS pairs is
// mostly such answers, and the framework spends milliseconds on each.
//
// Every fast answer is one the framework would give too; anything else (a
// change, private state, an older schema version, a configuration with
// something to say about it) goes to the framework untouched. Errors met
// while refreshing are reported as they are, so that a failing host is
// not asked twice:
//   - UpgradeResourceState at the current schema version: the framework's
//     own passthrough (the JSON state re-encoded as msgpack with the
//     schema type), done in one pass (server_upgrade.go).
//   - ReadResource: resources implementing fastReader refresh from the
//     decoded state; when nothing changed the state goes back as it came.
//   - ValidateResourceConfig: resources implementing fastValidator accept
//     configurations they can prove valid; any doubt, and every rejection,
//     is left to the framework and its messages.
//   - PlanResourceChange: for resources implementing fastPlanner (plan
//     modifiers and ModifyPlan change nothing when the plan equals the
//     state), a proposed state equal to the prior state, with every
//     defaulted attribute either set in the configuration or at its
//     default in the prior state, is the plan.
//
// server_test.go checks each against the framework.

var _ tfprotov6.ProviderServer = (*server)(nil)

// fastReader refreshes a resource from its decoded state. handled = false
// hands the call to the framework (for instance because something
// changed); otherwise same says the state is unchanged, and diags holds
// what went wrong (the state is then kept).
type fastReader interface {
	fastRead(ctx context.Context, d *providerData, state tftypes.Value) (same bool, diags diag.Diagnostics, handled bool)
}

// fastValidator accepts a decoded configuration it can prove valid: true
// means the framework would report nothing at all for it.
type fastValidator interface {
	fastAccept(config tftypes.Value) bool
}

// fastPlanner marks a resource whose plan modifiers and ModifyPlan leave a
// plan equal to the prior state unchanged, without diagnostics.
type fastPlanner interface {
	fastPlan()
}

// NewServer returns the provider's protocol 6 server factory: each server
// has its own provider instance made by newProvider.
func NewServer(newProvider func() provider.Provider) func() (tfprotov6.ProviderServer, error) {
	return func() (tfprotov6.ProviderServer, error) {
		p := newProvider()
		inner, err := providerserver.NewProtocol6WithError(p)()
		if err != nil {
			return nil, err
		}
		s := &server{ProviderServer: inner}
		if bp, ok := p.(*backupctlProvider); ok {
			s.p = bp
		}
		return s, nil
	}
}

type server struct {
	tfprotov6.ProviderServer // the framework's

	p *backupctlProvider // nil: no fast paths that need the configuration

	once sync.Once
	res  map[string]*fastResource

	// fast counts the calls answered without the framework, and (wire)
	// those of them answered by the wire layer (for tests).
	fast struct{ upgrades, reads, validates, plans, wire atomic.Int64 }

	stopMu     sync.Mutex
	stopCtx    context.Context // see stopContext
	stopCancel context.CancelFunc
}

// fastResource is what the fast paths know of one resource type.
type fastResource struct {
	typ      tftypes.Type
	version  int64
	new      func() resource.Resource
	reader   bool
	accept   fastValidator
	plan     bool
	defaults map[string]tftypes.Value // top-level attributes with a default
}

func (s *server) resource(ctx context.Context, name string) *fastResource {
	s.once.Do(func() { s.res = fastResources(ctx) })
	return s.res[name]
}

// fastResources describes every registered resource.
func fastResources(ctx context.Context) map[string]*fastResource {
	out := map[string]*fastResource{}
	registryMu.Lock()
	factories := append([]func() resource.Resource(nil), resources...)
	registryMu.Unlock()
	for _, f := range factories {
		r := f()
		var md resource.MetadataResponse
		r.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: "backupctl"}, &md)
		var sr resource.SchemaResponse
		r.Schema(ctx, resource.SchemaRequest{}, &sr)
		if sr.Diagnostics.HasError() {
			continue
		}
		fr := &fastResource{typ: sr.Schema.Type().TerraformType(ctx), version: sr.Schema.Version, new: f}
		_, fr.reader = r.(fastReader)
		fr.accept, _ = r.(fastValidator)
		if _, ok := r.(fastPlanner); ok {
			fr.defaults, fr.plan = schemaDefaults(ctx, sr.Schema)
		}
		out[md.TypeName] = fr
	}
	return out
}

// schemaDefaults returns the defaults of the top-level attributes; ok is
// false when some default is of a kind the plan fast path does not handle
// (collections, objects, nested attributes and blocks).
func schemaDefaults(ctx context.Context, sch schema.Schema) (map[string]tftypes.Value, bool) {
	out := map[string]tftypes.Value{}
	for name, a := range sch.Attributes {
		p := path.Root(name)
		var v attr.Value
		switch a := a.(type) {
		case schema.StringAttribute:
			if a.Default != nil {
				var r defaults.StringResponse
				a.Default.DefaultString(ctx, defaults.StringRequest{Path: p}, &r)
				v = r.PlanValue
			}
		case schema.BoolAttribute:
			if a.Default != nil {
				var r defaults.BoolResponse
				a.Default.DefaultBool(ctx, defaults.BoolRequest{Path: p}, &r)
				v = r.PlanValue
			}
		case schema.Int64Attribute:
			if a.Default != nil {
				var r defaults.Int64Response
				a.Default.DefaultInt64(ctx, defaults.Int64Request{Path: p}, &r)
				v = r.PlanValue
			}
		default:
			if hasDefault(a) {
				return nil, false
			}
		}
		if v != nil {
			tv, err := v.ToTerraformValue(ctx)
			if err != nil {
				return nil, false
			}
			out[name] = tv
		}
	}
	for _, b := range sch.Blocks {
		if blockHasDefault(b) {
			return nil, false
		}
	}
	return out, true
}

func hasDefault(a schema.Attribute) bool {
	switch a := a.(type) {
	case schema.StringAttribute:
		return a.Default != nil
	case schema.BoolAttribute:
		return a.Default != nil
	case schema.Int64Attribute:
		return a.Default != nil
	case schema.Float64Attribute:
		return a.Default != nil
	case schema.NumberAttribute:
		return a.Default != nil
	case schema.ListAttribute:
		return a.Default != nil
	case schema.SetAttribute:
		return a.Default != nil
	case schema.MapAttribute:
		return a.Default != nil
	case schema.ObjectAttribute:
		return a.Default != nil
	case schema.DynamicAttribute:
		return a.Default != nil
	case schema.SingleNestedAttribute:
		return a.Default != nil || attrsHaveDefault(a.Attributes)
	case schema.ListNestedAttribute:
		return a.Default != nil || attrsHaveDefault(a.NestedObject.Attributes)
	case schema.SetNestedAttribute:
		return a.Default != nil || attrsHaveDefault(a.NestedObject.Attributes)
	case schema.MapNestedAttribute:
		return a.Default != nil || attrsHaveDefault(a.NestedObject.Attributes)
	}
	return true // an unknown kind: assume the worst
}

func attrsHaveDefault(m map[string]schema.Attribute) bool {
	for _, a := range m {
		if hasDefault(a) {
			return true
		}
	}
	return false
}

func blockHasDefault(b schema.Block) bool {
	switch b := b.(type) {
	case schema.SingleNestedBlock:
		if attrsHaveDefault(b.Attributes) {
			return true
		}
		for _, nb := range b.Blocks {
			if blockHasDefault(nb) {
				return true
			}
		}
		return false
	case schema.ListNestedBlock:
		return blockObjectHasDefault(b.NestedObject)
	case schema.SetNestedBlock:
		return blockObjectHasDefault(b.NestedObject)
	}
	return true
}

func blockObjectHasDefault(o schema.NestedBlockObject) bool {
	if attrsHaveDefault(o.Attributes) {
		return true
	}
	for _, nb := range o.Blocks {
		if blockHasDefault(nb) {
			return true
		}
	}
	return false
}

// Each of the four calls first looks for an answer the wire layer
// (server_wire.go) already worked out for this request, so that no fast
// path runs twice for one call: a refresh that failed is not tried again.

func (s *server) UpgradeResourceState(ctx context.Context, req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	resp, found := answerIn[*tfprotov6.UpgradeResourceStateResponse](ctx)
	if !found {
		resp = s.fastUpgrade(ctx, req)
	}
	if resp != nil {
		return resp, nil
	}
	return s.ProviderServer.UpgradeResourceState(ctx, req)
}

func (s *server) fastUpgrade(ctx context.Context, req *tfprotov6.UpgradeResourceStateRequest) *tfprotov6.UpgradeResourceStateResponse {
	if req == nil || req.RawState == nil || req.RawState.JSON == nil {
		return nil
	}
	r := s.resource(ctx, req.TypeName)
	if r == nil || req.Version != r.version {
		return nil
	}
	mp, ok := stateToMsgPack(req.RawState.JSON, r.typ)
	if !ok {
		return nil
	}
	s.fast.upgrades.Add(1)
	return &tfprotov6.UpgradeResourceStateResponse{UpgradedState: &tfprotov6.DynamicValue{MsgPack: mp}}
}

func (s *server) ReadResource(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	resp, found := answerIn[*tfprotov6.ReadResourceResponse](ctx)
	if !found {
		resp = s.fastRead(ctx, req)
	}
	if resp != nil {
		return resp, nil
	}
	return s.ProviderServer.ReadResource(ctx, req)
}

func (s *server) fastRead(ctx context.Context, req *tfprotov6.ReadResourceRequest) *tfprotov6.ReadResourceResponse {
	if s.p == nil || req == nil || req.CurrentState == nil || len(req.Private) > 0 || req.CurrentIdentity != nil {
		return nil
	}
	d := s.p.configured()
	r := s.resource(ctx, req.TypeName)
	if d == nil || r == nil || !r.reader {
		return nil
	}
	v, err := req.CurrentState.Unmarshal(r.typ)
	if err != nil || v.IsNull() || !v.IsFullyKnown() {
		return nil
	}
	same, diags, handled := r.new().(fastReader).fastRead(ctx, d, v)
	if !handled || (!same && !diags.HasError()) {
		return nil
	}
	s.fast.reads.Add(1)
	return &tfprotov6.ReadResourceResponse{NewState: req.CurrentState, Diagnostics: protoDiags(diags)}
}

func (s *server) ValidateResourceConfig(ctx context.Context, req *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	resp, found := answerIn[*tfprotov6.ValidateResourceConfigResponse](ctx)
	if !found {
		resp = s.fastValidate(ctx, req)
	}
	if resp != nil {
		return resp, nil
	}
	return s.ProviderServer.ValidateResourceConfig(ctx, req)
}

func (s *server) fastValidate(ctx context.Context, req *tfprotov6.ValidateResourceConfigRequest) *tfprotov6.ValidateResourceConfigResponse {
	if req == nil || req.Config == nil {
		return nil
	}
	r := s.resource(ctx, req.TypeName)
	if r == nil || r.accept == nil {
		return nil
	}
	if v, err := req.Config.Unmarshal(r.typ); err != nil || !r.accept.fastAccept(v) {
		return nil
	}
	s.fast.validates.Add(1)
	return &tfprotov6.ValidateResourceConfigResponse{}
}

func (s *server) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	resp, found := answerIn[*tfprotov6.PlanResourceChangeResponse](ctx)
	if !found {
		resp = s.fastPlan(ctx, req)
	}
	if resp != nil {
		return resp, nil
	}
	return s.ProviderServer.PlanResourceChange(ctx, req)
}

func (s *server) fastPlan(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) *tfprotov6.PlanResourceChangeResponse {
	if !s.planUnchanged(ctx, req) {
		return nil
	}
	s.fast.plans.Add(1)
	return &tfprotov6.PlanResourceChangeResponse{PlannedState: req.ProposedNewState}
}

// StopProvider ends the fast refreshes in flight (the framework's calls
// are ended by terraform-plugin-go), then passes the call on.
func (s *server) StopProvider(ctx context.Context, req *tfprotov6.StopProviderRequest) (*tfprotov6.StopProviderResponse, error) {
	s.stopMu.Lock()
	if s.stopCancel != nil {
		s.stopCancel()
	}
	s.stopCtx, s.stopCancel = nil, nil
	s.stopMu.Unlock()
	return s.ProviderServer.StopProvider(ctx, req)
}

// stopContext is done once StopProvider is called; calls that start after
// that get a new one, as terraform-plugin-go's own do.
func (s *server) stopContext() context.Context {
	s.stopMu.Lock()
	defer s.stopMu.Unlock()
	if s.stopCtx == nil {
		s.stopCtx, s.stopCancel = context.WithCancel(context.Background())
	}
	return s.stopCtx
}

// answerKey carries a wire-layer answer (a response, or nil for "no fast
// answer: ask the framework") down to the server method.
type answerKey struct{}

type answer struct{ resp any }

func withAnswer(ctx context.Context, resp any) context.Context {
	return context.WithValue(ctx, answerKey{}, answer{resp})
}

// answerIn returns the answer in ctx; found is false when there is none
// of type T (the call did not come through the wire layer).
func answerIn[T any](ctx context.Context) (resp T, found bool) {
	a, ok := ctx.Value(answerKey{}).(answer)
	if !ok {
		return resp, false
	}
	resp, found = a.resp.(T)
	return resp, found
}

// planUnchanged: the plan is the prior state, as the framework would find.
func (s *server) planUnchanged(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) bool {
	if req == nil || req.PriorState == nil || req.ProposedNewState == nil || req.Config == nil ||
		len(req.PriorPrivate) > 0 || req.PriorIdentity != nil {
		return false
	}
	if len(req.PriorState.MsgPack) == 0 || !bytes.Equal(req.PriorState.MsgPack, req.ProposedNewState.MsgPack) {
		return false
	}
	r := s.resource(ctx, req.TypeName)
	if r == nil || !r.plan {
		return false
	}
	prior, err := req.PriorState.Unmarshal(r.typ)
	if err != nil || prior.IsNull() || !prior.IsFullyKnown() {
		return false
	}
	cfg, err := req.Config.Unmarshal(r.typ)
	if err != nil || cfg.IsNull() || !cfg.IsKnown() {
		return false
	}
	var pa, ca map[string]tftypes.Value
	if prior.As(&pa) != nil || cfg.As(&ca) != nil {
		return false
	}
	// An attribute left out of the configuration is planned at its default:
	// the prior state must hold it already.
	for name, def := range r.defaults {
		if c, ok := ca[name]; ok && !c.IsNull() {
			continue // set in the configuration, hence equal to the prior state
		}
		if !pa[name].Equal(def) {
			return false
		}
	}
	return true
}

// protoDiags converts diagnostics for a fast answer: attribute paths of
// attribute names and map or list elements.
func protoDiags(diags diag.Diagnostics) []*tfprotov6.Diagnostic {
	var out []*tfprotov6.Diagnostic
	for _, d := range diags {
		pd := &tfprotov6.Diagnostic{Severity: tfprotov6.DiagnosticSeverityError, Summary: d.Summary(), Detail: d.Detail()}
		if d.Severity() == diag.SeverityWarning {
			pd.Severity = tfprotov6.DiagnosticSeverityWarning
		}
		if wp, ok := d.(diag.DiagnosticWithPath); ok {
			pd.Attribute = tfPath(wp.Path())
		}
		out = append(out, pd)
	}
	return out
}

func tfPath(p path.Path) *tftypes.AttributePath {
	out := tftypes.NewAttributePath()
	for _, st := range p.Steps() {
		switch st := st.(type) {
		case path.PathStepAttributeName:
			out = out.WithAttributeName(string(st))
		case path.PathStepElementKeyString:
			out = out.WithElementKeyString(string(st))
		case path.PathStepElementKeyInt:
			out = out.WithElementKeyInt(int(st))
		default:
			return out
		}
	}
	return out
}

// tfString converts a string value; ok is false for another type.
func tfString(v tftypes.Value) (types.String, bool) {
	if !v.Type().Is(tftypes.String) {
		return types.StringNull(), false
	}
	if !v.IsKnown() {
		return types.StringUnknown(), true
	}
	if v.IsNull() {
		return types.StringNull(), true
	}
	var s string
	if v.As(&s) != nil {
		return types.StringNull(), false
	}
	return types.StringValue(s), true
}

// tfStringMap converts a known map of strings.
func tfStringMap(v tftypes.Value) (types.Map, bool) {
	if !v.Type().Is(tftypes.Map{ElementType: tftypes.String}) || !v.IsFullyKnown() {
		return types.MapNull(types.StringType), false
	}
	if v.IsNull() {
		return types.MapNull(types.StringType), true
	}
	var elems map[string]tftypes.Value
	if v.As(&elems) != nil {
		return types.MapNull(types.StringType), false
	}
	out := make(map[string]attr.Value, len(elems))
	for k, e := range elems {
		s, ok := tfString(e)
		if !ok {
			return types.MapNull(types.StringType), false
		}
		out[k] = s
	}
	m, diags := types.MapValue(types.StringType, out)
	return m, !diags.HasError()
}
