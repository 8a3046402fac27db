package smtp

import (
	"crypto/rand"
	"fmt"
	"strings"
	"time"
)

// eximPersona is Debian 12's exim4-daemon-light 4.96 with the
// configuration update-exim4.conf generates for an "internet site", TLS
// enabled (MAIN_TLS_ENABLE) and the plain_server and login_server
// authenticators of Debian's template, which advertise AUTH only over
// TLS. The session runs through Exim's command loop (exim.go). Replies
// were compared byte for byte with that configuration on loopback
// (exim_integration_test.go).
func eximPersona() persona {
	r := postfixReplies()
	r.banner = func(h hostView) string {
		return "220 " + h.hostname + " ESMTP Exim 4.96 " + h.now.Format("Mon, 02 Jan 2006 15:04:05 -0700")
	}
	r.helo = func(h hostView, arg string) string {
		return "250 " + h.hostname + " Hello " + arg + " [" + h.peer.String() + "]"
	}
	r.ehloGreeting = func(h hostView, arg string) string {
		return h.hostname + " Hello " + arg + " [" + h.peer.String() + "]"
	}

	r.noop = "250 OK"
	r.rset = "250 Reset OK"
	r.quit = func(h hostView) string { return "221 " + h.hostname + " closing connection" }
	r.tooManyUnknown = "500 Too many unrecognized commands"

	r.mailOK = "250 OK"
	r.badSender = "501 malformed address: domain missing or malformed"
	r.badRcpt = "501 malformed address: domain missing or malformed"
	r.rcptOK = "250 Accepted"
	r.relayDenied = func(string) string { return "550 relay not permitted" }
	r.userUnknown = func(string) string { return "550 Unrouteable address" }
	r.dataStart = "354 Enter message, ending with \".\" on a line by itself"
	r.queued = func(hostView, string) string { return "250 OK id=" + eximMessageID(time.Now()) }
	r.bdatChunk = func(n int64) string { return fmt.Sprintf("250 %d byte chunk received", n) }
	r.bdatQueued = func(_ hostView, _ string, _, chunk, total int64) string {
		return fmt.Sprintf("250- %d byte chunk, total %d\r\n250 OK id=%s", chunk, total, eximMessageID(time.Now()))
	}
	r.tooBig = "552 Message size exceeds maximum permitted"
	r.sizeTooBig = "552 Message size exceeds maximum permitted"

	// acl_smtp_vrfy and acl_smtp_expn are unset, and an unset ACL denies.
	r.vrfyText = "252 Administrative prohibition"
	r.expn = "550 Administrative prohibition"
	r.starttlsReady = "220 TLS go ahead"
	r.authFailed = func(string) string { return "535 Incorrect authentication data" }
	r.xclientDenied = ""

	r.timeout = func(h hostView) string { return "421 " + h.hostname + ": SMTP command timeout - closing connection" }

	return persona{
		id:           PersonaExim,
		lineLimit:    eximCmdBuffer,
		messageLimit: 52428800, // Exim's default message_size_limit (50M)
		idleTimeout:  5 * time.Minute,
		// pipelining_connect_advertise_hosts is "*" in Debian's 4.96, so
		// PIPECONNECT follows PIPELINING.
		ehlo: []string{"SIZE", "8BITMIME", "PIPELINING", "PIPECONNECT", "AUTH", "CHUNKING", "STARTTLS", "PRDR", "HELP"},
		// Debian's example authenticators carry
		// server_advertise_condition = ${if eq{$tls_in_cipher}{}{}{*}}.
		mechanismsTLS: []string{"PLAIN", "LOGIN"},
		chunking:      true,
		// Debian's routers set no local_part_suffix.
		noDelimiter:   true,
		eximEngine:    true,
		authFailDelay: delayRange{0, 0},
		r:             r,
	}
}

