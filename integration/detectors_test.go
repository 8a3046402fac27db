//go:build integration

package integration

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// honeypotDefaults are the greetings and names that signature-based
// honeypot scanners look for. They are the default identities of public
// honeypots (SSH banners, hostnames, FTP and SMTP greetings, SMB server
// names) and placeholder names that production hosts rarely show. Each is
// matched case-insensitively anywhere in what a persona sends first.
var honeypotDefaults = []string{
	"SSH-2.0-OpenSSH_5.1p1 Debian-5",        // Kippo
	"SSH-2.0-OpenSSH_6.0p1 Debian-4+deb7u2", // Cowrie's former default
	"svr04",                                 // Cowrie's default hostname
	"DiskStation FTP server ready",          // Dionaea
	"Welcome to the ftp service",            // Dionaea
	"Welcome to my FTP Server",              // Amun
	"Nepenthes",                             //
	"BearTrap",                              //
	"SMTP Mailserver",                       // Dionaea, Amun
	"HOMEUSER-3AF6FE",                       // Dionaea SMB
	"honeypot",
	"localhost",
	"example.com",
	"example.org",
}

// TestNoHoneypotDefaultBanners reads what every TCP persona sends first,
// as Shodan's honeyscore and the signature scanners do, and fails on any
// default identity of a public honeypot or placeholder name.
func TestNoHoneypotDefaultBanners(t *testing.T) {
	for _, tc := range nmapCases() {
		name := tc.service + "/" + tc.persona
		if tc.options != nil {
			name += "/tls"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			port := startDecoy(t, tc.service, tc.persona, tc.options)
			first := firstWords(t, "127.0.0.1:"+port, tc.service, tc.options != nil)
			if len(first) == 0 {
				t.Fatal("the persona sent nothing")
			}
			lower := strings.ToLower(string(first))
			for _, sig := range honeypotDefaults {
				if strings.Contains(lower, strings.ToLower(sig)) {
					t.Errorf("greeting contains %q:\n%s", sig, first)
				}
			}
		})
	}
}

// firstWords returns what a banner grabber sees: the greeting of a
// server that speaks first, or the head of the reply to GET / for HTTP.
func firstWords(t *testing.T, addr, service string, useTLS bool) []byte {
	t.Helper()
	var conn net.Conn
	var err error
	if useTLS {
		conn, err = tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // G402: the decoy's certificate is self-signed
	} else {
		conn, err = net.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
	if service == "http" {
		if _, err := conn.Write([]byte("GET / HTTP/1.0\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
	}
	// Telnet servers send option negotiation, and Cisco's banner comes
	// in several writes, so read until the server goes quiet.
	var buf bytes.Buffer
	_, _ = io.Copy(&buf, io.LimitReader(conn, 8<<10))
	return buf.Bytes()
}

// TestUnknownPathIsNotFound asks each HTTP persona for paths that no
// default install serves. Web honeypots in the Glastopf and SNARE family
// answer every path with a page (they must, to catch any exploit URL),
// and nuclei's and other scanners' honeypot checks ask for a random path
// and flag a 200. nginx, Apache and IIS answer 404.
func TestUnknownPathIsNotFound(t *testing.T) {
	for _, tc := range nmapCases() {
		if tc.service != "http" || tc.options != nil {
			continue
		}
		t.Run(tc.persona, func(t *testing.T) {
			port := startDecoy(t, tc.service, tc.persona, nil)
			for _, path := range []string{"/a1b2c3d4e5f6.php", "/wp-config.php.bak", "/cgi-bin/x", "/.git/HEAD"} {
				conn, err := net.Dial("tcp", "127.0.0.1:"+port)
				if err != nil {
					t.Fatal(err)
				}
				_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
				_, _ = conn.Write([]byte("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"))
				status, err := bufio.NewReader(conn).ReadString('\n')
				conn.Close()
				if err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				if !strings.HasPrefix(status, "HTTP/1.1 404 ") {
					t.Errorf("%s: %q, want 404", path, status)
				}
			}
		})
	}
}

// nucleiTemplates are the inputs and honeypot-only replies of the
// network templates tagged honeypot in projectdiscovery's
// nuclei-templates, for the services DECNET imitates.
var nucleiTemplates = map[string]struct {
	template string
	send     string
	tell     string
}{
	"ssh":  {"cowrie-ssh-honeypot-detect", "SSH-1337-OpenSSH_9.0\r\n", "bad version 1337"},
	"ftp":  {"dionaea-ftp-honeypot-detect", "USER root\r\nPASS \r\n", "500 Syntax error: PASS requires an argument"},
	"smtp": {"mailoney-honeypot-detect", "HELP\r\n", `502 Error: command "HELP" not implemented`},
}

// TestNucleiHoneypotTemplates replays the nuclei honeypot templates
// against every persona of their service. The Debian personas are also
// compared with the real daemon on the same input in their packages
// (TestHoneypotDetectorProbes, TestVsftpdOracle, TestPostfixOracle).
func TestNucleiHoneypotTemplates(t *testing.T) {
	for _, tc := range nmapCases() {
		tpl, ok := nucleiTemplates[tc.service]
		if !ok {
			continue
		}
		t.Run(tpl.template+"/"+tc.persona, func(t *testing.T) {
			t.Parallel()
			port := startDecoy(t, tc.service, tc.persona, tc.options)
			conn, err := net.Dial("tcp", "127.0.0.1:"+port)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			// The FTP personas delay a failed login by a few seconds.
			_ = conn.SetDeadline(time.Now().Add(6 * time.Second))
			if _, err := conn.Write([]byte(tpl.send)); err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			_, _ = io.Copy(&buf, io.LimitReader(conn, 8<<10))
			t.Logf("reply: %q", buf.String())
			if !bytes.Contains(buf.Bytes(), []byte("\n")) {
				t.Fatalf("no reply line: %q", buf.String())
			}
			if strings.Contains(buf.String(), tpl.tell) {
				t.Errorf("answered %q, the template's honeypot match", tpl.tell)
			}
		})
	}
}
