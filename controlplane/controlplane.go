// Package controlplane composes the control plane: its CA, store, ingest
// pipeline, bridge listener, enrollment endpoint and API into one component
// with Run(ctx).
package controlplane

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/decnet/decnet/bridge"
	"github.com/decnet/decnet/controlplane/api"
	"github.com/decnet/decnet/controlplane/apidoc"
	"github.com/decnet/decnet/controlplane/auth"
	"github.com/decnet/decnet/controlplane/auth/oidc"
	"github.com/decnet/decnet/controlplane/cache"
	"github.com/decnet/decnet/controlplane/campaign"
	"github.com/decnet/decnet/controlplane/download"
	"github.com/decnet/decnet/controlplane/enroll"
	"github.com/decnet/decnet/controlplane/export"
	"github.com/decnet/decnet/controlplane/fanout"
	"github.com/decnet/decnet/controlplane/identity"
	"github.com/decnet/decnet/controlplane/ingest"
	"github.com/decnet/decnet/controlplane/intel"
	"github.com/decnet/decnet/controlplane/livesettings"
	"github.com/decnet/decnet/controlplane/notices"
	"github.com/decnet/decnet/controlplane/replica"
	"github.com/decnet/decnet/controlplane/retention"
	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/controlplane/ticket"
	"github.com/decnet/decnet/controlplane/topics"
	"github.com/decnet/decnet/controlplane/webhooks"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	bridgev1 "github.com/decnet/decnet/gen/decnet/bridge/v1"
	"github.com/decnet/decnet/internal/endpoints"
	"github.com/decnet/decnet/internal/netguard"
	"github.com/decnet/decnet/pki"
)

// Defaults for Config fields left zero.
const (
	// DefaultAgentCertLifetime is the validity of agent certificates.
	// Agents renew theirs over the bridge at about two thirds of it.
	DefaultAgentCertLifetime = 24 * time.Hour
	// serverCertLifetime is the validity of the API and bridge server
	// certificate, reissued at every start.
	serverCertLifetime = 90 * 24 * time.Hour
	// shutdownTimeout bounds how long HTTP servers wait for requests in
	// flight on shutdown.
	shutdownTimeout = 5 * time.Second
)

// Config configures a control plane.
type Config struct {
	// Version of the binary, shown by SettingsService.
	Version string
	DataDir string
	// APIListen is the TCP address of the API and dashboard.
	APIListen string
	// AgentListen is the TCP address of the enrollment endpoint (HTTPS).
	AgentListen string
	// MetricsListen is the TCP address of the Prometheus /metrics endpoint
	// (plain HTTP, no authentication); empty serves none.
	MetricsListen string
	// BridgeListen is the UDP address of the QUIC bridge.
	BridgeListen string
	// PlainHTTP serves the API over unencrypted HTTP/2 (h2c) and HTTP/1.1.
	// Allowed only on loopback addresses; decnet dev uses it.
	PlainHTTP bool
	// ServerNames are extra DNS names and IP addresses agents and API
	// clients dial; the listen addresses' IPs are always included.
	ServerNames []string
	// AdvertiseBridge lists the bridge addresses enrolled agents dial; empty
	// advertises the bridge listener's own address.
	AdvertiseBridge   []string
	AgentCertLifetime time.Duration
	// DatabaseURL is the PostgreSQL URL of the store; empty keeps a
	// SQLite store in DataDir. It may hold a password and is never logged.
	DatabaseURL string
	// RedisURL is the Redis server that replicas on one database share
	// for live event streams and the login rate limit. A second replica on
	// a database is refused unless every replica has it. It may hold a
	// password and is never logged.
	RedisURL string
	// CADir holds the CA; default DataDir/ca. Replicas share one CA.
	CADir string
	// Retention is how long raw events are kept, by event time; older
	// ones are pruned at start and every hour. Zero keeps them forever.
	// Attacker and credential aggregates are never pruned. This and the
	// fields up to WebhookAllowHTTP are defaults that an admin may
	// override at runtime through SettingsService.
	Retention time.Duration
	// RequireAdminTOTP makes every admin enroll a TOTP authenticator
	// before doing anything else.
	RequireAdminTOTP bool
	// WebhookAllow lists private prefixes webhooks may reach (an internal
	// SIEM or chat server); every other private, loopback, link-local and
	// metadata address is refused.
	WebhookAllow []netip.Prefix
	// WebhookAllowHTTP accepts http:// webhook URLs; https only otherwise.
	WebhookAllowHTTP bool
	// Intel selects the threat-intel providers; the zero value asks none
	// and sends nothing out.
	Intel IntelConfig
	// OIDC enables single sign-on when its Issuer is set; Users,
	// Sessions and Logger are filled in by the control plane.
	OIDC oidc.Config
	// AttackRules is a YAML file of ATT&CK tagging rules, reloaded when it
	// changes; empty uses the embedded default rules.
	AttackRules string
	// Export lists the SIEM outputs of the events and notices this
	// replica ingests; ExportAllow the private networks they may reach.
	Export      []export.OutputConfig
	ExportAllow []netip.Prefix
	// UI serves the dashboard at /; nil serves none.
	UI       http.Handler
	Logger   zerolog.Logger
	Registry *prometheus.Registry
	Now      func() time.Time
}

