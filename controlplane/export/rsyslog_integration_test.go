//go:build integration

package export

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// rsyslogModuleDir holds imtcp and the gtls stream driver on Debian.
const rsyslogModuleDir = "/usr/lib/x86_64-linux-gnu/rsyslog"

// rsyslogTemplate writes one line per message: MSGID, structured data and
// MSG as rsyslog's RFC 5424 parser split them, tab-separated.
const rsyslogTemplate = `template(name="fields" type="list") {
  property(name="msgid") constant(value="\t")
  property(name="structured-data") constant(value="\t")
  property(name="msg") constant(value="\n")
}`

// startRsyslog runs rsyslogd in the foreground on a loopback port with a
// config in a temp dir and returns the port and the output file path.
// tlsFiles, when set, switches imtcp to the gtls driver.
func startRsyslog(t *testing.T, tlsFiles *serverPKI) (port int, out string) {
	t.Helper()
	bin, err := exec.LookPath("rsyslogd")
	if err != nil {
		t.Skip("rsyslogd is not installed (Debian package rsyslog)")
	}
	if tlsFiles != nil {
		if _, err := os.Stat(filepath.Join(rsyslogModuleDir, "lmnsd_gtls.so")); err != nil {
			t.Skip("rsyslog gtls driver is not installed (Debian package rsyslog-gnutls)")
		}
	}
	dir := t.TempDir()
	out = filepath.Join(dir, "out.log")
	portFile := filepath.Join(dir, "port")

	var conf strings.Builder
	fmt.Fprintf(&conf, "global(workDirectory=%q", dir)
	if tlsFiles != nil {
		fmt.Fprintf(&conf, " defaultNetstreamDriverCAFile=%q defaultNetstreamDriverCertFile=%q defaultNetstreamDriverKeyFile=%q",
			tlsFiles.caFile, tlsFiles.certFile, tlsFiles.keyFile)
	}
	conf.WriteString(")\n")
	if tlsFiles != nil {
		conf.WriteString(`module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")` + "\n")
	} else {
		conf.WriteString(`module(load="imtcp")` + "\n")
	}
	conf.WriteString(rsyslogTemplate + "\n")
	fmt.Fprintf(&conf, "ruleset(name=\"sink\") {\n  action(type=\"omfile\" file=%q template=\"fields\")\n}\n", out)
	fmt.Fprintf(&conf, "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"0\" listenPortFileName=%q ruleset=\"sink\")\n", portFile)
	confPath := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(confPath, []byte(conf.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(bin, "-n", "-f", confPath, "-i", filepath.Join(dir, "rsyslogd.pid"))
	logFile, err := os.Create(filepath.Join(dir, "rsyslogd.stderr"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start rsyslogd: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logFile.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logFile.Name())
			t.Logf("rsyslogd output:\n%s\nconfig:\n%s", b, conf.String())
		}
	})

	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(portFile)
		if p, perr := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && perr == nil && p > 0 {
			return p, out
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("rsyslogd did not report its port")
	return 0, ""
}

// serverPKI is a throwaway CA and a server certificate for 127.0.0.1.
type serverPKI struct {
	caFile, certFile, keyFile string
	pool                      *x509.CertPool
}

func newServerPKI(t *testing.T) *serverPKI {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "export test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	p := &serverPKI{
		caFile:   filepath.Join(dir, "ca.pem"),
		certFile: filepath.Join(dir, "cert.pem"),
		keyFile:  filepath.Join(dir, "key.pem"),
		pool:     x509.NewCertPool(),
	}
	p.pool.AddCert(ca)
	write := func(path, typ string, b []byte) {
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(p.caFile, "CERTIFICATE", caDER)
	write(p.certFile, "CERTIFICATE", der)
	write(p.keyFile, "EC PRIVATE KEY", keyDER)
	return p
}

// exportTo runs an exporter with one syslog output until want lines
// reach out.
func exportTo(t *testing.T, cfg SyslogConfig, out string, recs []Record) []string {
	t.Helper()
	e, err := New(Config{
		Outputs: []OutputConfig{{Name: "rsyslog", Topics: []string{"event.>", "credential.>"}, Syslog: &cfg, BatchSize: 2, BatchDelay: 50 * time.Millisecond}},
		Guard:   loopbackGuard(),
		Version: "1.2.3",
		Logger:  zerolog.New(zerolog.NewTestWriter(t)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	for _, r := range recs {
		e.Offer(r)
	}
	// Offered but filtered out: must not arrive.
	e.Offer(Record{Topic: "webhook.test", Notice: reuseNotice("n-filtered")})

	var lines []string
	for ctx.Err() == nil {
		lines = readLines(t, out)
		if len(lines) >= len(recs) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
	if len(lines) != len(recs) {
		t.Fatalf("rsyslog wrote %d lines, want %d (stats %+v):\n%s", len(lines), len(recs), e.Outputs()[0].Stats(), strings.Join(lines, "\n"))
	}
	return lines
}

func checkRsyslogLines(t *testing.T, lines []string, format Format) {
	t.Helper()
	msgid, sd, msg, ok := splitFields(lines[0])
	if !ok {
		t.Fatalf("line 0: %q", lines[0])
	}
	if msgid != "event.auth.attempt" {
		t.Errorf("msgid %q", msgid)
	}
	wantSD := `[decnet@32473 id="ev-1" topic="event.auth.attempt" attacker="0190a8c4-0000-7000-8000-00000000a77c" session="sess-1" decky="web-01" service="ssh" src="127.0.0.2" spt="51515" dst="127.0.0.1" dpt="2222"]`
	if sd != wantSD {
		t.Errorf("structured data\n got %s\nwant %s", sd, wantSD)
	}
	switch format {
	case FormatJSON:
		var d map[string]any
		if err := json.Unmarshal([]byte(msg), &d); err != nil {
			t.Fatalf("body is not JSON: %v: %s", err, msg)
		}
		flat := map[string]any{}
		flatten("", d, flat)
		if flat["user.name"] != "root" || flat["source.ip"] != "127.0.0.2" || flat["event.action"] != "event.auth.attempt" || flat["observer.type"] != "honeypot" {
			t.Errorf("body fields: %v", flat)
		}
	case FormatCEF:
		if want := "CEF:0|DECNET|DECNET|1.2.3|200|Authentication attempt|5|rt=1772368496789 externalId=ev-1 "; !strings.HasPrefix(msg, want) {
			t.Errorf("body %s\nwant prefix %s", msg, want)
		}
	}

	msgid, sd, msg, _ = splitFields(lines[1])
	if msgid != "event.command" || !strings.Contains(sd, `id="ev-2"`) {
		t.Errorf("line 1: %q %q", msgid, sd)
	}
	// rsyslog escapes control characters in MSG by default as #012,
	// so the CEF "\n" escape and the JSON "\n" escape both arrive as
	// the two characters backslash and n.
	wantCmd := `"command_line":"echo a=b|c\nwhoami"`
	if format == FormatCEF {
		wantCmd = ` msg=echo a\=b|c\nwhoami`
	}
	if !strings.Contains(msg, wantCmd) {
		t.Errorf("command body %s\nlacks %s", msg, wantCmd)
	}
	if t.Failed() {
		t.Logf("received:\n%s", strings.Join(lines, "\n"))
	}
	if strings.Contains(msg, "#012") {
		t.Errorf("raw line break reached rsyslog: %s", msg)
	}

	msgid, sd, msg, _ = splitFields(lines[2])
	if msgid != "credential.reuse.detected" {
		t.Errorf("line 2 msgid %q", msgid)
	}
	if sd != `[decnet@32473 id="n-1" topic="credential.reuse.detected" attacker="0190a8c4-0000-7000-8000-00000000a77c"]` {
		t.Errorf("line 2 sd %s", sd)
	}
	if !strings.Contains(msg, "root/plaintext tried on 2 targets") {
		t.Errorf("line 2 body %s", msg)
	}
}

func splitFields(line string) (msgid, sd, msg string, ok bool) {
	parts := strings.SplitN(line, "\t", 3)
	if len(parts) != 3 {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

func rsyslogRecords() []Record {
	return []Record{
		record(authEvent("ev-1")),
		record(commandEvent("ev-2", "echo a=b|c\nwhoami")),
		{Topic: "credential.reuse.detected", Notice: reuseNotice("n-1")},
	}
}

func TestRsyslogTCP(t *testing.T) {
	for _, format := range []Format{FormatJSON, FormatCEF} {
		t.Run(string(format), func(t *testing.T) {
			port, out := startRsyslog(t, nil)
			lines := exportTo(t, SyslogConfig{Address: "127.0.0.1:" + strconv.Itoa(port), Format: format, Hostname: "cp-1"}, out, rsyslogRecords())
			checkRsyslogLines(t, lines, format)
		})
	}
}

func TestRsyslogTLS(t *testing.T) {
	pki := newServerPKI(t)
	for _, format := range []Format{FormatJSON, FormatCEF} {
		t.Run(string(format), func(t *testing.T) {
			port, out := startRsyslog(t, pki)
			cfg := SyslogConfig{
				Address:  "127.0.0.1:" + strconv.Itoa(port),
				TLS:      &tls.Config{RootCAs: pki.pool, MinVersion: tls.VersionTLS12},
				Format:   format,
				Hostname: "cp-1",
			}
			lines := exportTo(t, cfg, out, rsyslogRecords())
			checkRsyslogLines(t, lines, format)
		})
	}
}
