// Package agent is the edge agent runtime: it starts the configured decoys,
// carries their events over the local bus into the disk spool, and ships
// the spool to the control plane over the bridge.
package agent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/decnet/decnet/agent/bus"
	"github.com/decnet/decnet/agent/config"
	"github.com/decnet/decnet/agent/enroll"
	"github.com/decnet/decnet/agent/spool"
	"github.com/decnet/decnet/bridge"
	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/fetch"
	ftpdecoy "github.com/decnet/decnet/decoys/ftp"
	httpdecoy "github.com/decnet/decnet/decoys/http"
	imapdecoy "github.com/decnet/decnet/decoys/imap"
	pop3decoy "github.com/decnet/decnet/decoys/pop3"
	"github.com/decnet/decnet/decoys/quarantine"
	smtpdecoy "github.com/decnet/decnet/decoys/smtp"
	sshdecoy "github.com/decnet/decnet/decoys/ssh"
	telnetdecoy "github.com/decnet/decnet/decoys/telnet"
	tftpdecoy "github.com/decnet/decnet/decoys/tftp"
	bridgev1 "github.com/decnet/decnet/gen/decnet/bridge/v1"
	"github.com/decnet/decnet/internal/endpoints"
	"github.com/decnet/decnet/pki"
)

// Defaults for Config fields left zero.
const (
	// DefaultSpoolMaxBytes bounds the spool on disk: at roughly 500 bytes
	// an event it holds about a million events, hours of a busy sensor's
	// traffic through a control-plane outage.
	DefaultSpoolMaxBytes = 512 << 20
	// DefaultQueueSize is the emitter queue between decoys and the bus. It
	// absorbs bursts while the spool fsyncs.
	DefaultQueueSize = 8192
	// maxSpoolSegmentBytes is the largest spool segment, the unit of
	// eviction when the spool is full.
	maxSpoolSegmentBytes = 16 << 20
	// eventSubject matches every decoy event on the bus.
	eventSubject = "event.>"
)

// spoolSegmentBytes returns the segment size for a spool of maxBytes: the
// spool's 16 MiB default, or a quarter of maxBytes when that is smaller, so
// that a small spool still opens and evicts a quarter of itself at a time.
func spoolSegmentBytes(maxBytes int64) int64 {
	return min(maxSpoolSegmentBytes, maxBytes/4)
}

// Factory builds one decoy service that listens on TCP.
type Factory func(decoys.Config) (decoys.Service, error)

// PacketFactory builds one decoy service that listens on UDP.
type PacketFactory func(decoys.Config) (decoys.PacketService, error)

// PacketBuiltins lists the UDP decoy services, by service name. A name is
// in Builtins or here, never both.
func PacketBuiltins() map[string]PacketFactory {
	return map[string]PacketFactory{
		"tftp": func(c decoys.Config) (decoys.PacketService, error) { return tftpdecoy.New(c) },
	}
}

// Builtins lists the decoy services this agent can run, by service name.
func Builtins() map[string]Factory {
	return map[string]Factory{
		"ssh": func(c decoys.Config) (decoys.Service, error) { return sshdecoy.New(c) },
		"http": func(c decoys.Config) (decoys.Service, error) {
			return httpdecoy.New(c)
		},
		"ftp":    func(c decoys.Config) (decoys.Service, error) { return ftpdecoy.New(c) },
		"imap":   func(c decoys.Config) (decoys.Service, error) { return imapdecoy.New(c) },
		"pop3":   func(c decoys.Config) (decoys.Service, error) { return pop3decoy.New(c) },
		"smtp":   func(c decoys.Config) (decoys.Service, error) { return smtpdecoy.New(c) },
		"telnet": func(c decoys.Config) (decoys.Service, error) { return telnetdecoy.New(c) },
	}
}

