package mailbox

import (
	"bytes"
	"crypto/x509"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
)

var (
	seedA = []byte("mailbox-seed-A-0123456789")
	seedB = []byte("mailbox-seed-B-0123456789")
	day   = time.Date(2026, time.March, 4, 15, 0, 0, 0, time.UTC)
)

func TestGenerateDeterministic(t *testing.T) {
	opts := Options{User: "alice", Domain: "mail01", Now: day}
	a, b := Generate(seedA, opts), Generate(seedA, Options{User: "alice", Domain: "mail01", Now: day.Add(3 * time.Hour)})
	if len(a.Folders) != len(b.Folders) {
		t.Fatalf("folder counts %d, %d", len(a.Folders), len(b.Folders))
	}
	for i := range a.Folders {
		fa, fb := a.Folders[i], b.Folders[i]
		if fa.Name != fb.Name || fa.UIDValidity != fb.UIDValidity || len(fa.Messages) != len(fb.Messages) {
			t.Fatalf("folder %d differs: %s/%d vs %s/%d", i, fa.Name, fa.UIDValidity, fb.Name, fb.UIDValidity)
		}
		for j := range fa.Messages {
			if !bytes.Equal(fa.Messages[j].Raw, fb.Messages[j].Raw) {
				t.Errorf("%s message %d differs within one day", fa.Name, j)
			}
		}
	}

	other := Generate(seedB, opts)
	if bytes.Equal(a.Folder(Inbox).Messages[0].Raw, other.Folder(Inbox).Messages[0].Raw) {
		t.Error("two seeds gave the same first message")
	}
	if a.Folder(Inbox).UIDValidity == other.Folder(Inbox).UIDValidity {
		t.Error("two seeds gave the same UIDVALIDITY")
	}
}

func TestGenerateShape(t *testing.T) {
	box := Generate(seedA, Options{User: "Alice.Smith@example.org", Domain: "mail01", Now: day})
	var names []string
	for _, f := range box.Folders {
		names = append(names, f.Name)
	}
	if names[len(names)-1] != Inbox || len(names) != 5 {
		t.Errorf("folders %v, want five with INBOX last", names)
	}
	inbox := box.Folder("inbox")
	if inbox == nil || len(inbox.Messages) < 5 || len(inbox.Messages) > 8 {
		t.Fatalf("inbox %v", inbox)
	}
	if box.Folder(Drafts) == nil || len(box.Folder(Drafts).Messages) != 0 || box.Folder(Drafts).UIDNext() != 1 {
		t.Error("Drafts should exist and be empty")
	}
	if u := box.Folder(Sent).SpecialUse; u != `\Sent` {
		t.Errorf("Sent special use %q", u)
	}
	for i, m := range inbox.Messages {
		if m.UID != uint32(i+1) {
			t.Errorf("message %d has UID %d", i, m.UID)
		}
		if !bytes.HasSuffix(m.Raw, []byte("\r\n")) || bytes.Contains(bytes.ReplaceAll(m.Raw, []byte("\r\n"), nil), []byte("\n")) {
			t.Errorf("message %d has bare line feeds", i)
		}
		if got := strings.Count(string(m.Body()), "\r\n"); got != m.BodyLines {
			t.Errorf("message %d: %d body lines, counted %d", i, m.BodyLines, got)
		}
		if m.To[0].String() != "Alice Smith <alice.smith@mail01>" {
			t.Errorf("message %d to %q", i, m.To[0])
		}
		if !strings.HasPrefix(string(m.Raw[m.HeaderSize-4:m.HeaderSize]), "\r\n\r\n") {
			t.Errorf("message %d header size %d does not end the header", i, m.HeaderSize)
		}
		if m.Internal.After(day) || m.Internal.Before(day.Add(-40*24*time.Hour)) {
			t.Errorf("message %d delivered %v", i, m.Internal)
		}
		if i > 0 && !m.Internal.After(inbox.Messages[i-1].Internal) {
			t.Errorf("message %d not after message %d", i, i-1)
		}
	}
	if inbox.Messages[len(inbox.Messages)-1].Seen || !inbox.Messages[0].Seen {
		t.Error("want the oldest read and the newest unread")
	}
}

