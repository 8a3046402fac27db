package sntrup761

// Arithmetic in R/q = Z_q[x]/(x^p - x - 1) and R/3 = F_3[x]/(x^p - x - 1).
// Coefficients of R/q are kept centred in [-q12, q12] and those of R/3 in
// {-1, 0, 1}, exactly as the reference implementation keeps them: the
// encodings and the rounding step depend on the centred representative.

const (
	p   = 761
	q   = 4591
	w   = 286
	q12 = (q - 1) / 2
)

// freezeQ returns the centred representative of x modulo q. |x| must stay
// below 2^30. The divisor is a constant, so the compiler turns % into a
// multiplication and the function runs in constant time.
func freezeQ(x int32) int16 {
	// Shift x into [0, 2^32) by a multiple of q (q<<18 > 2^30) first.
	u := uint32(x) + uint32(q12+q<<18)
	return int16(int32(u%q) - q12)
}

// freeze3 returns the representative of x modulo 3 in {-1, 0, 1}. |x| must
// stay below 2^30.
func freeze3(x int32) int8 {
	u := uint32(x) + uint32(1+3<<29)
	return int8(int32(u%3) - 1)
}

// nonzeroMask returns -1 if x != 0 and 0 otherwise, without branching.
func nonzeroMask(x int32) int32 {
	u := uint32(x)
	return -int32((u | -u) >> 31)
}

// negativeMask returns -1 if x < 0 and 0 otherwise.
func negativeMask(x int32) int32 {
	return x >> 31
}

// reduce folds a product of degree up to 2p-2 back below degree p using
// x^p = x + 1, leaving unfrozen sums in prod[:p].
func reduce(prod *[2*p - 1]int32) {
	for i := 2*p - 2; i >= p; i-- {
		prod[i-p] += prod[i]
		prod[i-p+1] += prod[i]
	}
}

// rqMulSmall multiplies a in R/q by the small polynomial b. Sums are
// accumulated unfrozen, because 761 terms of at most 2295 in magnitude stay far
// below 2^30 even after reduction.
func rqMulSmall(out *[p]int16, a *[p]int16, b *[p]int8) {
	var prod [2*p - 1]int32
	for i := range p {
		ai := int32(a[i])
		row := prod[i : i+p]
		for j := range p {
			row[j] += ai * int32(b[j])
		}
	}
	reduce(&prod)
	for i := range p {
		out[i] = freezeQ(prod[i])
	}
}

// r3Mul multiplies two polynomials in R/3.
func r3Mul(out *[p]int8, a, b *[p]int8) {
	var prod [2*p - 1]int32
	for i := range p {
		ai := int32(a[i])
		row := prod[i : i+p]
		for j := range p {
			row[j] += ai * int32(b[j])
		}
	}
	reduce(&prod)
	for i := range p {
		out[i] = freeze3(prod[i])
	}
}

// recipQ returns a^(q-2) = 1/a modulo q for a != 0.
func recipQ(a int16) int16 {
	result := int32(1)
	base := int32(a)
	for e := q - 2; e > 0; e >>= 1 {
		if e&1 == 1 {
			result = int32(freezeQ(result * base))
		}
		base = int32(freezeQ(base * base))
	}
	return int16(result)
}

// r3Recip sets out to 1/in in R/3 and reports whether in is invertible.
// Like the reference code, it runs 2p-1 constant-time divsteps on
// f = x^p - x - 1 and the reversed input, whatever the input.
func r3Recip(out *[p]int8, in *[p]int8) bool {
	var f, g, v, r [p + 1]int8
	r[0] = 1
	f[0], f[p-1], f[p] = 1, -1, -1
	for i := range p {
		g[p-1-i] = in[i]
	}
	delta := int32(1)

	for range 2*p - 1 {
		copy(v[1:], v[:p])
		v[0] = 0

		sign := -int32(g[0]) * int32(f[0])
		swap := negativeMask(-delta) & nonzeroMask(int32(g[0]))
		delta ^= swap & (delta ^ -delta)
		delta++

		s := int8(swap)
		for i := range p + 1 {
			t := s & (f[i] ^ g[i])
			f[i] ^= t
			g[i] ^= t
			t = s & (v[i] ^ r[i])
			v[i] ^= t
			r[i] ^= t
		}
		for i := range p + 1 {
			g[i] = freeze3(int32(g[i]) + sign*int32(f[i]))
			r[i] = freeze3(int32(r[i]) + sign*int32(v[i]))
		}
		copy(g[:p], g[1:])
		g[p] = 0
	}

	sign := f[0]
	for i := range p {
		out[i] = sign * v[p-1-i]
	}
	return nonzeroMask(delta) == 0
}

// rqRecip3 sets out to 1/(3*in) in R/q. For a short in (weight w) the
// inverse always exists because x^p - x - 1 is irreducible modulo q.
func rqRecip3(out *[p]int16, in *[p]int8) {
	var f, g, v, r [p + 1]int16
	r[0] = recipQ(3)
	f[0], f[p-1], f[p] = 1, -1, -1
	for i := range p {
		g[p-1-i] = int16(in[i])
	}
	delta := int32(1)

	for range 2*p - 1 {
		copy(v[1:], v[:p])
		v[0] = 0

		swap := negativeMask(-delta) & nonzeroMask(int32(g[0]))
		delta ^= swap & (delta ^ -delta)
		delta++

		s := int16(swap)
		for i := range p + 1 {
			t := s & (f[i] ^ g[i])
			f[i] ^= t
			g[i] ^= t
			t = s & (v[i] ^ r[i])
			v[i] ^= t
			r[i] ^= t
		}
		f0, g0 := int32(f[0]), int32(g[0])
		for i := range p + 1 {
			g[i] = freezeQ(f0*int32(g[i]) - g0*int32(f[i]))
			r[i] = freezeQ(f0*int32(r[i]) - g0*int32(v[i]))
		}
		copy(g[:p], g[1:])
		g[p] = 0
	}

	scale := int32(recipQ(f[0]))
	for i := range p {
		out[i] = freezeQ(scale * int32(v[p-1-i]))
	}
}

// round rounds every coefficient to the nearest multiple of 3.
func round(out, a *[p]int16) {
	for i := range p {
		out[i] = a[i] - int16(freeze3(int32(a[i])))
	}
}

// weightMask returns 0 if r has exactly w nonzero coefficients and -1
// otherwise.
func weightMask(r *[p]int8) int32 {
	var weight int32
	for i := range p {
		weight += int32(r[i] & 1)
	}
	return nonzeroMask(weight - w)
}
