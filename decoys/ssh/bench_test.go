package ssh

import (
	"testing"

	"golang.org/x/crypto/ssh"
)

// BenchmarkPasswordAttempt measures one rejected password with the failure
// delay set to 0. The "connection" case opens a connection, with its full
// handshake, per attempt. The "same_connection" case sends up to 120
// attempts per connection with MaxAuthTries lifted. Both figures include
// the x/crypto/ssh client, which runs in the same process.
func BenchmarkPasswordAttempt(b *testing.B) {
	b.Run("connection", func(b *testing.B) {
		ts := startService(b, nil)
		cfg := &ssh.ClientConfig{
			User:            "root",
			Auth:            []ssh.AuthMethod{ssh.Password("123456")},
			HostKeyCallback: ssh.InsecureIgnoreHostKey(),
		}
		for b.Loop() {
			if c, err := ssh.Dial("tcp", ts.addr, cfg); err == nil {
				_ = c.Close()
				b.Fatal("login succeeded")
			}
		}
	})

	b.Run("same_connection", func(b *testing.B) {
		ts := startService(b, func(s *Service) { s.persona.maxAuthTries = -1 })
		// x/crypto/ssh serves at most 128 requests per connection, so
		// the attempts are spread over as many connections as needed.
		const perConnection = 120
		remaining := b.N
		b.ResetTimer()
		for remaining > 0 {
			n := min(remaining, perConnection)
			remaining -= n
			cfg := &ssh.ClientConfig{
				User:            "root",
				Auth:            []ssh.AuthMethod{ssh.RetryableAuthMethod(ssh.Password("123456"), n)},
				HostKeyCallback: ssh.InsecureIgnoreHostKey(),
			}
			if c, err := ssh.Dial("tcp", ts.addr, cfg); err == nil {
				_ = c.Close()
				b.Fatal("login succeeded")
			}
		}
	})
}
