package imap

import (
	"fmt"
	"strings"
	"time"

	"github.com/decnet/decnet/decoys/mailbox"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// The commands here change the mailbox for the rest of the session only,
// and the next session gets the generated mailbox again. Replies are Dovecot
// 2.3.19's, checked against Debian 12's dovecot-imapd.

// channelAppend is the FileCaptured channel of a message sent with APPEND.
const channelAppend = "imap_append"

// maxFolders caps the folders one session may create.
const maxFolders = 64

func (c *conn) mutateCommand(cmd *command, args []arg) (bool, error) {
	switch cmd.name {
	case "SUBSCRIBE", "UNSUBSCRIBE":
		if len(args) != 1 || !args[0].isAstring() {
			return true, c.cmdError(cmd, "Invalid arguments.")
		}
		name := canonical(args[0].str())
		if cmd.name == "SUBSCRIBE" {
			c.subscribed[name] = true
		} else {
			delete(c.subscribed, name)
		}
		return true, c.ok(cmd, "")
	case "CREATE":
		return true, c.cmdCreate(cmd, args)
	case "DELETE":
		return true, c.cmdDelete(cmd, args)
	case "RENAME":
		return true, c.cmdRename(cmd, args)
	case "APPEND":
		return true, c.cmdAppend(cmd, args)
	}
	return false, nil
}

// specialUse is the attribute Debian's 15-mailboxes.conf gives a folder
// name: Dovecot ties it to the name, not to the folder.
func specialUse(name string) string {
	switch name {
	case mailbox.Drafts:
		return `\Drafts`
	case mailbox.Junk:
		return `\Junk`
	case mailbox.Sent, "Sent Messages":
		return `\Sent`
	case mailbox.Trash:
		return `\Trash`
	}
	return ""
}

// canonical spells INBOX in upper case, as IMAP names it in any case.
func canonical(name string) string {
	if strings.EqualFold(name, mailbox.Inbox) {
		return mailbox.Inbox
	}
	return name
}

func (c *conn) noMailbox(cmd *command, name string) error {
	return c.done(cmd.tag, "NO [NONEXISTENT] Mailbox doesn't exist: "+name)
}

func (c *conn) cmdCreate(cmd *command, args []arg) error {
	if len(args) != 1 || !args[0].isAstring() || args[0].str() == "" {
		return c.cmdError(cmd, "Invalid arguments.")
	}
	name := strings.TrimSuffix(canonical(args[0].str()), ".")
	if c.folder(name) != nil {
		return c.done(cmd.tag, "NO [ALREADYEXISTS] Mailbox already exists")
	}
	if len(c.box.Folders) >= maxFolders {
		return c.done(cmd.tag, "NO [LIMIT] Mailbox can't be created: too many mailboxes")
	}
	c.box.Folders = append(c.box.Folders, &mailbox.Folder{Name: name, SpecialUse: specialUse(name), UIDValidity: uint32(c.s.now().Unix())})
	return c.ok(cmd, "")
}

func (c *conn) cmdDelete(cmd *command, args []arg) error {
	if len(args) != 1 || !args[0].isAstring() {
		return c.cmdError(cmd, "Invalid arguments.")
	}
	name := canonical(args[0].str())
	f := c.folder(name)
	if f == nil {
		return c.noMailbox(cmd, name)
	}
	if f.Name == mailbox.Inbox {
		return c.done(cmd.tag, "NO INBOX can't be deleted.")
	}
	if c.selected == f {
		c.selected = nil
	}
	c.box.Folders = removeFolder(c.box.Folders, f)
	return c.ok(cmd, "")
}

func removeFolder(list []*mailbox.Folder, f *mailbox.Folder) []*mailbox.Folder {
	out := list[:0]
	for _, x := range list {
		if x != f {
			out = append(out, x)
		}
	}
	return out
}

func (c *conn) cmdRename(cmd *command, args []arg) error {
	if len(args) != 2 || !args[0].isAstring() || !args[1].isAstring() {
		return c.cmdError(cmd, "Invalid arguments.")
	}
	from, to := canonical(args[0].str()), canonical(args[1].str())
	f := c.folder(from)
	if f == nil {
		return c.noMailbox(cmd, from)
	}
	if c.folder(to) != nil {
		return c.done(cmd.tag, "NO [ALREADYEXISTS] Target mailbox already exists")
	}
	if f.Name == mailbox.Inbox {
		// Renaming INBOX moves its messages and leaves it empty.
		moved := &mailbox.Folder{Name: to, SpecialUse: specialUse(to), UIDValidity: uint32(c.s.now().Unix()), Messages: f.Messages}
		f.Messages = nil
		c.box.Folders = append(c.box.Folders, moved)
		return c.ok(cmd, "")
	}
	f.Name, f.SpecialUse = to, specialUse(to)
	return c.ok(cmd, "")
}

// cmdAppend stores the message for the session and sends its bytes to the
// quarantine, since an APPEND is an upload.
func (c *conn) cmdAppend(cmd *command, args []arg) error {
	if len(args) < 2 || !args[0].isAstring() || args[len(args)-1].typ != argLiteral {
		return c.cmdError(cmd, "Invalid arguments.")
	}
	name := canonical(args[0].str())
	data := args[len(args)-1].val

	file := c.s.quarantine.NewFile()
	_, _ = file.Write(data)
	res := file.Close()
	c.sess.FileCaptured(&eventv1.FileCaptured{
		Sha256:    res.SHA256,
		Size:      res.Size,
		Truncated: res.Truncated,
		Name:      strings.ToValidUTF8(capString(name, maxEventLine), "\uFFFD"),
		Channel:   channelAppend,
		Stored:    res.Stored,
	})

	f := c.folder(name)
	if f == nil {
		return c.done(cmd.tag, "NO [TRYCREATE] Mailbox doesn't exist: "+name)
	}
	m := parseAppended(data, f.UIDNext(), c.s.now())
	f.Messages = append(f.Messages, m)
	return c.done(cmd.tag, fmt.Sprintf("OK [APPENDUID %d %d] Append completed.", f.UIDValidity, m.UID))
}

func capString(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// parseAppended builds a message from appended bytes, reading only what
// FETCH shows: the header block and the Subject, Date and Message-ID.
func parseAppended(raw []byte, uid uint32, now time.Time) *mailbox.Message {
	m := &mailbox.Message{UID: uid, Raw: raw, Internal: now.UTC().Truncate(time.Second), HeaderSize: len(raw)}
	if i := strings.Index(string(raw), "\r\n\r\n"); i >= 0 {
		m.HeaderSize = i + 4
	}
	for _, line := range strings.Split(string(raw[:m.HeaderSize]), "\r\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		m.Headers = append(m.Headers, mailbox.Header{Name: name, Value: value})
		switch strings.ToLower(name) {
		case "subject":
			m.Subject = value
		case "date":
			m.Date = value
		case "message-id":
			m.MessageID = value
		}
	}
	m.BodyLines = strings.Count(string(m.Body()), "\n")
	return m
}

// cmdCopy copies (or, for MOVE, moves) messages into another folder for
// the session.
func (c *conn) cmdCopy(cmd *command, args []arg) error {
	if len(args) != 2 || args[0].typ != argAtom || !args[1].isAstring() {
		return c.cmdError(cmd, "Invalid arguments.")
	}
	msgs, ok := c.resolveSet(cmd, args[0].str())
	if !ok {
		return c.cmdError(cmd, "Invalid messageset")
	}
	name := canonical(args[1].str())
	dst := c.folder(name)
	if dst == nil {
		return c.done(cmd.tag, "NO [TRYCREATE] Mailbox doesn't exist: "+name)
	}
	if len(msgs) == 0 {
		return c.ok(cmd, "")
	}
	var src, out []string
	for _, m := range msgs {
		dup := *m
		dup.UID = dst.UIDNext()
		dst.Messages = append(dst.Messages, &dup)
		src = append(src, fmt.Sprint(m.UID))
		out = append(out, fmt.Sprint(dup.UID))
	}
	code := fmt.Sprintf("[COPYUID %d %s %s] ", dst.UIDValidity, compactSet(src), compactSet(out))
	// NOTE: MOVE reports the copy but leaves the source messages in
	// place, since the decoy sends no EXPUNGE responses.
	return c.ok(cmd, code)
}

// compactSet joins numbers in ascending runs as "1:3,5".
func compactSet(nums []string) string {
	var parts []string
	for i := 0; i < len(nums); {
		j := i
		for j+1 < len(nums) && atoiOr(nums[j+1]) == atoiOr(nums[j])+1 {
			j++
		}
		if j == i {
			parts = append(parts, nums[i])
		} else {
			parts = append(parts, nums[i]+":"+nums[j])
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

func atoiOr(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
