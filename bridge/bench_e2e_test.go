package bridge_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/agent/spool"
	"github.com/decnet/decnet/bridge"
	"github.com/decnet/decnet/controlplane/ingest"
	"github.com/decnet/decnet/controlplane/store/sqlite"
	bridgev1 "github.com/decnet/decnet/gen/decnet/bridge/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// The end-to-end benchmarks measure the bridge with the control plane's
// real ingester and embedded SQLite store behind it. Next to each figure
// they report a transport ceiling from the same run. The ceiling writes
// the same serialized batch frames over a bare quic-go stream with mutual
// TLS, and the other side reads and discards them.

// e2eBatchSize is the bridge client's batch size in these benchmarks, and
// the size of the frames the ceiling sends.
const e2eBatchSize = 500

// Fixed-rate latency: latencyBatch events every latencyTick is 2,000
// events per second.
const (
	latencyTick  = 10 * time.Millisecond
	latencyBatch = 20
)

// e2eAgentID returns a distinct agent id for agent i.
func e2eAgentID(i int) string {
	return fmt.Sprintf("0190a6e4-5c1e-7c3a-9f00-%012x", 0xbe0000+i)
}

// e2eEvents returns valid decoy events: a password attempt from a source
// that varies, so the store creates attackers and credentials as it does
// for real traffic.
func e2eEvents(agent, from, to int, now time.Time) []*eventv1.Event {
	evs := make([]*eventv1.Event, 0, to-from)
	for i := from; i < to; i++ {
		evs = append(evs, &eventv1.Event{
			Id:          fmt.Sprintf("0190a6e4-%04x-7000-8000-%012x", agent, i),
			Time:        timestamppb.New(now),
			Decky:       "bench-01",
			Service:     "ssh",
			Kind:        "auth.attempt",
			Source:      &eventv1.Endpoint{Address: fmt.Sprintf("198.51.100.%d", i%200+1), Port: uint32(40000 + i%20000)},
			Destination: &eventv1.Endpoint{Address: "192.0.2.10", Port: 22},
			SessionId:   fmt.Sprintf("bench-session-%d-%d", agent, i/6),
			Payload: &eventv1.Event_AuthAttempt{AuthAttempt: &eventv1.AuthAttempt{
				Principal: "root", SecretKind: "plaintext", Mechanism: "ssh_password",
				Secret: fmt.Appendf(nil, "password-%d", i),
			}},
		})
	}
	return evs
}

// storeIngester wraps the real ingester, counts the events it stored and
// records, per event, the time from the event's timestamp to the store's
// commit.
type storeIngester struct {
	inner *ingest.Ingester
	now   func() time.Time

	mu        sync.Mutex
	stored    int
	latencies []time.Duration
	changed   chan struct{}
}

func (s *storeIngester) Ingest(ctx context.Context, agentID string, events []*eventv1.Event) (int, int, error) {
	stamps := make([]time.Time, len(events))
	for i, ev := range events {
		stamps[i] = ev.GetTime().AsTime()
	}
	stored, duplicates, err := s.inner.Ingest(ctx, agentID, events)
	if err != nil {
		return stored, duplicates, err
	}
	done := s.now()
	s.mu.Lock()
	s.stored += stored
	for _, at := range stamps {
		s.latencies = append(s.latencies, done.Sub(at))
	}
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	return stored, duplicates, nil
}

func (s *storeIngester) waitStored(b *testing.B, ctx context.Context, n int) {
	b.Helper()
	for {
		s.mu.Lock()
		got, changed := s.stored, s.changed
		s.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			b.Fatalf("store holds %d events, want %d", got, n)
		}
	}
}

// e2eStack is a bridge server backed by SQLite and the spools of its
// agents.
type e2eStack struct {
	ca       *testCA
	ingester *storeIngester
	server   *bridge.Server
	spools   []*spool.Spool
}

