package devmode

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/agent/config"
	"github.com/decnet/decnet/internal/endpoints"
)

// freeAddress returns a loopback address that was free a moment ago.
func freeAddress(t *testing.T, network string) string {
	t.Helper()
	if network == "udp" {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := pc.LocalAddr().String()
		_ = pc.Close()
		return addr
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func TestReusePorts(t *testing.T) {
	sshAddr := freeAddress(t, "tcp")
	tftpAddr := freeAddress(t, "udp")
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()

	cfg := &config.Decoys{Deckies: []config.Decky{{Name: "dev-01", Services: []config.Service{
		{Name: "ssh", Listen: "127.0.0.1:0"},
		{Name: "tftp", Listen: "127.0.0.1:0"},
		{Name: "http", Listen: "127.0.0.1:0"},
		{Name: "smtp", Listen: "127.0.0.1:2525"},
		{Name: "ftp", Listen: "127.0.0.1:0"},
		{Name: "pop3", Listen: "[::1]:0"},
	}}}}
	recorded := map[string]endpoints.Decoy{}
	for _, d := range []endpoints.Decoy{
		{Decky: "dev-01", Service: "ssh", Address: sshAddr},
		{Decky: "dev-01", Service: "tftp", Address: tftpAddr, Transport: "udp"},
		{Decky: "dev-01", Service: "http", Address: taken.Addr().String()},
		{Decky: "dev-01", Service: "smtp", Address: freeAddress(t, "tcp")},
		{Decky: "dev-01", Service: "pop3", Address: freeAddress(t, "tcp")},
	} {
		recorded[portKey(d.Decky, d.Service)] = d
	}

	var logs bytes.Buffer
	reusePorts(cfg, recorded, zerolog.New(&logs))

	want := map[string]string{
		"ssh":  sshAddr,          // free: reused
		"tftp": tftpAddr,         // free UDP port: reused
		"http": "127.0.0.1:0",    // taken: a new port
		"smtp": "127.0.0.1:2525", // a fixed port in the configuration wins
		"ftp":  "127.0.0.1:0",    // not recorded
		"pop3": "[::1]:0",        // recorded on another host
	}
	for _, s := range cfg.Deckies[0].Services {
		if s.Listen != want[s.Name] {
			t.Errorf("%s listens on %s, want %s", s.Name, s.Listen, want[s.Name])
		}
	}
	if got := strings.Count(logs.String(), "decoy port of the last run is taken"); got != 1 {
		t.Errorf("logged %d taken ports, want 1:\n%s", got, logs.String())
	}
	if !strings.Contains(logs.String(), `"service":"http"`) || !strings.Contains(logs.String(), taken.Addr().String()) {
		t.Errorf("log does not name the http decoy and its old address:\n%s", logs.String())
	}
}

func TestLoadPortsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if got := loadPorts(dir, zerolog.Nop()); len(got) != 0 {
		t.Fatalf("first run: recorded %v, want none", got)
	}

	running := []endpoints.Decoy{
		{Decky: "dev-01", Service: "ssh", Address: "127.0.0.1:40022"},
		{Decky: "dev-01", Service: "tftp", Address: "127.0.0.1:40069", Transport: "udp"},
	}
	if err := savePorts(dir, running); err != nil {
		t.Fatal(err)
	}
	got := loadPorts(dir, zerolog.Nop())
	if len(got) != 2 || got["dev-01/ssh"].Address != "127.0.0.1:40022" || got["dev-01/tftp"].Transport != "udp" {
		t.Fatalf("recorded %v, want the two decoys saved", got)
	}

	if err := os.WriteFile(filepath.Join(dir, portsFileName), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	if got := loadPorts(dir, zerolog.New(&logs)); len(got) != 0 {
		t.Fatalf("corrupt file: recorded %v, want none", got)
	}
	if !strings.Contains(logs.String(), "decoy ports of the last run unreadable") {
		t.Errorf("corrupt file not logged:\n%s", logs.String())
	}
}
