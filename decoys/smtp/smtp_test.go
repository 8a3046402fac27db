package smtp

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5" //nolint:gosec // G501: CRAM-MD5 is HMAC-MD5 by definition
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/quarantine"
)

// newTestService returns a Service with protocol delays off.
func newTestService(t testing.TB) *Service {
	t.Helper()
	svc, err := New(decoys.Config{Decky: "d", Seed: testSeed, Emitter: newRecordingEmitter(), Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	svc.sleep = func(context.Context, time.Duration) {}
	return svc
}

// runSession runs one session on input, which ends with the end of
// input, and returns everything the decoy sent.
func runSession(t testing.TB, svc *Service, input []byte) []byte {
	t.Helper()
	conn := &scriptConn{in: bytes.NewReader(input)}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	svc.handle(ctx, conn)
	return conn.out.Bytes()
}

// scriptConn is a connection whose client sends a fixed script and then
// closes.
type scriptConn struct {
	in  *bytes.Reader
	out bytes.Buffer
}

func (c *scriptConn) Read(p []byte) (int, error)       { return c.in.Read(p) }
func (c *scriptConn) Write(p []byte) (int, error)      { return c.out.Write(p) }
func (c *scriptConn) Close() error                     { return nil }
func (c *scriptConn) SetDeadline(time.Time) error      { return nil }
func (c *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptConn) SetWriteDeadline(time.Time) error { return nil }
func (c *scriptConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 9), Port: 40000}
}
func (c *scriptConn) LocalAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 25} }

func TestNewRejectsBadConfig(t *testing.T) {
	base := decoys.Config{Seed: testSeed, Emitter: newRecordingEmitter()}
	cases := []struct {
		name   string
		adjust func(*decoys.Config)
		want   error
	}{
		{"unknown persona", func(c *decoys.Config) { c.Persona = "sendmail" }, ErrUnknownPersona},
		{"unknown option", func(c *decoys.Config) { c.Options = map[string]string{"relay": "yes"} }, nil},
		{"bad tls option", func(c *decoys.Config) { c.Options = map[string]string{OptionTLS: "maybe"} }, nil},
		{"bad hostname", func(c *decoys.Config) { c.Options = map[string]string{OptionHostname: "a b"} }, nil},
		{"short seed", func(c *decoys.Config) { c.Seed = []byte("short") }, nil},
		{"no emitter", func(c *decoys.Config) { c.Emitter = nil }, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			tc.adjust(&cfg)
			_, err := New(cfg)
			if err == nil {
				t.Fatal("New accepted the config")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
		})
	}
}

// TestPerDeckyValues checks that host names, certificates and queue ids
// differ between deckies and stay put for one seed.
func TestPerDeckyValues(t *testing.T) {
	a := newTestService(t)
	b, err := New(decoys.Config{Seed: []byte("another decky seed, 32 bytes ..."), Emitter: newRecordingEmitter()})
	if err != nil {
		t.Fatal(err)
	}
	again := newTestService(t)

	if a.Hostname() == b.Hostname() {
		t.Errorf("two seeds share host name %s", a.Hostname())
	}
	if a.Hostname() != again.Hostname() || !regexp.MustCompile(`^mail\.[a-z]+\.[a-z.]+$`).MatchString(a.Hostname()) {
		t.Errorf("host names %s and %s", a.Hostname(), again.Hostname())
	}

	certA := a.tlsConfig.Certificates[0].Leaf
	if !bytes.Equal(certA.Raw, again.tlsConfig.Certificates[0].Leaf.Raw) {
		t.Error("certificate differs between two starts of one decky")
	}
	if bytes.Equal(certA.Raw, b.tlsConfig.Certificates[0].Leaf.Raw) {
		t.Error("two deckies share a certificate")
	}
	if certA.Subject.CommonName != a.Hostname() || len(certA.DNSNames) != 1 || certA.DNSNames[0] != a.Hostname() ||
		certA.NotAfter.Sub(certA.NotBefore) != snakeoilValidity || certA.SerialNumber.BitLen() > 159 {
		t.Errorf("certificate subject %s names %v validity %v serial bits %d", certA.Subject, certA.DNSNames,
			certA.NotAfter.Sub(certA.NotBefore), certA.SerialNumber.BitLen())
	}

	ids := map[string]bool{}
	for range 50 {
		id := a.queueID()
		if !regexp.MustCompile(`^[0-9A-F]{5}[0-9A-F]{5,7}$`).MatchString(id) || ids[id] {
			t.Fatalf("queue id %q (repeated: %v)", id, ids[id])
		}
		ids[id] = true
	}
}

