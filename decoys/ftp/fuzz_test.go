package ftp

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/login"
)

// scriptConn is a net.Conn that reads a fixed script and collects what is
// written; deadlines are ignored.
type scriptConn struct {
	in  *bytes.Reader
	out bytes.Buffer
}

func (c *scriptConn) Read(p []byte) (int, error)  { return c.in.Read(p) }
func (c *scriptConn) Write(p []byte) (int, error) { return c.out.Write(p) }
func (c *scriptConn) Close() error                { return nil }
func (c *scriptConn) LocalAddr() net.Addr         { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 21} }
func (c *scriptConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 40000}
}
func (c *scriptConn) SetDeadline(time.Time) error      { return nil }
func (c *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptConn) SetWriteDeadline(time.Time) error { return nil }

// FuzzCommandLoop feeds arbitrary bytes to a control connection of each
// persona and checks that every reply is a well-formed FTP reply.
func FuzzCommandLoop(f *testing.F) {
	f.Add([]byte("USER alice\r\nPASS pw\r\nPWD\r\nCWD backups\r\nSTAT .\r\nQUIT\r\n"), uint8(0))
	f.Add([]byte("USER alice\r\nPASS pw\r\nPORT 127,0,0,2,4,1\r\nMKD a\r\nRNFR a\r\nRNTO b\r\nRMD b\r\nSITE HELP\r\n"), uint8(1))
	f.Add([]byte("feat\n\r\n  \r\nUSER ftp\r\nPASS x\r\nTYPE L 8\r\nREST -5\r\nSIZE /pub/README\r\n"), uint8(2))
	f.Add([]byte("USER alice\r\nPASS pw\r\nCWD ../../../../etc\r\nSTAT /\r\nNLST -la /home\r\nMDTM notes.txt\r\n"), uint8(0))
	f.Add([]byte(strings.Repeat("A", 5000)), uint8(1))
	personas := []string{PersonaVsftpd, PersonaProFTPD, PersonaMSFTP}
	f.Fuzz(func(t *testing.T, script []byte, which uint8) {
		svc, err := New(decoys.Config{Persona: personas[int(which)%len(personas)], Seed: []byte("fuzz"), Emitter: newRecorder(),
			Logger: zerolog.Nop(), Options: map[string]string{login.KeyLogin: "list", login.KeyCredentials: "alice:pw", OptAnonymous: "true"}})
		if err != nil {
			t.Fatal(err)
		}
		svc.failDelay = func() time.Duration { return 0 }
		svc.acceptTimeout = time.Millisecond
		svc.tooLongPause = 0
		conn := &scriptConn{in: bytes.NewReader(script)}
		sess := decoys.NewSession(conn, "fuzz", ServiceName, svc.emitter)
		c := newControl(svc, conn, sess)
		c.serve(context.Background())
		c.closeData()

		// ProFTPD refuses Telnet options with bare IAC sequences.
		out := withoutTelnetRefusals(conn.out.String())
		if out == "" {
			return
		}
		if !strings.HasSuffix(out, "\r\n") {
			t.Fatalf("output does not end with CR LF: %q", out)
		}
		for _, line := range strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n") {
			if strings.ContainsAny(line, "\r\n") {
				t.Fatalf("reply line holds a line break: %q", line)
			}
		}
	})
}

// withoutTelnetRefusals drops the IAC WONT and IAC DONT sequences by
// which the ProFTPD persona refuses Telnet options.
func withoutTelnetRefusals(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == telnetIAC && i+2 < len(s) && (s[i+1] == telnetWONT || s[i+1] == telnetDONT) {
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// FuzzPORT checks that an accepted PORT argument names the address and
// port it spells.
func FuzzPORT(f *testing.F) {
	for _, s := range []string{"127,0,0,1,4,1", "1,2,3", "255,255,255,255,255,255", "1,2,3,4,5,256", "01,2,3,4,5,6", ",,,,,", "1,2,3,4,5,6,7"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		ap, err := parsePORT(arg)
		if err != nil {
			return
		}
		if got := pasvArgument(ap.Addr(), ap.Port()); !sameNumbers(got, arg) {
			t.Fatalf("PORT %q parsed as %s, which prints as %q", arg, ap, got)
		}
	})
}

// sameNumbers compares comma-separated decimal lists by value.
func sameNumbers(a, b string) bool {
	as, bs := strings.Split(a, ","), strings.Split(b, ",")
	if len(as) != len(bs) {
		return false
	}
	for i := range as {
		x, _ := parseDecimal(as[i], 255)
		y, _ := parseDecimal(bs[i], 255)
		if x != y {
			return false
		}
	}
	return true
}

// FuzzEPRT checks that an accepted EPRT argument is of the control
// connection's family and reparses to the same value.
func FuzzEPRT(f *testing.F) {
	for _, s := range []string{"|1|127.0.0.1|1025|", "|2|::1|1025|", "||||", "x", "!1!10.0.0.1!21!", "|1|1.2.3.4|70000|", "|1|::ffff:1.2.3.4|5|"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, arg string, ipv6 bool) {
		ap, err := parseEPRT(arg, ipv6)
		if err != nil {
			return
		}
		if ap.Addr().Is4() == ipv6 {
			t.Fatalf("EPRT %q (ipv6 %v) gave %s", arg, ipv6, ap)
		}
		proto := "1"
		if ipv6 {
			proto = "2"
		}
		again, err := parseEPRT("|"+proto+"|"+ap.Addr().String()+"|"+strconv.Itoa(int(ap.Port()))+"|", ipv6)
		if err != nil || again != ap {
			t.Fatalf("EPRT %q gave %s, which reparses as %s, %v", arg, ap, again, err)
		}
	})
}

// FuzzSplitCommand checks the verb and argument split.
func FuzzSplitCommand(f *testing.F) {
	for _, s := range []string{"USER a", "user  a", "NOOP", "", " x", "\xff\xf4ABOR"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		verb, arg := splitCommand(line)
		if strings.Contains(verb, " ") {
			t.Fatalf("verb %q holds a space", verb)
		}
		if len(verb)+len(arg) > len(line) || !strings.EqualFold(verb, line[:len(verb)]) {
			t.Fatalf("split of %q grew: %q %q", line, verb, arg)
		}
	})
}
