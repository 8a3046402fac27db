package api

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/decnet/decnet/controlplane/livesettings"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

// Settings is the control plane's effective configuration that
// GetSettings returns. It has no field for a secret such as the database
// or Redis URL, the OIDC client secret, provider keys or export
// credentials. The caller strips credentials from the values it copies
// in, such as export URLs.
type Settings struct {
	Version string
	// Postgres is true for a PostgreSQL store, false for SQLite.
	Postgres bool
	DataDir  string
	// Redis is true when replicas share a Redis server.
	Redis bool
	// Retention is how long raw events are kept; zero keeps them forever.
	Retention time.Duration

	// Addresses this replica listens on; MetricsListen is empty when
	// /metrics is disabled.
	APIListen     string
	EnrollListen  string
	BridgeListen  string
	MetricsListen string

	RequireAdminTOTP bool
	// OIDC fields are empty when single sign-on is off.
	OIDCIssuer      string
	OIDCClientID    string
	OIDCRedirectURL string

	// IntelProviders names the enabled threat-intel providers.
	IntelProviders       []string
	GeoIPLocation        string
	GeoIPASN             string
	IntelLookupNonPublic bool

	ExportTargets []ExportTarget
	ExportAllow   []netip.Prefix

	WebhookAllow     []netip.Prefix
	WebhookAllowHTTP bool

	// AttackRules is the ATT&CK rules file; empty for the embedded rules.
	AttackRules string
}

// ExportTarget is one SIEM output. Address is a host:port, a file path or
// a URL without user information or query.
type ExportTarget struct {
	Name    string
	Kind    string
	Address string
	Topics  []string
}

type settingsService struct{ *API }

var _ apiv1connect.SettingsServiceHandler = (*settingsService)(nil)

// GetSettings returns the settings the API was built with, with the
// runtime values as they are now.
func (s *settingsService) GetSettings(context.Context, *connect.Request[apiv1.GetSettingsRequest]) (*connect.Response[apiv1.GetSettingsResponse], error) {
	return connect.NewResponse(&apiv1.GetSettingsResponse{Settings: s.settingsMessage()}), nil
}

// UpdateSettings changes the runtime values the request carries.
func (s *settingsService) UpdateSettings(ctx context.Context, req *connect.Request[apiv1.UpdateSettingsRequest]) (*connect.Response[apiv1.UpdateSettingsResponse], error) {
	change, err := settingsChange(req.Msg)
	if err == nil {
		err = s.live.Update(ctx, change)
	}
	if errors.Is(err, livesettings.ErrInvalid) {
		return nil, connect.NewError(connect.CodeInvalidArgument, err)
	}
	if err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	return connect.NewResponse(&apiv1.UpdateSettingsResponse{Settings: s.settingsMessage()}), nil
}

// runtimeFields maps the API's names of runtime values to the package's.
var runtimeFields = map[apiv1.RuntimeSetting]livesettings.Field{
	apiv1.RuntimeSetting_RUNTIME_SETTING_RETENTION:             livesettings.FieldRetention,
	apiv1.RuntimeSetting_RUNTIME_SETTING_REQUIRE_ADMIN_TOTP:    livesettings.FieldRequireAdminTOTP,
	apiv1.RuntimeSetting_RUNTIME_SETTING_STREAMS_PER_USER:      livesettings.FieldStreamsPerUser,
	apiv1.RuntimeSetting_RUNTIME_SETTING_WEBHOOK_ALLOW_HTTP:    livesettings.FieldWebhookAllowHTTP,
	apiv1.RuntimeSetting_RUNTIME_SETTING_WEBHOOK_ALLOWED_CIDRS: livesettings.FieldWebhookAllow,
}

