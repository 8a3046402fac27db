//go:build integration

package sntrup761_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/decnet/decnet/decoys/ssh/internal/sntrup761"
	"github.com/decnet/decnet/decoys/ssh/internal/umac"
)

// TestOpenSSHClientInterop runs the real OpenSSH client against a minimal
// server that speaks just enough SSH to finish a key exchange with
// sntrup761x25519-sha512@openssh.com and read the first encrypted packet.
//
// The client sends NEWKEYS only after it has verified the server's
// signature over the exchange hash, which covers K, so NEWKEYS proves that
// ServerKEX computed the same shared secret as OpenSSH. The next packet
// (SERVICE_REQUEST) carries a UMAC tag keyed from K; checking it proves the
// umac package matches OpenSSH for each of the four UMAC algorithms.
func TestOpenSSHClientInterop(t *testing.T) {
	sshPath, err := exec.LookPath("ssh")
	if err != nil {
		t.Skip("OpenSSH client not installed")
	}
	for _, mac := range []string{
		"umac-64@openssh.com", "umac-128@openssh.com",
		"umac-64-etm@openssh.com", "umac-128-etm@openssh.com",
	} {
		t.Run(mac, func(t *testing.T) {
			runInterop(t, sshPath, mac)
		})
	}
}

const serverVersion = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"

func runInterop(t *testing.T, sshPath, mac string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	port := ln.Addr().(*net.TCPAddr).Port

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sshPath,
		"-F", "/dev/null",
		"-o", "KexAlgorithms=sntrup761x25519-sha512@openssh.com",
		"-o", "HostKeyAlgorithms=ssh-ed25519",
		"-o", "Ciphers=aes128-ctr",
		"-o", "MACs="+mac,
		"-o", "StrictHostKeyChecking=no",
		"-o", "UserKnownHostsFile=/dev/null",
		"-o", "BatchMode=yes",
		"-o", "ConnectTimeout=10",
		"-b", "127.0.0.2",
		"-p", fmt.Sprint(port),
		"tester@127.0.0.1", "true")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait() // cancel killed it, so its exit status means nothing
	})

	if err := ln.(*net.TCPListener).SetDeadline(time.Now().Add(15 * time.Second)); err != nil {
		t.Fatal(err)
	}
	conn, err := ln.Accept()
	if err != nil {
		t.Fatalf("accept: %v (ssh stderr: %s)", err, stderr.String())
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(15 * time.Second)); err != nil {
		t.Fatal(err)
	}

	if err := serveKEX(conn, mac); err != nil {
		t.Fatalf("%v\nssh stderr: %s", err, stderr.String())
	}
}

func serveKEX(conn net.Conn, mac string) error {
	r := bufio.NewReader(conn)
	if _, err := io.WriteString(conn, serverVersion+"\r\n"); err != nil {
		return err
	}
	clientVersion, err := r.ReadString('\n')
	if err != nil {
		return fmt.Errorf("read client version: %w", err)
	}
	clientVersion = strings.TrimRight(clientVersion, "\r\n")

	clientInit, err := readPlainPacket(r)
	if err != nil {
		return fmt.Errorf("read client KEXINIT: %w", err)
	}
	if clientInit[0] != 20 {
		return fmt.Errorf("read client KEXINIT: message type %d", clientInit[0])
	}
	serverInit := kexInit(mac)
	if err := writePlainPacket(conn, serverInit); err != nil {
		return err
	}

	ecdhInit, err := readPlainPacket(r)
	if err != nil {
		return fmt.Errorf("read KEX_ECDH_INIT: %w", err)
	}
	if ecdhInit[0] != 30 {
		return fmt.Errorf("read KEX_ECDH_INIT: message type %d", ecdhInit[0])
	}
	qc, _, ok := sshString(ecdhInit[1:])
	if !ok {
		return errors.New("malformed KEX_ECDH_INIT")
	}
	qs, kRaw, err := sntrup761.ServerKEX(rand.Reader, qc)
	if err != nil {
		return fmt.Errorf("ServerKEX: %w", err)
	}

	hostPub, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	hostKey := appendString(appendString(nil, []byte("ssh-ed25519")), hostPub)

	// K enters the exchange hash and the key derivation as a string.
	k := appendString(nil, kRaw)
	var hb []byte
	for _, s := range [][]byte{[]byte(clientVersion), []byte(serverVersion), clientInit, serverInit, hostKey, qc, qs} {
		hb = appendString(hb, s)
	}
	hb = append(hb, k...)
	hSum := sha512.Sum512(hb)
	h := hSum[:]

	sig := appendString(appendString(nil, []byte("ssh-ed25519")), ed25519.Sign(hostPriv, h))
	reply := []byte{31}
	reply = appendString(reply, hostKey)
	reply = appendString(reply, qs)
	reply = appendString(reply, sig)
	if err := writePlainPacket(conn, reply); err != nil {
		return err
	}
	if err := writePlainPacket(conn, []byte{21}); err != nil {
		return err
	}

	newKeys, err := readPlainPacket(r)
	if err != nil {
		return fmt.Errorf("client did not accept the key exchange: %w", err)
	}
	if newKeys[0] != 21 {
		return fmt.Errorf("client sent message %d instead of NEWKEYS", newKeys[0])
	}

	// Client to server keys: IV "A", cipher key "C", MAC key "E".
	derive := func(letter byte) []byte {
		d := sha512.New()
		d.Write(k)
		d.Write(h)
		d.Write([]byte{letter})
		d.Write(h)
		return d.Sum(nil)
	}
	block, err := aes.NewCipher(derive('C')[:16])
	if err != nil {
		return err
	}
	stream := cipher.NewCTR(block, derive('A')[:16])
	tagSize := 8
	if strings.HasPrefix(mac, "umac-128") {
		tagSize = 16
	}
	m, err := umac.New(derive('E')[:16], tagSize)
	if err != nil {
		return err
	}

	// KEXINIT, KEX_ECDH_INIT and NEWKEYS took sequence numbers 0 to 2.
	var nonce [8]byte
	binary.BigEndian.PutUint64(nonce[:], 3)
	payload, err := readSealedPacket(r, stream, m, nonce, strings.Contains(mac, "-etm"))
	if err != nil {
		return err
	}
	name, _, ok := sshString(payload[1:])
	if payload[0] != 5 || !ok || string(name) != "ssh-userauth" {
		return fmt.Errorf("first encrypted packet is not SERVICE_REQUEST ssh-userauth: %q", payload)
	}
	return nil
}

