package imap

import "github.com/decnet/decnet/decoys/mailbox"

// mailboxFor returns the mailbox the decoy shows user.
func (s *Service) mailboxFor(user string) *mailbox.Mailbox {
	return mailbox.Generate(s.seed, mailbox.Options{User: user, Domain: s.host, Now: s.now()})
}
