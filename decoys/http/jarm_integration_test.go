//go:build integration

package httpdecoy

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/decnet/decnet/decoys"
)

// This file computes JARM (Salesforce's active TLS server fingerprint,
// version 1.0): ten ClientHellos that differ in version, cipher list and
// order, GREASE, ALPN list and extension order, and a fuzzy hash of the
// ten ServerHellos. The probe layouts and the two cipher tables below
// are the fingerprint's definition; the code is written for this test.

// jarmCiphers is the probe cipher list ("ALL"), in the order sent.
var jarmCiphers = []uint16{
	0x0016, 0x0033, 0x0067, 0xc09e, 0xc0a2, 0x009e, 0x0039, 0x006b, 0xc09f, 0xc0a3, 0x009f, 0x0045, 0x00be, 0x0088,
	0x00c4, 0x009a, 0xc008, 0xc009, 0xc023, 0xc0ac, 0xc0ae, 0xc02b, 0xc00a, 0xc024, 0xc0ad, 0xc0af, 0xc02c, 0xc072,
	0xc073, 0xcca9, 0x1302, 0x1301, 0xcc14, 0xc007, 0xc012, 0xc013, 0xc027, 0xc02f, 0xc014, 0xc028, 0xc030, 0xc060,
	0xc061, 0xc076, 0xc077, 0xcca8, 0x1305, 0x1304, 0x1303, 0xcc13, 0xc011, 0x000a, 0x002f, 0x003c, 0xc09c, 0xc0a0,
	0x009c, 0x0035, 0x003d, 0xc09d, 0xc0a1, 0x009d, 0x0041, 0x00ba, 0x0084, 0x00c0, 0x0007, 0x0004, 0x0005,
}

// jarmHashCiphers numbers the ciphers in the hash: a chosen cipher is
// written as its 1-based position in this sorted table.
var jarmHashCiphers = []uint16{
	0x0004, 0x0005, 0x0007, 0x000a, 0x0016, 0x002f, 0x0033, 0x0035, 0x0039, 0x003c, 0x003d, 0x0041, 0x0045, 0x0067,
	0x006b, 0x0084, 0x0088, 0x009a, 0x009c, 0x009d, 0x009e, 0x009f, 0x00ba, 0x00be, 0x00c0, 0x00c4, 0xc007, 0xc008,
	0xc009, 0xc00a, 0xc011, 0xc012, 0xc013, 0xc014, 0xc023, 0xc024, 0xc027, 0xc028, 0xc02b, 0xc02c, 0xc02f, 0xc030,
	0xc060, 0xc061, 0xc072, 0xc073, 0xc076, 0xc077, 0xc09c, 0xc09d, 0xc09e, 0xc09f, 0xc0a0, 0xc0a1, 0xc0a2, 0xc0a3,
	0xc0ac, 0xc0ad, 0xc0ae, 0xc0af, 0xcc13, 0xcc14, 0xcca8, 0xcca9, 0x1301, 0x1302, 0x1303, 0x1304, 0x1305,
}

// jarmALPN and jarmRareALPN are the ALPN lists as wire-format entries.
// The reference client writes "spdy/3" and "h2" as a single entry, which
// moves as one when the list is reordered; the fingerprint depends on it.
var (
	jarmALPN     = []string{"\x08http/0.9", "\x08http/1.0", "\x08http/1.1", "\x06spdy/1", "\x06spdy/2", "\x06spdy/3\x02h2", "\x03h2c", "\x02hq"}
	jarmRareALPN = []string{"\x08http/0.9", "\x08http/1.0", "\x06spdy/1", "\x06spdy/2", "\x06spdy/3", "\x03h2c", "\x02hq"}
)

type jarmProbe struct {
	version     uint16 // ClientHello version; 0x0304 means a TLS 1.3 hello
	noTLS13     bool   // cipher list without the TLS 1.3 suites
	cipherOrder string
	grease      bool
	rareALPN    bool
	// versions is "1.2" or "1.3" for a supported_versions extension, or
	// "" for none.
	versions string
	extOrder string
}

