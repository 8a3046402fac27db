// Package mailbox holds what the POP3 and IMAP decoys share: the mailbox
// a decky shows after an accepted login, generated from its seed; the
// self-signed certificate that STARTTLS presents; SASL decoding; the
// per-source authentication penalty that Dovecot's anvil applies; and the
// connection wrapper with its line caps and STARTTLS.
package mailbox

import (
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Folder names, as a Debian Dovecot with 15-mailboxes.conf lists them once
// a client has created them.
const (
	Inbox  = "INBOX"
	Sent   = "Sent"
	Drafts = "Drafts"
	Trash  = "Trash"
	Junk   = "Junk"
)

// Address is one mailbox of an address header, split as an IMAP ENVELOPE
// needs it.
type Address struct {
	Name    string // display name, may be empty
	Mailbox string // local part
	Host    string // domain
}

// String returns the address as a header value.
func (a Address) String() string {
	if a.Name == "" {
		return a.Mailbox + "@" + a.Host
	}
	return a.Name + " <" + a.Mailbox + "@" + a.Host + ">"
}

// Header is one header field as it appears in the message.
type Header struct {
	Name  string
	Value string
}

// Message is one stored message. Raw uses CRLF line ends, as Dovecot
// reports sizes for them.
type Message struct {
	UID      uint32
	Raw      []byte
	Internal time.Time // the delivery time (IMAP INTERNALDATE)
	Seen     bool

	Headers   []Header
	Date      string // the Date header as sent
	Subject   string
	From      Address
	To        []Address
	MessageID string
	Charset   string // of the text/plain body; "" when no Content-Type
	Encoding  string // Content-Transfer-Encoding; "" when absent

	HeaderSize int // bytes of the header block, with its empty line
	BodyLines  int // lines of the body
}

// Body returns the body bytes.
func (m *Message) Body() []byte { return m.Raw[m.HeaderSize:] }

// Folder is one mailbox folder.
type Folder struct {
	Name string
	// SpecialUse is the RFC 6154 attribute, such as `\Sent`, or "".
	SpecialUse  string
	UIDValidity uint32
	Messages    []*Message
}

// UIDNext is the UID the next message would get.
func (f *Folder) UIDNext() uint32 {
	if len(f.Messages) == 0 {
		return 1
	}
	return f.Messages[len(f.Messages)-1].UID + 1
}

// Mailbox is the folders of one account. Folders lists them in the order
// a LIST reply shows them.
type Mailbox struct {
	Folders []*Folder
}

// Folder returns the folder named name (INBOX in any case), or nil.
func (m *Mailbox) Folder(name string) *Folder {
	for _, f := range m.Folders {
		if f.Name == name || f.Name == Inbox && strings.EqualFold(name, Inbox) {
			return f
		}
	}
	return nil
}

// Options describe the account a mailbox belongs to.
type Options struct {
	// User is the login name; its mailbox address is User@Domain.
	User string
	// Domain is the mail domain of the decky, such as its host name.
	Domain string
	// Now anchors message dates: messages are dated in the 30 days
	// before the start of Now's day (UTC), so a mailbox stays the same
	// for a whole day.
	Now time.Time
}

// HKDF labels of the values derived here.
const (
	infoMailbox     = "decnet decoys/mailbox content"
	infoUIDValidity = "decnet decoys/mailbox uidvalidity"
)

// uidValidityEpoch is the earliest UIDVALIDITY a decky gets: Dovecot sets it
// to the folder's creation time, so it reads as an install date between
// 2023 and 2025.
var uidValidityEpoch = time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)

