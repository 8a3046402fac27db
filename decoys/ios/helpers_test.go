package ios

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"
)

// testSeed and otherSeed are two fixed decky seeds.
var (
	testSeed  = []byte("decnet ios decoy test seed 00001")
	otherSeed = []byte("decnet ios decoy test seed 00002")
)

// testNow is a fixed clock for transcripts.
var testNow = time.Date(2026, time.March, 14, 9, 26, 53, 589e6, time.UTC)

// fakeTerm plays input to the session and keeps what it writes.
type fakeTerm struct {
	in  io.Reader
	out bytes.Buffer
}

func (f *fakeTerm) Read(p []byte) (int, error)  { return f.in.Read(p) }
func (f *fakeTerm) Write(p []byte) (int, error) { return f.out.Write(p) }

// session runs a CLI on input until the input ends or the session logs
// out, and returns the CLI and everything it wrote.
func session(t testing.TB, cfg Config, input string) (*CLI, string) {
	t.Helper()
	if cfg.Seed == nil {
		cfg.Seed = testSeed
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return testNow }
	}
	if cfg.Sleep == nil {
		cfg.Sleep = func(context.Context, time.Duration) error { return nil }
	}
	if cfg.User == "" {
		cfg.User = "admin"
	}
	c := New(cfg)
	term := &fakeTerm{in: bytes.NewReader([]byte(input))}
	if err := c.Interactive(context.Background(), term); err != nil {
		t.Fatalf("Interactive: %v", err)
	}
	return c, term.out.String()
}
