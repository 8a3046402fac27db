package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/decnet/decnet/controlplane"
	"github.com/decnet/decnet/controlplane/auth"
	"github.com/decnet/decnet/controlplane/auth/oidc"
	"github.com/decnet/decnet/controlplane/export"
	"github.com/decnet/decnet/controlplane/intel"
	"github.com/decnet/decnet/internal/endpoints"
	"github.com/decnet/decnet/ui"
)

func runServer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("decnet server", stderr)
	var (
		logs            logFlags
		serverNames     listFlag
		advertiseBridge listFlag
	)
	dataDir := fs.String("data-dir", "/var/lib/decnet", "directory for the store, the CA and endpoints.json")
	apiListen := fs.String("api-listen", "0.0.0.0:8443", "TCP address of the API and dashboard (TLS)")
	agentListen := fs.String("agent-listen", "0.0.0.0:8444", "TCP address of the enrollment endpoint (TLS)")
	bridgeListen := fs.String("bridge-listen", "0.0.0.0:8444", "UDP address of the QUIC bridge")
	metricsListen := fs.String("metrics-listen", "127.0.0.1:9464", "TCP address of the Prometheus /metrics endpoint (no authentication); empty disables it")
	caDir := fs.String("ca-dir", "", "directory of the CA (default <data-dir>/ca); every replica of a deployment uses the same CA")
	var storeURL, redisURL secretURL
	fs.Var(&storeURL, "store", "sqlite, postgres or a postgres:// URL; postgres reads the URL from $DECNET_DATABASE_URL or --database-url-file (default: postgres when either is set, else sqlite in --data-dir)")
	databaseURLFile := fs.String("database-url-file", "", "file holding the PostgreSQL URL, which may carry a password")
	fs.Var(&redisURL, "redis-url", "redis:// URL of the Redis server that several replicas on one database share")
	certLifetime := fs.Duration("agent-cert-lifetime", controlplane.DefaultAgentCertLifetime, "validity of agent certificates")
	fs.Var(&serverNames, "server-name", "DNS name or IP address clients dial, for the server certificate (repeatable)")
	fs.Var(&advertiseBridge, "advertise-bridge", "bridge host:port given to enrolling agents (repeatable; default: the bridge listener)")
	var webhookAllow prefixList
	fs.Var(&webhookAllow, "webhook-allow-cidr", "private network webhooks may reach, such as 10.20.0.0/16 for an internal SIEM (repeatable); other private, loopback and metadata addresses are always refused")
	webhookAllowHTTP := fs.Bool("webhook-allow-http", false, "accept http:// webhook URLs (https only otherwise)")
	var intelCfg controlplane.IntelConfig
	fs.BoolVar(&intelCfg.GreyNoise, "intel-greynoise", false, "look attackers up in the GreyNoise community API (key, optional, from DECNET_INTEL_GREYNOISE_KEY)")
	fs.BoolVar(&intelCfg.Feodo, "intel-feodo", false, "download the abuse.ch Feodo Tracker botnet C2 list")
	fs.BoolVar(&intelCfg.DROP, "intel-drop", false, "download the Spamhaus DROP list")
	fs.StringVar(&intelCfg.GeoIPLocation, "intel-geoip-location", "", "MaxMind-format country or city database file")
	fs.StringVar(&intelCfg.GeoIPASN, "intel-geoip-asn", "", "MaxMind-format ASN database file")
	fs.BoolVar(&intelCfg.RDNS, "intel-rdns", false, "look up the reverse DNS (PTR) name of attackers; the query reaches the attacker's reverse zone")
	fs.StringVar(&intelCfg.RDNSServer, "intel-rdns-server", "", "send the reverse DNS queries to this IP:port only (default the system resolver)")
	fs.BoolVar(&intelCfg.RDNSForwardConfirm, "intel-rdns-forward-confirm", false, "also check that the PTR name resolves back to the address, through the same resolver")
	fs.BoolVar(&intelCfg.LookupNonPublic, "intel-lookup-non-public", false, "also send private and loopback attacker addresses to the providers")
	var ssoCfg oidc.Config
	fs.StringVar(&ssoCfg.Issuer, "oidc-issuer", "", "OpenID Connect issuer URL; enables single sign-on (client secret from DECNET_OIDC_CLIENT_SECRET)")
	fs.StringVar(&ssoCfg.ClientID, "oidc-client-id", "", "OpenID Connect client id")
	fs.StringVar(&ssoCfg.RedirectURL, "oidc-redirect-url", "", "redirect URL registered at the provider: https://<dashboard>/auth/oidc/callback")
	fs.StringVar(&ssoCfg.RoleClaim, "oidc-role-claim", "groups", "ID token claim carrying groups or roles (dotted for nested claims)")
	ssoRoleMap := fs.String("oidc-role-map", "", "claim values to roles, such as soc-admins=admin,soc-analysts=analyst")
	fs.StringVar(&ssoCfg.DefaultRole, "oidc-default-role", "", "role of users matching no mapped value (viewer, analyst or admin); empty refuses them")
	fs.StringVar(&ssoCfg.UsernameClaim, "oidc-username-claim", "preferred_username", "claim used as the DECNET user name")
	ssoDomains := fs.String("oidc-allowed-email-domains", "", "comma-separated email domains allowed to sign in; empty allows any")
	attackRules := fs.String("attack-rules", "", "YAML file of ATT&CK tagging rules, reloaded when it changes (default: the embedded rules; see controlplane/attack/README.md)")
	exportConfig := fs.String("export-config", "", "YAML file of SIEM outputs (syslog, CEF, ECS JSON lines, Splunk HEC, Elasticsearch); see docs/deployment.md")
	requireAdminTOTP := fs.Bool("require-admin-totp", false, "make every admin enroll a TOTP authenticator app before doing anything else")
	retentionPeriod := fs.Duration("retention", 0, "keep raw events this long by event time (such as 720h) and prune older ones hourly; 0 keeps them forever")
	logs.register(fs)
	// Provider keys come from the environment only; AbuseIPDB and
	// ThreatFox are enabled by their key.
	intelCfg.GreyNoiseKey = intel.Secret(os.Getenv("DECNET_INTEL_GREYNOISE_KEY"))
	intelCfg.AbuseIPDBKey = intel.Secret(os.Getenv("DECNET_INTEL_ABUSEIPDB_KEY"))
	intelCfg.ThreatFoxKey = intel.Secret(os.Getenv("DECNET_INTEL_THREATFOX_KEY"))
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if ssoCfg.Issuer != "" {
		ssoCfg.ClientSecret = auth.Secret(os.Getenv("DECNET_OIDC_CLIENT_SECRET"))
		var err error
		if ssoCfg.RoleMap, err = oidc.ParseRoleMap(*ssoRoleMap); err != nil {
			return fmt.Errorf("server: --oidc-role-map: %w", err)
		}
		if *ssoDomains != "" {
			ssoCfg.AllowedEmailDomains = strings.Split(*ssoDomains, ",")
		}
	}
	var (
		exportOutputs []export.OutputConfig
		exportAllow   []netip.Prefix
	)
	if *exportConfig != "" {
		var err error
		if exportOutputs, exportAllow, err = export.LoadFile(*exportConfig); err != nil {
			return fmt.Errorf("server: %w", err)
		}
	}
	if *retentionPeriod < 0 {
		return fmt.Errorf("server: invalid --retention %v: want 0 or more: %w", *retentionPeriod, errUsage)
	}
	log, err := logs.logger(stderr)
	if err != nil {
		return err
	}
	databaseURL, err := resolveDatabaseURL(storeURL.value, *databaseURLFile, os.Getenv)
	if err != nil {
		return err
	}

	server, err := controlplane.New(ctx, controlplane.Config{
		Version:           version,
		DataDir:           *dataDir,
		APIListen:         *apiListen,
		AgentListen:       *agentListen,
		BridgeListen:      *bridgeListen,
		MetricsListen:     *metricsListen,
		ServerNames:       serverNames,
		AdvertiseBridge:   advertiseBridge,
		AgentCertLifetime: *certLifetime,
		DatabaseURL:       databaseURL,
		RedisURL:          redisURL.value,
		CADir:             *caDir,
		Retention:         *retentionPeriod,
		RequireAdminTOTP:  *requireAdminTOTP,
		WebhookAllow:      webhookAllow,
		WebhookAllowHTTP:  *webhookAllowHTTP,
		Intel:             intelCfg,
		OIDC:              ssoCfg,
		AttackRules:       *attackRules,
		Export:            exportOutputs,
		ExportAllow:       exportAllow,
		UI:                ui.Handler(),
		Logger:            log,
		Registry:          prometheus.NewRegistry(),
		Now:               time.Now,
	})
	if err != nil {
		return err
	}
	if password, ok := server.AdminPassword(); ok {
		fmt.Fprintf(stdout, "Created user admin with password %s (also in %s/admin-password; shown once)\n", password, *dataDir)
	}

	ep := server.Endpoints()
	if err := endpoints.Write(*dataDir, ep); err != nil {
		return err
	}
	defer func() { _ = endpoints.Remove(*dataDir) }()
	fmt.Fprintf(stdout, "Dashboard: %s\nAPI:       %s\nEnroll:    %s\nBridge:    %s (UDP)\nMetrics:   %s\n", ep.Dashboard, ep.API, ep.Enroll, ep.Bridge, ep.Metrics)

	return server.Run(ctx)
}