// exchangePersona is the Default Frontend receive connector of Exchange
// Server 2019 on port 25. Texts come from published transcripts and
// nmap's service probes; it has not been compared with a real server.
func exchangePersona() persona {
	r := postfixReplies()
	r.banner = func(h hostView) string {
		return "220 " + exchangeHost(h) + " Microsoft ESMTP MAIL Service ready at " + h.now.Format("Mon, 2 Jan 2006 15:04:05 -0700")
	}
	r.helo = func(h hostView, _ string) string {
		return "250 " + exchangeHost(h) + " Hello [" + h.peer.String() + "]"
	}
	r.ehloGreeting = func(h hostView, _ string) string { return exchangeHost(h) + " Hello [" + h.peer.String() + "]" }
	r.heloSyntax = "501 5.5.4 Invalid domain name"
	r.ehloSyntax = "501 5.5.4 Invalid domain name"
	r.needHelo = "503 5.5.2 Send hello first"

	r.noop = "250 2.0.0 OK"
	r.rset = "250 2.0.0 Resetting"
	r.rsetSyntax = "501 5.5.4 Invalid arguments"
	r.quit = func(hostView) string { return "221 2.0.0 Service closing transmission channel" }
	r.unknown = func(string) string { return "500 5.3.3 Unrecognized command 'unknown'" }
	r.badSyntax = "500 5.3.3 Unrecognized command 'unknown'"
	r.badUTF8 = "500 5.3.3 Unrecognized command 'unknown'"

	r.mailOK = "250 2.1.0 Sender OK"
	r.mailNested = "503 5.5.2 Sender already specified"
	r.mailSyntax = "501 5.5.4 Invalid arguments"
	r.badSender = "501 5.1.7 Invalid address"
	r.needMail = "503 5.5.2 Need mail command"
	r.rcptSyntax = "501 5.5.4 Invalid arguments"
	r.badRcpt = "501 5.1.3 Invalid address"
	r.rcptOK = "250 2.1.5 Recipient OK"
	r.relayDenied = func(string) string { return "550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain" }
	r.userUnknown = func(string) string {
		return "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"
	}
	r.needRcpt = "503 5.5.2 Need rcpt command"
	r.noValidRcpts = "503 5.5.2 Need rcpt command"
	r.dataStart = "354 Start mail input; end with <CRLF>.<CRLF>"
	r.queued = func(h hostView, _ string) string {
		return fmt.Sprintf("250 2.6.0 <%s@%s> [InternalId=%d, Hostname=%s] Queued mail for delivery",
			exchangeMessageID(), exchangeHost(h), exchangeInternalID(), exchangeHost(h))
	}
	// NOTE: the reply to the last BDAT chunk is assumed to equal the one
	// to DATA, not compared with a real server.
	r.bdatQueued = func(h hostView, id string, _, _, _ int64) string { return r.queued(h, id) }
	r.tooBig = "552 5.3.4 Message size exceeds fixed maximum message size"
	r.sizeTooBig = "552 5.3.4 Message size exceeds fixed maximum message size"

	r.vrfyText = "252 2.1.5 Cannot VRFY user"
	r.help = "214-This server supports the following commands:\r\n214 HELO EHLO STARTTLS RCPT DATA RSET MAIL QUIT HELP AUTH BDAT"
	r.starttlsReady = "220 2.0.0 SMTP server ready"
	r.starttlsSyntax = "501 5.5.4 Invalid arguments"
	r.tlsActive = "503 5.5.2 Only one STARTTLS command can be issued per session"
	r.authNotEnabled = "503 5.5.2 Already authenticated"
	r.authFailed = func(string) string { return "535 5.7.3 Authentication unsuccessful" }
	r.authUnknownMechanism = "504 5.7.4 Unrecognized authentication type"
	r.authAborted = "501 5.5.4 Invalid arguments"
	r.authInTransaction = "503 5.5.2 Sender already specified"
	r.xclientDenied = ""

	r.timeout = func(hostView) string { return "451 4.7.0 Timeout waiting for client input" }
	r.tooManyErrors = func(hostView) string {
		return "421 4.7.0 Too many errors on this connection, closing transmission channel"
	}

	return persona{
		id:           PersonaExchange,
		lineLimit:    4096,
		messageLimit: 37748736, // the 36 MB MaxMessageSize of the frontend connector
		idleTimeout:  5 * time.Minute,
		// NOTE: Exchange drops a client after MaxProtocolErrors (5)
		// protocol errors, which this engine does not tell apart from
		// rejections, so that limit is left out.
		heloRequired: true,
		ehlo: []string{"SIZE", "PIPELINING", "DSN", "ENHANCEDSTATUSCODES", "STARTTLS", "X-ANONYMOUSTLS",
			"AUTH", "X-EXPS GSSAPI NTLM", "8BITMIME", "BINARYMIME", "CHUNKING", "SMTPUTF8"},
		mechanismsPlain: []string{"NTLM"},
		mechanismsTLS:   []string{"NTLM", "LOGIN"},
		chunking:        true,
		authFailDelay:   delayRange{2 * time.Second, 3 * time.Second},
		r:               r,
	}
}

// exchangeHost is the server's FQDN as Exchange prints it: the host label
// in capitals, as Windows computer names are.
func exchangeHost(h hostView) string {
	return strings.ToUpper(h.shortname) + "." + h.domain
}

func exchangeMessageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func exchangeInternalID() uint64 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return 1000000 + uint64(b[0])<<16 | uint64(b[1])<<8 | uint64(b[2])
}

// eximMessageID builds an Exim 4.96 message id: the time in seconds, the
// receiving process id and the fraction of the second (in units of
// 1/2000 s on Linux), each in base 62, as "ttttTT-pppppp-ff".
func eximMessageID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	pid := 1000 + (uint64(b[0])<<16|uint64(b[1])<<8|uint64(b[2]))%4000000
	return base62(uint64(now.Unix()), 6) + "-" + base62(pid, 6) + "-" + base62(uint64(now.Nanosecond()/500000), 2)
}

const base62Digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func base62(v uint64, width int) string {
	out := make([]byte, width)
	for i := width - 1; i >= 0; i-- {
		out[i] = base62Digits[v%62]
		v /= 62
	}
	return string(out)
}