// Server is a running control plane.
type Server struct {
	cfg   Config
	log   zerolog.Logger
	store store.Store
	ca    *pki.CA

	adminPassword string

	apiListener     net.Listener
	agentListener   net.Listener
	metricsListener net.Listener
	apiServer       *http.Server
	agentServer     *http.Server
	metricsServer   *http.Server
	bridge          *bridge.Server
	presence        *presence
	statuses        *statusBoard
	// notices carries what the control plane concludes (credential
	// captures and reuse) to webhooks and exports.
	notices    *topics.Publisher[*apiv1.Notice]
	notifier   *notices.Notifier
	webhooks   *webhooks.Dispatcher
	intel      *intel.Enricher
	exporter   *export.Exporter
	techniques *techniqueTagger
	identities *identity.Worker
	campaigns  *campaign.Worker
	control    *control
	fleet      *fleet
	retention  *retention.Worker
	// live holds the settings admins change at runtime; the components
	// above read them through its getters.
	live *livesettings.Settings

	// Shared state of several replicas; see replicas.go.
	redis  *redis.Client
	broker *fanout.Redis
	// tickets are the live stream tickets replicas share; nil keeps them
	// in process.
	tickets  ticket.Store
	dataLock *replica.FileLock
	dbLock   *replica.DatabaseLock
}

// New opens the store and the CA (creating both on first start), creates
// the admin user on first start, and binds every listener, so Endpoints is
// valid before Run.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.AgentCertLifetime <= 0 {
		cfg.AgentCertLifetime = DefaultAgentCertLifetime
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.PlainHTTP {
		if err := requireLoopback(cfg.APIListen); err != nil {
			return nil, fmt.Errorf("plain HTTP API: %w", err)
		}
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}

	s := &Server{cfg: cfg, log: cfg.Logger.With().Str("component", "controlplane").Logger()}
	ok := false
	defer func() {
		if !ok {
			s.closeAll()
		}
	}()

	var err error
	if s.ca, err = pki.LoadOrCreateCA(s.caDir(), cfg.Now); err != nil {
		return nil, err
	}
	if err = s.openStore(ctx); err != nil {
		return nil, err
	}
	password, created, err := auth.EnsureAdmin(ctx, s.store, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if created {
		s.adminPassword = password
	}

	if err := s.loadLiveSettings(ctx); err != nil {
		return nil, err
	}
	if err := s.listen(); err != nil {
		return nil, err
	}
	if err := s.buildServers(); err != nil {
		return nil, err
	}
	// The worker runs even when retention is off, since an admin may
	// turn it on at runtime; it prunes nothing while the period is zero.
	if s.retention, err = retention.New(retention.Config{
		Store: s.store, KeepFunc: s.live.Retention, Logger: cfg.Logger, Now: cfg.Now,
	}); err != nil {
		return nil, err
	}
	ok = true

	// Hashing the first admin password and creating the CA leave tens of
	// MiB of garbage that the runtime would otherwise return to the OS
	// only minutes later.
	debug.FreeOSMemory()
	return s, nil
}

