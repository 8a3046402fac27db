package intel

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/oschwald/maxminddb-golang/v2"
)

// GeoIPConfig names MaxMind-format databases the operator supplies:
// GeoLite2-Country or GeoLite2-City (or the DB-IP lite country or city
// database) and GeoLite2-ASN (or DB-IP lite ASN). Either may be empty.
// The files are read locally. Nothing is downloaded.
type GeoIPConfig struct {
	LocationPath string
	ASNPath      string
}

// GeoIP looks addresses up in the operator's databases.
type GeoIP struct {
	location *maxminddb.Reader
	asn      *maxminddb.Reader
}

// OpenGeoIP opens the configured databases. It returns nil and no error
// when neither path is set.
//
// NOTE: the files are memory-mapped at open, so overwriting them in
// place is unsafe. To pick up a new release, open a new GeoIP (or
// Enricher) and close the old one.
func OpenGeoIP(cfg GeoIPConfig) (*GeoIP, error) {
	if cfg.LocationPath == "" && cfg.ASNPath == "" {
		return nil, nil
	}
	g := &GeoIP{}
	var err error
	if cfg.LocationPath != "" {
		if g.location, err = maxminddb.Open(cfg.LocationPath); err != nil {
			return nil, fmt.Errorf("%w: open location database: %w", ErrInvalidConfig, err)
		}
	}
	if cfg.ASNPath != "" {
		if g.asn, err = maxminddb.Open(cfg.ASNPath); err != nil {
			_ = g.Close()
			return nil, fmt.Errorf("%w: open asn database: %w", ErrInvalidConfig, err)
		}
	}
	return g, nil
}

// Close releases the databases.
func (g *GeoIP) Close() error {
	if g == nil {
		return nil
	}
	var errs []error
	if g.location != nil {
		errs = append(errs, g.location.Close())
	}
	if g.asn != nil {
		errs = append(errs, g.asn.Close())
	}
	return errors.Join(errs...)
}

// geoRecord covers the fields GeoLite2 and DB-IP lite share in their
// country, city and ASN databases.
type geoRecord struct {
	Country struct {
		ISOCode string            `maxminddb:"iso_code"`
		Names   map[string]string `maxminddb:"names"`
	} `maxminddb:"country"`
	City struct {
		Names map[string]string `maxminddb:"names"`
	} `maxminddb:"city"`
	ASN   uint32 `maxminddb:"autonomous_system_number"`
	ASOrg string `maxminddb:"autonomous_system_organization"`
}

// Lookup returns the location and autonomous system of addr, or nil
// when no database has a record. A decoding error in one database keeps
// the other's record.
func (g *GeoIP) Lookup(addr netip.Addr) (*Location, error) {
	if g == nil {
		return nil, nil
	}
	addr = addr.Unmap()
	var loc Location
	var errs []error
	found := false
	if usable(g.location, addr) {
		var rec geoRecord
		res := g.location.Lookup(addr)
		if err := res.Decode(&rec); err != nil {
			errs = append(errs, fmt.Errorf("decode location record: %w", err))
		} else if res.Found() {
			found = true
			loc.CountryCode = clean(rec.Country.ISOCode)
			loc.Country = clean(rec.Country.Names["en"])
			loc.City = clean(rec.City.Names["en"])
			loc.Network = res.Prefix().String()
		}
	}
	if usable(g.asn, addr) {
		var rec geoRecord
		res := g.asn.Lookup(addr)
		if err := res.Decode(&rec); err != nil {
			errs = append(errs, fmt.Errorf("decode asn record: %w", err))
		} else if res.Found() {
			found = true
			loc.ASN = rec.ASN
			loc.ASOrg = clean(rec.ASOrg)
			if p := res.Prefix(); loc.Network == "" || p.Bits() > mustPrefixBits(loc.Network) {
				loc.Network = p.String()
			}
		}
	}
	if !found {
		return nil, errors.Join(errs...)
	}
	return &loc, errors.Join(errs...)
}

// usable reports whether r is open and can hold addr: an IPv4-only
// database (some DB-IP and test builds) has nothing to say about IPv6.
func usable(r *maxminddb.Reader, addr netip.Addr) bool {
	return r != nil && (addr.Is4() || r.Metadata.IPVersion != 4)
}

func mustPrefixBits(s string) int {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return -1
	}
	return p.Bits()
}
