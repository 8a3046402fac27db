package sntrup761

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// liboqs records in tests/KATs/kem/kats.json the SHA-256 of the first
// entry of its KAT file for sntrup761, formatted as its kat_kem prints it.
// liboqs carries the later libntruprime code, which draws each random
// polynomial with one randombytes call instead of one call per word. The
// arithmetic and encodings are the same.
const liboqsSingleSHA256 = "afc42c3a5b10f4ef69654250097ebda9b9564570f4086744b24a6daf2bd1f89a"

type katEntry struct {
	seed, pk, sk, ct, ss []byte
}

// katEntries reproduces the NIST KAT generator. A DRBG seeded with bytes
// 0..47 yields one 48-byte seed per entry, and each entry reseeds the DRBG
// with its seed and runs key generation, encapsulation and decapsulation.
func katEntries(t *testing.T, n int, wrap func(*katDRBG) io.Reader) []katEntry {
	t.Helper()
	var entropy [48]byte
	for i := range entropy {
		entropy[i] = byte(i)
	}
	outer := newKATDRBG(entropy)

	entries := make([]katEntry, n)
	for i := range entries {
		var seed [48]byte
		if _, err := outer.Read(seed[:]); err != nil {
			t.Fatal(err)
		}
		rng := wrap(newKATDRBG(seed))

		pk, sk, err := GenerateKey(rng)
		if err != nil {
			t.Fatalf("count %d: GenerateKey: %v", i, err)
		}
		ct, ss, err := Encapsulate(rng, pk)
		if err != nil {
			t.Fatalf("count %d: Encapsulate: %v", i, err)
		}
		ss2, err := Decapsulate(sk, ct)
		if err != nil {
			t.Fatalf("count %d: Decapsulate: %v", i, err)
		}
		if !bytes.Equal(ss, ss2) {
			t.Fatalf("count %d: decapsulated key %x, encapsulated %x", i, ss2, ss)
		}
		entries[i] = katEntry{seed: seed[:], pk: pk, sk: sk, ct: ct, ss: ss}
	}
	return entries
}

func formatEntry(b *strings.Builder, i int, e katEntry) {
	fmt.Fprintf(b, "count = %d\n", i)
	fmt.Fprintf(b, "seed = %X\n", e.seed)
	fmt.Fprintf(b, "pk = %X\n", e.pk)
	fmt.Fprintf(b, "sk = %X\n", e.sk)
	fmt.Fprintf(b, "ct = %X\n", e.ct)
	fmt.Fprintf(b, "ss = %X\n", e.ss)
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// bulkDraws turns the round 3 draw pattern (one 4-byte read per random
// word) into the libntruprime one (one read per polynomial).
type bulkDraws struct {
	d   *katDRBG
	buf []byte
}

func (b *bulkDraws) Read(out []byte) (int, error) {
	if len(out) != 4 {
		return b.d.Read(out)
	}
	if len(b.buf) == 0 {
		b.buf = make([]byte, 4*p)
		if _, err := b.d.Read(b.buf); err != nil {
			return 0, err
		}
	}
	n := copy(out, b.buf)
	b.buf = b.buf[n:]
	return n, nil
}

func perWordDraws(d *katDRBG) io.Reader { return d }

func TestKATLiboqs(t *testing.T) {
	entries := katEntries(t, 1, func(d *katDRBG) io.Reader { return &bulkDraws{d: d} })
	var b strings.Builder
	formatEntry(&b, 0, entries[0])
	if got := sha256Hex(b.String()); got != liboqsSingleSHA256 {
		t.Errorf("SHA-256 of KAT entry 0 = %s, want %s", got, liboqsSingleSHA256)
	}
}

// TestKATSubmission regenerates entries 0 and 1 of the round 3
// submission's KAT (the randomness pattern OpenSSH's embedded copy uses)
// and compares every byte with the vectors in testdata.
func TestKATSubmission(t *testing.T) {
	entries := katEntries(t, 2, perWordDraws)
	for i, e := range entries {
		name := fmt.Sprintf("kat%d", i)
		wantSK := readHex(t, name+"_sk.hex")
		if !bytes.Equal(e.sk, wantSK) {
			t.Errorf("%s: secret key differs from testdata", name)
		}
		if !bytes.Equal(e.pk, wantSK[skPK:skRho]) {
			t.Errorf("%s: public key differs from testdata", name)
		}
		if want := readHex(t, name+"_ct.hex"); !bytes.Equal(e.ct, want) {
			t.Errorf("%s: ciphertext differs from testdata", name)
		}
		if want := readHex(t, name+"_ss.hex"); !bytes.Equal(e.ss, want) {
			t.Errorf("%s: shared key %x, want %x", name, e.ss, want)
		}
	}
}

func readHex(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	b, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

// TestDecapsulateDraftVectors checks the decapsulation vectors of
// draft-josefsson-ntruprime-streamlined-00 (see testdata/README.md).
func TestDecapsulateDraftVectors(t *testing.T) {
	for _, name := range []string{"kat0", "kat1"} {
		t.Run(name, func(t *testing.T) {
			sk := readHex(t, name+"_sk.hex")
			ct := readHex(t, name+"_ct.hex")
			want := readHex(t, name+"_ss.hex")
			got, err := Decapsulate(sk, ct)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("shared key %x, want %x", got, want)
			}
		})
	}
}
