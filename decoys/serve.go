package decoys

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Accept-loop backoff bounds: the first temporary error waits 5 ms, each
// further one doubles the wait up to 1 s, as net/http does.
const (
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
)

// ConnHandler serves one accepted connection. The connection is closed by
// the accept loop after the handler returns; ctx ends when the service
// stops or the connection's session timeout passes.
type ConnHandler func(ctx context.Context, conn net.Conn)

// ServeOptions configures ServeConns.
type ServeOptions struct {
	Limits Limits
	Logger zerolog.Logger
	// Decky and Service label the connection counters.
	Decky   string
	Service string
	// Metrics may be nil.
	Metrics *Metrics
	// Emitter receives a connection.rejected event per source and interval
	// for the connections closed over a limit; nil sends none.
	Emitter Emitter
}

// rejectLogBurst and rejectLogPeriod sample the log line for connections
// closed over a limit: a flood from one source would otherwise write one
// line per connection. The counters still count every one.
const (
	rejectLogBurst  = 5
	rejectLogPeriod = time.Minute
)

// ServeConns runs the accept loop every TCP decoy shares. It enforces the
// per-source and total connection limits (connections over a limit are
// closed at once, counted and summarised in connection.rejected events),
// sets the session deadline, recovers a panic per connection, backs off on
// temporary accept errors and returns nil once ctx ends. It waits for
// running handlers before returning.
func ServeConns(ctx context.Context, ln net.Listener, opts ServeOptions, handle ConnHandler) error {
	limits := opts.Limits.WithDefaults()
	log := opts.Logger
	rejectLog := log.Sample(&zerolog.BurstSampler{Burst: rejectLogBurst, Period: rejectLogPeriod})
	tracker := newSourceTracker(limits.MaxConnsPerSource, limits.MaxConns)
	rejections := newRejectReporter(opts.Emitter, opts.Decky, opts.Service, endpointOf(ln.Addr()), time.Now)

	var wg sync.WaitGroup
	defer wg.Wait()
	// Rejections still summed when the loop ends are reported rather than
	// lost with the service.
	defer rejections.Flush(true)

	if opts.Emitter != nil {
		// The flusher stops on return, not only with ctx, so that a
		// failed listener does not leave wg.Wait waiting for it.
		flushCtx, stopFlush := context.WithCancel(ctx)
		defer stopFlush()
		wg.Add(1)
		go func() {
			defer wg.Done()
			flushRejections(flushCtx, rejections)
		}()
	}

	stop := context.AfterFunc(ctx, func() { _ = ln.Close() })
	defer stop()

	backoff := time.Duration(0)
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				backoff = nextBackoff(backoff)
				log.Warn().Err(err).Dur("backoff", backoff).Msg("accept failed, retrying")
				select {
				case <-time.After(backoff):
					continue
				case <-ctx.Done():
					return nil
				}
			}
			return err
		}
		backoff = 0

		source := remoteAddr(conn)
		if reason := tracker.acquire(source); reason != "" {
			opts.Metrics.countRejected(opts.Decky, opts.Service, reason)
			rejections.Rejected(source, reason)
			rejectLog.Warn().Str(FieldSource, source.String()).Str("reason", reason).Msg("connection over limit closed")
			_ = conn.Close()
			continue
		}
		opts.Metrics.countAccepted(opts.Decky, opts.Service)

		wg.Add(1)
		go func() {
			defer wg.Done()
			defer tracker.release(source)
			serveOne(ctx, conn, limits, log, handle)
		}()
	}
}

// flushRejections reports the rejections summed since each source's last
// event once its interval has passed, until ctx ends.
func flushRejections(ctx context.Context, r *rejectReporter) {
	tick := time.NewTicker(r.interval)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			r.Flush(false)
		case <-ctx.Done():
			return
		}
	}
}

func serveOne(ctx context.Context, conn net.Conn, limits Limits, log zerolog.Logger, handle ConnHandler) {
	defer func() {
		if r := recover(); r != nil {
			log.Error().Interface("panic", r).Str(FieldSource, conn.RemoteAddr().String()).Msg("connection handler panicked")
		}
		_ = conn.Close()
	}()

	ctx, cancel := context.WithTimeout(ctx, limits.SessionTimeout)
	defer cancel()
	// Closing the connection when the context ends unblocks any read or
	// write still pending in the handler.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()

	handle(ctx, conn)
}

func nextBackoff(d time.Duration) time.Duration {
	if d == 0 {
		return acceptBackoffMin
	}
	d *= 2
	if d > acceptBackoffMax {
		return acceptBackoffMax
	}
	return d
}

// isTemporary reports errors that a later Accept may not repeat, such as
// running out of file descriptors.
func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

func remoteAddr(conn net.Conn) netip.Addr {
	if ap, err := netip.ParseAddrPort(conn.RemoteAddr().String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// sourceTracker counts live connections per source address and in total.
type sourceTracker struct {
	perSource int
	total     int

	mu     sync.Mutex
	counts map[netip.Addr]int
	live   int
}

func newSourceTracker(perSource, total int) *sourceTracker {
	return &sourceTracker{perSource: perSource, total: total, counts: make(map[netip.Addr]int)}
}

// acquire takes a connection slot for source. It returns "" on success or
// the reason the connection is over a limit.
func (t *sourceTracker) acquire(source netip.Addr) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.live >= t.total {
		return RejectTotal
	}
	if t.counts[source] >= t.perSource {
		return RejectPerSource
	}
	t.counts[source]++
	t.live++
	return ""
}

func (t *sourceTracker) release(source netip.Addr) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.live--
	if t.counts[source] <= 1 {
		delete(t.counts, source)
		return
	}
	t.counts[source]--
}
