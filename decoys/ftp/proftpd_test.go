package ftp

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/decoys"
)

// proftpdReader returns a ProFTPD persona's control connection reading
// script, and the connection, whose out collects what it writes.
func proftpdReader(t testing.TB, script string) (*control, *scriptConn) {
	t.Helper()
	svc, err := New(decoys.Config{Persona: PersonaProFTPD, Seed: []byte("reader"), Emitter: newRecorder(), Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	svc.tooLongPause = 0
	conn := &scriptConn{in: bytes.NewReader([]byte(script))}
	return newControl(svc, conn, decoys.NewSession(conn, "reader", ServiceName, svc.emitter)), conn
}

func TestReadProFTPDLine(t *testing.T) {
	tests := []struct {
		name, script string
		want         []string
		// reply is what the reader writes back, Telnet refusals.
		reply string
		// tooLong ends the script with errLineTooLong rather than EOF.
		tooLong bool
	}{
		{name: "CR LF", script: "NOOP\r\nSYST x\r\n", want: []string{"NOOP", "SYST x"}},
		{name: "bare LF is data", script: "feat\n\r\n\nsyst\nuser a\n", want: []string{"feat"}},
		{name: "CR CR LF", script: "FOO\r\r\n", want: []string{"FOO"}},
		{name: "leading CR dropped", script: "\rNOOP\r\n", want: []string{"NOOP"}},
		{name: "NUL ends the command", script: "NO\x00OP\r\nSYST\x00x\r\n", want: []string{"NO", "SYST"}},
		{name: "leading space is empty", script: "  NOOP\r\n\tx\r\n\r\n", want: []string{"", "", ""}},
		{name: "Telnet options refused", script: "\xff\xfb\x01NOOP\r\n\xff\xfd\x03SYST\r\n", want: []string{"NOOP", "SYST"},
			reply: "\xff\xfe\x01\xff\xfc\x03"},
		{name: "Telnet interrupt dropped", script: "\xff\xf4\xff\xf2ABOR\r\n", want: []string{"ABOR"}},
		{name: "escaped IAC kept", script: "NO\xff\xffOP\r\n", want: []string{"NO\xffOP"}},
		{name: "long line skipped", script: strings.Repeat("a", 5000) + "\r\nNOOP\r\n", want: []string{"NOOP"}},
		// The buffer holds the CR too; the fourth read of one command,
		// here the bare LF after three full buffers, ends the session.
		{name: "line of three buffers skipped", script: strings.Repeat("a", 3*4102-2) + "\r\nNOOP\r\n", want: []string{"NOOP"}},
		{name: "line of four reads closes", script: strings.Repeat("a", 3*4102-1) + "\r\nNOOP\r\n", tooLong: true},
		{name: "longest line", script: strings.Repeat("a", 4100) + "\r\n", want: []string{strings.Repeat("a", 4100)}},
		{name: "one byte too long", script: strings.Repeat("a", 4101) + "\r\nNOOP\r\n", want: []string{"NOOP"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, conn := proftpdReader(t, tt.script)
			var got []string
			var err error
			for {
				var line string
				line, err = c.readProFTPDLine()
				if err != nil {
					break
				}
				got = append(got, line)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
				t.Errorf("lines %q, want %q", got, tt.want)
			}
			if tt.tooLong != errors.Is(err, errLineTooLong) {
				t.Errorf("final error %v, too long %v", err, tt.tooLong)
			}
			if conn.out.String() != tt.reply {
				t.Errorf("wrote %q, want %q", conn.out.String(), tt.reply)
			}
		})
	}
}

func TestProFTPDForeignProtocol(t *testing.T) {
	for line, want := range map[string]bool{
		"GET / HTTP/1.0": true, "EHLO x": true, "SSH-2.0-OpenSSH_9.2p1": true, "SSH-1.99-x": true, "OPTIONS * HTTP/1.1": true,
		"get / HTTP/1.0": false, "NOOP": false, "GETX": false, "SSH-1.5-x": false, "": false,
	} {
		if got := proftpdForeignProtocol(line); got != want {
			t.Errorf("proftpdForeignProtocol(%q) = %v, want %v", line, got, want)
		}
	}
}

// FuzzProFTPDLine checks that every line the ProFTPD reader returns is a
// command ProFTPD would see: within its buffer, without NUL or its line
// end, and empty rather than starting with white space; and that its
// verb holds no white space.
func FuzzProFTPDLine(f *testing.F) {
	for _, s := range []string{"NOOP\r\n", "feat\n\r\n", "\xff\xfb\x01NOOP\r\n", "NO\x00OP\r\n", "\xff\xff\xff\r\n",
		strings.Repeat("a", 5000) + "\r\nx\r\n", "\r\r\n\n\r\n", " x\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, script []byte) {
		c, _ := proftpdReader(t, string(script))
		for {
			line, err := c.readProFTPDLine()
			if err != nil {
				return
			}
			if len(line) > proftpdCmdBuf-1 {
				t.Fatalf("line of %d bytes", len(line))
			}
			if strings.IndexByte(line, 0) >= 0 || strings.HasSuffix(line, "\r\n") {
				t.Fatalf("line %q keeps a NUL or line end", line)
			}
			if verb, _ := splitProFTPDCommand(line); strings.ContainsAny(verb, " \t\r\n\v\f") {
				t.Fatalf("line %q has the verb %q", line, verb)
			}
			if line != "" && isCSpace(line[0]) {
				t.Fatalf("line %q starts with white space", line)
			}
		}
	})
}

func TestCRLFReader(t *testing.T) {
	for _, size := range []int{1, 2, 3, 64} {
		r := &crlfReader{r: strings.NewReader("a\nb\r\nc\n\n")}
		var out bytes.Buffer
		buf := make([]byte, size)
		for {
			n, err := r.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				break
			}
		}
		if got := out.String(); got != "a\r\nb\r\nc\r\n\r\n" {
			t.Errorf("reads of %d bytes gave %q", size, got)
		}
	}
}