// Generate returns the mailbox of opts.User on a decky with this seed.
// The same seed, user and day give the same bytes.
func Generate(seed []byte, opts Options) *Mailbox {
	r := seededRand(seed, infoMailbox+"\x00"+opts.User)
	day := opts.Now.UTC().Truncate(24 * time.Hour)
	self := Address{Mailbox: localPart(opts.User), Host: domainOr(opts.Domain)}
	self.Name = displayName(self.Mailbox)

	created := installTime(seed)
	folders := map[string]*Folder{
		Inbox:  {Name: Inbox, UIDValidity: uint32(created.Unix())},
		Sent:   {Name: Sent, SpecialUse: `\Sent`, UIDValidity: uint32(created.Unix()) + 1},
		Drafts: {Name: Drafts, SpecialUse: `\Drafts`, UIDValidity: uint32(created.Unix()) + 2},
		Trash:  {Name: Trash, SpecialUse: `\Trash`, UIDValidity: uint32(created.Unix()) + 3},
		Junk:   {Name: Junk, SpecialUse: `\Junk`, UIDValidity: uint32(created.Unix()) + 4},
	}

	inbox := folders[Inbox]
	n := 5 + r.IntN(4)
	order := r.Perm(len(inboxTemplates))
	for i := 0; i < n; i++ {
		t := inboxTemplates[order[i%len(order)]]
		from := randomPerson(r, t.external)
		age := time.Duration(n-i)*(72*time.Hour) - time.Duration(r.IntN(48*3600))*time.Second
		m := compose(r, composeArgs{
			uid: uint32(i + 1), from: from, to: self, when: day.Add(-age),
			subject: t.subject, body: fillBody(t.body, from, self),
		})
		// The newest two are unread, as in a mailbox someone checks.
		m.Seen = i < n-2
		inbox.Messages = append(inbox.Messages, m)
	}

	sent := folders[Sent]
	for i := 0; i < 2; i++ {
		t := sentTemplates[r.IntN(len(sentTemplates))]
		to := randomPerson(r, false)
		age := time.Duration(2-i)*(96*time.Hour) + time.Duration(r.IntN(12*3600))*time.Second
		m := compose(r, composeArgs{
			uid: uint32(i + 1), from: self, to: to, when: day.Add(-age),
			subject: t.subject, body: fillBody(t.body, self, to),
		})
		m.Seen = true
		sent.Messages = append(sent.Messages, m)
	}

	junk := folders[Junk]
	spam := compose(r, composeArgs{
		uid: 1, from: Address{Name: "Account Security", Mailbox: "no-reply", Host: junkDomains[r.IntN(len(junkDomains))]},
		to: self, when: day.Add(-time.Duration(24+r.IntN(200)) * time.Hour),
		subject: "Action required: verify your mailbox",
		body:    "Dear user,\n\nYour mailbox storage is almost full. Verify your account within 24 hours\nto avoid suspension.\n\nMail Administrator\n",
	})
	junk.Messages = append(junk.Messages, spam)

	// Dovecot lists maildir folders in directory order, which varies
	// per host; INBOX comes last.
	others := []string{Trash, Sent, Drafts, Junk}
	r.Shuffle(len(others), func(i, j int) { others[i], others[j] = others[j], others[i] })
	mb := &Mailbox{}
	for _, name := range others {
		mb.Folders = append(mb.Folders, folders[name])
	}
	mb.Folders = append(mb.Folders, inbox)
	return mb
}

// installTime derives the creation time of the decky's folders.
func installTime(seed []byte) time.Time {
	r := seededRand(seed, infoUIDValidity)
	return uidValidityEpoch.Add(time.Duration(r.Int64N(int64(2 * 365 * 24 * time.Hour))))
}

func seededRand(seed []byte, label string) *rand.Rand {
	key, err := hkdf.Key(sha256.New, seed, nil, label, 32)
	if err != nil {
		// hkdf.Key fails only for an output longer than 255 hashes,
		// and this asks for one.
		panic(fmt.Sprintf("derive mailbox key: %v", err))
	}
	return rand.New(rand.NewChaCha8([32]byte(key))) //nolint:gosec // G404: a stream keyed from the decky seed, reproducible by design
}

