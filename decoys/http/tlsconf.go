package httpdecoy

import (
	"crypto"
	"crypto/hkdf"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // G505: the key identifier is SHA-1 of the key by RFC 5280 method 1, as OpenSSL and Windows compute it
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"
)

// hkdfSalt separates the HTTP decoy's TLS values from other uses of the
// decky seed.
const hkdfSalt = "decnet http tls"

// rsaBits is the key size of both self-signed defaults: make-ssl-cert's
// default_bits and the WMSvc certificate Windows creates.
const rsaBits = 2048

// certEpoch and certSpread place a decky's certificate creation time:
// a seed-derived day in the 600 days after Debian 12's release, so the
// certificate looks as old as the install and stays the same across
// restarts.
var certEpoch = time.Date(2023, time.June, 10, 0, 0, 0, 0, time.UTC)

const certSpread = 600 * 24 * time.Hour

// snakeoilLifetime is make-ssl-cert's default -days 3650, and the WMSvc
// certificate is issued for the same ten years.
const snakeoilLifetime = 3650 * 24 * time.Hour

// deriveKey returns an HKDF-SHA256 output of n bytes for label.
func deriveKey(seed []byte, label string, n int) []byte {
	out, err := hkdf.Key(sha256.New, seed, []byte(hkdfSalt), label, n)
	if err != nil {
		// Only a length over 255 hash sizes fails, which callers avoid.
		panic("derive tls value: " + err.Error())
	}
	return out
}

// deriveRSAKey builds an RSA key from the seed by hand: rsa.GenerateKey
// no longer draws only from the reader it is given, so it cannot be made
// deterministic. Each prime is the first probable prime at or after a
// seed-derived odd number with its top two bits set, so n has exactly
// rsaBits bits.
func deriveRSAKey(seed []byte) (*rsa.PrivateKey, error) {
	e := big.NewInt(65537)
	one := big.NewInt(1)
	primes := make([]*big.Int, 2)
	for i := range primes {
		raw := deriveKey(seed, fmt.Sprintf("rsa prime %d", i), rsaBits/16)
		raw[0] |= 0xc0
		raw[len(raw)-1] |= 1
		p := new(big.Int).SetBytes(raw)
		pm1 := new(big.Int)
		gcd := new(big.Int)
		// A prime whose p-1 shares a factor with e gives no d.
		for !p.ProbablyPrime(20) || gcd.GCD(nil, nil, pm1.Sub(p, one), e).Cmp(one) != 0 {
			p.Add(p, big.NewInt(2))
		}
		primes[i] = p
	}
	if primes[0].Cmp(primes[1]) == 0 {
		return nil, errors.New("derive rsa key: equal primes")
	}

	n := new(big.Int).Mul(primes[0], primes[1])
	phi := new(big.Int).Mul(new(big.Int).Sub(primes[0], one), new(big.Int).Sub(primes[1], one))
	d := new(big.Int).ModInverse(e, phi)
	if d == nil {
		return nil, errors.New("derive rsa key: no inverse of e")
	}
	key := &rsa.PrivateKey{
		PublicKey: rsa.PublicKey{N: n, E: 65537},
		D:         d,
		Primes:    primes,
	}
	if err := key.Validate(); err != nil {
		return nil, fmt.Errorf("derive rsa key: %w", err)
	}
	key.Precompute()
	return key, nil
}

// certProfile is the set of fields in which the personas' default
// certificates differ.
type certProfile struct {
	commonName string
	// dnsNames fill the subjectAltName. An empty list omits the extension.
	dnsNames []string
	// serialBytes is the serial's length: OpenSSL draws 159 bits, and
	// Windows 16 bytes.
	serialBytes int
	// windows adds the key usages of a certificate made by Windows
	// instead of make-ssl-cert's basicConstraints CA:FALSE.
	windows bool
}

// OIDs of the extensions written by hand, so that their order and
// criticality follow the product's tool instead of crypto/x509's.
var (
	oidBasicConstraints = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidSubjectAltName   = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidSubjectKeyID     = asn1.ObjectIdentifier{2, 5, 29, 14}
	oidKeyUsage         = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidExtKeyUsage      = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidServerAuth       = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 1}
)

