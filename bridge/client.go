package bridge

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/quic-go/quic-go"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	bridgev1 "github.com/decnet/decnet/gen/decnet/bridge/v1"
	"github.com/decnet/decnet/pki"
)

// Client defaults. A batch of 500 typical events (a few hundred bytes
// each) is far below the 4 MiB batch budget, which itself leaves room for
// framing overhead below MaxFrameBytes. Four batches in flight hide one
// round trip of ingest latency.
const (
	defaultBatchSize   = 500
	defaultBatchBytes  = 4 << 20
	defaultMaxInFlight = 4
	defaultDialTimeout = 10 * time.Second
	// dialLogEvery rate-limits dial failures while the control plane is
	// unreachable: the first one and every dialLogEvery-th are logged at
	// warning level, the others at debug level.
	dialLogEvery = 10
)

// ClientConfig configures NewClient.
type ClientConfig struct {
	// Addresses of control-plane bridge listeners (host:port). The client
	// dials them in order and moves to the next one after each failure.
	Addresses []string
	// TLSConfig contains the agent certificate and the roots that verify
	// the server. An empty ServerName is set to each address's host.
	// Required.
	TLSConfig *tls.Config
	// Source supplies the events and takes the commits. Required.
	Source Source
	// Hello is sent when a connection opens.
	Hello *bridgev1.Hello
	// BatchSize caps events per batch. Zero selects 500.
	BatchSize int
	// BatchBytes caps the encoded events of a batch, at most
	// MaxFrameBytes/2. Zero selects 4 MiB.
	BatchBytes int
	// MaxInFlight is the number of batches sent and not yet acknowledged.
	// Zero selects 4.
	MaxInFlight int
	// BackoffMin and BackoffMax bound the delay between connection
	// attempts. Zero selects 100 ms and 30 s.
	BackoffMin time.Duration
	BackoffMax time.Duration
	// Sleep waits between attempts, and tests replace it. Nil selects a
	// timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Random returns jitter in [0, 1), and tests replace it. Nil selects
	// math/rand/v2.
	Random func() float64
	// DialTimeout bounds one connection attempt including the handshake
	// and the Hello exchange. Zero selects 10 s.
	DialTimeout time.Duration
	// IdleTimeout ends a connection without traffic for this long. Keep
	// alives are sent at a third of it. Zero selects 30 s.
	IdleTimeout time.Duration
	// Renewal, if set, renews the client certificate over the live
	// connection at about two thirds of its lifetime.
	Renewal *RenewalConfig
	// Control, if set, makes the client open a control stream on every
	// connection, send heartbeats on it and apply what the control plane
	// pushes.
	Control AgentControl
	// HeartbeatInterval is the time between heartbeats. Zero selects
	// DefaultHeartbeatInterval.
	HeartbeatInterval time.Duration
	// Registerer receives the client metrics. Nil registers nothing.
	Registerer prometheus.Registerer
	Logger     zerolog.Logger
}

// Client keeps one bridge connection to the control plane and sends the
// source's events over it. Delivery is at-least-once: a batch is committed
// in the source only after its Ack, and every new connection starts by
// rewinding the source to the oldest uncommitted event.
type Client struct {
	cfg       ClientConfig
	tls       *tls.Config
	quic      *quic.Config
	log       zerolog.Logger
	connected atomic.Bool
	// conn is the established connection renewals use, nil between
	// connections.
	conn    atomic.Pointer[quic.Conn]
	metrics clientMetrics
}

type clientMetrics struct {
	sent       prometheus.Counter
	acked      prometheus.Counter
	events     prometheus.Counter
	reconnects prometheus.Counter
	connected  prometheus.Gauge
	// renewals and renewFailures count certificate renewals.
	renewals      prometheus.Counter
	renewFailures prometheus.Counter
}

