package ssh

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/decnet/decnet/decoys/shell"
)

// DefaultPersona is the persona a Service imitates when the config names
// none.
const DefaultPersona = "openssh-9.2p1-debian12"

// ErrUnknownPersona is returned by New for a persona id that is not in the
// persona table.
var ErrUnknownPersona = errors.New("unknown ssh persona")

// persona is everything about one real SSH server that a client can
// observe: the identification string, the KEXINIT algorithm lists in the
// order the real daemon sends them, the texts it sends on bad input, and
// its authentication timing. The lists are the real product's, complete.
// The transport adapter (transport.go) drops what it cannot implement, so
// this table stays correct when the transport changes.
type persona struct {
	id string
	// shellOS is the emulated shell's operating system (decoys/shell).
	shellOS string
	// noLogin rejects every login whatever the policy, for a persona
	// without an emulated shell.
	noLogin bool
	// banner is the identification string without the trailing CR LF.
	banner string

	keyExchanges      []string
	hostKeyAlgorithms []string
	ciphers           []string
	macs              []string
	compressions      []string

	// keyboardInteractive offers the keyboard-interactive method.
	// Debian 12 and Ubuntu 24.04 ship sshd_config with
	// "KbdInteractiveAuthentication no", so a stock host offers only
	// publickey and password.
	keyboardInteractive bool
	// kbdPrompt and kbdEcho are the single prompt PAM's pam_unix sends
	// through keyboard-interactive.
	kbdPrompt string
	kbdEcho   bool

	// maxAuthTries is sshd's MaxAuthTries: the connection is dropped at
	// this many failures.
	maxAuthTries int

	// loginGraceTime is sshd's LoginGraceTime: the connection is closed
	// this long after accept unless a login succeeded by then.
	loginGraceTime time.Duration

	// passwordFailureDelay and kbdFailureDelay bound the time the real
	// daemon takes to reject a wrong password.
	passwordFailureDelay delayRange
	kbdFailureDelay      delayRange

	// Texts sent in clear text, followed by CR LF, before sshd closes on a
	// bad client identification line (kex.c, kex_exchange_identification).
	invalidIdentReply    string
	versionMismatchReply string
	// maxIdentBytes is SSH_MAX_BANNER_LEN: the longest identification line
	// sshd reads before giving up.
	maxIdentBytes int
}

// delayRange is a uniform interval; zero means no delay.
type delayRange struct {
	min, max time.Duration
}

// OpenSSH 9.x server proposals. The KEX, cipher, MAC and compression lists
// were captured from the KEXINIT of openssh-server 1:9.2p1-2+deb12u10 on
// Debian 12 (stock sshd_config, loopback). Debian's security updates
// backported the "sntrup761x25519-sha512" name and strict KEX
// ("kex-strict-s-v00@openssh.com"). The host-key list is what that daemon
// sends with the three host keys "ssh-keygen -A" creates (RSA 3072, ECDSA
// P-256, Ed25519).
var (
	debian12KeyExchanges = []string{
		"sntrup761x25519-sha512",
		"sntrup761x25519-sha512@openssh.com",
		"curve25519-sha256",
		"curve25519-sha256@libssh.org",
		"ecdh-sha2-nistp256",
		"ecdh-sha2-nistp384",
		"ecdh-sha2-nistp521",
		"diffie-hellman-group-exchange-sha256",
		"diffie-hellman-group16-sha512",
		"diffie-hellman-group18-sha512",
		"diffie-hellman-group14-sha256",
		"kex-strict-s-v00@openssh.com",
	}
	// Upstream OpenSSH 9.5 (myproposal.h KEX_SERVER_KEX) with the strict
	// KEX marker of the Terrapin fix Win32-OpenSSH shipped in 9.5.
	windowsKeyExchanges = []string{
		"sntrup761x25519-sha512@openssh.com",
		"curve25519-sha256",
		"curve25519-sha256@libssh.org",
		"ecdh-sha2-nistp256",
		"ecdh-sha2-nistp384",
		"ecdh-sha2-nistp521",
		"diffie-hellman-group-exchange-sha256",
		"diffie-hellman-group16-sha512",
		"diffie-hellman-group18-sha512",
		"diffie-hellman-group14-sha256",
		"kex-strict-s-v00@openssh.com",
	}
	// Upstream OpenSSH 9.6 (myproposal.h KEX_SERVER_KEX, plus the
	// ext-info-s and strict KEX markers kex.c appends on the server).
	// Unlike Debian's, it lacks the plain "sntrup761x25519-sha512" name:
	// ssh-audit's Ubuntu 24.04 hardening guide lists only the
	// @openssh.com form, while its Debian 12 guide added the plain name
	// after Debian's backport. NOTE: not captured from a real Ubuntu
	// 24.04 host; Ubuntu cannot be installed here.
	openssh96KeyExchanges = []string{
		"sntrup761x25519-sha512@openssh.com",
		"curve25519-sha256",
		"curve25519-sha256@libssh.org",
		"ecdh-sha2-nistp256",
		"ecdh-sha2-nistp384",
		"ecdh-sha2-nistp521",
		"diffie-hellman-group-exchange-sha256",
		"diffie-hellman-group16-sha512",
		"diffie-hellman-group18-sha512",
		"diffie-hellman-group14-sha256",
		"ext-info-s",
		"kex-strict-s-v00@openssh.com",
	}
	openssh9HostKeyAlgorithms = []string{
		"rsa-sha2-512",
		"rsa-sha2-256",
		"ecdsa-sha2-nistp256",
		"ssh-ed25519",
	}
	openssh9Ciphers = []string{
		"chacha20-poly1305@openssh.com",
		"aes128-ctr",
		"aes192-ctr",
		"aes256-ctr",
		"aes128-gcm@openssh.com",
		"aes256-gcm@openssh.com",
	}
	openssh9MACs = []string{
		"umac-64-etm@openssh.com",
		"umac-128-etm@openssh.com",
		"hmac-sha2-256-etm@openssh.com",
		"hmac-sha2-512-etm@openssh.com",
		"hmac-sha1-etm@openssh.com",
		"umac-64@openssh.com",
		"umac-128@openssh.com",
		"hmac-sha2-256",
		"hmac-sha2-512",
		"hmac-sha1",
	}
	openssh9Compressions = []string{"none", "zlib@openssh.com"}
)

