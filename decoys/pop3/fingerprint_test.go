package pop3

import (
	"strings"
	"testing"

	"github.com/decnet/decnet/decoys"
)

// STLS emits one client.fingerprinted event in the connection's
// session.
func TestSTLSClientFingerprint(t *testing.T) {
	ts := startService(t, decoys.Config{})
	c := dial(t, "127.0.0.3", ts.addr)
	c.expect("+OK Dovecot (Debian) ready.\r\n")
	c.send("STLS\r\n")
	c.expect("+OK Begin TLS negotiation now.\r\n")
	c.startTLS()
	c.send("QUIT\r\n")
	c.rest()

	closed := ts.rec.waitKind(t, decoys.KindConnectionClosed, 1)[0]
	fps := ts.rec.byKind(decoys.KindClientFingerprinted)
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
	// The test client sends no server name and no ALPN.
	if ja4 := fp.GetJa4(); !strings.HasPrefix(ja4, "t13i") || ja4[8:10] != "00" {
		t.Errorf("ja4 = %s, want t13i with no ALPN", ja4)
	}
}
