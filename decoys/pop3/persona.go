package pop3

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"
)

// Persona ids.
const (
	PersonaDovecot  = "dovecot-2.3-debian12"
	PersonaExchange = "exchange-2019"
	PersonaCourier  = "courier-1.0-debian12"
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
	// saslExtra are mechanisms listed besides the configured ones:
	// Exchange's NTLM, whose handshake authNTLM runs, and GSSAPI, which
	// the decoy never completes.
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

	// The fields below are Courier's departures from the Dovecot flow;
	// their zero values keep Dovecot's behaviour.

	// capaReply, when set, builds the whole CAPA reply for the TLS
	// state instead of preCapa and postCapa.
	capaReply func(secured bool) string
	// plaintextDefault is disable_plaintext_auth's default: Courier's
	// Debian configuration has POP3_TLS_REQUIRED=0.
	plaintextDefault bool
	// saslFailed is the reply to a failed AUTH when it differs from a
	// failed USER/PASS.
	saslFailed string
	// noAuthDiscovery replies to a bare AUTH as to an unknown command.
	noAuthDiscovery bool
	// anyMechanism runs an unknown SASL mechanism to a failed login
	// (with its delay) rather than refusing it at once.
	anyMechanism bool
	// lenientLines cuts overlong lines and NULs instead of rejecting
	// them (see conn.lenientLine).
	lenientLines bool
	// fixedFailDelay replaces Dovecot's delay and per-source penalty.
	fixedFailDelay time.Duration
	// Post-login replies of a non-Dovecot server.
	listHeader string // first line of a multi-line LIST
	retrHeader string // "%d" is the size
	topHeader  string
	deleOK     string
	rsetOK     string
	noopOK     string
	badMsgnum  string // any bad message number, when not Dovecot's texts
}

func lookupPersona(id string) (*persona, error) {
	switch id {
	case "", PersonaDovecot:
		return dovecotPersona(), nil
	case PersonaExchange:
		return exchangePersona(), nil
	case PersonaCourier:
		return courierPersona(), nil
	}
	return nil, fmt.Errorf("%w %q (known: %s, %s, %s)", ErrUnknownPersona, id, PersonaDovecot, PersonaExchange, PersonaCourier)
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

// courierPersona is courierpop3login and courierpop3d of Courier 1.0.16
// (courier-pop 1.0.16-3 of Debian 12) with Debian's /etc/courier/pop3d:
// POP3AUTH and POP3AUTH_TLS empty, so CAPA lists no SASL line, yet AUTH
// PLAIN and LOGIN still work. Every text was read off the real daemons
// driven by hand; nmap names the banner "Courier pop3d".
func courierPersona() *persona {
	return &persona{
		id:       PersonaCourier,
		greeting: func(string) string { return "Hello there." },
		capaReply: func(secured bool) string {
			lines := []string{"+OK Here's what I can do:", "STLS", "TOP", "USER", "LOGIN-DELAY 10", "PIPELINING", "UIDL", "UTF8 USER", "IMPLEMENTATION Courier Mail Server", "."}
			if secured {
				lines = append(lines[:1], lines[2:]...)
			}
			return strings.Join(lines, "\r\n") + "\r\n"
		},
		plaintextDefault: true,
		noAuthDiscovery:  true,
		anyMechanism:     true,
		lenientLines:     true,
		// login_pause() of courierpop3login sleeps 5 s after a failure.
		fixedFailDelay: 5 * time.Second,

		unknown:         "-ERR Invalid command.",
		plaintextDenied: "-ERR TLS required to log in.",
		mechDenied:      "-ERR TLS required to log in.",
		unsupportedMech: "-ERR Authentication failed.",
		authFailed:      "-ERR Login failed.",
		saslFailed:      "-ERR Authentication failed.",
		aborted:         "-ERR Authentication aborted.",
		badBase64IR:     "-ERR Authentication failed.",
		badBase64:       "-ERR Authentication failed.",
		noUser:          "-ERR USER/PASS required.",
		apopDisabled:    "-ERR Invalid command.",
		stls:            "+OK Begin SSL/TLS negotiation now.",
		tlsActive:       "-ERR TLS support not available.",
		quit:            "+OK Better luck next time.",
		loggedIn:        "+OK logged in.",
		userOK:          "+OK Password required.",
		inputBufferFull: "-ERR Invalid command.",
		// NOTE: the length at which Courier cuts a long line is a guess.
		maxLoginLine:    1024,
		postUnknown:     "-ERR Invalid command.",
		postQuit:        "+OK Bye-bye.",
		postQuitDeleted: "+OK Bye-bye.",
		// NOTE: the idle and TLS-required texts were not compared with
		// the real daemons (Debian's Courier requires no TLS).
		idleDisconnect: "-ERR Disconnected for inactivity.",
		listHeader:     "+OK POP3 clients that break here, they violate STD53.",
		retrHeader:     "+OK %d octets follow.",
		topHeader:      "+OK headers follow.",
		deleOK:         "+OK Deleted.",
		rsetOK:         "+OK Resurrected.",
		noopOK:         "+OK Yup.",
		badMsgnum:      "-ERR Invalid message number.",
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
