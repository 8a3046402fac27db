package tftp

import (
	"bytes"
	"testing"
	"time"

	"github.com/decnet/decnet/decoys"
)

type replyCase struct {
	name string
	req  string
	want string // "" means no reply
}

// atftpdReplies are the first replies of atftpd 0.8.0-3 (Debian 12,
// --retry-timeout 5, root and fixture owned by root, mode 0755 and 0644)
// to each request, captured on loopback with the fixture of firstReplies.
var atftpdReplies = []replyCase{
	{"missing file", "\x00\x01nope\x00octet\x00", "\x00\x05\x00\x01File not found\x00"},
	{"octet", "\x00\x01a.txt\x00octet\x00", "\x00\x03\x00\x01hello tftp\n"},
	{"netascii", "\x00\x01a.txt\x00netascii\x00", "\x00\x03\x00\x01hello tftp\r\n"},
	{"upper-case netascii", "\x00\x01a.txt\x00NETASCII\x00", "\x00\x03\x00\x01hello tftp\r\n"},
	{"mail mode served as octet", "\x00\x01a.txt\x00mail\x00", "\x00\x03\x00\x01hello tftp\n"},
	{"three options reordered", "\x00\x01a.txt\x00octet\x00blksize\x001024\x00tsize\x000\x00timeout\x003\x00", "\x00\x06tsize\x0011\x00timeout\x003\x00blksize\x001024\x00"},
	{"blksize too small", "\x00\x01a.txt\x00octet\x00blksize\x007\x00", "\x00\x05\x00\x08Failure to negotiate RFC2347 options\x00"},
	{"blksize too large", "\x00\x01a.txt\x00octet\x00blksize\x0099999\x00", "\x00\x05\x00\x08Failure to negotiate RFC2347 options\x00"},
	{"blksize largest", "\x00\x01a.txt\x00octet\x00blksize\x0065464\x00", "\x00\x06blksize\x0065464\x00"},
	{"blksize trailing junk", "\x00\x01a.txt\x00octet\x00blksize\x0010x\x00", "\x00\x06blksize\x0010\x00"},
	{"timeout zero", "\x00\x01a.txt\x00octet\x00timeout\x000\x00", "\x00\x05\x00\x08Failure to negotiate RFC2347 options\x00"},
	{"timeout 255", "\x00\x01a.txt\x00octet\x00timeout\x00255\x00", "\x00\x06timeout\x00255\x00"},
	{"timeout 256", "\x00\x01a.txt\x00octet\x00timeout\x00256\x00", "\x00\x05\x00\x08Failure to negotiate RFC2347 options\x00"},
	{"unknown option", "\x00\x01a.txt\x00octet\x00foo\x00bar\x00", "\x00\x03\x00\x01hello tftp\n"},
	{"option without value", "\x00\x01a.txt\x00octet\x00tsize\x00", "\x00\x03\x00\x01hello tftp\n"},
	{"write missing accepted", "\x00\x02up.txt\x00octet\x00", "\x00\x04\x00\x00"},
	{"error to port 69", "\x00\x05\x00\x01x\x00", "\x00\x05\x00\x04Illegal TFTP operation\x00"},
	{"ack to port 69", "\x00\x04\x00\x01", "\x00\x05\x00\x04Illegal TFTP operation\x00"},
	{"unknown opcode", "\x00\x09abc", "\x00\x05\x00\x04Illegal TFTP operation\x00"},
	{"one byte", "\x00", "\x00\x05\x00\x04Illegal TFTP operation\x00"},
	{"nmap DNS status probe", "\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00\x00\x00", "\x00\x05\x00\x04Illegal TFTP operation\x00"},
	{"no NUL after name", "\x00\x01a.txt", "\x00\x03\x00\x01"},
	{"no mode", "\x00\x01a.txt\x00", "\x00\x03\x00\x01hello tftp\n"},
	{"empty name", "\x00\x01\x00octet\x00", "\x00\x03\x00\x01"},
	{"absolute name", "\x00\x01/a.txt\x00octet\x00", "\x00\x03\x00\x01hello tftp\n"},
	{"directory", "\x00\x01dir\x00octet\x00", "\x00\x03\x00\x01"},
	{"netascii tsize", "\x00\x01a.txt\x00netascii\x00tsize\x000\x00", "\x00\x06tsize\x000\x00"},
	{"blksize 8", "\x00\x01a.txt\x00octet\x00blksize\x008\x00", "\x00\x06blksize\x008\x00"},
	{"option name lower-cased", "\x00\x01a.txt\x00octet\x00BLKSIZE\x00512\x00", "\x00\x06blksize\x00512\x00"},
	{"blksize not a number", "\x00\x01a.txt\x00octet\x00blksize\x00abc\x00", "\x00\x05\x00\x08Failure to negotiate RFC2347 options\x00"},
	{"tsize replaced by size", "\x00\x01a.txt\x00octet\x00tsize\x005\x00", "\x00\x06tsize\x0011\x00"},
	{"utimeout ignored", "\x00\x01a.txt\x00octet\x00utimeout\x00500000\x00", "\x00\x03\x00\x01hello tftp\n"},
	{"blksize2 ignored", "\x00\x01a.txt\x00octet\x00blksize2\x001000\x00", "\x00\x03\x00\x01hello tftp\n"},
	{"last duplicate wins", "\x00\x01a.txt\x00octet\x00blksize\x00600\x00blksize\x00700\x00", "\x00\x06blksize\x00700\x00"},
	{"rollover ignored", "\x00\x01a.txt\x00octet\x00rollover\x002\x00", "\x00\x03\x00\x01hello tftp\n"},
	{"leading space", "\x00\x01a.txt\x00octet\x00blksize\x00 600\x00", "\x00\x06blksize\x00600\x00"},
	{"negative blksize echoed", "\x00\x01a.txt\x00octet\x00blksize\x00-5\x00", "\x00\x06blksize\x00-5\x00"},
	{"negative tsize echoed", "\x00\x01a.txt\x00octet\x00tsize\x00-1\x00", "\x00\x06tsize\x00-1\x00"},
	{"overflow echoed", "\x00\x01a.txt\x00octet\x00blksize\x0099999999999999999999999\x00", "\x00\x06blksize\x0099999999999999999999999\x00"},
	{"empty string skipped", "\x00\x01a.txt\x00octet\x00\x00x\x00blksize\x00600\x00", "\x00\x06blksize\x00600\x00"},
	{"mode without NUL", "\x00\x01a.txt\x00octet", "\x00\x03\x00\x01"},
	{"missing file before options", "\x00\x01nope\x00octet\x00blksize\x007\x00", "\x00\x05\x00\x01File not found\x00"},
	{"windowsize", "\x00\x01a.txt\x00octet\x00windowsize\x004\x00", "\x00\x06windowsize\x004\x00"},
	{"windowsize zero", "\x00\x01a.txt\x00octet\x00windowsize\x000\x00", "\x00\x05\x00\x08Failure to negotiate RFC2347 options\x00"},
	{"windowsize largest", "\x00\x01a.txt\x00octet\x00windowsize\x0065535\x00", "\x00\x06windowsize\x0065535\x00"},
	{"windowsize too large", "\x00\x01a.txt\x00octet\x00windowsize\x0065536\x00", "\x00\x05\x00\x08Failure to negotiate RFC2347 options\x00"},
	{"fixed OACK order", "\x00\x01a.txt\x00octet\x00BLKSIZE\x00600\x00windowsize\x002\x00tsize\x000\x00", "\x00\x06tsize\x0011\x00blksize\x00600\x00windowsize\x002\x00"},
	{"write with options", "\x00\x02new2.txt\x00octet\x00tsize\x0010\x00blksize\x001024\x00", "\x00\x06tsize\x0010\x00blksize\x001024\x00"},
	{"nmap TFTP payload", "\x00\x01r7tftp.txt\x00octet\x00", "\x00\x05\x00\x01File not found\x00"},
}

