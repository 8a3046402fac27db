package tftp

import (
	"bytes"
	"crypto/sha256"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/decnet/decnet/decoys"
)

// firstReplies are the first replies of in.tftpd from tftpd-hpa
// 5.2+20150808-1.4 (Debian 12, --secure) to each request, captured on
// loopback with a.txt holding "hello tftp\n" and dir a directory.
var firstReplies = []replyCase{
	{"missing file", "\x00\x01nope\x00octet\x00", "\x00\x05\x00\x01File not found\x00"},
	{"octet", "\x00\x01a.txt\x00octet\x00", "\x00\x03\x00\x01hello tftp\n"},
	{"netascii", "\x00\x01a.txt\x00netascii\x00", "\x00\x03\x00\x01hello tftp\r\n"},
	{"mail mode", "\x00\x01a.txt\x00mail\x00", "\x00\x05\x00\x04Unknown mode\x00"},
	{"upper-case mode", "\x00\x01a.txt\x00OCTET\x00", "\x00\x03\x00\x01hello tftp\n"},
	{"three options", "\x00\x01a.txt\x00octet\x00blksize\x001024\x00tsize\x000\x00timeout\x003\x00", "\x00\x06blksize\x001024\x00tsize\x0011\x00timeout\x003\x00"},
	{"blksize too small", "\x00\x01a.txt\x00octet\x00blksize\x007\x00", "\x00\x05\x00\x08Unsupported option(s) requested\x00"},
	{"blksize too large", "\x00\x01a.txt\x00octet\x00blksize\x0099999\x00", "\x00\x06blksize\x0065464\x00"},
	{"timeout zero", "\x00\x01a.txt\x00octet\x00timeout\x000\x00", "\x00\x05\x00\x08Unsupported option(s) requested\x00"},
	{"timeout 300", "\x00\x01a.txt\x00octet\x00timeout\x00300\x00", "\x00\x05\x00\x08Unsupported option(s) requested\x00"},
	{"unknown option", "\x00\x01a.txt\x00octet\x00foo\x00bar\x00", "\x00\x03\x00\x01hello tftp\n"},
	{"option without value", "\x00\x01a.txt\x00octet\x00tsize\x00", "\x00\x03\x00\x01hello tftp\n"},
	{"write missing", "\x00\x02up.txt\x00octet\x00", "\x00\x05\x00\x01File not found\x00"},
	{"write existing", "\x00\x02a.txt\x00octet\x00", "\x00\x05\x00\x00Permission denied\x00"},
	{"error to port 69", "\x00\x05\x00\x01x\x00", ""},
	{"ack to port 69", "\x00\x04\x00\x01", ""},
	{"unknown opcode", "\x00\x09abc", ""},
	{"one byte", "\x00", ""},
	{"no NUL after name", "\x00\x01a.txt", "\x00\x05\x00\x04Missing mode\x00"},
	{"no mode", "\x00\x01a.txt\x00", "\x00\x05\x00\x04Missing mode\x00"},
	{"empty name", "\x00\x01\x00octet\x00", "\x00\x05\x00\x04Missing mode\x00"},
	{"parent escape", "\x00\x01../etc/passwd\x00octet\x00", "\x00\x05\x00\x01File not found\x00"},
	{"absolute name", "\x00\x01/a.txt\x00octet\x00", "\x00\x03\x00\x01hello tftp\n"},
	{"directory", "\x00\x01dir\x00octet\x00", "\x00\x05\x00\x00Is a directory\x00"},
	{"netascii tsize", "\x00\x01a.txt\x00netascii\x00tsize\x000\x00", "\x00\x05\x00\x08Unsupported option(s) requested\x00"},
	{"blksize 8", "\x00\x01a.txt\x00octet\x00blksize\x008\x00", "\x00\x06blksize\x008\x00"},
	{"option name case kept", "\x00\x01a.txt\x00octet\x00BLKSIZE\x00512\x00", "\x00\x06BLKSIZE\x00512\x00"},
	{"blksize not a number", "\x00\x01a.txt\x00octet\x00blksize\x00abc\x00", "\x00\x03\x00\x01hello tftp\n"},
	{"tsize echoed", "\x00\x01a.txt\x00octet\x00tsize\x005\x00", "\x00\x06tsize\x005\x00"},
	{"utimeout", "\x00\x01a.txt\x00octet\x00utimeout\x00500000\x00", "\x00\x06utimeout\x00500000\x00"},
	{"blksize2", "\x00\x01a.txt\x00octet\x00blksize2\x001000\x00", "\x00\x06blksize2\x00512\x00"},
	{"duplicate blksize", "\x00\x01a.txt\x00octet\x00blksize\x00600\x00blksize\x00700\x00", "\x00\x06blksize\x00600\x00blksize\x00700\x00"},
	{"rollover", "\x00\x01a.txt\x00octet\x00rollover\x002\x00", "\x00\x06rollover\x002\x00"},
	{"leading space", "\x00\x01a.txt\x00octet\x00blksize\x00 600\x00", "\x00\x06blksize\x00600\x00"},
	{"negative blksize", "\x00\x01a.txt\x00octet\x00blksize\x00-5\x00", "\x00\x06blksize\x0065464\x00"},
	{"negative tsize", "\x00\x01a.txt\x00octet\x00tsize\x00-1\x00", "\x00\x06tsize\x0018446744073709551615\x00"},
	{"overflow ignored", "\x00\x01a.txt\x00octet\x00blksize\x0099999999999999999999999\x00", "\x00\x03\x00\x01hello tftp\n"},
	{"utimeout too small", "\x00\x01a.txt\x00octet\x00utimeout\x005000\x00", "\x00\x05\x00\x08Unsupported option(s) requested\x00"},
	{"empty string stops", "\x00\x01a.txt\x00octet\x00\x00x\x00blksize\x00600\x00", "\x00\x03\x00\x01hello tftp\n"},
	{"mode without NUL", "\x00\x01a.txt\x00octet", "\x00\x03\x00\x01hello tftp\n"},
	{"missing file before options", "\x00\x01nope\x00octet\x00blksize\x007\x00", "\x00\x05\x00\x01File not found\x00"},
	{"bad mode before options", "\x00\x01a.txt\x00bad\x00blksize\x007\x00", "\x00\x05\x00\x04Unknown mode\x00"},
}