// settingsChange converts a request, checking what the package cannot:
// durations that do not convert and unknown enum values.
func settingsChange(msg *apiv1.UpdateSettingsRequest) (livesettings.Change, error) {
	var c livesettings.Change
	if d := msg.GetRetentionEvents(); d != nil {
		if err := d.CheckValid(); err != nil {
			return c, fmt.Errorf("%w: retention: %w", livesettings.ErrInvalid, err)
		}
		v := d.AsDuration()
		c.Retention = &v
	}
	if msg.RequireAdminTotp != nil {
		v := msg.GetRequireAdminTotp()
		c.RequireAdminTOTP = &v
	}
	if msg.StreamsPerUser != nil {
		// Clamped above the maximum so the conversion cannot overflow and
		// validation still refuses it.
		v := int(min(msg.GetStreamsPerUser(), livesettings.MaxStreamsPerUser+1))
		c.StreamsPerUser = &v
	}
	if msg.WebhookAllowHttp != nil {
		v := msg.GetWebhookAllowHttp()
		c.WebhookAllowHTTP = &v
	}
	if list := msg.GetWebhookAllowedCidrs(); list != nil {
		prefixes, err := livesettings.ParsePrefixes(list.GetCidrs())
		if err != nil {
			return c, err
		}
		c.WebhookAllow = &prefixes
	}
	for _, r := range msg.GetRestoreDefaults() {
		f, ok := runtimeFields[r]
		if !ok {
			return c, fmt.Errorf("%w: cannot reset %v", livesettings.ErrInvalid, r)
		}
		c.Reset = append(c.Reset, f)
	}
	return c, nil
}

func (s *settingsService) settingsMessage() *apiv1.Settings {
	cfg := s.settings
	live := s.live.Values()
	cfg.Retention = live.Retention
	cfg.RequireAdminTOTP = live.RequireAdminTOTP
	cfg.WebhookAllow = live.WebhookAllow
	cfg.WebhookAllowHTTP = live.WebhookAllowHTTP
	var overridden []apiv1.RuntimeSetting
	for _, f := range s.live.Overridden() {
		for name, field := range runtimeFields {
			if field == f {
				overridden = append(overridden, name)
			}
		}
	}
	kind := apiv1.StorageKind_STORAGE_KIND_SQLITE
	if cfg.Postgres {
		kind = apiv1.StorageKind_STORAGE_KIND_POSTGRES
	}
	targets := make([]*apiv1.SettingsExportTarget, 0, len(cfg.ExportTargets))
	for _, t := range cfg.ExportTargets {
		targets = append(targets, &apiv1.SettingsExportTarget{Name: t.Name, Kind: t.Kind, Address: t.Address, Topics: t.Topics})
	}

	return &apiv1.Settings{
		Version:   cfg.Version,
		Storage:   &apiv1.SettingsStorage{Kind: kind, DataDir: cfg.DataDir, Redis: cfg.Redis},
		Retention: &apiv1.SettingsRetention{Events: durationpb.New(cfg.Retention)},
		Listen: &apiv1.SettingsListen{
			Api:     cfg.APIListen,
			Enroll:  cfg.EnrollListen,
			Bridge:  cfg.BridgeListen,
			Metrics: cfg.MetricsListen,
		},
		Auth: &apiv1.SettingsAuth{
			RequireAdminTotp: cfg.RequireAdminTOTP,
			OidcIssuer:       cfg.OIDCIssuer,
			OidcClientId:     cfg.OIDCClientID,
			OidcRedirectUrl:  cfg.OIDCRedirectURL,
		},
		Intel: &apiv1.SettingsIntel{
			Providers:       cfg.IntelProviders,
			GeoipLocation:   cfg.GeoIPLocation,
			GeoipAsn:        cfg.GeoIPASN,
			LookupNonPublic: cfg.IntelLookupNonPublic,
		},
		Export:          &apiv1.SettingsExport{Targets: targets, AllowedCidrs: prefixStrings(cfg.ExportAllow)},
		Webhooks:        &apiv1.SettingsWebhooks{AllowedCidrs: prefixStrings(cfg.WebhookAllow), AllowHttp: cfg.WebhookAllowHTTP},
		StreamsPerUser:  uint32(live.StreamsPerUser), //nolint:gosec // positive and capped by the live settings
		AttackRulesPath: cfg.AttackRules,
		Overridden:      overridden,
	}
}

func prefixStrings(prefixes []netip.Prefix) []string {
	out := make([]string, len(prefixes))
	for i, p := range prefixes {
		out[i] = p.String()
	}
	return out
}
