package imap

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/decnet/decnet/decoys/mailbox"
)

// Limits of the logged-in process (src/imap): imap_max_line_length, the
// bad-command count before the close, the IDLE keepalive
// (imap_idle_notify_interval) and the longest IDLE the decoy allows.
const (
	maxCommandLine = 64 << 10
	idleKeepalive  = 2 * time.Minute
	idleMax        = 30 * time.Minute
)

// authenticated serves the mailbox after login.
func (c *conn) authenticated() error {
	c.box = mailbox.Generate(c.s.seed, mailbox.Options{User: c.user, Domain: c.s.host, Now: c.s.now()})
	c.seen = map[*mailbox.Message]bool{}
	c.modseq = map[*mailbox.Message]int{}
	c.subscribed = map[string]bool{}
	c.highest = 2
	c.bad = 0
	c.w.SetReadTimeout(c.s.limits.ReadTimeout)
	for {
		cmd, ok, err := c.readCommand(maxCommandLine, 0)
		if err != nil {
			return err
		}
		if !ok {
			msg := "BAD Error in IMAP command: Invalid command name."
			if cmd.tag == "" {
				msg = "BAD Error in IMAP tag: Invalid tag."
			}
			if err := c.bad2(cmd.tag, msg); err != nil {
				return err
			}
			continue
		}
		c.command(cmd.raw)
		if cmd.name == "UID" {
			name, ok := cmd.src.readAtomWord(false)
			if !ok {
				if err := c.bad2(cmd.tag, "BAD Error in IMAP command: Invalid command name."); err != nil {
					return err
				}
				continue
			}
			cmd.name = "UID " + strings.ToUpper(name)
		}
		if err := c.selectedCommand(cmd); err != nil {
			return err
		}
	}
}

// done sends a tagged reply with Dovecot's timing.
func (c *conn) done(tag, text string) error {
	if c.p.timing {
		text = strings.TrimSuffix(text, ".") + c.timing()
	}
	return c.tagged(tag, text)
}

// bad2 sends a BAD for a command error and counts it.
func (c *conn) bad2(tag, text string) error {
	if c.p.postBadPrefix != "" {
		text = c.p.postBadPrefix
	}
	if err := c.done(tag, text); err != nil {
		return err
	}
	c.bad++
	if c.p.postMaxBad > 0 && c.bad >= c.p.postMaxBad {
		_ = c.line("* BYE Too many invalid IMAP commands.")
		return errClose{reasonTooManyBad}
	}
	return nil
}

func (c *conn) cmdError(cmd *command, msg string) error {
	return c.bad2(cmd.tag, "BAD Error in IMAP command "+cmd.name+": "+msg)
}

func (c *conn) ok(cmd *command, prefix string) error {
	word := c.p.completedName(strings.TrimPrefix(cmd.name, "UID "))
	if c.p.okText != nil {
		return c.done(cmd.tag, c.p.okText(word, prefix))
	}
	return c.done(cmd.tag, "OK "+prefix+word+" completed.")
}

