package sshserver

import (
	"bufio"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
)

// Bounds sshd applies to a group exchange request (dh.h DH_GRP_MIN and
// DH_GRP_MAX).
const (
	dhGroupMinBits = 2048
	dhGroupMaxBits = 8192
)

//go:embed moduli
var moduliFile string

// modulus is one safe prime of the moduli file; bits is the size sshd
// compares against the request (the file's size field plus one).
type modulus struct {
	bits int
	g, p *big.Int
}

// builtinModuli are parsed once; the file is part of the binary, so a
// parse error is a build mistake.
var builtinModuli = func() []modulus {
	m, err := parseModuli(moduliFile)
	if err != nil {
		panic("sshserver: " + err.Error())
	}
	return m
}()

// parseModuli reads the moduli(5) format, keeping the lines sshd would
// use (safe primes whose listed size matches).
func parseModuli(text string) ([]modulus, error) {
	var out []modulus
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 8192), 8192)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 7 || f[1] != "2" {
			return nil, fmt.Errorf("bad moduli line %q", line[:min(len(line), 40)])
		}
		size, err := strconv.Atoi(f[4])
		if err != nil {
			return nil, fmt.Errorf("bad moduli size %q", f[4])
		}
		g, ok1 := new(big.Int).SetString(f[5], 16)
		p, ok2 := new(big.Int).SetString(f[6], 16)
		if !ok1 || !ok2 || p.BitLen() != size+1 {
			return nil, fmt.Errorf("bad moduli values for size %d", size)
		}
		out = append(out, modulus{bits: size + 1, g: g, p: p})
	}
	return out, sc.Err()
}

// chooseGroup picks a group as sshd's choose_dh does: the smallest size
// above wantBits within [minBits, maxBits] (or the largest below it), a
// random modulus of that size, and a fixed group when none fits.
func chooseGroup(moduli []modulus, minBits, wantBits, maxBits int, rand io.Reader) (*dhGroup, error) {
	best, count := 0, 0
	for _, m := range moduli {
		if m.bits > maxBits || m.bits < minBits {
			continue
		}
		if (m.bits > wantBits && m.bits < best) || (m.bits > best && best < wantBits) {
			best, count = m.bits, 0
		}
		if m.bits == best {
			count++
		}
	}
	if count == 0 {
		switch {
		case maxBits < 3072:
			return newDHGroup(group14PrimeHex), nil
		case maxBits < 6144:
			return newDHGroup(group16PrimeHex), nil
		}
		return newDHGroup(group18PrimeHex), nil
	}
	which, err := uniform(rand, count)
	if err != nil {
		return nil, err
	}
	for _, m := range moduli {
		if m.bits != best {
			continue
		}
		if which == 0 {
			return &dhGroup{p: m.p, g: m.g}, nil
		}
		which--
	}
	return nil, errors.New("choose group: modulus vanished")
}

// uniform returns a uniform integer in [0, n).
func uniform(rand io.Reader, n int) (int, error) {
	v, err := randInt(rand, big.NewInt(int64(n)))
	if err != nil {
		return 0, err
	}
	return int(v.Int64()), nil
}

func randInt(rand io.Reader, max *big.Int) (*big.Int, error) {
	buf := make([]byte, (max.BitLen()+7)/8+8)
	if _, err := io.ReadFull(rand, buf); err != nil {
		return nil, fmt.Errorf("read random: %w", err)
	}
	// Eight extra bytes make the modulo bias negligible.
	return new(big.Int).Mod(new(big.Int).SetBytes(buf), max), nil
}

// gexRequest is SSH_MSG_KEX_DH_GEX_REQUEST.
type gexRequest struct{ min, n, max uint32 }

func parseGexRequest(payload []byte) (gexRequest, error) {
	r := reader{b: payload[1:]}
	req := gexRequest{min: r.uint32(), n: r.uint32(), max: r.uint32()}
	return req, r.end()
}

// clamp applies sshd's bounds and reports whether the request is
// acceptable at all.
func (q gexRequest) clamp() (minBits, wantBits, maxBits int, ok bool) {
	if q.max < q.min || q.n < q.min || q.max < q.n || q.max < dhGroupMinBits {
		return 0, 0, 0, false
	}
	minBits = max(dhGroupMinBits, int(q.min))
	maxBits = min(dhGroupMaxBits, int(q.max))
	wantBits = min(dhGroupMaxBits, max(dhGroupMinBits, int(q.n)))
	return minBits, wantBits, maxBits, true
}

// gexHashParams is the part of the group exchange hash between K_S and e.
func (q gexRequest) hashParams(g *dhGroup) []byte {
	var b []byte
	b = appendUint32(b, q.min)
	b = appendUint32(b, q.n)
	b = appendUint32(b, q.max)
	b = appendMpint(b, g.p)
	return appendMpint(b, g.g)
}