// databaseURLEnv holds the PostgreSQL URL. It is read directly rather than
// through a flag so that the URL, which may carry a password, appears in
// no flag error and no process list.
const databaseURLEnv = "DECNET_DATABASE_URL"

// resolveDatabaseURL returns the PostgreSQL URL the server should use, or
// "" for SQLite. store is the --store value: "", "sqlite", "postgres" or a
// URL.
func resolveDatabaseURL(store, file string, getenv func(string) string) (string, error) {
	fromEnvOrFile := func() (string, error) {
		if file != "" {
			data, err := os.ReadFile(file)
			if err != nil {
				return "", fmt.Errorf("read database url: %w", err)
			}
			return strings.TrimSpace(string(data)), nil
		}
		return strings.TrimSpace(getenv(databaseURLEnv)), nil
	}

	switch {
	case store == "sqlite":
		return "", nil
	case store == "postgres":
		dsn, err := fromEnvOrFile()
		if err != nil {
			return "", err
		}
		if dsn == "" {
			return "", errors.New("--store postgres needs the URL in $" + databaseURLEnv + " or --database-url-file")
		}
		return dsn, nil
	case store == "":
		return fromEnvOrFile()
	case strings.HasPrefix(store, "postgres://"), strings.HasPrefix(store, "postgresql://"):
		return store, nil
	}
	return "", errors.New("invalid --store: want sqlite, postgres or a postgres:// URL")
}

// secretURL is a flag holding a URL that may carry a password: String
// shows it redacted, so help and flag errors do not print the password.
type secretURL struct{ value string }

func (u *secretURL) Set(v string) error {
	u.value = v
	return nil
}

func (u *secretURL) String() string {
	if u == nil || u.value == "" {
		return ""
	}
	parsed, err := url.Parse(u.value)
	if err != nil || parsed.Scheme == "" {
		// Not a URL: a keyword such as sqlite, or unparseable and shown
		// by scheme only.
		if !strings.Contains(u.value, ":") {
			return u.value
		}
		return "[redacted]"
	}
	return parsed.Redacted()
}

// prefixList is a repeatable CIDR flag; the environment form separates
// prefixes with commas.
type prefixList []netip.Prefix

func (p *prefixList) String() string {
	parts := make([]string, len(*p))
	for i, x := range *p {
		parts[i] = x.String()
	}
	return strings.Join(parts, ",")
}

func (p *prefixList) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		prefix, err := netip.ParsePrefix(strings.TrimSpace(part))
		if err != nil {
			return fmt.Errorf("want a CIDR such as 10.20.0.0/16: %w", err)
		}
		*p = append(*p, prefix.Masked())
	}
	return nil
}
