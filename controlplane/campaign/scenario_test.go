package campaign_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/decnet/decnet/controlplane/campaign"
	"github.com/decnet/decnet/controlplane/campaign/scenario"
)

// recorder collects the engine's changes.
type recorder struct{ changes []campaign.Change }

func (r *recorder) Publish(_ string, ch *campaign.Change) error {
	r.changes = append(r.changes, *ch)
	return nil
}

// runEngine feeds the dataset's identities to a fresh engine and returns
// each identity's campaign.
func runEngine(t *testing.T, d *scenario.Dataset) (map[string]string, *recorder) {
	t.Helper()
	rec := &recorder{}
	e, err := campaign.NewEngine(campaign.EngineConfig{Publisher: rec})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Observe(d.Activities()); err != nil {
		t.Fatal(err)
	}
	pred := map[string]string{}
	for id := range d.Campaign {
		pred[id] = e.CampaignOf(id)
	}
	return pred, rec
}

// scenarioSeeds are the seeds each built-in scenario runs with. The
// weights were set while looking at seeds 1 to 100, so these are held
// out.
var scenarioSeeds = []uint64{9001, 9002, 9003, 9004, 9005, 9006, 9007, 9008, 9009, 9010}

// minARI is the lowest adjusted Rand index a built-in scenario may
// score, with and without noise. Every scenario scored 1.0 on seeds 1 to
// 100 with up to 60 noise scanners; the margin allows one stray join.
// In shared-wordlist every truth campaign is a singleton, where ARI
// drops to 0 on any join, so the expectations there carry the check.
const minARI = 0.9

func TestBuiltinScenarios(t *testing.T) {
	for _, noise := range []int{0, 10, 30} {
		for _, s := range scenario.Builtin() {
			s.Noise = max(s.Noise, noise)
			for _, seed := range scenarioSeeds {
				t.Run(fmt.Sprintf("%s/noise=%d/seed=%d", s.Name, noise, seed), func(t *testing.T) {
					d := scenario.Generate(s, seed)
					pred, _ := runEngine(t, d)
					r, err := scenario.Evaluate(s, d, pred)
					if err != nil {
						t.Fatal(err)
					}
					for _, v := range r.Violations {
						t.Errorf("violated: %s", v)
					}
					if r.Scores.ARI < minARI {
						t.Errorf("ARI = %.3f, want at least %.2f", r.Scores.ARI, minARI)
					}
				})
			}
		}
	}
}

func TestBuiltinScenarioNames(t *testing.T) {
	var names []string
	for _, s := range scenario.Builtin() {
		names = append(names, s.Name)
	}
	for _, want := range []string{"handoff", "shared-wordlist", "shared-c2", "paused-campaign"} {
		if !slices.Contains(names, want) {
			t.Errorf("built-in scenarios %v lack %q", names, want)
		}
	}
}
