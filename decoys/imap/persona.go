package imap

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/decnet/decnet/decoys/mailbox"
)

// Persona ids.
const (
	PersonaDovecot  = "dovecot-2.3-debian12"
	PersonaExchange = "exchange-2019"
	PersonaCourier  = "courier-imap-5.0-debian12"
)

// ErrUnknownPersona is returned by New for a persona id it does not know.
var ErrUnknownPersona = errors.New("unknown imap persona")

// persona is the set of texts and rules that differ between IMAP servers. The Dovecot
// texts come from src/imap-login and src/imap of Dovecot 2.3.19.1 and were
// checked against Debian 12's dovecot-imapd; the Exchange texts from
// nmap-service-probes and published transcripts.
type persona struct {
	id       string
	greeting func(host string) string
	// preCaps is the login process's capability list before STARTTLS,
	// LOGINDISABLED and AUTH= are added.
	preCaps string
	// postCaps is the capability list after login.
	postCaps string
	// exchange selects Exchange's capability layout (AUTH= entries
	// first) and its untagged greeting and login replies.
	exchange bool
	// saslExtra are mechanisms advertised besides the configured ones.
	saslExtra []string

	capabilityDone   string
	invalidCommand   string // BAD text for a bad command before login
	tooManyBad       string
	maxBad           int
	plaintextAlert   string // untagged BAD [ALERT] after LOGIN before TLS
	plaintextDenied  string // tagged reply to LOGIN before TLS
	mechDenied       string
	unsupportedMech  string
	authFailed       string
	loginFailed      string
	aborted          string
	badBase64IR      string
	badBase64        string
	starttls         string
	logoutBye        string
	logoutDone       string
	noopDone         string
	idDone           string
	inputBufferFull  string
	loggedIn         string
	maxLoginLine     int
	maxLoginToken    int
	timing           bool // Dovecot appends "(x + y secs)" after login
	postBadPrefix    string
	postMaxBad       int
	idleDisconnect   string
	completedName    func(cmd string) string
	loginTagHint     bool
	enableBeforeAuth bool
	// plaintextDefault is disable_plaintext_auth's default: Courier's
	// Debian configuration has IMAP_TLS_REQUIRED=0.
	plaintextDefault bool

	// The fields below are Courier's departures from the Dovecot flow;
	// their zero values keep Dovecot's behaviour.

	// capsFunc, when set, builds the pre-login capability list for the
	// TLS state.
	capsFunc func(secured bool) string
	// plainLoginOK replies to a login with "OK " and loggedIn, without the
	// capability list.
	plainLoginOK bool
	// noID rejects ID before login as an unknown command.
	noID bool
	// failAll replies to every failed, aborted or malformed authentication
	// with loginFailed after the failure delay.
	failAll bool
	// fixedFailDelay replaces Dovecot's delay and per-source penalty.
	fixedFailDelay time.Duration
	// starttlsOnce rejects STARTTLS inside TLS as an unknown command.
	starttlsOnce bool
	// tagAsCommand takes a line of one word as tag and command.
	tagAsCommand bool
	// selectLines, when set, are the untagged replies to SELECT and
	// EXAMINE.
	selectLines func(f *mailbox.Folder, readOnly bool) []string
	// folderPrefix is put before every folder but INBOX, as Courier's
	// maildir++ names them ("INBOX.Sent").
	folderPrefix string
	// namespace is the NAMESPACE reply.
	namespace string
	// courierList selects Courier's LIST flags and quoted names, its
	// STATUS with a quoted name, and \Recent on every message.
	courierList bool
	// okText, when set, is the whole text of a command's OK reply.
	okText func(cmd, prefix string) string
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
		// CAPABILITY_BANNER_STRING plus LITERAL+.
		preCaps:   "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+",
		namespace: `* NAMESPACE (("" ".")) NIL NIL`,
		postCaps:  "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+ NOTIFY SPECIAL-USE",

		capabilityDone:  "OK Pre-login capabilities listed, post-login capabilities have more.",
		invalidCommand:  "BAD Error in IMAP command received by server.",
		tooManyBad:      "* BYE Too many invalid IMAP commands.",
		maxBad:          3,
		plaintextAlert:  "* BAD [ALERT] Plaintext authentication not allowed without SSL/TLS, but your client did it anyway. If anyone was listening, the password was exposed.",
		plaintextDenied: "NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.",
		mechDenied:      "NO [PRIVACYREQUIRED] Plaintext authentication disabled.",
		unsupportedMech: "NO [ALERT] Unsupported authentication mechanism.",
		authFailed:      "NO [AUTHENTICATIONFAILED] Authentication failed.",
		loginFailed:     "NO [AUTHENTICATIONFAILED] Authentication failed.",
		aborted:         "BAD Authentication aborted by client.",
		badBase64IR:     "BAD Invalid base64 data in initial response",
		badBase64:       "NO [ALERT] Invalid base64 in response",
		starttls:        "OK Begin TLS negotiation now.",
		logoutBye:       "* BYE Logging out",
		logoutDone:      "OK Logout completed.",
		noopDone:        "OK NOOP completed.",
		idDone:          "OK ID completed.",
		inputBufferFull: "* BYE Input buffer full, aborting",
		loggedIn:        "Logged in",
		// IMAP_LOGIN_MAX_LINE_LENGTH, and LOGIN_MAX_INBUF_SIZE for one
		// token, since the parser consumes the line token by token.
		maxLoginLine:     8192,
		maxLoginToken:    1026,
		timing:           true,
		postMaxBad:       20,
		idleDisconnect:   "* BYE Disconnected for inactivity.",
		completedName:    dovecotCompleted,
		loginTagHint:     true,
		enableBeforeAuth: true,
	}
}

