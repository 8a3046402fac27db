// Package ntlm is the server side of NTLM (MS-NLMP) as far as a decoy
// needs it: the CHALLENGE message a Windows server sends, and strict
// parsers for the client's NEGOTIATE and AUTHENTICATE messages. The
// challenge-response of an AUTHENTICATE message becomes a credential in
// the line format hashcat cracks, so that an operator can test the
// password offline.
//
// The decoy never verifies a response: it holds no password, so every
// exchange ends in the protocol's failure reply.
package ntlm

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"strings"
	"time"
	"unicode/utf16"
)

// Signature opens every NTLM message.
const Signature = "NTLMSSP\x00"

// Message types (MS-NLMP 2.2.1).
const (
	TypeNegotiate    = 1
	TypeChallenge    = 2
	TypeAuthenticate = 3
)

// NEGOTIATE flags the parser reads (MS-NLMP 2.2.2.5).
const (
	FlagUnicode                 = 0x00000001
	FlagOEM                     = 0x00000002
	FlagOEMDomainSupplied       = 0x00001000
	FlagOEMWorkstationSupplied  = 0x00002000
	FlagExtendedSessionSecurity = 0x00080000
)

// challengeFlags are the NEGOTIATE flags of the CHALLENGE message
// Windows servers send: UNICODE, REQUEST_TARGET, NTLM, ALWAYS_SIGN,
// TARGET_TYPE_DOMAIN, EXTENDED_SESSIONSECURITY, TARGET_INFO, VERSION,
// 128, KEY_EXCH and 56.
const challengeFlags = 0xE2898205

// version is the VERSION field of Windows Server 2019 (10.0 build 17763,
// NTLMSSP revision 15), which Exchange 2019 and IIS 10 run on.
var version = [8]byte{10, 0, 0x63, 0x45, 0, 0, 0, 0x0f}

// netbiosMax is the length limit of a NetBIOS name.
const netbiosMax = 15

// Target holds the names a server reports about itself in a CHALLENGE
// message: those of a member server of an Active Directory domain.
type Target struct {
	// NetBIOSDomain and NetBIOSComputer are upper case, at most 15
	// characters.
	NetBIOSDomain   string
	NetBIOSComputer string
	// DNSDomain is the domain's DNS name; DNSComputer the server's FQDN
	// with its first label in upper case, as Windows reports it.
	DNSDomain   string
	DNSComputer string
}

// NewTarget returns the target of the computer named computer (a host
// name; only its first label counts) in the DNS domain dnsDomain.
func NewTarget(computer, dnsDomain string) Target {
	short, _, _ := strings.Cut(strings.ToLower(computer), ".")
	dnsDomain = strings.ToLower(dnsDomain)
	domainLabel, _, _ := strings.Cut(dnsDomain, ".")
	return Target{
		NetBIOSDomain:   netbios(domainLabel),
		NetBIOSComputer: netbios(short),
		DNSDomain:       dnsDomain,
		DNSComputer:     netbios(short) + "." + dnsDomain,
	}
}

// TargetFor returns the target of a decky whose host name is host. A
// dotted name splits into computer and domain. A bare name joins the
// Active Directory domain derived from seed, so every service of a decky
// reports the same domain.
func TargetFor(seed []byte, host string) Target {
	if short, domain, ok := strings.Cut(host, "."); ok && short != "" && domain != "" {
		return NewTarget(short, domain)
	}
	return NewTarget(host, Domain(seed))
}

// Word lists of the derived domain: internal Active Directory domains of
// small companies, named after the company with a private suffix.
var (
	domainWords = []string{
		"northwind", "bluepeak", "rivergate", "summitco", "harborline", "granitepoint",
		"cedarbrook", "mapleridge", "silverlake", "pinecrest", "oakfield", "stonebridge",
		"brightway", "ironwood", "westhaven", "clearwater", "redhill", "greenvale",
	}
	domainSuffixes = []string{"local", "local", "corp", "lan", "internal"}
)