// wdsReplies pin the WDS persona. The stray-opcode answer is the one
// nmap-service-probes matches as "Microsoft Windows Deployment Services
// tftpd"; the rest follows the server's documented behaviour: read-only,
// blksize, tsize, timeout and windowsize negotiated, out-of-range values
// lowered or ignored rather than refused.
var wdsReplies = []replyCase{
	{"missing file", "\x00\x01nope\x00octet\x00", "\x00\x05\x00\x01File not found.\x00"},
	{"octet", "\x00\x01a.txt\x00octet\x00", "\x00\x03\x00\x01hello tftp\n"},
	{"netascii", "\x00\x01a.txt\x00netascii\x00", "\x00\x03\x00\x01hello tftp\r\n"},
	{"mail mode", "\x00\x01a.txt\x00mail\x00", "\x00\x05\x00\x04Illegal operation error.\x00"},
	{"nmap DNS status probe", "\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00\x00\x00", "\x00\x05\x00\x04Illegal operation error.\x00"},
	{"ack to port 69", "\x00\x04\x00\x01", "\x00\x05\x00\x04Illegal operation error.\x00"},
	{"write refused", "\x00\x02up.txt\x00octet\x00", "\x00\x05\x00\x02Access violation.\x00"},
	{"write existing refused", "\x00\x02a.txt\x00octet\x00", "\x00\x05\x00\x02Access violation.\x00"},
	{"directory", "\x00\x01dir\x00octet\x00", "\x00\x05\x00\x01File not found.\x00"},
	{"options in request order", "\x00\x01a.txt\x00octet\x00windowsize\x004\x00blksize\x001456\x00tsize\x000\x00", "\x00\x06windowsize\x004\x00blksize\x001456\x00tsize\x0011\x00"},
	{"blksize lowered", "\x00\x01a.txt\x00octet\x00blksize\x0065464\x00", "\x00\x06blksize\x0016384\x00"},
	{"windowsize lowered", "\x00\x01a.txt\x00octet\x00windowsize\x00100\x00", "\x00\x06windowsize\x0064\x00"},
	{"blksize too small ignored", "\x00\x01a.txt\x00octet\x00blksize\x007\x00", "\x00\x03\x00\x01hello tftp\n"},
	{"netascii tsize ignored", "\x00\x01a.txt\x00netascii\x00tsize\x000\x00", "\x00\x03\x00\x01hello tftp\r\n"},
	{"name lower-cased", "\x00\x01a.txt\x00octet\x00TSIZE\x000\x00", "\x00\x06tsize\x0011\x00"},
}