func (s *Server) listen() error {
	var (
		lc  net.ListenConfig
		err error
	)
	ctx := context.Background()
	if s.apiListener, err = lc.Listen(ctx, "tcp", s.cfg.APIListen); err != nil {
		return fmt.Errorf("listen api: %w", err)
	}
	if s.agentListener, err = lc.Listen(ctx, "tcp", s.cfg.AgentListen); err != nil {
		return fmt.Errorf("listen enrollment: %w", err)
	}
	if s.cfg.MetricsListen != "" {
		if s.metricsListener, err = lc.Listen(ctx, "tcp", s.cfg.MetricsListen); err != nil {
			return fmt.Errorf("listen metrics: %w", err)
		}
	}
	return nil
}

func (s *Server) buildServers() error {
	cert, err := s.issueServerCertificate()
	if err != nil {
		return err
	}
	getCert := pki.StaticCertificate(&cert)

	hub, authn, err := s.sharedState()
	if err != nil {
		return err
	}
	s.presence = newPresence(s.store, s.cfg.Now, s.log)
	var sharedStatuses cache.Cache
	if s.redis != nil {
		if sharedStatuses, err = cache.NewRedis(cache.RedisConfig{Client: s.redis}); err != nil {
			return err
		}
	}
	s.statuses = newStatusBoard(s.cfg.Now, topics.New[StatusChange](), sharedStatuses, s.log)
	s.control = newControl(s.store, s.statuses, s.cfg.Now, s.log)
	s.notices = topics.New[*apiv1.Notice]()
	if s.notifier, err = notices.New(notices.Config{
		Store: s.store, Publisher: s.notices, Logger: s.cfg.Logger, Registerer: s.cfg.Registry, Now: s.cfg.Now,
	}); err != nil {
		return err
	}
	key, err := loadOrCreateWebhookKey(s.caDir())
	if err != nil {
		return err
	}
	if s.webhooks, err = webhooks.New(webhooks.Config{
		Store:         webhooks.NewDocumentStore(s.store),
		Publisher:     s.notices,
		Key:           key,
		Guard:         &netguard.Guard{AllowFunc: s.live.WebhookAllow},
		AllowHTTPFunc: s.live.WebhookAllowHTTP,
		Logger:        s.cfg.Logger,
		Registerer:    s.cfg.Registry,
	}); err != nil {
		return err
	}
	if s.intel, err = newEnricher(s.cfg.Intel, s.redis, s.cfg.Logger); err != nil {
		return err
	}
	// Each replica exports what it ingests, so replicas never export an
	// event twice.
	if s.exporter, err = export.New(export.Config{
		Outputs:    s.cfg.Export,
		Notices:    s.notices,
		Guard:      &netguard.Guard{Allow: s.cfg.ExportAllow},
		Logger:     s.cfg.Logger,
		Registerer: s.cfg.Registry,
		// Outputs that opt in drop what the global webhook
		// suppression rules drop.
		Suppressor: s.webhooks,
	}); err != nil {
		return err
	}
	if s.techniques, err = newTechniqueTagger(s.store, s.notices, s.cfg.AttackRules, s.cfg.Registry, s.cfg.Logger, s.cfg.Now); err != nil {
		return err
	}
	if s.identities, err = identity.NewWorker(identity.WorkerConfig{Store: s.store, Notices: s.notices, Logger: s.cfg.Logger, Now: s.cfg.Now}); err != nil {
		return err
	}
	// Campaigns group the identities above; like them, they are kept in
	// memory per replica and rebuilt from stored events at startup.
	if s.campaigns, err = campaign.NewWorker(campaign.WorkerConfig{Identities: s.identities, Store: s.store, Notices: s.notices, Logger: s.cfg.Logger, Now: s.cfg.Now}); err != nil {
		return err
	}
	observe := func(stored []*apiv1.StoredEvent) {
		s.notifier.Observe(stored)
		s.exporter.OfferEvents(stored)
		s.techniques.Observe(stored)
		s.identities.Observe(stored)
		s.campaigns.Observe(stored)
	}
	ingester, err := ingest.New(ingest.Config{
		Store:      s.store,
		Hub:        hub,
		Observe:    observe,
		Registerer: s.cfg.Registry,
		Logger:     s.cfg.Logger,
		Now:        s.cfg.Now,
	})
	if err != nil {
		return err
	}

	resetKey, err := loadOrCreateResetKey(s.cfg.DataDir)
	if err != nil {
		return err
	}
	bridgeTLS := pki.ServerTLSConfig(getCert, s.ca.RootPool(), true, []string{bridge.ALPN})
	s.fleet = &fleet{store: s.store, ca: s.ca, lifetime: s.cfg.AgentCertLifetime, log: s.log, connected: s.presence.Connected}
	s.bridge, err = bridge.NewServer(bridge.ServerConfig{
		Addr:              s.cfg.BridgeListen,
		TLSConfig:         bridgeTLS,
		AgentID:           pki.AgentIDFromCertificate,
		Authorize:         s.fleet.authorize,
		Renewer:           s.fleet,
		Now:               s.cfg.Now,
		Ingester:          ingester,
		OnConnect:         s.agentConnected,
		OnDisconnect:      s.agentDisconnected,
		Control:           s.control,
		StatelessResetKey: resetKey,
		Logger:            s.cfg.Logger,
	})
	if err != nil {
		return err
	}
	s.fleet.closeRevoked = s.bridge.CloseRevoked
	s.control.send = s.bridge.Send

	enrollment, err := enroll.New(enroll.Config{
		CA:              s.ca,
		Tokens:          s.store,
		BridgeAddresses: s.bridgeAddresses,
		CertLifetime:    s.cfg.AgentCertLifetime,
		Now:             s.cfg.Now,
		Logger:          s.cfg.Logger,
	})
	if err != nil {
		return err
	}
	agentMux := http.NewServeMux()
	agentMux.Handle(enrollment.Handler())
	// The agent binary, install script and unit, served where the token's
	// pinned root already secures the connection.
	downloads, err := download.New(download.Config{Logger: s.cfg.Logger})
	if err != nil {
		return err
	}
	agentMux.Handle(downloads.Handler())
	s.agentServer = newHTTPServer(agentMux, s.cfg.Logger, requestReadTimeout)
	s.agentServer.TLSConfig = pki.ServerTLSConfig(getCert, nil, false, []string{"h2", "http/1.1"})

	tokenAPI := &api.TokenServiceConfig{
		RootFingerprint: s.ca.RootFingerprint(),
		EnrollURL:       func() string { return s.Endpoints().Enroll },
	}
	ssoPath := ""
	if s.cfg.OIDC.Issuer != "" {
		ssoPath = oidc.LoginPath
	}
	apiHandler, err := api.New(api.Config{
		Store: s.store,
		Hub:   hub,
		Auth:  authn,

		SingleSignOnPath: ssoPath,
		Notices:          s.notices,

		RequireAdminTOTP: s.cfg.RequireAdminTOTP,
		Live:             s.live,
		Webhooks:         s.webhooks,
		Tickets:          s.tickets,
		Identities:       s.identities,
		Campaigns:        s.campaigns,
		Intel:            s.intel,
		Settings:         s.apiSettings(),
		Exporter:         s.exporter,
		Presence:         s.presence,
		// Closes the live connection at once; the revocation watcher
		// covers revocations by other processes.
		OnDecommission: s.fleet.decommissioned,
		Tokens:         tokenAPI,
		Statuses:       s.statuses,
		PushConfig:     s.control.configChanged,
		Secure:         !s.cfg.PlainHTTP,
		Ready:          s.readyBeyondStore(),
		Logger:         s.cfg.Logger,
		Now:            s.cfg.Now,
	})
	if err != nil {
		return err
	}
	s.cfg.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metricsMux := http.NewServeMux()
	metricsMux.Handle("/metrics", promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{}))
	s.metricsServer = newHTTPServer(metricsMux, s.cfg.Logger, requestReadTimeout)

	// The API reference, generated from the protos, needs no session:
	// it says nothing the protos do not.
	apidoc.Mount(apiHandler.Handle)
	if s.cfg.OIDC.Issuer != "" {
		sso := s.cfg.OIDC
		sso.Users, sso.Sessions, sso.Logger, sso.Now = apiHandler.Authenticator(), apiHandler.Authenticator(), s.cfg.Logger, s.cfg.Now
		h, err := oidc.New(sso)
		if err != nil {
			return err
		}
		h.Mount(apiHandler)
	}
	if s.cfg.UI != nil {
		apiHandler.Handle("/", s.cfg.UI)
	}
	handler := apiHandler.Handler()
	if s.cfg.PlainHTTP {
		handler = requireLoopbackHost(handler)
	}
	// No read timeout on the API: net/http applies it to the whole
	// connection on HTTP/1.1 and cancels a live event stream when it
	// fires. Request sizes are capped by the Connect handlers.
	s.apiServer = newHTTPServer(handler, s.cfg.Logger, 0)
	if s.cfg.PlainHTTP {
		protocols := new(http.Protocols)
		protocols.SetHTTP1(true)
		protocols.SetUnencryptedHTTP2(true)
		s.apiServer.Protocols = protocols
	} else {
		s.apiServer.TLSConfig = pki.ServerTLSConfig(getCert, nil, false, []string{"h2", "http/1.1"})
	}
	return nil
}

