package decoys

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
)

func TestSourceTrackerLimits(t *testing.T) {
	a := netip.MustParseAddr("127.0.0.2")
	b := netip.MustParseAddr("127.0.0.3")
	tr := newSourceTracker(2, 3)

	steps := []struct {
		source netip.Addr
		want   string
	}{
		{a, ""},
		{a, ""},
		{a, RejectPerSource},
		{b, ""},
		{b, RejectTotal},
	}
	for i, s := range steps {
		if got := tr.acquire(s.source); got != s.want {
			t.Fatalf("step %d: acquire(%s) = %q, want %q", i, s.source, got, s.want)
		}
	}

	tr.release(a)
	if reason := tr.acquire(b); reason != "" {
		t.Fatal("acquire after a release was refused")
	}
	tr.release(a)
	tr.release(b)
	tr.release(b)
	if tr.live != 0 || len(tr.counts) != 0 {
		t.Fatalf("after releasing everything: live %d, counts %v", tr.live, tr.counts)
	}
}

func TestNextBackoff(t *testing.T) {
	d := time.Duration(0)
	want := []time.Duration{5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond}
	for i, w := range want {
		d = nextBackoff(d)
		if d != w {
			t.Fatalf("step %d: backoff %s, want %s", i, d, w)
		}
	}
	if got := nextBackoff(800 * time.Millisecond); got != acceptBackoffMax {
		t.Fatalf("backoff above the cap = %s, want %s", got, acceptBackoffMax)
	}
}

// serveEcho runs ServeConns with a handler that echoes one line and
// reports each connection's start on started.
func serveEcho(t *testing.T, limits Limits, metrics *Metrics, started chan<- struct{}, release <-chan struct{}) (string, context.CancelFunc, <-chan error) {
	t.Helper()
	return serveEchoTo(t, limits, metrics, nil, started, release)
}

// serveEchoTo is serveEcho with an emitter for the rejection events.
func serveEchoTo(t *testing.T, limits Limits, metrics *Metrics, emitter Emitter, started chan<- struct{}, release <-chan struct{}) (string, context.CancelFunc, <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- ServeConns(ctx, ln, ServeOptions{Limits: limits, Logger: zerolog.Nop(), Decky: "d", Service: "echo", Metrics: metrics, Emitter: emitter}, func(ctx context.Context, conn net.Conn) {
			started <- struct{}{}
			select {
			case <-release:
			case <-ctx.Done():
			}
			_, _ = conn.Write([]byte("ok\n"))
		})
	}()
	return ln.Addr().String(), cancel, done
}

func dialFrom(t *testing.T, source, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", source, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func TestServeConnsPerSourceLimit(t *testing.T) {
	started := make(chan struct{}, 10)
	release := make(chan struct{})
	reg := prometheus.NewRegistry()
	metrics, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	addr, cancel, done := serveEcho(t, Limits{MaxConnsPerSource: 1}, metrics, started, release)
	defer cancel()

	first := dialFrom(t, "127.0.0.2", addr)
	<-started

	// A second connection from the same source is closed at once.
	second := dialFrom(t, "127.0.0.2", addr)
	_ = second.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := second.Read(make([]byte, 1)); !errors.Is(err, io.EOF) || n != 0 {
		t.Fatalf("second connection from 127.0.0.2: read %d bytes, err %v; want EOF", n, err)
	}

	// Another source is still served.
	other := dialFrom(t, "127.0.0.3", addr)
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("connection from 127.0.0.3 not served while 127.0.0.2 is at its limit")
	}

	close(release)
	for _, c := range []net.Conn{first, other} {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 3)
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ok\n" {
			t.Fatalf("read %q, %v; want ok", buf, err)
		}
	}

	if got := testutil.ToFloat64(metrics.rejected.WithLabelValues("d", "echo", RejectPerSource)); got != 1 {
		t.Errorf("rejected counter = %v, want 1", got)
	}
	if got := testutil.ToFloat64(metrics.accepted.WithLabelValues("d", "echo")); got != 2 {
		t.Errorf("accepted counter = %v, want 2", got)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("ServeConns returned %v after cancel", err)
	}
}

