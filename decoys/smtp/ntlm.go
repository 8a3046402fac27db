package smtp

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"time"
	"unicode/utf16"
)

// ntlmChallengeFlags are the NEGOTIATE flags of the CHALLENGE message
// Windows servers send (MS-NLMP 2.2.2.5): UNICODE, REQUEST_TARGET, NTLM,
// ALWAYS_SIGN, TARGET_TYPE_DOMAIN, EXTENDED_SESSIONSECURITY, TARGET_INFO,
// VERSION, 128, KEY_EXCH and 56.
const ntlmChallengeFlags = 0xE2898205

// ntlmVersion is the VERSION field of Windows Server 2019 (10.0 build
// 17763, NTLMSSP revision 15), which Exchange 2019 runs on.
var ntlmVersion = [8]byte{10, 0, 0x63, 0x45, 0, 0, 0, 0x0f}

// runNTLM runs AUTH NTLM as Exchange does: "334 NTLM supported" when
// there is no initial NEGOTIATE message, then a CHALLENGE that names the
// server and its domain, and a failure after the AUTHENTICATE message.
//
// NOTE: the AUTHENTICATE message is not recorded, because no mechanism or
// secret kind for NTLM exists in package decoys yet.
func (c *conn) runNTLM(initial *string) (string, uint32, bool) {
	if initial == nil {
		if _, ok := c.challenge("NTLM supported"); !ok {
			return "", 0, false
		}
	}
	msg := ntlmChallenge(c.host, c.s.now())
	if _, ok := c.challenge(base64.StdEncoding.EncodeToString(msg)); !ok {
		return "", 0, false
	}
	return c.p.r.authUnavailable, 0, true
}

// ntlmChallenge builds a CHALLENGE message (MS-NLMP 2.2.1.2) with a
// random server challenge and the target information a domain member
// server reports.
func ntlmChallenge(h hostView, now time.Time) []byte {
	netbiosDomain := strings.ToUpper(strings.SplitN(h.domain, ".", 2)[0])
	if len(netbiosDomain) > 15 {
		netbiosDomain = netbiosDomain[:15]
	}
	computer := strings.ToUpper(h.shortname)
	if len(computer) > 15 {
		computer = computer[:15]
	}
	target := utf16le(netbiosDomain)

	var info []byte
	avPair := func(id uint16, value []byte) {
		info = binary.LittleEndian.AppendUint16(info, id)
		info = binary.LittleEndian.AppendUint16(info, uint16(len(value))) //nolint:gosec // G115: names are short
		info = append(info, value...)
	}
	avPair(2, target)                         // MsvAvNbDomainName
	avPair(1, utf16le(computer))              // MsvAvNbComputerName
	avPair(4, utf16le(h.domain))              // MsvAvDnsDomainName
	avPair(3, utf16le(computer+"."+h.domain)) // MsvAvDnsComputerName
	avPair(5, utf16le(h.domain))              // MsvAvDnsTreeName
	avPair(7, fileTime(now))                  // MsvAvTimestamp
	avPair(0, nil)                            // MsvAvEOL

	const header = 56
	msg := make([]byte, 0, header+len(target)+len(info))
	msg = append(msg, "NTLMSSP\x00"...)
	msg = binary.LittleEndian.AppendUint32(msg, 2)
	msg = binary.LittleEndian.AppendUint16(msg, uint16(len(target))) //nolint:gosec // G115: at most 30 bytes
	msg = binary.LittleEndian.AppendUint16(msg, uint16(len(target))) //nolint:gosec // G115: at most 30 bytes
	msg = binary.LittleEndian.AppendUint32(msg, header)
	msg = binary.LittleEndian.AppendUint32(msg, ntlmChallengeFlags)
	var serverChallenge [8]byte
	_, _ = rand.Read(serverChallenge[:])
	msg = append(msg, serverChallenge[:]...)
	msg = append(msg, make([]byte, 8)...)
	msg = binary.LittleEndian.AppendUint16(msg, uint16(len(info)))          //nolint:gosec // G115: a few hundred bytes
	msg = binary.LittleEndian.AppendUint16(msg, uint16(len(info)))          //nolint:gosec // G115: a few hundred bytes
	msg = binary.LittleEndian.AppendUint32(msg, uint32(header+len(target))) //nolint:gosec // G115: small
	msg = append(msg, ntlmVersion[:]...)
	msg = append(msg, target...)
	return append(msg, info...)
}

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
