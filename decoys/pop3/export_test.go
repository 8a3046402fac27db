package pop3

import "github.com/decnet/decnet/decoys/mailbox"

// inboxFor returns the INBOX the decoy shows user.
func (s *Service) inboxFor(user string) *mailbox.Folder {
	return mailbox.Generate(s.seed, mailbox.Options{User: user, Domain: s.host, Now: s.now()}).Folder(mailbox.Inbox)
}
