package sntrup761

// Encodings of the NTRU Prime round 3 specification. Public keys and
// ciphertexts use the mixed-radix encoding, which merges pairs of
// coefficients level by level and emits bytes while the combined modulus
// is at least 2^14. Secret polynomials use two bits per coefficient.

const (
	smallBytes   = (p + 3) / 4 // 191
	rqBytes      = 1158
	roundedBytes = 1007
	hashBytes    = 32

	// roundedModulus is the number of multiples of 3 in [-q12, q12].
	roundedModulus = (q + 2) / 3
)

// encodeRadix writes values r[i] < m[i] in the mixed-radix format to out
// and returns the number of bytes written. r and m are overwritten.
func encodeRadix(out []byte, r, m []uint32) int {
	n := 0
	for length := len(r); ; length = (length + 1) / 2 {
		if length == 1 {
			rv, mv := r[0], m[0]
			for mv > 1 {
				out[n] = byte(rv)
				n++
				rv >>= 8
				mv = (mv + 255) >> 8
			}
			return n
		}
		// Merging in place is safe: slot i/2 is written only after slots
		// i and i+1 have been read.
		i := 0
		for ; i+1 < length; i += 2 {
			m0 := m[i]
			rv := r[i] + r[i+1]*m0 //nolint:gosec // G602: i+1 < length <= len(r), and m is as long as r
			mv := m[i+1] * m0      //nolint:gosec // G602: as above
			for mv >= 16384 {
				out[n] = byte(rv)
				n++
				rv >>= 8
				mv = (mv + 255) >> 8
			}
			r[i/2] = rv
			m[i/2] = mv
		}
		if i < length {
			r[i/2] = r[i]
			m[i/2] = m[i]
		}
	}
}

// decodeRadix is the inverse of encodeRadix for len(out) == len(m). Bytes
// beyond what the moduli need are ignored. Values that do not fit their
// modulus are reduced, as in the reference implementation. The input is
// public (a key or a ciphertext), so the variable-time divisions here leak
// nothing secret.
func decodeRadix(out []uint32, s []byte, m []uint32) {
	length := len(m)
	if length == 1 {
		switch {
		case m[0] == 1:
			out[0] = 0
		case m[0] <= 256:
			out[0] = uint32(s[0]) % m[0]
		default:
			out[0] = (uint32(s[0]) + uint32(s[1])<<8) % m[0]
		}
		return
	}

	half := (length + 1) / 2
	m2 := make([]uint32, half)
	r2 := make([]uint32, half)
	bottomR := make([]uint32, length/2)
	bottomT := make([]uint32, length/2)
	i := 0
	for ; i+1 < length; i += 2 {
		mv := m[i] * m[i+1] //nolint:gosec // G602: i+1 < length == len(m)
		switch {
		case mv > 256*16383:
			bottomT[i/2] = 256 * 256
			bottomR[i/2] = uint32(s[0]) + 256*uint32(s[1])
			s = s[2:]
			m2[i/2] = (((mv + 255) >> 8) + 255) >> 8
		case mv >= 16384:
			bottomT[i/2] = 256
			bottomR[i/2] = uint32(s[0])
			s = s[1:]
			m2[i/2] = (mv + 255) >> 8
		default:
			bottomT[i/2] = 1
			bottomR[i/2] = 0
			m2[i/2] = mv
		}
	}
	if i < length {
		m2[i/2] = m[i]
	}

	decodeRadix(r2, s, m2)

	for i = 0; i+1 < length; i += 2 {
		rv := bottomR[i/2] + bottomT[i/2]*r2[i/2]
		out[i] = rv % m[i]
		out[i+1] = (rv / m[i]) % m[i+1] //nolint:gosec // G602: i+1 < length == len(m), and out is as long as m
	}
	if i < length {
		out[i] = r2[i/2]
	}
}

func rqEncode(out []byte, h *[p]int16) {
	var r, m [p]uint32
	for i := range p {
		r[i] = uint32(int32(h[i]) + q12)
		m[i] = q
	}
	encodeRadix(out, r[:], m[:])
}

func rqDecode(h *[p]int16, s []byte) {
	var r, m [p]uint32
	for i := range m {
		m[i] = q
	}
	decodeRadix(r[:], s, m[:])
	for i := range p {
		h[i] = int16(int32(r[i]) - q12)
	}
}

func roundedEncode(out []byte, c *[p]int16) {
	var r, m [p]uint32
	for i := range p {
		// Multiplying by 10923 and shifting by 15 divides the multiples
		// of 3 in [0, q-1] by 3 exactly, as the reference does.
		r[i] = (uint32(int32(c[i])+q12) * 10923) >> 15
		m[i] = roundedModulus
	}
	encodeRadix(out, r[:], m[:])
}

func roundedDecode(c *[p]int16, s []byte) {
	var r, m [p]uint32
	for i := range m {
		m[i] = roundedModulus
	}
	decodeRadix(r[:], s, m[:])
	for i := range p {
		c[i] = int16(int32(r[i])*3 - q12)
	}
}

// smallEncode packs coefficients in {-1, 0, 1} four to a byte, low bits
// first. The last of the 761 coefficients takes a byte of its own.
func smallEncode(out []byte, f *[p]int8) {
	for i := range p / 4 {
		x := byte(f[4*i]+1) | byte(f[4*i+1]+1)<<2 | byte(f[4*i+2]+1)<<4 | byte(f[4*i+3]+1)<<6
		out[i] = x
	}
	out[p/4] = byte(f[p-1] + 1)
}

func smallDecode(f *[p]int8, s []byte) {
	for i := range p / 4 {
		x := s[i]
		for j := range 4 {
			f[4*i+j] = int8(x&3) - 1
			x >>= 2
		}
	}
	f[p-1] = int8(s[p/4]&3) - 1
}