// TestEHLOPerPersona checks the greeting and the keyword list of each
// persona before and after the TLS state changes what is offered.
func TestEHLOPerPersona(t *testing.T) {
	cases := []struct {
		persona string
		banner  *regexp.Regexp
		ehlo    string
	}{
		{PersonaPostfix, regexp.MustCompile(`^220 mail\.[a-z.]+ ESMTP Postfix \(Debian/GNU\)\r\n$`),
			"250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n250-STARTTLS\r\n250-AUTH PLAIN LOGIN CRAM-MD5\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n"},
		{PersonaExim, regexp.MustCompile(`^220 mail\.[a-z.]+ ESMTP Exim 4\.96 \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d [-+]\d{4}\r\n$`),
			"250-SIZE 52428800\r\n250-8BITMIME\r\n250-PIPELINING\r\n250-PIPECONNECT\r\n250-CHUNKING\r\n250-STARTTLS\r\n250-PRDR\r\n250 HELP\r\n"},
		{PersonaExchange, regexp.MustCompile(`^220 MAIL\.[a-z.]+ Microsoft ESMTP MAIL Service ready at \w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d [-+]\d{4}\r\n$`),
			"250-SIZE 37748736\r\n250-PIPELINING\r\n250-DSN\r\n250-ENHANCEDSTATUSCODES\r\n250-STARTTLS\r\n250-X-ANONYMOUSTLS\r\n250-AUTH NTLM\r\n250-X-EXPS GSSAPI NTLM\r\n250-8BITMIME\r\n250-BINARYMIME\r\n250-CHUNKING\r\n250 SMTPUTF8\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.persona, func(t *testing.T) {
			ts := startService(t, decoys.Config{Persona: tc.persona}, false)
			c := dialFrom(t, "127.0.0.2", ts.addr)
			if banner := c.readReply(5 * time.Second); !tc.banner.MatchString(banner) {
				t.Errorf("banner %q", banner)
			}
			reply := c.exchange("EHLO client.example\r\n")
			_, rest, _ := strings.Cut(reply, "\r\n")
			if rest != tc.ehlo {
				t.Errorf("EHLO keywords\n got %q\nwant %q", rest, tc.ehlo)
			}
		})
	}
}

// TestAuthCapture drives the three SASL mechanisms by hand and checks the
// recorded attempts and Postfix's failure replies.
func TestAuthCapture(t *testing.T) {
	ts := startService(t, decoys.Config{}, false)
	c := dialFrom(t, "127.0.0.5", ts.addr)
	c.readReply(5 * time.Second)
	c.exchange("EHLO x\r\n")
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	const failed = "535 5.7.8 Error: authentication failed: (reason unavailable)\r\n"

	if r := c.exchange("AUTH PLAIN\r\n"); r != "334 \r\n" {
		t.Errorf("PLAIN empty challenge %q", r)
	}
	if r := c.exchange("*\r\n"); r != "501 5.7.0 Authentication aborted\r\n" {
		t.Errorf("abort reply %q", r)
	}
	if r := c.exchange("AUTH PLAIN " + b64("admin\x00root\x00toor") + "\r\n"); r != failed {
		t.Errorf("PLAIN reply %q", r)
	}
	if r := c.exchange("AUTH LOGIN\r\n"); r != "334 VXNlcm5hbWU6\r\n" {
		t.Errorf("LOGIN prompt %q", r)
	}
	if r := c.exchange(b64("info") + "\r\n"); r != "334 UGFzc3dvcmQ6\r\n" {
		t.Errorf("LOGIN password prompt %q", r)
	}
	if r := c.exchange(b64("pa ss") + "\r\n"); r != failed {
		t.Errorf("LOGIN reply %q", r)
	}
	r := c.exchange("AUTH CRAM-MD5\r\n")
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(strings.TrimPrefix(r, "334 "), "\r\n"))
	if err != nil || !regexp.MustCompile(`^<\d{16}\.\d+@mail>$`).Match(raw) {
		t.Fatalf("CRAM-MD5 challenge %q", r)
	}
	m := hmac.New(md5.New, []byte("hunter2"))
	m.Write(raw)
	digest := hex.EncodeToString(m.Sum(nil))
	if r := c.exchange(b64("james "+digest) + "\r\n"); r != failed {
		t.Errorf("CRAM-MD5 reply %q", r)
	}
	// Three failures raise the address's penalty past Postfix's 10 s
	// patience with Dovecot.
	if r := c.exchange("AUTH LOGIN\r\n"); r != "454 4.7.0 Temporary authentication failure: Connection lost to authentication server\r\n" {
		t.Errorf("fourth attempt %q", r)
	}

	got := ts.emitter.waitFor(t, decoys.KindAuthAttempt, 3)
	want := []struct{ mech, kind, user, secret string }{
		{decoys.MechanismSASLPlain, decoys.SecretPlaintext, "root", "toor"},
		{decoys.MechanismSASLLogin, decoys.SecretPlaintext, "info", "pa ss"},
		{decoys.MechanismSASLCRAMMD5, decoys.SecretCRAMMD5, "james", string(raw) + " " + digest},
	}
	for i, w := range want {
		a := got[i].GetAuthAttempt()
		if a.GetMechanism() != w.mech || a.GetSecretKind() != w.kind || a.GetPrincipal() != w.user || string(a.GetSecret()) != w.secret {
			t.Errorf("attempt %d: %s %s %q %q, want %v", i, a.GetMechanism(), a.GetSecretKind(), a.GetPrincipal(), a.GetSecret(), w)
		}
	}
	for _, ev := range ts.emitter.ofKind(decoys.KindCommand) {
		if strings.Contains(ev.GetCommand().GetLine(), b64("admin\x00root\x00toor")) {
			t.Errorf("command event carries the AUTH response: %q", ev.GetCommand().GetLine())
		}
	}
}

