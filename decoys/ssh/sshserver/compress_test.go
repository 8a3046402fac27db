package sshserver

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// TestDecompressPartialFlush feeds packets compressed as OpenSSH does
// (one zlib stream, Z_PARTIAL_FLUSH after each packet; produced with
// Python's zlib) and checks each decodes on its own.
func TestDecompressPartialFlush(t *testing.T) {
	packets := []string{"789c8a2a4e2d2ececccf43a50002", "2829233527271f20", "80922a46c1281805c31e0004"}
	// compress/flate returned nothing for this first packet of an
	// OpenSSH 9.2 client (SSH_MSG_CHANNEL_OPEN "session").
	openssh := "789c8a626060602f4e2d2ececccf6300010510d1c00010"
	want := [][]byte{
		[]byte("\x5asessionsessionsession"),
		[]byte("\x62hello"),
		append([]byte{0x62}, bytes.Repeat([]byte("x"), 1000)...),
	}
	d := newDecompressor()
	defer d.close()
	for i, p := range packets {
		in, _ := hex.DecodeString(p)
		got, err := d.decompress(in)
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if !bytes.Equal(got, want[i]) {
			t.Fatalf("packet %d = %q, want %q", i, got, want[i])
		}
	}

	d2 := newDecompressor()
	defer d2.close()
	in, _ := hex.DecodeString(openssh)
	got, err := d2.decompress(in)
	wantOpen := []byte("Z\x00\x00\x00\x07session\x00\x00\x00\x00\x00 \x00\x00\x00\x00\x80\x00")
	if err != nil || !bytes.Equal(got, wantOpen) {
		t.Fatalf("openssh packet = %q, %v, want %q", got, err, wantOpen)
	}
}

func TestCompressRoundTrip(t *testing.T) {
	c := newCompressor()
	d := newDecompressor()
	defer d.close()
	for i, msg := range [][]byte{[]byte("\x5eone"), bytes.Repeat([]byte("ab"), 5000), []byte("\x02")} {
		got, err := d.decompress(c.compress(msg))
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("message %d round trip = %q, want %q", i, got, msg)
		}
	}
}