func newE2EStack(b *testing.B, agents int) *e2eStack {
	b.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "decnet.db"), zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	in, err := ingest.New(ingest.Config{Store: st, Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	s := &e2eStack{
		ca:       newTestCA(b, "decnet bench CA"),
		ingester: &storeIngester{inner: in, now: time.Now, changed: make(chan struct{})},
	}
	s.server, err = bridge.NewServer(bridge.ServerConfig{
		Addr:      "127.0.0.1:0",
		TLSConfig: s.ca.serverTLS(b),
		AgentID:   agentIDFromCert,
		Ingester:  s.ingester,
		Logger:    zerolog.Nop(),
	})
	if err != nil {
		b.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.server.Run(runCtx) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("server Run() = %v", err)
		}
	})

	for i := 0; i < agents; i++ {
		sp, err := spool.Open(spool.Config{Dir: b.TempDir(), SegmentBytes: 4 << 20, MaxBytes: 1 << 30, Logger: zerolog.Nop()})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { sp.Close() })
		s.spools = append(s.spools, sp)
	}
	return s
}

// startClients starts one bridge client per spool, each with its own
// certificate.
func (s *e2eStack) startClients(b *testing.B) {
	b.Helper()
	for i, sp := range s.spools {
		c, err := bridge.NewClient(bridge.ClientConfig{
			Addresses:   []string{s.server.Addr().String()},
			TLSConfig:   s.ca.clientTLS(b, e2eAgentID(i), s.ca),
			Source:      sp,
			Hello:       &bridgev1.Hello{Version: "bench", Name: fmt.Sprintf("bench-%d", i)},
			BatchSize:   e2eBatchSize,
			BackoffMin:  10 * time.Millisecond,
			BackoffMax:  100 * time.Millisecond,
			DialTimeout: 2 * time.Second,
			Logger:      zerolog.Nop(),
		})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- c.Run(ctx) }()
		b.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				b.Errorf("client Run() = %v", err)
			}
		})
	}
}

// splitEvents divides n events among agents.
func splitEvents(n, agents int) []int {
	out := make([]int, agents)
	for i := range out {
		out[i] = n / agents
		if i < n%agents {
			out[i]++
		}
	}
	return out
}

