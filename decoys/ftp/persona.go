package ftp

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Persona ids.
const (
	PersonaVsftpd  = "vsftpd-3.0.3-debian12"
	PersonaProFTPD = "proftpd-1.3.8-debian12"
	PersonaMSFTP   = "msftp-10.0-windows"

	// DefaultPersona is used when decoys.Config.Persona is empty.
	DefaultPersona = PersonaVsftpd
)

// ErrUnknownPersona is returned by New for a persona id it does not know.
var ErrUnknownPersona = errors.New("unknown ftp persona")

// Personas returns the ids New accepts, sorted.
func Personas() []string {
	ids := []string{PersonaVsftpd, PersonaProFTPD, PersonaMSFTP}
	slices.Sort(ids)
	return ids
}

// listStyle is the layout of LIST output.
type listStyle int

const (
	// listVsftpd is vsftpd's ls.c layout: numeric owners, two-digit day.
	listVsftpd listStyle = iota
	// listProFTPD is mod_ls's layout: owner names, space-padded day.
	listProFTPD
	// listDOS is IIS's default MS-DOS style.
	listDOS
)

// persona holds everything an FTP client can observe of one product: the
// texts and codes of every reply, which commands it accepts before login,
// how it reads lines, and its timing. Reply texts carry no code and no
// line ending; fmt verbs mark the variable parts.
type persona struct {
	id string

	// banner returns the greeting text after "220 "; local is the
	// control connection's local address, which ProFTPD prints.
	banner func(local netip.Addr) string

	// preLogin lists the commands handled normally before login; any
	// other known command gets needLogin. Unknown commands get unknown
	// before login too when unknownBeforeLogin is set, needLogin when not.
	preLogin           []string
	unknownBeforeLogin bool
	// extraCommands are verbs beyond knownCommands that the product
	// implements, so that they get needLogin before login.
	extraCommands []string
	// missingCommands are verbs of knownCommands the product lacks.
	missingCommands []string
	// mlsd enables MLSD and MLST (RFC 3659).
	mlsd bool
	// clnt is the reply to CLNT; "" treats CLNT as unknown.
	clnt      string
	needLogin string

	// proftpd selects ProFTPD's command reader and the replies in
	// which it departs from the table below (proftpd.go).
	proftpd bool

	// Lines longer than maxLine bytes before the LF get lineTooLong and
	// the connection closes; an empty lineTooLong closes silently.
	maxLine     int
	lineTooLong string
	// ignoreLongLines skips over-long lines without a reply instead.
	ignoreLongLines bool
	// ignoreEmpty skips empty lines without a reply.
	ignoreEmpty bool
	// emptyReply is the reply to an empty line when ignoreEmpty is false.
	emptyReply string

	// idleTimeout is the product's default idle timeout; timeoutReply is
	// sent when it fires ("" closes silently).
	idleTimeout  time.Duration
	timeoutReply string

	// Login.
	userOK        string // 331, %s is the user name
	anonUserOK    string // 331 for anonymous names
	passNoUser    string // 503
	loginOK       string // 230
	anonLoginOK   string
	loginFailed   string // 530
	maxLoginFails int    // close after this many failures; 0 never
	failDelay     [2]time.Duration
	alreadyIn     string // PASS after login
	userAfterAnon string // USER after an anonymous login
	userAfterUser string // USER after a named login
	// anonNames are the user names the product treats as anonymous.
	anonNames []string

	syst         string
	feat         []string // the whole multi-line reply, code prefixes included
	help         []string
	noop         string
	quit         string
	unknown      string // %s is the command verb as sent
	optsUTF8     string
	optsBad      string
	authTLS      string // reply to AUTH before login
	authTLSAfter string // reply to AUTH after login
	pbszProt     string // PBSZ and PROT after login

	pwd       string // %s is the path
	cwdOK     string
	cwdFailed string // %s is the argument
	typeI     string
	typeA     string
	typeL8    string
	typeBad   string // %s is the argument
	modeS     string
	modeBad   string
	struF     string
	struBad   string
	allo      string
	rest      string // %d is the offset
	abor      string

	pasv         string // %s is h1,h2,h3,h4,p1,p2
	epsv         string // %d is the port
	epsvBadNet   string
	epsvAll      string
	pasvAfterAll string
	portOK       string
	eprtOK       string
	portBad      string
	eprtBad      string // malformed EPRT
	eprtIllegal  string // address or port refused
	eprtProto    string // unknown protocol
	needPort     string // 425 transfer without PORT or PASV
	badDataIP    string // passive connection from another address
	noConn       string // 425 data connection failed

	listStart string
	listDone  string
	// retrStart and storStart return the 150 reply of a transfer.
	retrStart  func(binary bool, name string, size int64) string
	retrFailed string // %s name
	storStart  func(binary bool, name string) string
	// listMissing is the reply to LIST of a missing path; "" sends an empty
	// listing as vsftpd does.
	listMissing string
	// listMissingAfterOpen opens the data connection with listStart before
	// listMissing, and sends nothing on it, as ProFTPD does.
	listMissingAfterOpen bool
	// asciiDownloads sends files in TYPE A with CR LF line ends.
	asciiDownloads bool
	storFailed     string // %s name
	xferDone       string
	readFailed     string // 426 after a broken upload
	writeFailed    string // 426 after a broken download
	dataTimeout    string
	listStyle      listStyle

	size string // %d
	// sizeASCII is the refusal of SIZE in ASCII mode; "" allows SIZE.
	sizeASCII  string
	sizeFailed string // %s
	mdtm       string // %s is YYYYMMDDHHMMSS
	mdtmFailed string // %s

	mkdOK        string // %s is the absolute path
	mkdFailed    string // %s
	rmdOK        string
	rmdFailed    string // %s
	deleOK       string
	deleFailed   string // %s
	rnfrOK       string
	rnfrFailed   string // %s
	rntoNeed     string
	rntoOK       string
	denied       string // write refused for the login (anonymous)
	renameFailed string // %s
	// notImplemented is the reply to REIN, ACCT and SMNT, with the verb as %s.
	notImplemented string
	// site returns the reply to SITE.
	site func(arg string, anonymous bool) string

	// stat returns the multi-line STAT reply without arguments.
	stat func(st statInfo) []string
	// statFile returns the lines around a STAT listing of a path.
	statFileHead string
	statFileTail string
}

