package sshserver

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"testing"
)

// codecs returns one packet codec per packet format, with fixed keys.
func codecs(t testing.TB) []packetCodec {
	t.Helper()
	key := bytes.Repeat([]byte{7}, 64)
	var out []packetCodec
	out = append(out, newPlainCipher())
	for _, c := range []struct{ cipher, mac string }{
		{"aes128-ctr", "hmac-sha2-256"},
		{"aes256-ctr", "hmac-sha1-etm@openssh.com"},
		{"aes128-ctr", "umac-64-etm@openssh.com"},
		{"aes128-ctr", "umac-128@openssh.com"},
		{"aes128-gcm@openssh.com", ""},
		{"chacha20-poly1305@openssh.com", ""},
	} {
		spec := cipherSpecs[c.cipher]
		codec, err := newDirection(c.cipher, c.mac, key[:spec.keyBytes], key[:spec.ivBytes], key[:macKeyBytes(c.mac)])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, codec)
	}
	return out
}

// FuzzOpenPacket feeds arbitrary bytes to every packet decoder and checks
// that sealing and opening a payload round-trips.
func FuzzOpenPacket(f *testing.F) {
	f.Add([]byte{0, 0, 0, 12, 10, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, uint8(0), []byte("payload"))
	f.Add([]byte{0x7f, 0xff, 0xff, 0xff, 0}, uint8(3), []byte{5})
	f.Fuzz(func(t *testing.T, data []byte, which uint8, payload []byte) {
		openers := codecs(t)
		codec := openers[int(which)%len(openers)]
		if p, err := codec.openPacket(uint32(which), bytes.NewReader(data)); err == nil {
			if len(p) == 0 || len(p) > len(data) {
				t.Fatalf("payload of %d bytes from %d input bytes", len(p), len(data))
			}
		}

		if len(payload) == 0 || len(payload) > maxPacketBytes-64 {
			return
		}
		sealers, readers := codecs(t), codecs(t)
		i := int(which) % len(sealers)
		wire, err := sealers[i].sealPacket(9, nil, payload, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		got, err := readers[i].openPacket(9, bytes.NewReader(wire))
		if err != nil || !bytes.Equal(got, payload) {
			t.Fatalf("codec %d round trip = %q, %v, want %q", i, got, err, payload)
		}
	})
}

// FuzzParseKexInit checks the KEXINIT parser and the negotiation never
// fail other than with an error.
func FuzzParseKexInit(f *testing.F) {
	cfg := testConfig(f)
	good, err := marshalKexInit(&cfg.Algorithms, rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte{20, 1, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := parseKexInit(data)
		if err != nil {
			return
		}
		n, err := negotiate(k, &cfg.Algorithms, true)
		if err != nil {
			return
		}
		if !contains(cfg.Algorithms.KeyExchanges, n.kex) || !contains(cfg.Algorithms.Ciphers, n.cipherCS) {
			t.Fatalf("negotiated %q/%q outside the server lists", n.kex, n.cipherCS)
		}
	})
}

// FuzzInflate feeds two arbitrary packets to the zlib@openssh.com
// decoder.
func FuzzInflate(f *testing.F) {
	f.Add([]byte{0x78, 0x9c, 0x8a, 0x2a, 0x4e, 0x2d, 0x2e, 0xce, 0xcc, 0xcf, 0x43, 0xa5, 0x00, 0x02}, []byte{0x28, 0x29, 0x23, 0x35, 0x27, 0x27, 0x1f, 0x20})
	f.Add(newCompressor().compress([]byte("hello")), []byte{0xff, 0xff})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		d := newDecompressor()
		defer d.close()
		for _, p := range [][]byte{a, b} {
			out, err := d.decompress(p)
			if err != nil {
				return
			}
			if len(out) > maxInflatedBytes+windowBytes {
				t.Fatalf("%d bytes out", len(out))
			}
		}
	})
}