// requestReadTimeout bounds reading one request on listeners that serve no
// streams.
const requestReadTimeout = 60 * time.Second

// newHTTPServer returns a server with header, idle and the given read
// timeouts. The write timeout stays unset because it would cut the API's
// long-lived event streams.
func newHTTPServer(h http.Handler, log zerolog.Logger, readTimeout time.Duration) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       readTimeout,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          newStdLogger(log.With().Str("component", "http").Logger()),
	}
}

// issueServerCertificate issues the certificate the API, enrollment and
// bridge listeners present, covering every configured name and the IPs they
// listen on.
func (s *Server) issueServerCertificate() (tls.Certificate, error) {
	var names []string
	var ips []net.IP
	add := func(host string) {
		if host == "" {
			return
		}
		if ip := net.ParseIP(host); ip != nil {
			if !ip.IsUnspecified() && !slices.ContainsFunc(ips, ip.Equal) {
				ips = append(ips, ip)
			}
			return
		}
		if !slices.Contains(names, host) {
			names = append(names, host)
		}
	}
	for _, n := range s.cfg.ServerNames {
		add(n)
	}
	// Agents dial the advertised bridge addresses, so their hosts must be
	// in the certificate as well.
	dialled := append([]string{s.cfg.APIListen, s.cfg.AgentListen, s.cfg.BridgeListen}, s.cfg.AdvertiseBridge...)
	for _, addr := range dialled {
		host, _, err := net.SplitHostPort(addr)
		if err == nil {
			add(host)
		}
	}
	if len(names) == 0 && len(ips) == 0 {
		add("localhost")
		add("127.0.0.1")
		add("::1")
	}
	if hostname, err := os.Hostname(); err == nil {
		add(hostname)
	}
	return s.ca.IssueServerCertificate(names, ips, serverCertLifetime)
}

