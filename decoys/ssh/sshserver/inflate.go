package sshserver

import (
	"errors"
	"io"
)

// This file is a small blocking inflater (RFC 1950 and RFC 1951) for
// zlib@openssh.com. compress/flate keeps decoded bytes in its window until
// a final block or a full window, so it cannot return a packet's payload
// at the packet's Z_PARTIAL_FLUSH point; this one hands out every decoded
// byte before it asks for more input.

var errInflate = errors.New("invalid deflate stream")

// windowBytes is the deflate window: distances reach at most 32 KiB back.
const windowBytes = 32 << 10

// huffman is a canonical Huffman code: count[l] codes of length l, and
// the symbols sorted by code.
type huffman struct {
	count  [16]uint16
	symbol []uint16
}

func newHuffman(lengths []uint8) (*huffman, error) {
	h := &huffman{symbol: make([]uint16, len(lengths))}
	for _, l := range lengths {
		h.count[l]++
	}
	h.count[0] = 0
	left := 1
	for l := 1; l < 16; l++ {
		left <<= 1
		left -= int(h.count[l])
		if left < 0 {
			return nil, errInflate
		}
	}
	var offset [16]uint16
	for l := 1; l < 15; l++ {
		offset[l+1] = offset[l] + h.count[l]
	}
	for sym, l := range lengths {
		if l != 0 {
			h.symbol[offset[l]] = uint16(sym)
			offset[l]++
		}
	}
	return h, nil
}

// inflater decodes one zlib stream from src and passes output to emit.
type inflater struct {
	src     io.ByteReader
	bitBuf  uint32
	bitLen  uint
	history []byte
	out     []byte
}

func (z *inflater) bits(n uint) (uint32, error) {
	for z.bitLen < n {
		b, err := z.src.ReadByte()
		if err != nil {
			return 0, err
		}
		z.bitBuf |= uint32(b) << z.bitLen
		z.bitLen += 8
	}
	v := z.bitBuf & (1<<n - 1)
	z.bitBuf >>= n
	z.bitLen -= n
	return v, nil
}

func (z *inflater) decode(h *huffman) (int, error) {
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		b, err := z.bits(1)
		if err != nil {
			return 0, err
		}
		code |= int(b)
		count := int(h.count[l])
		if code-first < count {
			return int(h.symbol[index+code-first]), nil
		}
		index += count
		first = (first + count) << 1
		code <<= 1
	}
	return 0, errInflate
}

func (z *inflater) put(b byte) {
	z.out = append(z.out, b)
	z.history = append(z.history, b)
	if len(z.history) >= 2*windowBytes {
		z.history = append(z.history[:0], z.history[len(z.history)-windowBytes:]...)
	}
}

var (
	lengthBase  = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	// codeLengthOrder is the order of the code length code lengths.
	codeLengthOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

// fixedTables are the literal/length and distance codes of BTYPE 01.
var fixedLit, fixedDist = func() (*huffman, *huffman) {
	var l [288]uint8
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	var d [30]uint8
	for i := range d {
		d[i] = 5
	}
	lit, _ := newHuffman(l[:])
	dist, _ := newHuffman(d[:])
	return lit, dist
}()

// run decodes the zlib header and blocks until the stream ends or fails.
func (z *inflater) run() error {
	cmf, err := z.bits(8)
	if err != nil {
		return err
	}
	flg, err := z.bits(8)
	if err != nil {
		return err
	}
	if cmf&0x0f != 8 || (cmf<<8|flg)%31 != 0 || flg&0x20 != 0 {
		return errInflate
	}
	for {
		final, err := z.bits(1)
		if err != nil {
			return err
		}
		kind, err := z.bits(2)
		if err != nil {
			return err
		}
		switch kind {
		case 0:
			err = z.stored()
		case 1:
			err = z.codes(fixedLit, fixedDist)
		case 2:
			err = z.dynamic()
		default:
			err = errInflate
		}
		if err != nil {
			return err
		}
		if final == 1 {
			return io.EOF
		}
	}
}

func (z *inflater) stored() error {
	z.bitBuf, z.bitLen = 0, 0
	v, err := z.bits(32)
	if err != nil {
		return err
	}
	n, check := v&0xffff, v>>16
	if n != ^check&0xffff {
		return errInflate
	}
	for ; n > 0; n-- {
		b, err := z.bits(8)
		if err != nil {
			return err
		}
		z.put(byte(b))
	}
	return nil
}

func (z *inflater) dynamic() error {
	hlit, err := z.bits(5)
	if err != nil {
		return err
	}
	hdist, err := z.bits(5)
	if err != nil {
		return err
	}
	hclen, err := z.bits(4)
	if err != nil {
		return err
	}
	nlen, ndist := int(hlit)+257, int(hdist)+1
	if nlen > 286 || ndist > 30 {
		return errInflate
	}
	var clen [19]uint8
	for i := 0; i < int(hclen)+4; i++ {
		v, err := z.bits(3)
		if err != nil {
			return err
		}
		clen[codeLengthOrder[i]] = uint8(v)
	}
	lencode, err := newHuffman(clen[:])
	if err != nil {
		return err
	}

	lengths := make([]uint8, nlen+ndist)
	for i := 0; i < len(lengths); {
		sym, err := z.decode(lencode)
		if err != nil {
			return err
		}
		if sym < 16 {
			lengths[i] = uint8(sym)
			i++
			continue
		}
		var value uint8
		var repeat uint32
		switch sym {
		case 16:
			if i == 0 {
				return errInflate
			}
			value = lengths[i-1]
			repeat, err = z.bits(2)
			repeat += 3
		case 17:
			repeat, err = z.bits(3)
			repeat += 3
		default:
			repeat, err = z.bits(7)
			repeat += 11
		}
		if err != nil {
			return err
		}
		if i+int(repeat) > len(lengths) {
			return errInflate
		}
		for ; repeat > 0; repeat-- {
			lengths[i] = value
			i++
		}
	}
	if lengths[256] == 0 {
		return errInflate
	}
	lit, err := newHuffman(lengths[:nlen])
	if err != nil {
		return err
	}
	dist, err := newHuffman(lengths[nlen:])
	if err != nil {
		return err
	}
	return z.codes(lit, dist)
}

func (z *inflater) codes(lit, dist *huffman) error {
	for {
		sym, err := z.decode(lit)
		if err != nil {
			return err
		}
		switch {
		case sym < 256:
			z.put(byte(sym))
			continue
		case sym == 256:
			return nil
		}
		sym -= 257
		if sym >= 29 {
			return errInflate
		}
		extra, err := z.bits(uint(lengthExtra[sym]))
		if err != nil {
			return err
		}
		length := int(lengthBase[sym]) + int(extra)
		dsym, err := z.decode(dist)
		if err != nil {
			return err
		}
		if dsym >= 30 {
			return errInflate
		}
		extra, err = z.bits(uint(distExtra[dsym]))
		if err != nil {
			return err
		}
		distance := int(distBase[dsym]) + int(extra)
		if distance > len(z.history) {
			return errInflate
		}
		for ; length > 0; length-- {
			z.put(z.history[len(z.history)-distance])
		}
	}
}