// FuzzMessages runs the message handlers of an established connection
// (authenticated or not, chosen by the first byte) on arbitrary messages.
// The input is a sequence of one-byte lengths, each followed by a payload.
func FuzzMessages(f *testing.F) {
	channelOpen := append([]byte{msgChannelOpen}, appendUint32(appendUint32(appendUint32(appendText(nil, "session"), 0), 1<<20), 1<<15)...)
	exec := append([]byte{msgChannelRequest}, appendText(appendBool(appendText(appendUint32(nil, 0), "exec"), true), "id")...)
	framed := func(authenticated byte, msgs ...[]byte) []byte {
		out := []byte{authenticated}
		for _, m := range msgs {
			out = append(out, byte(len(m)))
			out = append(out, m...)
		}
		return out
	}
	f.Add(framed(1, channelOpen, exec))
	f.Add(framed(0, []byte{msgServiceRequest, 0, 0, 0, 12, 's', 's', 'h', '-', 'u', 's', 'e', 'r', 'a', 'u', 't', 'h'},
		append([]byte{msgUserauthRequest}, appendText(appendText(appendText(appendText(nil, "root"), "ssh-connection"), "password"), "\x00\x00\x00\x00\x02pw")...)))
	cfg := testConfig(f)
	cfg.Algorithms.KeyExchanges = append(cfg.Algorithms.KeyExchanges, "diffie-hellman-group-exchange-sha256")
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		authenticated := data[0]&1 == 1
		var wire []byte
		plain := newPlainCipher()
		for rest := data[1:]; len(rest) > 0; {
			n := int(rest[0])
			rest = rest[1:]
			if n == 0 || n > len(rest) {
				break
			}
			var err error
			wire, err = plain.sealPacket(0, wire, rest[:n], rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
		}

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c := &conn{
			ctx: ctx, cfg: cfg, rand: rand.Reader, now: cfg.nowFunc(),
			t:             newTransport(bufio.NewReader(bytes.NewReader(wire)), io.Discard, rand.Reader),
			clientVersion: []byte("SSH-2.0-x"), serverVersion: []byte(testVersion),
			sessionID: make([]byte, 32), kexCount: 1, hostKeyAlg: "ssh-ed25519",
			authenticated: authenticated, channels: newChannelTable(),
		}
		_ = c.serve()
		cancel()
		c.channels.closeAll()
		c.wg.Wait()
		if c.t.inflate != nil {
			c.t.inflate.close()
		}
	})
}

// FuzzHandshake feeds arbitrary client bytes, as sent after the
// identification line, to a new connection: the KEXINIT parser, the
// negotiation and the key exchange messages.
func FuzzHandshake(f *testing.F) {
	cfg := testConfig(f)
	cfg.Algorithms.KeyExchanges = append(cfg.Algorithms.KeyExchanges, "diffie-hellman-group-exchange-sha256")
	plain := newPlainCipher()
	client := cfg.Algorithms
	client.KeyExchanges = []string{"diffie-hellman-group-exchange-sha256", kexStrictClient}
	kexinit, err := marshalKexInit(&client, rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	seed, _ := plain.sealPacket(0, nil, kexinit, rand.Reader)
	seed, _ = plain.sealPacket(0, seed, []byte{msgKexGexRequest, 0, 0, 8, 0, 0, 0, 12, 0, 0, 0, 32, 0}, rand.Reader)
	f.Add(seed)
	f.Add([]byte{0, 0, 0, 12, 4, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c := &conn{
			ctx: ctx, cfg: cfg, rand: rand.Reader, now: cfg.nowFunc(),
			t:             newTransport(bufio.NewReader(bytes.NewReader(data)), io.Discard, rand.Reader),
			clientVersion: []byte("SSH-2.0-x"), serverVersion: []byte(testVersion),
			inFirstKex: true, channels: newChannelTable(),
		}
		if err := c.run(); err == nil {
			t.Fatal("run ended without error on finite input")
		}
		c.channels.closeAll()
		c.wg.Wait()
		if c.t.inflate != nil {
			c.t.inflate.close()
		}
	})
}
