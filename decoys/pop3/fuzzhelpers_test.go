package pop3

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/login"
	"github.com/decnet/decnet/decoys/mailbox"
)

// fuzzService builds the service without New: deriving the RSA key under
// the fuzzer's coverage instrumentation takes most of a minute, and the
// fuzzed sessions never reach TLS.
func fuzzService(f *testing.F, persona string) *Service {
	f.Helper()
	p, err := lookupPersona(persona)
	if err != nil {
		f.Fatal(err)
	}
	policy, err := login.Parse(map[string]string{"login": "list", "credentials": "alice:wonderland"}, testSeed)
	if err != nil {
		f.Fatal(err)
	}
	return &Service{
		decky:      "mail01",
		host:       "mail01",
		seed:       testSeed,
		emitter:    &recorder{added: make(chan struct{}, 1)},
		log:        zerolog.Nop(),
		limits:     decoys.Limits{ReadTimeout: 20 * time.Millisecond}.WithDefaults(),
		persona:    p,
		tls:        &tls.Config{MinVersion: tls.VersionTLS12},
		policy:     policy,
		penalty:    mailbox.NewPenalty(hourlyClock()),
		mechanisms: []string{"PLAIN", "LOGIN", "APOP"},
		now:        func() time.Time { return testNow },
		failDelay:  func() time.Duration { return 0 },
	}
}

// runPipe serves one connection over a pipe fed with in, draining the
// replies, and returns once the handler and both helper goroutines have
// ended: a goroutine left running would change the coverage counters
// under the fuzzer's feet.
func runPipe(svc *Service, in []byte) {
	server, client := net.Pipe()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { _ = server.Close() })
	defer stop()

	var helpers sync.WaitGroup
	helpers.Add(2)
	go func() {
		defer helpers.Done()
		_, _ = io.Copy(io.Discard, client)
	}()
	go func() {
		defer helpers.Done()
		_, _ = client.Write(in)
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		svc.handle(ctx, pipeConn{server})
	}()
	// The handler must end soon after its context: a hang here is a
	// spinning parser.
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		panic(fmt.Sprintf("session still running 10 s after its start on %q", in))
	}
	_ = server.Close()
	_ = client.Close()
	helpers.Wait()
}

// pipeConn gives a pipe TCP-like addresses.
type pipeConn struct{ net.Conn }

func (pipeConn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 9), Port: 40000} }
func (pipeConn) LocalAddr() net.Addr  { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 110} }
