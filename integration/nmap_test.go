//go:build integration

package integration

import (
	"context"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/ftp"
	httpdecoy "github.com/decnet/decnet/decoys/http"
	"github.com/decnet/decnet/decoys/imap"
	"github.com/decnet/decnet/decoys/pop3"
	"github.com/decnet/decnet/decoys/smtp"
	"github.com/decnet/decnet/decoys/ssh"
	"github.com/decnet/decnet/decoys/telnet"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// discard is an emitter that drops every event: the scans below check
// what the scanner sees, and each package's own suite checks the events.
type discard struct{}

func (discard) Emit(*eventv1.Event) {}

// nmapCase is one TCP persona and what nmap -sV must say of it.
type nmapCase struct {
	service string
	persona string
	options map[string]string
	// wantService is nmap's service column, wantVersion the start of its
	// version column: product, version and extra info as nmap names them
	// for the real product.
	wantService string
	wantVersion string
	// unrecognised is the reason the real product also gets an
	// SF-Port fingerprint; empty forbids one.
	unrecognised string
	// defaultIntensity scans at nmap's default intensity instead of
	// --version-all.
	defaultIntensity bool
}

// newDecoy builds the decoy of one service from its public constructor.
func newDecoy(service string, cfg decoys.Config) (decoys.Service, error) {
	switch service {
	case "ssh":
		return ssh.New(cfg)
	case "telnet":
		return telnet.New(cfg)
	case "ftp":
		return ftp.New(cfg)
	case "http":
		return httpdecoy.New(cfg)
	case "smtp":
		return smtp.New(cfg)
	case "pop3":
		return pop3.New(cfg)
	case "imap":
		return imap.New(cfg)
	}
	panic("no decoy " + service)
}

// nmapCases lists every TCP persona. Where the real product runs here,
// the expected line is what nmap 7.93 (Debian 12) prints for it, and the
// package suites compare the two side by side. Elsewhere it is the
// product named by the match line of nmap-service-probes.
func nmapCases() []nmapCase {
	tlsOn := map[string]string{httpdecoy.OptionTLS: "true"}
	return []nmapCase{
		{service: "ssh", persona: "openssh-9.2p1-debian12", wantService: "ssh", wantVersion: "OpenSSH 9.2p1 Debian 2+deb12u10 (protocol 2.0)"},
		{service: "ssh", persona: "openssh-9.6p1-ubuntu24.04", wantService: "ssh", wantVersion: "OpenSSH 9.6p1 Ubuntu 3ubuntu13.19 (Ubuntu Linux; protocol 2.0)"},
		{service: "ssh", persona: "openssh-9.5-windows", wantService: "ssh", wantVersion: "OpenSSH for_Windows_9.5 (protocol 2.0)"},
		{
			service: "telnet", persona: telnet.PersonaDebian12, wantService: "telnet",
			// nmap 7.93 has no match for inetutils telnetd 2.4, whose
			// opening starts with WILL AUTHENTICATION: the real daemon
			// gets a fingerprint too, and decoys/telnet compares the two
			// fingerprints byte for byte. An unrecognised service gets
			// every probe and each waits out its timeout: --version-all
			// took over six minutes here, so this one case scans at the
			// default intensity.
			unrecognised:     "inetutils telnetd has no nmap match",
			defaultIntensity: true,
		},
		{service: "telnet", persona: telnet.PersonaBusyBox, wantService: "telnet", wantVersion: "BusyBox telnetd"},
		{service: "telnet", persona: telnet.PersonaCiscoIOS, wantService: "telnet", wantVersion: "Cisco IOS telnetd"},
		{service: "ftp", persona: ftp.PersonaVsftpd, wantService: "ftp", wantVersion: "vsftpd 3.0.3"},
		// Debian's ProFTPD greeting carries no version (ServerIdent
		// "ProFTPD Server (Debian)"), so nmap names the product only.
		{service: "ftp", persona: ftp.PersonaProFTPD, wantService: "ftp", wantVersion: "ProFTPD"},
		{service: "ftp", persona: ftp.PersonaMSFTP, wantService: "ftp", wantVersion: "Microsoft ftpd"},
		{service: "http", persona: httpdecoy.PersonaNginx, wantService: "http", wantVersion: "nginx 1.22.1"},
		{service: "http", persona: httpdecoy.PersonaApache, wantService: "http", wantVersion: "Apache httpd 2.4.58 ((Ubuntu))"},
		{service: "http", persona: httpdecoy.PersonaIIS, wantService: "http", wantVersion: "Microsoft IIS httpd 10.0"},
		{service: "http", persona: httpdecoy.PersonaNginx, options: tlsOn, wantService: "ssl/http", wantVersion: "nginx 1.22.1"},
		// nmap's GetRequest gets mod_ssl's plain-HTTP 400 before it
		// tries TLS and names the product from it without the OS, as it
		// does for the real Apache with mod_ssl (measured).
		{service: "http", persona: httpdecoy.PersonaApache, options: tlsOn, wantService: "http", wantVersion: "Apache httpd 2.4.58"},
		{service: "http", persona: httpdecoy.PersonaIIS, options: tlsOn, wantService: "ssl/http", wantVersion: "Microsoft IIS httpd 10.0"},
		// Postfix names no version in its greeting or EHLO reply.
		{service: "smtp", persona: smtp.PersonaPostfix, wantService: "smtp", wantVersion: "Postfix smtpd"},
		{service: "smtp", persona: smtp.PersonaExim, wantService: "smtp", wantVersion: "Exim smtpd 4.96"},
		{service: "smtp", persona: smtp.PersonaExchange, wantService: "smtp", wantVersion: "Microsoft Exchange smtpd"},
		{service: "pop3", persona: pop3.PersonaDovecot, wantService: "pop3", wantVersion: "Dovecot pop3d"},
		{service: "pop3", persona: pop3.PersonaExchange, wantService: "pop3", wantVersion: "Microsoft Exchange"},
		{service: "pop3", persona: pop3.PersonaCourier, wantService: "pop3", wantVersion: "Courier pop3d"},
		{service: "imap", persona: imap.PersonaDovecot, wantService: "imap", wantVersion: "Dovecot imapd"},
		{service: "imap", persona: imap.PersonaExchange, wantService: "imap", wantVersion: "Microsoft Exchange"},
		{service: "imap", persona: imap.PersonaCourier, wantService: "imap", wantVersion: "Courier Imapd"},
	}
}

var nmapPortLine = regexp.MustCompile(`(?m)^(\d+)/tcp[ \t]+(\S+)[ \t]+(\S+)[ \t]*(.*)$`)

// TestNmapAllPersonas starts every TCP persona on its own loopback port
// (22 ports) and runs nmap -sV --version-all against all of them at once.
// The slowest port (ProFTPD, whose greeting matches late) takes about a
// minute, which bounds the run.
func TestNmapAllPersonas(t *testing.T) {
	nmap := requireTool(t, "nmap")
	cases := nmapCases()
	ports := make([]string, len(cases))
	byPort := make(map[string]nmapCase, len(cases))
	for i, tc := range cases {
		ports[i] = startDecoy(t, tc.service, tc.persona, tc.options)
		byPort[ports[i]] = tc
	}

	results := make(map[string]nmapResult, len(ports))
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for _, port := range ports {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := scanPort(nmap, port, !byPort[port].defaultIntensity)
			mu.Lock()
			results[port] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	t.Logf("%d nmap -sV --version-all in parallel took %s", len(ports), time.Since(start).Round(time.Second))

	for _, port := range ports {
		tc := byPort[port]
		r := results[port]
		name := tc.service + "/" + tc.persona
		if tc.options != nil {
			name += "/tls"
		}
		t.Run(name, func(t *testing.T) {
			t.Logf("%s in %s: %s", port, r.took.Round(time.Second), r.line)
			if r.err != nil {
				t.Fatalf("nmap: %v\n%s", r.err, r.out)
			}
			m := nmapPortLine.FindStringSubmatch(r.out)
			if m == nil {
				t.Fatalf("no port line:\n%s", r.out)
			}
			state, service, version := m[2], m[3], strings.TrimSpace(m[4])
			if state != "open" || service != tc.wantService || !strings.HasPrefix(version, tc.wantVersion) {
				t.Errorf("nmap: %s %s %q, want open %s %q", state, service, version, tc.wantService, tc.wantVersion)
			}
			if strings.Contains(r.out, "tcpwrapped") {
				t.Errorf("tcpwrapped:\n%s", r.out)
			}
			if strings.Contains(strings.ToLower(r.out), "honeypot") {
				t.Errorf("nmap names a honeypot:\n%s", r.out)
			}
			if got := strings.Contains(r.out, "SF-Port"); got != (tc.unrecognised != "") {
				t.Errorf("unrecognised-service fingerprint: %v, want %v (%s)\n%s", got, tc.unrecognised != "", tc.unrecognised, r.out)
			}
		})
	}
}

// nmapResult is the outcome of one scan.
type nmapResult struct {
	out  string
	line string
	took time.Duration
	err  error
}

// scanPort runs nmap -sV against one loopback port, with --version-all
// when all is set. One process per port keeps a slow port from holding
// up the others.
func scanPort(nmap, port string, all bool) nmapResult {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := []string{"-sV", "-Pn", "-n", "-p", port, "127.0.0.1"}
	if all {
		args = append(args, "--version-all")
	}
	start := time.Now()
	out, err := exec.CommandContext(ctx, nmap, args...).CombinedOutput()
	r := nmapResult{out: string(out), took: time.Since(start), err: err}
	if m := nmapPortLine.FindString(r.out); m != "" {
		r.line = strings.Join(strings.Fields(m), " ")
	}
	return r
}

// startDecoy serves one persona on a fresh loopback port until the test
// ends and returns the port.
func startDecoy(t *testing.T, service, persona string, options map[string]string) string {
	t.Helper()
	svc, err := newDecoy(service, decoys.Config{
		Decky:   "nmap-" + service,
		Seed:    []byte("seed of the decky scanned by nmap " + service + " " + persona),
		Persona: persona,
		Emitter: discard{},
		Logger:  zerolog.Nop(),
		Options: options,
	})
	if err != nil {
		t.Fatalf("%s %s: %v", service, persona, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s %s: serve: %v", service, persona, err)
		}
	})
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}