// Domain returns the DNS name of the Active Directory domain derived
// from seed, such as "oakfield.local".
func Domain(seed []byte) string {
	m := hmac.New(sha256.New, seed)
	m.Write([]byte("decnet decoys/ntlm domain"))
	sum := m.Sum(nil)
	word := domainWords[int(binary.BigEndian.Uint32(sum[0:4])%uint32(len(domainWords)))]
	suffix := domainSuffixes[int(binary.BigEndian.Uint32(sum[4:8])%uint32(len(domainSuffixes)))]
	return word + "." + suffix
}

func netbios(name string) string {
	name = strings.ToUpper(name)
	if len(name) > netbiosMax {
		name = name[:netbiosMax]
	}
	return name
}

// NewServerChallenge draws the 8-byte nonce of one CHALLENGE message.
func NewServerChallenge() [8]byte {
	var c [8]byte
	_, _ = rand.Read(c[:])
	return c
}

// ChallengeMessage builds a CHALLENGE message (MS-NLMP 2.2.1.2) for
// serverChallenge, with the target information a domain member server
// reports and now as its timestamp.
func ChallengeMessage(t Target, serverChallenge [8]byte, now time.Time) []byte {
	target := utf16le(t.NetBIOSDomain)

	var info []byte
	avPair := func(id uint16, value []byte) {
		info = binary.LittleEndian.AppendUint16(info, id)
		info = binary.LittleEndian.AppendUint16(info, uint16(len(value))) //nolint:gosec // G115: names are short
		info = append(info, value...)
	}
	avPair(avNbDomainName, target)
	avPair(avNbComputerName, utf16le(t.NetBIOSComputer))
	avPair(avDNSDomainName, utf16le(t.DNSDomain))
	avPair(avDNSComputerName, utf16le(t.DNSComputer))
	avPair(avDNSTreeName, utf16le(t.DNSDomain))
	avPair(avTimestamp, fileTime(now))
	avPair(avEOL, nil)

	const header = 56
	msg := make([]byte, 0, header+len(target)+len(info))
	msg = append(msg, Signature...)
	msg = binary.LittleEndian.AppendUint32(msg, TypeChallenge)
	msg = binary.LittleEndian.AppendUint16(msg, uint16(len(target))) //nolint:gosec // G115: at most 30 bytes
	msg = binary.LittleEndian.AppendUint16(msg, uint16(len(target))) //nolint:gosec // G115: at most 30 bytes
	msg = binary.LittleEndian.AppendUint32(msg, header)
	msg = binary.LittleEndian.AppendUint32(msg, challengeFlags)
	msg = append(msg, serverChallenge[:]...)
	msg = append(msg, make([]byte, 8)...)
	msg = binary.LittleEndian.AppendUint16(msg, uint16(len(info)))          //nolint:gosec // G115: a few hundred bytes
	msg = binary.LittleEndian.AppendUint16(msg, uint16(len(info)))          //nolint:gosec // G115: a few hundred bytes
	msg = binary.LittleEndian.AppendUint32(msg, uint32(header+len(target))) //nolint:gosec // G115: small
	msg = append(msg, version[:]...)
	msg = append(msg, target...)
	return append(msg, info...)
}

// AV_PAIR ids (MS-NLMP 2.2.2.1).
const (
	avEOL             = 0
	avNbComputerName  = 1
	avNbDomainName    = 2
	avDNSComputerName = 3
	avDNSDomainName   = 4
	avDNSTreeName     = 5
	avTimestamp       = 7
)

func utf16le(s string) []byte {
	units := utf16.Encode([]rune(s))
	out := make([]byte, 0, 2*len(units))
	for _, u := range units {
		out = binary.LittleEndian.AppendUint16(out, u)
	}
	return out
}

// fileTime encodes t as a Windows FILETIME: 100 ns ticks since 1601.
func fileTime(t time.Time) []byte {
	const epochDelta = 116444736000000000          // 1601-01-01 to 1970-01-01 in ticks
	ticks := uint64(t.UnixNano()/100) + epochDelta //nolint:gosec // G115: times after 1970
	return binary.LittleEndian.AppendUint64(nil, ticks)
}
