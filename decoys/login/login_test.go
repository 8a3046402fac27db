package login

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
)

var (
	srcA = netip.MustParseAddr("127.0.0.2")
	srcB = netip.MustParseAddr("127.0.0.3")
)

func TestParseErrors(t *testing.T) {
	for _, tc := range []map[string]string{
		{"login": "always"},
		{"login": "after:0"},
		{"login": "after:21"},
		{"login": "after:x"},
		{"login": "list"},
		{"login": "list", "credentials": " "},
		{"login": "list", "credentials": "nocolon"},
		{"login": "never", "credentials": "a:b"},
	} {
		if _, err := Parse(tc, nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%v) error = %v, want ErrInvalid", tc, err)
		}
	}
}

func TestParseErrorTexts(t *testing.T) {
	_, err := Parse(map[string]string{"login": "always"}, nil)
	if want := `invalid login policy: unknown login mode "always": use "never", "after:N" or "list"`; err == nil || err.Error() != want {
		t.Errorf("unknown mode error = %v, want %q", err, want)
	}
	_, err = Parse(map[string]string{"login": "list", "credentials": "root:x,:hunter2"}, nil)
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("malformed credential error = %v, want one without the password", err)
	}
}

func TestNeverIsDefault(t *testing.T) {
	p, err := Parse(map[string]string{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		if p.Allow(srcA, "root", []byte("123456")) {
			t.Fatalf("attempt %d allowed in never mode", i+1)
		}
	}
}

func TestAfterN(t *testing.T) {
	p, err := Parse(map[string]string{"login": "after:3"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := []bool{
		p.Allow(srcA, "root", []byte("a")),
		p.Allow(srcA, "admin", []byte("b")),
		p.Allow(srcA, "root", []byte("c")),
	}
	if !slices.Equal(got, []bool{false, false, true}) {
		t.Fatalf("attempts = %v, want third to succeed", got)
	}
	if !p.Allow(srcA, "root", []byte("c")) {
		t.Error("granted password refused on reuse")
	}
	if p.Allow(srcA, "root", []byte("a")) {
		t.Error("other password accepted after grant")
	}
	if p.Allow(srcB, "root", []byte("c")) {
		t.Error("second source let in on its first try")
	}
	if p.Allow(netip.MustParseAddr("::ffff:127.0.0.2"), "root", []byte("a")) {
		t.Error("IPv4-mapped form of a granted source accepted another password")
	}
}

func TestAfterOne(t *testing.T) {
	p, _ := Parse(map[string]string{"login": "after:1"}, nil)
	if !p.Allow(srcA, "x", []byte("y")) {
		t.Fatal("after:1 refused the first attempt")
	}
}

func TestList(t *testing.T) {
	p, err := Parse(map[string]string{"login": "list", "credentials": "root:toor, admin:admin123"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		user, pass string
		want       bool
	}{
		{"root", "toor", true},
		{"admin", "admin123", true},
		{"root", "admin123", false},
		{"guest", "", false},
	} {
		if got := p.Allow(srcA, tc.user, []byte(tc.pass)); got != tc.want {
			t.Errorf("Allow(%s:%s) = %v, want %v", tc.user, tc.pass, got, tc.want)
		}
	}
}

func TestEvictionBoundsMemory(t *testing.T) {
	p, _ := Parse(map[string]string{"login": "after:2"}, nil)
	p.Allow(srcA, "root", []byte("a"))
	for i := 0; i < maxSources; i++ {
		b := [4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}
		p.Allow(netip.AddrFrom4(b), "root", []byte("a"))
	}
	if n := len(p.sources); n != maxSources {
		t.Fatalf("table holds %d sources, want %d", n, maxSources)
	}
	// srcA was evicted, so its count restarted.
	if p.Allow(srcA, "root", []byte("a")) {
		t.Error("evicted source kept its failure count")
	}
}

func TestConcurrentAllow(t *testing.T) {
	p, _ := Parse(map[string]string{"login": "after:5"}, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for i := 0; i < 20; i++ {
		wg.Go(func() {
			if p.Allow(srcA, "root", []byte("pw")) {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	// The fifth attempt is granted "pw", and every later "pw" matches.
	if allowed != 16 {
		t.Fatalf("allowed = %d, want 16", allowed)
	}
}

func TestKeys(t *testing.T) {
	if got := Keys(); !slices.Equal(got, []string{"login", "credentials"}) {
		t.Fatalf("Keys() = %v", got)
	}
}
