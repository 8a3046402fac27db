package smtp

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

// FuzzTokenize checks that the command tokenizer terminates and that its
// words, joined, never hold more than the line.
func FuzzTokenize(f *testing.F) {
	for _, s := range []string{"MAIL FROM:<a@b.c> SIZE=10", "RCPT TO:<\"a b\"@c>", "<<<\"", "a\\", "FROM:TO:from:", "EHLO <a b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		total := 0
		for _, tok := range tokenize(line) {
			if tok.text == "" {
				t.Fatalf("empty token from %q", line)
			}
			total += len(tok.text)
		}
		if total > len(line) {
			t.Fatalf("tokens of %q hold %d bytes", line, total)
		}
	})
}

// FuzzExtractAddress checks the address parser on arbitrary words: it
// terminates, and an accepted address is no longer than its input and
// has a valid domain when it has one.
func FuzzExtractAddress(f *testing.F) {
	for _, s := range []string{"<a@b.c>", "<>", "<@x.y:a@b.c>", "<\"a b\"@c.d>", "<a(c)@b.c>", "<a@[1.2.3.4]>", "<a@b.c>x", "((", "[", "<a@>"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, word string, utf bool) {
		addr, ok := extractAddress(word, true, utf)
		if !ok {
			return
		}
		// Only a domain literal left open gains a byte, its "]".
		if len(addr) > len(word)+1 {
			t.Fatalf("%q gave longer %q", word, addr)
		}
		if at := strings.LastIndexByte(addr, '@'); at >= 0 && !validDomain(addr[at+1:]) {
			t.Fatalf("%q gave %q with an invalid domain", word, addr)
		}
	})
}

// FuzzSASL checks the SASL decoders on arbitrary responses.
func FuzzSASL(f *testing.F) {
	for _, s := range []string{"AGFsaWNlAHNlY3JldA==", "=", "YWxpY2UgMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "!!", "YQ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, resp string) {
		raw, err := decodeSASL(resp)
		if err != nil {
			return
		}
		if _, user, _, ok := parsePlain(raw); ok && user == "" {
			t.Fatalf("PLAIN %q accepted an empty user", raw)
		}
		if user, digest, ok := parseCRAMMD5(raw); ok && (len(digest) != 32 || len(user)+33 != len(raw)) {
			t.Fatalf("CRAM-MD5 %q split into %q %q", raw, user, digest)
		}
	})
}

// FuzzReadLine checks the line reader: every line it returns fits the
// limit and it always makes progress.
func FuzzReadLine(f *testing.F) {
	for _, s := range []string{"NOOP\r\n", "a\rb\r\r\n", strings.Repeat("x", 40) + "\n", "\r", "abc"} {
		f.Add([]byte(s), 8)
	}
	f.Fuzz(func(t *testing.T, data []byte, limit int) {
		if limit < 1 || limit > 64 {
			return
		}
		br := bufio.NewReader(bytes.NewReader(data))
		for range len(data) + 1 {
			line, _, err := readLine(br, limit, true)
			if err != nil {
				return
			}
			if len(line) > limit {
				t.Fatalf("line of %d bytes over limit %d", len(line), limit)
			}
		}
		t.Fatalf("no end after %d lines of %d bytes", len(data)+1, len(data))
	})
}

// FuzzSession runs the whole command engine on arbitrary client input
// and checks that it ends.
func FuzzSession(f *testing.F) {
	for _, s := range []string{
		"EHLO a\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<root@localhost>\r\nDATA\r\nSubject: x\r\n\r\nhi\r\n.\r\nQUIT\r\n",
		"EHLO a\r\nAUTH PLAIN\r\nAGEAYg==\r\nAUTH LOGIN\r\nYQ==\r\nYg==\r\n",
		"MAIL FROM:<>\r\nRCPT TO:<root@localhost>\r\nBDAT 3\r\nabcBDAT 2 LAST\r\nde",
	} {
		f.Add([]byte(s))
	}
	svc := newTestService(f)
	f.Fuzz(func(t *testing.T, input []byte) {
		out := runSession(t, svc, input)
		if !bytes.HasPrefix(out, []byte("220 ")) {
			t.Fatalf("no greeting: %q", out)
		}
	})
}

// FuzzEximSession runs the Exim command loop on arbitrary client input
// and checks that it greets and ends.
func FuzzEximSession(f *testing.F) {
	for _, s := range []string{
		"EHLO a\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z>\r\nDATA\r\nNOOP\r\n",
		"HELO a\r\nMAIL FROM:<>\r\nRCPT TO:<root@localhost>\r\nDATA\r\nSubject: x\r\n\r\nhi\r\n.\r\nQUIT\r\n",
		"NO\x00OP\nRSET x\r\nVRFY <a@b>\r\nAUTH PLAIN\r\nSTARTTLS\r\n\x16\x03\x01\x00\x05hello",
		"EHLO a\r\nBDAT 3\r\nabcBDAT 2 LAST\r\nde",
	} {
		f.Add([]byte(s))
	}
	svc := newEximService(f)
	f.Fuzz(func(t *testing.T, input []byte) {
		out := runSession(t, svc, input)
		if !bytes.HasPrefix(out, []byte("220 ")) {
			t.Fatalf("no greeting: %q", out)
		}
	})
}