func (s *Server) bridgeAddresses() []string {
	if len(s.cfg.AdvertiseBridge) > 0 {
		return s.cfg.AdvertiseBridge
	}
	return []string{s.bridge.Addr().String()}
}

// AdminPassword returns the admin password created by this start, or false
// when the admin user already existed.
func (s *Server) AdminPassword() (string, bool) {
	return s.adminPassword, s.adminPassword != ""
}

// Endpoints returns the addresses the control plane serves.
func (s *Server) Endpoints() endpoints.Endpoints {
	scheme := "https"
	if s.cfg.PlainHTTP {
		scheme = "http"
	}
	api := scheme + "://" + s.apiListener.Addr().String()
	ep := endpoints.Endpoints{
		API:       api,
		Dashboard: api + "/",
		Enroll:    "https://" + s.agentListener.Addr().String(),
		Bridge:    s.bridge.Addr().String(),
	}
	if s.metricsListener != nil {
		ep.Metrics = "http://" + s.metricsListener.Addr().String() + "/metrics"
	}
	return ep
}

// CA returns the control plane's certificate authority.
func (s *Server) CA() *pki.CA { return s.ca }

// CreateToken creates a bootstrap token through this server's store.
func (s *Server) CreateToken(ctx context.Context, name string, ttl time.Duration) (IssuedToken, error) {
	return CreateToken(ctx, s.store, s.ca, name, ttl, s.cfg.Now())
}