// statInfo is the session data a STAT reply prints.
type statInfo struct {
	remote  netip.Addr
	user    string
	binary  bool
	timeout time.Duration
	clients int64
}

// knownCommands is every verb the personas implement; others are unknown.
var knownCommands = []string{
	"ABOR", "ACCT", "ALLO", "APPE", "AUTH", "CDUP", "CWD", "DELE", "EPRT", "EPSV",
	"FEAT", "HELP", "LIST", "MDTM", "MKD", "MODE", "NLST", "NOOP", "OPTS", "PASS",
	"PASV", "PBSZ", "PORT", "PROT", "PWD", "QUIT", "REIN", "REST", "RETR", "RMD",
	"RNFR", "RNTO", "SITE", "SIZE", "SMNT", "STAT", "STOR", "STOU", "STRU", "SYST",
	"TYPE", "USER", "XCUP", "XCWD", "XMKD", "XPWD", "XRMD",
}

func newPersona(id string) (*persona, error) {
	switch id {
	case "", PersonaVsftpd:
		return vsftpdPersona(), nil
	case PersonaProFTPD:
		return proftpdPersona(), nil
	case PersonaMSFTP:
		return msftpPersona(), nil
	}
	return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownPersona, id, strings.Join(Personas(), ", "))
}

// vsftpdPersona is vsftpd 3.0.3-13 from Debian 12 with the packaged
// vsftpd.conf (anonymous off, local users on, no TLS) and write_enable on.
// Every text was captured from that daemon on loopback.
func vsftpdPersona() *persona {
	return &persona{ //nolint:gosec // G101: reply texts about passwords, not credentials
		id:     PersonaVsftpd,
		banner: func(netip.Addr) string { return "(vsFTPd 3.0.3)" },

		preLogin:    []string{"USER", "PASS", "QUIT", "FEAT", "OPTS"},
		needLogin:   "530 Please login with USER and PASS.",
		maxLine:     4095,
		lineTooLong: "500 Input line too long.",
		ignoreEmpty: true,

		// idle_session_timeout defaults to 300 s.
		idleTimeout:  300 * time.Second,
		timeoutReply: "421 Timeout.",

		userOK:        "331 Please specify the password.",
		anonUserOK:    "331 Please specify the password.",
		passNoUser:    "503 Login with USER first.",
		loginOK:       "230 Login successful.",
		anonLoginOK:   "230 Login successful.",
		loginFailed:   "530 Login incorrect.",
		maxLoginFails: 3,
		// pam_unix's failure delay as measured against the packaged PAM
		// stack: 2.5 s to 3.5 s.
		failDelay:     [2]time.Duration{2500 * time.Millisecond, 3500 * time.Millisecond},
		alreadyIn:     "230 Already logged in.",
		userAfterAnon: "530 Can't change from guest user.",
		userAfterUser: "530 Can't change to another user.",
		anonNames:     []string{"FTP", "ANONYMOUS"},

		syst: "215 UNIX Type: L8",
		feat: []string{"211-Features:", " EPRT", " EPSV", " MDTM", " PASV", " REST STREAM", " SIZE", " TVFS", "211 End"},
		help: []string{
			"214-The following commands are recognized.",
			" ABOR ACCT ALLO APPE CDUP CWD  DELE EPRT EPSV FEAT HELP LIST MDTM MKD",
			" MODE NLST NOOP OPTS PASS PASV PORT PWD  QUIT REIN REST RETR RMD  RNFR",
			" RNTO SITE SIZE SMNT STAT STOR STOU STRU SYST TYPE USER XCUP XCWD XMKD",
			" XPWD XRMD",
			"214 Help OK.",
		},
		noop:         "200 NOOP ok.",
		quit:         "221 Goodbye.",
		unknown:      "500 Unknown command.",
		optsUTF8:     "200 Always in UTF8 mode.",
		optsBad:      "501 Option not understood.",
		authTLS:      "530 Please login with USER and PASS.",
		authTLSAfter: "500 Unknown command.",
		// Without ssl_enable, PBSZ and PROT fall to the refusal of
		// commands the configuration disables.
		pbszProt: "550 Permission denied.",

		pwd:       `257 "%s" is the current directory`,
		cwdOK:     "250 Directory successfully changed.",
		cwdFailed: "550 Failed to change directory.",
		typeI:     "200 Switching to Binary mode.",
		typeA:     "200 Switching to ASCII mode.",
		typeL8:    "200 Switching to Binary mode.",
		typeBad:   "500 Unrecognised TYPE command.",
		modeS:     "200 Mode set to S.",
		modeBad:   "504 Bad MODE command.",
		struF:     "200 Structure set to F.",
		struBad:   "504 Bad STRU command.",
		allo:      "202 ALLO command ignored.",
		rest:      "350 Restart position accepted (%d).",
		abor:      "225 No transfer to ABOR.",

		pasv:         "227 Entering Passive Mode (%s).",
		epsv:         "229 Entering Extended Passive Mode (|||%d|)",
		epsvBadNet:   "522 Bad network protocol.",
		epsvAll:      "200 EPSV ALL ok.",
		pasvAfterAll: "550 Permission denied.",
		portOK:       "200 PORT command successful. Consider using PASV.",
		eprtOK:       "200 EPRT command successful. Consider using EPSV.",
		portBad:      "500 Illegal PORT command.",
		eprtBad:      "500 Bad EPRT command.",
		eprtIllegal:  "500 Illegal EPRT command.",
		eprtProto:    "500 Bad EPRT protocol.",
		needPort:     "425 Use PORT or PASV first.",
		badDataIP:    "425 Security: Bad IP connecting.",
		noConn:       "425 Failed to establish connection.",

		listStart: "150 Here comes the directory listing.",
		listDone:  "226 Directory send OK.",
		// ascii_download_enable is off, so the reply names BINARY in
		// either TYPE.
		retrStart: func(_ bool, name string, size int64) string {
			return fmt.Sprintf("150 Opening BINARY mode data connection for %s (%d bytes).", name, size)
		},
		retrFailed:  "550 Failed to open file.",
		storStart:   func(bool, string) string { return "150 Ok to send data." },
		storFailed:  "553 Could not create file.",
		xferDone:    "226 Transfer complete.",
		readFailed:  "426 Failure reading network stream.",
		writeFailed: "426 Failure writing network stream.",
		dataTimeout: "421 Data timeout. Reconnect. Sorry.",
		listStyle:   listVsftpd,

		size:       "213 %d",
		sizeFailed: "550 Could not get file size.",
		mdtm:       "213 %s",
		mdtmFailed: "550 Could not get file modification time.",

		mkdOK:          `257 "%s" created`,
		mkdFailed:      "550 Create directory operation failed.",
		rmdOK:          "250 Remove directory operation successful.",
		rmdFailed:      "550 Remove directory operation failed.",
		deleOK:         "250 Delete operation successful.",
		deleFailed:     "550 Delete operation failed.",
		rnfrOK:         "350 Ready for RNTO.",
		rnfrFailed:     "550 RNFR command failed.",
		rntoNeed:       "503 RNFR required first.",
		rntoOK:         "250 Rename successful.",
		denied:         "550 Permission denied.",
		renameFailed:   "550 Rename failed.",
		notImplemented: "502 %s not implemented.",
		site:           vsftpdSite,

		stat: func(st statInfo) []string {
			typ := "ASCII"
			if st.binary {
				typ = "BINARY"
			}
			return []string{
				"211-FTP server status:",
				"     Connected to " + st.remote.String(),
				"     Logged in as " + st.user,
				"     TYPE: " + typ,
				"     No session bandwidth limit",
				fmt.Sprintf("     Session timeout in seconds is %d", int(st.timeout.Seconds())),
				"     Control connection is plain text",
				"     Data connections will be plain text",
				fmt.Sprintf("     At session startup, client count was %d", st.clients),
				"     vsFTPd 3.0.3 - secure, fast, stable",
				"211 End of status",
			}
		},
		statFileHead: "213-Status follows:",
		statFileTail: "213 End of status",
	}
}

