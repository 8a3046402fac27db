//go:build integration

package httpdecoy

import (
	"crypto/md5" //nolint:gosec // G501: JA3 is an MD5
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"

	"github.com/decnet/decnet/decoys"
)

// TestClientFingerprintOpenSSLAndCurl connects with openssl s_client and
// curl, each configured with the suites and groups to offer, and checks
// the one client.fingerprinted event of each connection against the
// ClientHello the tool printed: -msg for openssl, --trace for curl. The
// expected JA3 string is built from those bytes, so it checks the version
// rule against the real legacy_version too.
func TestClientFingerprintOpenSSLAndCurl(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed")
	}
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}

	for _, tc := range []struct {
		name   string
		source string
		// run connects to addr and returns the tool's output.
		run                func(addr string) ([]byte, error)
		hello              func(t *testing.T, out []byte) []byte
		ciphers, curves    string
		version, sni, alpn string
	}{
		{
			name:   "openssl tls12",
			source: "127.0.0.3",
			run: func(addr string) ([]byte, error) {
				cmd := exec.Command(openssl, "s_client", "-connect", addr, "-bind", "127.0.0.3:0", "-servername", "decoy.example",
					"-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384", "-curves", "P-384:X25519",
					"-alpn", "h2,http/1.1", "-msg")
				cmd.Stdin = strings.NewReader("")
				return cmd.CombinedOutput()
			},
			hello: openSSLClientHello,
			// The configured suites, then the renegotiation SCSV (255)
			// that OpenSSL 3.0 appends to every hello.
			ciphers: "49199-49200-255",
			curves:  "24-29",
			version: "12", sni: "d", alpn: "h2",
		},
		{
			name:   "openssl tls13",
			source: "127.0.0.3",
			run: func(addr string) ([]byte, error) {
				cmd := exec.Command(openssl, "s_client", "-connect", addr, "-bind", "127.0.0.3:0",
					"-ciphersuites", "TLS_AES_128_GCM_SHA256", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384", "-curves", "X25519",
					"-alpn", "http/1.1", "-msg", "-noservername")
				cmd.Stdin = strings.NewReader("")
				return cmd.CombinedOutput()
			},
			hello:   openSSLClientHello,
			ciphers: "4865-49200-255",
			curves:  "29",
			version: "13", sni: "i", alpn: "h1",
		},
		{
			name:   "curl tls12",
			source: "127.0.0.2",
			run: func(addr string) ([]byte, error) {
				_, port, _ := strings.Cut(addr, ":")
				return exec.Command(curl, "-sk", "--interface", "127.0.0.2", "--tls-max", "1.2",
					"--ciphers", "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256", "--curves", "P-384:X25519",
					"--resolve", "decoy.example:"+port+":127.0.0.1", "--trace", "-", "-o", "/dev/null",
					"https://decoy.example:"+port+"/").CombinedOutput()
			},
			hello:   curlClientHello,
			ciphers: "49200-49199-255",
			curves:  "24-29",
			version: "12", sni: "d", alpn: "h2",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startService(t, decoys.Config{Seed: []byte("s"), Options: tlsOptions()})
			out, err := tc.run(ts.addr)
			if err != nil {
				t.Fatalf("%s: %v: %s", tc.name, err, out)
			}
			offered := parseClientHello(t, tc.hello(t, out))

			ts.rec.waitKind(t, decoys.KindConnectionClosed, 1)
			evs := ts.rec.byKind(decoys.KindClientFingerprinted)
			if len(evs) != 1 {
				t.Fatalf("%d fingerprint events for one connection, want 1", len(evs))
			}
			if src := evs[0].GetSource().GetAddress(); src != tc.source {
				t.Errorf("source %q, want %s", src, tc.source)
			}
			fp := evs[0].GetClientFingerprinted()
			t.Logf("ja3_string %s ja4 %s", fp.GetJa3String(), fp.GetJa4())

			fields := strings.Split(fp.GetJa3String(), ",")
			if len(fields) != 5 {
				t.Fatalf("ja3 string %q has %d fields, want 5", fp.GetJa3String(), len(fields))
			}
			if fields[1] != tc.ciphers {
				t.Errorf("ja3 ciphers = %s, want %s", fields[1], tc.ciphers)
			}
			if fields[3] != tc.curves {
				t.Errorf("ja3 curves = %s, want %s", fields[3], tc.curves)
			}
			if want := offered.ja3String(); fp.GetJa3String() != want {
				t.Errorf("ja3 string = %q, want %q from the printed hello", fp.GetJa3String(), want)
			}
			if sum := md5.Sum([]byte(fp.GetJa3String())); fp.GetJa3() != hex.EncodeToString(sum[:]) { //nolint:gosec // G401: JA3
				t.Errorf("ja3 = %s, want the MD5 of the string", fp.GetJa3())
			}

			prefix := "t" + tc.version + tc.sni
			if ja4 := fp.GetJa4(); !strings.HasPrefix(ja4, prefix) || ja4[8:10] != tc.alpn {
				t.Errorf("ja4 = %s, want %s....%s", ja4, prefix, tc.alpn)
			}
			if want := offered.ja4(tc.version); fp.GetJa4() != want {
				t.Errorf("ja4 = %s, want %s from the printed hello", fp.GetJa4(), want)
			}
		})
	}
}

// offeredHello is a ClientHello as parsed by the test, independently of
// crypto/tls.
type offeredHello struct {
	version                        uint16
	ciphers, exts, groups, sigalgs []uint16
	points                         []byte
	alpn                           []string
}

func isGreaseValue(v uint16) bool { return v&0x0f0f == 0x0a0a && v>>8 == v&0xff }

