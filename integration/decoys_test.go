//go:build integration

package integration

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/internal/endpoints"
)

// TestDevMailAndTelnet attacks the SMTP and Telnet decoys of decnet dev
// with swaks and a Telnet client from their own loopback sources, and
// finds each credential through the API with its exact fields, then the
// Telnet shell session's recording through SessionService.
func TestDevMailAndTelnet(t *testing.T) {
	swaks := requireTool(t, "swaks")
	dataDir := t.TempDir()
	dev := startProcess(t, "decnet-dev", binary(t, "decnet"), "dev", "--data-dir", dataDir, "--api-listen", "127.0.0.1:0")
	ep := waitEndpoints(t, dev, dataDir, func(e endpoints.Endpoints) bool {
		_, smtp := e.FindDecoy("smtp")
		_, telnet := e.FindDecoy("telnet")
		return e.API != "" && smtp && telnet
	})
	smtpDecoy, _ := ep.FindDecoy("smtp")
	telnetDecoy, _ := ep.FindDecoy("telnet")
	password, err := os.ReadFile(filepath.Join(dataDir, "admin-password"))
	if err != nil {
		t.Fatal(err)
	}
	api := newAPIClient(ep.API, nil)
	api.login(t, "admin", strings.TrimSpace(string(password)))

	host, port := splitHostPort(t, smtpDecoy.Address)
	for _, mech := range []string{"PLAIN", "LOGIN"} {
		out, err := exec.Command(swaks, "--server", host, "--port", port, "--local-interface", "127.0.0.5",
			"--auth", mech, "--auth-user", "billing@corp.example", "--auth-password", "Invoice#"+mech,
			"--to", "root@localhost", "--quit-after", "AUTH", "--timeout", "20").CombinedOutput()
		if err == nil || !bytes.Contains(out, []byte("535 5.7.8")) {
			t.Fatalf("swaks AUTH %s: want 535, got %v: %s", mech, err, out)
		}
	}

	// The Telnet decoy lets the third try from a source in (login
	// after:3 in decnet dev).
	conn := telnetLogin(t, telnetDecoy.Address, "127.0.0.6", []string{"admin:admin", "root:123456", "root:toor"})
	if _, err := conn.Write([]byte("uname -a\r\n")); err != nil {
		t.Fatal(err)
	}
	out := readUntil(t, conn, "# ")
	if !bytes.Contains(out, []byte("GNU/Linux")) {
		t.Errorf("uname -a printed %q", out)
	}
	if _, err := conn.Write([]byte("exit\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _ = conn.Read(make([]byte, 4096))
	conn.Close()

	want := []wantCredential{
		{source: "127.0.0.5", service: "smtp", mechanism: "sasl_plain", principal: "billing@corp.example", secretKind: "plaintext", secret: []byte("Invoice#PLAIN")},
		{source: "127.0.0.5", service: "smtp", mechanism: "sasl_login", principal: "billing@corp.example", secretKind: "plaintext", secret: []byte("Invoice#LOGIN")},
		{source: "127.0.0.6", service: "telnet", mechanism: "telnet_login", principal: "admin", secretKind: "plaintext", secret: []byte("admin")},
		{source: "127.0.0.6", service: "telnet", mechanism: "telnet_login", principal: "root", secretKind: "plaintext", secret: []byte("toor")},
	}
	ctx := context.Background()
	eventually(t, 30*time.Second, func() error {
		creds, err := api.credentials(ctx)
		if err != nil {
			return err
		}
		for _, w := range want {
			if n := countMatches(creds, w); n != 1 {
				return errorf("credential %+v stored %d times", w, n)
			}
		}
		return nil
	})

	// The session ends with its recording, which replays the commands.
	eventually(t, 30*time.Second, func() error {
		var list apiv1.ListSessionRecordingsResponse
		if err := api.call(ctx, "decnet.api.v1.SessionService/ListSessionRecordings", &apiv1.ListSessionRecordingsRequest{}, &list); err != nil {
			return err
		}
		if len(list.GetRecordings()) != 1 {
			return errorf("%d recordings", len(list.GetRecordings()))
		}
		rec := list.GetRecordings()[0]
		var got apiv1.GetSessionRecordingResponse
		if err := api.call(ctx, "decnet.api.v1.SessionService/GetSessionRecording", &apiv1.GetSessionRecordingRequest{SessionId: rec.GetSessionId()}, &got); err != nil {
			return err
		}
		cast := string(got.GetCast())
		if rec.GetService() != "telnet" || rec.GetSourceAddress() != "127.0.0.6" || !strings.HasPrefix(cast, `{"version":2`) ||
			!strings.Contains(cast, `uname -a`) || !strings.Contains(cast, `GNU/Linux`) {
			return errorf("recording %v with cast %q", rec, cast)
		}
		return nil
	})
}

// telnetLogin answers the decoy's option negotiation by refusing every
// option, as a minimal client does, and tries each user:password in turn
// until a shell prompt appears.
func telnetLogin(t *testing.T, addr, source string, tries []string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}, Timeout: 10 * time.Second}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	for i, try := range tries {
		user, pass, _ := strings.Cut(try, ":")
		readUntil(t, conn, "login: ")
		if _, err := conn.Write([]byte(user + "\r\n")); err != nil {
			t.Fatal(err)
		}
		readUntil(t, conn, "Password: ")
		if _, err := conn.Write([]byte(pass + "\r\n")); err != nil {
			t.Fatal(err)
		}
		if i == len(tries)-1 {
			readUntil(t, conn, "# ")
		}
	}
	return conn
}

// readUntil reads until the text after stripping Telnet commands ends
// with suffix, refusing every option the server offers.
func readUntil(t *testing.T, conn net.Conn, suffix string) []byte {
	t.Helper()
	var text []byte
	buf := make([]byte, 4096)
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("read waiting for %q after %q: %v", suffix, text, err)
		}
		data := buf[:n]
		for i := 0; i < len(data); i++ {
			if data[i] != 0xff || i+1 >= len(data) {
				text = append(text, data[i])
				continue
			}
			switch cmd := data[i+1]; cmd {
			case 0xfd, 0xfb: // DO, WILL: refuse with WONT, DONT
				if i+2 < len(data) {
					reply := byte(0xfc)
					if cmd == 0xfb {
						reply = 0xfe
					}
					_, _ = conn.Write([]byte{0xff, reply, data[i+2]})
				}
				i += 2
			case 0xfe, 0xfc:
				i += 2
			case 0xfa: // subnegotiation: skip to IAC SE
				end := bytes.Index(data[i:], []byte{0xff, 0xf0})
				if end < 0 {
					i = len(data)
				} else {
					i += end + 1
				}
			default:
				i++
			}
		}
		if bytes.HasSuffix(bytes.TrimRight(text, "\x00"), []byte(suffix)) {
			return text
		}
	}
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
