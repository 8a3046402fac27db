package seedkey

import "testing"

func TestRSADeterministic(t *testing.T) {
	seed := []byte("decky-seed-0001")
	a, err := RSA(seed, "tls key", 1024)
	if err != nil {
		t.Fatal(err)
	}
	b, err := RSA(seed, "tls key", 1024)
	if err != nil {
		t.Fatal(err)
	}
	if a.N.Cmp(b.N) != 0 || a.D.Cmp(b.D) != 0 {
		t.Fatal("same seed and info gave different keys")
	}
	if a.N.BitLen() != 1024 || a.E != 65537 {
		t.Fatalf("key has %d bits and e=%d, want 1024 and 65537", a.N.BitLen(), a.E)
	}

	otherInfo, err := RSA(seed, "host key", 1024)
	if err != nil {
		t.Fatal(err)
	}
	otherSeed, err := RSA([]byte("decky-seed-0002"), "tls key", 1024)
	if err != nil {
		t.Fatal(err)
	}
	if otherInfo.N.Cmp(a.N) == 0 || otherSeed.N.Cmp(a.N) == 0 {
		t.Fatal("different seed or info gave the same key")
	}
}

func TestRSATooFewBits(t *testing.T) {
	if _, err := RSA([]byte("s"), "x", 16); err == nil {
		t.Fatal("want an error for a 16-bit key")
	}
}
