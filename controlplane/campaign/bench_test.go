package campaign_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/decnet/decnet/controlplane/campaign"
)

type discard struct{}

func (discard) Publish(string, *campaign.Change) error { return nil }

// bannerFlood returns n identities that each sent one identification
// line to the same SSH service, active two seconds each, spread evenly
// over half an hour: a banner scan from many sources. Before cohort
// candidates were bounded, every pair of them was one.
func bannerFlood(n int) []*campaign.Activity {
	target := campaign.Target{Decky: "decky-1", Service: "ssh"}
	acts := make([]*campaign.Activity, n)
	for i := range acts {
		first := t0.Add(time.Duration(i) * 30 * time.Minute / time.Duration(n))
		last := first.Add(2 * time.Second)
		acts[i] = &campaign.Activity{
			Identity: fmt.Sprintf("identity-%05d", i), Attackers: []string{fmt.Sprintf("attacker-%05d", i)},
			First: first, Last: last,
			Spans: map[campaign.Target]campaign.Span{target: {First: first, Last: last, Phase: campaign.PhaseScan}},
			Infra: map[string]struct{}{}, Found: map[string]time.Time{}, Direct: map[string]time.Time{},
		}
	}
	return acts
}

// BenchmarkPass measures one campaign pass, clustering and reconciling,
// over a banner flood.
func BenchmarkPass(b *testing.B) {
	for _, n := range []int{3000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			acts := bannerFlood(n)
			b.ReportAllocs()
			for b.Loop() {
				e, err := campaign.NewEngine(campaign.EngineConfig{Publisher: discard{}})
				if err != nil {
					b.Fatal(err)
				}
				if err := e.Observe(acts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