var jarmProbes = []jarmProbe{
	{version: 0x0303, cipherOrder: "FORWARD", versions: "1.2", extOrder: "REVERSE"},
	{version: 0x0303, cipherOrder: "REVERSE", versions: "1.2", extOrder: "FORWARD"},
	{version: 0x0303, cipherOrder: "TOP_HALF", extOrder: "FORWARD"},
	{version: 0x0303, cipherOrder: "BOTTOM_HALF", rareALPN: true, extOrder: "FORWARD"},
	{version: 0x0303, cipherOrder: "MIDDLE_OUT", grease: true, rareALPN: true, extOrder: "REVERSE"},
	{version: 0x0302, cipherOrder: "FORWARD", extOrder: "FORWARD"},
	{version: 0x0304, cipherOrder: "FORWARD", versions: "1.3", extOrder: "REVERSE"},
	{version: 0x0304, cipherOrder: "REVERSE", versions: "1.3", extOrder: "FORWARD"},
	{version: 0x0304, noTLS13: true, cipherOrder: "FORWARD", versions: "1.3", extOrder: "FORWARD"},
	{version: 0x0304, cipherOrder: "MIDDLE_OUT", grease: true, versions: "1.3", extOrder: "REVERSE"},
}

// jarmReorder reorders a list as the probe's order names.
func jarmReorder[T any](in []T, order string) []T {
	n := len(in)
	var out []T
	switch order {
	case "FORWARD":
		return append(out, in...)
	case "REVERSE":
		for i := n - 1; i >= 0; i-- {
			out = append(out, in[i])
		}
	case "BOTTOM_HALF":
		return append(out, in[n/2+n%2:]...)
	case "TOP_HALF":
		if n%2 == 1 {
			out = append(out, in[n/2])
		}
		out = append(out, jarmReorder(jarmReorder(in, "REVERSE"), "BOTTOM_HALF")...)
	case "MIDDLE_OUT":
		mid := n / 2
		if n%2 == 1 {
			out = append(out, in[mid])
			for i := 1; i <= mid; i++ {
				out = append(out, in[mid+i], in[mid-i])
			}
		} else {
			for i := 1; i <= mid; i++ {
				out = append(out, in[mid-1+i], in[mid-i])
			}
		}
	}
	return out
}

func jarmGrease() []byte {
	var b [1]byte
	_, _ = rand.Read(b[:])
	v := b[0]&0xf0 | 0x0a
	return []byte{v, v}
}

func u16(v int) []byte { return binary.BigEndian.AppendUint16(nil, uint16(v)) }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// hello builds the probe's TLS record.
func (p jarmProbe) hello(host string) []byte {
	recordVersion, helloVersion := p.version, p.version
	if p.version == 0x0304 {
		recordVersion, helloVersion = 0x0301, 0x0303
	}

	var ciphers []byte
	list := jarmCiphers
	if p.noTLS13 {
		list = nil
		for _, c := range jarmCiphers {
			if c>>8 != 0x13 {
				list = append(list, c)
			}
		}
	}
	if p.grease {
		ciphers = append(ciphers, jarmGrease()...)
	}
	for _, c := range jarmReorder(list, p.cipherOrder) {
		ciphers = binary.BigEndian.AppendUint16(ciphers, c)
	}

	var ext []byte
	if p.grease {
		ext = append(ext, jarmGrease()...)
		ext = append(ext, 0, 0)
	}
	ext = append(ext, 0, 0)
	ext = append(ext, u16(len(host)+5)...)
	ext = append(ext, u16(len(host)+3)...)
	ext = append(ext, 0)
	ext = append(ext, u16(len(host))...)
	ext = append(ext, host...)
	ext = append(ext, 0x00, 0x17, 0, 0)                                            // extended_master_secret
	ext = append(ext, 0x00, 0x01, 0, 1, 1)                                         // max_fragment_length 512
	ext = append(ext, 0xff, 0x01, 0, 1, 0)                                         // renegotiation_info
	ext = append(ext, 0x00, 0x0a, 0, 10, 0, 8, 0, 0x1d, 0, 0x17, 0, 0x18, 0, 0x19) // supported_groups
	ext = append(ext, 0x00, 0x0b, 0, 2, 1, 0)                                      // ec_point_formats
	ext = append(ext, 0x00, 0x23, 0, 0)                                            // session_ticket

	alpnList := jarmALPN
	if p.rareALPN {
		alpnList = jarmRareALPN
	}
	alpn := strings.Join(jarmReorder(alpnList, p.extOrder), "")
	ext = append(ext, 0x00, 0x10)
	ext = append(ext, u16(len(alpn)+2)...)
	ext = append(ext, u16(len(alpn))...)
	ext = append(ext, alpn...)

	ext = append(ext, 0x00, 0x0d, 0, 0x14, 0, 0x12, 4, 3, 8, 4, 4, 1, 5, 3, 8, 5, 5, 1, 8, 6, 6, 1, 2, 1) // signature_algorithms

	var share []byte
	if p.grease {
		share = append(share, jarmGrease()...)
		share = append(share, 0, 1, 0)
	}
	share = append(share, 0, 0x1d, 0, 0x20)
	share = append(share, randomBytes(32)...)
	ext = append(ext, 0x00, 0x33)
	ext = append(ext, u16(len(share)+2)...)
	ext = append(ext, u16(len(share))...)
	ext = append(ext, share...)
	ext = append(ext, 0x00, 0x2d, 0, 2, 1, 1) // psk_key_exchange_modes

	if p.versions != "" {
		versions := []uint16{0x0301, 0x0302, 0x0303}
		if p.versions == "1.3" {
			versions = append(versions, 0x0304)
		}
		var v []byte
		if p.grease {
			v = append(v, jarmGrease()...)
		}
		for _, x := range jarmReorder(versions, p.extOrder) {
			v = binary.BigEndian.AppendUint16(v, x)
		}
		ext = append(ext, 0x00, 0x2b)
		ext = append(ext, u16(len(v)+1)...)
		ext = append(ext, byte(len(v)))
		ext = append(ext, v...)
	}

	body := binary.BigEndian.AppendUint16(nil, helloVersion)
	body = append(body, randomBytes(32)...)
	body = append(body, 32)
	body = append(body, randomBytes(32)...)
	body = append(body, u16(len(ciphers))...)
	body = append(body, ciphers...)
	body = append(body, 1, 0) // one compression method: null
	body = append(body, u16(len(ext))...)
	body = append(body, ext...)

	hs := append([]byte{1, 0}, u16(len(body))...)
	hs = append(hs, body...)
	rec := append([]byte{0x16}, u16(int(recordVersion))...)
	rec = append(rec, u16(len(hs))...)
	return append(rec, hs...)
}