// proftpdPersona is ProFTPD 1.3.8 as Debian 12 ships it: proftpd-core
// with the packaged proftpd.conf and modules.conf (ServerName "Debian",
// IPv6 on so IPv4 peers print as mapped addresses, MultilineRFC2228 off,
// MaxLoginAttempts 3, mod_delay on, no mod_tls), started without a
// locale. Every text was compared with that daemon on loopback.
func proftpdPersona() *persona {
	return &persona{ //nolint:gosec // G101: reply texts about passwords, not credentials
		id: PersonaProFTPD,
		banner: func(local netip.Addr) string {
			a := local
			if a.Is4() {
				a = netip.AddrFrom16(a.As16())
			}
			return "ProFTPD Server (Debian) [" + a.String() + "]"
		},

		preLogin: []string{"USER", "PASS", "QUIT", "FEAT", "OPTS", "HELP", "SYST", "NOOP", "CLNT", "LANG", "HOST",
			"SITE", "ACCT", "REIN"},
		unknownBeforeLogin: true,
		extraCommands:      []string{"MLSD", "MLST", "CLNT", "CSID", "HOST", "LANG", "MFMT", "MFF", "RANG", "SITE"},
		proftpd:            true,
		// The TLS commands come from mod_tls, which the persona's FEAT
		// leaves out.
		missingCommands: []string{"AUTH", "PBSZ", "PROT"},
		mlsd:            true,
		clnt:            "200 OK",
		needLogin:       "530 Please login with USER and PASS",
		// CommandBufferSize defaults to PATH_MAX + 7 bytes, one of them
		// the terminating NUL.
		maxLine:         4102,
		ignoreLongLines: true,
		emptyReply:      "500 Invalid command: try being more creative",

		// Debian sets TimeoutIdle 1200.
		idleTimeout:  1200 * time.Second,
		timeoutReply: "421 Idle timeout (1200 seconds): closing control connection",

		userOK: "331 Password required for %s",
		// Used only when the anonymous option adds the <Anonymous>
		// section that Debian's proftpd.conf ships commented out.
		anonUserOK:    "331 Anonymous login ok, send your complete email address as your password",
		passNoUser:    "503 Login with USER first",
		loginOK:       "230 User %s logged in",
		anonLoginOK:   "230 Anonymous access granted, restrictions apply",
		loginFailed:   "530 Login incorrect.",
		maxLoginFails: 3,
		// pam_unix asks libpam for two seconds, which libpam varies by
		// up to a fifth either way.
		failDelay:     [2]time.Duration{1600 * time.Millisecond, 2400 * time.Millisecond},
		alreadyIn:     "503 You are already logged in",
		userAfterAnon: "501 Reauthentication not supported",
		userAfterUser: "501 Reauthentication not supported",
		anonNames:     []string{"ANONYMOUS", "FTP"},

		syst: "215 UNIX Type: L8",
		feat: []string{
			"211-Features:",
			" CLNT", " CSID", " EPRT", " EPSV", " HOST", " LANG en-US*", " MDTM",
			" MFF modify;UNIX.group;UNIX.mode;", " MFMT",
			" MLST modify*;perm*;size*;type*;unique*;UNIX.group*;UNIX.groupname*;UNIX.mode*;UNIX.owner*;UNIX.ownername*;",
			" RANG STREAM", " REST STREAM", " SITE COPY", " SITE MKDIR", " SITE RMDIR",
			" SITE SYMLINK", " SITE UTIME", " SIZE", " TVFS", " UTF8",
			"211 End",
		},
		// HELP comes from proftpdHelp, which names the host.
		noop:         "200 NOOP command successful",
		quit:         "221 Goodbye.",
		unknown:      "500 %s not understood",
		optsUTF8:     "200 UTF8 set to on",
		optsBad:      "501 OPTS: unsupported option",
		authTLS:      "500 AUTH not understood",
		authTLSAfter: "500 AUTH not understood",
		pbszProt:     "500 %s not understood",

		pwd:       `257 "%s" is the current directory`,
		cwdOK:     "250 %s command successful",
		cwdFailed: "550 %s: No such file or directory",
		typeI:     "200 Type set to I",
		typeA:     "200 Type set to A",
		typeL8:    "200 Type set to L",
		typeBad:   "504 TYPE not implemented for '%s' parameter",
		modeS:     "200 Mode set to S",
		modeBad:   "504 'MODE' unsupported transfer mode",
		struF:     "200 Structure set to F",
		struBad:   "504 'STRU' unsupported structure type",
		allo:      "202 No storage allocation necessary",
		rest:      "350 Restarting at %d. Send STORE or RETRIEVE to initiate transfer",
		abor:      "226 Abort successful",

		pasv:         "227 Entering Passive Mode (%s).",
		epsv:         "229 Entering Extended Passive Mode (|||%d|)",
		epsvBadNet:   "522 Network protocol not supported, use (1)",
		epsvAll:      "200 EPSV ALL command successful",
		pasvAfterAll: "500 Illegal PASV command, EPSV ALL in effect",
		portOK:       "200 PORT command successful",
		eprtOK:       "200 EPRT command successful",
		portBad:      "500 Illegal PORT command",
		eprtBad:      "501 Illegal EPRT command",
		eprtIllegal:  "500 Illegal EPRT command",
		eprtProto:    "522 Network protocol not supported, use (1)",
		// Without PORT or PASV, ProFTPD connects to the client's port
		// 20, which nothing answers.
		needPort:  "425 Unable to build data connection: Connection refused",
		badDataIP: "425 Unable to build data connection: Operation not permitted",
		noConn:    "425 Unable to build data connection: Connection refused",

		listStart: "150 Opening ASCII mode data connection for file list",
		listDone:  "226 Transfer complete",
		retrStart: func(binary bool, name string, size int64) string {
			unit := "bytes"
			if size == 1 {
				unit = "byte"
			}
			return fmt.Sprintf("150 Opening %s mode data connection for %s (%d %s)", modeString(binary), name, size, unit)
		},
		retrFailed: "550 %s: No such file or directory",
		storStart: func(binary bool, name string) string {
			return fmt.Sprintf("150 Opening %s mode data connection for %s", modeString(binary), name)
		},
		listMissing:          "450 %s: No such file or directory",
		listMissingAfterOpen: true,
		asciiDownloads:       true,
		storFailed:           "550 %s: Permission denied",
		xferDone:             "226 Transfer complete",
		readFailed:           "426 Transfer aborted. Data connection closed",
		writeFailed:          "426 Transfer aborted. Data connection closed",
		dataTimeout:          "421 No transfer timeout (600 seconds): closing control connection",
		listStyle:            listProFTPD,

		size:       "213 %d",
		sizeASCII:  "550 SIZE not allowed in ASCII mode",
		sizeFailed: "550 %s: No such file or directory",
		mdtm:       "213 %s",
		mdtmFailed: "550 %s: No such file or directory",

		mkdOK:          `257 "%s" - Directory successfully created`,
		mkdFailed:      "550 %s: File exists",
		rmdOK:          "250 RMD command successful",
		rmdFailed:      "550 %s: No such file or directory",
		deleOK:         "250 DELE command successful",
		deleFailed:     "550 %s: No such file or directory",
		rnfrOK:         "350 File or directory exists, ready for destination name",
		rnfrFailed:     "550 %s: No such file or directory",
		rntoNeed:       "503 Bad sequence of commands",
		rntoOK:         "250 Rename successful",
		denied:         "550 %s: Permission denied",
		renameFailed:   "550 %s: Permission denied",
		notImplemented: "502 %s command not implemented",
		site: func(arg string, _ bool) string {
			return "500 'SITE " + strings.ToUpper(arg) + "' not understood"
		},

		stat: func(st statInfo) []string {
			typ := "ASCII"
			if st.binary {
				typ = "BINARY"
			}
			// The client's address prints twice: the first is its
			// reverse DNS name, which most attackers lack.
			return []string{
				"211-Status of 'Debian'",
				" Connected from " + st.remote.String() + " (" + st.remote.String() + ")",
				" Logged in as " + st.user,
				" TYPE: " + typ + ", STRUcture: File, Mode: Stream",
				" No data connection",
				"211 End of status",
			}
		},
		statFileHead: "213-Status of %s:",
		statFileTail: "213 End of status",
	}
}