// Run serves until ctx ends, then shuts every listener down.
func (s *Server) Run(ctx context.Context) error {
	defer s.closeAll()

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.bridge.Run(ctx) })
	g.Go(func() error { return s.fleet.watchRevocations(ctx) })
	s.runShared(ctx, g)
	g.Go(func() error { return s.retention.Run(ctx) })
	g.Go(func() error { return s.live.Run(ctx) })
	g.Go(func() error { return s.statuses.watch(ctx) })
	g.Go(func() error { return s.notifier.Run(ctx) })
	g.Go(func() error { return s.webhooks.Run(ctx) })
	g.Go(func() error { return s.intel.Run(ctx) })
	g.Go(func() error { return s.exporter.Run(ctx) })
	g.Go(func() error { return s.techniques.Run(ctx) })
	g.Go(func() error { return s.identities.Run(ctx) })
	g.Go(func() error { return s.campaigns.Run(ctx) })
	g.Go(func() error { return serveHTTP(ctx, s.agentServer, s.agentListener, true) })
	g.Go(func() error { return serveHTTP(ctx, s.apiServer, s.apiListener, !s.cfg.PlainHTTP) })
	if s.metricsListener != nil {
		g.Go(func() error { return serveHTTP(ctx, s.metricsServer, s.metricsListener, false) })
	}

	s.log.Info().
		Str("api", s.apiListener.Addr().String()).
		Str("enroll", s.agentListener.Addr().String()).
		Str("bridge", s.bridge.Addr().String()).
		Msg("control plane started")
	err := g.Wait()
	s.log.Info().Msg("control plane stopped")
	return err
}

func serveHTTP(ctx context.Context, srv *http.Server, ln net.Listener, useTLS bool) error {
	errc := make(chan error, 1)
	go func() {
		var err error
		if useTLS {
			err = srv.ServeTLS(ln, "", "")
		} else {
			err = srv.Serve(ln)
		}
		errc <- err
	}()

	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}

	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
	}
	// Serve returns http.ErrServerClosed as soon as Shutdown or Close starts.
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve http: %w", err)
	}
	return nil
}

// closeAll releases what New acquired. It is safe to call more than once.
func (s *Server) closeAll() {
	if s.apiListener != nil {
		_ = s.apiListener.Close()
	}
	if s.agentListener != nil {
		_ = s.agentListener.Close()
	}
	if s.metricsListener != nil {
		_ = s.metricsListener.Close()
	}
	if s.store != nil {
		_ = s.store.Close()
		s.store = nil
	}
	s.closeShared()
}

func requireLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("invalid listen address %q: %w", addr, err)
	}
	ip := net.ParseIP(host)
	if host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return fmt.Errorf("listen address %q is not loopback: serve TLS instead", addr)
}

// presence tracks which agents hold a bridge connection and records when
// each was last seen.
type presence struct {
	store interface {
		TouchAgent(ctx context.Context, id, version string, seen time.Time) error
	}
	now func() time.Time
	log zerolog.Logger

	mu    sync.Mutex
	conns map[string]int
}

func newPresence(st store.Store, now func() time.Time, log zerolog.Logger) *presence {
	return &presence{store: st, now: now, log: log, conns: make(map[string]int)}
}

func (p *presence) connected(agentID string, hello *bridgev1.Hello) {
	p.mu.Lock()
	p.conns[agentID]++
	p.mu.Unlock()

	if err := p.store.TouchAgent(context.Background(), agentID, hello.GetVersion(), p.now()); err != nil {
		p.log.Warn().Err(err).Str("agent_id", agentID).Msg("record agent connection failed")
	}
}

func (p *presence) disconnected(agentID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns[agentID] <= 1 {
		delete(p.conns, agentID)
		return
	}
	p.conns[agentID]--
}

// Connected reports whether the agent holds a bridge connection now.
func (p *presence) Connected(agentID string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.conns[agentID] > 0
}

// requireLoopbackHost rejects requests whose Host header names anything but
// a loopback address or localhost. A plain-HTTP API on loopback is
// otherwise reachable from any web page through DNS rebinding.
func requireLoopbackHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		ip := net.ParseIP(strings.Trim(host, "[]"))
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			http.Error(w, "host not allowed: use a loopback address or localhost", http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}
