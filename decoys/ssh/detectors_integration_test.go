//go:build integration

package ssh

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// detectorTranscript connects to addr, reads the server's identification,
// sends what probe makes of it and describes everything the server sends
// back until it closes or goes quiet: text lines quoted without their
// line end, binary packets by type, then how the connection ended (EOF
// for a FIN, RESET, TIMEOUT). Random fields (the KEXINIT cookie) never
// enter the description. Line ends are left out because a reset can
// discard the last bytes of a reply before they are read; the exact
// replies are checked in TestBadIdentificationReplies.
func detectorTranscript(t *testing.T, addr string, probe func(ident string) []byte) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
	r := bufio.NewReader(conn)
	ident, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("read identification: %v", err)
	}
	// The server may close before reading all of it.
	_, _ = conn.Write(probe(ident))

	var parts []string
	for {
		head, err := r.Peek(5)
		if err != nil {
			return strings.Join(append(parts, endOf(err)), "; ")
		}
		if n := binary.BigEndian.Uint32(head); n > 0 && n < 64<<10 && int(head[4]) < int(n) {
			p, err := readPacket(r)
			if err != nil {
				return strings.Join(append(parts, endOf(err)), "; ")
			}
			parts = append(parts, describeAny(p))
			continue
		}
		line, err := r.ReadString('\n')
		if line != "" {
			parts = append(parts, fmt.Sprintf("%q", strings.TrimRight(line, "\r\n")))
		}
		if err != nil {
			return strings.Join(append(parts, endOf(err)), "; ")
		}
	}
}

func endOf(err error) string {
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return "TIMEOUT"
	}
	if errors.Is(err, syscall.ECONNRESET) {
		return "RESET"
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "EOF"
	}
	return "ERROR " + err.Error()
}

func describeAny(p []byte) string {
	if len(p) > 0 && p[0] == 20 {
		return "KEXINIT"
	}
	return describePacket(p)
}

// TestHoneypotDetectorProbes replays the identification-stage probes of
// public SSH honeypot detectors against Debian's sshd and the decoy and
// requires the same transcript. The detectors look for replies that no
// OpenSSH release prints, such as Kippo's "Protocol mismatch." and "bad
// packet length 168430090" and Twisted's "bad version". The KEXINIT lists and
// HASSHServer that HASSH-based detectors compare are checked by
// TestOracleKexInitAndMalformedInput.
func TestHoneypotDetectorProbes(t *testing.T) {
	real := startSSHD(t)
	ts := startService(t, nil)

	fixed := func(s string) func(string) []byte { return func(string) []byte { return []byte(s) } }
	probes := []struct {
		name  string
		probe func(ident string) []byte
	}{
		// Metasploit's auxiliary/scanner/ssh/detect_kippo: echo the
		// server's own banner, then eight bare line feeds, which a real
		// server reads as the start of a binary packet.
		{"detect_kippo banner echo and 8 LF", func(ident string) []byte { return []byte(ident + strings.Repeat("\n", 8)) }},
		// The kippo-detect NSE script: a slash and seven CRLF instead of
		// an identification.
		{"kippo-detect.nse slash and CRLFs", fixed("/" + strings.Repeat("\r\n", 7))},
		// The Cowrie "bad version" probe: a protocol version that is
		// neither 2.0 nor the 1.99 compatibility one.
		{"cowrie bad version 1.9", fixed("SSH-1.9-OpenSSH_5.9p1\r\n")},
		// nuclei's cowrie-ssh-honeypot-detect: a version of 1337, where
		// Twisted answers "bad version 1337". The template also matches
		// OpenSSH's own reply, so the aim is sshd's answer, not silence.
		{"nuclei cowrie version 1337", fixed("SSH-1337-OpenSSH_9.0\r\n")},
		{"ssh 1.99 compatibility", fixed("SSH-1.99-OpenSSH_5.9p1\r\n")},
		{"ssh 3.0", fixed("SSH-3.0-OpenSSH_9.2p1\r\n")},
		// The "double banner" probe: two client identifications, the
		// second of which a real server parses as a packet header.
		{"double banner", fixed("SSH-2.0-OpenSSH_9.2p1\r\nSSH-2.0-OpenSSH_9.2p1\r\n")},
		// The "CR probe": blank lines before the identification, and an
		// identification ended by a bare carriage return.
		{"CRLF lines before identification", fixed("\r\n\r\n\r\nSSH-2.0-OpenSSH_9.2p1\r\n")},
		{"identification ended by CR", fixed("SSH-2.0-OpenSSH_9.2p1\r")},
		{"identification ended by LF", fixed("SSH-2.0-OpenSSH_9.2p1\n")},
		// The spacer-packet probe: a valid identification then a run of
		// zero bytes, a packet of length 0.
		{"identification then zero bytes", fixed("SSH-2.0-OpenSSH_9.2p1\r\n" + strings.Repeat("\x00", 16))},
		// A banner grabber of another protocol on port 22.
		{"HTTP request", fixed("GET / HTTP/1.0\r\n\r\n")},
	}
	for _, p := range probes {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			want := detectorTranscript(t, real, p.probe)
			got := detectorTranscript(t, ts.addr, p.probe)
			t.Logf("sshd: %s", want)
			if got != want {
				t.Errorf("decoy: %s\nsshd:  %s", got, want)
			}
			for _, tell := range []string{"Protocol mismatch", "bad packet length", "bad version"} {
				if strings.Contains(got, tell) {
					t.Errorf("decoy answered with the honeypot tell %q: %s", tell, got)
				}
			}
		})
	}
}
