package ssh

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/ssh"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/ssh/sshserver"
)

func TestNewUnknownPersona(t *testing.T) {
	_, err := New(decoys.Config{Seed: testSeed, Persona: "dropbear-2022.83", Emitter: newRecordingEmitter(), Logger: zerolog.Nop()})
	if !errors.Is(err, ErrUnknownPersona) {
		t.Fatalf("error = %v, want ErrUnknownPersona", err)
	}
	if !strings.Contains(err.Error(), "dropbear-2022.83") || !strings.Contains(err.Error(), DefaultPersona) {
		t.Errorf("error %q should name the bad id and the known ones", err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  decoys.Config
	}{
		{"short seed", decoys.Config{Seed: []byte("short"), Emitter: newRecordingEmitter()}},
		{"no emitter", decoys.Config{Seed: testSeed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg); err == nil {
				t.Error("New succeeded, want an error")
			}
		})
	}
}

func TestPersonaIDs(t *testing.T) {
	ids := PersonaIDs()
	for _, want := range []string{"openssh-9.2p1-debian12", "openssh-9.6p1-ubuntu24.04"} {
		if !slices.Contains(ids, want) {
			t.Errorf("PersonaIDs() = %v, missing %q", ids, want)
		}
	}
	p, err := lookupPersona("")
	if err != nil || p.id != DefaultPersona {
		t.Errorf("lookupPersona(\"\") = %q, %v, want %q", p.id, err, DefaultPersona)
	}
}

// clientConn is a raw TCP client with a buffered reader.
type clientConn struct {
	net.Conn
	r *bufio.Reader
}

func netDial(addr string) (*clientConn, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &clientConn{Conn: conn, r: bufio.NewReader(conn)}, nil
}

// kexInit is the name-lists of a KEXINIT message.
type kexInit struct {
	kex, hostKey, ciphers, macs, compression []string
}

func parseKexInit(t *testing.T, payload []byte) kexInit {
	t.Helper()
	if len(payload) < 17 || payload[0] != 20 {
		t.Fatalf("not a KEXINIT: % x", payload[:min(len(payload), 17)])
	}
	rest := payload[17:]
	var lists [10][]string
	for i := range lists {
		if len(rest) < 4 {
			t.Fatal("truncated KEXINIT")
		}
		n := binary.BigEndian.Uint32(rest)
		rest = rest[4:]
		if uint32(len(rest)) < n {
			t.Fatal("truncated KEXINIT")
		}
		if n > 0 {
			lists[i] = strings.Split(string(rest[:n]), ",")
		}
		rest = rest[n:]
	}
	if !slices.Equal(lists[2], lists[3]) || !slices.Equal(lists[4], lists[5]) {
		t.Errorf("directions differ: %v / %v", lists[2:4], lists[4:6])
	}
	return kexInit{kex: lists[0], hostKey: lists[1], ciphers: lists[2], macs: lists[4], compression: lists[6]}
}

// TestKexInitFollowsPersona checks the server's KEXINIT against the
// persona: the same algorithms in the same order, minus those sshserver
// lacks.
func TestKexInitFollowsPersona(t *testing.T) {
	without := func(list []string) []string {
		return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return !sshserver.Supported(s) })
	}

	for _, id := range PersonaIDs() {
		t.Run(id, func(t *testing.T) {
			ts := startService(t, func(s *Service) {
				p, err := lookupPersona(id)
				if err != nil {
					t.Fatal(err)
				}
				s.persona = p
			})
			p := ts.svc.persona

			conn, err := netDial(ts.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			line, err := conn.r.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if line != p.banner+"\r\n" {
				t.Errorf("identification = %q, want %q", line, p.banner+"\r\n")
			}
			if _, err := conn.Write([]byte("SSH-2.0-OpenSSH_9.2p1\r\n")); err != nil {
				t.Fatal(err)
			}
			payload, err := readPacket(conn.r)
			if err != nil {
				t.Fatal(err)
			}
			got := parseKexInit(t, payload)

			wantKex := without(p.keyExchanges)
			if !slices.Equal(got.kex, wantKex) {
				t.Errorf("kex = %v, want %v", got.kex, wantKex)
			}
			if !slices.Equal(got.ciphers, without(p.ciphers)) {
				t.Errorf("ciphers = %v, want %v", got.ciphers, without(p.ciphers))
			}
			if !slices.Equal(got.macs, without(p.macs)) {
				t.Errorf("macs = %v, want %v", got.macs, without(p.macs))
			}
			if !slices.Equal(got.compression, without(p.compressions)) {
				t.Errorf("compression = %v, want %v", got.compression, without(p.compressions))
			}
			if !slices.Equal(got.hostKey, p.hostKeyAlgorithms) {
				t.Errorf("host keys = %v, want %v", got.hostKey, p.hostKeyAlgorithms)
			}
		})
	}
}

func TestHostKeysDeterministic(t *testing.T) {
	a1, err := deriveHostKeys(testSeed)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := deriveHostKeys(bytes.Clone(testSeed))
	if err != nil {
		t.Fatal(err)
	}
	b, err := deriveHostKeys([]byte("another decky seed, 32 bytes....."))
	if err != nil {
		t.Fatal(err)
	}

	for _, kt := range []struct {
		name string
		pick func(*hostKeys) ssh.Signer
	}{
		{"ed25519", func(k *hostKeys) ssh.Signer { return k.ed25519 }},
		{"ecdsa", func(k *hostKeys) ssh.Signer { return k.ecdsa }},
		{"rsa", func(k *hostKeys) ssh.Signer { return k.rsa }},
	} {
		t.Run(kt.name, func(t *testing.T) {
			same1 := kt.pick(a1).PublicKey().Marshal()
			same2 := kt.pick(a2).PublicKey().Marshal()
			other := kt.pick(b).PublicKey().Marshal()
			if !bytes.Equal(same1, same2) {
				t.Error("same seed gave different keys")
			}
			if bytes.Equal(same1, other) {
				t.Error("different seeds gave the same key")
			}
		})
	}
}

func TestRSAHostKeyShape(t *testing.T) {
	key, err := deriveRSAKey(testSeed, rsaHostKeyBits)
	if err != nil {
		t.Fatal(err)
	}
	if key.N.BitLen() != rsaHostKeyBits {
		t.Errorf("modulus has %d bits, want %d", key.N.BitLen(), rsaHostKeyBits)
	}
	if key.E != 65537 {
		t.Errorf("e = %d, want 65537", key.E)
	}
	for i, p := range key.Primes {
		if p.BitLen() != rsaHostKeyBits/2 {
			t.Errorf("prime %d has %d bits, want %d", i, p.BitLen(), rsaHostKeyBits/2)
		}
	}
	if err := key.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func BenchmarkDeriveHostKeys(b *testing.B) {
	seed := bytes.Clone(testSeed)
	for i := 0; b.Loop(); i++ {
		seed[0] = byte(i)
		if _, err := deriveHostKeys(seed); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPersonaFullyImplemented checks that sshserver implements every
// name of every persona, so no KEXINIT differs from the real daemon's.
func TestPersonaFullyImplemented(t *testing.T) {
	for _, p := range personas() {
		for _, list := range [][]string{p.keyExchanges, p.hostKeyAlgorithms, p.ciphers, p.macs, p.compressions} {
			for _, name := range list {
				if !sshserver.Supported(name) {
					t.Errorf("%s: %s is not implemented", p.id, name)
				}
			}
		}
	}
}
