package smtp

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"
)

// Persona ids.
const (
	PersonaPostfix  = "postfix-3.7-debian12"
	PersonaExim     = "exim-4.96-debian12"
	PersonaExchange = "exchange-2019"

	// DefaultPersona is used when decoys.Config.Persona is empty.
	DefaultPersona = PersonaPostfix
)

// ErrUnknownPersona is returned by New for a persona id it does not know.
var ErrUnknownPersona = errors.New("unknown smtp persona")

// Personas returns the ids New accepts, sorted.
func Personas() []string {
	ids := []string{PersonaPostfix, PersonaExim, PersonaExchange}
	sort.Strings(ids)
	return ids
}

// persona is the description of one real mail server as a client sees
// it: greeting, EHLO keywords in order, reply texts, limits and timing.
// The command engine (conn.go) follows Postfix's smtpd. The other products
// differ from it in the texts and in the flags below.
type persona struct {
	id string

	// lineLimit is the longest command line read whole (Postfix
	// line_length_limit); longer lines are cut and the rest dropped.
	lineLimit int
	// messageLimit is the SIZE advertised and enforced.
	messageLimit int64
	// idleTimeout is how long the server waits for a command.
	idleTimeout time.Duration
	// softErrors and hardErrors: past softErrors errors each reply waits
	// errorSleep; at hardErrors the server sends tooManyErrors and closes.
	softErrors, hardErrors int
	errorSleep             time.Duration
	// unknownLimit closes the session after this many unknown commands
	// (0: no such limit).
	unknownLimit int
	// junkLimit is smtpd_junk_command_limit: NOOP, RSET, VRFY, ETRN and
	// HELO beyond it count as errors.
	junkLimit int
	// heloRequired refuses MAIL before HELO or EHLO.
	heloRequired bool
	// ehlo lists the EHLO keywords in the product's order. "SIZE" gets
	// messageLimit appended, "AUTH" the mechanisms of the session's state
	// (and is left out when there are none), "STARTTLS" and
	// "X-ANONYMOUSTLS" are left out once TLS is on.
	ehlo []string
	// mechanismsPlain and mechanismsTLS are the SASL mechanisms offered
	// before and after STARTTLS, in order.
	mechanismsPlain, mechanismsTLS []string
	// vrfy looks the VRFY address up; otherwise VRFY gets vrfyText.
	vrfy bool
	// forbidNonSMTP closes the session on an unknown command that looks
	// like HTTP, a header or binary (Postfix smtpd_forbidden_commands).
	forbidNonSMTP bool
	// chunking accepts BDAT.
	chunking bool
	// etrn enables ETRN; otherwise it is an unknown command.
	etrn bool
	// noDelimiter turns off recipient_delimiter: "user+tag" is a user
	// of its own.
	noDelimiter bool
	// eximEngine runs the session through Exim's command loop (exim.go)
	// instead of the Postfix engine; the mail transaction is shared.
	eximEngine bool

	// authFailDelay bounds the pause before the reply to a failed
	// authentication.
	authFailDelay delayRange
	// dovecotPenalty applies Dovecot's per-address penalty (penaltyTable)
	// before each attempt.
	dovecotPenalty bool
	// authTimeout is the longest wait for the authentication backend.
	// Postfix gives up on Dovecot after 10 s (AUTH_TIMEOUT in
	// xsasl_dovecot_server.c) and replies with authTemp.
	authTimeout time.Duration

	r replies
}

// delayRange is a uniform interval.
type delayRange struct{ min, max time.Duration }

// replies holds the persona's reply texts, each a complete reply without
// the final CR LF. Multi-line replies separate lines with "\r\n".
type replies struct {
	banner       func(h hostView) string
	helo         func(h hostView, arg string) string
	ehloGreeting func(h hostView, arg string) string
	heloSyntax   string
	ehloSyntax   string
	needHelo     string

	noop, rset, rsetSyntax      string
	quit                        func(h hostView) string
	unknown                     func(verb string) string
	badSyntax, badUTF8, goodbye string
	tooManyUnknown              string

	mailOK, mailNested, mailSyntax, badSender     string
	sizeSyntax, sizeTooBig, sizeOverflow          string
	unsupportedOption                             func(opt string) string
	badRet, badEnvid, badNotify, badOrcpt         string
	needMail, rcptSyntax, badRcpt, rcptOK         string
	relayDenied, userUnknown                      func(addr string) string
	tooManyRcpts                                  string
	needRcpt, noValidRcpts, dataSyntax, dataStart string
	queued                                        func(h hostView, id string) string
	bdatQueued                                    func(h hostView, id string, size, chunk, total int64) string
	bdatChunk                                     func(size int64) string
	tooBig, bdatTooBig, bdatSyntax, bdatNull      string
	bdatDiscarded                                 func(size int64) string
	mailAfterBdat, rcptAfterBdat, dataAfterBdat   string
	vrfySyntax, vrfyText                          string
	vrfyOK                                        func(arg string) string
	etrnSyntax, etrnInvalid, etrnInTransaction    string
	etrnDenied                                    func(domain string) string
	starttlsSyntax, starttlsReady, tlsActive      string
	authSyntax, authInTransaction, authNotEnabled string
	authAlready, authAborted, authTooLong         string
	authEncryptionRequired                        string
	authFailed                                    func(reason string) string
	authTemp                                      func(reason string) string
	authLost                                      string
	authBadInitial, authBadCont                   string
	// authUnknownMechanism is the reply to AUTH with a mechanism that is
	// not offered.
	authUnknownMechanism   string
	authUnavailable        string
	xclientDenied          string
	help, expn             string
	timeout, tooManyErrors func(h hostView) string
}

