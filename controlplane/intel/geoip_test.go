package intel

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

func testGeoIP(t *testing.T) *GeoIP {
	t.Helper()
	city := writeMMDB(t, "GeoLite2-City", map[netip.Prefix]mmdbMap{
		netip.MustParsePrefix("81.2.69.0/24"): {
			"country": mmdbMap{"iso_code": "GB", "names": mmdbMap{"en": "United Kingdom", "de": "Vereinigtes Königreich"}},
			"city":    mmdbMap{"names": mmdbMap{"en": "London"}},
			"location": mmdbMap{
				"latitude":  51.5142,
				"longitude": -0.0931,
			},
		},
		// DB-IP lite country records carry country only.
		netip.MustParsePrefix("127.0.0.0/8"): {
			"country": mmdbMap{"iso_code": "ZZ", "names": mmdbMap{"en": "Test Land"}},
		},
	})
	asn := writeMMDB(t, "GeoLite2-ASN", map[netip.Prefix]mmdbMap{
		netip.MustParsePrefix("81.2.64.0/20"): {
			"autonomous_system_number":       uint32(20712),
			"autonomous_system_organization": "Andrews & Arnold Ltd",
		},
	})
	g, err := OpenGeoIP(GeoIPConfig{LocationPath: city, ASNPath: asn})
	if err != nil {
		t.Fatalf("OpenGeoIP: %v", err)
	}
	t.Cleanup(func() { _ = g.Close() })
	return g
}

func TestGeoIPLookup(t *testing.T) {
	g := testGeoIP(t)
	tests := []struct {
		name string
		addr string
		want *Location
	}{
		{"city and asn", "81.2.69.160", &Location{CountryCode: "GB", Country: "United Kingdom", City: "London", ASN: 20712, ASOrg: "Andrews & Arnold Ltd", Network: "81.2.69.0/24"}},
		{"asn only", "81.2.70.1", &Location{ASN: 20712, ASOrg: "Andrews & Arnold Ltd", Network: "81.2.64.0/20"}},
		{"country only", "127.0.0.2", &Location{CountryCode: "ZZ", Country: "Test Land", Network: "127.0.0.0/8"}},
		{"ipv4-mapped form", "::ffff:81.2.69.1", &Location{CountryCode: "GB", Country: "United Kingdom", City: "London", ASN: 20712, ASOrg: "Andrews & Arnold Ltd", Network: "81.2.69.0/24"}},
		{"unknown", "9.9.9.9", nil},
		{"ipv6 in ipv4-only databases", "2001:4860::1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := g.Lookup(netip.MustParseAddr(tt.addr))
			if err != nil {
				t.Fatalf("Lookup: %v", err)
			}
			if (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
				t.Fatalf("Lookup(%s) = %+v, want %+v", tt.addr, got, tt.want)
			}
		})
	}
}

func TestOpenGeoIP(t *testing.T) {
	g, err := OpenGeoIP(GeoIPConfig{})
	if err != nil || g != nil {
		t.Fatalf("OpenGeoIP(empty) = %v, %v; want nil, nil", g, err)
	}
	if loc, err := g.Lookup(netip.MustParseAddr("81.2.69.1")); loc != nil || err != nil {
		t.Fatalf("nil GeoIP Lookup = %v, %v", loc, err)
	}

	_, err = OpenGeoIP(GeoIPConfig{LocationPath: filepath.Join(t.TempDir(), "missing.mmdb")})
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("missing file: err = %v, want ErrInvalidConfig", err)
	}

	garbage := filepath.Join(t.TempDir(), "garbage.mmdb")
	if err := os.WriteFile(garbage, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = OpenGeoIP(GeoIPConfig{ASNPath: garbage})
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("garbage file: err = %v, want ErrInvalidConfig", err)
	}
}