// deriveCertificate returns the decky's self-signed certificate for
// profile, every field derived from the seed.
func deriveCertificate(seed []byte, profile certProfile) (tls.Certificate, error) {
	key, err := deriveRSAKey(seed)
	if err != nil {
		return tls.Certificate{}, err
	}

	serialRaw := deriveKey(seed, "serial", profile.serialBytes)
	serialRaw[0] &= 0x7f // positive, and 159 bits for OpenSSL's 20 bytes
	serial := new(big.Int).SetBytes(serialRaw)

	offset := binary.BigEndian.Uint64(deriveKey(seed, "not before", 8)) % uint64(certSpread/time.Second)
	notBefore := certEpoch.Add(time.Duration(offset) * time.Second)

	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("marshal public key: %w", err)
	}
	var info struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(spki, &info); err != nil {
		return tls.Certificate{}, fmt.Errorf("parse public key: %w", err)
	}
	skid := sha1.Sum(info.PublicKey.Bytes) //nolint:gosec // G401: RFC 5280 key identifier, not a security hash

	exts, err := certExtensions(profile, skid[:])
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: profile.commonName},
		NotBefore:             notBefore,
		NotAfter:              notBefore.Add(snakeoilLifetime),
		SignatureAlgorithm:    x509.SHA256WithRSA,
		ExtraExtensions:       exts,
		BasicConstraintsValid: false,
	}
	// The signature is deterministic too: PKCS #1 v1.5 draws nothing.
	der, err := x509.CreateCertificate(nilReader{}, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("create certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("parse certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: crypto.Signer(key), Leaf: leaf}, nil
}

// nilReader feeds x509.CreateCertificate, which wants a reader even for
// signatures that draw no randomness.
type nilReader struct{}

func (nilReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func certExtensions(profile certProfile, skid []byte) ([]pkixExtension, error) {
	var exts []pkixExtension
	add := func(oid asn1.ObjectIdentifier, critical bool, value any) error {
		der, err := asn1.Marshal(value)
		if err != nil {
			return fmt.Errorf("marshal extension %v: %w", oid, err)
		}
		exts = append(exts, pkixExtension{Id: oid, Critical: critical, Value: der})
		return nil
	}

	var sans []asn1.RawValue
	for _, name := range profile.dnsNames {
		sans = append(sans, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 2, Bytes: []byte(name)})
	}
	if profile.windows {
		// Windows writes EKU serverAuth, key usage, SAN and SKID.
		if err := add(oidExtKeyUsage, false, []asn1.ObjectIdentifier{oidServerAuth}); err != nil {
			return nil, err
		}
		// keyEncipherment | dataEncipherment, two unused bits of eight.
		if err := add(oidKeyUsage, true, asn1.BitString{Bytes: []byte{0x30}, BitLength: 4}); err != nil {
			return nil, err
		}
	} else {
		// ssleay.cnf's v3_req: basicConstraints = CA:FALSE, which
		// encodes as an empty SEQUENCE.
		if err := add(oidBasicConstraints, false, struct{}{}); err != nil {
			return nil, err
		}
	}
	if len(sans) > 0 {
		if err := add(oidSubjectAltName, false, sans); err != nil {
			return nil, err
		}
	}
	if err := add(oidSubjectKeyID, false, skid); err != nil {
		return nil, err
	}
	return exts, nil
}

// pkixExtension is pkix.Extension, named for brevity in this file.
type pkixExtension = pkix.Extension