// BenchmarkBridgeE2EThroughput moves b.N events, spooled before the timer
// starts, from 1 or 10 agents through the bridge into SQLite, and reports
// events/s. After the timed part it sends the same events, serialized into
// the same batch frames, over bare QUIC streams (one per agent) and
// reports that rate as ceiling-events/s and the ratio of the two.
func BenchmarkBridgeE2EThroughput(b *testing.B) {
	for _, agents := range []int{1, 10} {
		b.Run(fmt.Sprintf("agents=%d", agents), func(b *testing.B) {
			s := newE2EStack(b, agents)
			now := time.Now()
			events := make([][]*eventv1.Event, agents)
			for i, n := range splitEvents(b.N, agents) {
				events[i] = e2eEvents(i, 0, n, now)
				for from := 0; from < n; from += 100 {
					if err := s.spools[i].Append(events[i][from:min(from+100, n)]); err != nil {
						b.Fatal(err)
					}
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()

			b.ResetTimer()
			start := time.Now()
			s.startClients(b)
			s.ingester.waitStored(b, ctx, b.N)
			elapsed := time.Since(start)
			b.StopTimer()

			frames := make([][][]byte, agents)
			for i := range events {
				frames[i] = batchFrames(b, events[i], e2eBatchSize)
			}
			ceiling := ceilingThroughput(b, s.ca, frames)
			rate := float64(b.N) / elapsed.Seconds()
			b.ReportMetric(rate, "events/s")
			b.ReportMetric(float64(b.N)/ceiling.Seconds(), "ceiling-events/s")
			b.ReportMetric(ceiling.Seconds()/elapsed.Seconds(), "ratio")
		})
	}
}

// ceilingThroughput sends each agent's frames on its own bare QUIC
// connection at full speed and returns the time until the sink has read
// them all, handshakes included as in the store case.
func ceilingThroughput(b *testing.B, ca *testCA, frames [][][]byte) time.Duration {
	b.Helper()
	total := 0
	configs := make([]*tls.Config, len(frames))
	for i := range frames {
		for _, f := range frames[i] {
			total += len(f)
		}
		configs[i] = ca.clientTLS(b, e2eAgentID(i), ca)
	}
	sink := newQUICSink(b, ca, nil)
	release := make(chan struct{})
	var wg sync.WaitGroup
	start := time.Now()
	for i := range frames {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sendFrames(b, sink.addr, configs[i], frames[i], nil, release)
		}()
	}
	sink.waitBytes(b, total)
	elapsed := time.Since(start)
	close(release)
	wg.Wait()
	return elapsed
}

// BenchmarkBridgeE2ELatency appends b.N events at 2,000 events/s (20
// every 10 ms, each append fsynced) to one agent's spool and reports the
// p50 and p99 time from an event's timestamp, taken just before the
// append, to its commit in SQLite. It then sends the same frames at the
// same rate over a bare QUIC stream and reports the p50 and p99 from each
// frame's write to its full read as ceiling-p50-ms and ceiling-p99-ms.
func BenchmarkBridgeE2ELatency(b *testing.B) {
	b.Run("rate=2000", func(b *testing.B) {
		s := newE2EStack(b, 1)
		s.startClients(b)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		var events []*eventv1.Event

		b.ResetTimer()
		start := time.Now()
		ticker := time.NewTicker(latencyTick)
		for from := 0; from < b.N; from += latencyBatch {
			<-ticker.C
			batch := e2eEvents(0, from, min(from+latencyBatch, b.N), time.Now())
			if err := s.spools[0].Append(batch); err != nil {
				b.Fatal(err)
			}
			events = append(events, batch...)
		}
		ticker.Stop()
		// The achieved rate falls below 2,000 when appends are slower
		// than the tick.
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
		s.ingester.waitStored(b, ctx, b.N)
		b.StopTimer()

		s.ingester.mu.Lock()
		store := slices.Clone(s.ingester.latencies)
		s.ingester.mu.Unlock()
		ceiling := ceilingLatency(b, s.ca, batchFrames(b, events, latencyBatch), b.N)
		reportPercentiles(b, store, "")
		reportPercentiles(b, ceiling, "ceiling-")
	})
}

// ceilingLatency writes one frame per latencyTick on a bare QUIC stream
// and returns, per event, the time from its frame's write to the frame's
// full read.
func ceilingLatency(b *testing.B, ca *testCA, frames [][]byte, events int) []time.Duration {
	b.Helper()
	sent := make([]atomic.Int64, len(frames))
	sink := newQUICSink(b, ca, sent)
	total := 0
	for _, f := range frames {
		total += len(f)
	}
	release := make(chan struct{})
	sending := make(chan struct{})
	go func() {
		defer close(sending)
		sendFrames(b, sink.addr, ca.clientTLS(b, e2eAgentID(0), ca), frames, sent, release)
	}()
	sink.waitBytes(b, total)
	close(release)
	<-sending

	sink.mu.Lock()
	defer sink.mu.Unlock()
	// Each frame's latency counts once per event it carries, as in the
	// store case.
	var lat []time.Duration
	for i, d := range sink.latencies {
		for range min(latencyBatch, events-i*latencyBatch) {
			lat = append(lat, d)
		}
	}
	return lat
}

func reportPercentiles(b *testing.B, lat []time.Duration, prefix string) {
	if len(lat) == 0 {
		b.Fatal("no latencies recorded")
	}
	slices.Sort(lat)
	at := func(q float64) float64 {
		return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), prefix+"p50-ms")
	b.ReportMetric(at(0.99), prefix+"p99-ms")
}

// batchFrames serializes events into bridge batch frames exactly as the
// client writes them: a length prefix and an AgentFrame.
func batchFrames(b *testing.B, events []*eventv1.Event, size int) [][]byte {
	b.Helper()
	var frames [][]byte
	for i, seq := 0, uint64(1); i < len(events); i, seq = i+size, seq+1 {
		var buf bytes.Buffer
		frame := &bridgev1.AgentFrame{Frame: &bridgev1.AgentFrame_Batch{Batch: &bridgev1.Batch{
			Sequence: seq, Events: events[i:min(i+size, len(events))],
		}}}
		if err := bridge.WriteFrame(&buf, frame); err != nil {
			b.Fatal(err)
		}
		frames = append(frames, buf.Bytes())
	}
	return frames
}

