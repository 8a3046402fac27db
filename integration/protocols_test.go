//go:build integration

package integration

import (
	"bytes"
	"context"
	be "encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/decnet/decnet/agent/config"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/internal/endpoints"
)

// ftpLogins are the accounts the FTP decoy of TestDevFileAndMailProtocols
// lets in, one per client. decnet dev accepts no FTP login by default, so
// the test writes the dev configuration with these before starting.
var ftpLogins = []struct{ user, pass string }{
	{"alice", "PassivePw1"},
	{"bob", "ActivePw2"},
	{"carol", "TnftpPw3"},
}

// TestDevFileAndMailProtocols attacks the FTP, POP3, IMAP and TFTP
// decoys of decnet dev, each client from its own loopback source, and
// finds every credential, upload and request through the Connect API.
func TestDevFileAndMailProtocols(t *testing.T) {
	lftp := requireTool(t, "lftp")
	tnftp := requireTool(t, "ftp")
	curl := requireTool(t, "curl")
	openssl := requireTool(t, "openssl")

	dataDir := t.TempDir()
	writeDevDecoys(t, dataDir)
	dev := startProcess(t, "decnet-dev", binary(t, "decnet"), "dev", "--data-dir", dataDir, "--api-listen", "127.0.0.1:0")
	ep := waitEndpoints(t, dev, dataDir, func(e endpoints.Endpoints) bool {
		for _, s := range []string{"ftp", "pop3", "imap", "tftp"} {
			if _, ok := e.FindDecoy(s); !ok {
				return false
			}
		}
		return e.API != ""
	})
	ftpDecoy, _ := ep.FindDecoy("ftp")
	pop3Decoy, _ := ep.FindDecoy("pop3")
	imapDecoy, _ := ep.FindDecoy("imap")
	tftpDecoy, _ := ep.FindDecoy("tftp")
	ftpHost, ftpPort := splitHostPort(t, ftpDecoy.Address)

	// FTP: lftp passive from .10, lftp active from .11, tnftp from .12,
	// each storing its own file.
	uploads := map[string][]byte{
		"passive.bin": bytes.Repeat([]byte("lftp passive upload\n"), 300),
		"active.bin":  bytes.Repeat([]byte("lftp active upload\n"), 200),
		"tnftp.bin":   bytes.Repeat([]byte("tnftp upload\n"), 100),
	}
	local := t.TempDir()
	for name, data := range uploads {
		if err := os.WriteFile(filepath.Join(local, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, run := range []struct {
		source, name string
		passive      bool
		login        int
	}{
		{"127.0.0.10", "passive.bin", true, 0},
		{"127.0.0.11", "active.bin", false, 1},
	} {
		script := fmt.Sprintf("set net:socket-bind-ipv4 %s; set ftp:passive-mode %t; set ftp:prefer-epsv false; "+
			"set net:max-retries 1; set net:timeout 10; set ftp:ssl-allow false; "+
			"open -u %s,%s -p %s %s; put %s -o %s; bye",
			run.source, run.passive, ftpLogins[run.login].user, ftpLogins[run.login].pass, ftpPort, ftpHost,
			filepath.Join(local, run.name), run.name)
		if out, err := exec.Command(lftp, "-c", script).CombinedOutput(); err != nil {
			t.Fatalf("lftp from %s (passive %t): %v: %s", run.source, run.passive, err, out)
		}
	}
	cmd := exec.Command(tnftp, "-n", "-v", "-s", "127.0.0.12", ftpHost, ftpPort)
	cmd.Stdin = strings.NewReader(fmt.Sprintf("user %s %s\nbinary\nput %s tnftp.bin\nquit\n",
		ftpLogins[2].user, ftpLogins[2].pass, filepath.Join(local, "tnftp.bin")))
	if out, err := cmd.CombinedOutput(); err != nil || !bytes.Contains(out, []byte("226")) {
		t.Fatalf("tnftp upload: want 226, got %v: %s", err, out)
	}

	// POP3 and IMAP over STARTTLS from .13 and .14: the dev decoys offer
	// SASL PLAIN only, which curl prefers to USER/PASS and LOGIN. In clear
	// text from .15 they offer no mechanism (Dovecot's
	// disable_plaintext_auth), so curl sends no credential at all.
	pop3URL := "pop3://" + pop3Decoy.Address + "/"
	imapURL := "imap://" + imapDecoy.Address + "/INBOX"
	for _, run := range []struct{ source, user, pass, url string }{
		{"127.0.0.13", "dave", "Pop3Pw!", pop3URL},
		{"127.0.0.14", "erin", "ImapPw!", imapURL},
	} {
		out, err := exec.Command(curl, "-sS", "--interface", run.source, "--ssl-reqd", "-k", "--max-time", "20",
			"-u", run.user+":"+run.pass, run.url).CombinedOutput()
		if err == nil || !bytes.Contains(out, []byte("Login denied")) {
			t.Fatalf("curl %s over STARTTLS: want login denied, got %v: %s", run.url, err, out)
		}
	}
	for _, url := range []string{pop3URL, imapURL} {
		if out, err := exec.Command(curl, "-sS", "--interface", "127.0.0.15", "--max-time", "20",
			"-u", "mallory:cleartext", url).CombinedOutput(); err == nil {
			t.Fatalf("curl %s in clear text succeeded: %s", url, out)
		}
	}

	// IMAP LOGIN from .17 and POP3 USER/PASS from .18, over STARTTLS, sent
	// by openssl s_client. curl prefers the SASL PLAIN the decoys offer:
	// its AUTH=+LOGIN option for IMAP needs curl 8.2.0 (Debian 12 has
	// 7.88.1), and for POP3 it can force only APOP.
	for _, run := range []struct{ source, starttls, address, script, want string }{
		{"127.0.0.17", "imap", imapDecoy.Address,
			"a1 LOGIN \"frank\" \"ImapLogin!\"\r\na2 LOGOUT\r\n", "a1 NO [AUTHENTICATIONFAILED] Authentication failed."},
		{"127.0.0.18", "pop3", pop3Decoy.Address,
			"USER grace\r\nPASS Pop3User!\r\nQUIT\r\n", "-ERR [AUTH] Authentication failed."},
	} {
		out := sClient(t, openssl, run.source, run.starttls, run.address, run.script)
		if !strings.Contains(out, run.want) {
			t.Fatalf("openssl s_client %s from %s: want %q, got:\n%s", run.starttls, run.source, run.want, out)
		}
	}

	// TFTP from .16: tftp-hpa cannot bind a source address, so a small
	// client here speaks RFC 1350 from a bound socket.
	firmware := bytes.Repeat([]byte("0123456789abcdef"), 100) // 1600 bytes: three full blocks and a short one
	tftpWrite(t, tftpDecoy.Address, "127.0.0.16", "firmware.bin", firmware)
	// The decoy seeds pxelinux.0, the boot loader that PXE clients
	// request. Reading the upload back would race with the decoy, which
	// keeps an upload only after it acknowledges the last block.
	bootLoader := tftpRead(t, tftpDecoy.Address, "127.0.0.16", "pxelinux.0")
	if len(bootLoader) < 512 {
		t.Errorf("tftp read of pxelinux.0 returned %d bytes, want a seeded file of several blocks", len(bootLoader))
	}

	password, err := os.ReadFile(filepath.Join(dataDir, "admin-password"))
	if err != nil {
		t.Fatal(err)
	}
	api := newAPIClient(ep.API, nil)
	api.login(t, "admin", strings.TrimSpace(string(password)))
	ctx := context.Background()

	want := []wantCredential{
		{source: "127.0.0.10", service: "ftp", principal: "alice", secretKind: "plaintext", mechanism: "ftp_pass", secret: []byte("PassivePw1")},
		{source: "127.0.0.11", service: "ftp", principal: "bob", secretKind: "plaintext", mechanism: "ftp_pass", secret: []byte("ActivePw2")},
		{source: "127.0.0.12", service: "ftp", principal: "carol", secretKind: "plaintext", mechanism: "ftp_pass", secret: []byte("TnftpPw3")},
		{source: "127.0.0.13", service: "pop3", principal: "dave", secretKind: "plaintext", mechanism: "sasl_plain", secret: []byte("Pop3Pw!")},
		{source: "127.0.0.14", service: "imap", principal: "erin", secretKind: "plaintext", mechanism: "sasl_plain", secret: []byte("ImapPw!")},
		{source: "127.0.0.17", service: "imap", principal: "frank", secretKind: "plaintext", mechanism: "imap_login", secret: []byte("ImapLogin!")},
		{source: "127.0.0.18", service: "pop3", principal: "grace", secretKind: "plaintext", mechanism: "pop3_pass", secret: []byte("Pop3User!")},
	}
	var creds []*apiv1.Credential
	eventually(t, 30*time.Second, func() error {
		if creds, err = api.credentials(ctx); err != nil {
			return err
		}
		for _, w := range want {
			if n := countMatches(creds, w); n != 1 {
				return fmt.Errorf("credential %s/%s for %q from %s stored %d times, want 1", w.service, w.mechanism, w.principal, w.source, n)
			}
		}
		return nil
	})
	if len(creds) != len(want) {
		t.Errorf("%d credentials stored, want %d (none from the clear-text curl)", len(creds), len(want))
	}

	attackers, err := api.attackers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bySource := attackerBySource(t, attackers, "127.0.0.10", "127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.14", "127.0.0.15", "127.0.0.16", "127.0.0.17", "127.0.0.18")
	for _, c := range creds {
		if c.GetAttackerId() != bySource[c.GetSourceAddress()] {
			t.Errorf("credential from %s has attacker %s, want %s", c.GetSourceAddress(), c.GetAttackerId(), bySource[c.GetSourceAddress()])
		}
		if c.GetDecky() != ftpDecoy.Decky {
			t.Errorf("credential from %s on decky %q, want %q", c.GetSourceAddress(), c.GetDecky(), ftpDecoy.Decky)
		}
		wantOutcome := "AUTH_OUTCOME_REJECTED"
		if c.GetService() == "ftp" {
			wantOutcome = "AUTH_OUTCOME_ACCEPTED"
		}
		if c.GetOutcome().String() != wantOutcome {
			t.Errorf("credential %s/%s from %s: outcome %v, want %s", c.GetService(), c.GetPrincipal(), c.GetSourceAddress(), c.GetOutcome(), wantOutcome)
		}
	}

	// Every upload arrives as file.captured with its hash and size, and
	// the TFTP read arrives as file.requested.
	type capture struct{ source, service, name string }
	wantCaptures := map[capture][]byte{
		{"127.0.0.10", "ftp", "passive.bin"}:   uploads["passive.bin"],
		{"127.0.0.11", "ftp", "active.bin"}:    uploads["active.bin"],
		{"127.0.0.12", "ftp", "tnftp.bin"}:     uploads["tnftp.bin"],
		{"127.0.0.16", "tftp", "firmware.bin"}: firmware,
	}
	var events []*apiv1.StoredEvent
	eventually(t, 30*time.Second, func() error {
		if events, err = api.events(ctx); err != nil {
			return err
		}
		found := 0
		for _, e := range events {
			fc := e.GetEvent().GetFileCaptured()
			if fc == nil {
				continue
			}
			key := capture{e.GetEvent().GetSource().GetAddress(), e.GetEvent().GetService(), baseName(fc.GetName())}
			if _, ok := wantCaptures[key]; ok {
				found++
			}
		}
		if found != len(wantCaptures) {
			return fmt.Errorf("%d of %d uploads captured", found, len(wantCaptures))
		}
		return nil
	})
	requested := 0
	for _, e := range events {
		ev := e.GetEvent()
		if ev.GetDecky() != tftpDecoy.Decky {
			t.Errorf("event %s %s on decky %q, want %q", ev.GetService(), ev.GetKind(), ev.GetDecky(), tftpDecoy.Decky)
		}
		if src := ev.GetSource().GetAddress(); e.GetAttackerId() != bySource[src] {
			t.Errorf("event %s %s from %s has attacker %s, want %s", ev.GetService(), ev.GetKind(), src, e.GetAttackerId(), bySource[src])
		}
		if fc := ev.GetFileCaptured(); fc != nil {
			key := capture{ev.GetSource().GetAddress(), ev.GetService(), baseName(fc.GetName())}
			data, ok := wantCaptures[key]
			if !ok {
				t.Errorf("unexpected capture %+v", key)
				continue
			}
			if hex.EncodeToString(fc.GetSha256()) != sha256Hex(data) || fc.GetSize() != uint64(len(data)) || fc.GetTruncated() || !fc.GetStored() {
				t.Errorf("capture %+v: sha256 %x size %d truncated %t stored %t, want %s size %d stored", key,
					fc.GetSha256(), fc.GetSize(), fc.GetTruncated(), fc.GetStored(), sha256Hex(data), len(data))
			}
			if ev.GetKind() != "file.captured" {
				t.Errorf("capture %+v has kind %q", key, ev.GetKind())
			}
		}
		if fr := ev.GetFileRequested(); fr != nil {
			requested++
			if ev.GetKind() != "file.requested" || ev.GetService() != "tftp" || ev.GetSource().GetAddress() != "127.0.0.16" ||
				fr.GetName() != "pxelinux.0" || fr.GetChannel() != "tftp_read" || fr.GetMode() != "octet" ||
				!fr.GetServed() || fr.GetSize() != uint64(len(bootLoader)) {
				t.Errorf("file request %s from %s: %v", ev.GetKind(), ev.GetSource().GetAddress(), fr)
			}
		}
	}
	if requested != 1 {
		t.Errorf("%d file.requested events, want 1", requested)
	}

	// The recorded FTP commands show each client's data mode. PASS is
	// never among them because its secret belongs in the credential.
	verbs := make(map[string]map[string]bool)
	for _, e := range events {
		ev := e.GetEvent()
		if c := ev.GetCommand(); c != nil && ev.GetService() == "ftp" {
			src := ev.GetSource().GetAddress()
			if verbs[src] == nil {
				verbs[src] = make(map[string]bool)
			}
			verb, _, _ := strings.Cut(c.GetLine(), " ")
			verbs[src][strings.ToUpper(verb)] = true
		}
	}
	for src, v := range verbs {
		if v["PASS"] {
			t.Errorf("PASS from %s recorded as a command", src)
		}
	}
	passive := func(v map[string]bool) bool { return v["PASV"] || v["EPSV"] }
	active := func(v map[string]bool) bool { return v["PORT"] || v["EPRT"] }
	if v := verbs["127.0.0.10"]; !v["STOR"] || !passive(v) || active(v) {
		t.Errorf("passive lftp sent %v, want PASV or EPSV and STOR", v)
	}
	if v := verbs["127.0.0.11"]; !v["STOR"] || !active(v) || passive(v) {
		t.Errorf("active lftp sent %v, want PORT or EPRT and STOR", v)
	}
	if v := verbs["127.0.0.12"]; !v["USER"] || !v["STOR"] {
		t.Errorf("tnftp sent %v, want USER and STOR", v)
	}
}

// baseName drops a leading directory from a captured name: FTP reports the
// absolute path in the login's tree.
func baseName(name string) string {
	return name[strings.LastIndex(name, "/")+1:]
}

// writeDevDecoys writes the configuration decnet dev would create, with
// FTP logins accepted for ftpLogins.
func writeDevDecoys(t *testing.T, dataDir string) {
	t.Helper()
	decoys, err := config.DevDefault()
	if err != nil {
		t.Fatal(err)
	}
	pairs := make([]string, 0, len(ftpLogins))
	for _, l := range ftpLogins {
		pairs = append(pairs, l.user+":"+l.pass)
	}
	found := false
	for i, s := range decoys.Deckies[0].Services {
		if s.Name == "ftp" {
			decoys.Deckies[0].Services[i].Options = map[string]string{"login": "list", "credentials": strings.Join(pairs, ",")}
			found = true
		}
	}
	if !found {
		t.Fatal("the dev configuration has no ftp service")
	}
	data, err := decoys.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, "decoys.yaml"), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// attackerBySource maps each source to its one attacker and fails when
// a source has none or several, or two sources share one.
func attackerBySource(t *testing.T, attackers []*apiv1.Attacker, sources ...string) map[string]string {
	t.Helper()
	ids := make(map[string][]string)
	for _, a := range attackers {
		for _, addr := range a.GetAddresses() {
			ids[addr] = append(ids[addr], a.GetId())
		}
	}
	bySource := make(map[string]string)
	seen := make(map[string]string)
	for _, s := range sources {
		if len(ids[s]) != 1 {
			t.Fatalf("attackers with address %s: %v, want exactly one", s, ids[s])
		}
		id := ids[s][0]
		if other, ok := seen[id]; ok {
			t.Errorf("sources %s and %s share attacker %s", other, s, id)
		}
		seen[id] = s
		bySource[s] = id
	}
	return bySource
}

// TFTP opcodes (RFC 1350).
const (
	tftpRRQ  = 1
	tftpWRQ  = 2
	tftpDATA = 3
	tftpACK  = 4
)

// tftpDial opens a UDP socket bound to source and sends a request to
// addr. Replies come from the transfer's own port, so the socket stays
// unconnected.
func tftpDial(t *testing.T, addr, source string, op uint16, name string) (*net.UDPConn, *net.UDPAddr) {
	t.Helper()
	server, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(source)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	req := be.BigEndian.AppendUint16(nil, op)
	req = append(append(append(req, name...), 0), "octet\x00"...)
	if _, err := conn.WriteToUDP(req, server); err != nil {
		t.Fatal(err)
	}
	return conn, server
}

// tftpReceive reads one packet, fails unless its opcode is op, and
// returns it with the transfer's address.
func tftpReceive(t *testing.T, conn *net.UDPConn, op uint16) ([]byte, *net.UDPAddr) {
	t.Helper()
	buf := make([]byte, 1024)
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, from, err := conn.ReadFromUDP(buf)
	if err != nil {
		t.Fatalf("tftp: waiting for opcode %d: %v", op, err)
	}
	if n < 4 {
		t.Fatalf("tftp: short packet %x", buf[:n])
	}
	if got := be.BigEndian.Uint16(buf); got != op {
		t.Fatalf("tftp: opcode %d (%q), want %d", got, buf[4:n], op)
	}
	return buf[:n], from
}

func tftpWrite(t *testing.T, addr, source, name string, data []byte) {
	t.Helper()
	conn, _ := tftpDial(t, addr, source, tftpWRQ, name)
	ack, tid := tftpReceive(t, conn, tftpACK)
	if block := be.BigEndian.Uint16(ack[2:]); block != 0 {
		t.Fatalf("tftp write: first ACK for block %d, want 0", block)
	}
	for block := uint16(1); ; block++ {
		start := int(block-1) * 512
		chunk := data[start:min(start+512, len(data))]
		pkt := be.BigEndian.AppendUint16(nil, tftpDATA)
		pkt = append(be.BigEndian.AppendUint16(pkt, block), chunk...)
		if _, err := conn.WriteToUDP(pkt, tid); err != nil {
			t.Fatal(err)
		}
		ack, _ := tftpReceive(t, conn, tftpACK)
		if got := be.BigEndian.Uint16(ack[2:]); got != block {
			t.Fatalf("tftp write: ACK for block %d, want %d", got, block)
		}
		if len(chunk) < 512 {
			return
		}
	}
}

func tftpRead(t *testing.T, addr, source, name string) []byte {
	t.Helper()
	conn, _ := tftpDial(t, addr, source, tftpRRQ, name)
	var out []byte
	for block := uint16(1); ; block++ {
		pkt, tid := tftpReceive(t, conn, tftpDATA)
		if got := be.BigEndian.Uint16(pkt[2:]); got != block {
			t.Fatalf("tftp read: DATA block %d, want %d", got, block)
		}
		out = append(out, pkt[4:]...)
		ack := be.BigEndian.AppendUint16(be.BigEndian.AppendUint16(nil, tftpACK), block)
		if _, err := conn.WriteToUDP(ack, tid); err != nil {
			t.Fatal(err)
		}
		if len(pkt)-4 < 512 {
			return out
		}
	}
}

// sClient opens a STARTTLS session with openssl s_client from source,
// sends script once TLS is up and returns what the server sent. The
// script must end the session, so that s_client exits.
func sClient(t *testing.T, openssl, source, starttls, address, script string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, openssl, "s_client", "-quiet", "-starttls", starttls,
		"-bind", source+":0", "-connect", address)
	cmd.Stdin = strings.NewReader(script)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("openssl s_client %s from %s: %v: %s", starttls, source, err, out)
	}
	return string(out)
}