func (c *conn) selectedCommand(cmd *command) error {
	args, err := cmd.src.args()
	if err != nil {
		var pe *parseError
		if errors.As(err, &pe) && !pe.fatal {
			return c.cmdError(cmd, pe.msg)
		}
		return err
	}

	switch cmd.name {
	case "CAPABILITY":
		if err := c.line("* CAPABILITY " + c.p.postCaps); err != nil {
			return err
		}
		return c.ok(cmd, "")
	case "NOOP", "CHECK":
		return c.ok(cmd, "")
	case "LOGOUT":
		_ = c.line(c.p.logoutBye)
		_ = c.done(cmd.tag, c.p.logoutDone)
		return errClose{reasonQuit}
	case "ID":
		if err := c.line(`* ID ("name" "` + c.idName() + `")`); err != nil {
			return err
		}
		return c.ok(cmd, "")
	case "NAMESPACE":
		if err := c.line(c.p.namespace); err != nil {
			return err
		}
		return c.ok(cmd, "")
	case "ENABLE":
		var enabled []string
		for _, a := range args {
			if v := strings.ToUpper(a.str()); v == "CONDSTORE" || v == "QRESYNC" {
				c.enableCondstore()
				enabled = append(enabled, v)
			}
		}
		if err := c.line(strings.TrimSpace("* ENABLED " + strings.Join(enabled, " "))); err != nil {
			return err
		}
		return c.ok(cmd, "")
	case "LIST", "LSUB":
		return c.cmdList(cmd, args)
	case "STATUS":
		return c.cmdStatus(cmd, args)
	case "SELECT", "EXAMINE":
		return c.cmdSelect(cmd, args)
	case "IDLE":
		return c.cmdIdle(cmd)
	}

	if handled, err := c.mutateCommand(cmd, args); handled {
		return err
	}
	switch cmd.name {
	case "FETCH", "UID FETCH", "SEARCH", "UID SEARCH", "CLOSE", "UNSELECT", "EXPUNGE", "UID EXPUNGE",
		"STORE", "UID STORE", "COPY", "UID COPY", "MOVE", "UID MOVE":
		if c.selected == nil {
			return c.bad2(cmd.tag, "BAD No mailbox selected.")
		}
	default:
		return c.cmdError(cmd, "Unknown command.")
	}
	switch cmd.name {
	case "FETCH", "UID FETCH":
		return c.cmdFetch(cmd, args)
	case "SEARCH", "UID SEARCH":
		return c.cmdSearch(cmd, args)
	case "STORE", "UID STORE":
		return c.cmdStore(cmd, args)
	case "COPY", "UID COPY", "MOVE", "UID MOVE":
		return c.cmdCopy(cmd, args)
	case "CLOSE", "UNSELECT":
		c.selected = nil
		return c.ok(cmd, "")
	}
	// EXPUNGE: nothing carries \Deleted, so nothing goes.
	return c.ok(cmd, "")
}

func quoteName(name string) string {
	for i := 0; i < len(name); i++ {
		if isAtomSpecialInput(name[i]) || name[i] == '%' || name[i] == '*' || name[i] == '\\' {
			return strconv.Quote(name)
		}
	}
	return name
}

