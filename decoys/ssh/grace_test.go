package ssh

import (
	"errors"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/decnet/decnet/decoys"
)

// TestGraceTimeCoversIdentification sends an identification line that
// never ends, one byte every 20 ms. sshd arms its LoginGraceTime alarm
// before it reads the client's identification, so the grace time closes
// the connection. Nothing follows the server's identification. The close
// is a FIN, but the dripping client may write once more after it, and
// the reset its kernel gets back can reach the read first; either ends
// the test's read.
func TestGraceTimeCoversIdentification(t *testing.T) {
	ts := startService(t, func(s *Service) { s.persona.loginGraceTime = 300 * time.Millisecond })
	conn, r := rawConn(t, ts.addr)

	stop := make(chan struct{})
	defer close(stop)
	go func() {
		ticker := time.NewTicker(20 * time.Millisecond)
		defer ticker.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-ticker.C:
			}
			if _, err := conn.Write([]byte{"SSH-2.0-drip"[i%12]}); err != nil {
				return
			}
		}
	}()

	rest, err := io.ReadAll(r)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read after identification: %v, want EOF", err)
	}
	if len(rest) != 0 {
		t.Errorf("data after server identification = %q, want none", rest)
	}
	closed := ts.emitter.waitFor(t, decoys.KindConnectionClosed, 1)
	cc := closed[0].GetConnectionClosed()
	if cc.GetReason() != reasonTimeout {
		t.Errorf("close reason = %q, want %q", cc.GetReason(), reasonTimeout)
	}
	if cc.GetBytesReceived() == 0 {
		t.Error("bytes received = 0, want the bytes the client sent")
	}
	if cc.GetBytesSent() != uint64(len(ts.svc.persona.banner)+2) {
		t.Errorf("bytes sent = %d, want only the identification (%d)", cc.GetBytesSent(), len(ts.svc.persona.banner)+2)
	}
}

// TestGraceTimeCoversKeyExchange sends a complete identification and then
// nothing: the rest of the grace period runs out in the key exchange.
func TestGraceTimeCoversKeyExchange(t *testing.T) {
	ts := startService(t, func(s *Service) { s.persona.loginGraceTime = 300 * time.Millisecond })
	conn, r := rawConn(t, ts.addr)
	if _, err := conn.Write([]byte("SSH-2.0-OpenSSH_9.2\r\n")); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(r)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("read after identification: %v, want EOF", err)
	}
	// The server's KEXINIT precedes the close.
	if len(rest) == 0 || strings.Contains(string(rest), "SSH-") {
		t.Errorf("server sent %d bytes after its identification, want its KEXINIT only", len(rest))
	}
	closed := ts.emitter.waitFor(t, decoys.KindConnectionClosed, 1)
	if got := closed[0].GetConnectionClosed().GetReason(); got != reasonTimeout {
		t.Errorf("close reason = %q, want %q", got, reasonTimeout)
	}
}

// TestPersonaGraceTimeDefault checks that each persona keeps sshd's
// default LoginGraceTime of 120 s.
func TestPersonaGraceTimeDefault(t *testing.T) {
	for _, p := range personas() {
		if p.loginGraceTime != 120*time.Second {
			t.Errorf("%s: loginGraceTime = %v, want 2m0s", p.id, p.loginGraceTime)
		}
	}
}
