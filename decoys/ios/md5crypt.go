package ios

import "crypto/md5" //nolint:gosec // G501: IOS type 5 secrets are MD5-crypt; the hashes are decoy values

// md5Crypt returns the MD5-crypt ("$1$") hash of password with salt, the
// form IOS shows for "enable secret 5" and "username ... secret 5".
// Nothing checks a password against it: the hash only has to be one a
// real router could have printed.
func md5Crypt(password, salt []byte) string {
	const magic = "$1$"
	if len(salt) > 8 {
		salt = salt[:8]
	}
	d := md5.New() //nolint:gosec // G401: see the import
	d.Write(password)
	d.Write([]byte(magic))
	d.Write(salt)

	alt := md5.New() //nolint:gosec // G401: see the import
	alt.Write(password)
	alt.Write(salt)
	alt.Write(password)
	final := alt.Sum(nil)
	for i := len(password); i > 0; i -= 16 {
		d.Write(final[:min(i, 16)])
	}
	for i := len(password); i > 0; i >>= 1 {
		if i&1 != 0 {
			d.Write([]byte{0})
		} else {
			d.Write(password[:1])
		}
	}
	final = d.Sum(nil)

	for i := range 1000 {
		r := md5.New() //nolint:gosec // G401: see the import
		if i&1 != 0 {
			r.Write(password)
		} else {
			r.Write(final)
		}
		if i%3 != 0 {
			r.Write(salt)
		}
		if i%7 != 0 {
			r.Write(password)
		}
		if i&1 != 0 {
			r.Write(final)
		} else {
			r.Write(password)
		}
		final = r.Sum(nil)
	}

	out := []byte(magic)
	out = append(out, salt...)
	out = append(out, '$')
	for _, g := range [][3]int{{0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 5}} {
		v := uint(final[g[0]])<<16 | uint(final[g[1]])<<8 | uint(final[g[2]])
		out = appendCrypt64(out, v, 4)
	}
	return string(appendCrypt64(out, uint(final[11]), 2))
}

const crypt64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func appendCrypt64(dst []byte, v uint, n int) []byte {
	for range n {
		dst = append(dst, crypt64[v&0x3f])
		v >>= 6
	}
	return dst
}
