package sshserver

import (
	"io"

	"github.com/decnet/decnet/decoys/ssh/internal/sntrup761"
)

// sntrupKEX is sntrup761x25519-sha512: K is a 64-byte digest, encoded as
// a string rather than an mpint.
type sntrupKEX struct{}

func (sntrupKEX) ServerKEX(rand io.Reader, clientPub []byte) ([]byte, []byte, error) {
	serverPub, k, err := sntrup761.ServerKEX(rand, clientPub)
	if err != nil {
		return nil, nil, err
	}
	return serverPub, appendString(nil, k), nil
}