// jarmRead turns a server's first bytes into "cipher|version|alpn|exts",
// or "|||" for an alert, a failure or anything that is not a ServerHello.
func jarmRead(data []byte) string {
	if len(data) < 44 || data[0] != 0x16 || data[5] != 2 {
		return "|||"
	}
	sid := int(data[43])
	if len(data) < sid+49 {
		return "|||"
	}
	cipher := hex.EncodeToString(data[sid+44 : sid+46])
	version := hex.EncodeToString(data[9:11])
	if data[sid+47] == 11 {
		return cipher + "|" + version + "||"
	}
	length := int(binary.BigEndian.Uint16(data[sid+47 : sid+49]))
	pos, end := sid+49, sid+49+length-1
	var types []string
	alpn := ""
	for pos < end && pos+4 <= len(data) {
		typ := data[pos : pos+2]
		l := int(binary.BigEndian.Uint16(data[pos+2 : pos+4]))
		if pos+4+l > len(data) {
			break
		}
		if typ[0] == 0 && typ[1] == 0x10 && l > 3 {
			alpn = string(data[pos+4+3 : pos+4+l])
		}
		types = append(types, hex.EncodeToString(typ))
		pos += 4 + l
	}
	return cipher + "|" + version + "|" + alpn + "|" + strings.Join(types, "-")
}

// jarm sends the ten probes to addr from 127.0.0.2 and returns the
// fingerprint and the raw answers.
func jarm(t *testing.T, addr string) (string, string) {
	t.Helper()
	host, _, _ := net.SplitHostPort(addr)
	var answers []string
	for _, p := range jarmProbes {
		answers = append(answers, jarmOne(addr, p.hello(host)))
	}
	raw := strings.Join(answers, ",")
	if strings.Count(raw, "|||") == len(jarmProbes) && strings.Trim(raw, "|,") == "" {
		return strings.Repeat("0", 62), raw
	}

	var fuzzy strings.Builder
	var tail strings.Builder
	for _, a := range answers {
		parts := strings.SplitN(a, "|", 4)
		fuzzy.WriteString(jarmCipherIndex(parts[0]))
		if parts[1] == "" {
			fuzzy.WriteString("0")
		} else {
			fuzzy.WriteByte("abcdef"[parts[1][3]-'0'])
		}
		tail.WriteString(parts[2])
		tail.WriteString(parts[3])
	}
	sum := sha256.Sum256([]byte(tail.String()))
	return fuzzy.String() + hex.EncodeToString(sum[:])[:32], raw
}