// msftpPersona is the FTP service of IIS 10 on Windows Server 2019 or
// 2022 with basic authentication, no FTP over TLS requirement and the
// default MS-DOS directory listing. The texts follow published transcripts
// and nmap's match lines; no Windows host was available to capture them.
func msftpPersona() *persona {
	return &persona{ //nolint:gosec // G101: reply texts about passwords, not credentials
		id:     PersonaMSFTP,
		banner: func(netip.Addr) string { return "Microsoft FTP Service" },

		preLogin:           []string{"USER", "PASS", "QUIT", "FEAT", "OPTS", "SYST", "NOOP", "HELP", "AUTH"},
		unknownBeforeLogin: true,
		needLogin:          "530 Please login with USER and PASS.",
		maxLine:            8191,
		lineTooLong:        "500 Command not understood.",
		emptyReply:         "500 Command not understood.",

		// IIS's control channel timeout defaults to 120 s.
		idleTimeout:  120 * time.Second,
		timeoutReply: "421 Timeout (120 seconds): closing control connection.",

		userOK:        "331 Password required",
		anonUserOK:    "331 Anonymous access allowed, send identity (e-mail name) as password.",
		passNoUser:    "503 Login with USER first.",
		loginOK:       "230 User logged in.",
		anonLoginOK:   "230 User logged in.",
		loginFailed:   "530 User cannot log in.",
		failDelay:     [2]time.Duration{200 * time.Millisecond, 500 * time.Millisecond},
		alreadyIn:     "503 Bad sequence of commands.",
		userAfterAnon: "331 Password required",
		userAfterUser: "331 Password required",
		anonNames:     []string{"ANONYMOUS", "FTP"},

		syst: "215 Windows_NT",
		feat: []string{
			"211-Extended features supported:",
			" LANG EN*", " UTF8", " AUTH TLS;TLS-C;SSL;TLS-P;", " PBSZ", " PROT C;P;", " CCC", " HOST",
			" SIZE", " MDTM", " REST STREAM",
			"211 END",
		},
		help: []string{
			"214-The following commands are recognized (* ==>'s unimplemented).",
			"    ABOR ",
			"    ACCT ",
			"    ADAT *",
			"    ALLO ",
			"    APPE ",
			"    AUTH ",
			"    CCC  ",
			"    CDUP ",
			"    CWD  ",
			"    DELE ",
			"    ENC  *",
			"    EPRT ",
			"    EPSV ",
			"    FEAT ",
			"    HELP ",
			"    HOST ",
			"    LANG ",
			"    LIST ",
			"    MDTM ",
			"    MIC  *",
			"    MKD  ",
			"    MODE ",
			"    NLST ",
			"    NOOP ",
			"    OPTS ",
			"    PASS ",
			"    PASV ",
			"    PBSZ ",
			"    PORT ",
			"    PROT ",
			"    PWD  ",
			"    QUIT ",
			"    REIN ",
			"    REST ",
			"    RETR ",
			"    RMD  ",
			"    RNFR ",
			"    RNTO ",
			"    SITE ",
			"    SIZE ",
			"    SMNT ",
			"    STAT ",
			"    STOR ",
			"    STOU ",
			"    STRU ",
			"    SYST ",
			"    TYPE ",
			"    USER ",
			"    XCUP ",
			"    XCWD ",
			"    XMKD ",
			"    XPWD ",
			"    XRMD ",
			"214 HELP command successful.",
		},
		noop:         "200 NOOP command successful.",
		quit:         "221 Goodbye.",
		unknown:      "500 Command not understood.",
		optsUTF8:     "200 OPTS UTF8 command successful - UTF8 encoding now ON.",
		optsBad:      "501 Invalid number of parameters.",
		authTLS:      "534 Local policy on server does not allow TLS secure connections.",
		authTLSAfter: "534 Local policy on server does not allow TLS secure connections.",
		pbszProt:     "503 Bad sequence of commands.",

		pwd:       `257 "%s" is current directory.`,
		cwdOK:     "250 CWD command successful.",
		cwdFailed: "550 The system cannot find the file specified. ",
		typeI:     "200 Type set to I.",
		typeA:     "200 Type set to A.",
		typeL8:    "200 Type set to L 8.",
		typeBad:   "501 Invalid number of parameters.",
		modeS:     "200 MODE S command successful.",
		modeBad:   "504 Command not implemented for that parameter.",
		struF:     "200 STRU F command successful.",
		struBad:   "504 Command not implemented for that parameter.",
		allo:      "200 ALLO command successful.",
		rest:      "350 Restarting at %d.",
		abor:      "225 ABOR command successful.",

		pasv:         "227 Entering Passive Mode (%s).",
		epsv:         "229 Entering Extended Passive Mode (|||%d|)",
		epsvBadNet:   "522 Network protocol not supported, use (1,2)",
		epsvAll:      "200 EPSV ALL command successful.",
		pasvAfterAll: "501 Server cannot accept argument.",
		portOK:       "200 PORT command successful.",
		eprtOK:       "200 EPRT command successful.",
		portBad:      "501 Server cannot accept argument.",
		eprtBad:      "501 Server cannot accept argument.",
		eprtIllegal:  "501 Server cannot accept argument.",
		eprtProto:    "522 Network protocol not supported, use (1,2)",
		needPort:     "425 Use PORT or PASV first.",
		badDataIP:    "425 Cannot open data connection.",
		noConn:       "425 Cannot open data connection.",

		listStart: "150 Opening ASCII mode data connection.",
		listDone:  "226 Transfer complete.",
		retrStart: func(binary bool, _ string, _ int64) string {
			return "150 Opening " + modeString(binary) + " mode data connection."
		},
		retrFailed: "550 The system cannot find the file specified. ",
		storStart: func(binary bool, _ string) string {
			return "150 Opening " + modeString(binary) + " mode data connection."
		},
		listMissing: "550 The system cannot find the file specified. ",
		storFailed:  "550 Access is denied. ",
		xferDone:    "226 Transfer complete.",
		readFailed:  "426 Connection closed; transfer aborted.",
		writeFailed: "426 Connection closed; transfer aborted.",
		dataTimeout: "421 Timeout (120 seconds): closing control connection.",
		listStyle:   listDOS,

		size:       "213 %d",
		sizeFailed: "550 The system cannot find the file specified. ",
		mdtm:       "213 %s",
		mdtmFailed: "550 The system cannot find the file specified. ",

		mkdOK:          `257 "%s" directory created.`,
		mkdFailed:      "550 Cannot create a file when that file already exists. ",
		rmdOK:          "250 RMD command successful.",
		rmdFailed:      "550 The system cannot find the file specified. ",
		deleOK:         "250 DELE command successful.",
		deleFailed:     "550 The system cannot find the file specified. ",
		rnfrOK:         "350 Requested file action pending further information.",
		rnfrFailed:     "550 The system cannot find the file specified. ",
		rntoNeed:       "503 Bad sequence of commands.",
		rntoOK:         "250 RNTO command successful.",
		denied:         "550 Access is denied. ",
		renameFailed:   "550 Access is denied. ",
		notImplemented: "502 Command not implemented.",
		site: func(arg string, _ bool) string {
			return "500 'SITE " + arg + "': command not understood"
		},

		stat: func(st statInfo) []string {
			return []string{
				"211-Microsoft FTP Service status:",
				"     Logged in user: " + st.user,
				"     TYPE: " + map[bool]string{true: "BINARY", false: "ASCII"}[st.binary] + "; STRUcture: File; transfer MODE: STREAM",
				"     Data connection: None",
				"211 End of status.",
			}
		},
		statFileHead: "213-Status follows:",
		statFileTail: "213 End of status.",
	}
}

