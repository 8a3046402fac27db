// Package ntlmtest is the client side of NTLM for tests of the decoys
// that capture it. It computes NTLMv2 responses as a Windows client does.
// It also checks that a recorded hashcat line contains a response the
// password produced, which is what makes a capture crackable.
package ntlmtest

import (
	"bytes"
	"crypto/des" //nolint:gosec // G502: NTLMv1 is DES by definition
	"crypto/hmac"
	"crypto/md5" //nolint:gosec // G501: NTLMv2 is HMAC-MD5 by definition
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"

	"golang.org/x/crypto/md4" //nolint:staticcheck,gosec // SA1019, G506: the NT hash is MD4 by definition
)

// NTOWFv2 is the NTLMv2 response key of MS-NLMP 3.3.2:
// HMAC-MD5(MD4(UTF-16LE(password)), UTF-16LE(upper(user) + domain)).
func NTOWFv2(user, domain, password string) []byte {
	h := md4.New() //nolint:gosec // G406: the NT hash is MD4 by definition
	h.Write(utf16le(password))
	m := hmac.New(md5.New, h.Sum(nil))
	m.Write(utf16le(strings.ToUpper(user) + domain))
	return m.Sum(nil)
}

// Negotiate is the NEGOTIATE message of a client that offers Unicode,
// NTLM and extended session security and names no domain.
func Negotiate() []byte {
	msg := []byte("NTLMSSP\x00")
	msg = binary.LittleEndian.AppendUint32(msg, 1)
	msg = binary.LittleEndian.AppendUint32(msg, 0xE2088297)
	return append(msg, make([]byte, 16)...)
}

// Authenticate returns the NTLMv2 AUTHENTICATE message for the CHALLENGE
// message challenge for user in domain, with clientChallenge in the
// blob, the server's target information and a zero timestamp.
func Authenticate(challenge []byte, user, domain, workstation, password string, clientChallenge [8]byte) ([]byte, error) {
	if len(challenge) < 48 || !bytes.HasPrefix(challenge, []byte("NTLMSSP\x00")) {
		return nil, errors.New("not a challenge message")
	}
	serverChallenge := challenge[24:32]
	infoLen := int(binary.LittleEndian.Uint16(challenge[40:]))
	infoOff := int(binary.LittleEndian.Uint32(challenge[44:]))
	if infoOff+infoLen > len(challenge) {
		return nil, errors.New("target info outside the challenge")
	}
	blob := []byte{1, 1, 0, 0, 0, 0, 0, 0}
	blob = append(blob, make([]byte, 8)...) // timestamp
	blob = append(blob, clientChallenge[:]...)
	blob = append(blob, 0, 0, 0, 0)
	blob = append(blob, challenge[infoOff:infoOff+infoLen]...)
	blob = append(blob, 0, 0, 0, 0)

	m := hmac.New(md5.New, NTOWFv2(user, domain, password))
	m.Write(serverChallenge)
	m.Write(blob)
	nt := append(m.Sum(nil), blob...)
	lm := make([]byte, 24)

	payload := [][]byte{lm, nt, utf16le(domain), utf16le(user), utf16le(workstation)}
	msg := []byte("NTLMSSP\x00")
	msg = binary.LittleEndian.AppendUint32(msg, 3)
	offset := 64
	for _, p := range payload {
		msg = binary.LittleEndian.AppendUint16(msg, uint16(len(p))) //nolint:gosec // G115: test data
		msg = binary.LittleEndian.AppendUint16(msg, uint16(len(p))) //nolint:gosec // G115: test data
		msg = binary.LittleEndian.AppendUint32(msg, uint32(offset)) //nolint:gosec // G115: test data
		offset += len(p)
	}
	msg = append(msg, make([]byte, 8)...) // no encrypted session key
	msg = binary.LittleEndian.AppendUint32(msg, 0xE2088215)
	for _, p := range payload {
		msg = append(msg, p...)
	}
	return msg, nil
}

