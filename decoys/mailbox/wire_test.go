package mailbox

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// recordingConn keeps every byte read from the connection.
type recordingConn struct {
	net.Conn
	mu   sync.Mutex
	read []byte
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.read = append(c.read, p[:n]...)
	c.mu.Unlock()
	return n, err
}

// recordTypes returns the content type of each TLS record in data.
func recordTypes(t *testing.T, data []byte) []byte {
	t.Helper()
	var types []byte
	for len(data) > 0 {
		if len(data) < 5 {
			t.Fatalf("truncated TLS record header: % x", data)
		}
		n := int(binary.BigEndian.Uint16(data[3:5]))
		if len(data) < 5+n {
			t.Fatalf("truncated TLS record of %d bytes", n)
		}
		types = append(types, data[0])
		data = data[5+n:]
	}
	return types
}

func TestWireCloseTLSSendsCloseNotify(t *testing.T) {
	cert, err := Certificate(seedA, "mail01")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	served := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		defer conn.Close()
		w := NewWire(conn, 5*time.Second, 5*time.Second)
		if err := w.StartTLS(context.Background(), &tls.Config{Certificates: []tls.Certificate{cert}}); err != nil {
			served <- err
			return
		}
		err = w.WriteString("* BYE Logging out\r\n")
		w.CloseTLS()
		served <- err
	}()

	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	_ = raw.SetDeadline(time.Now().Add(10 * time.Second))
	rec := &recordingConn{Conn: raw}
	// TLS 1.2 leaves the content type of each record readable; TLS 1.3
	// would disguise the alert as application data.
	client := tls.Client(rec, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12}) //nolint:gosec // G402: the test reads the server's own records
	got, err := io.ReadAll(client)
	if err != nil {
		t.Fatalf("read until the server closes: %v", err)
	}
	if string(got) != "* BYE Logging out\r\n" {
		t.Fatalf("read %q, want the BYE line", got)
	}
	if err := <-served; err != nil {
		t.Fatalf("server: %v", err)
	}

	rec.mu.Lock()
	defer rec.mu.Unlock()
	types := recordTypes(t, rec.read)
	// 21 is the alert content type (RFC 5246, section 6.2.1).
	if last := types[len(types)-1]; last != 21 {
		t.Fatalf("last TLS record type %d (all %v), want 21, a close_notify alert", last, types)
	}
}
