package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/backupctl/terraform-provider-backupctl/internal/kcps"
)

// generationMissing is the state Read gives a generation whose snapshot was
// deleted behind Terraform's back; the next plan drops it (a change to
// accept).
const generationMissing = "Missing"

// kcpsGeneration is one snapshot of a generation set, newest first in lists.
type kcpsGeneration struct {
	ID, Name, State, Created string
	Trigger                  *string
}

var kcpsGenerationAttrTypes = map[string]attr.Type{
	"id": types.StringType, "name": types.StringType, "state": types.StringType,
	"created": types.StringType, "trigger": types.StringType,
}

var kcpsGenerationType = types.ObjectType{AttrTypes: kcpsGenerationAttrTypes}

func genFromSnapshot(s kcps.Snapshot, trigger *string) kcpsGeneration {
	return kcpsGeneration{ID: s.ID, Name: s.Name, State: s.State, Created: formatCreated(s.Created), Trigger: trigger}
}

func formatCreated(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func (g kcpsGeneration) object() types.Object {
	trig := types.StringNull()
	if g.Trigger != nil {
		trig = types.StringValue(*g.Trigger)
	}
	return types.ObjectValueMust(kcpsGenerationAttrTypes, map[string]attr.Value{
		"id": types.StringValue(g.ID), "name": types.StringValue(g.Name), "state": types.StringValue(g.State),
		"created": types.StringValue(g.Created), "trigger": trig,
	})
}

// newGenerationObject is the planned, not yet taken generation.
func newGenerationObject(trigger types.String) types.Object {
	return types.ObjectValueMust(kcpsGenerationAttrTypes, map[string]attr.Value{
		"id": types.StringUnknown(), "name": types.StringUnknown(), "state": types.StringValue(kcps.SnapshotBackedUp),
		"created": types.StringUnknown(), "trigger": trigger,
	})
}

func generationsList(gs []kcpsGeneration) types.List {
	elems := make([]attr.Value, len(gs))
	for i, g := range gs {
		elems[i] = g.object()
	}
	return types.ListValueMust(kcpsGenerationType, elems)
}

func generationsFrom(ctx context.Context, l types.List) ([]kcpsGeneration, diag.Diagnostics) {
	if l.IsNull() || l.IsUnknown() {
		return nil, nil
	}
	var raw []struct {
		ID      types.String `tfsdk:"id"`
		Name    types.String `tfsdk:"name"`
		State   types.String `tfsdk:"state"`
		Created types.String `tfsdk:"created"`
		Trigger types.String `tfsdk:"trigger"`
	}
	diags := l.ElementsAs(ctx, &raw, false)
	out := make([]kcpsGeneration, len(raw))
	for i, r := range raw {
		out[i] = kcpsGeneration{ID: r.ID.ValueString(), Name: r.Name.ValueString(), State: r.State.ValueString(),
			Created: r.Created.ValueString(), Trigger: r.Trigger.ValueStringPointer()}
	}
	return out, diags
}

// liveGenerations drops the generations found missing.
func liveGenerations(gs []kcpsGeneration) []kcpsGeneration {
	var out []kcpsGeneration
	for _, g := range gs {
		if g.State != generationMissing {
			out = append(out, g)
		}
	}
	return out
}

// rotationPlan is what an apply does to a generation set.
type rotationPlan struct {
	Take   bool             // a new generation is taken first
	Keep   []kcpsGeneration // existing generations kept (newest first)
	Prune  []kcpsGeneration // deleted once the new generation is BackedUp
	Accept []kcpsGeneration // found missing: dropped from state
}

// planRotation decides, from the generations in state, keep and whether a
// new generation is due, which generations stay and which are pruned. The
// new generation counts towards keep.
func planRotation(state []kcpsGeneration, keep int, take bool) rotationPlan {
	var p rotationPlan
	p.Take = take
	live := liveGenerations(state)
	for _, g := range state {
		if g.State == generationMissing {
			p.Accept = append(p.Accept, g)
		}
	}
	room := keep
	if take {
		room--
	}
	if len(live) > room {
		p.Keep, p.Prune = live[:room], live[room:]
	} else {
		p.Keep = live
	}
	return p
}

// rotationFromPlan reads the rotation off the planned generations: a first
// generation without id is to be taken, state generations absent from the
// plan are pruned (or, when missing, accepted).
func rotationFromPlan(state, planned []kcpsGeneration) rotationPlan {
	var p rotationPlan
	inPlan := map[string]bool{}
	for i, g := range planned {
		if g.ID == "" && i == 0 {
			p.Take = true
			continue
		}
		inPlan[g.ID] = true
	}
	for _, g := range state {
		switch {
		case g.State == generationMissing:
			p.Accept = append(p.Accept, g)
		case inPlan[g.ID]:
			p.Keep = append(p.Keep, g)
		default:
			p.Prune = append(p.Prune, g)
		}
	}
	return p
}
