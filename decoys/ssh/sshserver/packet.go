package sshserver

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/chacha20"
	"golang.org/x/crypto/poly1305" //nolint:staticcheck // SA1019: chacha20-poly1305@openssh.com keys raw Poly1305 from the ChaCha20 stream, which the AEAD package cannot express
)

// maxPacketBytes is OpenSSH's PACKET_MAX_SIZE: the largest packet length
// field sshd accepts.
const maxPacketBytes = 256 * 1024

// Packet decoding errors (packet.c, ssh_packet_read_poll2). Only a
// badPaddingError gets a DISCONNECT on the wire; sshd closes silently on
// the others.
var (
	errPacketCorrupt = errors.New("packet corrupt")
	errMACInvalid    = errors.New("message authentication code incorrect")
	errBadFraming    = errors.New("packet padding exceeds its length")
)

// badPaddingError is a packet whose padding is shorter than 4 bytes.
type badPaddingError struct{ padding int }

func (e *badPaddingError) Error() string {
	return fmt.Sprintf("corrupted padlen %d on input", e.padding)
}

// MAC computes the message authentication code of one packet. seq is the
// packet sequence number; data is the authenticated bytes.
type MAC interface {
	Size() int
	Sum(dst []byte, seq uint32, data []byte) []byte
}

// packetOpener reads and decrypts one packet and returns its payload
// (padding removed, still compressed).
type packetOpener interface {
	openPacket(seq uint32, r io.Reader) ([]byte, error)
}

// packetSealer frames, pads, encrypts and writes one payload.
type packetSealer interface {
	sealPacket(seq uint32, dst []byte, payload []byte, rand io.Reader) ([]byte, error)
}

// paddingLength returns the padding for a packet of n bytes counted from
// the padding-length byte (or from the length field when lengthInBlock),
// following OpenSSH: at least 4 bytes, a multiple of blockSize in all.
func paddingLength(n, blockSize int) int {
	padding := blockSize - n%blockSize
	if padding < 4 {
		padding += blockSize
	}
	return padding
}

// checkLength applies sshd's bounds on a packet length field.
func checkLength(length uint32, blockSize int, lengthEncrypted bool) error {
	if length < 1+4 || length > maxPacketBytes {
		return errPacketCorrupt
	}
	need := int(length)
	if lengthEncrypted {
		need = 4 + int(length) - blockSize
	}
	if need%blockSize != 0 {
		return errPacketCorrupt
	}
	return nil
}

// stripPadding returns the payload of a decrypted packet body that starts
// with the padding-length byte.
func stripPadding(body []byte) ([]byte, error) {
	padding := int(body[0])
	if padding < 4 {
		return nil, &badPaddingError{padding: padding}
	}
	if padding > len(body)-1 {
		return nil, errBadFraming
	}
	payload := body[1 : len(body)-padding]
	if len(payload) == 0 {
		return nil, errBadFraming
	}
	return payload, nil
}

// streamCipher is the packet format of the unencrypted initial state and
// of the CTR ciphers, with a MAC over the plaintext (mac-then-encrypt) or
// the ciphertext (encrypt-then-MAC, etm).
type streamCipher struct {
	stream    cipher.Stream // nil before the first key exchange
	mac       MAC           // nil before the first key exchange
	etm       bool
	blockSize int
	macBuf    []byte
}

func newPlainCipher() *streamCipher { return &streamCipher{blockSize: 8} }

func newCTRCipher(key, iv []byte, mac MAC, etm bool) (*streamCipher, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("create aes: %w", err)
	}
	return &streamCipher{stream: cipher.NewCTR(block, iv), mac: mac, etm: etm, blockSize: aes.BlockSize}, nil
}

func (c *streamCipher) xor(b []byte) {
	if c.stream != nil {
		c.stream.XORKeyStream(b, b)
	}
}

