// Package api serves the control plane's Connect-RPC services (gRPC,
// gRPC-Web and Connect over HTTP) with their session checks and the health
// endpoints.
package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/auth"
	"github.com/decnet/decnet/controlplane/export"
	"github.com/decnet/decnet/controlplane/fanout"
	"github.com/decnet/decnet/controlplane/intel"
	"github.com/decnet/decnet/controlplane/livesettings"
	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/controlplane/ticket"
	"github.com/decnet/decnet/controlplane/topics"
	"github.com/decnet/decnet/controlplane/webhooks"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

// maxRequestBytes bounds a request message. API requests are a few
// filters and a page token, so 1 MiB leaves a wide margin.
const maxRequestBytes = 1 << 20

// liveLoadTimeout bounds the first read of the stored settings overrides.
const liveLoadTimeout = 10 * time.Second

// Presence reports which agents have a live bridge connection.
type Presence interface {
	Connected(agentID string) bool
}

// Config holds the dependencies and settings of the API.
type Config struct {
	Store store.Store
	// Hub feeds StreamEvents.
	Hub fanout.Broker
	// Presence fills Agent.connected. Optional; nil reports every agent
	// as disconnected.
	Presence Presence
	// OnDecommission, if set, is called after DecommissionAgent revoked an
	// agent, to close its live connection at once.
	OnDecommission func(agentID string)
	// Statuses fills the status and heartbeat fields of Agent. Optional;
	// nil reports every agent as offline.
	Statuses AgentStatuses
	// PushConfig, if set, is called after SetAgentConfig stored a new
	// desired configuration, to push it to the agent at once.
	PushConfig func(ctx context.Context, agentID string) error
	// Tokens, if set, serves the TokenService.
	Tokens *TokenServiceConfig
	// Secure marks the session cookie Secure; set it when the API is
	// served over TLS.
	Secure bool
	Logger zerolog.Logger
	// Now is the clock for sessions. Default time.Now.
	Now func() time.Time
	// Auth checks logins and sessions. Optional; nil builds one on Store
	// with the defaults of auth.Config.
	Auth *auth.Authenticator
	// RequireAdminTOTP is passed to the authenticator the API builds when
	// Auth is nil.
	RequireAdminTOTP bool
	// Webhooks serves WebhookService; nil answers that webhooks are off.
	Webhooks *webhooks.Dispatcher
	// Intel looks up attackers' addresses for IntelService; nil reports
	// that no provider is configured.
	Intel *intel.Enricher
	// Tickets stores live stream tickets; nil keeps them in process, which
	// serves one replica.
	Tickets ticket.Store
	// StreamsPerUser caps one user's open live streams; 0 means
	// DefaultStreamsPerUser.
	StreamsPerUser int
	// Identities answers IdentityService; nil finds none.
	Identities Identities
	// Campaigns answers CampaignService; nil finds none.
	Campaigns Campaigns
	// Notices feeds NoticeService; nil answers that none are published.
	Notices *topics.Publisher[*apiv1.Notice]
	// SingleSignOnPath is the path that starts single sign-on, reported
	// to login pages; empty when it is off.
	SingleSignOnPath string
	// Settings is what SettingsService returns.
	Settings Settings
	// Live contains the settings an admin may change at runtime. Nil
	// builds one on Store with RequireAdminTOTP, StreamsPerUser and the
	// retention and webhook values of Settings as defaults. That one
	// applies the stored overrides at New and this replica's updates but
	// never reloads, so it suits a single replica only.
	Live *livesettings.Settings
	// Ready, if set, checks what this process needs beyond its store to
	// serve (Redis when replicas share state). While it fails, GET
	// /healthz returns 503 and the gRPC health service NOT_SERVING.
	Ready func(ctx context.Context) error
	// Exporter serves ExportService with its outputs; nil lists none.
	Exporter *export.Exporter
}

// API holds the service handlers and the mux that serves them.
type API struct {
	store store.Store
	// overviews shares overview reads among dashboards.
	overviews overviewCache
	hub       fanout.Broker
	presence  Presence
	// onDecommission is never nil.
	onDecommission func(agentID string)
	statuses       AgentStatuses
	pushConfig     func(ctx context.Context, agentID string) error // never nil
	tokens         *TokenServiceConfig
	secure         bool
	log            zerolog.Logger
	now            func() time.Time
	webhooks       *webhooks.Dispatcher
	intel          *intel.Enricher
	tickets        ticket.Store
	identities     Identities
	campaigns      Campaigns
	ssoPath        string
	notices        *topics.Publisher[*apiv1.Notice]
	settings       Settings
	ready          func(ctx context.Context) error
	exporter       *export.Exporter
	live           *livesettings.Settings
	streams        *streamCounter
	auth           *auth.Authenticator
	mux            *http.ServeMux
}