func localPart(user string) string {
	if i := strings.IndexByte(user, '@'); i > 0 {
		user = user[:i]
	}
	if user == "" || len(user) > 64 || !isAtomText(user) {
		return "user"
	}
	return strings.ToLower(user)
}

func domainOr(domain string) string {
	if domain == "" || !isAtomText(strings.ReplaceAll(domain, ".", "")) {
		return "localhost"
	}
	return strings.ToLower(domain)
}

func isAtomText(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isAtomByte(s[i]) {
			return false
		}
	}
	return s != ""
}

func isAtomByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_'
}

func displayName(local string) string {
	first, last, ok := strings.Cut(local, ".")
	if !ok {
		return ""
	}
	return capitalize(first) + " " + capitalize(last)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func randomPerson(r *rand.Rand, external bool) Address {
	first := firstNames[r.IntN(len(firstNames))]
	last := lastNames[r.IntN(len(lastNames))]
	domains := partnerDomains
	if external {
		domains = serviceDomains
	}
	return Address{
		Name:    first + " " + last,
		Mailbox: strings.ToLower(first) + "." + strings.ToLower(last),
		Host:    domains[r.IntN(len(domains))],
	}
}

func fillBody(body string, from, to Address) string {
	firstOf := func(a Address) string {
		name, _, _ := strings.Cut(a.Name, " ")
		if name == "" {
			return a.Mailbox
		}
		return name
	}
	return strings.NewReplacer("{from}", firstOf(from), "{to}", firstOf(to)).Replace(body)
}

type composeArgs struct {
	uid     uint32
	from    Address
	to      Address
	when    time.Time
	subject string
	body    string
}

// compose builds a plain-text message with the header order a message
// delivered by Postfix through Dovecot LDA shows.
func compose(r *rand.Rand, a composeArgs) *Message {
	// Senders write in their own zone; delivery is logged in UTC.
	zone := time.FixedZone("", zoneOffsets[r.IntN(len(zoneOffsets))])
	sentAt := a.when.In(zone)
	msgID := fmt.Sprintf("<%s.%s@%s>", randomToken(r, 12), randomToken(r, 8), a.from.Host)

	m := &Message{
		UID:       a.uid,
		Internal:  a.when.Add(time.Duration(2+r.IntN(40)) * time.Second).UTC().Truncate(time.Second),
		Date:      sentAt.Format("Mon, 2 Jan 2006 15:04:05 -0700"),
		Subject:   a.subject,
		From:      a.from,
		To:        []Address{a.to},
		MessageID: msgID,
		Charset:   "utf-8",
		Encoding:  "7bit",
	}
	m.Headers = []Header{
		{"Return-Path", "<" + a.from.Mailbox + "@" + a.from.Host + ">"},
		{"Date", m.Date},
		{"From", a.from.String()},
		{"To", a.to.String()},
		{"Subject", a.subject},
		{"Message-ID", msgID},
		{"MIME-Version", "1.0"},
		{"Content-Type", "text/plain; charset=utf-8"},
		{"Content-Transfer-Encoding", "7bit"},
	}

	var b strings.Builder
	for _, h := range m.Headers {
		b.WriteString(h.Name + ": " + h.Value + "\r\n")
	}
	b.WriteString("\r\n")
	m.HeaderSize = b.Len()
	body := strings.ReplaceAll(strings.TrimRight(a.body, "\n")+"\n", "\n", "\r\n")
	b.WriteString(body)
	m.BodyLines = strings.Count(body, "\n")
	m.Raw = []byte(b.String())
	return m
}

const tokenAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

func randomToken(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = tokenAlphabet[r.IntN(len(tokenAlphabet))]
	}
	return string(b)
}

// HostName is the host name a decky's mail services use in certificates
// and banners: the decky name when it is a valid host name, otherwise
// "localhost".
func HostName(decky string) string {
	name := strings.ToLower(decky)
	if name == "" || len(name) > 253 {
		return "localhost"
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '.' {
			return "localhost"
		}
	}
	return name
}
