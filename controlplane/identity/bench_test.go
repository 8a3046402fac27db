//go:build bench

package identity_test

import (
	"fmt"
	"runtime"
	"strconv"
	"testing"

	"github.com/decnet/decnet/controlplane/identity"
	"github.com/decnet/decnet/controlplane/identity/scenario"
)

// BenchmarkCluster clusters corpora of ten events per attacker address,
// from 10,000 to 1,000,000 events, to show how the time grows. Run with
//
//	go test -tags bench -run '^$' -bench Cluster -benchtime 1x ./controlplane/identity/
func BenchmarkCluster(b *testing.B) {
	for _, events := range []int{10_000, 100_000, 1_000_000} {
		attackers := events / 10
		b.Run(fmt.Sprintf("attackers=%d/events=%d", attackers, events), func(b *testing.B) {
			d := scenario.Scale(attackers, events, 1)
			runtime.GC()
			var c *identity.Clustering
			for b.Loop() {
				c = identity.Cluster(d.Inputs, d.LookupASN, identity.Frozen)
			}
			b.ReportMetric(float64(len(d.Inputs)), "events")
			b.ReportMetric(float64(len(d.ASN)), "addresses")
			b.ReportMetric(float64(len(c.Observations)), "observations")
			b.ReportMetric(float64(len(c.Joins)), "joins")

			pred := make(map[string]string, len(c.Observations))
			for i, o := range c.Observations {
				pred[o.Key] = strconv.Itoa(c.Cluster[i])
			}
			r, err := scenario.Evaluate(&scenario.Scenario{}, d, pred)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(r.Scores.ARI, "ARI")
			b.ReportMetric(r.Scores.SingletonRecall, "singleton_recall")
		})
	}
}