// dovecotCompleted is the word Dovecot's replies use for a command:
// "Select completed", "Fetch completed", "NOOP completed".
func dovecotCompleted(cmd string) string {
	if cmd == "NOOP" || cmd == "ID" || cmd == "" {
		return cmd
	}
	return cmd[:1] + strings.ToLower(cmd[1:])
}

// exchangePersona is the IMAP4 service of Exchange 2013 to 2019 with the
// default LoginType SecureLogin.
func exchangePersona() *persona {
	return &persona{
		id: PersonaExchange,
		greeting: func(host string) string {
			return "The Microsoft Exchange IMAP4 service is ready. [" + utf16Base64(host) + "]"
		},
		preCaps:   "IMAP4 IMAP4rev1",
		namespace: `* NAMESPACE (("" ".")) NIL NIL`,
		postCaps:  "IMAP4 IMAP4rev1 AUTH=NTLM AUTH=GSSAPI AUTH=PLAIN UIDPLUS MOVE ID CHILDREN IDLE NAMESPACE LITERAL+",
		exchange:  true,
		saslExtra: []string{"NTLM", "GSSAPI"},

		capabilityDone:  "OK CAPABILITY completed.",
		invalidCommand:  "BAD Command Error. 10",
		plaintextDenied: "BAD Command received in Invalid state.",
		mechDenied:      "BAD Command received in Invalid state.",
		unsupportedMech: "NO The specified authentication package is not supported.",
		authFailed:      "NO AUTHENTICATE failed.",
		loginFailed:     "NO LOGIN failed.",
		aborted:         "BAD Command Argument Error. 12",
		badBase64IR:     "NO AUTHENTICATE failed.",
		badBase64:       "NO AUTHENTICATE failed.",
		starttls:        "OK Begin TLS negotiation now.",
		logoutBye:       "* BYE Microsoft Exchange Server IMAP4 server signing off.",
		logoutDone:      "OK LOGOUT completed.",
		noopDone:        "OK NOOP completed.",
		idDone:          "OK ID completed.",
		inputBufferFull: "* BYE Connection is closed. 13",
		loggedIn:        "LOGIN completed.",
		maxLoginLine:    8192,
		maxLoginToken:   8192,
		postBadPrefix:   "BAD Command Error. 10",
		idleDisconnect:  "* BYE Connection is closed. 13",
		completedName:   func(cmd string) string { return cmd },
	}
}