// personaReplies maps every persona to its pinned first replies.
var personaReplies = map[string][]replyCase{
	PersonaTftpdHPA: firstReplies,
	PersonaAtftpd:   atftpdReplies,
	PersonaWDS:      wdsReplies,
}

func TestPersonaFirstReplies(t *testing.T) {
	for _, id := range Personas() {
		t.Run(id, func(t *testing.T) {
			ts := startService(t, decoys.Config{Persona: id, Options: map[string]string{OptCreate: "false"}, Limits: decoys.Limits{MaxConnsPerSource: 100}})
			if id == PersonaAtftpd {
				// atftpd's root is writable by the daemon.
				ts = startService(t, decoys.Config{Persona: id, Limits: decoys.Limits{MaxConnsPerSource: 100}})
			}
			addFixture(ts.svc)
			for _, tc := range personaReplies[id] {
				t.Run(tc.name, func(t *testing.T) {
					wait := 2 * time.Second
					if tc.want == "" {
						wait = 300 * time.Millisecond
					}
					got, _, from := exchange(t, "127.0.0.2", ts.addr, []byte(tc.req), wait)
					if string(got) != tc.want {
						t.Fatalf("reply %q, want %q", got, tc.want)
					}
					_, _, isRequest := personas[id].parse([]byte(tc.req))
					wantListener := !isRequest && personas[id].nonRequestFromListener
					if from != nil && (from.String() == ts.addr) != wantListener {
						t.Errorf("answer came from %s, the listening port is %s; want it from there: %v", from, ts.addr, wantListener)
					}
				})
			}
		})
	}
}

