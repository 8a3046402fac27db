package smtp

import (
	"bufio"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/decnet/decnet/decoys"
)

// STARTTLS emits one client.fingerprinted event in the connection's
// session.
func TestStartTLSClientFingerprint(t *testing.T) {
	ts := startService(t, decoys.Config{}, false)
	c := dialFrom(t, "127.0.0.3", ts.addr)
	c.readReply(5 * time.Second)
	c.exchange("EHLO x\r\n")
	if got := c.exchange("STARTTLS\r\n"); !strings.HasPrefix(got, "220 ") {
		t.Fatalf("STARTTLS reply %q", got)
	}
	tc := tls.Client(c.conn, &tls.Config{InsecureSkipVerify: true, ServerName: "mx.example"}) //nolint:gosec // G402: the decoy's self-signed certificate
	if err := tc.Handshake(); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	c.conn = tc
	c.br = bufio.NewReader(tc)
	c.exchange("QUIT\r\n")

	closed := ts.emitter.waitFor(t, decoys.KindConnectionClosed, 1)[0]
	fps := ts.emitter.ofKind(decoys.KindClientFingerprinted)
	if len(fps) != 1 {
		t.Fatalf("%d fingerprint events for one handshake, want 1", len(fps))
	}
	ev := fps[0]
	if ev.GetSessionId() == "" || ev.GetSessionId() != closed.GetSessionId() {
		t.Errorf("session %q, want the connection's %q", ev.GetSessionId(), closed.GetSessionId())
	}
	if src := ev.GetSource().GetAddress(); src != "127.0.0.3" {
		t.Errorf("source %q, want 127.0.0.3", src)
	}
	fp := ev.GetClientFingerprinted()
	if !strings.HasPrefix(fp.GetJa3String(), "771,") || len(fp.GetJa3()) != 32 {
		t.Errorf("ja3 %q of %q, want version 771 and an MD5", fp.GetJa3(), fp.GetJa3String())
	}
	if ja4 := fp.GetJa4(); !strings.HasPrefix(ja4, "t13d") || ja4[8:10] != "00" {
		t.Errorf("ja4 = %s, want t13d with no ALPN", ja4)
	}
}
