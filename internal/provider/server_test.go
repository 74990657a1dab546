package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// The fast paths of server.go must answer exactly as the framework would.
// These tests put the same requests to both and compare.

const gdsType = "backupctl_gds_proxy_pair"

func newTestServer(t *testing.T) (fast *server, framework tfprotov6.ProviderServer) {
	t.Helper()
	s, err := NewServer(New("test"))()
	if err != nil {
		t.Fatal(err)
	}
	fw, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	return s.(*server), fw
}

// object builds a value of typ: the given attributes, null elsewhere.
func object(t *testing.T, typ tftypes.Type, attrs map[string]tftypes.Value) tftypes.Value {
	t.Helper()
	ot := typ.(tftypes.Object)
	vals := map[string]tftypes.Value{}
	for name, at := range ot.AttributeTypes {
		vals[name] = tftypes.NewValue(at, nil)
	}
	for name, v := range attrs {
		if _, ok := ot.AttributeTypes[name]; !ok {
			t.Fatalf("no attribute %q", name)
		}
		vals[name] = v
	}
	return tftypes.NewValue(typ, vals)
}

func dyn(t *testing.T, typ tftypes.Type, v tftypes.Value) *tfprotov6.DynamicValue {
	t.Helper()
	dv, err := tfprotov6.NewDynamicValue(typ, v)
	if err != nil {
		t.Fatal(err)
	}
	return &dv
}

func str(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }
func boolean(b bool) tftypes.Value {
	return tftypes.NewValue(tftypes.Bool, b)
}
func unknownStr() tftypes.Value { return tftypes.NewValue(tftypes.String, tftypes.UnknownValue) }

// gdsState is a refreshed volume pair as it sits in state.
func gdsState(t *testing.T, typ tftypes.Type, over map[string]tftypes.Value) tftypes.Value {
	attrs := map[string]tftypes.Value{
		"id": str("gds1/Class1/Volume2"), "host": str("gds1"), "class": str("Class1"),
		"master": str("Volume1"), "proxy": str("Volume2"), "all_nodes": boolean(true),
		"state": str("joined"), "instant": boolean(false), "copy_status": str("STOP"),
		"master_device": str("/dev/sfdsk/Class1/dsk/Volume1"), "proxy_device": str("/dev/sfdsk/Class1/dsk/Volume2"),
	}
	for k, v := range over {
		attrs[k] = v
	}
	return object(t, typ, attrs)
}

// gdsConfig is the configuration behind gdsState: computed attributes null.
func gdsConfig(t *testing.T, typ tftypes.Type, over map[string]tftypes.Value) tftypes.Value {
	attrs := map[string]tftypes.Value{
		"host": str("gds1"), "class": str("Class1"), "master": str("Volume1"), "proxy": str("Volume2"), "all_nodes": boolean(true),
	}
	for k, v := range over {
		if v.IsNull() {
			delete(attrs, k)
			continue
		}
		attrs[k] = v
	}
	return object(t, typ, attrs)
}

// proposed computes Terraform's proposed new state for these flat
// attributes: the configuration, with the prior value where the
// configuration is null and the attribute computed.
func proposed(t *testing.T, typ tftypes.Type, prior, config tftypes.Value) tftypes.Value {
	t.Helper()
	computed := map[string]bool{"id": true, "host": true, "all_nodes": true, "state": true, "instant": true,
		"copy_status": true, "parted_at": true, "master_device": true, "proxy_device": true}
	var pa, ca map[string]tftypes.Value
	if err := prior.As(&pa); err != nil {
		t.Fatal(err)
	}
	if err := config.As(&ca); err != nil {
		t.Fatal(err)
	}
	out := map[string]tftypes.Value{}
	for name, c := range ca {
		out[name] = c
		if c.IsNull() && computed[name] {
			out[name] = pa[name]
		}
	}
	return tftypes.NewValue(typ, out)
}

