package sntrup761

// sortUint32 sorts x ascending with Batcher's odd-even merge network, so
// the sequence of memory accesses does not depend on the values. Short
// polynomials are built by sorting tagged random words, and the values
// being sorted are secret.
func sortUint32(x []uint32) {
	n := len(x)
	for pw := 1; pw < n; pw <<= 1 {
		for k := pw; k >= 1; k >>= 1 {
			for j := k % pw; j+k < n; j += 2 * k {
				for i := 0; i < k && i+j+k < n; i++ {
					if (i+j)/(2*pw) == (i+j+k)/(2*pw) {
						minmax(&x[i+j], &x[i+j+k])
					}
				}
			}
		}
	}
}

// minmax puts the smaller of *a and *b in *a without branching on them.
func minmax(a, b *uint32) {
	x, y := *a, *b
	swap := -uint32((uint64(y) - uint64(x)) >> 63) // all ones if y < x
	t := (x ^ y) & swap
	*a = x ^ t
	*b = y ^ t
}
