package ssh

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/decnet/decnet/decoys"
)

// rawConn dials addr and reads the server identification line.
func rawConn(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	// Only keeps a broken test from hanging; no assertion depends on it.
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("read server identification: %v", err)
	}
	if line != "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n" {
		t.Fatalf("server identification = %q", line)
	}
	return conn, r
}

// checkStillServing runs a full password attempt from a fresh client.
func checkStillServing(t *testing.T, ts *testService) {
	t.Helper()
	before := len(ts.emitter.ofKind(decoys.KindAuthAttempt))
	_ = dial(t, ts.addr, &ssh.ClientConfig{User: "probe", Auth: []ssh.AuthMethod{ssh.Password("after")}})
	ts.emitter.waitFor(t, decoys.KindAuthAttempt, before+1)
}

// The replies were observed against openssh-server 1:9.2p1-2+deb12u10.
func TestBadIdentificationReplies(t *testing.T) {
	tests := []struct {
		name       string
		send       []byte
		wantReply  string
		wantReason string
	}{
		{"garbage", bytes.Repeat([]byte{0xff, 0x00, 0x13, 0x37}, 64), "Invalid SSH identification string.\r\n", reasonInvalidIdent},
		{"http", []byte("GET / HTTP/1.0\r\n\r\n"), "Invalid SSH identification string.\r\n", reasonInvalidIdent},
		{"1 MiB line", append([]byte("SSH-2.0-"), bytes.Repeat([]byte("A"), 1<<20)...), "Invalid SSH identification string.\r\n", reasonInvalidIdent},
		{"ssh 1.5", []byte("SSH-1.5-old\r\n"), "Protocol major versions differ.\r\n", reasonVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startService(t, nil)
			conn, r := rawConn(t, ts.addr)

			// The server may close before reading everything, so the
			// write error is not checked.
			go func() { _, _ = conn.Write(tt.send) }()

			reply, _ := io.ReadAll(r)
			if !strings.HasPrefix(string(reply), tt.wantReply) {
				t.Errorf("reply = %q, want %q", reply, tt.wantReply)
			}
			closed := ts.emitter.waitFor(t, decoys.KindConnectionClosed, 1)
			if got := closed[0].GetConnectionClosed().GetReason(); got != tt.wantReason {
				t.Errorf("close reason = %q, want %q", got, tt.wantReason)
			}
			checkStillServing(t, ts)
		})
	}
}

func TestTruncatedInputSurvived(t *testing.T) {
	tests := []struct {
		name string
		send []byte
	}{
		{"closed before identification", nil},
		{"identification only", []byte("SSH-2.0-scanner\r\n")},
		{"half a packet header", []byte("SSH-2.0-scanner\r\n\x00\x00")},
		{"packet shorter than its length", append([]byte("SSH-2.0-scanner\r\n\x00\x00\x01\x00\x05\x14"), bytes.Repeat([]byte{1}, 20)...)},
		{"oversized packet length", []byte("SSH-2.0-scanner\r\n\xff\xff\xff\xff\x04\x14")},
		{"zero packet length", []byte("SSH-2.0-scanner\r\n\x00\x00\x00\x00\x00\x00\x00\x00")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startService(t, nil)
			conn, _ := rawConn(t, ts.addr)
			if _, err := conn.Write(tt.send); err != nil {
				t.Fatal(err)
			}
			_ = conn.(*net.TCPConn).CloseWrite()

			closed := ts.emitter.waitFor(t, decoys.KindConnectionClosed, 1)
			reason := closed[0].GetConnectionClosed().GetReason()
			if reason != reasonClientClosed && reason != reasonProtocolError {
				t.Errorf("close reason = %q, want %q or %q", reason, reasonClientClosed, reasonProtocolError)
			}
			checkStillServing(t, ts)
		})
	}
}

func TestClosedMidHandshake(t *testing.T) {
	ts := startService(t, nil)

	// Send a real client KEXINIT, then vanish.
	conn, r := rawConn(t, ts.addr)
	if _, err := conn.Write([]byte("SSH-2.0-OpenSSH_9.2p1\r\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := readPacket(r); err != nil {
		t.Fatalf("read server KEXINIT: %v", err)
	}
	kexinit := []byte{20}
	kexinit = append(kexinit, make([]byte, 16)...)
	for _, list := range []string{"curve25519-sha256", "ssh-ed25519", "aes128-ctr", "aes128-ctr", "hmac-sha2-256", "hmac-sha2-256", "none", "none", "", ""} {
		kexinit = binary.BigEndian.AppendUint32(kexinit, uint32(len(list)))
		kexinit = append(kexinit, list...)
	}
	kexinit = append(kexinit, 0, 0, 0, 0, 0)
	if _, err := conn.Write(framePacket(kexinit)); err != nil {
		t.Fatal(err)
	}
	_ = conn.Close()

	closed := ts.emitter.waitFor(t, decoys.KindConnectionClosed, 1)
	if got := closed[0].GetConnectionClosed().GetReason(); got != reasonClientClosed {
		t.Errorf("close reason = %q, want %q", got, reasonClientClosed)
	}
	checkStillServing(t, ts)
}

func TestSilentClientTimesOut(t *testing.T) {
	ts := startService(t, func(s *Service) { s.limits.ReadTimeout = 50 * time.Millisecond })
	conn, r := rawConn(t, ts.addr)
	_ = conn

	if _, err := r.ReadByte(); err != io.EOF {
		t.Errorf("read after timeout = %v, want EOF", err)
	}
	closed := ts.emitter.waitFor(t, decoys.KindConnectionClosed, 1)
	if got := closed[0].GetConnectionClosed().GetReason(); got != reasonTimeout {
		t.Errorf("close reason = %q, want %q", got, reasonTimeout)
	}
}

func TestSessionTimeoutEndsConnection(t *testing.T) {
	ts := startService(t, func(s *Service) { s.limits.SessionTimeout = 50 * time.Millisecond })
	_, r := rawConn(t, ts.addr)

	if _, err := r.ReadByte(); err != io.EOF {
		t.Errorf("read after session timeout = %v, want EOF", err)
	}
	closed := ts.emitter.waitFor(t, decoys.KindConnectionClosed, 1)
	if got := closed[0].GetConnectionClosed().GetReason(); got != reasonSessionTimeout {
		t.Errorf("close reason = %q, want %q", got, reasonSessionTimeout)
	}
}

// readPacket reads one unencrypted binary packet and returns its payload.
func readPacket(r io.Reader) ([]byte, error) {
	var header [5]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		return nil, err
	}
	length := binary.BigEndian.Uint32(header[:4])
	padding := int(header[4])
	if length < 1 || length > 256<<10 || int(length)-1 < padding {
		return nil, io.ErrUnexpectedEOF
	}
	body := make([]byte, length-1)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	return body[:len(body)-padding], nil
}

// framePacket wraps payload in an unencrypted binary packet with the
// minimum padding.
func framePacket(payload []byte) []byte {
	padding := 8 - (5+len(payload))%8
	if padding < 4 {
		padding += 8
	}
	out := binary.BigEndian.AppendUint32(nil, uint32(1+len(payload)+padding))
	out = append(out, byte(padding))
	out = append(out, payload...)
	return append(out, make([]byte, padding)...)
}
