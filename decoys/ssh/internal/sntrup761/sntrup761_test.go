package sntrup761

import (
	"bytes"
	"crypto/rand"
	"errors"
	mrand "math/rand/v2"
	"slices"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	for range 3 {
		pk, sk, err := GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if len(pk) != PublicKeySize || len(sk) != SecretKeySize {
			t.Fatalf("key sizes %d, %d", len(pk), len(sk))
		}
		if !bytes.Equal(pk, sk[skPK:skRho]) {
			t.Fatal("secret key does not embed the public key")
		}
		ct, ss, err := Encapsulate(rand.Reader, pk)
		if err != nil {
			t.Fatal(err)
		}
		if len(ct) != CiphertextSize || len(ss) != SharedKeySize {
			t.Fatalf("ciphertext %d bytes, key %d bytes", len(ct), len(ss))
		}
		got, err := Decapsulate(sk, ct)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, ss) {
			t.Fatalf("decapsulated %x, encapsulated %x", got, ss)
		}
	}
}

// TestImplicitRejection checks that a tampered ciphertext yields the key
// hashed from rho under prefix 0, the reference's rejection value.
func TestImplicitRejection(t *testing.T) {
	pk, sk, err := GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ct, ss, err := Encapsulate(rand.Reader, pk)
	if err != nil {
		t.Fatal(err)
	}
	for _, pos := range []int{0, roundedBytes - 1, roundedBytes, CiphertextSize - 1} {
		bad := slices.Clone(ct)
		bad[pos] ^= 0x01
		got, err := Decapsulate(sk, bad)
		if err != nil {
			t.Fatal(err)
		}
		var rho [smallBytes]byte
		copy(rho[:], sk[skRho:skCache])
		want := make([]byte, SharedKeySize)
		hashSession(want, 0, &rho, bad)
		if !bytes.Equal(got, want) {
			t.Errorf("byte %d flipped: key %x, want rejection key %x", pos, got, want)
		}
		if bytes.Equal(got, ss) {
			t.Errorf("byte %d flipped: tampered ciphertext gave the real key", pos)
		}
	}
}

func TestSizeErrors(t *testing.T) {
	if _, _, err := Encapsulate(rand.Reader, make([]byte, PublicKeySize-1)); !errors.Is(err, ErrPublicKeySize) {
		t.Errorf("short public key: %v", err)
	}
	if _, err := Decapsulate(make([]byte, SecretKeySize), make([]byte, CiphertextSize+1)); !errors.Is(err, ErrCiphertextSize) {
		t.Errorf("long ciphertext: %v", err)
	}
	if _, err := Decapsulate(make([]byte, 10), make([]byte, CiphertextSize)); !errors.Is(err, ErrSecretKeySize) {
		t.Errorf("short secret key: %v", err)
	}
}

func TestShortRandomWeight(t *testing.T) {
	var r [p]int8
	if err := shortRandom(&r, rand.Reader); err != nil {
		t.Fatal(err)
	}
	if weightMask(&r) != 0 {
		t.Fatalf("weight is not %d", w)
	}
}

func TestRecips(t *testing.T) {
	var g, gInv, one [p]int8
	for {
		if err := smallRandom(&g, rand.Reader); err != nil {
			t.Fatal(err)
		}
		if r3Recip(&gInv, &g) {
			break
		}
	}
	r3Mul(&one, &g, &gInv)
	if one[0] != 1 || slices.ContainsFunc(one[1:], func(c int8) bool { return c != 0 }) {
		t.Fatal("g * (1/g) != 1 in R/3")
	}

	// 0 has no inverse.
	var zero [p]int8
	if r3Recip(&gInv, &zero) {
		t.Fatal("r3Recip reported an inverse of 0")
	}

	var f [p]int8
	if err := shortRandom(&f, rand.Reader); err != nil {
		t.Fatal(err)
	}
	var fInv, prod [p]int16
	rqRecip3(&fInv, &f)
	rqMulSmall(&prod, &fInv, &f)
	for i := range p {
		want := int16(0)
		if i == 0 {
			want = recipQ(3)
		}
		if prod[i] != want {
			t.Fatalf("coefficient %d of f * 1/(3f) = %d, want %d", i, prod[i], want)
		}
	}
}

func TestSort(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 7, 64, 100, p} {
		x := make([]uint32, n)
		for i := range x {
			x[i] = mrand.Uint32()
		}
		want := slices.Clone(x)
		slices.Sort(want)
		sortUint32(x)
		if !slices.Equal(x, want) {
			t.Errorf("n=%d: not sorted", n)
		}
	}
}

func TestEncodingsRoundTrip(t *testing.T) {
	var h, h2, c, c2 [p]int16
	for i := range p {
		h[i] = int16(mrand.IntN(q) - q12)
		c[i] = int16(3*mrand.IntN(roundedModulus) - q12)
	}
	buf := make([]byte, rqBytes)
	rqEncode(buf, &h)
	rqDecode(&h2, buf)
	if h != h2 {
		t.Error("Rq encoding does not round-trip")
	}
	buf = make([]byte, roundedBytes)
	roundedEncode(buf, &c)
	roundedDecode(&c2, buf)
	if c != c2 {
		t.Error("rounded encoding does not round-trip")
	}

	// Extremes: every coefficient at the top of its range must still fit
	// the fixed encoded length.
	for i := range p {
		h[i] = q12
	}
	buf = make([]byte, rqBytes)
	rqEncode(buf, &h)
	rqDecode(&h2, buf)
	if h != h2 {
		t.Error("Rq encoding of q12 does not round-trip")
	}
}

func BenchmarkGenerateKey(b *testing.B) {
	for b.Loop() {
		if _, _, err := GenerateKey(rand.Reader); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncapsulate(b *testing.B) {
	pk, _, err := GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Encapsulate(rand.Reader, pk); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecapsulate(b *testing.B) {
	pk, sk, err := GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	ct, _, err := Encapsulate(rand.Reader, pk)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Decapsulate(sk, ct); err != nil {
			b.Fatal(err)
		}
	}
}