// VerifyV2 checks a mode 5600 hashcat line against password: the
// NTProofStr must equal HMAC-MD5(NTOWFv2, serverchallenge || blob). It
// returns the line's fields on success.
func VerifyV2(line []byte, password string) (user, domain string, err error) {
	parts := strings.Split(string(line), ":")
	if len(parts) != 6 || parts[1] != "" {
		return "", "", fmt.Errorf("line %q is not user::domain:challenge:proof:blob", line)
	}
	user, domain = parts[0], parts[2]
	sc, err1 := hex.DecodeString(parts[3])
	proof, err2 := hex.DecodeString(parts[4])
	blob, err3 := hex.DecodeString(parts[5])
	if err := errors.Join(err1, err2, err3); err != nil {
		return "", "", fmt.Errorf("decode line: %w", err)
	}
	m := hmac.New(md5.New, NTOWFv2(user, domain, password))
	m.Write(sc)
	m.Write(blob)
	if !hmac.Equal(m.Sum(nil), proof) {
		return "", "", fmt.Errorf("proof %x is not the response of the password", proof)
	}
	return user, domain, nil
}

// VerifyV1 checks a mode 5500 hashcat line against password: the NT
// response must be DESL(MD4(UTF-16LE(password)), challenge), where the
// challenge is the server's, or with extended session security (an LM
// response of a client nonce and 16 zero bytes) the first 8 bytes of
// MD5(server challenge || client nonce). It returns the line's fields
// on success.
func VerifyV1(line []byte, password string) (user, domain string, err error) {
	parts := strings.Split(string(line), ":")
	if len(parts) != 6 || parts[1] != "" {
		return "", "", fmt.Errorf("line %q is not user::domain:lm:nt:challenge", line)
	}
	user, domain = parts[0], parts[2]
	lm, err1 := hex.DecodeString(parts[3])
	nt, err2 := hex.DecodeString(parts[4])
	challenge, err3 := hex.DecodeString(parts[5])
	if err := errors.Join(err1, err2, err3); err != nil {
		return "", "", fmt.Errorf("decode line: %w", err)
	}
	if len(lm) != 24 || len(nt) != 24 || len(challenge) != 8 {
		return "", "", fmt.Errorf("line %q has wrong field lengths", line)
	}

	if bytes.Equal(lm[8:], make([]byte, 16)) {
		sum := md5.Sum(append(challenge, lm[:8]...)) //nolint:gosec // G401: NTLM2 session response by definition
		challenge = sum[:8]
	}

	h := md4.New() //nolint:gosec // G406: the NT hash is MD4 by definition
	h.Write(utf16le(password))
	key := append(h.Sum(nil), make([]byte, 5)...)
	var want []byte
	for i := range 3 {
		block, err := des.NewCipher(desKey(key[7*i : 7*i+7])) //nolint:gosec // G405: NTLMv1 is DES by definition
		if err != nil {
			return "", "", fmt.Errorf("des key: %w", err)
		}
		out := make([]byte, 8)
		block.Encrypt(out, challenge)
		want = append(want, out...)
	}

	if !bytes.Equal(want, nt) {
		return "", "", fmt.Errorf("nt response %x is not the response of the password", nt)
	}
	return user, domain, nil
}

// desKey spreads 7 key bytes over 8, leaving the parity bits clear.
func desKey(k []byte) []byte {
	return []byte{
		k[0] & 0xfe,
		k[0]<<7 | k[1]>>1,
		k[1]<<6 | k[2]>>2,
		k[2]<<5 | k[3]>>3,
		k[3]<<4 | k[4]>>4,
		k[4]<<3 | k[5]>>5,
		k[5]<<2 | k[6]>>6,
		k[6] << 1,
	}
}

func utf16le(s string) []byte {
	units := utf16.Encode([]rune(s))
	out := make([]byte, 0, 2*len(units))
	for _, u := range units {
		out = binary.LittleEndian.AppendUint16(out, u)
	}
	return out
}