// Config configures an agent.
type Config struct {
	DataDir  string
	Decoys   *config.Decoys
	Identity *enroll.Identity
	// BridgeAddresses overrides the addresses stored at enrollment.
	BridgeAddresses []string
	// MetricsListen is the TCP address of /metrics; empty serves none.
	MetricsListen string
	SpoolMaxBytes int64
	// Quarantine bounds the store of files attackers send; zero fields
	// take the quarantine package's defaults.
	Quarantine quarantine.Options
	// FetchDownloads lets emulated shells fetch the URLs attackers ask
	// for, into the quarantine, through the private-address guard. Off,
	// the URLs are only recorded.
	FetchDownloads bool
	QueueSize      int
	// HeartbeatInterval is the time between heartbeats to the control
	// plane. Zero selects bridge.DefaultHeartbeatInterval.
	HeartbeatInterval time.Duration
	Version           string
	Logger            zerolog.Logger
	Registry          *prometheus.Registry
}

// Agent is a running agent.
type Agent struct {
	cfg     Config
	log     zerolog.Logger
	bus     *bus.Bus
	emitter *bus.Emitter
	spool   *spool.Spool
	client  *bridge.Client
	// cert is the certificate the bridge presents, replaced on renewal.
	cert *bridge.ClientCertificate
	// started is when New ran, for the uptime in heartbeats.
	started time.Time
	applier *applier

	services   []runningDecoy
	metrics    net.Listener
	quarantine *quarantine.Store
	// recordingDir holds the recordings of live sessions.
	recordingDir string
	// fetcher downloads for emulated shells; nil records URLs only.
	fetcher *fetch.Fetcher
}

type runningDecoy struct {
	endpoint endpoints.Decoy
	// serve runs the service until ctx ends.
	serve func(ctx context.Context) error
	// listener is the TCP listener or UDP socket, closed on shutdown.
	listener io.Closer
	health   *decoyHealth
}