// TestMessageCapture sends a message with dot stuffing, one over the size
// limit, and checks the events and the quarantine.
func TestMessageCapture(t *testing.T) {
	store, err := quarantine.Open(t.TempDir(), quarantine.Options{MinFreeBytes: 1})
	if err != nil {
		t.Fatal(err)
	}
	ts := startService(t, decoys.Config{Quarantine: store}, false, func(s *Service) { s.persona.messageLimit = 100 })
	c := dialFrom(t, "127.0.0.6", ts.addr)
	c.readReply(5 * time.Second)
	c.exchange("EHLO sender.example\r\n")
	c.exchange("MAIL FROM:<x@sender.example>\r\n")
	domain := strings.TrimPrefix(ts.svc.Hostname(), "mail.")
	if r := c.exchange("RCPT TO:<Info+tag@" + domain + ">\r\n"); r != "250 2.1.5 Ok\r\n" {
		t.Fatalf("RCPT reply %q", r)
	}
	if r := c.exchange("RCPT TO:<nobody-here@" + domain + ">\r\n"); !strings.HasPrefix(r, "550 5.1.1 <nobody-here@") {
		t.Errorf("unknown user reply %q", r)
	}
	c.exchange("DATA\r\n")
	r := c.exchange("Subject: first\r\n line\r\n\r\n..dot\r\n.\r\n")
	if !postfixQueueID.MatchString(r) {
		t.Fatalf("queued reply %q", r)
	}
	c.exchange("MAIL FROM:<>\r\n")
	c.exchange("RCPT TO:<root@" + domain + ">\r\n")
	c.exchange("DATA\r\n")
	if r := c.exchange(strings.Repeat("0123456789\r\n", 20) + ".\r\n"); r != "552 5.3.4 Error: message file too big\r\n" {
		t.Errorf("over-limit reply %q", r)
	}

	mails := ts.emitter.waitFor(t, decoys.KindMailReceived, 2)
	first := mails[0].GetMailReceived()
	body := "Subject: first\r\n line\r\n\r\n.dot\r\n"
	stored, err := os.ReadFile(store.Path(first.GetSha256()))
	if err != nil || string(stored) != body {
		t.Errorf("stored %q (%v)", stored, err)
	}
	if first.GetSubject() != "first line" || first.GetSize() != uint64(len(body)) || first.GetTruncated() ||
		first.GetHelo() != "sender.example" || first.GetMailFrom() != "x@sender.example" ||
		len(first.GetRcptTo()) != 1 || first.GetRcptTo()[0] != "Info+tag@"+domain {
		t.Errorf("first mail %v", first)
	}
	second := mails[1].GetMailReceived()
	if !second.GetTruncated() || second.GetSize() != 240 {
		t.Errorf("second mail truncated %v size %d", second.GetTruncated(), second.GetSize())
	}
}