// Failure delays measured against openssh-server 1:9.2p1-2+deb12u10 with
// Debian's stock PAM stack (pam_unix, which requests a 2 s delay that
// libpam varies by up to ±50%), x/crypto/ssh client on loopback:
// consecutive wrong passwords were 3.10-3.46 s apart, occasionally about
// half that. Wrong keyboard-interactive responses were 1.87-2.15 s apart.
// NOTE: the Ubuntu persona reuses these; it has not been measured.
var (
	pamPasswordFailureDelay = delayRange{min: 3000 * time.Millisecond, max: 3500 * time.Millisecond}
	pamKbdFailureDelay      = delayRange{min: 1800 * time.Millisecond, max: 2200 * time.Millisecond}
)

// personas returns the persona table. It builds a fresh table on each call
// so that no caller can change another's copy.
func personas() []persona {
	base := persona{
		hostKeyAlgorithms: slices.Clone(openssh9HostKeyAlgorithms),
		ciphers:           slices.Clone(openssh9Ciphers),
		macs:              slices.Clone(openssh9MACs),
		compressions:      slices.Clone(openssh9Compressions),
		kbdPrompt:         "Password: ",
		kbdEcho:           false,
		maxAuthTries:      6,
		// sshd's default, unchanged in the stock sshd_config of each
		// persona's system.
		loginGraceTime:       120 * time.Second,
		passwordFailureDelay: pamPasswordFailureDelay,
		kbdFailureDelay:      pamKbdFailureDelay,
		invalidIdentReply:    "Invalid SSH identification string.",
		versionMismatchReply: "Protocol major versions differ.",
		maxIdentBytes:        8192,
	}

	debian := base
	debian.id = "openssh-9.2p1-debian12"
	// Version of openssh-server in Debian 12 bookworm and its security
	// archive as of 1:9.2p1-2+deb12u10 (apt-cache policy openssh-server).
	debian.banner = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10"
	debian.keyExchanges = slices.Clone(debian12KeyExchanges)
	debian.shellOS = shell.OSDebian12

	ubuntu := base
	ubuntu.id = "openssh-9.6p1-ubuntu24.04"
	// 3ubuntu13.19 is the revision real noble hosts send in late 2026,
	// seen beside kernel 6.8.0-142-generic, which the shell persona
	// offers. NOTE: taken from public captures, not from the
	// Ubuntu archive.
	ubuntu.banner = "SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13.19"
	ubuntu.keyExchanges = slices.Clone(openssh96KeyExchanges)
	ubuntu.shellOS = shell.OSUbuntu2404

	// Win32-OpenSSH 9.5.0.0p1-Beta, as "Add-WindowsCapability OpenSSH.Server"
	// installs it on Windows Server 2022 and later. The lists are portable
	// OpenSSH 9.5p1's defaults with the strict KEX marker of Microsoft's
	// Terrapin fix. NOTE: built from upstream's myproposal.h and nmap's
	// match line "OpenSSH for_Windows_9.5", not captured from a Windows
	// host. There is no Windows shell emulation, so this persona never
	// lets a login in.
	windows := base
	windows.id = "openssh-9.5-windows"
	windows.banner = "SSH-2.0-OpenSSH_for_Windows_9.5"
	windows.keyExchanges = slices.Clone(windowsKeyExchanges)
	windows.noLogin = true

	return []persona{debian, ubuntu, windows}
}

// PersonaIDs returns the ids of the built-in personas.
func PersonaIDs() []string {
	table := personas()
	ids := make([]string, 0, len(table))
	for _, p := range table {
		ids = append(ids, p.id)
	}
	return ids
}

// lookupPersona returns the persona with the given id; empty selects
// DefaultPersona.
func lookupPersona(id string) (persona, error) {
	if id == "" {
		id = DefaultPersona
	}
	for _, p := range personas() {
		if p.id == id {
			return p, nil
		}
	}
	return persona{}, fmt.Errorf("%w %q (known: %s)", ErrUnknownPersona, id, strings.Join(PersonaIDs(), ", "))
}