// matchPattern implements LIST wildcards: '*' matches anything, '%'
// anything but the separator '.'. It runs in O(len(pattern)*len(name)):
// attacker-sent patterns full of wildcards must not backtrack
// exponentially.
func matchPattern(pattern, name string) bool {
	// prev[j] reports whether pattern[:i] matches name[:j].
	prev := make([]bool, len(name)+1)
	cur := make([]bool, len(name)+1)
	prev[0] = true
	for i := 0; i < len(pattern); i++ {
		p := pattern[i]
		cur[0] = prev[0] && (p == '*' || p == '%')
		for j := 1; j <= len(name); j++ {
			switch p {
			case '*':
				cur[j] = prev[j] || cur[j-1]
			case '%':
				cur[j] = prev[j] || cur[j-1] && name[j-1] != '.'
			default:
				cur[j] = prev[j-1] && name[j-1] == p
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(name)]
}

func (c *conn) cmdList(cmd *command, args []arg) error {
	// LIST-EXTENDED selection options are accepted and ignored.
	if len(args) > 0 && args[0].typ == argList {
		args = args[1:]
	}
	if len(args) < 2 || !args[0].isAstring() || !args[1].isAstring() && args[1].typ != argList {
		return c.cmdError(cmd, "Invalid arguments.")
	}
	ref := args[0].str()
	var patterns []string
	if args[1].typ == argList {
		for _, a := range args[1].list {
			patterns = append(patterns, a.str())
		}
	} else {
		patterns = []string{args[1].str()}
	}
	if cmd.name == "LIST" && len(patterns) == 1 && patterns[0] == "" {
		if err := c.line(`* LIST (\Noselect) "." ""`); err != nil {
			return err
		}
		return c.ok(cmd, "")
	}
	if cmd.name == "LIST" {
		for _, f := range c.box.Folders {
			for _, pat := range patterns {
				name := c.folderName(f)
				full := ref + pat
				if strings.EqualFold(full, "INBOX") {
					full = "INBOX"
				}
				if !matchPattern(full, name) {
					continue
				}
				if err := c.line(fmt.Sprintf(`* LIST (%s) "." %s`, c.listFlags(f), c.nameOnWire(name))); err != nil {
					return err
				}
				break
			}
		}
	}
	if cmd.name == "LSUB" {
		if err := c.listSubscribed(ref, patterns); err != nil {
			return err
		}
	}
	return c.ok(cmd, "")
}

// listSubscribed sends the LSUB lines. Only what this session subscribed
// is listed, since a fresh Dovecot account has no subscriptions.
func (c *conn) listSubscribed(ref string, patterns []string) error {
	for _, f := range c.box.Folders {
		if !c.subscribed[f.Name] {
			continue
		}
		for _, pat := range patterns {
			if matchPattern(canonical(ref+pat), f.Name) {
				if err := c.line(fmt.Sprintf(`* LSUB () "." %s`, quoteName(f.Name))); err != nil {
					return err
				}
				break
			}
		}
	}
	return nil
}

func (c *conn) unseen(f *mailbox.Folder) int {
	n := 0
	for _, m := range f.Messages {
		if !c.isSeen(m) {
			n++
		}
	}
	return n
}

func (c *conn) isSeen(m *mailbox.Message) bool { return m.Seen || c.seen[m] }

func (c *conn) highestModseq() int { return c.highest }

// markSeen sets \Seen on m for this session and bumps the modseq.
func (c *conn) markSeen(m *mailbox.Message) {
	if c.isSeen(m) {
		return
	}
	c.seen[m] = true
	c.highest++
	c.modseq[m] = c.highest
}

// enableCondstore starts modseq tracking: like Dovecot enabling it on a
// mailbox for the first time, every unchanged message gets the current
// highest modseq.
func (c *conn) enableCondstore() {
	if !c.condstore {
		c.condstore = true
		c.modseqFloor = c.highest
	}
}

func (c *conn) modseqOf(m *mailbox.Message) int {
	c.enableCondstore()
	if v, ok := c.modseq[m]; ok && v > c.modseqFloor {
		return v
	}
	return c.modseqFloor
}

func (c *conn) cmdStatus(cmd *command, args []arg) error {
	if len(args) != 2 || !args[0].isAstring() || args[1].typ != argList || len(args[1].list) == 0 {
		return c.cmdError(cmd, "Invalid arguments.")
	}
	f := c.folder(args[0].str())
	if f == nil {
		return c.done(cmd.tag, c.missingFolder(args[0].str()))
	}

	want := map[string]bool{}
	for _, a := range args[1].list {
		item := strings.ToUpper(a.str())
		switch item {
		case "MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "HIGHESTMODSEQ", "SIZE":
			want[item] = true
		default:
			return c.cmdError(cmd, "Invalid status item "+item)
		}
	}

	// Dovecot writes the items in this fixed order (imap-status.c).
	var parts []string
	add := func(item string, v int64) {
		if want[item] {
			parts = append(parts, fmt.Sprintf("%s %d", item, v))
		}
	}
	size := 0
	for _, m := range f.Messages {
		size += len(m.Raw)
	}
	add("MESSAGES", int64(len(f.Messages)))
	add("RECENT", 0)
	add("UIDNEXT", int64(f.UIDNext()))
	add("UIDVALIDITY", int64(f.UIDValidity))
	add("UNSEEN", int64(c.unseen(f)))
	add("HIGHESTMODSEQ", int64(c.highestModseq()))
	add("SIZE", int64(size))
	if err := c.line(fmt.Sprintf("* STATUS %s (%s)", c.nameOnWire(c.folderName(f)), strings.Join(parts, " "))); err != nil {
		return err
	}
	return c.ok(cmd, "")
}

func (c *conn) cmdSelect(cmd *command, args []arg) error {
	if len(args) < 1 || !args[0].isAstring() {
		return c.cmdError(cmd, "Invalid arguments.")
	}
	if len(args) > 1 && args[1].typ == argList {
		for _, a := range args[1].list {
			if strings.EqualFold(a.str(), "CONDSTORE") {
				c.enableCondstore()
			}
		}
	}
	var out []string
	if c.selected != nil && !c.p.courierList {
		out = append(out, "* OK [CLOSED] Previous mailbox closed.")
	}
	c.selected = nil
	f := c.folder(args[0].str())
	if f == nil {
		for _, l := range out {
			if err := c.line(l); err != nil {
				return err
			}
		}
		return c.done(cmd.tag, c.missingFolder(args[0].str()))
	}

	c.readOnly = cmd.name == "EXAMINE"
	if c.p.selectLines != nil {
		return c.finishSelect(cmd, f, append(out, c.p.selectLines(f, c.readOnly)...))
	}
	out = append(out, `* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)`)
	if c.readOnly {
		out = append(out, "* OK [PERMANENTFLAGS ()] Read-only mailbox.")
	} else {
		out = append(out, `* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted.`)
	}
	out = append(out, fmt.Sprintf("* %d EXISTS", len(f.Messages)), "* 0 RECENT")
	for i, m := range f.Messages {
		if !c.isSeen(m) {
			out = append(out, fmt.Sprintf("* OK [UNSEEN %d] First unseen.", i+1))
			break
		}
	}
	out = append(out,
		fmt.Sprintf("* OK [UIDVALIDITY %d] UIDs valid", f.UIDValidity),
		fmt.Sprintf("* OK [UIDNEXT %d] Predicted next UID", f.UIDNext()))
	if c.condstore {
		out = append(out, fmt.Sprintf("* OK [HIGHESTMODSEQ %d] Highest", c.highestModseq()))
	}

	return c.finishSelect(cmd, f, out)
}

// finishSelect sends the untagged lines out and the tagged reply, and
// selects f.
func (c *conn) finishSelect(cmd *command, f *mailbox.Folder, out []string) error {
	if err := c.w.WriteString(strings.Join(out, "\r\n") + "\r\n"); err != nil {
		return err
	}
	c.selected = f
	if c.opened == nil {
		c.opened = make(map[*mailbox.Folder]bool)
	}
	c.opened[f] = true
	if c.readOnly {
		return c.ok(cmd, "[READ-ONLY] ")
	}
	return c.ok(cmd, "[READ-WRITE] ")
}

func (c *conn) cmdIdle(cmd *command) error {
	if err := c.line("+ idling"); err != nil {
		return err
	}
	start := time.Now()
	for {
		ready, err := c.w.WaitInput(c.ctx, min(idleKeepalive, time.Until(start.Add(idleMax))))
		if err != nil {
			return err
		}
		if !ready {
			if time.Since(start) >= idleMax {
				_ = c.line(c.p.idleDisconnect)
				return errClose{reasonTimeout}
			}
			if err := c.line("* OK Still here"); err != nil {
				return err
			}
			continue
		}
		line, err := c.w.ReadLine(maxCommandLine, 0)
		if err != nil {
			return err
		}
		c.waited = time.Since(start)
		if strings.EqualFold(string(trimCR(line)), "DONE") {
			return c.done(cmd.tag, "OK Idle completed.")
		}
		return c.bad2(cmd.tag, "BAD Expected DONE.")
	}
}

func (c *conn) cmdStore(cmd *command, args []arg) error {
	if len(args) < 3 || args[0].typ != argAtom {
		return c.cmdError(cmd, "Invalid arguments.")
	}
	msgs, ok := c.resolveSet(cmd, args[0].str())
	if !ok {
		return c.cmdError(cmd, "Invalid messageset")
	}
	op := strings.ToUpper(args[1].str())
	var flags []arg
	if args[2].typ == argList {
		flags = args[2].list
	} else {
		flags = args[2:]
	}
	for _, m := range msgs {
		for _, f := range flags {
			if !strings.EqualFold(f.str(), `\Seen`) || c.readOnly {
				continue
			}
			switch {
			case strings.HasPrefix(op, "+FLAGS"), strings.HasPrefix(op, "FLAGS"):
				c.markSeen(m)
			}
		}
		if !strings.HasSuffix(op, ".SILENT") {
			idx := c.seqOf(m)
			if err := c.line(fmt.Sprintf("* %d FETCH (FLAGS (%s))", idx, c.flagList(m))); err != nil {
				return err
			}
		}
	}
	return c.ok(cmd, "")
}

func (c *conn) flagList(m *mailbox.Message) string {
	var flags []string
	if c.isSeen(m) {
		flags = append(flags, `\Seen`)
	}
	if c.p.courierList {
		// Courier counts every message of a first opening as recent.
		flags = append(flags, `\Recent`)
	}
	return strings.Join(flags, " ")
}

// missingFolder is the reply to STATUS, SELECT or EXAMINE of a missing
// folder.
func (c *conn) missingFolder(name string) string {
	if c.p.courierList {
		// NOTE: compared for STATUS only.
		return "NO Mailbox does not exist, or must be subscribed to."
	}
	return "NO Mailbox doesn't exist: " + name
}

// folder finds a folder by the name the client uses.
func (c *conn) folder(name string) *mailbox.Folder {
	if c.p.folderPrefix != "" && !strings.EqualFold(name, mailbox.Inbox) {
		rest, ok := strings.CutPrefix(name, c.p.folderPrefix)
		if !ok || strings.EqualFold(rest, mailbox.Inbox) {
			return nil
		}
		name = rest
	}
	return c.box.Folder(name)
}

// folderName is the name the client sees for f.
func (c *conn) folderName(f *mailbox.Folder) string {
	if f.Name == mailbox.Inbox || c.p.folderPrefix == "" {
		return f.Name
	}
	return c.p.folderPrefix + f.Name
}

// nameOnWire quotes a folder name as the persona does.
func (c *conn) nameOnWire(name string) string {
	if c.p.courierList {
		return strconv.Quote(name)
	}
	return quoteName(name)
}

// listFlags are the LIST attributes of f.
func (c *conn) listFlags(f *mailbox.Folder) string {
	if !c.p.courierList {
		flags := `\HasNoChildren`
		if f.SpecialUse != "" {
			flags += " " + f.SpecialUse
		}
		return flags
	}
	if f.Name != mailbox.Inbox {
		return `\HasNoChildren`
	}
	// Only INBOX carries a mark: \Marked once its messages were
	// counted as recent.
	mark := `\Unmarked`
	if c.opened[f] && len(f.Messages) > 0 {
		mark = `\Marked`
	}
	children := `\HasNoChildren`
	if len(c.box.Folders) > 1 {
		children = `\HasChildren`
	}
	return mark + " " + children
}

func (c *conn) seqOf(m *mailbox.Message) int {
	for i, x := range c.selected.Messages {
		if x == m {
			return i + 1
		}
	}
	return 0
}

// resolveSet returns the messages a sequence or UID set names. For
// sequence numbers, a number past the end makes the set invalid, as in
// Dovecot; UIDs past the end are skipped.
func (c *conn) resolveSet(cmd *command, set string) ([]*mailbox.Message, bool) {
	msgs := c.selected.Messages
	uid := strings.HasPrefix(cmd.name, "UID ")
	var maxN uint32
	if len(msgs) > 0 {
		maxN = uint32(len(msgs))
		if uid {
			maxN = msgs[len(msgs)-1].UID
		}
	}
	ranges := parseSeqSet(set, maxN)
	if ranges == nil {
		return nil, false
	}
	var out []*mailbox.Message
	for i, m := range msgs {
		n := uint32(i + 1)
		if uid {
			n = m.UID
		}
		if inSet(ranges, n) {
			out = append(out, m)
		}
	}
	if !uid {
		for _, r := range ranges {
			if r[1] > uint32(len(msgs)) || r[0] == 0 {
				return nil, false
			}
		}
	}
	return out, true
}
