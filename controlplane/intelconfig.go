package controlplane

import (
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/cache"
	"github.com/decnet/decnet/controlplane/intel"
	"github.com/decnet/decnet/internal/netguard"
)

// IntelConfig selects the threat-intel providers. Keys are DECNET's own
// secrets: the caller reads them from the environment, never from flags.
type IntelConfig struct {
	// GreyNoise asks the GreyNoise community API; the key is optional.
	GreyNoise    bool
	GreyNoiseKey intel.Secret
	// AbuseIPDBKey and ThreatFoxKey enable those providers.
	AbuseIPDBKey intel.Secret
	ThreatFoxKey intel.Secret
	// Feodo and DROP download the abuse.ch Feodo Tracker and Spamhaus
	// DROP lists, which need no key.
	Feodo bool
	DROP  bool
	// GeoIPLocation and GeoIPASN are MaxMind-format database files the
	// operator supplies.
	GeoIPLocation string
	GeoIPASN      string
	// RDNS looks up the PTR name of attacker addresses, through
	// RDNSServer (an IP address and port) when set and the system
	// resolver otherwise. RDNSForwardConfirm also checks that the name
	// leads back to the address.
	RDNS               bool
	RDNSServer         string
	RDNSForwardConfirm bool
	// LookupNonPublic also looks up private and loopback attackers, which
	// otherwise never leave the machine.
	LookupNonPublic bool
}

// newEnricher builds the enricher of cfg; its cache is Redis when replicas
// share one, so a lookup on one replica serves the others.
func newEnricher(cfg IntelConfig, rdb *redis.Client, log zerolog.Logger) (*intel.Enricher, error) {
	httpCfg := intel.HTTPConfig{Guard: &netguard.Guard{}}
	var providers []intel.Provider
	add := func(p intel.Provider, err error) error {
		if err == nil {
			providers = append(providers, p)
		}
		return err
	}
	if cfg.GreyNoise {
		if err := add(intel.NewGreyNoise(intel.GreyNoiseConfig{Key: cfg.GreyNoiseKey, HTTP: httpCfg})); err != nil {
			return nil, err
		}
	}
	if !cfg.AbuseIPDBKey.Empty() {
		if err := add(intel.NewAbuseIPDB(intel.AbuseIPDBConfig{Key: cfg.AbuseIPDBKey, HTTP: httpCfg})); err != nil {
			return nil, err
		}
	}
	if !cfg.ThreatFoxKey.Empty() {
		if err := add(intel.NewThreatFox(intel.ThreatFoxConfig{Key: cfg.ThreatFoxKey, HTTP: httpCfg})); err != nil {
			return nil, err
		}
	}
	if cfg.Feodo {
		if err := add(intel.NewFeodo(intel.FeodoConfig{HTTP: httpCfg})); err != nil {
			return nil, err
		}
	}
	if cfg.DROP {
		if err := add(intel.NewDROP(intel.DROPConfig{HTTP: httpCfg})); err != nil {
			return nil, err
		}
	}
	if cfg.RDNS {
		p, err := newRDNS(cfg)
		if err := add(p, err); err != nil {
			return nil, err
		}
	}
	geo, err := intel.OpenGeoIP(intel.GeoIPConfig{LocationPath: cfg.GeoIPLocation, ASNPath: cfg.GeoIPASN})
	if err != nil {
		return nil, err
	}
	var shared cache.Cache
	if rdb != nil {
		if shared, err = cache.NewRedis(cache.RedisConfig{Client: rdb}); err != nil {
			return nil, err
		}
	}
	return intel.New(intel.Config{Providers: providers, GeoIP: geo, Cache: shared, LookupNonPublic: cfg.LookupNonPublic, Logger: log})
}

func newRDNS(cfg IntelConfig) (*intel.RDNS, error) {
	rc := intel.RDNSConfig{ForwardConfirm: cfg.RDNSForwardConfirm}
	if cfg.RDNSServer != "" {
		r, err := intel.NewPinnedResolver(cfg.RDNSServer)
		if err != nil {
			return nil, err
		}
		rc.Resolver = r
	}
	return intel.NewRDNS(rc)
}