// iisHostName returns the Windows computer name of an IIS decky: the
// decky's name when it is a valid NetBIOS name, else the "WIN-" and
// eleven characters Windows setup draws.
func iisHostName(decky string, seed []byte) string {
	name := strings.ToUpper(decky)
	if serverName(decky) == strings.ToLower(decky) && len(name) <= 15 {
		return name
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	raw := deriveKey(seed, "windows computer name", 11)
	var b strings.Builder
	b.WriteString("WIN-")
	for _, c := range raw {
		b.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	return b.String()
}

// tlsSettings are the TLS parameters of a persona as its product ships
// them.
type tlsSettings struct {
	minVersion, maxVersion uint16
	// cipherSuites are the TLS 1.0 to 1.2 suites, most preferred first.
	cipherSuites []uint16
	// serverOrder picks the first of cipherSuites the client offers, as
	// a server that prefers its own order does. Otherwise the client's
	// first acceptable suite wins.
	serverOrder bool
	curves      []tls.CurveID
	// alpnFallback sends no ALPN, instead of failing the handshake, to
	// a client that offers none of the server's protocols.
	alpnFallback bool
	// legacyALPN adds http/1.0 and http/0.9 after http/1.1, as nginx
	// accepts them.
	legacyALPN bool
	profile    certProfile
}

// opensslRSASuites is OpenSSL 3.0's order for "HIGH:!aNULL:!MD5" (nginx's
// default ssl_ciphers) with an RSA certificate, kept to the suites Go
// implements (`openssl ciphers -V` on Debian 12). DHE, ARIA, CCM,
// Camellia and the SHA-384 CBC suites are missing from Go.
var opensslRSASuites = []uint16{
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
	tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_RSA_WITH_AES_128_CBC_SHA256,
	tls.TLS_RSA_WITH_AES_256_CBC_SHA,
	tls.TLS_RSA_WITH_AES_128_CBC_SHA,
}

// schannelRSASuites is the default order of Windows Server 2019 for an
// RSA certificate, kept to the suites Go implements (no DHE, no
// SHA-384 CBC). NOTE: taken from Microsoft's published list for the
// release, not measured here.
var schannelRSASuites = []uint16{
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
	tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_RSA_WITH_AES_128_CBC_SHA256,
	tls.TLS_RSA_WITH_AES_256_CBC_SHA,
	tls.TLS_RSA_WITH_AES_128_CBC_SHA,
	tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA,
}

// tlsFor returns the TLS settings of persona p on a host named host.
//
// nginx 1.22 on Debian 12 and Apache on Ubuntu 24.04 link OpenSSL 3.
// Its default security level leaves TLS 1.2 and 1.3 of the protocols
// their configurations list. Its default groups are X25519, P-256, X448,
// P-521 and P-384; Go has no X448, and Go's hybrid post-quantum group is
// left out because OpenSSL 3.0 lacks it. Debian's nginx.conf sets
// ssl_prefer_server_ciphers on, while Ubuntu's mod_ssl leaves
// SSLHonorCipherOrder off. Both use the ssl-cert snakeoil certificate.
//
// IIS 10 on Windows Server 2019 offers TLS 1.0 to 1.2 (Schannel there
// has no TLS 1.3) in its own cipher order, with the groups X25519, P-256
// and P-384.
func tlsFor(p persona, host string) tlsSettings {
	switch p.id() {
	case PersonaIIS:
		return tlsSettings{
			minVersion:   tls.VersionTLS10,
			maxVersion:   tls.VersionTLS12,
			cipherSuites: schannelRSASuites,
			serverOrder:  true,
			curves:       []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384},
			profile: certProfile{
				commonName:  "WMSvc-SHA2-" + host,
				serialBytes: 16,
				windows:     true,
			},
		}
	case PersonaApache:
		set := opensslSettings(host)
		// mod_ssl selects http/1.1 when the client offers none of its
		// protocols (measured), which Go cannot send, so the decoy
		// sends no ALPN rather than an alert.
		set.alpnFallback = true
		return set
	}
	set := opensslSettings(host)
	set.serverOrder = true
	set.legacyALPN = true
	return set
}

func opensslSettings(host string) tlsSettings {
	return tlsSettings{
		minVersion:   tls.VersionTLS12,
		maxVersion:   tls.VersionTLS13,
		cipherSuites: opensslRSASuites,
		curves:       []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP521, tls.CurveP384},
		profile: certProfile{
			commonName:  host,
			dnsNames:    []string{host},
			serialBytes: 20,
		},
	}
}

// newTLSConfig returns the server configuration of a decky with the
// given settings, certificate and ALPN protocols.
//
// crypto/tls ignores the order of CipherSuites, so each handshake gets a
// copy restricted to the one suite the product would pick. TLS 1.3
// suites are not configurable in Go and keep Go's choice.
func newTLSConfig(set tlsSettings, cert tls.Certificate, alpn []string) *tls.Config {
	if set.legacyALPN {
		alpn = append(slices.Clone(alpn), "http/1.0", "http/0.9")
	}
	base := &tls.Config{
		Certificates:     []tls.Certificate{cert},
		MinVersion:       set.minVersion,
		MaxVersion:       set.maxVersion,
		CipherSuites:     set.cipherSuites,
		CurvePreferences: set.curves,
		NextProtos:       alpn,
	}
	cfg := base.Clone()
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		c := base.Clone()
		if suite, ok := pickSuite(set, hello.CipherSuites); ok {
			c.CipherSuites = []uint16{suite}
		}
		if set.alpnFallback && len(hello.SupportedProtos) > 0 && !offersAny(hello.SupportedProtos, alpn) {
			c.NextProtos = nil
		}
		return c, nil
	}
	return cfg
}

// pickSuite returns the suite the product would choose from the
// client's offer.
func pickSuite(set tlsSettings, offered []uint16) (uint16, bool) {
	if set.serverOrder {
		for _, s := range set.cipherSuites {
			if slices.Contains(offered, s) {
				return s, true
			}
		}
		return 0, false
	}
	for _, s := range offered {
		if slices.Contains(set.cipherSuites, s) {
			return s, true
		}
	}
	return 0, false
}

func offersAny(offered, supported []string) bool {
	for _, p := range offered {
		if slices.Contains(supported, p) {
			return true
		}
	}
	return false
}