// courierPersona is imaplogin and imapd of Courier-IMAP 5.0.13 (Debian
// 12's courier-imap) with Debian's /etc/courier/imapd: IMAP_CAPABILITY
// without AUTH= entries, AUTH=PLAIN added after STARTTLS, and
// IMAP_TLS_REQUIRED=0. The pre-login texts and the 5 s pause after a
// failed login were read off the real imaplogin; the post-login texts
// are imapd's own strings. nmap names the banner "Courier Imapd".
func courierPersona() *persona {
	return &persona{
		id: PersonaCourier,
		greeting: func(string) string {
			return "Courier-IMAP ready. Copyright 1998-2019 Double Precision, Inc.  See COPYING for distribution information."
		},
		capsFunc: func(secured bool) string {
			if secured {
				return "IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE AUTH=PLAIN ACL ACL2=UNION ENABLE UTF8=ACCEPT"
			}
			return "IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE ACL ACL2=UNION STARTTLS ENABLE UTF8=ACCEPT"
		},
		postCaps:         "IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE ACL ACL2=UNION ENABLE UTF8=ACCEPT",
		plainLoginOK:     true,
		plaintextDefault: true,
		noID:             true,
		failAll:          true,
		fixedFailDelay:   5 * time.Second,

		capabilityDone: "OK CAPABILITY completed",
		invalidCommand: "NO Error in IMAP command received by server.",
		// imapd ends the session after ten protocol violations in a row.
		tooManyBad: "* BYE [ALERT] Fatal error: TOO MANY CONSECUTIVE PROTOCOL VIOLATIONS: ",
		maxBad:     10,
		// NOTE: with disable_plaintext_auth = yes these two are not
		// Courier's (Debian's Courier requires no TLS): unchecked.
		plaintextDenied: "NO Login failed.",
		mechDenied:      "NO Login failed.",
		unsupportedMech: "NO Login failed.",
		authFailed:      "NO Login failed.",
		loginFailed:     "NO Login failed.",
		aborted:         "NO Login failed.",
		badBase64IR:     "NO Login failed.",
		badBase64:       "NO Login failed.",
		starttls:        "OK Begin SSL/TLS negotiation now.",
		logoutBye:       "* BYE Courier-IMAP server shutting down",
		logoutDone:      "OK LOGOUT completed",
		noopDone:        "OK NOOP completed",
		idDone:          "OK ID completed",
		// imaplogin reads lines of any length but no atom over 16384
		// bytes. NOTE: the decoy bounds the line at 64 KiB, and counts
		// atoms that Courier would skip after an unknown command.
		inputBufferFull: "* BYE [ALERT] Fatal error: max atom size too small: ",
		loggedIn:        "LOGIN Ok.",
		maxLoginLine:    64 << 10,
		maxLoginToken:   16384,
		postBadPrefix:   "NO Error in IMAP command received by server.",
		postMaxBad:      10,
		idleDisconnect:  "* BYE Disconnected for inactivity.",
		completedName:   func(cmd string) string { return cmd },
		okText:          courierOK,
		tagAsCommand:    true,
		starttlsOnce:    true,
		folderPrefix:    "INBOX.",
		namespace:       `* NAMESPACE (("INBOX." ".")) NIL (("#shared." ".")("shared." "."))`,
		courierList:     true,
		selectLines:     courierSelect,
	}
}

// courierSelect is imapd's SELECT reply. Courier counts every message
// as recent on a mailbox's first opening, as the decoy's regenerated
// mailbox always is.
func courierSelect(f *mailbox.Folder, readOnly bool) []string {
	perm := `* OK [PERMANENTFLAGS (\* \Draft \Answered \Flagged \Deleted \Seen)] Limited`
	if readOnly {
		// NOTE: EXAMINE was not compared with the real imapd.
		perm = `* OK [PERMANENTFLAGS ()] No permanent flags permitted`
	}
	return []string{
		`* FLAGS (\Draft \Answered \Flagged \Deleted \Seen \Recent)`,
		perm,
		fmt.Sprintf("* %d EXISTS", len(f.Messages)),
		fmt.Sprintf("* %d RECENT", len(f.Messages)),
		fmt.Sprintf("* OK [UIDVALIDITY %d] Ok", f.UIDValidity),
		`* OK [MYRIGHTS "acdilrsw"] ACL`,
	}
}

// courierOK is the text of imapd's OK replies: some end in a period,
// some do not, and SELECT and EXAMINE end in "Ok".
func courierOK(cmd, prefix string) string {
	switch cmd {
	case "CAPABILITY", "NOOP", "ID", "IDLE", "LOGOUT", "CHECK", "EXPUNGE", "LIST", "LSUB":
		return "OK " + cmd + " completed"
	case "SELECT", "EXAMINE":
		return "OK " + prefix + "Ok"
	case "STATUS":
		return "OK STATUS Completed."
	}
	// NOTE: FETCH, STORE, NAMESPACE, SUBSCRIBE and COPY are imapd's
	// strings; the other commands follow their pattern unchecked.
	return "OK " + prefix + cmd + " completed."
}

func utf16Base64(s string) string {
	units := utf16.Encode([]rune(s))
	b := make([]byte, 0, 2*len(units))
	for _, u := range units {
		b = append(b, byte(u), byte(u>>8))
	}
	return base64.StdEncoding.EncodeToString(b)
}
