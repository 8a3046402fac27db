package sshserver

import (
	"encoding/binary"

	"github.com/decnet/decnet/decoys/ssh/internal/umac"
)

// umacMAC adapts UMAC to MAC: OpenSSH passes the sequence number, widened
// to 64 bits big-endian, as the nonce rather than as data.
type umacMAC struct{ m *umac.MAC }

func (u umacMAC) Size() int { return u.m.Size() }

func (u umacMAC) Sum(dst []byte, seq uint32, data []byte) []byte {
	var nonce [8]byte
	binary.BigEndian.PutUint64(nonce[:], uint64(seq))
	return u.m.Sum(dst, nonce, data)
}

func umacSpec(tagSize int, etm bool) macSpec {
	return macSpec{keyBytes: umac.KeySize, etm: etm, newMAC: func(key []byte) (MAC, error) {
		m, err := umac.New(key, tagSize)
		if err != nil {
			return nil, err
		}
		return umacMAC{m}, nil
	}}
}

// umacSpecs returns the UMAC MACs of OpenSSH.
func umacSpecs() map[string]macSpec {
	return map[string]macSpec{
		"umac-64-etm@openssh.com":  umacSpec(8, true),
		"umac-128-etm@openssh.com": umacSpec(16, true),
		"umac-64@openssh.com":      umacSpec(8, false),
		"umac-128@openssh.com":     umacSpec(16, false),
	}
}
