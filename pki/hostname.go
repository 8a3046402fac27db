package pki

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
)

// NameMismatchError reports that the server's certificate does not name
// the host the client dialled. It wraps the *x509.HostnameError.
type NameMismatchError struct {
	// Dialled is the DNS name or IP address the client checked.
	Dialled string
	// DNSNames and IPAddresses are the SANs of the server's certificate.
	DNSNames    []string
	IPAddresses []net.IP
	Err         error
}

func (e *NameMismatchError) Error() string {
	ips := make([]string, len(e.IPAddresses))
	for i, ip := range e.IPAddresses {
		ips[i] = ip.String()
	}
	return fmt.Sprintf("server certificate is not valid for %q, the name dialled: it names DNS [%s] and IP [%s]; dial one of those, or restart the server with that name or address among its advertised names: %v",
		e.Dialled, strings.Join(e.DNSNames, ", "), strings.Join(ips, ", "), e.Err)
}

func (e *NameMismatchError) Unwrap() error { return e.Err }

// ExplainNameMismatch returns err with a *NameMismatchError in front when
// a handshake failed because the server certificate lacks the dialled
// name, and err unchanged otherwise (nil included). The plain
// x509.HostnameError names only one side when the certificate carries IP
// SANs alone, and nothing that says which side to fix.
func ExplainNameMismatch(err error) error {
	var hostErr x509.HostnameError
	var hostErrPtr *x509.HostnameError
	switch {
	case errors.As(err, &hostErr):
	case errors.As(err, &hostErrPtr) && hostErrPtr != nil:
		hostErr = *hostErrPtr
	default:
		return err
	}
	var already *NameMismatchError
	if errors.As(err, &already) || hostErr.Certificate == nil {
		return err
	}
	return &NameMismatchError{
		Dialled:     hostErr.Host,
		DNSNames:    hostErr.Certificate.DNSNames,
		IPAddresses: hostErr.Certificate.IPAddresses,
		Err:         err,
	}
}