// addFixture puts the oracle's fixture files in the decoy's root.
func addFixture(s *Service) {
	addFile(s, "/a.txt", text("hello tftp\n"))
	addFile(s, "/dir", &file{dir: true})
}

// addFile puts f in the decoy's root under the store's lock.
func addFile(s *Service, p string, f *file) {
	s.files.mu.Lock()
	defer s.files.mu.Unlock()
	s.files.files[p] = f
}

func TestReadWholeFileWithBlocks(t *testing.T) {
	ts := startService(t, decoys.Config{})
	content := strings.Repeat("0123456789", 205) // 2050 bytes: 4 full blocks of 512 and 2 bytes
	addFile(ts.svc, "/big.bin", text(content))
	got, conn, from := exchange(t, "127.0.0.2", ts.addr, []byte("\x00\x01big.bin\x00octet\x00"), 2*time.Second)
	var all []byte
	buf := make([]byte, 600)
	for block := uint16(1); ; block++ {
		if !isPacket(got, opDATA, block) {
			t.Fatalf("block %d: got %q", block, got)
		}
		all = append(all, got[4:]...)
		if _, err := conn.WriteToUDP(ackPacket(block), from); err != nil {
			t.Fatal(err)
		}
		if len(got)-4 < 512 {
			break
		}
		_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, _, err := conn.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("after block %d: %v", block, err)
		}
		got = append([]byte(nil), buf[:n]...)
	}
	if string(all) != content {
		t.Errorf("read %d bytes, want %d", len(all), len(content))
	}
	req := ts.rec.waitKind(t, decoys.KindFileRequested, 1)[0].GetFileRequested()
	if req.GetName() != "big.bin" || !req.GetServed() || req.GetSize() != 2050 || req.GetChannel() != "tftp_read" || req.GetMode() != "octet" {
		t.Errorf("file.requested %v", req)
	}
	if tr := ts.rec.waitKind(t, decoys.KindConnectionOpened, 1)[0].GetConnectionOpened().GetTransport(); tr != "udp" {
		t.Errorf("transport %q, want udp", tr)
	}
}

