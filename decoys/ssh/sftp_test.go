package ssh

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/decnet/decnet/decoys"
)

// sftpPacket frames one SFTP message.
func sftpPacket(typ byte, fields ...[]byte) []byte {
	body := []byte{typ}
	for _, f := range fields {
		body = append(body, f...)
	}
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func str(v string) []byte { return appendSFTPString(nil, v) }
func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// pipeRW is the channel as serveSFTP sees it: input from a buffer,
// output collected.
type pipeRW struct {
	in  io.Reader
	out bytes.Buffer
}

func (p *pipeRW) Read(b []byte) (int, error)  { return p.in.Read(b) }
func (p *pipeRW) Write(b []byte) (int, error) { return p.out.Write(b) }

func newTestSession(emitter decoys.Emitter) *decoys.Session {
	a, b := net.Pipe()
	_ = b.Close()
	defer a.Close()
	return decoys.NewSession(a, "decky-test", ServiceName, emitter)
}

func TestSFTPUploadCaptured(t *testing.T) {
	emitter := newRecordingEmitter()
	var in []byte
	in = append(in, sftpPacket(fxpInit, u32(3))...)
	in = append(in, sftpPacket(fxpOpen, u32(1), str("/tmp/x.sh"), u32(0x1a), u32(0))...)
	in = append(in, sftpPacket(fxpWrite, u32(2), str("0"), u64(0), str("echo hi\n"))...)
	in = append(in, sftpPacket(fxpClose, u32(3), str("0"))...)
	in = append(in, sftpPacket(fxpStat, u32(4), str("/tmp/x.sh"))...)
	in = append(in, sftpPacket(fxpStat, u32(5), str("/etc/shadow"))...)
	rw := &pipeRW{in: bytes.NewReader(in)}

	err := serveSFTP(context.Background(), rw, newTestSession(emitter), nil, "root", time.Now)
	if !errors.Is(err, io.EOF) {
		t.Errorf("serveSFTP = %v, want EOF", err)
	}
	got := emitter.ofKind(decoys.KindFileCaptured)
	if len(got) != 1 {
		t.Fatalf("got %d file.captured events, want 1", len(got))
	}
	f := got[0].GetFileCaptured()
	if f.GetName() != "/tmp/x.sh" || f.GetSize() != 8 || !bytes.Equal(f.GetSha256(), sha256Of([]byte("echo hi\n"))) || f.GetChannel() != "sftp" {
		t.Errorf("capture = %v", f)
	}

	// The replies: VERSION, HANDLE, STATUS ok, STATUS ok, ATTRS, STATUS no such file.
	var types []byte
	out := rw.out.Bytes()
	for len(out) >= 5 {
		n := binary.BigEndian.Uint32(out)
		types = append(types, out[4])
		out = out[4+n:]
	}
	want := []byte{fxpVersion, fxpHandle, fxpStatus, fxpStatus, fxpAttrs, fxpStatus}
	if !bytes.Equal(types, want) {
		t.Errorf("reply types = %v, want %v", types, want)
	}
}

// FuzzSFTP feeds arbitrary channel input to the sftp subsystem.
func FuzzSFTP(f *testing.F) {
	f.Add(append(sftpPacket(fxpInit, u32(3)), sftpPacket(fxpOpen, u32(1), str("a"), u32(2), u32(0))...))
	f.Add(sftpPacket(fxpExtended, u32(1), str("limits@openssh.com")))
	f.Add([]byte{0, 0, 0, 1, 12})
	emitter := newRecordingEmitter()
	f.Fuzz(func(t *testing.T, data []byte) {
		rw := &pipeRW{in: bytes.NewReader(data)}
		if err := serveSFTP(context.Background(), rw, newTestSession(emitter), nil, "alice", time.Now); err == nil {
			t.Fatal("serveSFTP ended without error on finite input")
		}
	})
}