// hostView is the server and client data that reply texts may show.
type hostView struct {
	identity
	peer netip.Addr
	now  time.Time
}

func lookupPersona(id string) (persona, error) {
	switch id {
	case "", PersonaPostfix:
		return postfixPersona(), nil
	case PersonaExim:
		return eximPersona(), nil
	case PersonaExchange:
		return exchangePersona(), nil
	}
	return persona{}, fmt.Errorf("%w %q (known: %s)", ErrUnknownPersona, id, strings.Join(Personas(), ", "))
}

// postfixPersona is Debian 12's postfix 3.7.11 with the package's main.cf
// (compatibility_level 3.6, smtpd_tls_security_level may with the
// snakeoil certificate) plus what a server offering submission-style
// authentication on port 25 adds:
//
//	smtpd_sasl_auth_enable = yes
//	smtpd_sasl_type = dovecot  (dovecot 2.3.19.1, auth_mechanisms = plain login cram-md5)
//	smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated reject_unauth_destination
//
// Texts and behaviour were compared with that configuration on loopback
// (integration_test.go); timing constants are Postfix's defaults.
func postfixPersona() persona {
	return persona{
		id:           PersonaPostfix,
		lineLimit:    2048,     // line_length_limit
		messageLimit: 10240000, // message_size_limit
		idleTimeout:  300 * time.Second,
		softErrors:   10,
		hardErrors:   20,
		errorSleep:   time.Second,
		junkLimit:    100,
		ehlo: []string{"PIPELINING", "SIZE", "VRFY", "ETRN", "STARTTLS", "AUTH",
			"ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING"},
		// smtpd_tls_auth_only = no: the same mechanisms before and after
		// STARTTLS.
		mechanismsPlain: []string{"PLAIN", "LOGIN", "CRAM-MD5"},
		mechanismsTLS:   []string{"PLAIN", "LOGIN", "CRAM-MD5"},
		vrfy:            true,
		forbidNonSMTP:   true,
		chunking:        true,
		etrn:            true,
		// Dovecot's auth_failure_delay (2 s) is served by a timer that
		// flushes failures in batches, so a reply comes 1.5-2 s after the
		// attempt, measured on loopback.
		authFailDelay:  delayRange{1500 * time.Millisecond, 2000 * time.Millisecond},
		dovecotPenalty: true,
		authTimeout:    10 * time.Second,
		r:              postfixReplies(),
	}
}

