package pop3

import (
	"bytes"
	"testing"
)

// FuzzSplitLoginCommand checks the pre-login command reader: the name is
// at most 8 upper-case bytes without CR, and the rest is a suffix of the
// line.
func FuzzSplitLoginCommand(f *testing.F) {
	for _, s := range []string{"CAPA", "user bob", "CAPABILITY", "US\rER x", "AUTH PLAIN AGEAYg==", "a\x00b", "\r", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		name, rest := splitLoginCommand(line)
		if len(name) > 8 {
			t.Fatalf("name %q longer than 8", name)
		}
		if bytes.ContainsAny([]byte(name), "\r abcdefghijklmnopqrstuvwxyz") {
			t.Fatalf("name %q has CR, space or lower case", name)
		}
		if !bytes.HasSuffix(line, rest) {
			t.Fatalf("rest %q is not a suffix of %q", rest, line)
		}
	})
}

// FuzzSession feeds arbitrary bytes to a whole connection of every
// persona, before and after a login, and checks that it ends without a
// panic. The first byte picks the persona.
func FuzzSession(f *testing.F) {
	personas := []string{PersonaDovecot, PersonaExchange, PersonaCourier}
	svcs := make([]*Service, len(personas))
	for i, id := range personas {
		svcs[i] = fuzzService(f, id)
	}
	for _, s := range []string{
		"USER alice\r\nPASS wonderland\r\nSTAT\r\nLIST\r\nUIDL\r\nTOP 1 3\r\nRETR 2\r\nDELE 1\r\nRSET\r\nQUIT\r\n",
		"AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\r\nLIST 1\r\nTOP 1 99999999999999999999\r\nRETR 0\r\n",
		"AUTH LOGIN\r\nYWxpY2U=\r\nd29uZGVybGFuZA==\r\nUIDL 1\r\n", "APOP alice 0123456789abcdef0123456789abcdef\r\n",
		"CAPA\r\nAUTH\r\nAUTH PLAIN\r\n*\r\n", "\r\n\r\n\r\n",
		"PASS x\r\nUSER alice\r\nPASS wonderland\r\nLIST\r\nLIST x\r\nLIST 1 2\r\nTOP 1 x\r\nDELE 1\r\nRETR 1\r\nRSET\r\nNOOP\r\nCAPA\r\n",
		"AUTH FOO\r\nAUTH LOGIN\r\n!!!\r\nSTLS\r\n",
	} {
		for i := range personas {
			f.Add(byte(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, persona byte, in []byte) {
		runPipe(svcs[int(persona)%len(svcs)], in)
	})
}