func (h offeredHello) ja3String() string {
	join := func(vs []uint16) string {
		var parts []string
		for _, v := range vs {
			if !isGreaseValue(v) {
				parts = append(parts, strconv.Itoa(int(v)))
			}
		}
		return strings.Join(parts, "-")
	}
	var points []string
	for _, p := range h.points {
		points = append(points, strconv.Itoa(int(p)))
	}
	return fmt.Sprintf("%d,%s,%s,%s,%s", h.version, join(h.ciphers), join(h.exts), join(h.groups), strings.Join(points, "-"))
}

// ja4 builds the JA4 of h by the steps of FoxIO's JA4.md, with the
// version field given.
func (h offeredHello) ja4(version string) string {
	hexes := func(vs []uint16, sorted bool, skip ...uint16) []string {
		var out []string
		for _, v := range vs {
			if !isGreaseValue(v) && !slices.Contains(skip, v) {
				out = append(out, fmt.Sprintf("%04x", v))
			}
		}
		if sorted {
			slices.Sort(out)
		}
		return out
	}
	hash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:])[:12]
	}
	sni := "i"
	if slices.Contains(h.exts, 0) {
		sni = "d"
	}
	alpn := "00"
	if len(h.alpn) > 0 {
		alpn = h.alpn[0][:1] + h.alpn[0][len(h.alpn[0])-1:]
	}
	ciphers := hexes(h.ciphers, true)
	exts := hexes(h.exts, true, 0x0000, 0x0010)
	sigs := hexes(h.sigalgs, false)
	return fmt.Sprintf("t%s%s%02d%02d%s_%s_%s", version, sni, len(ciphers), len(hexes(h.exts, false)), alpn,
		hash(strings.Join(ciphers, ",")), hash(strings.Join(exts, ",")+"_"+strings.Join(sigs, ",")))
}

// parseClientHello reads a ClientHello handshake message, type byte
// included.
func parseClientHello(t *testing.T, msg []byte) offeredHello {
	t.Helper()
	var h offeredHello
	s := cryptobyte.String(msg)
	var body, session, suites, compression, exts cryptobyte.String
	var typ uint8
	if !s.ReadUint8(&typ) || typ != 1 || !s.ReadUint24LengthPrefixed(&body) ||
		!body.ReadUint16(&h.version) || !body.Skip(32) ||
		!body.ReadUint8LengthPrefixed(&session) || !body.ReadUint16LengthPrefixed(&suites) ||
		!body.ReadUint8LengthPrefixed(&compression) || !body.ReadUint16LengthPrefixed(&exts) {
		t.Fatalf("malformed ClientHello % x", msg)
	}
	h.ciphers = readUint16s(t, suites)
	for !exts.Empty() {
		var typ uint16
		var data, list cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
			t.Fatalf("malformed extension in % x", msg)
		}
		h.exts = append(h.exts, typ)
		switch typ {
		case 0x000a:
			if !data.ReadUint16LengthPrefixed(&list) {
				t.Fatal("malformed supported_groups")
			}
			h.groups = readUint16s(t, list)
		case 0x000b:
			if !data.ReadUint8LengthPrefixed(&list) {
				t.Fatal("malformed ec_point_formats")
			}
			h.points = list
		case 0x000d:
			if !data.ReadUint16LengthPrefixed(&list) {
				t.Fatal("malformed signature_algorithms")
			}
			h.sigalgs = readUint16s(t, list)
		case 0x0010:
			if !data.ReadUint16LengthPrefixed(&list) {
				t.Fatal("malformed ALPN")
			}
			for !list.Empty() {
				var proto cryptobyte.String
				if !list.ReadUint8LengthPrefixed(&proto) {
					t.Fatal("malformed ALPN protocol")
				}
				h.alpn = append(h.alpn, string(proto))
			}
		}
	}
	return h
}

func readUint16s(t *testing.T, s cryptobyte.String) []uint16 {
	t.Helper()
	var out []uint16
	for !s.Empty() {
		var v uint16
		if !s.ReadUint16(&v) {
			t.Fatalf("odd-length list % x", []byte(s))
		}
		out = append(out, v)
	}
	return out
}

var hexPairs = regexp.MustCompile(`[0-9a-fA-F]{2}`)

// openSSLClientHello returns the ClientHello that s_client -msg printed:
// the hex lines under ">>> ... ClientHello".
func openSSLClientHello(t *testing.T, out []byte) []byte {
	t.Helper()
	var raw strings.Builder
	in := false
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, ">>> ") && strings.HasSuffix(line, "ClientHello"):
			in = true
		case in && strings.HasPrefix(line, "    "):
			raw.WriteString(strings.Join(hexPairs.FindAllString(line, -1), ""))
		case in:
			return decodeHex(t, raw.String())
		}
	}
	t.Fatalf("no ClientHello in s_client output:\n%s", out)
	return nil
}

var curlTraceLine = regexp.MustCompile(`^[0-9a-f]{4}: ((?:[0-9a-f]{2} ){1,16})`)

// curlClientHello returns the ClientHello in curl's --trace output: the
// hex dump of the data sent after "Client hello (1)".
func curlClientHello(t *testing.T, out []byte) []byte {
	t.Helper()
	var raw strings.Builder
	state := 0
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case state == 0 && strings.Contains(line, "Client hello (1)"):
			state = 1
		case state == 1 && strings.HasPrefix(line, "=> Send SSL data"):
			state = 2
		case state == 2 && curlTraceLine.MatchString(line):
			raw.WriteString(strings.ReplaceAll(curlTraceLine.FindStringSubmatch(line)[1], " ", ""))
		case state == 2:
			return decodeHex(t, raw.String())
		}
	}
	t.Fatalf("no ClientHello in curl trace:\n%s", out)
	return nil
}

func decodeHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
	return b
}