func jarmCipherIndex(cipher string) string {
	if cipher == "" {
		return "00"
	}
	n := len(jarmHashCiphers) + 1
	for i, c := range jarmHashCiphers {
		if fmt.Sprintf("%04x", c) == cipher {
			n = i + 1
			break
		}
	}
	return fmt.Sprintf("%02x", n)
}

// jarmOne sends one probe and reads what the server sends first, up to
// the 1484 bytes the reference client reads.
func jarmOne(addr string, hello []byte) string {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return "|||"
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write(hello); err != nil {
		return "|||"
	}
	buf := make([]byte, 1484)
	n, err := io.ReadAtLeast(conn, buf, 5)
	if err != nil {
		return "|||"
	}
	// Read on until the first record is whole, as one recv of the
	// reference client would return it from a local server.
	want := min(5+int(binary.BigEndian.Uint16(buf[3:5])), len(buf))
	for n < want {
		m, err := conn.Read(buf[n:])
		n += m
		if err != nil {
			break
		}
	}
	return jarmRead(buf[:n])
}

func TestJARMReorder(t *testing.T) {
	in := []int{1, 2, 3, 4, 5}
	for order, want := range map[string]string{
		"REVERSE": "[5 4 3 2 1]", "BOTTOM_HALF": "[4 5]", "TOP_HALF": "[3 2 1]", "MIDDLE_OUT": "[3 4 2 5 1]",
	} {
		if got := fmt.Sprint(jarmReorder(in, order)); got != want {
			t.Errorf("%s = %s, want %s", order, got, want)
		}
	}
	if got := fmt.Sprint(jarmReorder([]int{1, 2, 3, 4}, "MIDDLE_OUT")); got != "[3 2 4 1]" {
		t.Errorf("even MIDDLE_OUT = %s", got)
	}
}

// TestJARMSideBySide logs the JARM of the real nginx and Apache with
// the decoy's certificate beside the decoy's for each persona, for
// TLS.md. JARM of Go's crypto/tls is not expected to equal OpenSSL's.
func TestJARMSideBySide(t *testing.T) {
	cert, err := deriveCertificate([]byte("side"), tlsFor(nginx{}, "web01").profile)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath := writePEM(t, t.TempDir(), cert)

	results := map[string]string{}
	for _, persona := range []string{PersonaNginx, PersonaApache, PersonaIIS} {
		ts := startService(t, decoys.Config{Persona: persona, Decky: "web01", Seed: []byte("side"), Options: tlsOptions()})
		fp, raw := jarm(t, ts.addr)
		results["decoy "+persona] = fp
		t.Logf("decoy %s: JARM %s\n  %s", persona, fp, raw)
	}
	if bin, err := exec.LookPath("nginx"); err == nil {
		addr := startNginxTLS(t, bin, fmt.Sprintf(`ssl_certificate %s; ssl_certificate_key %s;
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3; ssl_prefer_server_ciphers on;`, certPath, keyPath))
		fp, raw := jarm(t, addr)
		results["nginx"] = fp
		t.Logf("real nginx: JARM %s\n  %s", fp, raw)
	}
	if bin, err := exec.LookPath("apache2"); err == nil {
		addr := startApache(t, bin, "web01", "r", fmt.Sprintf(
			"LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so\nLoadModule socache_shmcb_module /usr/lib/apache2/modules/mod_socache_shmcb.so\n"+
				"SSLEngine on\nSSLProtocol all -SSLv3\nSSLCertificateFile %s\nSSLCertificateKeyFile %s\n", certPath, keyPath))
		fp, raw := jarm(t, addr)
		results["apache"] = fp
		t.Logf("real apache: JARM %s\n  %s", fp, raw)
	}
	// The TLS 1.2 and 1.1 probes (the first 15 characters) get nginx's
	// answers since the decoy picks nginx's cipher and ALPN.
	if real, ok := results["nginx"]; ok && real[:15] != results["decoy "+PersonaNginx][:15] {
		t.Errorf("JARM TLS 1.2 part: decoy %s, nginx %s", results["decoy "+PersonaNginx][:15], real[:15])
	}
	for name, fp := range results {
		if len(fp) != 62 || fp == strings.Repeat("0", 62) {
			t.Errorf("%s: JARM %q, want 62 characters from a server that answered", name, fp)
		}
	}
}