func readSealedPacket(r io.Reader, stream cipher.Stream, m *umac.MAC, nonce [8]byte, etm bool) ([]byte, error) {
	var packet []byte
	if etm {
		var lenBuf [4]byte
		if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
			return nil, err
		}
		n := binary.BigEndian.Uint32(lenBuf[:])
		if n > 35000 {
			return nil, fmt.Errorf("packet length %d", n)
		}
		rest := make([]byte, int(n)+m.Size())
		if _, err := io.ReadFull(r, rest); err != nil {
			return nil, err
		}
		body, tag := rest[:n], rest[n:]
		want := m.Sum(nil, nonce, append(lenBuf[:], body...))
		if !bytes.Equal(tag, want) {
			return nil, fmt.Errorf("UMAC tag %x, computed %x", tag, want)
		}
		stream.XORKeyStream(body, body)
		packet = append(lenBuf[:], body...)
	} else {
		first := make([]byte, aes.BlockSize)
		if _, err := io.ReadFull(r, first); err != nil {
			return nil, err
		}
		stream.XORKeyStream(first, first)
		n := binary.BigEndian.Uint32(first)
		if n > 35000 || n+4 < aes.BlockSize {
			return nil, fmt.Errorf("packet length %d", n)
		}
		rest := make([]byte, int(n)+4-aes.BlockSize+m.Size())
		if _, err := io.ReadFull(r, rest); err != nil {
			return nil, err
		}
		body, tag := rest[:len(rest)-m.Size()], rest[len(rest)-m.Size():]
		stream.XORKeyStream(body, body)
		packet = append(first, body...)
		want := m.Sum(nil, nonce, packet)
		if !bytes.Equal(tag, want) {
			return nil, fmt.Errorf("UMAC tag %x, computed %x", tag, want)
		}
	}
	padLen := int(packet[4])
	if 5+padLen >= len(packet) {
		return nil, errors.New("bad padding length")
	}
	return packet[5 : len(packet)-padLen], nil
}

func kexInit(mac string) []byte {
	b := []byte{20}
	cookie := make([]byte, 16)
	rand.Read(cookie)
	b = append(b, cookie...)
	for _, list := range []string{
		"sntrup761x25519-sha512@openssh.com",
		"ssh-ed25519",
		"aes128-ctr", "aes128-ctr",
		mac, mac,
		"none", "none",
		"", "",
	} {
		b = appendString(b, []byte(list))
	}
	return append(b, 0, 0, 0, 0, 0) // first_kex_packet_follows, reserved
}

func appendString(b, s []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func sshString(b []byte) (s, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, nil, false
	}
	return b[4 : 4+n], b[4+n:], true
}

func readPlainPacket(r io.Reader) ([]byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n < 5 || n > 35000 || int(hdr[4]) >= int(n) {
		return nil, fmt.Errorf("bad packet length %d", n)
	}
	body := make([]byte, n-1)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	payload := body[:len(body)-int(hdr[4])]
	if len(payload) == 0 {
		return nil, errors.New("empty payload")
	}
	return payload, nil
}

func writePlainPacket(w io.Writer, payload []byte) error {
	padLen := 8 - (5+len(payload))%8
	if padLen < 4 {
		padLen += 8
	}
	pkt := binary.BigEndian.AppendUint32(nil, uint32(1+len(payload)+padLen))
	pkt = append(pkt, byte(padLen))
	pkt = append(pkt, payload...)
	pkt = append(pkt, make([]byte, padLen)...)
	_, err := w.Write(pkt)
	return err
}
