//go:build integration && bench

// Package bench measures the control plane's store and API against the
// ceiling of the same work done without them: raw COPY or INSERT for
// ingest, and the same SQL sent straight through pgx for reads. Scale is
// set by flags; the defaults finish in about two minutes on two vCPUs.
package bench

import (
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/types/known/timestamppb"

	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
	"github.com/decnet/decnet/internal/pgtest"
)

// Flags of the benchmarks. Test flags are the one place a test binary
// takes its settings from, so they are package variables.
var (
	flagIngestBatches = flag.Int("bench.ingest-batches", 100, "batches of 500 events each ingest benchmark commits")
	flagEvents        = flag.Int("bench.events", 100_000, "events stored before the API benchmark starts")
	flagClients       = flag.Int("bench.clients", 100, "concurrent API clients")
	flagDuration      = flag.Duration("bench.duration", 10*time.Second, "how long each read phase runs")
	flagStreams       = flag.Int("bench.streams", 4, "StreamEvents subscribers during the API benchmark")
	flagGrowth        = flag.String("bench.growth", "100000,1000000", "comma-separated event counts the growth benchmark measures at")
)

func TestMain(m *testing.M) {
	os.Exit(pgtest.Main(m))
}

// batchSize is the ingest batch the bridge sends at most.
const batchSize = 500

// agentID is the agent every generated event comes from.
const agentID = "0195a1b2-0000-7000-8000-000000000001"

// sources is how many distinct attacker addresses events come from.
const sources = 1000

// generator makes realistic events: about 20 % auth attempts, the rest
// connection and command events, from sources addresses.
type generator struct {
	rng  *rand.Rand
	at   time.Time
	addr []string
}

func newGenerator(seed uint64) *generator {
	g := &generator{rng: rand.New(rand.NewPCG(seed, 1)), at: time.Now().Add(-time.Hour).UTC()}
	for i := range sources {
		// 198.18.0.0/15 is reserved for benchmarks (RFC 2544); the
		// addresses are only stored, never contacted.
		g.addr = append(g.addr, fmt.Sprintf("198.18.%d.%d", i/250, i%250+1))
	}
	return g
}

var (
	principals = []string{"root", "admin", "ubuntu", "oracle", "test", "user", "pi", "postgres"}
	passwords  = []string{"123456", "password", "admin", "root", "qwerty", "letmein", "P@ssw0rd", "changeme"}
	services   = []struct {
		name string
		port uint32
	}{{"ssh", 22}, {"http", 80}, {"telnet", 23}, {"smb", 445}}
)

func (g *generator) event() *eventv1.Event {
	id, err := uuid.NewV7()
	if err != nil {
		panic(fmt.Sprintf("generate uuid: %v", err))
	}
	g.at = g.at.Add(time.Duration(g.rng.IntN(2000)) * time.Microsecond)
	svc := services[g.rng.IntN(len(services))]
	ev := &eventv1.Event{
		Id:          id.String(),
		Time:        timestamppb.New(g.at),
		AgentId:     agentID,
		Decky:       "decky-" + strconv.Itoa(g.rng.IntN(8)),
		Service:     svc.name,
		Source:      &eventv1.Endpoint{Address: g.addr[g.rng.IntN(len(g.addr))], Port: uint32(32768 + g.rng.IntN(28000))},
		Destination: &eventv1.Endpoint{Address: "192.0.2.10", Port: svc.port},
		SessionId:   id.String(),
	}
	switch r := g.rng.IntN(10); {
	case r < 2:
		pw := passwords[g.rng.IntN(len(passwords))]
		sum := sha256.Sum256([]byte(pw))
		ev.Kind = "auth.attempt"
		ev.Payload = &eventv1.Event_AuthAttempt{AuthAttempt: &eventv1.AuthAttempt{
			Principal:    principals[g.rng.IntN(len(principals))],
			SecretKind:   "plaintext",
			Mechanism:    "ssh_password",
			Secret:       []byte(pw),
			SecretSha256: sum[:],
			Outcome:      eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED,
		}}
	case r < 5:
		ev.Kind = "connection.opened"
		ev.Payload = &eventv1.Event_ConnectionOpened{ConnectionOpened: &eventv1.ConnectionOpened{Transport: "tcp"}}
	case r < 8:
		ev.Kind = "connection.closed"
		ev.Payload = &eventv1.Event_ConnectionClosed{ConnectionClosed: &eventv1.ConnectionClosed{
			DurationMs: uint64(g.rng.IntN(60_000)), BytesReceived: uint64(g.rng.IntN(4096)), BytesSent: uint64(g.rng.IntN(4096)), Reason: "client_closed",
		}}
	default:
		ev.Kind = "command"
		ev.Payload = &eventv1.Event_Command{Command: &eventv1.Command{Line: "uname -a; cat /proc/cpuinfo", Channel: "shell"}}
	}
	return ev
}

func (g *generator) batch(n int) []*eventv1.Event {
	out := make([]*eventv1.Event, n)
	for i := range out {
		out[i] = g.event()
	}
	return out
}

// latencies collects durations and summarises them.
type latencies []time.Duration

func (l latencies) quantile(q float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	i := int(q * float64(len(s)-1))
	return s[i]
}

func (l latencies) summary() string {
	return fmt.Sprintf("n=%d p50=%s p99=%s", len(l), fmtDur(l.quantile(0.5)), fmtDur(l.quantile(0.99)))
}

func fmtDur(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 2, 64) + "ms"
}

// growthLevels parses -bench.growth.
func growthLevels(t *testing.T) []int {
	t.Helper()
	var out []int
	for _, f := range strings.Split(*flagGrowth, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			t.Fatalf("bad -bench.growth entry %q", f)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// startPostgres starts a durable server of the test's own, as production
// runs it (fsync on), and returns a DSN for a fresh database.
func startPostgres(t *testing.T) string {
	t.Helper()
	srv := pgtest.Start(t, pgtest.Options{Durable: true})
	return srv.NewDatabase(t)
}

func ctxT(t *testing.T) context.Context {
	t.Helper()
	return t.Context()
}