// implements reports whether verb is a command of the product.
func (p *persona) implements(verb string) bool {
	if slices.Contains(p.missingCommands, verb) {
		return false
	}
	return slices.Contains(knownCommands, verb) || slices.Contains(p.extraCommands, verb)
}

// allowedBeforeLogin reports whether verb gets its normal answer before a
// successful login.
func (p *persona) allowedBeforeLogin(verb string) bool {
	return slices.Contains(p.preLogin, verb)
}

func (p *persona) isAnonymous(user string) bool {
	return slices.Contains(p.anonNames, strings.ToUpper(user))
}

// reply formats a reply text that has at most one fmt verb. Texts without
// a verb are returned unchanged, so a stray % in attacker input cannot
// reach the format string.
func reply(text string, args ...any) string {
	if !strings.Contains(text, "%") {
		return text
	}
	return fmt.Sprintf(text, args...)
}

func modeString(binary bool) string {
	if binary {
		return "BINARY"
	}
	return "ASCII"
}

// vsftpdSite answers SITE as vsftpd does for a local user with
// write_enable; anonymous logins get the refusal of disabled commands.
func vsftpdSite(arg string, anonymous bool) string {
	if anonymous {
		return "550 Permission denied."
	}
	verb, _, _ := strings.Cut(strings.ToUpper(arg), " ")
	switch verb {
	case "HELP":
		return "214 CHMOD UMASK HELP"
	case "UMASK":
		return "200 Your current UMASK is 0077"
	case "CHMOD":
		return "200 SITE CHMOD command ok."
	}
	return "500 Unknown SITE command."
}