// NewClient validates cfg and returns a client. Run connects.
func NewClient(cfg ClientConfig) (*Client, error) {
	if len(cfg.Addresses) == 0 {
		return nil, errors.New("create bridge client: no addresses")
	}
	if cfg.TLSConfig == nil {
		return nil, errors.New("create bridge client: tls config is nil")
	}
	if cfg.Source == nil {
		return nil, errors.New("create bridge client: source is nil")
	}
	if cfg.BatchBytes > MaxFrameBytes/2 {
		return nil, fmt.Errorf("create bridge client: batch bytes %d exceeds %d", cfg.BatchBytes, MaxFrameBytes/2)
	}
	if cfg.BatchSize < 0 || cfg.BatchBytes < 0 || cfg.MaxInFlight < 0 || cfg.HeartbeatInterval < 0 {
		return nil, errors.New("create bridge client: negative batch size, batch bytes, max in flight or heartbeat interval")
	}
	if r := cfg.Renewal; r != nil {
		if r.Certificate == nil || r.Certificate.Load() == nil || r.Certificate.Load().Leaf == nil {
			return nil, errors.New("create bridge client: renewal needs a certificate with its parsed leaf")
		}
		if r.Roots == nil {
			return nil, errors.New("create bridge client: renewal needs roots")
		}
		renewal := *r
		if renewal.Now == nil {
			renewal.Now = time.Now
		}
		cfg.Renewal = &renewal
	}
	setClientDefaults(&cfg)

	tlsConf := cfg.TLSConfig.Clone()
	tlsConf.NextProtos = []string{ALPN}
	tlsConf.MinVersion = tls.VersionTLS13

	quicConf := quicConfig(cfg.IdleTimeout)
	quicConf.HandshakeIdleTimeout = cfg.DialTimeout

	c := &Client{
		cfg:  cfg,
		tls:  tlsConf,
		quic: quicConf,
		log:  cfg.Logger.With().Str("component", "bridge_client").Logger(),
	}
	if err := c.metrics.register(cfg.Registerer); err != nil {
		return nil, fmt.Errorf("create bridge client: %w", err)
	}
	return c, nil
}

func setClientDefaults(cfg *ClientConfig) {
	if cfg.Hello == nil {
		cfg.Hello = &bridgev1.Hello{}
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = defaultBatchSize
	}
	if cfg.BatchBytes == 0 {
		cfg.BatchBytes = defaultBatchBytes
	}
	if cfg.MaxInFlight == 0 {
		cfg.MaxInFlight = defaultMaxInFlight
	}
	if cfg.BackoffMin == 0 {
		cfg.BackoffMin = defaultBackoffMin
	}
	if cfg.BackoffMax == 0 {
		cfg.BackoffMax = defaultBackoffMax
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	if cfg.Random == nil {
		cfg.Random = defaultRandom
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = defaultDialTimeout
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = defaultIdleTimeout
	}
	if cfg.HeartbeatInterval == 0 {
		cfg.HeartbeatInterval = DefaultHeartbeatInterval
	}
}

func (m *clientMetrics) register(reg prometheus.Registerer) error {
	m.sent = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "decnet_bridge_client_batches_sent_total",
		Help: "Event batches the agent sent to the control plane, resends included.",
	})
	m.acked = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "decnet_bridge_client_batches_acked_total",
		Help: "Event batches the control plane acknowledged.",
	})
	m.events = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "decnet_bridge_client_events_acked_total",
		Help: "Events in acknowledged batches.",
	})
	m.reconnects = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "decnet_bridge_client_reconnects_total",
		Help: "Connection attempts after a failed attempt or a lost connection.",
	})
	m.connected = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "decnet_bridge_client_connected",
		Help: "1 while the agent has a bridge connection, else 0.",
	})
	m.renewals = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "decnet_bridge_client_certificate_renewals_total",
		Help: "Agent certificates renewed over the bridge.",
	})
	m.renewFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "decnet_bridge_client_certificate_renewal_failures_total",
		Help: "Certificate renewal attempts that failed or were refused.",
	})
	if reg == nil {
		return nil
	}
	for _, c := range []prometheus.Collector{m.sent, m.acked, m.events, m.reconnects, m.connected, m.renewals, m.renewFailures} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register bridge client metrics: %w", err)
		}
	}
	return nil
}

// Connected reports whether the client has a connection that completed
// the Hello exchange.
func (c *Client) Connected() bool {
	return c.connected.Load()
}