// New builds the API and its mux.
func New(cfg Config) (*API, error) {
	if cfg.Store == nil {
		return nil, errors.New("new api: nil store")
	}
	if cfg.Hub == nil {
		return nil, errors.New("new api: nil fan-out hub")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Tickets == nil {
		cfg.Tickets = ticket.NewMemory(ticket.MemoryConfig{Now: cfg.Now})
	}
	if cfg.StreamsPerUser <= 0 {
		cfg.StreamsPerUser = DefaultStreamsPerUser
	}
	log := cfg.Logger.With().Str("component", "api").Logger()

	live := cfg.Live
	if live == nil {
		var err error
		if live, err = defaultLive(cfg); err != nil {
			return nil, err
		}
	}
	authn := cfg.Auth
	if authn == nil {
		var err error
		authn, err = auth.New(auth.Config{Store: cfg.Store, Logger: cfg.Logger, Now: cfg.Now, RequireAdminTOTPFunc: live.RequireAdminTOTP})
		if err != nil {
			return nil, err
		}
	}

	onDecommission := cfg.OnDecommission
	if onDecommission == nil {
		onDecommission = func(string) {}
	}
	pushConfig := cfg.PushConfig
	if pushConfig == nil {
		pushConfig = func(context.Context, string) error { return nil }
	}
	a := &API{
		store:          cfg.Store,
		hub:            cfg.Hub,
		presence:       cfg.Presence,
		onDecommission: onDecommission,
		statuses:       cfg.Statuses,
		pushConfig:     pushConfig,
		tokens:         cfg.Tokens,
		secure:         cfg.Secure,
		log:            log,
		now:            cfg.Now,
		webhooks:       cfg.Webhooks,
		intel:          cfg.Intel,
		tickets:        cfg.Tickets,
		identities:     cfg.Identities,
		campaigns:      cfg.Campaigns,
		ssoPath:        cfg.SingleSignOnPath,
		notices:        cfg.Notices,
		settings:       cfg.Settings,
		ready:          cfg.Ready,
		exporter:       cfg.Exporter,
		live:           live,
		streams:        &streamCounter{max: live.StreamsPerUser, count: map[string]int{}},
		auth:           authn,
		mux:            http.NewServeMux(),
	}
	a.mount()
	return a, nil
}

// defaultLive builds the runtime settings of an API given none.
func defaultLive(cfg Config) (*livesettings.Settings, error) {
	live, err := livesettings.New(livesettings.Config{
		Store: cfg.Store,
		Defaults: livesettings.Values{
			Retention:        cfg.Settings.Retention,
			RequireAdminTOTP: cfg.RequireAdminTOTP,
			StreamsPerUser:   cfg.StreamsPerUser,
			WebhookAllowHTTP: cfg.Settings.WebhookAllowHTTP,
			WebhookAllow:     cfg.Settings.WebhookAllow,
		},
		Logger: cfg.Logger,
		Now:    cfg.Now,
	})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), liveLoadTimeout)
	defer cancel()
	if err := live.Load(ctx); err != nil {
		return nil, err
	}
	return live, nil
}

