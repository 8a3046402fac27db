// Package decoys holds what every protocol decoy shares: the service and
// emitter contracts, the accept loop with its limits, and the helpers that
// stamp events with their connection's identity. Each protocol lives in a
// subpackage (decoys/ssh, decoys/http, ...).
package decoys

import (
	"context"
	"net"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/decoys/fetch"
	"github.com/decnet/decnet/decoys/quarantine"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// Event kinds. The kind names the payload that an event carries.
const (
	KindConnectionOpened    = "connection.opened"
	KindConnectionClosed    = "connection.closed"
	KindAuthAttempt         = "auth.attempt"
	KindCommand             = "command"
	KindHTTPRequest         = "http.request"
	KindFileCaptured        = "file.captured"
	KindFileRequested       = "file.requested"
	KindDownload            = "download.requested"
	KindSessionRecorded     = "session.recorded"
	KindForward             = "forward.requested"
	KindClientFingerprinted = "client.fingerprinted"
	KindMailReceived        = "mail.received"
	// KindConnectionRejected summarises connections closed at accept over
	// a connection limit. It belongs to no session.
	KindConnectionRejected = "connection.rejected"
)

// Secret kinds: the form of the secret bytes of an authentication attempt.
const (
	SecretPlaintext    = "plaintext"
	SecretSSHPublicKey = "ssh_publickey" //nolint:gosec // G101: a kind name, not a credential

	// The secret of an HTTP Digest attempt is the header's credentials,
	// from which the response can be checked offline against a password
	// guess with the realm, nonce and uri it contains. The kind names the
	// hash of the response.
	SecretHTTPDigestMD5       = "http_digest_md5"        //nolint:gosec // G101: a kind name, not a credential
	SecretHTTPDigestSHA256    = "http_digest_sha256"     //nolint:gosec // G101: a kind name, not a credential
	SecretHTTPDigestSHA512256 = "http_digest_sha512_256" //nolint:gosec // G101: a kind name, not a credential

	// The secret of a SASL CRAM-MD5 attempt (RFC 2195) is the challenge
	// and the client's response joined by a space, enough to test a
	// password guess offline. POP3 APOP carries the same pair.
	SecretCRAMMD5 = "cram_md5" //nolint:gosec // G101: a kind name, not a credential
	SecretAPOP    = "apop_md5" //nolint:gosec // G101: a kind name, not a credential

	// The secret of an NTLM attempt is the challenge-response as a
	// hashcat line: mode 5600 for NTLMv2
	// (user::domain:serverchallenge:ntproofstr:blob) and mode 5500 for
	// NTLMv1 (user::domain:lmresponse:ntresponse:serverchallenge), in
	// hex. Either lets a password guess be tested offline.
	SecretNTLMv2 = "ntlmssp_v2" //nolint:gosec // G101: a kind name, not a credential
	SecretNTLMv1 = "ntlmssp_v1" //nolint:gosec // G101: a kind name, not a credential
)

// Mechanisms: the carrier of an authentication attempt.
const (
	MechanismSSHPassword            = "ssh_password"
	MechanismSSHKeyboardInteractive = "ssh_keyboard_interactive"
	MechanismSSHPublicKey           = "ssh_publickey"
	MechanismHTTPBasic              = "http_basic"
	MechanismHTTPBearer             = "http_bearer"
	MechanismHTTPForm               = "http_form"
	// MechanismHTTPQuery is a login sent in the query string.
	MechanismHTTPQuery = "http_query"
	// MechanismHTTPJSON is a login posted as a JSON object.
	MechanismHTTPJSON = "http_json"
	// MechanismHTTPDigest is an Authorization: Digest header (RFC 7616).
	MechanismHTTPDigest = "http_digest"
	// MechanismHTTPNTLM is an NTLM handshake in Authorization: NTLM or
	// Negotiate headers, as IIS runs it for Windows authentication.
	MechanismHTTPNTLM = "http_ntlm"
	MechanismFTPPass  = "ftp_pass"
	MechanismTelnet   = "telnet_login"
	// SASL mechanisms, whatever protocol carried them (SMTP AUTH, IMAP
	// AUTHENTICATE, POP3 AUTH).
	MechanismSASLPlain   = "sasl_plain"
	MechanismSASLLogin   = "sasl_login"
	MechanismSASLCRAMMD5 = "sasl_cram_md5"
	MechanismSASLNTLM    = "sasl_ntlm"
	// Plain-text logins of the mail protocols themselves.
	MechanismPOP3Pass  = "pop3_pass"
	MechanismPOP3APOP  = "pop3_apop"
	MechanismIMAPLogin = "imap_login"
)

// Emitter receives the events a decoy produces. Emit must never block the
// caller: implementations queue the event or count it as dropped. The
// emitter owns the event after the call.
type Emitter interface {
	Emit(ev *eventv1.Event)
}

// Service is one protocol implementation. Serve accepts connections from ln
// until ctx ends, then closes ln and returns nil; it returns an error only
// when the listener fails for good.
type Service interface {
	Serve(ctx context.Context, ln net.Listener) error
}

// PacketService is a datagram protocol implementation (TFTP, and later
// DNS or SNMP). ServePacket reads from pc until ctx ends, then closes pc
// and returns nil; it returns an error only when pc fails for good.
type PacketService interface {
	ServePacket(ctx context.Context, pc net.PacketConn) error
}

// Config is the input of every service constructor.
type Config struct {
	// Decky is the name of the fake host the service belongs to.
	Decky string
	// Seed derives per-decky values (host keys, hostnames, challenges), so
	// that two deckies never share them and a decky keeps its own across
	// restarts.
	Seed []byte
	// Persona is the id of the real product the service imitates, such as
	// "openssh-9.2p1-debian12". Empty selects the service's default.
	Persona string
	Emitter Emitter
	Logger  zerolog.Logger
	Limits  Limits
	// Metrics counts connections; nil counts nothing.
	Metrics *Metrics
	// Quarantine keeps the files attackers send; nil only hashes them.
	Quarantine *quarantine.Store
	// RecordingDir holds the recordings of live interactive sessions, so
	// a crash leaves partial recordings on disk; empty records in memory
	// only.
	RecordingDir string
	// Fetcher downloads what attackers ask emulated shells to fetch; nil,
	// the default, records the URLs without fetching them.
	Fetcher *fetch.Fetcher
	// Options are the service's own settings from the decoy configuration
	// (for example an FTP server's advertised address). Each service
	// documents the keys it reads and rejects keys it does not know.
	Options map[string]string
}