func TestHostName(t *testing.T) {
	for in, want := range map[string]string{"Mail01": "mail01", "mx.corp.example": "mx.corp.example", "": "localhost", "bad name": "localhost"} {
		if got := HostName(in); got != want {
			t.Errorf("HostName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCertificate(t *testing.T) {
	a, err := Certificate(seedA, "mail01")
	if err != nil {
		t.Fatal(err)
	}
	again, err := Certificate(seedA, "mail01")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Certificate[0], again.Certificate[0]) {
		t.Error("same seed gave two certificates")
	}
	b, err := Certificate(seedB, "mail01")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.Leaf.RawSubjectPublicKeyInfo, b.Leaf.RawSubjectPublicKeyInfo) || a.Leaf.SerialNumber.Cmp(b.Leaf.SerialNumber) == 0 {
		t.Error("two seeds share a key or serial")
	}
	leaf := a.Leaf
	if leaf.Subject.CommonName != "mail01" || leaf.Issuer.CommonName != "mail01" || len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != "mail01" {
		t.Errorf("names: subject %q issuer %q SAN %v", leaf.Subject, leaf.Issuer, leaf.DNSNames)
	}
	if leaf.IsCA || !leaf.BasicConstraintsValid || len(leaf.SubjectKeyId) != 20 || leaf.SignatureAlgorithm != x509.SHA256WithRSA {
		t.Errorf("extensions: CA %v basic %v SKI %x sig %v", leaf.IsCA, leaf.BasicConstraintsValid, leaf.SubjectKeyId, leaf.SignatureAlgorithm)
	}
	if got := leaf.NotAfter.Sub(leaf.NotBefore); got != certLifetime {
		t.Errorf("lifetime %v", got)
	}
	if n := leaf.PublicKey; n == nil {
		t.Fatal("no public key")
	}
	if err := leaf.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature); err != nil {
		t.Errorf("self signature: %v", err)
	}
	if _, err := Certificate([]byte("short"), "x"); err == nil {
		t.Error("short seed accepted")
	}
}

func TestPenaltySchedule(t *testing.T) {
	now := day
	p := NewPenalty(func() time.Time { return now })
	src := netip.MustParseAddr("192.0.2.7")
	var waits []time.Duration
	for i := 0; i < 6; i++ {
		d, points := p.Begin(src)
		waits = append(waits, d)
		p.Fail(src, points)
	}
	want := []time.Duration{0, 4 * time.Second, 8 * time.Second, 15 * time.Second, 15 * time.Second, 15 * time.Second}
	for i := range want {
		if waits[i] != want[i] {
			t.Errorf("wait %d = %v, want %v (all %v)", i, waits[i], want[i], waits)
		}
	}
	// Anvil drops a point per level whose wait has passed since the
	// last failure, from the top: within 15 s nothing drops, after
	// 15 s everything does.
	now = now.Add(10 * time.Second)
	if d, _ := p.Begin(src); d != 15*time.Second {
		t.Errorf("after 10 s: %v, want 15s", d)
	}
	now = now.Add(6 * time.Second)
	if d, _ := p.Begin(src); d != 0 {
		t.Errorf("after 16 s: %v, want 0", d)
	}
	p.Fail(src, 3)
	p.Reset(src)
	if d, _ := p.Begin(src); d != 0 {
		t.Errorf("after reset: %v", d)
	}
}

func TestDecodeBase64(t *testing.T) {
	cases := []struct {
		in   string
		want string
		ok   bool
	}{
		{"=", "", true},
		{"YWxpY2U=", "alice", true},
		{"YWxpY2U", "alice", true},
		{"!!!", "", false},
	}
	for _, tc := range cases {
		got, err := DecodeBase64([]byte(tc.in))
		if (err == nil) != tc.ok || string(got) != tc.want {
			t.Errorf("%q: %q %v", tc.in, got, err)
		}
	}
	if _, err := DecodePlain([]byte("YWxpY2U=")); !errors.Is(err, ErrBadPlain) {
		t.Errorf("PLAIN without NULs: %v", err)
	}
}