func TestServerPlanFastPathAgreesWithFramework(t *testing.T) {
	ctx := context.Background()
	s, fw := newTestServer(t)
	typ := s.resource(ctx, gdsType).typ
	cases := []struct {
		name   string
		prior  map[string]tftypes.Value
		config map[string]tftypes.Value
		fast   bool
	}{
		{name: "unchanged", fast: true},
		{name: "host left to its default", prior: map[string]tftypes.Value{"host": str("local"), "id": str("local/Class1/Volume2")},
			config: map[string]tftypes.Value{"host": tftypes.NewValue(tftypes.String, nil)}, fast: true},
		{name: "all_nodes dropped from the configuration (back to false)", config: map[string]tftypes.Value{"all_nodes": tftypes.NewValue(tftypes.Bool, nil)}},
		{name: "state dropped while parted (back to joined)", prior: map[string]tftypes.Value{"state": str("parted"), "parted_at": str("2026-11-22T01:02:03Z")}},
		{name: "parted and configured so", prior: map[string]tftypes.Value{"state": str("parted"), "parted_at": str("2026-11-22T01:02:03Z")},
			config: map[string]tftypes.Value{"state": str("parted")}, fast: true},
		{name: "state change", config: map[string]tftypes.Value{"state": str("parted")}},
		{name: "master changed (replace)", config: map[string]tftypes.Value{"master": str("Volume3")}},
		{name: "trigger changed", prior: map[string]tftypes.Value{"snapshot_trigger": str("a")}, config: map[string]tftypes.Value{"snapshot_trigger": str("b")}},
		{name: "unknown in the configuration", config: map[string]tftypes.Value{"snapshot_trigger": unknownStr()}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			prior := gdsState(t, typ, tc.prior)
			cfg := gdsConfig(t, typ, tc.config)
			req := &tfprotov6.PlanResourceChangeRequest{TypeName: gdsType, PriorState: dyn(t, typ, prior),
				ProposedNewState: dyn(t, typ, proposed(t, typ, prior, cfg)), Config: dyn(t, typ, cfg)}
			if got := s.planUnchanged(ctx, req); got != tc.fast {
				t.Fatalf("fast path taken = %v, want %v", got, tc.fast)
			}
			before := s.fast.plans.Load()
			ours, err := s.PlanResourceChange(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if tc.fast && s.fast.plans.Load() != before+1 {
				t.Fatal("the fast answer was not counted")
			}
			theirs, err := fw.PlanResourceChange(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range theirs.Diagnostics {
				if d.Severity == tfprotov6.DiagnosticSeverityError {
					t.Fatalf("framework: %s: %s", d.Summary, d.Detail)
				}
			}
			a, err := ours.PlannedState.Unmarshal(typ)
			if err != nil {
				t.Fatal(err)
			}
			b, err := theirs.PlannedState.Unmarshal(typ)
			if err != nil {
				t.Fatal(err)
			}
			if !a.Equal(b) {
				t.Errorf("planned states differ:\nfast path: %v\nframework: %v", a, b)
			}
			if len(ours.RequiresReplace) != len(theirs.RequiresReplace) {
				t.Errorf("requires replace: %v, framework %v", ours.RequiresReplace, theirs.RequiresReplace)
			}
			if tc.fast && (len(theirs.Diagnostics) > 0 || len(theirs.RequiresReplace) > 0 || !b.Equal(prior)) {
				t.Errorf("fast path for a plan the framework changes: %v %v", theirs.Diagnostics, theirs.RequiresReplace)
			}
		})
	}
}

func TestServerValidateFastAcceptAgreesWithFramework(t *testing.T) {
	ctx := context.Background()
	s, fw := newTestServer(t)
	typ := s.resource(ctx, gdsType).typ
	ot := typ.(tftypes.Object)
	names := []tftypes.Value{str("Volume1"), str("vol_2-b"), str(""), str("bad name"), str("-x"), str("a234567890123456789012345678901234"),
		unknownStr(), tftypes.NewValue(tftypes.String, nil)}
	var configs []map[string]tftypes.Value
	for _, n := range names {
		configs = append(configs,
			map[string]tftypes.Value{"class": n, "master": str("Volume1"), "proxy": str("Volume2")},
			map[string]tftypes.Value{"class": str("Class1"), "master": n, "proxy": str("Volume2")},
			map[string]tftypes.Value{"class": str("Class1"), "master": str("Volume1"), "proxy": n})
	}
	for _, st := range []tftypes.Value{str("joined"), str("parted"), str("mixed"), str(""), unknownStr()} {
		configs = append(configs, map[string]tftypes.Value{"class": str("C"), "master": str("M"), "proxy": str("P"), "state": st})
	}
	vm := tftypes.NewValue(ot.AttributeTypes["volume_map"], map[string]tftypes.Value{"m1": str("p1")})
	configs = append(configs,
		map[string]tftypes.Value{"class": str("C"), "master": str("V"), "proxy": str("V")},
		map[string]tftypes.Value{"class": str("C"), "master": unknownStr(), "proxy": str("V")},
		map[string]tftypes.Value{"class": str("C"), "master": str("MG"), "proxy": str("PG"), "volume_map": vm},
		map[string]tftypes.Value{"class": str("C"), "master": str("M"), "proxy": str("P"), "host": str("nowhere"), "all_nodes": boolean(true),
			"instant": boolean(true), "snapshot_trigger": str("x")},
	)
	accepted := 0
	for i, attrs := range configs {
		cfg := object(t, typ, attrs)
		fast := s.resource(ctx, gdsType).accept.fastAccept(cfg)
		resp, err := fw.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{TypeName: gdsType, Config: dyn(t, typ, cfg)})
		if err != nil {
			t.Fatal(err)
		}
		if fast && len(resp.Diagnostics) > 0 {
			t.Errorf("config %d %v: accepted by the fast path, but the framework says %q: %s", i, attrs, resp.Diagnostics[0].Summary, resp.Diagnostics[0].Detail)
		}
		if fast {
			accepted++
		}
		// the ordinary valid configurations do take the fast path
		if _, vm := attrs["volume_map"]; !fast && !vm && len(resp.Diagnostics) == 0 {
			t.Errorf("config %d %v: valid, but left to the framework", i, attrs)
		}
	}
	t.Logf("%d of %d configurations accepted by the fast path", accepted, len(configs))
	// and the server answers them without the framework
	before := s.fast.validates.Load()
	resp, err := s.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{TypeName: gdsType,
		Config: dyn(t, typ, object(t, typ, configs[0]))})
	if err != nil || len(resp.Diagnostics) != 0 || s.fast.validates.Load() != before+1 {
		t.Errorf("valid configuration: %v %v, fast answers %d -> %d", err, resp.Diagnostics, before, s.fast.validates.Load())
	}
	// while a rejection carries the framework's words
	resp, err = s.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{TypeName: gdsType,
		Config: dyn(t, typ, object(t, typ, map[string]tftypes.Value{"class": str("bad name"), "master": str("M"), "proxy": str("P")}))})
	if err != nil || len(resp.Diagnostics) != 1 || resp.Diagnostics[0].Attribute.String() != tftypes.NewAttributePath().WithAttributeName("class").String() {
		t.Errorf("invalid class: %v %+v", err, resp.Diagnostics)
	}
}

