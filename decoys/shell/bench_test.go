package shell

import (
	"testing"
	"time"
)

// BenchmarkNew measures the cost of one session's setup, which builds
// the session's copy of the file system.
func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		newShell(Config{Seed: testSeed}, func() time.Time { return testNow })
	}
}
