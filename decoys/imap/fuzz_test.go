package imap

import (
	"testing"
)

// FuzzParseCommand runs the command parser (tag, name, arguments with
// quoted strings, lists and literals) over arbitrary lines. Literals are
// served from the fuzzer's second input.
func FuzzParseCommand(f *testing.F) {
	seeds := []string{
		"a LOGIN alice wonderland", "a LOGIN {5}", "a LOGIN {5+}", "a ID (\"name\" \"x\" \"version\" NIL)",
		"a FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From Subject)])", "* noop", "a \"noop\"", "a LOGIN a)",
		"a LOGIN \"a\\\"b\" c", "a LOGIN ~{3}", "a LOGIN {99999999999999999999}", "a x\r", "a x\ry", "\xff\xfe",
	}
	for _, s := range seeds {
		f.Add([]byte(s), []byte("abc\r\nrest"))
	}
	f.Fuzz(func(t *testing.T, line, more []byte) {
		s := &source{line: line, maxLine: 8192}
		s.cont = func() error { return nil }
		s.literal = func(size int64) ([]byte, []byte, error) {
			if size > int64(len(more)) {
				return nil, nil, errLiteralTooBig
			}
			return more[:size], more[size:], nil
		}
		tag, ok := s.readAtomWord(true)
		if ok && tag == "" {
			t.Fatal("empty tag accepted")
		}
		if !ok {
			return
		}
		if _, ok := s.readAtomWord(false); !ok {
			return
		}
		args, err := s.args()
		if err == nil {
			items, _ := parseFetchItems(args)
			_ = items
		}
	})
}

func FuzzParseSeqSet(f *testing.F) {
	for _, s := range []string{"1", "1:*", "1,3:5,7", "*:1", "0", "4294967296", "1:", ",", "1,,2"} {
		f.Add(s, uint32(8))
	}
	f.Fuzz(func(t *testing.T, s string, max uint32) {
		for _, r := range parseSeqSet(s, max) {
			if r[0] > r[1] {
				t.Fatalf("range %v not ordered", r)
			}
			if r[0] == 0 && max != 0 {
				t.Fatalf("range %v starts at 0", r)
			}
		}
	})
}

// FuzzSession feeds arbitrary bytes to a whole connection, before and
// after a login (plain-text logins are allowed here so the fuzzer reaches
// the mailbox commands) of every persona, and checks that it ends without
// a panic. The first byte picks the persona.
func FuzzSession(f *testing.F) {
	personas := []string{PersonaDovecot, PersonaExchange, PersonaCourier}
	svcs := make([]*Service, len(personas))
	for i, id := range personas {
		svcs[i] = fuzzService(f, id)
	}
	seeds := []string{
		"a LOGIN alice wonderland\r\nb SELECT INBOX\r\nc FETCH 1:* (FLAGS BODY.PEEK[HEADER] ENVELOPE BODYSTRUCTURE)\r\nd LOGOUT\r\n",
		"a LOGIN alice wonderland\r\nb LIST \"\" *\r\nc STATUS INBOX (MESSAGES UNSEEN)\r\nd EXAMINE Sent\r\ne UID SEARCH ALL\r\n",
		"a AUTHENTICATE PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\r\nb SELECT INBOX\r\nc FETCH 1 BODY[]<0.10>\r\nd IDLE\r\nDONE\r\n",
		"a LOGIN {5}\r\nalice {10}\r\nwonderland\r\nb SELECT {5+}\r\nINBOX\r\nc STORE 1 +FLAGS (\\Seen)\r\n",
		"\r\n\r\n\r\n", "a LOGIN (a\r\n", "a AUTHENTICATE LOGIN\r\nYQ==\r\nYg==\r\n",
		"a ID NIL\r\nb ENABLE UTF8=ACCEPT\r\nc AUTHENTICATE FOO\r\nd AUTHENTICATE PLAIN\r\n*\r\ne AUTHENTICATE PLAIN !!!\r\n",
		"a LOGIN alice wonderland\r\nb SELECT INBOX\r\nc FETCH 1 FLAGS\r\nd FOO\r\ne CHECK\r\nf EXPUNGE\r\ng LOGOUT\r\n",
	}
	for _, s := range seeds {
		for i := range personas {
			f.Add(byte(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, persona byte, in []byte) {
		runPipe(svcs[int(persona)%len(svcs)], in)
	})
}