// Run connects and sends events until ctx ends, reconnecting with backoff
// after every failure, then returns nil. Errors of the source are retried
// like network errors, so to stop the client, cancel ctx.
func (c *Client) Run(ctx context.Context) error {
	if c.cfg.Renewal != nil {
		renewCtx, stopRenewal := context.WithCancel(ctx)
		renewDone := make(chan struct{})
		go func() {
			defer close(renewDone)
			c.renewLoop(renewCtx)
		}()
		defer func() {
			stopRenewal()
			<-renewDone
		}()
	}

	bo := newBackoff(c.cfg.BackoffMin, c.cfg.BackoffMax, c.cfg.Random)
	failures := 0

	for i := 0; ; i = (i + 1) % len(c.cfg.Addresses) {
		addr := c.cfg.Addresses[i]
		established, err := c.connect(ctx, addr)
		// For a server certificate without the dialled name, the error
		// lists the names it carries.
		err = pki.ExplainNameMismatch(err)
		if ctx.Err() != nil {
			return nil //nolint:nilerr // a connection error after cancellation is the shutdown itself
		}

		// A refusal with a reason is logged as an error under its own
		// message: retrying will not help until an operator acts.
		reason := refusalReason(err)
		msg := ""
		if reason != nil {
			err = fmt.Errorf("%w: %w", reason, err)
			msg = refusalMessages[reason].client
		}
		if established {
			bo.reset()
			failures = 0
			if msg == "" {
				c.log.Warn().Err(err).Str(fieldAddress, addr).Msg("bridge connection lost")
			} else {
				c.log.Error().Err(err).Str(fieldAddress, addr).Msg(msg)
			}
		} else {
			failures++
			level := zerolog.DebugLevel
			if failures == 1 || failures%dialLogEvery == 0 {
				level = zerolog.WarnLevel
				if msg != "" {
					level = zerolog.ErrorLevel
				}
			}
			if msg == "" {
				msg = "bridge connection attempt failed"
			}
			c.log.WithLevel(level).Err(err).Str(fieldAddress, addr).Int(fieldReconnects, failures).Msg(msg)
		}

		if err := c.cfg.Sleep(ctx, bo.delay()); err != nil {
			return nil //nolint:nilerr // Sleep fails only when ctx ends, which stops Run without error
		}
		c.metrics.reconnects.Inc()
	}
}

// connect runs one connection to addr. established reports whether it got
// as far as the Welcome frame.
func (c *Client) connect(ctx context.Context, addr string) (established bool, err error) {
	conn, stream, err := c.dial(ctx, addr)
	if err != nil {
		return false, err
	}

	if err := c.cfg.Source.Rewind(); err != nil {
		conn.CloseWithError(codeClientCommitFail, "source failed")
		return false, fmt.Errorf("rewind source: %w", err)
	}

	c.connected.Store(true)
	c.conn.Store(conn)
	c.metrics.connected.Set(1)
	defer func() {
		c.connected.Store(false)
		c.conn.Store(nil)
		c.metrics.connected.Set(0)
	}()

	return true, c.pump(ctx, conn, stream)
}

// dial opens the connection and exchanges Hello and Welcome.
func (c *Client) dial(ctx context.Context, addr string) (*quic.Conn, *quic.Stream, error) {
	dialCtx, cancel := context.WithTimeout(ctx, c.cfg.DialTimeout)
	defer cancel()

	conn, err := quic.DialAddr(dialCtx, addr, c.tls, c.quic)
	if err != nil {
		return nil, nil, fmt.Errorf("dial bridge %s: %w", addr, err)
	}

	stream, welcome, err := c.hello(dialCtx, conn)
	if err != nil {
		conn.CloseWithError(codeProtocolError, "hello failed")
		return nil, nil, fmt.Errorf("open bridge session with %s: %w", addr, err)
	}

	c.log.Info().Str(fieldAddress, addr).Str(fieldAgentID, welcome.GetAgentId()).Msg("bridge connected")
	return conn, stream, nil
}