func (a *API) mount() {
	opts := []connect.HandlerOption{
		// The audit interceptor runs inside the auth one, so it sees the
		// caller's session.
		connect.WithInterceptors(a.auth.Interceptor(), auditInterceptor{a}),
		connect.WithReadMaxBytes(maxRequestBytes),
		strictJSONCodecs(),
	}
	a.mux.Handle(noStore(apiv1connect.NewAuthServiceHandler(&authService{a}, opts...)))
	a.mux.Handle(noStore(apiv1connect.NewEventServiceHandler(&eventService{a}, opts...)))
	a.mux.Handle(noStore(apiv1connect.NewAttackerServiceHandler(&attackerService{a}, opts...)))
	a.mux.Handle(noStore(apiv1connect.NewCredentialServiceHandler(&credentialService{a}, opts...)))
	a.mux.Handle(noStore(apiv1connect.NewAgentServiceHandler(&agentService{a}, opts...)))
	a.mux.Handle(noStore(apiv1connect.NewSessionServiceHandler(&sessionService{a}, opts...)))
	a.mux.Handle(noStore(apiv1connect.NewUserServiceHandler(&userService{a}, opts...)))
	a.mux.Handle(noStore(apiv1connect.NewAuditServiceHandler(&auditService{a}, opts...)))
	a.mux.Handle(noStore(apiv1connect.NewApiTokenServiceHandler(&apiTokenService{a}, opts...)))
	a.mux.Handle(noStore(apiv1connect.NewWebhookServiceHandler(&webhookService{a}, opts...)))
	a.mux.Handle(noStore(apiv1connect.NewIntelServiceHandler(&intelService{a}, opts...)))
	a.mux.Handle(noStore(apiv1connect.NewIdentityServiceHandler(&identityService{a}, opts...)))
	a.mux.Handle(noStore(apiv1connect.NewCampaignServiceHandler(&campaignService{a}, opts...)))
	a.mux.Handle(noStore(apiv1connect.NewAnnotationServiceHandler(&annotationService{a}, opts...)))
	a.mux.Handle(noStore(apiv1connect.NewNoticeServiceHandler(&noticeService{a}, opts...)))
	a.mux.Handle(noStore(apiv1connect.NewSettingsServiceHandler(&settingsService{a}, opts...)))
	a.mux.Handle(noStore(apiv1connect.NewExportServiceHandler(&exportOutputService{a}, opts...)))
	services := []string{
		apiv1connect.AuthServiceName,
		apiv1connect.EventServiceName,
		apiv1connect.AttackerServiceName,
		apiv1connect.CredentialServiceName,
		apiv1connect.AgentServiceName,
		apiv1connect.SessionServiceName,
		apiv1connect.UserServiceName,
		apiv1connect.AuditServiceName,
		apiv1connect.ApiTokenServiceName,
		apiv1connect.WebhookServiceName,
		apiv1connect.IntelServiceName,
		apiv1connect.IdentityServiceName,
		apiv1connect.CampaignServiceName,
		apiv1connect.AnnotationServiceName,
		apiv1connect.NoticeServiceName,
		apiv1connect.SettingsServiceName,
		apiv1connect.ExportServiceName,
	}
	if a.tokens != nil {
		a.mux.Handle(noStore(apiv1connect.NewTokenServiceHandler(&tokenService{a}, opts...)))
		services = append(services, apiv1connect.TokenServiceName)
	}

	// The health procedures go through the same interceptors, whose access
	// rules make them public, so that load balancers and orchestrators
	// probe without a session.
	ready := &readiness{store: a.store, ready: a.ready, services: map[string]bool{}, log: a.log}
	for _, name := range services {
		ready.services[name] = true
	}
	healthOpts := slices.Concat(opts, []connect.HandlerOption{connect.WithIdempotency(connect.IdempotencyNoSideEffects)})
	a.mux.Handle(grpchealth.NewHandler(ready, healthOpts...))
	a.mux.HandleFunc("GET /healthz", ready.serveHealthz)
	a.mux.HandleFunc("GET "+StreamPath, a.serveTicketStream)
}

// noStore wraps a Connect service's handler so that no response of the
// API is kept by a browser or proxy cache: replies carry session tokens,
// captured credentials and attacker records. nosniff keeps a browser from
// reading a JSON reply as anything else.
func noStore(path string, h http.Handler) (string, http.Handler) {
	return path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

// Handler returns the mux with every service, the gRPC health service and
// GET /healthz, both of which report readiness. Serve it over HTTP/2 (TLS,
// or h2c on loopback) for gRPC clients; Connect and gRPC-Web clients also
// work over HTTP/1.1.
func (a *API) Handler() http.Handler {
	return a.mux
}

// Handle mounts h on the API's mux, for handlers that share the listener
// such as the dashboard or enrollment. Wrap h with Authenticator().Middleware
// when it needs a session.
func (a *API) Handle(pattern string, h http.Handler) {
	a.mux.Handle(pattern, h)
}

// Authenticator returns the session checker the API uses.
func (a *API) Authenticator() *auth.Authenticator {
	return a.auth
}
