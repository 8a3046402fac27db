package sntrup761

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/sha512"
	"errors"
	"testing"
)

// TestServerKEX plays the client side the way OpenSSH's
// kex_kem_sntrup761x25519_dec does and checks both ends agree on K.
func TestServerKEX(t *testing.T) {
	pk, sk, err := GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	clientECDH, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	clientPub := append(append([]byte(nil), pk...), clientECDH.PublicKey().Bytes()...)

	serverPub, serverK, err := ServerKEX(rand.Reader, clientPub)
	if err != nil {
		t.Fatal(err)
	}
	if len(serverPub) != ServerKEXSize || len(serverK) != sha512.Size {
		t.Fatalf("Q_S %d bytes, K %d bytes", len(serverPub), len(serverK))
	}

	kemKey, err := Decapsulate(sk, serverPub[:CiphertextSize])
	if err != nil {
		t.Fatal(err)
	}
	serverECDH, err := ecdh.X25519().NewPublicKey(serverPub[CiphertextSize:])
	if err != nil {
		t.Fatal(err)
	}
	shared, err := clientECDH.ECDH(serverECDH)
	if err != nil {
		t.Fatal(err)
	}
	d := sha512.New()
	d.Write(kemKey)
	d.Write(shared)
	if clientK := d.Sum(nil); !bytes.Equal(clientK, serverK) {
		t.Fatalf("client K %x, server K %x", clientK, serverK)
	}
}

func TestServerKEXRejects(t *testing.T) {
	if _, _, err := ServerKEX(rand.Reader, make([]byte, ClientKEXSize-1)); !errors.Is(err, ErrClientKEXSize) {
		t.Errorf("short Q_C: %v", err)
	}
	// An all-zero X25519 point is of low order: the shared secret would be
	// zero, which OpenSSH refuses as well.
	if _, _, err := ServerKEX(rand.Reader, make([]byte, ClientKEXSize)); err == nil {
		t.Error("zero X25519 key accepted")
	}
}

// FuzzServerKEX feeds attacker-chosen Q_C values: any 1190 bytes must give
// a well-formed reply or an error, never a panic.
func FuzzServerKEX(f *testing.F) {
	f.Add(make([]byte, ClientKEXSize))
	f.Add(bytes.Repeat([]byte{0xff}, ClientKEXSize))
	f.Add([]byte("short"))
	f.Fuzz(func(t *testing.T, clientPub []byte) {
		serverPub, k, err := ServerKEX(rand.Reader, clientPub)
		if err != nil {
			return
		}
		if len(serverPub) != ServerKEXSize || len(k) != sha512.Size {
			t.Fatalf("Q_S %d bytes, K %d bytes", len(serverPub), len(k))
		}
	})
}

// FuzzDecapsulate feeds arbitrary ciphertexts to a fixed key; the result
// must be deterministic.
func FuzzDecapsulate(f *testing.F) {
	_, sk, err := GenerateKey(rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(make([]byte, CiphertextSize))
	f.Add(bytes.Repeat([]byte{0xff}, CiphertextSize))
	f.Fuzz(func(t *testing.T, ct []byte) {
		a, errA := Decapsulate(sk, ct)
		b, errB := Decapsulate(sk, ct)
		if (errA == nil) != (len(ct) == CiphertextSize) || (errA == nil) != (errB == nil) {
			t.Fatalf("len %d: errors %v, %v", len(ct), errA, errB)
		}
		if !bytes.Equal(a, b) {
			t.Fatal("decapsulation is not deterministic")
		}
	})
}
