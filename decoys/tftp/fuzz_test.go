package tftp

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/decnet/decnet/decoys"
)

// FuzzParseRequest checks the request parser and the option negotiation
// on arbitrary datagrams: no panic, and every answer is a well-formed
// packet.
func FuzzParseRequest(f *testing.F) {
	for _, tc := range firstReplies {
		f.Add([]byte(tc.req))
	}
	f.Add([]byte("\x00\x02x\x00octet\x00tsize\x00100\x00blksize\x001024\x00"))
	f.Fuzz(func(t *testing.T, pkt []byte) {
		req, rerr, ok := parseRequest(pkt)
		if !ok {
			if rerr != nil {
				t.Fatal("a non-request got an error packet")
			}
			return
		}
		if rerr != nil {
			p := errorPacket(rerr.code, rerr.msg)
			if p[len(p)-1] != 0 || bytes.IndexByte(p[4:], 0) != len(p)-5 {
				t.Fatalf("error packet %q", p)
			}
			return
		}
		if req.mode != "octet" && req.mode != "netascii" {
			t.Fatalf("accepted mode %q", req.mode)
		}
		if len(req.options) > maxOptions {
			t.Fatalf("%d options kept", len(req.options))
		}
		neg, nerr := negotiate(req.options, req.write, 1234, req.mode == "octet")
		if nerr != nil {
			return
		}
		if neg.blksize < minBlksize || neg.blksize > maxBlksize {
			t.Fatalf("blksize %d", neg.blksize)
		}
		if neg.rexmt < minUtimeoutUs || neg.rexmt > maxTimeoutSec*1000000 {
			t.Fatalf("retransmission timeout %d us", neg.rexmt)
		}
		for _, o := range neg.oack {
			if _, err := strconv.ParseUint(o[1], 10, 64); err != nil {
				t.Fatalf("OACK value %q is not a number", o[1])
			}
		}
	})
}

// FuzzNegotiate checks every persona's request parser and option
// negotiation on arbitrary option lists: no panic, and a successful
// negotiation yields a usable block size, window and timeout and an OACK
// that only carries option names the persona knows.
func FuzzNegotiate(f *testing.F) {
	for _, cases := range personaReplies {
		for _, tc := range cases {
			f.Add([]byte(tc.req), false)
		}
	}
	f.Add([]byte("\x00\x02x\x00octet\x00windowsize\x0065535\x00blksize\x00-1\x00"), true)
	known := map[string]bool{"blksize": true, "blksize2": true, "tsize": true, "timeout": true, "utimeout": true, "rollover": true, "windowsize": true}
	f.Fuzz(func(t *testing.T, pkt []byte, write bool) {
		for _, id := range Personas() {
			p := personas[id]
			req, rerr, ok := p.parse(pkt)
			if !ok || rerr != nil {
				continue
			}
			neg, nerr := p.negotiate(req.options, write, 1234, req.mode == "octet")
			if nerr != nil {
				if nerr.code != errOptionNeg {
					t.Fatalf("%s: option error code %d", id, nerr.code)
				}
				continue
			}
			if neg.blksize < minBlksize || neg.blksize > maxBlksize {
				t.Fatalf("%s: blksize %d", id, neg.blksize)
			}
			if neg.window < 1 || neg.window > 65535 {
				t.Fatalf("%s: window %d", id, neg.window)
			}
			if neg.rexmt != 0 && (neg.rexmt < minUtimeoutUs || neg.rexmt > maxUtimeoutUs) {
				t.Fatalf("%s: retransmission timeout %d us", id, neg.rexmt)
			}
			for _, o := range neg.oack {
				if !known[strings.ToLower(o[0])] || strings.IndexByte(o[1], 0) >= 0 {
					t.Fatalf("%s: OACK option %q=%q", id, o[0], o[1])
				}
			}
		}
	})
}

// transferFuzzer is one decoy per persona shared by the runs of
// FuzzTransferPackets, with transfers cut short so that runs do not
// pile up waiting for retransmissions.
type transferFuzzer struct {
	addr map[string]string
}

func newTransferFuzzer(t testing.TB) *transferFuzzer {
	tf := &transferFuzzer{addr: map[string]string{}}
	for _, id := range Personas() {
		ts := startService(t, decoys.Config{
			Persona: id,
			Options: map[string]string{OptMaxUploadBytes: "4096"},
			Limits:  decoys.Limits{SessionTimeout: 300 * time.Millisecond, MaxConnsPerSource: 1 << 20, MaxConns: 1 << 20},
		})
		addFixture(ts.svc)
		tf.addr[id] = ts.addr
	}
	return tf
}

// FuzzTransferPackets starts a read or a write with every persona and
// sends the packets of the input to the transfer port: ACKs, DATA,
// ERROR and OACK in any shape. Every reply must be a well-formed DATA,
// ACK, OACK or ERROR packet, and the decoy must still answer the next
// request.
func FuzzTransferPackets(f *testing.F) {
	f.Add(false, []byte("\x00\x04\x00\x01"), []byte("\x00\x04\x00\x01"), []byte("\x00\x05\x00\x00x\x00"))
	f.Add(true, []byte("\x00\x03\x00\x01hello"), []byte("\x00\x03\x00\x01hello"), []byte("\x00\x04\x00\x00"))
	f.Add(false, []byte("\x00\x06blksize\x00512\x00"), []byte("\x00\x04"), []byte("\x00\x04\xff\xff"))
	f.Add(true, []byte("\x00\x03\x00\x02x"), []byte("\x00\x03"), []byte{})
	f.Add(false, []byte("\x00\x04\x00\x00"), []byte("\x00\x05"), []byte("\x00\x05\x00\x08"))
	tf := newTransferFuzzer(f)
	f.Fuzz(func(t *testing.T, write bool, a, b, c []byte) {
		for _, id := range Personas() {
			req := "\x00\x01a.txt\x00octet\x00windowsize\x002\x00"
			if write {
				req = "\x00\x02f.bin\x00octet\x00"
			}
			first, conn, from := exchange(t, "127.0.0.7", tf.addr[id], []byte(req), 2*time.Second)
			if from == nil {
				t.Fatalf("%s: no answer to %q", id, req)
			}
			checkPacket(t, id, first)
			for _, p := range [][]byte{a, b, c} {
				if _, err := conn.WriteToUDP(p, from); err != nil {
					t.Fatal(err)
				}
			}
			buf := make([]byte, 70000)
			for {
				_ = conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
				n, _, err := conn.ReadFromUDP(buf)
				if err != nil {
					break
				}
				checkPacket(t, id, buf[:n])
			}
			if got, _, _ := exchange(t, "127.0.0.8", tf.addr[id], []byte("\x00\x01nope\x00octet\x00"), 2*time.Second); len(got) < 4 || got[1] != opERROR {
				t.Fatalf("%s: decoy stopped answering: %q", id, got)
			}
		}
	})
}

func checkPacket(t *testing.T, id string, p []byte) {
	t.Helper()
	if len(p) < 2 || p[0] != 0 {
		t.Fatalf("%s: reply %q", id, p)
	}
	switch p[1] {
	case opDATA:
		if len(p) < 4 || len(p) > 4+maxBlksize {
			t.Fatalf("%s: DATA of %d bytes", id, len(p))
		}
	case opACK:
		if len(p) != 4 {
			t.Fatalf("%s: ACK %q", id, p)
		}
	case opOACK, opERROR:
		if p[len(p)-1] != 0 {
			t.Fatalf("%s: unterminated %q", id, p)
		}
	default:
		t.Fatalf("%s: opcode %d", id, p[1])
	}
}
