package pop3

import (
	"encoding/base64"
	"errors"
	"fmt"
	"unicode/utf16"
)

// Persona ids.
const (
	PersonaDovecot  = "dovecot-2.3-debian12"
	PersonaExchange = "exchange-2019"
)

// ErrUnknownPersona is returned by New for a persona id it does not know.
var ErrUnknownPersona = errors.New("unknown pop3 persona")

// persona holds the texts and rules that tell one POP3 server from another.
// The Dovecot texts come from src/pop3-login and src/pop3 of Dovecot
// 2.3.19.1 and were checked against Debian 12's dovecot-pop3d; the
// Exchange texts from nmap-service-probes and published transcripts.
type persona struct {
	id string
	// greeting returns the banner text after "+OK " for the host name.
	greeting func(host string) string
	// preCapa is the fixed part of CAPA before login; the STLS, USER and
	// SASL lines are added per connection state.
	preCapa []string
	// postCapa is the whole CAPA reply after login.
	postCapa string
	// exchangeCapaOrder lists SASL, USER, STLS as Exchange does, rather
	// than Dovecot's STLS, USER, SASL.
	exchangeCapaOrder bool
	// saslExtra are mechanisms listed besides the configured ones
	// (Exchange's NTLM and GSSAPI, which the decoy never completes).
	saslExtra []string

	unknown         string // reply to an unknown command before login
	tooManyBad      string // reply before closing over maxBad
	maxBad          int    // bad commands before the close (0: never)
	plaintextDenied string // USER/PASS before TLS with plaintext disabled
	mechDenied      string // AUTH PLAIN before TLS
	unsupportedMech string
	authFailed      string
	aborted         string
	badBase64IR     string
	badBase64       string
	noUser          string
	apopDisabled    string
	stls            string
	tlsActive       string
	quit            string
	loggedIn        string
	userOK          string
	inputBufferFull string
	maxLoginLine    int // bytes after the command name before "buffer full"
	postUnknown     string
	postTooManyBad  string
	postMaxBad      int
	postQuit        string
	postQuitDeleted string
	idleDisconnect  string
}

func lookupPersona(id string) (*persona, error) {
	switch id {
	case "", PersonaDovecot:
		return dovecotPersona(), nil
	case PersonaExchange:
		return exchangePersona(), nil
	}
	return nil, fmt.Errorf("%w %q (known: %s, %s)", ErrUnknownPersona, id, PersonaDovecot, PersonaExchange)
}

func dovecotPersona() *persona {
	return &persona{
		id:       PersonaDovecot,
		greeting: func(string) string { return "Dovecot (Debian) ready." },
		// POP3_CAPABILITY_REPLY of src/pop3/pop3-capability.h.
		preCapa:  []string{"CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE"},
		postCapa: "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\n.\r\n",

		unknown:         "-ERR Unknown command.",
		tooManyBad:      "-ERR Too many invalid bad commands.",
		maxBad:          3, // CLIENT_MAX_BAD_COMMANDS of pop3-login
		plaintextDenied: "-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.",
		mechDenied:      "-ERR [AUTH] Plaintext authentication disabled.",
		unsupportedMech: "-ERR [AUTH] Unsupported authentication mechanism.",
		authFailed:      "-ERR [AUTH] Authentication failed.",
		aborted:         "-ERR Authentication aborted by client.",
		badBase64IR:     "-ERR [AUTH] Invalid base64 data in initial response",
		badBase64:       "-ERR [AUTH] Invalid base64 in response",
		noUser:          "-ERR No username given.",
		apopDisabled:    "-ERR APOP not enabled.",
		stls:            "+OK Begin TLS negotiation now.",
		tlsActive:       "-ERR TLS is already active.",
		quit:            "+OK Logging out",
		loggedIn:        "+OK Logged in.",
		userOK:          "+OK",
		inputBufferFull: "-ERR Input buffer full, aborting",
		// LOGIN_MAX_INBUF_SIZE of login-common: 1218 - 128 - 64.
		maxLoginLine:    1026,
		postUnknown:     "-ERR Unknown command: %s",
		postTooManyBad:  "-ERR Too many bad commands.",
		postMaxBad:      20, // CLIENT_MAX_BAD_COMMANDS of src/pop3
		postQuit:        "+OK Logging out.",
		postQuitDeleted: "+OK Logging out, messages deleted.",
		idleDisconnect:  "-ERR Disconnected for inactivity.",
	}
}

// exchangePersona is the POP3 service of Exchange 2013 to 2019 with its
// default LoginType SecureLogin: plain-text logins only after STLS.
// Since Exchange 2013 the banner carries the server's FQDN in UTF-16LE
// base64, which nmap names "Microsoft Exchange Online pop3d" or, without
// it, "Microsoft Exchange 2007-2010 pop3d".
func exchangePersona() *persona {
	return &persona{
		id: PersonaExchange,
		greeting: func(host string) string {
			return "The Microsoft Exchange POP3 service is ready. [" + utf16Base64(host) + "]"
		},
		preCapa:           []string{"TOP", "UIDL"},
		postCapa:          "+OK\r\nTOP\r\nUIDL\r\n.\r\n",
		exchangeCapaOrder: true,
		saslExtra:         []string{"NTLM", "GSSAPI"},

		unknown:         "-ERR Protocol error. 14",
		plaintextDenied: "-ERR Command is not valid in this state.",
		mechDenied:      "-ERR Command is not valid in this state.",
		unsupportedMech: "-ERR Unrecognized authentication type.",
		authFailed:      "-ERR Logon failure: unknown user name or bad password.",
		aborted:         "-ERR Authentication canceled.",
		badBase64IR:     "-ERR Logon failure: unknown user name or bad password.",
		badBase64:       "-ERR Logon failure: unknown user name or bad password.",
		noUser:          "-ERR Command is not valid in this state.",
		apopDisabled:    "-ERR Protocol error. 14",
		stls:            "+OK Begin TLS negotiation.",
		tlsActive:       "-ERR Command is not valid in this state.",
		quit:            "+OK Microsoft Exchange Server POP3 server signing off.",
		loggedIn:        "+OK User successfully logged on.",
		userOK:          "+OK",
		inputBufferFull: "-ERR Protocol error. Connection is closed. 10",
		maxLoginLine:    1024,
		postUnknown:     "-ERR Protocol error. 14",
		postQuit:        "+OK Microsoft Exchange Server POP3 server signing off.",
		postQuitDeleted: "+OK Microsoft Exchange Server POP3 server signing off.",
		idleDisconnect:  "-ERR Connection is closed. 11",
	}
}

// utf16Base64 encodes s as Exchange encodes its server name in banners.
func utf16Base64(s string) string {
	units := utf16.Encode([]rune(s))
	b := make([]byte, 0, 2*len(units))
	for _, u := range units {
		b = append(b, byte(u), byte(u>>8))
	}
	return base64.StdEncoding.EncodeToString(b)
}