func (c *Client) hello(ctx context.Context, conn *quic.Conn) (*quic.Stream, *bridgev1.Welcome, error) {
	stream, err := conn.OpenStreamSync(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("open stream: %w", err)
	}
	if err := WriteFrame(stream, &bridgev1.AgentFrame{Frame: &bridgev1.AgentFrame_Hello{Hello: c.cfg.Hello}}); err != nil {
		return nil, nil, err
	}

	if deadline, ok := ctx.Deadline(); ok {
		if err := stream.SetReadDeadline(deadline); err != nil {
			return nil, nil, fmt.Errorf("set welcome deadline: %w", err)
		}
	}
	var frame bridgev1.ServerFrame
	if err := ReadFrame(stream, &frame); err != nil {
		return nil, nil, fmt.Errorf("read welcome: %w", err)
	}
	welcome := frame.GetWelcome()
	if welcome == nil {
		return nil, nil, fmt.Errorf("read welcome: first frame is %T", frame.GetFrame())
	}
	if err := stream.SetReadDeadline(time.Time{}); err != nil {
		return nil, nil, fmt.Errorf("clear welcome deadline: %w", err)
	}
	return stream, welcome, nil
}

// inflightBatch is a batch sent and not yet acknowledged.
type inflightBatch struct {
	sequence uint64
	position Position
	events   int
}

// pump sends batches and commits acknowledged ones until the connection or
// the source fails or ctx ends. It always closes conn.
//
// NOTE: a server that keeps the connection alive but never acknowledges
// stalls the client until the connection ends, since there is no ack
// timeout.
func (c *Client) pump(ctx context.Context, conn *quic.Conn, stream *quic.Stream) error {
	g, gctx := errgroup.WithContext(ctx)
	window := make(chan struct{}, c.cfg.MaxInFlight)
	inflight := make(chan inflightBatch, c.cfg.MaxInFlight)

	g.Go(func() error { return c.send(gctx, stream, window, inflight) })
	g.Go(func() error { return c.receive(stream, window, inflight) })
	if c.cfg.Control != nil {
		g.Go(func() error {
			control, err := c.openControl(gctx, conn)
			if err != nil {
				return err
			}
			g.Go(func() error { return control.receive(gctx) })
			return control.heartbeats(gctx)
		})
	}
	g.Go(func() error {
		// Closing the connection unblocks the stream reads and writes of
		// the other two goroutines.
		<-gctx.Done()
		if ctx.Err() != nil {
			conn.CloseWithError(codeClientShutdown, "agent shutting down")
		} else {
			conn.CloseWithError(codeProtocolError, "session failed")
		}
		return nil
	})
	return g.Wait()
}

func (c *Client) send(ctx context.Context, stream *quic.Stream, window chan struct{}, inflight chan<- inflightBatch) error {
	var sequence uint64
	for {
		select {
		case window <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}

		events, pos, err := c.cfg.Source.Read(ctx, c.cfg.BatchSize, c.cfg.BatchBytes)
		if err != nil {
			return fmt.Errorf("read source: %w", err)
		}

		sequence++
		// The window slot taken above guarantees room in inflight.
		inflight <- inflightBatch{sequence: sequence, position: pos, events: len(events)}
		batch := &bridgev1.Batch{Sequence: sequence, Events: events}
		if err := WriteFrame(stream, &bridgev1.AgentFrame{Frame: &bridgev1.AgentFrame_Batch{Batch: batch}}); err != nil {
			return err
		}
		c.metrics.sent.Inc()
	}
}

func (c *Client) receive(stream *quic.Stream, window <-chan struct{}, inflight <-chan inflightBatch) error {
	for {
		var frame bridgev1.ServerFrame
		if err := ReadFrame(stream, &frame); err != nil {
			return err
		}
		ack := frame.GetAck()
		if ack == nil {
			return fmt.Errorf("read ack: frame is %T", frame.GetFrame())
		}

		var oldest inflightBatch
		select {
		case oldest = <-inflight:
		default:
			return fmt.Errorf("read ack: sequence %d acknowledges no batch in flight", ack.GetSequence())
		}
		if ack.GetSequence() != oldest.sequence {
			return fmt.Errorf("read ack: sequence %d, want %d", ack.GetSequence(), oldest.sequence)
		}

		if err := c.cfg.Source.Commit(oldest.position); err != nil {
			return fmt.Errorf("commit source: %w", err)
		}
		c.metrics.acked.Inc()
		c.metrics.events.Add(float64(oldest.events))
		<-window
	}
}