// expectEOF fails unless conn is closed by the server without data.
func expectEOF(t *testing.T, conn net.Conn) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := conn.Read(make([]byte, 1)); !errors.Is(err, io.EOF) || n != 0 {
		t.Fatalf("connection over the limit: read %d bytes, err %v; want EOF", n, err)
	}
}

func TestServeConnsReportsRejections(t *testing.T) {
	started := make(chan struct{}, 10)
	release := make(chan struct{})
	rec := &recorder{}
	addr, cancel, done := serveEchoTo(t, Limits{MaxConnsPerSource: 1}, nil, rec, started, release)
	defer cancel()

	first := dialFrom(t, "127.0.0.2", addr)
	<-started

	// Three connections over the limit from 127.0.0.2: the first is
	// reported at once, the other two are summed within the interval.
	expectEOF(t, dialFrom(t, "127.0.0.2", addr))
	if got, want := rejectionsOf(rec), []string{"127.0.0.2 per_source_limit 1"}; !slices.Equal(got, want) {
		t.Fatalf("after the first rejection: events %q, want %q", got, want)
	}
	expectEOF(t, dialFrom(t, "127.0.0.2", addr))
	expectEOF(t, dialFrom(t, "127.0.0.2", addr))

	// Another source is still served while 127.0.0.2 is rejected.
	other := dialFrom(t, "127.0.0.3", addr)
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("connection from 127.0.0.3 not served while 127.0.0.2 is at its limit")
	}
	close(release)
	for _, c := range []net.Conn{first, other} {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 3)
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ok\n" {
			t.Fatalf("read %q, %v; want ok", buf, err)
		}
	}

	// Stopping the service reports the two rejections still summed.
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("ServeConns returned %v after cancel", err)
	}
	want := []string{"127.0.0.2 per_source_limit 1", "127.0.0.2 per_source_limit 2"}
	if got := rejectionsOf(rec); !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.events) != 2 {
		t.Fatalf("emitted %d events, want only the 2 rejections", len(rec.events))
	}
	ev := rec.events[0]
	if ev.GetDecky() != "d" || ev.GetService() != "echo" || ev.GetSessionId() != "" || ev.GetDestination().GetAddress() != "127.0.0.1" || ev.GetTime() == nil {
		t.Fatalf("rejection event = %v, want decky d, service echo, the listener as destination and no session", ev)
	}
}

func TestServeConnsRecoversPanic(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var mu sync.Mutex
	calls := 0
	go func() {
		_ = ServeConns(ctx, ln, ServeOptions{Logger: zerolog.Nop()}, func(_ context.Context, conn net.Conn) {
			mu.Lock()
			calls++
			n := calls
			mu.Unlock()
			if n == 1 {
				panic("handler bug")
			}
			_, _ = conn.Write([]byte("alive\n"))
		})
	}()

	first := dialFrom(t, "127.0.0.2", ln.Addr().String())
	_ = first.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := first.Read(make([]byte, 1)); err == nil {
		t.Fatal("panicking handler's connection stayed open")
	}

	second := dialFrom(t, "127.0.0.2", ln.Addr().String())
	_ = second.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 6)
	if _, err := io.ReadFull(second, buf); err != nil || string(buf) != "alive\n" {
		t.Fatalf("after a panic: read %q, %v; want the service still serving", buf, err)
	}
}

func TestServeConnsSessionTimeout(t *testing.T) {
	started := make(chan struct{}, 1)
	addr, cancel, _ := serveEcho(t, Limits{SessionTimeout: 100 * time.Millisecond}, nil, started, make(chan struct{}))
	defer cancel()

	conn := dialFrom(t, "127.0.0.2", addr)
	<-started
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	data, _ := io.ReadAll(conn)
	// The handler's context ends at the session timeout; its write then
	// races the close, so either nothing or "ok" arrives, then EOF.
	if len(data) > 3 {
		t.Fatalf("read %q after the session timeout", data)
	}
}
