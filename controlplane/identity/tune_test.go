package identity_test

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/decnet/decnet/controlplane/identity"
	"github.com/decnet/decnet/controlplane/identity/scenario"
)

// TestTuneSweep is the tuning harness: it counts, over the tuning seeds
// only, the scenario runs that miss the bar for variations of the frozen
// weights, and the runs below an ARI of 0.99, which show how close a
// variation comes to missing. It runs only with DECNET_IDENTITY_TUNE=1.
func TestTuneSweep(t *testing.T) {
	skipUnlessTuning(t)
	variants := map[string]func(*identity.Weights){
		"frozen": func(*identity.Weights) {},
	}
	for _, v := range []float64{0.3, 0.35, 0.45, 0.5} {
		variants["commandsMinSim="+fmtFloat(v)] = func(w *identity.Weights) { w.CommandsMinSim = v }
	}
	for _, v := range []float64{1.5, 3} {
		variants["keystrokeSame="+fmtFloat(v)] = func(w *identity.Weights) { w.KeystrokeSame = v }
	}
	names := make([]string, 0, len(variants))
	for name := range variants {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		w := identity.Frozen
		variants[name](&w)
		r := sweep(t, w)
		t.Logf("%-20s misses %3d below 0.99 %3d worst ARI %.4f %v", name, len(r.misses), r.below99, r.worst, r.misses)
	}
}

type sweepResult struct {
	misses  []string
	below99 int
	worst   float64
}

// sweep runs every scenario, with and without noise, on every tuning
// seed, on as many goroutines as there are processors.
func sweep(t *testing.T, w identity.Weights) sweepResult {
	t.Helper()
	type run struct {
		s    scenario.Scenario
		seed uint64
	}
	runs := make(chan run)
	r := sweepResult{worst: 1}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for x := range runs {
				d := scenario.Generate(&x.s, x.seed)
				e, err := scenario.Evaluate(&x.s, d, clusterDataset(d, w))
				if err != nil {
					t.Error(err)
					continue
				}
				mu.Lock()
				r.worst = min(r.worst, e.Scores.ARI)
				if e.Scores.ARI < 0.99 {
					r.below99++
				}
				if e.Scores.ARI < minARI || len(e.Violations) > 0 {
					r.misses = append(r.misses, fmt.Sprintf("%s/noise=%d seed %d ARI %.4f %v", x.s.Name, x.s.Noise, x.seed, e.Scores.ARI, e.Violations))
				}
				mu.Unlock()
			}
		})
	}
	for _, base := range scenario.Builtin() {
		for _, noise := range noiseFactors {
			s := *base
			s.Noise = noise
			for _, seed := range scenario.TuningSeeds {
				runs <- run{s, seed}
			}
		}
	}
	close(runs)
	wg.Wait()
	slices.Sort(r.misses)
	return r
}

// skipUnlessTuning skips the tuning tools, which take minutes, unless
// DECNET_IDENTITY_TUNE is set.
func skipUnlessTuning(t *testing.T) {
	t.Helper()
	if os.Getenv("DECNET_IDENTITY_TUNE") == "" {
		t.Skip("set DECNET_IDENTITY_TUNE=1 to run the tuning tools")
	}
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
