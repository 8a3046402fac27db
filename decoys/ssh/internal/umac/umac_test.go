package umac

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

type vector struct {
	key, nonce []byte
	msg        []byte
	tags       map[int][]byte // by tag size in bytes
}

func loadVectors(t testing.TB) []vector {
	t.Helper()
	f, err := os.Open("testdata/vectors.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	var out []vector
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 7 {
			t.Fatalf("bad vector line %q", line)
		}
		n, err := strconv.Atoi(fields[3])
		if err != nil {
			t.Fatal(err)
		}
		msg := bytes.Repeat([]byte(fields[2]), n/len(fields[2])+1)[:n]
		v := vector{key: []byte(fields[0]), nonce: []byte(fields[1]), msg: msg, tags: map[int][]byte{}}
		for i, size := range []int{4, 8, 16} {
			tag, err := hex.DecodeString(fields[4+i])
			if err != nil {
				t.Fatal(err)
			}
			v.tags[size] = tag
		}
		// The 96-bit tag is the first 12 bytes of the 128-bit one.
		v.tags[12] = v.tags[16][:12]
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		if len(v.msg) > 1<<20 && testing.Short() {
			continue
		}
		for _, size := range []int{4, 8, 12, 16} {
			m, err := New(v.key, size)
			if err != nil {
				t.Fatal(err)
			}
			got := m.Sum(nil, [8]byte(v.nonce), v.msg)
			if !bytes.Equal(got, v.tags[size]) {
				t.Errorf("len %d, %d-byte tag: got %X, want %X", len(v.msg), size, got, v.tags[size])
			}
		}
	}
}

// TestSequenceNonce checks the nonce OpenSSH builds from a sequence number:
// 8 bytes, big-endian. For 8-byte tags the low bit picks a half of one AES
// block, so sequence numbers 2n and 2n+1 use the two halves of one block.
func TestSequenceNonce(t *testing.T) {
	m, err := New([]byte("abcdefghijklmnop"), 8)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("packet")
	var prev []byte
	for seq := uint64(0); seq < 4; seq++ {
		var nonce [8]byte
		binary.BigEndian.PutUint64(nonce[:], seq)
		tag := m.Sum(nil, nonce, msg)
		if len(tag) != 8 {
			t.Fatalf("tag length %d", len(tag))
		}
		if bytes.Equal(tag, prev) {
			t.Fatalf("seq %d repeats the previous tag", seq)
		}
		prev = tag
	}
}

func TestSumAppends(t *testing.T) {
	m, err := New([]byte("abcdefghijklmnop"), 16)
	if err != nil {
		t.Fatal(err)
	}
	prefix := []byte("hdr")
	out := m.Sum(prefix, [8]byte([]byte("bcdefghi")), nil)
	want, _ := hex.DecodeString("32fedb100c79ad58f07ff7643cc60465")
	if !bytes.Equal(out[:3], prefix) || !bytes.Equal(out[3:], want) {
		t.Fatalf("Sum appended %X", out)
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := New(make([]byte, 15), 8); !errors.Is(err, ErrKeySize) {
		t.Errorf("15-byte key: %v", err)
	}
	for _, size := range []int{0, 6, 32} {
		if _, err := New(make([]byte, 16), size); !errors.Is(err, ErrTagSize) {
			t.Errorf("tag size %d: %v", size, err)
		}
	}
}

func TestSumAllocs(t *testing.T) {
	m, err := New([]byte("abcdefghijklmnop"), 16)
	if err != nil {
		t.Fatal(err)
	}
	msg := make([]byte, 1500)
	dst := make([]byte, 0, 16)
	allocs := testing.AllocsPerRun(100, func() {
		dst = m.Sum(dst[:0], [8]byte{}, msg)
	})
	if allocs != 0 {
		t.Errorf("Sum allocates %v times per call", allocs)
	}
}

// FuzzSum: MAC input is attacker data. Sum must not panic, must be
// deterministic, and must agree with itself across tag sizes (a 96-bit
// tag is the prefix of the 128-bit one).
func FuzzSum(f *testing.F) {
	f.Add([]byte{}, uint64(0))
	f.Add(bytes.Repeat([]byte("a"), 1025), uint64(1))
	f.Add(bytes.Repeat([]byte{0xff}, 4096), uint64(1<<63))
	m8, _ := New([]byte("abcdefghijklmnop"), 8)
	m12, _ := New([]byte("abcdefghijklmnop"), 12)
	m16, _ := New([]byte("abcdefghijklmnop"), 16)
	f.Fuzz(func(t *testing.T, msg []byte, seq uint64) {
		var nonce [8]byte
		binary.BigEndian.PutUint64(nonce[:], seq)
		a := m8.Sum(nil, nonce, msg)
		b := m8.Sum(nil, nonce, msg)
		if len(a) != 8 || !bytes.Equal(a, b) {
			t.Fatalf("umac-64 not deterministic: %X %X", a, b)
		}
		t12 := m12.Sum(nil, nonce, msg)
		t16 := m16.Sum(nil, nonce, msg)
		if !bytes.Equal(t12, t16[:12]) {
			t.Fatalf("96-bit tag %X is not a prefix of 128-bit %X", t12, t16)
		}
	})
}

func benchmarkSum(b *testing.B, tagSize, n int) {
	m, err := New([]byte("abcdefghijklmnop"), tagSize)
	if err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, n)
	dst := make([]byte, 0, 16)
	b.SetBytes(int64(n))
	b.ReportAllocs()
	var nonce [8]byte
	for i := 0; b.Loop(); i++ {
		binary.BigEndian.PutUint64(nonce[:], uint64(i))
		dst = m.Sum(dst[:0], nonce, msg)
	}
}

func BenchmarkUMAC64_64(b *testing.B)    { benchmarkSum(b, 8, 64) }
func BenchmarkUMAC64_1500(b *testing.B)  { benchmarkSum(b, 8, 1500) }
func BenchmarkUMAC64_32K(b *testing.B)   { benchmarkSum(b, 8, 32768) }
func BenchmarkUMAC128_64(b *testing.B)   { benchmarkSum(b, 16, 64) }
func BenchmarkUMAC128_1500(b *testing.B) { benchmarkSum(b, 16, 1500) }
func BenchmarkUMAC128_32K(b *testing.B)  { benchmarkSum(b, 16, 32768) }
