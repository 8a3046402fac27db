package controlplane

import (
	"context"
	"net/url"

	"github.com/decnet/decnet/controlplane/api"
	"github.com/decnet/decnet/controlplane/export"
	"github.com/decnet/decnet/controlplane/livesettings"
)

// listenAddresses are the addresses a replica bound, ports included.
type listenAddresses struct {
	api, enroll, bridge, metrics string
}

// loadLiveSettings builds the runtime settings from the flags and applies
// the overrides stored by admins. Call it after the store is open.
func (s *Server) loadLiveSettings(ctx context.Context) error {
	live, err := livesettings.New(livesettings.Config{
		Store: s.store,
		Defaults: livesettings.Values{
			Retention:        s.cfg.Retention,
			RequireAdminTOTP: s.cfg.RequireAdminTOTP,
			StreamsPerUser:   api.DefaultStreamsPerUser,
			WebhookAllowHTTP: s.cfg.WebhookAllowHTTP,
			WebhookAllow:     s.cfg.WebhookAllow,
		},
		Logger: s.cfg.Logger,
		Now:    s.cfg.Now,
	})
	if err != nil {
		return err
	}
	if err := live.Load(ctx); err != nil {
		return err
	}
	s.live = live
	return nil
}

// apiSettings returns the configuration SettingsService shows. Call it
// after listen and after the bridge and the enricher are built.
func (s *Server) apiSettings() api.Settings {
	addrs := listenAddresses{
		api:    s.apiListener.Addr().String(),
		enroll: s.agentListener.Addr().String(),
		bridge: s.bridge.Addr().String(),
	}
	if s.metricsListener != nil {
		addrs.metrics = s.metricsListener.Addr().String()
	}
	return settingsOf(s.cfg, addrs, s.intel.ProviderNames())
}

// settingsOf copies the non-secret values of cfg. The store and Redis
// URLs become booleans, the OIDC client secret and provider keys are left
// out, and export URLs lose their user information and query.
func settingsOf(cfg Config, addrs listenAddresses, intelProviders []string) api.Settings {
	return api.Settings{
		Version:   cfg.Version,
		Postgres:  cfg.DatabaseURL != "",
		DataDir:   cfg.DataDir,
		Redis:     cfg.RedisURL != "",
		Retention: cfg.Retention,

		APIListen:     addrs.api,
		EnrollListen:  addrs.enroll,
		BridgeListen:  addrs.bridge,
		MetricsListen: addrs.metrics,

		RequireAdminTOTP: cfg.RequireAdminTOTP,
		OIDCIssuer:       cfg.OIDC.Issuer,
		OIDCClientID:     cfg.OIDC.ClientID,
		OIDCRedirectURL:  cfg.OIDC.RedirectURL,

		IntelProviders:       intelProviders,
		GeoIPLocation:        cfg.Intel.GeoIPLocation,
		GeoIPASN:             cfg.Intel.GeoIPASN,
		IntelLookupNonPublic: cfg.Intel.LookupNonPublic,

		ExportTargets: exportTargets(cfg.Export),
		ExportAllow:   cfg.ExportAllow,

		WebhookAllow:     cfg.WebhookAllow,
		WebhookAllowHTTP: cfg.WebhookAllowHTTP,

		AttackRules: cfg.AttackRules,
	}
}

// exportTargets describes each output by kind and destination, leaving
// out its token, API key and password.
func exportTargets(outputs []export.OutputConfig) []api.ExportTarget {
	targets := make([]api.ExportTarget, 0, len(outputs))
	for _, o := range outputs {
		t := api.ExportTarget{Name: o.Name, Topics: o.Topics}
		switch {
		case o.Syslog != nil:
			t.Kind, t.Address = "syslog", o.Syslog.Address
		case o.Lines != nil && o.Lines.Path != "":
			t.Kind, t.Address = "lines", o.Lines.Path
		case o.Lines != nil:
			t.Kind, t.Address = "lines", o.Lines.Address
		case o.Splunk != nil:
			t.Kind, t.Address = "splunk", urlWithoutCredentials(o.Splunk.URL)
		case o.Elastic != nil:
			t.Kind, t.Address = "elasticsearch", urlWithoutCredentials(o.Elastic.URL)
		default:
			t.Kind = "unknown"
		}
		targets = append(targets, t)
	}
	return targets
}

// urlWithoutCredentials returns scheme, host and path of raw. User
// information, query and fragment may carry a token, so they are dropped;
// an unparseable URL is replaced as a whole for the same reason.
func urlWithoutCredentials(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	clean := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	return clean.String()
}
