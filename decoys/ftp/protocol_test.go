package ftp

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/login"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

func TestNewRejectsBadConfig(t *testing.T) {
	cases := []struct {
		name string
		cfg  decoys.Config
		want string
	}{
		{name: "unknown persona", cfg: decoys.Config{Persona: "wu-ftpd"}, want: "unknown ftp persona"},
		{name: "unknown option", cfg: decoys.Config{Options: map[string]string{"banner": "x"}}, want: `unknown option "banner"`},
		{name: "bad anonymous", cfg: decoys.Config{Options: map[string]string{OptAnonymous: "yes"}}, want: "not true or false"},
		{name: "bad address", cfg: decoys.Config{Options: map[string]string{OptAdvertisedAddress: "::1"}}, want: "not an IPv4 address"},
		{name: "half range", cfg: decoys.Config{Options: map[string]string{OptPasvMinPort: "40000"}}, want: "set both"},
		{name: "low port", cfg: decoys.Config{Options: map[string]string{OptPasvMinPort: "20", OptPasvMaxPort: "30"}}, want: "not a port"},
		{name: "bad login", cfg: decoys.Config{Options: map[string]string{login.KeyLogin: "sometimes"}}, want: "unknown login mode"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Emitter = newRecorder()
			_, err := New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New error = %v, want one containing %q", err, tc.want)
			}
		})
	}
	if _, err := New(decoys.Config{Emitter: newRecorder(), Persona: "nope"}); !errors.Is(err, ErrUnknownPersona) {
		t.Errorf("unknown persona error %v is not ErrUnknownPersona", err)
	}
}

