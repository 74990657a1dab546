package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
)

func gensN(n int) []kcpsGeneration {
	out := make([]kcpsGeneration, n)
	for i := range out {
		out[i] = kcpsGeneration{ID: fmt.Sprintf("g%d", i), State: "BackedUp"}
	}
	return out
}

func ids(gs []kcpsGeneration) string {
	var s []string
	for _, g := range gs {
		s = append(s, g.ID)
	}
	return fmt.Sprint(s)
}

func TestPlanRotation(t *testing.T) {
	for _, c := range []struct {
		n, keep             int
		take                bool
		wantKeep, wantPrune string
	}{
		{0, 8, true, "[]", "[]"},
		{7, 8, true, "[g0 g1 g2 g3 g4 g5 g6]", "[]"},
		{8, 8, true, "[g0 g1 g2 g3 g4 g5 g6]", "[g7]"},
		{8, 3, false, "[g0 g1 g2]", "[g3 g4 g5 g6 g7]"},
		{8, 3, true, "[g0 g1]", "[g2 g3 g4 g5 g6 g7]"},
		{1, 1, true, "[]", "[g0]"},
		{2, 8, false, "[g0 g1]", "[]"},
	} {
		p := planRotation(gensN(c.n), c.keep, c.take)
		if ids(p.Keep) != c.wantKeep || ids(p.Prune) != c.wantPrune || p.Take != c.take {
			t.Errorf("n=%d keep=%d take=%v: keep %s prune %s", c.n, c.keep, c.take, ids(p.Keep), ids(p.Prune))
		}
		// Reading the rotation back from the planned list gives the same.
		var planned []kcpsGeneration
		if c.take {
			planned = append(planned, kcpsGeneration{})
		}
		planned = append(planned, p.Keep...)
		q := rotationFromPlan(gensN(c.n), planned)
		if ids(q.Keep) != ids(p.Keep) || ids(q.Prune) != ids(p.Prune) || q.Take != p.Take {
			t.Errorf("from plan: %+v vs %+v", q, p)
		}
	}
	// Missing generations are accepted, not pruned, and do not count.
	gs := gensN(4)
	gs[1].State = generationMissing
	p := planRotation(gs, 3, true)
	if ids(p.Accept) != "[g1]" || ids(p.Keep) != "[g0 g2]" || ids(p.Prune) != "[g3]" {
		t.Fatalf("%+v", p)
	}
}

func TestTriggerTakes(t *testing.T) {
	for _, c := range []struct {
		state, plan *string
		imported    bool
		want        bool
	}{
		{nil, strp("a"), false, true},
		{strp("a"), strp("a"), false, false},
		{strp("a"), strp("b"), false, true},
		{strp("a"), nil, false, false},
		{nil, strp("a"), true, false},
		{strp("a"), strp("b"), true, true},
	} {
		if got := triggerTakes(tstr(c.state), tstr(c.plan), c.imported); got != c.want {
			t.Errorf("%v -> %v imported=%v: %v", c.state, c.plan, c.imported, got)
		}
	}
}

func strp(s string) *string { return &s }

func tstr(s *string) types.String { return types.StringPointerValue(s) }
