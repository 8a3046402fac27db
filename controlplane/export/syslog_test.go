package export

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/decnet/decnet/internal/netguard"
)

func TestSyslogMessage(t *testing.T) {
	cfg := SyslogConfig{Format: FormatCEF, Hostname: "cp-1", AppName: "decnet", Facility: facilityLocal0, SDID: defaultSDID}
	got, err := testFormatter.syslogMessage(cfg, record(authEvent("id-1")))
	if err != nil {
		t.Fatal(err)
	}
	// local0 (16) * 8 + notice (5) for CEF severity 5.
	want := `<133>1 2026-03-01T12:34:56.789000Z cp-1 decnet - event.auth.attempt ` +
		`[decnet@32473 id="id-1" topic="event.auth.attempt" attacker="0190a8c4-0000-7000-8000-00000000a77c" ` +
		`session="sess-1" decky="web-01" service="ssh" src="127.0.0.2" spt="51515" dst="127.0.0.1" dpt="2222"] CEF:0|DECNET|`
	if !strings.HasPrefix(string(got), want) {
		t.Errorf("message\n got %s\nwant prefix %s", got, want)
	}
}

func TestSyslogEscapesSDValues(t *testing.T) {
	se := authEvent("id-1")
	se.Event.Decky = `we"b]\01`
	got, err := testFormatter.syslogMessage(SyslogConfig{Format: FormatJSON, Hostname: "h o", AppName: "a", Facility: 1, SDID: "x@1"}, record(se))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), `decky="we\"b\]\\01"`) {
		t.Errorf("sd value not escaped: %s", got)
	}
	if !strings.Contains(string(got), " h_o a - ") {
		t.Errorf("hostname not sanitised: %s", got)
	}
}

// readFrames parses RFC 6587 octet-counted frames until EOF.
func readFrames(t *testing.T, r io.Reader) []string {
	t.Helper()
	br := bufio.NewReader(r)
	var out []string
	for {
		n, err := br.ReadString(' ')
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Errorf("read frame length: %v", err)
			return out
		}
		size, err := strconv.Atoi(strings.TrimSuffix(n, " "))
		if err != nil || size <= 0 {
			t.Errorf("bad frame length %q", n)
			return out
		}
		msg := make([]byte, size)
		if _, err := io.ReadFull(br, msg); err != nil {
			t.Errorf("read frame: %v", err)
			return out
		}
		out = append(out, string(msg))
	}
}

func TestSyslogSinkOctetCounting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	frames := make(chan []string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			frames <- nil
			return
		}
		defer c.Close()
		frames <- readFrames(t, c)
	}()

	s, err := newSyslogSink(SyslogConfig{Address: ln.Addr().String(), Hostname: "cp-1"}, loopbackGuard(), testFormatter)
	if err != nil {
		t.Fatal(err)
	}
	batch := []Record{record(authEvent("id-1")), record(commandEvent("id-2", "cat /etc/shadow\nexit"))}
	if retry, err := s.Send(context.Background(), batch); err != nil || retry != nil {
		t.Fatalf("send: %v, retry %d", err, len(retry))
	}
	s.Close()

	got := <-frames
	if len(got) != 2 {
		t.Fatalf("got %d frames, want 2", len(got))
	}
	if !strings.Contains(got[0], ` id="id-1" `) || !strings.HasSuffix(got[0], "}") {
		t.Errorf("frame 0: %s", got[0])
	}
	if !strings.Contains(got[1], `"process":{"command_line":"cat /etc/shadow\nexit"}`) {
		t.Errorf("frame 1 body: %s", got[1])
	}
}

func TestSyslogSinkRefusesUnguardedAddress(t *testing.T) {
	s, err := newSyslogSink(SyslogConfig{Address: "127.0.0.1:1"}, &netguard.Guard{}, testFormatter)
	if err != nil {
		t.Fatal(err)
	}
	retry, err := s.Send(context.Background(), []Record{record(authEvent("id-1"))})
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("send to a refused address: %v", err)
	}
	if len(retry) != 1 {
		t.Errorf("retry %d records, want 1", len(retry))
	}
}

func TestSyslogConfigValidation(t *testing.T) {
	for name, cfg := range map[string]SyslogConfig{
		"facility": {Address: "127.0.0.1:1", Facility: 24},
		"sdid":     {Address: "127.0.0.1:1", SDID: "bad id"},
		"format":   {Address: "127.0.0.1:1", Format: "xml"},
		"address":  {Address: "nohostport"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := newSyslogSink(cfg, loopbackGuard(), testFormatter); err == nil {
				t.Error("invalid config accepted")
			}
		})
	}
	if _, err := newSyslogSink(SyslogConfig{Address: "127.0.0.1:1"}, nil, testFormatter); err == nil {
		t.Error("config without a guard accepted")
	}
}

// TestSyslogStalledReceiverNeverBlocksOffer points an output at a
// receiver that accepts and never reads. Once the socket buffers fill,
// the sink blocks in its write; Offer keeps returning, the surplus is
// counted as dropped, and cancelling Run interrupts the blocked write.
func TestSyslogStalledReceiverNeverBlocksOffer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		t.Cleanup(func() { c.Close() })
	}()

	e, err := New(Config{
		Outputs: []OutputConfig{{Name: "stalled", QueueSize: 16, BatchSize: 64, Syslog: &SyslogConfig{Address: ln.Addr().String()}}},
		Guard:   loopbackGuard(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()

	// About 70 MB of messages: far more than loopback socket buffers
	// hold, so most must be dropped whatever the scheduling.
	rec := record(commandEvent("id", strings.Repeat("x", 400)))
	const offered = 100_000
	for range offered {
		e.Offer(rec)
	}
	st := e.Outputs()[0].Stats()
	if st.Dropped == 0 || st.Dropped > offered {
		t.Errorf("dropped %d of %d", st.Dropped, offered)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
}