// New opens the spool, builds the decoys and binds their listeners, so that
// Endpoints is valid before Run.
func New(cfg Config) (*Agent, error) {
	if cfg.Identity == nil {
		return nil, errors.New("agent: no identity: run decnet-agent enroll first")
	}
	if cfg.Decoys == nil {
		return nil, errors.New("agent: no decoy configuration")
	}
	if err := checkCertificate(cfg.Identity.Certificate.Leaf, time.Now()); err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	if cfg.SpoolMaxBytes <= 0 {
		cfg.SpoolMaxBytes = DefaultSpoolMaxBytes
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}

	a := &Agent{cfg: cfg, started: time.Now(), log: cfg.Logger.With().Str("component", "agent").Str("agent_id", cfg.Identity.AgentID).Logger()}
	ok := false
	defer func() {
		if !ok {
			a.closeListeners()
		}
	}()

	var err error
	a.bus = bus.New(cfg.Logger)
	a.emitter, err = bus.NewEmitter(bus.EmitterConfig{
		Bus:        a.bus,
		QueueSize:  cfg.QueueSize,
		AgentID:    cfg.Identity.AgentID,
		Registerer: cfg.Registry,
		Logger:     cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	a.spool, err = spool.Open(spool.Config{
		Dir:          filepath.Join(cfg.DataDir, "spool"),
		MaxBytes:     cfg.SpoolMaxBytes,
		SegmentBytes: spoolSegmentBytes(cfg.SpoolMaxBytes),
		Registerer:   cfg.Registry,
		Logger:       cfg.Logger,
	})
	if err != nil {
		return nil, err
	}

	if a.quarantine, err = quarantine.Open(filepath.Join(cfg.DataDir, "quarantine"), cfg.Quarantine); err != nil {
		return nil, err
	}
	if cfg.FetchDownloads {
		a.fetcher = fetch.New(fetch.Options{Quarantine: a.quarantine})
	}
	a.recordingDir = filepath.Join(cfg.DataDir, "recordings")
	if err := os.MkdirAll(a.recordingDir, 0o700); err != nil {
		return nil, fmt.Errorf("create recordings directory: %w", err)
	}

	addresses := cfg.BridgeAddresses
	if len(addresses) == 0 {
		addresses = cfg.Identity.BridgeAddresses
	}
	if len(addresses) == 0 {
		return nil, errors.New("agent: no bridge address: enroll again or pass --bridge")
	}
	if a.applier, err = newApplier(cfg.DataDir, a.heartbeatState); err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	cert := cfg.Identity.Certificate
	a.cert = bridge.NewClientCertificate(&cert)
	roots := cfg.Identity.Roots
	if roots == nil {
		// As in AgentTLSConfig: trust nothing rather than the system roots.
		roots = x509.NewCertPool()
	}
	a.client, err = bridge.NewClient(bridge.ClientConfig{
		Addresses: addresses,
		// An empty server name lets the QUIC dialer check each address's
		// host against the server certificate. Every handshake presents
		// the certificate the holder has then, renewed or not.
		TLSConfig: pki.AgentTLSConfig(a.cert.GetClientCertificate, cfg.Identity.Roots, "", []string{bridge.ALPN}),
		Source:    a.spool,
		Hello:     &bridgev1.Hello{Version: cfg.Version, Name: cfg.Identity.Name},
		Renewal: &bridge.RenewalConfig{
			Certificate: a.cert,
			Roots:       roots,
			Persist: func(c *tls.Certificate) error {
				return enroll.SaveCertificate(cfg.DataDir, c)
			},
		},
		Control:           a.applier,
		HeartbeatInterval: cfg.HeartbeatInterval,
		Registerer:        cfg.Registry,
		Logger:            cfg.Logger,
	})
	if err != nil {
		return nil, err
	}

	if err := a.buildDecoys(); err != nil {
		return nil, err
	}
	if cfg.MetricsListen != "" {
		var lc net.ListenConfig
		if a.metrics, err = lc.Listen(context.Background(), "tcp", cfg.MetricsListen); err != nil {
			return nil, fmt.Errorf("listen metrics: %w", err)
		}
	}
	ok = true
	return a, nil
}

func (a *Agent) buildDecoys() error {
	var lc net.ListenConfig
	factories, packetFactories := Builtins(), PacketBuiltins()
	metrics, err := decoys.NewMetrics(a.cfg.Registry)
	if err != nil {
		return err
	}
	for _, d := range a.cfg.Decoys.Deckies {
		seed, err := d.SeedBytes()
		if err != nil {
			return fmt.Errorf("decky %q: %w", d.Name, err)
		}
		for _, s := range d.Services {
			cfg := decoys.Config{
				Decky:        d.Name,
				Seed:         seed,
				Persona:      s.Persona,
				Emitter:      a.emitter,
				Logger:       a.cfg.Logger.With().Str(decoys.FieldDecky, d.Name).Str(decoys.FieldService, s.Name).Logger(),
				Metrics:      metrics,
				Quarantine:   a.quarantine,
				RecordingDir: a.recordingDir,
				Fetcher:      a.fetcher,
				Options:      s.Options,
			}
			running, err := startDecoy(&lc, s, cfg, factories, packetFactories)
			if err != nil {
				return fmt.Errorf("decky %q: %w", d.Name, err)
			}
			running.endpoint.Decky, running.endpoint.Service, running.endpoint.Persona = d.Name, s.Name, s.Persona
			a.services = append(a.services, running)
		}
	}
	return nil
}

// startDecoy builds the service and binds its TCP listener or UDP socket.
func startDecoy(lc *net.ListenConfig, s config.Service, cfg decoys.Config, factories map[string]Factory, packetFactories map[string]PacketFactory) (runningDecoy, error) {
	if factory, ok := factories[s.Name]; ok {
		svc, err := factory(cfg)
		if err != nil {
			return runningDecoy{}, fmt.Errorf("service %q: %w", s.Name, err)
		}
		ln, err := lc.Listen(context.Background(), "tcp", s.Listen)
		if err != nil {
			return runningDecoy{}, fmt.Errorf("service %q: listen: %w", s.Name, err)
		}
		return runningDecoy{
			endpoint: endpoints.Decoy{Address: ln.Addr().String()},
			serve:    func(ctx context.Context) error { return svc.Serve(ctx, ln) },
			listener: ln,
			health:   &decoyHealth{},
		}, nil
	}
	if factory, ok := packetFactories[s.Name]; ok {
		svc, err := factory(cfg)
		if err != nil {
			return runningDecoy{}, fmt.Errorf("service %q: %w", s.Name, err)
		}
		pc, err := lc.ListenPacket(context.Background(), "udp", s.Listen)
		if err != nil {
			return runningDecoy{}, fmt.Errorf("service %q: listen: %w", s.Name, err)
		}
		return runningDecoy{
			endpoint: endpoints.Decoy{Address: pc.LocalAddr().String(), Transport: "udp"},
			serve:    func(ctx context.Context) error { return svc.ServePacket(ctx, pc) },
			listener: pc,
			health:   &decoyHealth{},
		}, nil
	}
	return runningDecoy{}, fmt.Errorf("unknown service %q", s.Name)
}

// Decoys returns the listening decoys.
func (a *Agent) Decoys() []endpoints.Decoy {
	out := make([]endpoints.Decoy, 0, len(a.services))
	for _, s := range a.services {
		out = append(out, s.endpoint)
	}
	return out
}

// MetricsURL returns the URL of /metrics, or "" when none is served.
func (a *Agent) MetricsURL() string {
	if a.metrics == nil {
		return ""
	}
	return "http://" + a.metrics.Addr().String() + "/metrics"
}

// Dropped returns how many events were lost before reaching the spool or
// evicted from it unsent.
func (a *Agent) Dropped() uint64 {
	return a.emitter.Dropped() + a.spool.Dropped()
}

// Run serves the decoys and ships events until ctx ends. On shutdown the
// decoys stop first, then the emitter drains its queue into the spool, so
// events already emitted are on disk before Run returns.
func (a *Agent) Run(ctx context.Context) (err error) {
	defer a.closeListeners()

	// The spool's handler queues events for a group fsync instead of
	// syncing each one on the bus goroutine.
	unsubscribe, err := a.bus.Subscribe(eventSubject, a.spool.Handler())
	if err != nil {
		return err
	}
	defer unsubscribe()
	defer func() {
		if closeErr := a.spool.Close(); closeErr != nil {
			err = errors.Join(err, fmt.Errorf("close spool: %w", closeErr))
		}
	}()

	decoyCtx, stopDecoys := context.WithCancel(ctx)
	defer stopDecoys()
	emitterCtx, stopEmitter := context.WithCancel(context.Background())
	defer stopEmitter()

	emitterDone := make(chan error, 1)
	go func() { emitterDone <- a.emitter.Run(emitterCtx) }()

	g, gctx := errgroup.WithContext(decoyCtx)
	for _, s := range a.services {
		g.Go(func() error {
			s.health.set(true, nil)
			err := s.serve(gctx)
			s.health.set(false, err)
			if err != nil {
				return fmt.Errorf("decoy %s/%s: %w", s.endpoint.Decky, s.endpoint.Service, err)
			}
			return nil
		})
	}
	g.Go(func() error { return a.client.Run(gctx) })
	g.Go(func() error {
		leaf := func() *x509.Certificate { return a.cert.Load().Leaf }
		watchCertificate(gctx, leaf, time.Now, watchInterval(leaf()), a.log)
		return nil
	})
	if a.metrics != nil {
		g.Go(func() error { return a.serveMetrics(gctx) })
	}

	a.log.Info().Int("decoys", len(a.services)).Msg("agent started")
	err = g.Wait()

	stopEmitter()
	if emitErr := <-emitterDone; emitErr != nil && !errors.Is(emitErr, context.Canceled) {
		err = errors.Join(err, emitErr)
	}
	a.log.Info().Uint64("dropped", a.Dropped()).Msg("agent stopped")
	return err
}

func (a *Agent) serveMetrics(ctx context.Context) error {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(a.cfg.Registry, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(a.metrics) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve metrics: %w", err)
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
		// Serve returns http.ErrServerClosed as soon as Shutdown starts.
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve metrics: %w", err)
		}
		return nil
	}
}

func (a *Agent) closeListeners() {
	for _, s := range a.services {
		_ = s.listener.Close()
	}
	if a.metrics != nil {
		_ = a.metrics.Close()
	}
}