func (c *streamCipher) openPacket(seq uint32, r io.Reader) ([]byte, error) {
	macSize := 0
	if c.mac != nil {
		macSize = c.mac.Size()
	}

	if c.etm {
		var head [4]byte
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return nil, err
		}
		length := binary.BigEndian.Uint32(head[:])
		if err := checkLength(length, c.blockSize, false); err != nil {
			return nil, err
		}
		packet := make([]byte, 4+int(length)+macSize)
		copy(packet, head[:])
		if _, err := io.ReadFull(r, packet[4:]); err != nil {
			return nil, err
		}
		body, tag := packet[:4+length], packet[4+length:]
		c.macBuf = c.mac.Sum(c.macBuf[:0], seq, body)
		if subtle.ConstantTimeCompare(c.macBuf, tag) != 1 {
			return nil, errMACInvalid
		}
		c.xor(body[4:])
		return stripPadding(body[4:])
	}

	first := make([]byte, c.blockSize)
	if _, err := io.ReadFull(r, first); err != nil {
		return nil, err
	}
	c.xor(first)
	length := binary.BigEndian.Uint32(first)
	if err := checkLength(length, c.blockSize, true); err != nil {
		return nil, err
	}
	packet := make([]byte, 4+int(length)+macSize)
	copy(packet, first)
	if _, err := io.ReadFull(r, packet[c.blockSize:]); err != nil {
		return nil, err
	}
	body, tag := packet[:4+length], packet[4+length:]
	c.xor(body[c.blockSize:])
	if c.mac != nil {
		c.macBuf = c.mac.Sum(c.macBuf[:0], seq, body)
		if subtle.ConstantTimeCompare(c.macBuf, tag) != 1 {
			// sshd treats a wrong MAC over plaintext as a corrupt packet,
			// unlike a wrong encrypt-then-MAC tag.
			return nil, errPacketCorrupt
		}
	}
	return stripPadding(body[4:])
}

func (c *streamCipher) sealPacket(seq uint32, dst []byte, payload []byte, rand io.Reader) ([]byte, error) {
	counted := 1 + len(payload)
	if !c.etm {
		counted += 4
	}
	padding := paddingLength(counted, c.blockSize)
	start := len(dst)
	dst = appendUint32(dst, uint32(1+len(payload)+padding))
	dst = append(dst, byte(padding))
	dst = append(dst, payload...)
	dst = append(dst, make([]byte, padding)...)
	// sshd pads with random bytes once encrypting and with zeros before
	// (ssh_packet_send2_wrapped).
	if c.stream != nil {
		if _, err := io.ReadFull(rand, dst[len(dst)-padding:]); err != nil {
			return nil, fmt.Errorf("read padding: %w", err)
		}
	}
	packet := dst[start:]

	switch {
	case c.mac == nil:
		c.xor(packet)
	case c.etm:
		c.xor(packet[4:])
		dst = c.mac.Sum(dst, seq, dst[start:])
	default:
		c.macBuf = c.mac.Sum(c.macBuf[:0], seq, packet)
		c.xor(packet)
		dst = append(dst, c.macBuf...)
	}
	return dst, nil
}

// gcmCipher is aes128-gcm@openssh.com and aes256-gcm@openssh.com (RFC
// 5647 as OpenSSH implements it): the length is sent in clear as
// associated data and the 12-byte nonce is a fixed 4-byte field followed
// by a 64-bit counter incremented per packet.
type gcmCipher struct {
	aead  cipher.AEAD
	nonce [12]byte
}

func newGCMCipher(key, iv []byte) (*gcmCipher, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("create aes: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("create gcm: %w", err)
	}
	c := &gcmCipher{aead: aead}
	copy(c.nonce[:], iv)
	return c, nil
}

func (c *gcmCipher) step() {
	binary.BigEndian.PutUint64(c.nonce[4:], binary.BigEndian.Uint64(c.nonce[4:])+1)
}

func (c *gcmCipher) openPacket(_ uint32, r io.Reader) ([]byte, error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, err
	}
	length := binary.BigEndian.Uint32(head[:])
	if err := checkLength(length, aes.BlockSize, false); err != nil {
		return nil, err
	}
	sealed := make([]byte, int(length)+c.aead.Overhead())
	if _, err := io.ReadFull(r, sealed); err != nil {
		return nil, err
	}
	body, err := c.aead.Open(sealed[:0], c.nonce[:], sealed, head[:])
	if err != nil {
		return nil, errMACInvalid
	}
	c.step()
	return stripPadding(body)
}