// TestWindowedRead reads a file with windowsize 4 as an RFC 7440 client
// does: four blocks, then one ACK; a duplicate ACK causes no resend.
func TestWindowedRead(t *testing.T) {
	for _, id := range []string{PersonaAtftpd, PersonaWDS} {
		t.Run(id, func(t *testing.T) {
			ts := startService(t, decoys.Config{Persona: id})
			content := bytes.Repeat([]byte("abcdefgh"), 64*9+3) // 9 full blocks and 24 bytes
			addFile(ts.svc, "/w.bin", text(string(content)))
			got, conn, from := exchange(t, "127.0.0.2", ts.addr, []byte("\x00\x01w.bin\x00octet\x00windowsize\x004\x00"), 2*time.Second)
			if string(got) != "\x00\x06windowsize\x004\x00" {
				t.Fatalf("OACK %q", got)
			}
			read := func() []byte {
				t.Helper()
				buf := make([]byte, 600)
				_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
				n, _, err := conn.ReadFromUDP(buf)
				if err != nil {
					t.Fatalf("read: %v", err)
				}
				return buf[:n]
			}
			send := func(p []byte) {
				t.Helper()
				if _, err := conn.WriteToUDP(p, from); err != nil {
					t.Fatal(err)
				}
			}
			send(ackPacket(0))
			var all []byte
			for block := uint16(1); block <= 10; block++ {
				pkt := read()
				if !isPacket(pkt, opDATA, block) {
					t.Fatalf("want block %d, got %q", block, pkt[:min(len(pkt), 8)])
				}
				all = append(all, pkt[4:]...)
				if block%4 == 0 {
					send(ackPacket(block))
					// A duplicate of the same ACK must not restart the
					// window: the next packet is block+1, once.
					send(ackPacket(block))
				}
			}
			send(ackPacket(10))
			if !bytes.Equal(all, content) {
				t.Errorf("read %d bytes, want %d", len(all), len(content))
			}
			_ = conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			if n, _, err := conn.ReadFromUDP(make([]byte, 600)); err == nil {
				t.Errorf("extra packet of %d bytes after the last ACK", n)
			}
		})
	}
}

// TestWindowedWrite uploads with windowsize 2 to atftpd: the server
// acknowledges every second block and the last one.
func TestWindowedWrite(t *testing.T) {
	ts := startService(t, decoys.Config{Persona: PersonaAtftpd})
	got, conn, from := exchange(t, "127.0.0.3", ts.addr, []byte("\x00\x02w.bin\x00octet\x00windowsize\x002\x00"), 2*time.Second)
	if string(got) != "\x00\x06windowsize\x002\x00" {
		t.Fatalf("OACK %q", got)
	}
	payload := bytes.Repeat([]byte{7}, 512*3+100)
	buf := make([]byte, 100)
	for block := uint16(1); block <= 4; block++ {
		i := int(block-1) * 512
		if _, err := conn.WriteToUDP(dataPacket(block, payload[i:min(i+512, len(payload))]), from); err != nil {
			t.Fatal(err)
		}
		if block%2 == 1 && block != 4 {
			continue
		}
		_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, _, err := conn.ReadFromUDP(buf)
		if err != nil || !isPacket(buf[:n], opACK, block) {
			t.Fatalf("after block %d: %q %v", block, buf[:n], err)
		}
	}
	capt := ts.rec.waitKind(t, decoys.KindFileCaptured, 1)[0].GetFileCaptured()
	if capt.GetSize() != uint64(len(payload)) || capt.GetName() != "w.bin" {
		t.Errorf("captured %d bytes as %q", capt.GetSize(), capt.GetName())
	}
}

// TestNonRequestRecorded checks that a stray opcode answered by a
// persona is recorded as a command.
func TestNonRequestRecorded(t *testing.T) {
	ts := startService(t, decoys.Config{Persona: PersonaWDS})
	if got, _, _ := exchange(t, "127.0.0.4", ts.addr, []byte("\x00\x09abc"), 2*time.Second); string(got) != "\x00\x05\x00\x04Illegal operation error.\x00" {
		t.Fatalf("reply %q", got)
	}
	cmd := ts.rec.waitKind(t, decoys.KindCommand, 1)[0]
	if line := cmd.GetCommand().GetLine(); line != "OPCODE 9" {
		t.Errorf("command %q, want OPCODE 9", line)
	}
}