// TestPreLoginReplies pins the replies of each persona before login.
func TestPreLoginReplies(t *testing.T) {
	cases := []struct {
		persona string
		banner  string
		steps   [][2]string
	}{
		{persona: PersonaVsftpd, banner: "220 (vsFTPd 3.0.3)\r\n", steps: [][2]string{
			{"SYST", "530 Please login with USER and PASS.\r\n"},
			{"FOO", "530 Please login with USER and PASS.\r\n"},
			{"AUTH TLS", "530 Please login with USER and PASS.\r\n"},
			{"OPTS UTF8 ON", "200 Always in UTF8 mode.\r\n"},
			{"OPTS UTF8", "501 Option not understood.\r\n"},
			{"PASS x", "503 Login with USER first.\r\n"},
			{"USER bob", "331 Please specify the password.\r\n"},
		}},
		{persona: PersonaProFTPD, banner: "220 ProFTPD Server (Debian) [::ffff:127.0.0.1]\r\n", steps: [][2]string{
			{"SYST", "215 UNIX Type: L8\r\n"},
			{"FOO", "500 FOO not understood\r\n"},
			{"PWD", "530 Please login with USER and PASS\r\n"},
			{"USER bob", "331 Password required for bob\r\n"},
		}},
		{persona: PersonaMSFTP, banner: "220 Microsoft FTP Service\r\n", steps: [][2]string{
			{"SYST", "215 Windows_NT\r\n"},
			{"FOO", "500 Command not understood.\r\n"},
			{"PWD", "530 Please login with USER and PASS.\r\n"},
			{"USER bob", "331 Password required\r\n"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.persona, func(t *testing.T) {
			ts := startService(t, decoys.Config{Persona: tc.persona})
			c := dialFrom(t, "127.0.0.1", ts.addr)
			if got := c.reply(); got != tc.banner {
				t.Fatalf("banner %q, want %q", got, tc.banner)
			}
			for _, s := range tc.steps {
				if got := c.cmd(s[0]); got != s[1] {
					t.Errorf("%s => %q, want %q", s[0], got, s[1])
				}
			}
		})
	}
}

func TestLoginAttemptsAreRecorded(t *testing.T) {
	ts := startService(t, decoys.Config{Options: map[string]string{login.KeyLogin: "list", login.KeyCredentials: "alice:s3cret", OptAnonymous: "true"}})
	c := dialFrom(t, "127.0.0.2", ts.addr)
	c.reply()
	steps := [][2]string{
		{"USER alice", "331 Please specify the password.\r\n"},
		{"PASS wrong", "530 Login incorrect.\r\n"},
		{"USER alice", "331 Please specify the password.\r\n"},
		{"PASS s3cret", "230 Login successful.\r\n"},
		{"PWD", "257 \"/home/alice\" is the current directory\r\n"},
		{"USER bob", "530 Can't change to another user.\r\n"},
	}
	for _, s := range steps {
		if got := c.cmd(s[0]); got != s[1] {
			t.Fatalf("%s => %q, want %q", s[0], got, s[1])
		}
	}
	a := dialFrom(t, "127.0.0.3", ts.addr)
	a.reply()
	a.cmd("USER anonymous")
	if got := a.cmd("PASS guest@example.com"); got != "230 Login successful.\r\n" {
		t.Fatalf("anonymous PASS => %q", got)
	}
	if got := a.cmd("PWD"); got != "257 \"/\" is the current directory\r\n" {
		t.Errorf("anonymous PWD => %q", got)
	}

	evs := ts.rec.waitKind(t, decoys.KindAuthAttempt, 3)
	want := []struct {
		source, principal, secret string
		outcome                   eventv1.AuthOutcome
	}{
		{"127.0.0.2", "alice", "wrong", eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED},
		{"127.0.0.2", "alice", "s3cret", eventv1.AuthOutcome_AUTH_OUTCOME_ACCEPTED},
		{"127.0.0.3", "anonymous", "guest@example.com", eventv1.AuthOutcome_AUTH_OUTCOME_ACCEPTED},
	}
	for i, w := range want {
		a := evs[i].GetAuthAttempt()
		if evs[i].GetSource().GetAddress() != w.source || a.GetPrincipal() != w.principal || string(a.GetSecret()) != w.secret ||
			a.GetOutcome() != w.outcome || a.GetMechanism() != decoys.MechanismFTPPass || a.GetSecretKind() != decoys.SecretPlaintext {
			t.Errorf("attempt %d = %s %s %q %s %s, want %s %s %q %s", i, evs[i].GetSource().GetAddress(), a.GetPrincipal(),
				a.GetSecret(), a.GetOutcome(), a.GetMechanism(), w.source, w.principal, w.secret, w.outcome)
		}
	}
	for _, ev := range ts.rec.byKind(decoys.KindCommand) {
		if strings.HasPrefix(strings.ToUpper(ev.GetCommand().GetLine()), "PASS") {
			t.Errorf("PASS line %q emitted as a command", ev.GetCommand().GetLine())
		}
	}
}

func TestAnonymousRejectedByDefault(t *testing.T) {
	ts := startService(t, decoys.Config{})
	c := dialFrom(t, "127.0.0.2", ts.addr)
	c.reply()
	c.cmd("USER ftp")
	if got := c.cmd("PASS x"); got != "530 Login incorrect.\r\n" {
		t.Errorf("anonymous PASS => %q, want 530 Login incorrect.", got)
	}
}

// TestThirdFailureCloses checks vsftpd's max_login_fails of 3.
func TestThirdFailureCloses(t *testing.T) {
	ts := startService(t, decoys.Config{})
	c := dialFrom(t, "127.0.0.2", ts.addr)
	c.reply()
	for i := range 3 {
		c.cmd("USER root")
		if got := c.cmd("PASS toor"); got != "530 Login incorrect.\r\n" {
			t.Fatalf("failure %d => %q", i+1, got)
		}
	}
	if got := c.reply(); got != "<EOF>" {
		t.Errorf("after three failures read %q, want the close", got)
	}
	closed := ts.rec.waitKind(t, decoys.KindConnectionClosed, 1)
	if r := closed[0].GetConnectionClosed().GetReason(); r != reasonAuth {
		t.Errorf("close reason %q, want %q", r, reasonAuth)
	}
}

func TestOverlongLine(t *testing.T) {
	cases := []struct {
		name string
		send string
		want string
	}{
		{name: "limit with LF", send: strings.Repeat("a", 4095) + "\n", want: "530 Please login with USER and PASS.\r\n"},
		{name: "limit plus CR", send: strings.Repeat("a", 4095) + "\r\n", want: "500 Input line too long.\r\n<EOF>"},
		{name: "no line end", send: strings.Repeat("a", 5000), want: "500 Input line too long.\r\n<EOF>"},
	}
	ts := startService(t, decoys.Config{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dialFrom(t, "127.0.0.2", ts.addr)
			c.reply()
			if _, err := io.WriteString(c.conn, tc.send); err != nil {
				t.Fatal(err)
			}
			got := c.reply()
			if strings.HasSuffix(tc.want, "<EOF>") && got != "<EOF>" {
				got += c.reply()
			}
			if got != tc.want {
				t.Errorf("reply %q, want %q", got, tc.want)
			}
		})
	}
}

func TestBareLineFeedAndEmptyLines(t *testing.T) {
	ts := startService(t, decoys.Config{})
	c := dialFrom(t, "127.0.0.2", ts.addr)
	c.reply()
	if _, err := io.WriteString(c.conn, "\r\n\nfeat\n"); err != nil {
		t.Fatal(err)
	}
	want := "211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n PASV\r\n REST STREAM\r\n SIZE\r\n TVFS\r\n211 End\r\n"
	if got := c.reply(); got != want {
		t.Errorf("reply %q, want %q", got, want)
	}
}

// loginAlice opens a control connection from source and logs in as alice.
func loginAlice(t *testing.T, ts *testService, source string) *client {
	t.Helper()
	c := dialFrom(t, source, ts.addr)
	c.reply()
	c.cmd("USER alice")
	if got := c.cmd("PASS pw"); !strings.HasPrefix(got, "230 ") {
		t.Fatalf("login => %q", got)
	}
	return c
}

var pasvReply = regexp.MustCompile(`^227 Entering Passive Mode \((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)\.\r\n$`)

// pasv sends PASV and dials the data port from source.
func pasv(t *testing.T, c *client, source string) net.Conn {
	t.Helper()
	r := c.cmd("PASV")
	m := pasvReply.FindStringSubmatch(r)
	if m == nil {
		t.Fatalf("PASV => %q", r)
	}
	hi, _ := strconv.Atoi(m[5])
	lo, _ := strconv.Atoi(m[6])
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}}
	conn, err := d.Dial("tcp", fmt.Sprintf("%s.%s.%s.%s:%d", m[1], m[2], m[3], m[4], hi<<8|lo))
	if err != nil {
		t.Fatalf("dial data: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

var aliceOptions = map[string]string{login.KeyLogin: "list", login.KeyCredentials: "alice:pw"}

func TestStorAndRetr(t *testing.T) {
	ts := startService(t, decoys.Config{Options: aliceOptions})
	c := loginAlice(t, ts, "127.0.0.2")

	payload := bytes.Repeat([]byte("#!/bin/sh\necho pwned\n"), 5000)
	d := pasv(t, c, "127.0.0.2")
	if got := c.cmd("STOR drop.sh"); got != "150 Ok to send data.\r\n" {
		t.Fatalf("STOR => %q", got)
	}
	if _, err := d.Write(payload); err != nil {
		t.Fatal(err)
	}
	_ = d.Close()
	if got := c.reply(); got != "226 Transfer complete.\r\n" {
		t.Fatalf("after upload %q", got)
	}
	if got := c.cmd("SIZE drop.sh"); got != fmt.Sprintf("213 %d\r\n", len(payload)) {
		t.Errorf("SIZE => %q", got)
	}

	d = pasv(t, c, "127.0.0.2")
	want := fmt.Sprintf("150 Opening BINARY mode data connection for drop.sh (%d bytes).\r\n", len(payload))
	if got := c.cmd("RETR drop.sh"); got != want {
		t.Fatalf("RETR => %q, want %q", got, want)
	}
	back, _ := io.ReadAll(d)
	if !bytes.Equal(back, payload) {
		t.Errorf("RETR returned %d bytes, want the %d uploaded", len(back), len(payload))
	}
	if got := c.reply(); got != "226 Transfer complete.\r\n" {
		t.Errorf("after download %q", got)
	}

	d = pasv(t, c, "127.0.0.2")
	if got := c.cmd("RETR /etc/shadow"); got != "550 Failed to open file.\r\n" {
		t.Errorf("RETR missing => %q", got)
	}
	_ = d

	capt := ts.rec.waitKind(t, decoys.KindFileCaptured, 1)[0].GetFileCaptured()
	sum := sha256.Sum256(payload)
	if !bytes.Equal(capt.GetSha256(), sum[:]) || capt.GetSize() != uint64(len(payload)) || capt.GetChannel() != "ftp_stor" ||
		capt.GetName() != "/home/alice/drop.sh" || capt.GetTruncated() {
		t.Errorf("captured %x %d %q %q %v", capt.GetSha256(), capt.GetSize(), capt.GetChannel(), capt.GetName(), capt.GetTruncated())
	}
	reqs := ts.rec.waitKind(t, decoys.KindFileRequested, 2)
	if r := reqs[0].GetFileRequested(); r.GetName() != "drop.sh" || !r.GetServed() || r.GetSize() != uint64(len(payload)) || r.GetChannel() != "ftp_retr" {
		t.Errorf("first request %v", r)
	}
	if r := reqs[1].GetFileRequested(); r.GetName() != "/etc/shadow" || r.GetServed() {
		t.Errorf("second request %v", r)
	}
}

// TestActiveModeOnlyToPeer checks that PORT and EPRT naming any address
// but the control connection's peer are refused, and that nothing is
// dialled there.
func TestActiveModeOnlyToPeer(t *testing.T) {
	elsewhere, err := net.Listen("tcp", "127.0.0.9:0")
	if err != nil {
		t.Fatal(err)
	}
	defer elsewhere.Close()
	port := elsewhere.Addr().(*net.TCPAddr).Port
	accepted := make(chan struct{}, 1)
	go func() {
		if conn, err := elsewhere.Accept(); err == nil {
			_ = conn.Close()
			accepted <- struct{}{}
		}
	}()

	ts := startService(t, decoys.Config{Options: aliceOptions})
	c := loginAlice(t, ts, "127.0.0.2")
	steps := [][2]string{
		{fmt.Sprintf("PORT 127,0,0,9,%d,%d", port>>8, port&0xff), "500 Illegal PORT command.\r\n"},
		{fmt.Sprintf("EPRT |1|127.0.0.9|%d|", port), "500 Illegal EPRT command.\r\n"},
		{"PORT 127,0,0,2,0,21", "500 Illegal PORT command.\r\n"},
		{"EPRT |2|::1|2000|", "500 Bad EPRT protocol.\r\n"},
		{"EPRT |1|127.0.0.2|70000|", "500 Bad EPRT command.\r\n"},
		{"LIST", "425 Use PORT or PASV first.\r\n"},
	}
	for _, s := range steps {
		if got := c.cmd(s[0]); got != s[1] {
			t.Errorf("%s => %q, want %q", s[0], got, s[1])
		}
	}
	select {
	case <-accepted:
		t.Error("the decoy connected to an address other than its peer")
	default:
	}

	// The peer's own address works.
	mine, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	defer mine.Close()
	mp := mine.Addr().(*net.TCPAddr).Port
	if got := c.cmd(fmt.Sprintf("EPRT |1|127.0.0.2|%d|", mp)); got != "200 EPRT command successful. Consider using EPSV.\r\n" {
		t.Fatalf("EPRT to peer => %q", got)
	}
	if _, err := io.WriteString(c.conn, "NLST\r\n"); err != nil {
		t.Fatal(err)
	}
	dc, err := mine.Accept()
	if err != nil {
		t.Fatal(err)
	}
	names, _ := io.ReadAll(dc)
	if got := string(names); got != "backups\r\nnotes.txt\r\npublic_html\r\n" {
		t.Errorf("NLST over active connection = %q", got)
	}
	if got := c.reply() + c.reply(); got != "150 Here comes the directory listing.\r\n226 Directory send OK.\r\n" {
		t.Errorf("NLST replies %q", got)
	}
}

func TestPassiveRefusesOtherSource(t *testing.T) {
	ts := startService(t, decoys.Config{Options: aliceOptions})
	c := loginAlice(t, ts, "127.0.0.2")
	d := pasv(t, c, "127.0.0.4")
	if got := c.cmd("LIST"); got != "425 Security: Bad IP connecting.\r\n" {
		t.Errorf("LIST with a foreign data connection => %q", got)
	}
	_ = d
}

func TestAdvertisedAddressAndPortRange(t *testing.T) {
	ts := startService(t, decoys.Config{Options: map[string]string{login.KeyLogin: "list", login.KeyCredentials: "alice:pw",
		OptAdvertisedAddress: "203.0.113.7", OptPasvMinPort: "47000", OptPasvMaxPort: "47009"}})
	c := loginAlice(t, ts, "127.0.0.2")
	m := pasvReply.FindStringSubmatch(c.cmd("PASV"))
	if m == nil || strings.Join(m[1:5], ".") != "203.0.113.7" {
		t.Fatalf("PASV reply %v, want address 203.0.113.7", m)
	}
	hi, _ := strconv.Atoi(m[5])
	lo, _ := strconv.Atoi(m[6])
	if p := hi<<8 | lo; p < 47000 || p > 47009 {
		t.Errorf("passive port %d outside 47000-47009", p)
	}
}

// TestTreeFromSeed checks that the file tree is a function of the seed.
func TestTreeFromSeed(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	render := func(seed string) string {
		tr := newUnixTree(seeder{[]byte(seed)}, "alice", false, now)
		return strings.Join(tr.listing(listVsftpd, "/home/alice/backups", "", listOptions{}, now), "\n") +
			strings.Join(tr.names("/srv/ftp/pub", "", listOptions{}), "\n")
	}
	a1, a2, b := render("decky-a"), render("decky-a"), render("decky-b")
	if a1 != a2 {
		t.Errorf("same seed, different trees:\n%s\n%s", a1, a2)
	}
	if a1 == b {
		t.Errorf("different seeds, same tree:\n%s", a1)
	}
}

func TestListFormats(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	old := &node{name: "readme.txt", perm: 0o644, owner: "alice", group: "alice", size: 6, mtime: time.Date(2023, 3, 1, 10, 0, 0, 0, time.UTC)}
	dir := &node{name: "pub", dir: true, perm: 0o755, owner: "root", group: "root", size: 4096, mtime: time.Date(2026, 5, 4, 23, 49, 0, 0, time.UTC)}
	cases := []struct {
		style listStyle
		n     *node
		want  string
	}{
		{listVsftpd, old, "-rw-r--r--    1 0        0               6 Mar 01  2023 readme.txt"},
		{listVsftpd, dir, "drwxr-xr-x    2 0        0            4096 May 04 23:49 pub"},
		{listProFTPD, old, "-rw-r--r--   1 alice    alice           6 Mar  1  2023 readme.txt"},
		{listProFTPD, dir, "drwxr-xr-x   2 root     root         4096 May  4 23:49 pub"},
		{listDOS, old, "03-01-23  10:00AM                    6 readme.txt"},
		{listDOS, dir, "05-04-26  11:49PM       <DIR>          pub"},
	}
	for _, tc := range cases {
		if got := listLine(tc.style, tc.n, tc.n.name, now); got != tc.want {
			t.Errorf("style %d: %q, want %q", tc.style, got, tc.want)
		}
	}
}

// TestFloodAndSlowClients fills one source's connection slots with silent
// clients and floods another connection with an endless line; a third
// source still logs in and is served.
func TestFloodAndSlowClients(t *testing.T) {
	ts := startService(t, decoys.Config{Options: aliceOptions, Limits: decoys.Limits{MaxConnsPerSource: 4}})
	for range 4 {
		c := dialFrom(t, "127.0.0.2", ts.addr)
		if got := c.reply(); got != "220 (vsFTPd 3.0.3)\r\n" {
			t.Fatalf("slow client banner %q", got)
		}
	}
	over := dialFrom(t, "127.0.0.2", ts.addr)
	if got := over.reply(); got != "<EOF>" {
		t.Errorf("fifth connection of one source got %q, want the close", got)
	}

	flood := dialFrom(t, "127.0.0.4", ts.addr)
	flood.reply()
	go func() {
		chunk := []byte(strings.Repeat("A", 1024))
		for {
			if _, err := flood.conn.Write(chunk); err != nil {
				return
			}
		}
	}()
	if got := flood.reply(); got != "500 Input line too long.\r\n" {
		t.Errorf("flooding client got %q", got)
	}

	c := loginAlice(t, ts, "127.0.0.3")
	if got := c.cmd("PWD"); got != "257 \"/home/alice\" is the current directory\r\n" {
		t.Errorf("third source PWD => %q", got)
	}
}

func TestIdleTimeout(t *testing.T) {
	ts := startService(t, decoys.Config{Limits: decoys.Limits{ReadTimeout: 100 * time.Millisecond}})
	c := dialFrom(t, "127.0.0.2", ts.addr)
	c.reply()
	if got := c.reply(); got != "421 Timeout.\r\n" {
		t.Errorf("idle connection got %q, want 421 Timeout.", got)
	}
	if got := c.reply(); got != "<EOF>" {
		t.Errorf("after the timeout reply read %q, want the close", got)
	}
}

// TestPersonaListings checks the LIST layout and replies of the other
// personas.
func TestPersonaListings(t *testing.T) {
	cases := []struct {
		persona string
		login   string
		start   string
		line    *regexp.Regexp
	}{
		{PersonaProFTPD, "230 User alice logged in\r\n", "150 Opening ASCII mode data connection for file list\r\n",
			regexp.MustCompile(`^-rw-------   1 alice    alice         \d{3} \w{3} [ \d]\d [ \d]\d[:\d]\d\d notes\.txt$`)},
		{PersonaMSFTP, "230 User logged in.\r\n", "150 Opening ASCII mode data connection.\r\n",
			regexp.MustCompile(`^\d\d-\d\d-\d\d  \d\d:\d\d[AP]M +\d+ readme\.txt$`)},
	}
	for _, tc := range cases {
		t.Run(tc.persona, func(t *testing.T) {
			ts := startService(t, decoys.Config{Persona: tc.persona, Options: aliceOptions})
			c := dialFrom(t, "127.0.0.2", ts.addr)
			c.reply()
			c.cmd("USER alice")
			if got := c.cmd("PASS pw"); got != tc.login {
				t.Fatalf("login => %q, want %q", got, tc.login)
			}
			d := pasv(t, c, "127.0.0.2")
			if got := c.cmd("LIST"); got != tc.start {
				t.Fatalf("LIST => %q, want %q", got, tc.start)
			}
			body, _ := io.ReadAll(d)
			found := false
			for _, l := range strings.Split(strings.TrimSuffix(string(body), "\r\n"), "\r\n") {
				found = found || tc.line.MatchString(l)
			}
			if !found {
				t.Errorf("no line matches %s in\n%s", tc.line, body)
			}
		})
	}
}

// TestProFTPDIgnoresLongLines checks that ProFTPD's persona drops an
// over-long command silently and closes only on a line past four
// buffers.
func TestProFTPDIgnoresLongLines(t *testing.T) {
	ts := startService(t, decoys.Config{Persona: PersonaProFTPD})
	c := dialFrom(t, "127.0.0.2", ts.addr)
	c.reply()
	if got := c.cmd(strings.Repeat("A", 5000) + "\r\nNOOP"); got != "200 NOOP command successful\r\n" {
		t.Errorf("after an ignored line NOOP => %q", got)
	}
	if _, err := io.WriteString(c.conn, strings.Repeat("B", 5*4103)); err != nil {
		t.Fatal(err)
	}
	if got := c.reply(); got != "<EOF>" {
		t.Errorf("after a line of five buffers read %q, want the close", got)
	}
}

func TestProFTPDFacts(t *testing.T) {
	ts := startService(t, decoys.Config{Persona: PersonaProFTPD, Options: aliceOptions})
	c := dialFrom(t, "127.0.0.2", ts.addr)
	c.reply()
	c.cmd("USER alice")
	c.cmd("PASS pw")
	mlst := regexp.MustCompile(`^250-Start of list for /home/alice/notes\.txt\r\n modify=\d{14};perm=adfrw;size=\d+;type=file;unique=FE01U[0-9A-F]+;` +
		`UNIX\.group=1000;UNIX\.groupname=alice;UNIX\.mode=0600;UNIX\.owner=1000;UNIX\.ownername=alice; /home/alice/notes\.txt\r\n250 End of list\r\n$`)
	if got := c.cmd("MLST notes.txt"); !mlst.MatchString(got) {
		t.Errorf("MLST => %q", got)
	}
	d := pasv(t, c, "127.0.0.2")
	if got := c.cmd("MLSD"); got != "150 Opening ASCII mode data connection for MLSD\r\n" {
		t.Fatalf("MLSD => %q", got)
	}
	body, _ := io.ReadAll(d)
	for _, want := range []string{";type=cdir;", ";type=pdir;", "type=dir;", " backups\r\n", " notes.txt\r\n"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("MLSD output lacks %q:\n%s", want, body)
		}
	}
	if got := c.reply(); got != "226 Transfer complete\r\n" {
		t.Errorf("after MLSD %q", got)
	}
	if got := c.cmd("AUTH TLS"); got != "500 AUTH not understood\r\n" {
		t.Errorf("AUTH TLS => %q", got)
	}
}

// TestUploadOutlivesSession checks that a file stored in one session is
// there in the next session of the same login, and only there.
func TestUploadOutlivesSession(t *testing.T) {
	ts := startService(t, decoys.Config{Options: map[string]string{login.KeyLogin: "list", login.KeyCredentials: "alice:pw,bob:pw"}})
	c := loginAlice(t, ts, "127.0.0.2")
	d := pasv(t, c, "127.0.0.2")
	c.cmd("STOR keep.txt")
	if _, err := io.WriteString(d, "persist me\n"); err != nil {
		t.Fatal(err)
	}
	_ = d.Close()
	if got := c.reply(); got != "226 Transfer complete.\r\n" {
		t.Fatalf("after upload %q", got)
	}
	c.cmd("QUIT")

	again := loginAlice(t, ts, "127.0.0.3")
	if got := again.cmd("SIZE keep.txt"); got != "213 11\r\n" {
		t.Errorf("next session SIZE => %q", got)
	}
	d = pasv(t, again, "127.0.0.3")
	again.cmd("RETR keep.txt")
	if body, _ := io.ReadAll(d); string(body) != "persist me\n" {
		t.Errorf("next session RETR = %q", body)
	}

	bob := dialFrom(t, "127.0.0.4", ts.addr)
	bob.reply()
	bob.cmd("USER bob")
	bob.cmd("PASS pw")
	if got := bob.cmd("SIZE /home/alice/keep.txt"); got != "550 Could not get file size.\r\n" {
		t.Errorf("other login sees the upload: %q", got)
	}
}
