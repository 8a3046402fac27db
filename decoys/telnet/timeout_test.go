package telnet

import (
	"io"
	"testing"
	"time"

	"github.com/decnet/decnet/decoys"
)

// readAllUntilClose returns what the server sends until it closes conn.
func readAllUntilClose(t *testing.T, conn io.Reader) []byte {
	t.Helper()
	got, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("read until close: %v (got %q)", err, got)
	}
	return got
}

// TestSilentClientLoginTimeout connects without sending a byte. BusyBox
// telnetd and IOS start their login at once, so the login timeout ends
// the connection with the login program's message after the prompt.
func TestSilentClientLoginTimeout(t *testing.T) {
	tests := []struct {
		persona string
		prompt  func(hostname string) string
		text    string
	}{
		{PersonaBusyBox, func(h string) string { return h + " login: " }, "\r\r\nLogin timed out after 60 seconds\r\r\n"},
		{PersonaCiscoIOS, func(string) string { return "\r\n\r\nUser Access Verification\r\n\r\nUsername: " }, "\r\n% Username:  timeout expired!\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.persona, func(t *testing.T) {
			ts := startService(t, tc.persona, nil, func(s *Service) {
				p := *s.persona
				p.loginTimeout = 100 * time.Millisecond
				s.persona = &p
			})
			conn := dialFrom(t, "127.0.0.2", ts.addr)
			// Only keeps a broken test from hanging; no assertion depends on it.
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))

			got := readAllUntilClose(t, conn)
			p := ts.svc.persona
			want := string(p.opening) + tc.prompt(ts.svc.hostname) + tc.text
			if string(got) != want {
				t.Errorf("server sent %q, want %q", got, want)
			}
			closed := ts.emitter.waitFor(t, decoys.KindConnectionClosed, 1)
			if r := closed[0].GetConnectionClosed().GetReason(); r != reasonLoginTimeout {
				t.Errorf("close reason = %q, want %q", r, reasonLoginTimeout)
			}
		})
	}
}

// TestDebianSilentClientNeverReachesLogin connects to the Debian persona
// and sends no option replies. inetutils telnetd starts login(1) only
// after the client replies, so neither a prompt nor login's timeout
// message is sent, and the decoy's read timeout closes the connection.
func TestDebianSilentClientNeverReachesLogin(t *testing.T) {
	ts := startService(t, PersonaDebian12, nil, func(s *Service) {
		s.limits.ReadTimeout = 200 * time.Millisecond
		p := *s.persona
		p.loginTimeout = 50 * time.Millisecond
		s.persona = &p
	})
	conn := dialFrom(t, "127.0.0.2", ts.addr)
	// Only keeps a broken test from hanging; no assertion depends on it.
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))

	got := readAllUntilClose(t, conn)
	if string(got) != string(ts.svc.persona.opening) {
		t.Errorf("server sent %q, want only the opening %q", got, ts.svc.persona.opening)
	}
	closed := ts.emitter.waitFor(t, decoys.KindConnectionClosed, 1)
	if r := closed[0].GetConnectionClosed().GetReason(); r != reasonReadTimeout {
		t.Errorf("close reason = %q, want %q", r, reasonReadTimeout)
	}
}

// TestLoginTimeoutBeforeReadTimeout checks that with the default limits
// each persona's login timeout, not the decoy's read timeout, ends an idle
// login, and that each keeps its product's value.
func TestLoginTimeoutBeforeReadTimeout(t *testing.T) {
	want := map[string]time.Duration{
		// LOGIN_TIMEOUT in Debian 12's /etc/login.defs.
		PersonaDebian12: 60 * time.Second,
		// TIMEOUT in BusyBox's loginutils/login.c.
		PersonaBusyBox: 60 * time.Second,
		// NOTE: IOS's login response timeout of 30 s is taken from the
		// persona table, not measured on an IOS device.
		PersonaCiscoIOS: 30 * time.Second,
	}
	limits := decoys.DefaultLimits()
	for _, p := range personas {
		if p.loginTimeout != want[p.id] {
			t.Errorf("%s: login timeout = %v, want %v", p.id, p.loginTimeout, want[p.id])
		}
		if p.loginTimeout >= limits.ReadTimeout {
			t.Errorf("%s: login timeout %v is not below the default read timeout %v", p.id, p.loginTimeout, limits.ReadTimeout)
		}
	}
}