// quicSink accepts QUIC connections with the bridge's TLS settings and
// reads the first stream of each to the end. It parses nothing, except
// the frame lengths when frameSent is set for latency.
type quicSink struct {
	addr      string
	frameSent []atomic.Int64

	mu        sync.Mutex
	bytes     int
	latencies []time.Duration
	changed   chan struct{}
}

func newQUICSink(b *testing.B, ca *testCA, frameSent []atomic.Int64) *quicSink {
	b.Helper()
	cfg := ca.serverTLS(b)
	cfg.NextProtos = []string{bridge.ALPN}
	ln, err := quic.ListenAddr("127.0.0.1:0", cfg, &quic.Config{MaxIncomingStreams: 4})
	if err != nil {
		b.Fatal(err)
	}
	s := &quicSink{addr: ln.Addr().String(), frameSent: frameSent, changed: make(chan struct{})}

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	b.Cleanup(func() {
		cancel()
		ln.Close()
		wg.Wait()
	})

	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept(ctx)
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.CloseWithError(0, "")
				stream, err := conn.AcceptStream(ctx)
				if err != nil {
					return
				}
				s.read(stream)
			}()
		}
	}()
	return s
}

func (s *quicSink) read(r io.Reader) {
	buf := make([]byte, 64<<10)
	var header [4]byte
	for frame := 0; ; frame++ {
		n := 0
		if s.frameSent != nil {
			if _, err := io.ReadFull(r, header[:]); err != nil {
				return
			}
			size := int(header[0])<<24 | int(header[1])<<16 | int(header[2])<<8 | int(header[3])
			if cap(buf) < size {
				buf = make([]byte, size)
			}
			if _, err := io.ReadFull(r, buf[:size]); err != nil {
				return
			}
			n = size + len(header)
		} else {
			var err error
			if n, err = r.Read(buf); err != nil && n == 0 {
				return
			}
		}
		done := time.Now()
		s.mu.Lock()
		s.bytes += n
		if s.frameSent != nil {
			s.latencies = append(s.latencies, done.Sub(time.Unix(0, s.frameSent[frame].Load())))
		}
		close(s.changed)
		s.changed = make(chan struct{})
		s.mu.Unlock()
	}
}

func (s *quicSink) waitBytes(b *testing.B, n int) {
	b.Helper()
	timeout := time.After(5 * time.Minute)
	for {
		s.mu.Lock()
		got, changed := s.bytes, s.changed
		s.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-changed:
		case <-timeout:
			b.Fatalf("sink read %d bytes, want %d", got, n)
		}
	}
}

// sendFrames dials the sink and writes frames on one stream, each in one
// Write as the bridge client does. With sent set it writes one frame per
// latencyTick and records when each was written. It keeps the connection
// open until release is closed, since closing it would discard data the
// sink has not read yet.
func sendFrames(b *testing.B, addr string, cfg *tls.Config, frames [][]byte, sent []atomic.Int64, release <-chan struct{}) {
	cfg.NextProtos = []string{bridge.ALPN}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	conn, err := quic.DialAddr(ctx, addr, cfg, &quic.Config{})
	if err != nil {
		b.Error(err)
		return
	}
	defer conn.CloseWithError(0, "")
	stream, err := conn.OpenStreamSync(ctx)
	if err != nil {
		b.Error(err)
		return
	}

	var ticker *time.Ticker
	if sent != nil {
		ticker = time.NewTicker(latencyTick)
		defer ticker.Stop()
	}
	for i, f := range frames {
		if ticker != nil {
			<-ticker.C
			sent[i].Store(time.Now().UnixNano())
		}
		if _, err := stream.Write(f); err != nil {
			b.Error(err)
			return
		}
	}

	if err := stream.Close(); err != nil {
		b.Error(err)
	}
	<-release
}
