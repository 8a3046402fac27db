package httpdecoy

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Option keys read from decoys.Config.Options.
const (
	// OptionTLS "true" serves HTTPS on the listener instead of plain
	// HTTP, with a certificate derived from the decky's seed.
	OptionTLS = "tls"
	// OptionHTTP2 "true" or "false" offers or withholds h2 in ALPN over
	// TLS. It defaults to the product's usual setup: on for nginx
	// (listen ... ssl http2) and IIS 10 (HTTP/2 is on by default in
	// HTTP.sys), off for Apache (Ubuntu does not enable mod_http2).
	OptionHTTP2 = "http2"
	// OptionApp selects the login application (see Apps).
	OptionApp = "app"
	// OptionHostname overrides the host name in the certificate (and
	// Apache's signature), which otherwise comes from the decky name.
	OptionHostname = "hostname"
)

// ErrInvalidOption is returned by New for an unknown option key or a
// value it cannot use.
var ErrInvalidOption = errors.New("invalid option")

// OptionKeys returns the option keys New reads, sorted.
func OptionKeys() []string {
	keys := []string{OptionTLS, OptionHTTP2, OptionApp, OptionHostname}
	sort.Strings(keys)
	return keys
}

// options are the parsed service options.
type options struct {
	tls      bool
	http2    bool
	app      string
	hostname string
}

func parseOptions(opts map[string]string, personaID string) (options, error) {
	o := options{http2: personaID != PersonaApache}
	for key, value := range opts {
		var err error
		switch key {
		case OptionTLS:
			o.tls, err = parseBool(value)
		case OptionHTTP2:
			o.http2, err = parseBool(value)
		case OptionApp:
			o.app = value
		case OptionHostname:
			if !isHostName(strings.ToLower(value)) {
				err = errors.New("not a host name")
			}
			o.hostname = strings.ToLower(value)
		default:
			return o, fmt.Errorf("option %q (known: %s): %w", key, strings.Join(OptionKeys(), ", "), ErrInvalidOption)
		}
		if err != nil {
			return o, fmt.Errorf("option %s=%q: %w: %w", key, value, ErrInvalidOption, err)
		}
	}
	return o, nil
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0", "":
		return false, nil
	}
	return false, errors.New("want true or false")
}

// isHostName reports a DNS host name of letter-digit-hyphen labels.
func isHostName(name string) bool {
	if name == "" || len(name) > 253 {
		return false
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
				return false
			}
		}
	}
	return true
}
