package provider

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/backupctl/terraform-provider-backupctl/internal/kcpsemu"
)

// kcpsTestScale runs KCPS jobs 10,000 times faster than KCPS: a 10 GB
// snapshot takes 0.1 s, a 100 GB one about a second.
const kcpsTestScale = 1e-4

// startKCPSEmu starts the demo account on loopback, time-scaled, and points
// the provider's polling at the same scale.
func startKCPSEmu(t *testing.T, scale float64, mutate ...func(*kcpsemu.Config)) *kcpsemu.Server {
	t.Helper()
	cfg := kcpsemu.DefaultConfig()
	cfg.TimeScale = scale
	for _, m := range mutate {
		m(&cfg)
	}
	srv := kcpsemu.StartT(t, cfg)
	t.Setenv(envKCPSPollScale, strconv.FormatFloat(scale, 'g', -1, 64))
	return srv
}

// kcpsProviderBlock configures the provider for srv's demo account.
func kcpsProviderBlock(srv *kcpsemu.Server) string {
	return fmt.Sprintf(`
provider "backupctl" {
  kcps = {
    endpoint   = %q
    api_key    = %q
    secret_key = %q
  }
}
`, srv.Endpoint, kcpsemu.DemoAPIKey, kcpsemu.DemoSecretKey)
}

// stateGenerationIDs returns the generation ids of a resource in state.
func stateGenerationIDs(s *terraform.State, addr string) ([]string, error) {
	rs, ok := s.RootModule().Resources[addr]
	if !ok {
		return nil, fmt.Errorf("%s not in state", addr)
	}
	n, err := strconv.Atoi(rs.Primary.Attributes["generations.#"])
	if err != nil {
		return nil, err
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = rs.Primary.Attributes[fmt.Sprintf("generations.%d.id", i)]
	}
	return ids, nil
}

// checkStateMatchesKCPS asserts that the generations in state are exactly
// the snapshots of the volume in the emulator (no duplicate, no orphan),
// newest first, all BackedUp, and that there are want of them.
func checkStateMatchesKCPS(srv *kcpsemu.Server, addr, volumeID string, want int) func(*terraform.State) error {
	return func(s *terraform.State) error {
		ids, err := stateGenerationIDs(s, addr)
		if err != nil {
			return err
		}
		snaps := srv.Snapshots(volumeID)
		if len(ids) != want || len(snaps) != want {
			return fmt.Errorf("want %d generations: state has %d, KCPS has %d (%+v)", want, len(ids), len(snaps), snaps)
		}
		// Emulator order is oldest first.
		for i, sn := range snaps {
			if sn.State != "BackedUp" {
				return fmt.Errorf("snapshot %s is %s", sn.ID, sn.State)
			}
			if ids[len(ids)-1-i] != sn.ID {
				return fmt.Errorf("state %v does not match KCPS %+v (newest first)", ids, snaps)
			}
		}
		rs := s.RootModule().Resources[addr]
		if want > 0 && rs.Primary.Attributes["latest_snapshot_id"] != ids[0] {
			return fmt.Errorf("latest_snapshot_id %s, newest generation %s", rs.Primary.Attributes["latest_snapshot_id"], ids[0])
		}
		return nil
	}
}

// checkNoPrematurePrune asserts that every deleteSnapshot started after
// the snapshot taken before it had finished successfully.
func checkNoPrematurePrune(srv *kcpsemu.Server) func(*terraform.State) error {
	return func(*terraform.State) error {
		creates := srv.Jobs("createSnapshot")
		for _, d := range srv.Jobs("deleteSnapshot") {
			var last *kcpsemu.JobInfo
			for i := range creates {
				if !creates[i].Created.After(d.Created) {
					last = &creates[i]
				}
			}
			if last == nil {
				continue
			}
			if last.Status != 1 || last.End.After(d.Created) {
				return fmt.Errorf("snapshot %s was pruned at %s, before the new generation %s was BackedUp (%s, status %d)",
					d.ObjectID, d.Created, last.ObjectID, last.End, last.Status)
			}
		}
		return nil
	}
}

// expectPrunePlan checks the planned generations of addr: a new generation
// first (unknown id), then the current ones minus exactly pruned (given
// as positions, newest first, in the prior state).
type expectPrunePlan struct {
	addr   string
	pruned []int
}

var _ plancheck.PlanCheck = expectPrunePlan{}

func (e expectPrunePlan) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, rc := range req.Plan.ResourceChanges {
		if rc.Address != e.addr {
			continue
		}
		before, _ := rc.Change.Before.(map[string]any)
		after, _ := rc.Change.After.(map[string]any)
		unknown, _ := rc.Change.AfterUnknown.(map[string]any)
		var beforeIDs []string
		for _, g := range before["generations"].([]any) {
			beforeIDs = append(beforeIDs, g.(map[string]any)["id"].(string))
		}
		afterGens, _ := after["generations"].([]any)
		unk, _ := unknown["generations"].([]any)
		if len(afterGens) == 0 || len(unk) == 0 {
			resp.Error = fmt.Errorf("%s: no planned generations", e.addr)
			return
		}
		if first, _ := unk[0].(map[string]any); first == nil || first["id"] != true {
			resp.Error = fmt.Errorf("%s: the first planned generation must be new (unknown id): %v", e.addr, unk[0])
			return
		}
		prunedSet := map[int]bool{}
		for _, p := range e.pruned {
			prunedSet[p] = true
		}
		var want []string
		for i, id := range beforeIDs {
			if !prunedSet[i] {
				want = append(want, id)
			}
		}
		var got []string
		for _, g := range afterGens[1:] {
			got = append(got, g.(map[string]any)["id"].(string))
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			resp.Error = fmt.Errorf("%s: planned to keep %v, want %v (prior %v)", e.addr, got, want, beforeIDs)
			return
		}
		// pruned_snapshot_ids names exactly the snapshots to delete.
		var wantPruned, gotPruned []string
		for _, p := range e.pruned {
			wantPruned = append(wantPruned, beforeIDs[p])
		}
		for _, id := range after["pruned_snapshot_ids"].([]any) {
			gotPruned = append(gotPruned, id.(string))
		}
		if fmt.Sprint(gotPruned) != fmt.Sprint(wantPruned) {
			resp.Error = fmt.Errorf("%s: pruned_snapshot_ids planned %v, want %v", e.addr, gotPruned, wantPruned)
		}
		return
	}
	resp.Error = fmt.Errorf("%s: not in the plan", e.addr)
}

func sortedKeys(m map[string]int) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// lockedBuffer collects a child's output written from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
