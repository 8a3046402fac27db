package pki

import (
	"crypto/tls"
	"crypto/x509"
)

// ServerTLSConfig returns a TLS 1.3 server configuration that reads its
// certificate through getCert on every handshake, so a renewed certificate
// takes effect without a restart.
//
// With requireClientCert every client must present a certificate that
// chains to clientRoots and allows client authentication. Without it a
// client certificate is optional but still verified when present, which
// lets one listener serve enrollment and authenticated agents. A nil
// clientRoots trusts no client certificate at all (the system roots are
// never used).
func ServerTLSConfig(getCert func(*tls.ClientHelloInfo) (*tls.Certificate, error), clientRoots *x509.CertPool, requireClientCert bool, nextProtos []string) *tls.Config {
	if clientRoots == nil {
		// crypto/tls falls back to the system roots for a nil ClientCAs;
		// an empty pool fails closed instead.
		clientRoots = x509.NewCertPool()
	}
	clientAuth := tls.VerifyClientCertIfGiven
	if requireClientCert {
		clientAuth = tls.RequireAndVerifyClientCert
	}
	return &tls.Config{
		MinVersion:     tls.VersionTLS13,
		GetCertificate: getCert,
		ClientAuth:     clientAuth,
		ClientCAs:      clientRoots,
		NextProtos:     nextProtos,
	}
}

// AgentTLSConfig returns a TLS 1.3 client configuration for an agent. The
// server must present a certificate for serverName (a DNS name or an IP
// address) that chains to roots. getCert supplies the client certificate on
// every handshake, so a renewed certificate needs no new configuration. A
// nil getCert sends no client certificate, as during enrollment. A nil
// roots trusts no server at all (the system roots are never used).
func AgentTLSConfig(getCert func(*tls.CertificateRequestInfo) (*tls.Certificate, error), roots *x509.CertPool, serverName string, nextProtos []string) *tls.Config {
	if roots == nil {
		roots = x509.NewCertPool()
	}
	return &tls.Config{
		MinVersion:           tls.VersionTLS13,
		GetClientCertificate: getCert,
		RootCAs:              roots,
		ServerName:           serverName,
		NextProtos:           nextProtos,
	}
}

// StaticCertificate returns a callback for ServerTLSConfig that always
// serves cert.
func StaticCertificate(cert *tls.Certificate) func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return cert, nil }
}

// StaticClientCertificate returns a callback for AgentTLSConfig that always
// presents cert.
func StaticClientCertificate(cert *tls.Certificate) func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
}
