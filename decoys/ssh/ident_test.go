package ssh

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// The expected outcomes were observed against openssh-server
// 1:9.2p1-2+deb12u10 on loopback.
func TestReadClientIdent(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		wantLine string
		wantErr  error
	}{
		{"openssh", "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n", "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10", nil},
		{"bare LF", "SSH-2.0-foo\n", "SSH-2.0-foo", nil},
		{"comment", "SSH-2.0-foo bar baz\r\n", "SSH-2.0-foo bar baz", nil},
		{"ssh 1.99", "SSH-1.99-foo\r\n", "SSH-1.99-foo", nil},
		{"double CR", "SSH-2.0-foo\r\r\n", "SSH-2.0-foo", nil},
		{"8000-byte line", "SSH-2.0-" + strings.Repeat("a", 8000) + "\r\n", "SSH-2.0-" + strings.Repeat("a", 8000), nil},
		{"http request", "GET / HTTP/1.0\r\n\r\n", "", errInvalidIdent},
		{"ssh 1.5", "SSH-1.5-foo\r\n", "", errVersionMismatch},
		{"ssh 3.0", "SSH-3.0-foo\r\n", "", errVersionMismatch},
		{"empty software", "SSH-2.0-\r\n", "", errInvalidIdent},
		{"only prefix", "SSH-\r\n", "", errInvalidIdent},
		{"CR inside", "SSH-2.0-f\roo\r\n", "", errInvalidIdent},
		{"NUL inside", "SSH-2.0-f\x00oo\r\n", "", errInvalidIdent},
		{"9000-byte line", "SSH-2.0-" + strings.Repeat("a", 9000) + "\r\n", "", errInvalidIdent},
		{"non-numeric version", "SSH-2.x-foo\r\n", "", errInvalidIdent},
		{"empty line", "\r\n", "", errInvalidIdent},
		{"overflowing major", "SSH-99999999999.0-foo\r\n", "", errVersionMismatch},
		{"space before major", "SSH- 2.0-foo\r\n", "SSH- 2.0-foo", nil},
		{"EOF", "SSH-2.0-foo", "", io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line, err := readClientIdent(bufio.NewReader(strings.NewReader(tt.input)), 8192)
			if err == nil {
				_, err = parseClientVersion(line)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && string(line) != tt.wantLine {
				t.Errorf("line = %q, want %q", line, tt.wantLine)
			}
		})
	}
}

func TestReadClientIdentStopsAtLF(t *testing.T) {
	r := bufio.NewReader(strings.NewReader("SSH-2.0-foo\r\nKEXINIT bytes"))
	if _, err := readClientIdent(r, 8192); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(r)
	if string(rest) != "KEXINIT bytes" {
		t.Errorf("rest = %q, want %q", rest, "KEXINIT bytes")
	}
}

func TestParseClientVersion(t *testing.T) {
	v, err := parseClientVersion([]byte("SSH-2.0-PuTTY_Release_0.81 extra"))
	if err != nil {
		t.Fatal(err)
	}
	if v.major != 2 || v.minor != 0 || v.software != "PuTTY_Release_0.81 extra" {
		t.Errorf("parsed %+v, want major 2, minor 0, software %q", v, "PuTTY_Release_0.81 extra")
	}
}

// FuzzClientVersion checks that any client input either yields a line
// that satisfies sshd's rules or fails with a known error, and never reads
// past the line's LF.
func FuzzClientVersion(f *testing.F) {
	for _, seed := range []string{
		"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n",
		"SSH-1.99-foo\n",
		"SSH-1.5-foo\r\n",
		"SSH-2.0-\r\n",
		"SSH-2.0-f\roo\r\n",
		"SSH--1.-2-x\r\n",
		"SSH-+2.0-x\r\n",
		"SSH-2.99999999999999999999-x\r\n",
		"GET / HTTP/1.1\r\n",
		"\x00\x00\x00\x0c\x0a\x14",
	} {
		f.Add([]byte(seed + "trailing"))
	}
	const maxBytes = 512
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		line, err := readClientIdent(r, maxBytes)
		if err != nil {
			if !errors.Is(err, errInvalidIdent) && !errors.Is(err, io.EOF) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if len(line) > maxBytes || !bytes.HasPrefix(line, []byte("SSH-")) || bytes.ContainsAny(line, "\x00\r\n") {
			t.Fatalf("accepted invalid line %q", line)
		}
		consumed := len(data) - r.Len()
		if consumed == 0 || data[consumed-1] != '\n' {
			t.Fatalf("consumed %d bytes, want to stop right after the LF", consumed)
		}

		v, err := parseClientVersion(line)
		switch {
		case err == nil:
			if v.major != 2 && (v.major != 1 || v.minor != 99) {
				t.Fatalf("accepted version %d.%d", v.major, v.minor)
			}
			if v.software == "" {
				t.Fatal("accepted an empty software version")
			}
		case errors.Is(err, errInvalidIdent), errors.Is(err, errVersionMismatch):
		default:
			t.Fatalf("unexpected error %v", err)
		}
	})
}