func TestServerUpgradeMatchesFramework(t *testing.T) {
	ctx := context.Background()
	s, fw := newTestServer(t)
	typ := s.resource(ctx, gdsType).typ
	states := []struct {
		json string
		fast bool
	}{
		{`{"id":"gds1/Class1/Volume2","host":"gds1","class":"Class1","master":"Volume1","proxy":"Volume2","volume_map":null,"all_nodes":true,` +
			`"state":"parted","snapshot_trigger":"v1","quiesce":{"before":["sync"],"after":null},"instant":false,"copy_status":"STOP",` +
			`"parted_at":"2026-11-22T01:02:03Z","master_device":"/dev/sfdsk/Class1/dsk/Volume1","proxy_device":"/dev/sfdsk/Class1/dsk/Volume2","timeouts":null}`, true},
		{`{"id":"local/C/P","host":"local","class":"C","master":"M","proxy":"P","volume_map":{"b":"y","a":"x"},"all_nodes":false,"state":"joined",` +
			`"snapshot_trigger":null,"quiesce":null,"instant":false,"copy_status":"COPY","parted_at":null,"master_device":null,"proxy_device":null,` +
			`"timeouts":{"create":"1h","update":null,"delete":null}}`, true},
		// attributes missing from the JSON are null
		{`{"id":"local/C/P","host":"local","class":"C","master":"M","proxy":"P","quiesce":{"after":["start"]}}`, true},
		// an attribute of some other provider version: dropped, by the framework
		{`{"id":"local/C/P","host":"local","class":"C","master":"M","proxy":"P","retired":"x"}`, false},
		{`{"id":"local/C/P","quiesce":{"before":["a"],"during":["b"]}}`, false},
		// not this schema: the framework decides and words it
		{`{"id":"local/C/P","host":17}`, false},
		{`{"id":"local/C/P","all_nodes":"yes"}`, false},
		{`{"id":"local/C/P"} {}`, false},
		{`[]`, false},
	}
	for i, st := range states {
		req := &tfprotov6.UpgradeResourceStateRequest{TypeName: gdsType, Version: 0, RawState: &tfprotov6.RawState{JSON: []byte(st.json)}}
		before := s.fast.upgrades.Load()
		ours, err := s.UpgradeResourceState(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if fast := s.fast.upgrades.Load() == before+1; fast != st.fast {
			t.Errorf("state %d: answered by the fast path: %v, want %v", i, fast, st.fast)
		}
		theirs, err := fw.UpgradeResourceState(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(diagSummaries(ours.Diagnostics)) != fmt.Sprint(diagSummaries(theirs.Diagnostics)) {
			t.Errorf("state %d: diagnostics %v, framework %v", i, diagSummaries(ours.Diagnostics), diagSummaries(theirs.Diagnostics))
		}
		if (ours.UpgradedState == nil) != (theirs.UpgradedState == nil) {
			t.Errorf("state %d: upgraded state %v, framework %v", i, ours.UpgradedState, theirs.UpgradedState)
			continue
		}
		if theirs.UpgradedState == nil {
			continue
		}
		a, err := ours.UpgradedState.Unmarshal(typ)
		if err != nil {
			t.Fatalf("state %d: %v", i, err)
		}
		b, _ := theirs.UpgradedState.Unmarshal(typ)
		if !a.Equal(b) {
			t.Errorf("state %d: upgraded states differ:\nfast path: %v\nframework: %v", i, a, b)
		}
	}
}

func diagSummaries(ds []*tfprotov6.Diagnostic) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Summary)
	}
	return out
}

// Every resource with a fast plan has defaults the fast path understands.
func TestServerFastResourcesDescribed(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestServer(t)
	r := s.resource(ctx, gdsType)
	if r == nil || !r.plan || !r.reader || r.accept == nil {
		t.Fatalf("gds_proxy_pair fast paths: %+v", r)
	}
	want := map[string]tftypes.Value{"host": str("local"), "all_nodes": boolean(false), "state": str("joined"), "instant": boolean(false)}
	if len(r.defaults) != len(want) {
		t.Fatalf("defaults %v, want %v", r.defaults, want)
	}
	for k, v := range want {
		if !r.defaults[k].Equal(v) {
			t.Errorf("default of %s: %v, want %v", k, r.defaults[k], v)
		}
	}
}
