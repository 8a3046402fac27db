package telnet

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/decnet/decnet/decoys/shell"
)

// Persona ids.
const (
	PersonaDebian12  = "debian12-telnetd"
	PersonaBusyBox   = "busybox-telnetd"
	PersonaCiscoIOS  = "cisco-ios"
	DefaultPersona   = PersonaDebian12
	defaultTermType  = "network"
	defaultTermWidth = 80
	defaultTermRows  = 24
)

// ErrUnknownPersona is returned by New for a persona id not in the table.
var ErrUnknownPersona = errors.New("unknown telnet persona")

// persona describes what a client can observe of one real telnet server
// and the login program behind it.
type persona struct {
	id string

	// crNul: a CR that LF does not follow goes out as CR NUL, as
	// inetutils telnetd sends terminal output in NVT mode.
	crNul bool
	// inetutils selects the option handling of GNU inetutils telnetd:
	// its two-phase opening negotiation, line mode, flow control, timing
	// marks and logout.
	inetutils bool
	// silentOptions: the server never replies to option requests (BusyBox
	// telnetd strips them and only reads NAWS).
	silentOptions bool
	// acceptRemote and acceptLocal list the options the server agrees to
	// when the client offers (WILL) or requests (DO) them unasked.
	acceptRemote [256]bool
	acceptLocal  [256]bool
	// askTermType sends SB TTYPE SEND once the client agrees to TTYPE.
	askTermType bool
	// aytReply is the reply to IAC AYT; empty ignores it.
	aytReply string

	// opening is the option negotiation the server sends first, and
	// banner the text between it and the first prompt, sent in the same
	// segment.
	opening []byte
	banner  string

	// userPrompt formats the login prompt for the host name.
	userPrompt     func(hostname string) string
	passwordPrompt string
	// afterPassword is printed when the password line ends (the login
	// program's newline, since the terminal does not echo it). Debian's
	// newline is the pty's ECHONL echo instead (see lineInput).
	afterPassword string
	// failure follows a rejected password, before the next prompt.
	failure string
	// maxTries rejected passwords end the connection after failure.
	maxTries  int
	failDelay delayRange
	// loginTimeout ends the login after this long; timeoutPerPrompt
	// restarts it at each prompt.
	loginTimeout     time.Duration
	timeoutPerPrompt bool
	timeoutText      string
	// shellOS is the shell persona a successful login leads to.
	shellOS string
	// iosExec: a successful login leads to the IOS EXEC command line
	// (decoys/ios) instead of a shell.
	iosExec bool
}

// delayRange is a uniform interval.
type delayRange struct {
	min, max time.Duration
}

func options(opts ...byte) [256]bool {
	var set [256]bool
	for _, o := range opts {
		set[o] = true
	}
	return set
}

var personas = []persona{
	{
		// inetutils-telnetd 2:2.4-2+deb12u3 started from inetd, with
		// login(1) from the Debian 12 login package. The opening, the
		// replies and the texts were captured from that daemon on
		// loopback (integration_test.go compares them).
		id:        PersonaDebian12,
		inetutils: true,
		crNul:     true,
		// willoption in telnetd/state.c: BINARY, SGA, TTYPE, NAWS, TSPEED,
		// XDISPLOC, NEW-ENVIRON, OLD-ENVIRON, LFLOW and LINEMODE.
		acceptRemote: options(optBinary, optSGA, optTType, optNAWS, optTSpeed, optXDispLoc, optNewEnv, optEnviron, optLFlow, optLinemode),
		// dooption: ECHO, BINARY, SGA and STATUS (TM and LOGOUT apart).
		acceptLocal: options(optEcho, optBinary, optSGA, optStatus),
		aytReply:    "\r\n[Yes]\r\n",
		opening: []byte{
			cmdIAC, cmdWILL, optAuth,
			cmdIAC, cmdWILL, optEncrypt,
			cmdIAC, cmdDO, optTType,
			cmdIAC, cmdDO, optTSpeed,
			cmdIAC, cmdDO, optXDispLoc,
			cmdIAC, cmdDO, optNewEnv,
			cmdIAC, cmdDO, optEnviron,
		},
		userPrompt:     func(h string) string { return h + " login: " },
		passwordPrompt: "Password: ",
		failure:        "\r\nLogin incorrect\r\n",
		// LOGIN_RETRIES in Debian's /etc/login.defs.
		maxTries: 5,
		// pam_faildelay delay=3000000 in /etc/pam.d/login; Linux-PAM
		// randomizes the delay by up to a quarter either way. Measured:
		// 2.65 s to 3.35 s over five failures.
		failDelay: delayRange{2250 * time.Millisecond, 3750 * time.Millisecond},
		// LOGIN_TIMEOUT in /etc/login.defs; login(1) arms one alarm.
		loginTimeout: 60 * time.Second,
		timeoutText:  "\r\nLogin timed out after 60 seconds.\r\n",
		shellOS:      shell.OSDebian12,
	},
	{
		// BusyBox telnetd with BusyBox login, as embedded routers and
		// cameras run it. A login the policy accepts starts BusyBox ash. The opening is telnetd.c's iacs_to_send: DO
		// ECHO, DO NAWS, WILL ECHO, WILL SGA, which nmap's BusyBox
		// telnetd match lines expect right before "<host> login: ".
		id:            PersonaBusyBox,
		silentOptions: true,
		opening: []byte{
			cmdIAC, cmdDO, optEcho,
			cmdIAC, cmdDO, optNAWS,
			cmdIAC, cmdWILL, optEcho,
			cmdIAC, cmdWILL, optSGA,
		},
		userPrompt:     func(h string) string { return h + " login: " },
		passwordPrompt: "Password: ",
		afterPassword:  "\r\n",
		// login.c: a fixed 3 s delay (LOGIN_FAIL_DELAY), then puts, and
		// the third failure ends the program.
		failure:      "Login incorrect\r\n",
		maxTries:     3,
		failDelay:    delayRange{3 * time.Second, 3 * time.Second},
		loginTimeout: 60 * time.Second,
		// BusyBox login prints "\r\n...\r\n" through a pty that turns
		// each LF into CR LF, and BusyBox telnetd adds no NUL after CR.
		// Checked with BusyBox 1.35 login behind a telnetd.
		timeoutText: "\r\r\nLogin timed out after 60 seconds\r\r\n",
		shellOS:     shell.OSBusyBox,
	},
	{
		// Cisco IOS vty with "login local": the opening and banner of
		// nmap's "Cisco IOS telnetd" match line (WILL ECHO, WILL SGA, DO
		// TTYPE, DO NAWS, then "User Access Verification"). A login the
		// policy accepts starts the EXEC of a Cisco 2911 on IOS
		// 15.7(3)M5 (decoys/ios).
		id:             PersonaCiscoIOS,
		acceptRemote:   options(optTType, optNAWS, optSGA, optBinary),
		acceptLocal:    options(optEcho, optSGA, optBinary),
		askTermType:    true,
		aytReply:       "\r\n[Yes]\r\n",
		opening:        []byte{cmdIAC, cmdWILL, optEcho, cmdIAC, cmdWILL, optSGA, cmdIAC, cmdDO, optTType, cmdIAC, cmdDO, optNAWS},
		banner:         "\r\n\r\nUser Access Verification\r\n\r\n",
		userPrompt:     func(string) string { return "Username: " },
		passwordPrompt: "Password: ",
		afterPassword:  "\r\n",
		failure:        "% Login invalid\r\n\r\n",
		maxTries:       3,
		// NOTE: IOS's delay after a wrong local password is an estimate;
		// no IOS device was measured.
		failDelay:        delayRange{300 * time.Millisecond, 700 * time.Millisecond},
		loginTimeout:     30 * time.Second,
		timeoutPerPrompt: true,
		timeoutText:      "\r\n% Username:  timeout expired!\r\n",
		iosExec:          true,
	},
}