func (c *gcmCipher) sealPacket(_ uint32, dst []byte, payload []byte, rand io.Reader) ([]byte, error) {
	padding := paddingLength(1+len(payload), aes.BlockSize)
	length := 1 + len(payload) + padding
	dst = appendUint32(dst, uint32(length))
	head := len(dst)
	body := make([]byte, length)
	body[0] = byte(padding)
	copy(body[1:], payload)
	if _, err := io.ReadFull(rand, body[1+len(payload):]); err != nil {
		return nil, fmt.Errorf("read padding: %w", err)
	}
	dst = c.aead.Seal(dst, c.nonce[:], body, dst[head-4:head])
	c.step()
	return dst, nil
}

// chachaCipher is chacha20-poly1305@openssh.com (PROTOCOL.chacha20poly1305
// in OpenSSH): the 64-byte key is K_2 (payload) then K_1 (length), the
// nonce is the sequence number, and the Poly1305 key is the first 32 bytes
// of the K_2 keystream for that nonce.
type chachaCipher struct {
	payloadKey, lengthKey [32]byte
}

func newChachaCipher(key []byte) *chachaCipher {
	c := &chachaCipher{}
	copy(c.payloadKey[:], key[:32])
	copy(c.lengthKey[:], key[32:64])
	return c
}

func chachaNonce(seq uint32) []byte {
	var nonce [12]byte
	binary.BigEndian.PutUint32(nonce[8:], seq)
	return nonce[:]
}

// payloadStream returns the K_2 stream at block 1 and the Poly1305 key.
func (c *chachaCipher) payloadStream(seq uint32) (*chacha20.Cipher, [32]byte, error) {
	var polyKey [32]byte
	s, err := chacha20.NewUnauthenticatedCipher(c.payloadKey[:], chachaNonce(seq))
	if err != nil {
		return nil, polyKey, err
	}
	s.XORKeyStream(polyKey[:], polyKey[:])
	s.SetCounter(1)
	return s, polyKey, nil
}

func (c *chachaCipher) xorLength(seq uint32, dst, src []byte) error {
	s, err := chacha20.NewUnauthenticatedCipher(c.lengthKey[:], chachaNonce(seq))
	if err != nil {
		return err
	}
	s.XORKeyStream(dst, src)
	return nil
}

func (c *chachaCipher) openPacket(seq uint32, r io.Reader) ([]byte, error) {
	var head, plainHead [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, err
	}
	if err := c.xorLength(seq, plainHead[:], head[:]); err != nil {
		return nil, err
	}
	length := binary.BigEndian.Uint32(plainHead[:])
	if err := checkLength(length, 8, false); err != nil {
		return nil, err
	}
	packet := make([]byte, 4+int(length)+poly1305.TagSize)
	copy(packet, head[:])
	if _, err := io.ReadFull(r, packet[4:]); err != nil {
		return nil, err
	}
	s, polyKey, err := c.payloadStream(seq)
	if err != nil {
		return nil, err
	}
	var tag [poly1305.TagSize]byte
	copy(tag[:], packet[4+length:])
	if !poly1305.Verify(&tag, packet[:4+length], &polyKey) {
		return nil, errMACInvalid
	}
	body := packet[4 : 4+length]
	s.XORKeyStream(body, body)
	return stripPadding(body)
}

func (c *chachaCipher) sealPacket(seq uint32, dst []byte, payload []byte, rand io.Reader) ([]byte, error) {
	padding := paddingLength(1+len(payload), 8)
	length := 1 + len(payload) + padding
	start := len(dst)
	dst = appendUint32(dst, uint32(length))
	if err := c.xorLength(seq, dst[start:], dst[start:]); err != nil {
		return nil, err
	}
	dst = append(dst, byte(padding))
	dst = append(dst, payload...)
	dst = append(dst, make([]byte, padding)...)
	if _, err := io.ReadFull(rand, dst[len(dst)-padding:]); err != nil {
		return nil, fmt.Errorf("read padding: %w", err)
	}
	s, polyKey, err := c.payloadStream(seq)
	if err != nil {
		return nil, err
	}
	s.XORKeyStream(dst[start+4:], dst[start+4:])
	var tag [poly1305.TagSize]byte
	poly1305.Sum(&tag, dst[start:], &polyKey)
	return append(dst, tag[:]...), nil
}
