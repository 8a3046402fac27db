//go:build integration && soak

package integration

import (
	"testing"
	"time"
)

// TestStalledServerSoak is TestStalledServerBoundsAgentMemory with the
// control plane stopped for 5 minutes. Run it with make soak.
func TestStalledServerSoak(t *testing.T) {
	runs := []struct {
		name string
		run  stallRun
	}{
		{"spool holds all", stallRun{stall: 5 * time.Minute, spoolMaxBytes: 256 << 20}},
		{"spool evicts", stallRun{stall: 5 * time.Minute, spoolMaxBytes: 512 << 10, evict: true}},
	}
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) { testStalledServer(t, r.run) })
	}
}