func TestWriteIsCaptured(t *testing.T) {
	ts := startService(t, decoys.Config{})
	payload := bytes.Repeat([]byte("\x7fELF"), 300) // 1200 bytes
	got, conn, from := exchange(t, "127.0.0.3", ts.addr, []byte("\x00\x02mirai.arm7\x00octet\x00"), 2*time.Second)
	if !isPacket(got, opACK, 0) {
		t.Fatalf("WRQ answer %q, want ACK 0", got)
	}
	buf := make([]byte, 100)
	for i, block := 0, uint16(1); ; block++ {
		end := min(i+512, len(payload))
		if _, err := conn.WriteToUDP(dataPacket(block, payload[i:end]), from); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, _, err := conn.ReadFromUDP(buf)
		if err != nil || !isPacket(buf[:n], opACK, block) {
			t.Fatalf("block %d ack: %q %v", block, buf[:n], err)
		}
		last := end-i < 512
		i = end
		if last {
			break
		}
	}
	capt := ts.rec.waitKind(t, decoys.KindFileCaptured, 1)[0].GetFileCaptured()
	sum := sha256.Sum256(payload)
	if !bytes.Equal(capt.GetSha256(), sum[:]) || capt.GetSize() != uint64(len(payload)) || capt.GetName() != "mirai.arm7" || capt.GetChannel() != "tftp_write" {
		t.Errorf("file.captured %x %d %q %q", capt.GetSha256(), capt.GetSize(), capt.GetName(), capt.GetChannel())
	}

	// The upload reads back.
	got, _, _ = exchange(t, "127.0.0.3", ts.addr, []byte("\x00\x01mirai.arm7\x00octet\x00"), 2*time.Second)
	if !isPacket(got, opDATA, 1) || !bytes.Equal(got[4:], payload[:512]) {
		t.Errorf("read back %q", got[:min(len(got), 16)])
	}
}

func TestUploadCap(t *testing.T) {
	ts := startService(t, decoys.Config{Options: map[string]string{OptMaxUploadBytes: "1000"}})
	got, conn, from := exchange(t, "127.0.0.3", ts.addr, []byte("\x00\x02x\x00octet\x00"), 2*time.Second)
	if !isPacket(got, opACK, 0) {
		t.Fatalf("WRQ answer %q", got)
	}
	buf := make([]byte, 100)
	for block := uint16(1); block <= 2; block++ {
		if _, err := conn.WriteToUDP(dataPacket(block, make([]byte, 512)), from); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, _, err := conn.ReadFromUDP(buf)
		if err != nil {
			t.Fatal(err)
		}
		if block == 2 {
			if want := "\x00\x05\x00\x03Disk full or allocation exceeded\x00"; string(buf[:n]) != want {
				t.Errorf("over the cap: %q, want %q", buf[:n], want)
			}
		}
	}
}

func TestStrayPortIgnored(t *testing.T) {
	ts := startService(t, decoys.Config{})
	addFixture(ts.svc)
	got, _, from := exchange(t, "127.0.0.2", ts.addr, []byte("\x00\x01a.txt\x00octet\x00"), 2*time.Second)
	if !isPacket(got, opDATA, 1) {
		t.Fatalf("RRQ answer %q", got)
	}
	// Another socket of the same host acknowledging the transfer port is
	// not the transfer's peer; the connected socket drops it.
	other, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP("127.0.0.2")})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.WriteToUDP(ackPacket(1), from); err != nil {
		t.Fatal(err)
	}
	_ = other.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, _, err := other.ReadFromUDP(make([]byte, 100)); err == nil {
		t.Errorf("stray port got an answer of %d bytes", n)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	for _, opts := range []map[string]string{{"root": "/"}, {OptCreate: "yes"}, {OptMaxUploadBytes: "-1"}} {
		if _, err := New(decoys.Config{Emitter: newRecorder(), Options: opts}); err == nil {
			t.Errorf("New accepted %v", opts)
		}
	}
	if _, err := New(decoys.Config{Emitter: newRecorder(), Persona: "windows-tftp"}); err == nil {
		t.Error("New accepted an unknown persona")
	}
}

// TestFloodFromOneSource checks that one source over its transfer cap is
// dropped while another source is still served.
func TestFloodFromOneSource(t *testing.T) {
	ts := startService(t, decoys.Config{Limits: decoys.Limits{MaxConnsPerSource: 4}})
	addFixture(ts.svc)
	for range 4 {
		if got, _, _ := exchange(t, "127.0.0.5", ts.addr, []byte("\x00\x01a.txt\x00octet\x00"), 2*time.Second); !isPacket(got, opDATA, 1) {
			t.Fatalf("flooding source not served while under its cap: %q", got)
		}
	}
	if got, _, _ := exchange(t, "127.0.0.5", ts.addr, []byte("\x00\x01a.txt\x00octet\x00"), 300*time.Millisecond); got != nil {
		t.Errorf("fifth concurrent transfer of one source answered %q", got)
	}
	if got, _, _ := exchange(t, "127.0.0.6", ts.addr, []byte("\x00\x01a.txt\x00octet\x00"), 2*time.Second); !isPacket(got, opDATA, 1) {
		t.Errorf("other source not served during the flood: %q", got)
	}
}
