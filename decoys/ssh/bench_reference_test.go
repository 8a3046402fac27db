package ssh

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"testing"

	"golang.org/x/crypto/ssh"
)

// BenchmarkReferencePasswordAttempt is the reference for
// BenchmarkPasswordAttempt/connection: a bare x/crypto/ssh server that
// rejects every password, with no persona, event capture or limits. The
// ratio of the two is what the decoy adds per connection.
func BenchmarkReferencePasswordAttempt(b *testing.B) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(key)
	if err != nil {
		b.Fatal(err)
	}
	serverCfg := &ssh.ServerConfig{
		PasswordCallback: func(ssh.ConnMetadata, []byte) (*ssh.Permissions, error) {
			return nil, errors.New("rejected")
		},
	}
	serverCfg.AddHostKey(signer)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_, _, _, _ = ssh.NewServerConn(conn, serverCfg)
			}()
		}
	}()

	clientCfg := &ssh.ClientConfig{
		User:            "root",
		Auth:            []ssh.AuthMethod{ssh.Password("123456")},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
	}
	for b.Loop() {
		if c, err := ssh.Dial("tcp", ln.Addr().String(), clientCfg); err == nil {
			_ = c.Close()
			b.Fatal("login succeeded")
		}
	}
}