func lookupPersona(id string) (*persona, error) {
	if id == "" {
		id = DefaultPersona
	}
	for i := range personas {
		if personas[i].id == id {
			return &personas[i], nil
		}
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownPersona, id)
}

// debianTermTypes are the terminfo entries of Debian 12's ncurses-base,
// which every install has. telnetd keeps asking for another type while the
// client names one the host lacks.
var debianTermTypes = []string{
	"ansi", "cons25", "cons25-debian", "cygwin", "dumb", "eterm", "eterm-color", "hurd", "linux",
	"mach", "mach-bold", "mach-color", "mach-gnu", "mach-gnu-color", "pcansi", "rxvt", "rxvt-basic",
	"rxvt-m", "rxvt-unicode", "rxvt-unicode-256color", "screen", "screen-256color",
	"screen-256color-bce", "screen-bce", "screen-s", "screen-w", "screen.xterm-256color", "sun",
	"tmux", "tmux-256color", "vt100", "vt102", "vt220", "vt52", "wsvt25", "wsvt25m", "xterm",
	"xterm-256color", "xterm-color", "xterm-debian", "xterm-mono", "xterm-r5", "xterm-r6",
	"xterm-vt220", "xterm-xfree86",
}

func termTypeKnown(name string) bool {
	return slices.Contains(debianTermTypes, strings.ToLower(name))
}

// slcEntry is one special character of the pty as telnetd reports it in
// line mode: its flags and value.
type slcEntry struct {
	flags, value byte
}

// slcTable holds the values telnetd sent for a Linux pty with default
// termios, captured from inetutils telnetd. They are IP ^C, AO ^O, ABORT ^\, EOF
// ^D, SUSP ^Z, EC DEL, EL ^U, EW ^W, RP ^R, LNEXT ^V, XON ^Q, XOFF ^S.
var slcTable = map[byte]slcEntry{
	3:  {0x62, 0x03},
	4:  {0x02, 0x0f},
	7:  {0x62, 0x1c},
	8:  {0x02, 0x04},
	9:  {0x42, 0x1a},
	10: {0x02, 0x7f},
	11: {0x02, 0x15},
	12: {0x02, 0x17},
	13: {0x02, 0x12},
	14: {0x02, 0x16},
	15: {0x02, 0x11},
	16: {0x02, 0x13},
}

const (
	slcAck       = 0x80
	slcLevelBits = 0x03
	slcDefault   = 0x03
	slcNoSupport = 0x00
)

// slcReply builds telnetd's reply to the client's SLC list: the entries
// where both sides support the function, acknowledged when the client's
// value is the pty's, otherwise the pty's own value.
func slcReply(client []byte) []byte {
	reply := []byte{cmdIAC, cmdSB, optLinemode, lmSLC}
	for i := 0; i+2 < len(client); i += 3 {
		fn, flags, value := client[i], client[i+1], client[i+2]
		own, ok := slcTable[fn]
		if !ok || flags&slcLevelBits == slcNoSupport {
			continue
		}
		switch {
		case value == own.value && flags&slcLevelBits != slcDefault:
			reply = append(reply, fn, own.flags|slcAck)
			reply = appendEscaped(reply, own.value)
		default:
			reply = append(reply, fn, own.flags)
			reply = appendEscaped(reply, own.value)
		}
	}
	if len(reply) == 4 {
		return nil
	}
	return append(reply, cmdIAC, cmdSE)
}

func appendEscaped(dst []byte, c byte) []byte {
	if c == cmdIAC {
		return append(dst, cmdIAC, cmdIAC)
	}
	return append(dst, c)
}