func postfixReplies() replies {
	return replies{
		banner:       func(h hostView) string { return "220 " + h.hostname + " ESMTP Postfix (Debian/GNU)" },
		helo:         func(h hostView, _ string) string { return "250 " + h.hostname },
		ehloGreeting: func(h hostView, _ string) string { return h.hostname },
		heloSyntax:   "501 Syntax: HELO hostname",
		ehloSyntax:   "501 Syntax: EHLO hostname",
		needHelo:     "503 5.5.1 Error: send HELO/EHLO first",

		noop:       "250 2.0.0 Ok",
		rset:       "250 2.0.0 Ok",
		rsetSyntax: "501 5.5.4 Syntax: RSET",
		quit:       func(hostView) string { return "221 2.0.0 Bye" },
		unknown:    func(string) string { return "500 5.5.2 Error: command not recognized" },
		badSyntax:  "500 5.5.2 Error: bad syntax",
		badUTF8:    "500 5.5.2 Error: bad UTF-8 syntax",
		goodbye:    "221 2.7.0 Error: I can break rules, too. Goodbye.",

		mailOK:            "250 2.1.0 Ok",
		mailNested:        "503 5.5.1 Error: nested MAIL command",
		mailSyntax:        "501 5.5.4 Syntax: MAIL FROM:<address>",
		badSender:         "501 5.1.7 Bad sender address syntax",
		sizeSyntax:        "501 5.5.4 Bad message size syntax",
		sizeTooBig:        "552 5.3.4 Message size exceeds fixed limit",
		sizeOverflow:      "552 5.3.4 Message size exceeds file system imposed limit",
		unsupportedOption: func(opt string) string { return "555 5.5.4 Unsupported option: " + opt },
		badRet:            "501 5.5.4 Bad RET parameter syntax",
		badEnvid:          "501 5.5.4 Bad ENVID parameter syntax",
		badNotify:         "501 5.5.4 Error: Bad NOTIFY parameter syntax",
		badOrcpt:          "501 5.5.4 Error: Bad ORCPT parameter syntax",
		needMail:          "503 5.5.1 Error: need MAIL command",
		rcptSyntax:        "501 5.5.4 Syntax: RCPT TO:<address>",
		badRcpt:           "501 5.1.3 Bad recipient address syntax",
		rcptOK:            "250 2.1.5 Ok",
		relayDenied:       func(a string) string { return "554 5.7.1 <" + a + ">: Relay access denied" },
		userUnknown: func(a string) string {
			return "550 5.1.1 <" + a + ">: Recipient address rejected: User unknown in local recipient table"
		},
		tooManyRcpts: "452 4.5.3 Error: too many recipients",
		needRcpt:     "503 5.5.1 Error: need RCPT command",
		noValidRcpts: "554 5.5.1 Error: no valid recipients",
		dataSyntax:   "501 5.5.4 Syntax: DATA",
		dataStart:    "354 End data with <CR><LF>.<CR><LF>",
		queued:       func(_ hostView, id string) string { return "250 2.0.0 Ok: queued as " + id },
		bdatQueued: func(_ hostView, id string, n, _, _ int64) string {
			return fmt.Sprintf("250 2.0.0 Ok: %d bytes queued as %s", n, id)
		},
		bdatChunk:     func(n int64) string { return fmt.Sprintf("250 2.0.0 Ok: %d bytes", n) },
		tooBig:        "552 5.3.4 Error: message file too big",
		bdatTooBig:    "552 5.3.4 Chunk exceeds message size limit",
		bdatSyntax:    "521 5.5.4 Syntax: BDAT count [LAST]",
		bdatNull:      "551 5.7.1 Null BDAT request",
		bdatDiscarded: func(n int64) string { return fmt.Sprintf("551 5.0.0 Discarded %d bytes after earlier error", n) },
		mailAfterBdat: "503 5.5.1 Error: MAIL after BDAT",
		rcptAfterBdat: "503 5.5.1 Error: RCPT after BDAT",
		dataAfterBdat: "503 5.5.1 Error: DATA after BDAT",

		vrfySyntax:        "501 5.5.4 Syntax: VRFY address [SMTPUTF8]",
		vrfyOK:            func(arg string) string { return "252 2.0.0 " + arg },
		etrnSyntax:        "500 Syntax: ETRN domain",
		etrnInvalid:       "501 Error: invalid parameter syntax",
		etrnInTransaction: "503 Error: MAIL transaction in progress",
		etrnDenied:        func(d string) string { return "459 <" + d + ">: service unavailable" },

		starttlsSyntax: "501 5.5.4 Syntax: STARTTLS",
		starttlsReady:  "220 2.0.0 Ready to start TLS",
		tlsActive:      "554 5.5.1 Error: TLS already active",

		authSyntax:             "501 5.5.4 Syntax: AUTH mechanism",
		authInTransaction:      "503 5.5.1 Error: MAIL transaction in progress",
		authNotEnabled:         "503 5.5.1 Error: authentication not enabled",
		authAlready:            "503 5.5.1 Error: already authenticated",
		authAborted:            "501 5.7.0 Authentication aborted",
		authTooLong:            "500 5.5.6 SASL response limit exceeded",
		authEncryptionRequired: "504 5.5.4 Encryption required for requested authentication mechanism",
		authFailed:             func(reason string) string { return "535 5.7.8 Error: authentication failed: " + reason },
		authTemp:               func(reason string) string { return "454 4.7.0 Temporary authentication failure: " + reason },
		authLost:               "Connection lost to authentication server",
		authUnknownMechanism:   "535 5.7.8 Error: authentication failed: Invalid authentication mechanism",
		authBadInitial:         "Invalid base64 data in initial response",
		authBadCont:            "Invalid base64 data in continued response",
		authUnavailable:        "(reason unavailable)",
		xclientDenied:          "550 5.7.0 Error: insufficient authorization",

		timeout:       func(h hostView) string { return "421 4.4.2 " + h.hostname + " Error: timeout exceeded" },
		tooManyErrors: func(h hostView) string { return "421 4.7.0 " + h.hostname + " Error: too many errors" },
	}
}

// tlsConfig returns the TLS server settings for the persona.
//
// Postfix 3.7 on Debian 12 accepts TLS 1.0 to 1.3 (smtpd_tls_protocols
// ">=TLSv1") with the "medium" cipher list, and lets the client's order
// decide (tls_preempt_cipherlist = no). crypto/tls offers the subset of
// those suites it implements: no finite-field DHE, no SHA-384 CBC suites.
//
// NOTE: crypto/tls chooses the suite by its own preference and lays out
// its hello differently from OpenSSL, so JARM and JA4S differ from the
// real Postfix whatever is set here.
func (p persona) tlsConfig(cert tls.Certificate) *tls.Config {
	//nolint:gosec // G402: Postfix's medium list has these CBC suites, so the decoy offers them too
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS10,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
			tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
			tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_RSA_WITH_AES_128_CBC_SHA256,
			tls.TLS_RSA_WITH_AES_256_CBC_SHA,
			tls.TLS_RSA_WITH_AES_128_CBC_SHA,
		},
	}
}