// TestTimeoutAndErrorLimit checks the 421 replies on a silent client and
// after too many errors.
func TestTimeoutAndErrorLimit(t *testing.T) {
	ts := startService(t, decoys.Config{Limits: decoys.Limits{ReadTimeout: 300 * time.Millisecond}}, false)
	c := dialFrom(t, "127.0.0.7", ts.addr)
	c.readReply(5 * time.Second)
	if r := c.readReply(5 * time.Second); r != "421 4.4.2 "+ts.svc.Hostname()+" Error: timeout exceeded\r\n" {
		t.Errorf("timeout reply %q", r)
	}
	if r := c.readReply(5 * time.Second); r != "<EOF>" {
		t.Errorf("after timeout %q", r)
	}

	ts2 := startService(t, decoys.Config{}, false)
	c = dialFrom(t, "127.0.0.7", ts2.addr)
	c.readReply(5 * time.Second)
	c.send(strings.Repeat("BOGUS\r\n", 25))
	var all strings.Builder
	for range 22 {
		r := c.readReply(5 * time.Second)
		all.WriteString(r)
		if strings.HasSuffix(r, "<EOF>") {
			break
		}
	}
	want := strings.Repeat("500 5.5.2 Error: command not recognized\r\n", 20) +
		"421 4.7.0 " + ts2.svc.Hostname() + " Error: too many errors\r\n<EOF>"
	if all.String() != want {
		t.Errorf("error limit transcript\n got %q\nwant %q", all.String(), want)
	}
}

// TestFloodAndSlowClients opens more connections from one source than
// the limit allows and a silent client, and checks that another source
// is still served at once.
func TestFloodAndSlowClients(t *testing.T) {
	ts := startService(t, decoys.Config{Limits: decoys.Limits{MaxConnsPerSource: 4}}, false)
	var held []*client
	for range 4 {
		c := dialFrom(t, "127.0.0.8", ts.addr)
		c.readReply(5 * time.Second)
		held = append(held, c)
	}
	extra := dialFrom(t, "127.0.0.8", ts.addr)
	if r := extra.readReply(5 * time.Second); r != "<EOF>" {
		t.Errorf("connection over the per-source limit got %q", r)
	}
	// A slow client dribbles an overlong line. The decoy reads it with a
	// bounded buffer and replies once the line ends.
	slow := held[0]
	for range 50 {
		slow.send(strings.Repeat("x", 1000))
	}
	if r := slow.exchange("\r\n"); r != "500 5.5.2 Error: command not recognized\r\n" {
		t.Errorf("overlong line reply %q", r)
	}
	other := dialFrom(t, "127.0.0.9", ts.addr)
	if r := other.readReply(5 * time.Second); !strings.HasPrefix(r, "220 ") {
		t.Errorf("other source greeting %q", r)
	}
	if r := other.exchange("NOOP\r\n"); r != "250 2.0.0 Ok\r\n" {
		t.Errorf("other source NOOP %q", r)
	}
}

// TestExchangeBdatQueued checks that a chunked message on the Exchange
// persona ends with Exchange's queued reply, not Postfix's queue id.
func TestExchangeBdatQueued(t *testing.T) {
	ts := startService(t, decoys.Config{Persona: PersonaExchange}, false)
	c := dialFrom(t, "127.0.0.5", ts.addr)
	c.readReply(5 * time.Second)
	c.exchange("EHLO x\r\n")
	c.exchange("MAIL FROM:<a@b.example>\r\n")
	if r := c.exchange("RCPT TO:<postmaster>\r\n"); r != "250 2.1.5 Recipient OK\r\n" {
		t.Fatalf("RCPT %q", r)
	}
	c.exchange("BDAT 3\r\nabc")
	last := c.exchange("BDAT 2 LAST\r\nde")
	if !regexp.MustCompile(`^250 2\.6\.0 <\S+@MAIL\.\S+> \[InternalId=\d+, Hostname=MAIL\.\S+\] Queued mail for delivery\r\n$`).MatchString(last) {
		t.Errorf("last chunk %q", last)
	}
}
