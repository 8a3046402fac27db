package umac

import "math/bits"

// L2-HASH, RFC 4418 section 5.2: POLY over the 8-byte L1 outputs, first
// modulo p64 = 2^64 - 59 and, for messages past 16 MiB, continuing modulo
// p128 = 2^128 - 159 over 16-byte words. OpenSSH's umac.c stops at the
// 64-bit stage (it caps messages at 16 MiB), and SSH packets are far
// smaller, so the 128-bit stage matters only for RFC completeness.

const (
	p64          = 1<<64 - 59
	offset64     = 59            // 2^64 - p64
	marker64     = p64 - 1       // flags a word at or above maxword64
	maxword64    = 1<<64 - 1<<32 // words from here up are split
	offset128    = 159           // 2^128 - p128
	maxword128Hi = 1<<64 - 1<<32 // high half of 2^128 - 2^96
)

// l2State is the POLY accumulator of every iteration.
type l2State struct {
	blocks int
	y64    [maxStreams]uint64
	// In the 128-bit stage: y128 (high, low) and a pending L1 output
	// waiting for its partner to form a 16-byte word.
	y128    [maxStreams][2]uint64
	pending [maxStreams]uint64
	odd     bool
}

func (l *l2State) init(m *MAC) {
	for s := range m.streams {
		l.y64[s] = 1
	}
}

// absorb feeds one L1 output per iteration.
func (l *l2State) absorb(m *MAC, a *[maxStreams]uint64) {
	if l.blocks < poly64Blocks {
		for s := range m.streams {
			l.y64[s] = poly64(m.l2Key64[s], l.y64[s], a[s])
		}
		l.blocks++
		return
	}
	if l.blocks == poly64Blocks {
		// Start POLY-128 on uint2str(y64, 16), which is below the marker
		// range because its high half is zero.
		for s := range m.streams {
			l.y128[s] = poly128(m.l2Key128[s], [2]uint64{0, 1}, [2]uint64{0, l.y64[s]})
		}
	}
	l.blocks++
	if !l.odd {
		for s := range m.streams {
			l.pending[s] = a[s]
		}
		l.odd = true
		return
	}
	for s := range m.streams {
		l.y128[s] = poly128(m.l2Key128[s], l.y128[s], [2]uint64{l.pending[s], a[s]})
	}
	l.odd = false
}

// final returns Y = uint2str(y, 16) of iteration s as two halves.
func (l *l2State) final(m *MAC, s int) (hi, lo uint64) {
	if l.blocks <= poly64Blocks {
		return 0, l.y64[s]
	}
	// The remaining L1 outputs are followed by a 0x80 byte and zero
	// padding to a whole 16-byte word.
	word := [2]uint64{1 << 63, 0}
	if l.odd {
		word = [2]uint64{l.pending[s], 1 << 63}
	}
	y := poly128(m.l2Key128[s], l.y128[s], word)
	return y[0], y[1]
}

// poly64 returns one POLY step k*y + w mod p64, splitting a word in the
// marker range into marker and w - offset as the RFC prescribes.
func poly64(k, y, w uint64) uint64 {
	if w >= maxword64 {
		y = mulAddP64(k, y, marker64)
		return mulAddP64(k, y, w-offset64)
	}
	return mulAddP64(k, y, w)
}

// mulAddP64 returns (k*y + w) mod p64 for k < 2^57 and y < 2^64, fully
// reduced.
func mulAddP64(k, y, w uint64) uint64 {
	hi, lo := bits.Mul64(k, y)
	// 2^64 = 59 mod p64, and hi < 2^57 keeps hi*59 within 64 bits. After
	// a carry the sum is below hi*59, so adding 59 cannot carry again.
	x, c := bits.Add64(lo, hi*offset64, 0)
	x = reduceP64(x + c*offset64)
	// With x < p64, a carry out of x + w leaves less than w - 59.
	x, c = bits.Add64(x, w, 0)
	return reduceP64(x + c*offset64)
}

func reduceP64(x uint64) uint64 {
	d, borrow := bits.Sub64(x, p64, 0)
	mask := borrow - 1 // all ones if x >= p64
	return x ^ ((x ^ d) & mask)
}

// poly128 returns one POLY step modulo p128 on 128-bit values stored as
// (high, low).
func poly128(k, y, w [2]uint64) [2]uint64 {
	if w[0] >= maxword128Hi {
		y = mulAddP128(k, y, [2]uint64{1<<64 - 1, 1<<64 - offset128 - 1})
		d, b := bits.Sub64(w[1], offset128, 0)
		return mulAddP128(k, y, [2]uint64{w[0] - b, d})
	}
	return mulAddP128(k, y, w)
}

// mulAddP128 returns (k*y + w) mod p128, fully reduced, for k < 2^121.
func mulAddP128(k, y, w [2]uint64) [2]uint64 {
	// 256-bit product r3:r2:r1:r0 of (k1:k0) and (y1:y0).
	h00, l00 := bits.Mul64(k[1], y[1])
	h01, l01 := bits.Mul64(k[1], y[0])
	h10, l10 := bits.Mul64(k[0], y[1])
	h11, l11 := bits.Mul64(k[0], y[0])
	r0 := l00
	r1, c := bits.Add64(h00, l01, 0)
	r2, c2 := bits.Add64(h01, l11, c)
	r3 := h11 + c2
	r1, c = bits.Add64(r1, l10, 0)
	r2, c = bits.Add64(r2, h10, c)
	r3 += c

	// 2^128 = 159 mod p128: fold r3:r2 * 159 into r1:r0.
	fh2, fl2 := bits.Mul64(r2, offset128)
	fh3, fl3 := bits.Mul64(r3, offset128)
	t0 := fl2
	t1, c := bits.Add64(fh2, fl3, 0)
	t2 := fh3 + c
	x0, c := bits.Add64(r0, t0, 0)
	x1, c := bits.Add64(r1, t1, c)
	t2 += c

	// Add w, then fold the small overflow t2 (twice covers a new carry).
	x0, c = bits.Add64(x0, w[1], 0)
	x1, c = bits.Add64(x1, w[0], c)
	t2 += c
	for range 2 {
		x0, c = bits.Add64(x0, t2*offset128, 0)
		x1, c = bits.Add64(x1, 0, c)
		t2 = c
	}

	// Final conditional subtraction of p128 = (2^64-1, 2^64-159).
	d0, b := bits.Sub64(x0, 1<<64-offset128, 0)
	d1, b := bits.Sub64(x1, 1<<64-1, b)
	mask := b - 1 // all ones if x >= p128
	return [2]uint64{x1 ^ ((x1 ^ d1) & mask), x0 ^ ((x0 ^ d0) & mask)}
}
