package imap

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/decnet/decnet/decoys/mailbox"
)

// fetchItem is one FETCH data item.
type fetchItem struct {
	name    string   // FLAGS, UID, BODY, BODY.PEEK, ...
	section string   // HEADER, TEXT, HEADER.FIELDS, "" for the whole message
	fields  []string // of HEADER.FIELDS, upper case
	names   []string // the same as the client wrote them
	partial [2]int64 // origin and length of <a.b>; length < 0 when absent
	bracket bool     // BODY[...] rather than BODY, the structure
}

func parseFetchItems(args []arg) ([]fetchItem, bool) {
	var list []arg
	switch {
	case len(args) == 1 && args[0].typ == argList:
		list = args[0].list
	case len(args) == 1 && args[0].typ == argAtom:
		switch strings.ToUpper(args[0].str()) {
		case "ALL":
			return namedItems("FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"), true
		case "FAST":
			return namedItems("FLAGS", "INTERNALDATE", "RFC822.SIZE"), true
		case "FULL":
			return namedItems("FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"), true
		}
		list = args
	default:
		// BODY[HEADER.FIELDS (A B)] arrives as an atom followed by a
		// list and an atom; rejoin them.
		list = args
	}
	var items []fetchItem
	for i := 0; i < len(list); i++ {
		a := list[i]
		if a.typ != argAtom {
			return nil, false
		}
		s := strings.ToUpper(a.str())
		if strings.HasSuffix(s, ".FIELDS") || strings.HasSuffix(s, ".FIELDS.NOT") {
			if i+2 >= len(list) || list[i+1].typ != argList || list[i+2].typ != argAtom || !strings.HasPrefix(list[i+2].str(), "]") {
				return nil, false
			}
			it, ok := parseBodyItem(s+"]"+list[i+2].str()[1:], list[i+1].list)
			if !ok {
				return nil, false
			}
			items = append(items, it)
			i += 2
			continue
		}
		switch s {
		case "FLAGS", "UID", "RFC822.SIZE", "INTERNALDATE", "ENVELOPE", "BODYSTRUCTURE", "BODY", "MODSEQ":
			items = append(items, fetchItem{name: s, partial: [2]int64{0, -1}})
			continue
		case "RFC822":
			items = append(items, fetchItem{name: "RFC822", partial: [2]int64{0, -1}})
			continue
		case "RFC822.HEADER":
			items = append(items, fetchItem{name: "RFC822.HEADER", section: "HEADER", partial: [2]int64{0, -1}})
			continue
		case "RFC822.TEXT":
			items = append(items, fetchItem{name: "RFC822.TEXT", section: "TEXT", partial: [2]int64{0, -1}})
			continue
		}
		it, ok := parseBodyItem(s, nil)
		if !ok {
			return nil, false
		}
		items = append(items, it)
	}
	return items, len(items) > 0
}

func namedItems(names ...string) []fetchItem {
	out := make([]fetchItem, len(names))
	for i, n := range names {
		out[i] = fetchItem{name: n, partial: [2]int64{0, -1}}
	}
	return out
}

// parseBodyItem parses BODY[section]<a.b> and BODY.PEEK[...].
func parseBodyItem(s string, fields []arg) (fetchItem, bool) {
	it := fetchItem{partial: [2]int64{0, -1}, bracket: true}
	switch {
	case strings.HasPrefix(s, "BODY.PEEK["):
		it.name, s = "BODY.PEEK", s[len("BODY.PEEK["):]
	case strings.HasPrefix(s, "BODY["):
		it.name, s = "BODY", s[len("BODY["):]
	default:
		return it, false
	}
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return it, false
	}
	it.section, s = s[:end], s[end+1:]
	switch it.section {
	case "", "HEADER", "TEXT", "1", "HEADER.FIELDS", "HEADER.FIELDS.NOT":
	default:
		return it, false
	}
	for _, f := range fields {
		it.fields = append(it.fields, strings.ToUpper(f.str()))
		it.names = append(it.names, f.str())
	}
	if s != "" {
		if !strings.HasPrefix(s, "<") || !strings.HasSuffix(s, ">") {
			return it, false
		}
		a, b, ok := strings.Cut(s[1:len(s)-1], ".")
		origin, err1 := strconv.ParseInt(a, 10, 64)
		length, err2 := strconv.ParseInt(b, 10, 64)
		if !ok || err1 != nil || err2 != nil || origin < 0 || length < 0 {
			return it, false
		}
		it.partial = [2]int64{origin, length}
	}
	return it, true
}

func (c *conn) cmdFetch(cmd *command, args []arg) error {
	if len(args) < 2 || args[0].typ != argAtom {
		return c.cmdError(cmd, "Invalid arguments.")
	}
	msgs, ok := c.resolveSet(cmd, args[0].str())
	if !ok {
		return c.cmdError(cmd, "Invalid messageset")
	}
	items, ok := parseFetchItems(args[1:])
	if !ok {
		return c.cmdError(cmd, "Invalid arguments.")
	}
	uid := strings.HasPrefix(cmd.name, "UID ")
	var out bytes.Buffer
	for _, m := range msgs {
		c.fetchOne(&out, m, items, uid)
		if out.Len() > 64<<10 {
			if err := c.w.Write(out.Bytes()); err != nil {
				return err
			}
			out.Reset()
		}
	}
	if err := c.w.Write(out.Bytes()); err != nil {
		return err
	}
	return c.ok(cmd, "")
}

func (c *conn) fetchOne(out *bytes.Buffer, m *mailbox.Message, items []fetchItem, uid bool) {
	var parts []string
	// UID FETCH puts UID first; FETCH keeps it where it was asked for.
	wantFlags := false
	for _, it := range items {
		wantFlags = wantFlags || it.name == "FLAGS"
	}
	if uid {
		parts = append(parts, fmt.Sprintf("UID %d", m.UID))
	}
	// A body fetch without PEEK sets \Seen; Dovecot reports the new
	// flags first.
	for _, it := range items {
		if (it.name == "BODY" && it.bracket || it.name == "RFC822" || it.name == "RFC822.TEXT") && !c.readOnly && !c.isSeen(m) {
			c.markSeen(m)
			if !wantFlags {
				parts = append(parts, "FLAGS ("+c.flagList(m)+")")
			}
		}
	}
	for _, it := range items {
		switch it.name {
		case "UID":
			if !uid {
				parts = append(parts, fmt.Sprintf("UID %d", m.UID))
			}
		case "FLAGS":
			parts = append(parts, "FLAGS ("+c.flagList(m)+")")
		case "RFC822.SIZE":
			parts = append(parts, fmt.Sprintf("RFC822.SIZE %d", len(m.Raw)))
		case "INTERNALDATE":
			parts = append(parts, `INTERNALDATE "`+m.Internal.Format("02-Jan-2006 15:04:05 -0700")+`"`)
		case "ENVELOPE":
			parts = append(parts, "ENVELOPE "+envelope(m))
		case "BODYSTRUCTURE":
			parts = append(parts, "BODYSTRUCTURE "+bodyStructure(m, true))
		case "MODSEQ":
			parts = append(parts, fmt.Sprintf("MODSEQ (%d)", c.modseqOf(m)))
		case "BODY":
			if !it.bracket {
				parts = append(parts, "BODY "+bodyStructure(m, false))
				continue
			}
			fallthrough
		default:
			name, data := c.section(m, it)
			parts = append(parts, fmt.Sprintf("%s {%d}\r\n%s", name, len(data), data))
		}
	}
	fmt.Fprintf(out, "* %d FETCH (%s)\r\n", c.seqOf(m), strings.Join(parts, " "))
}

func (c *conn) section(m *mailbox.Message, it fetchItem) (string, []byte) {
	var data []byte
	var label string
	switch it.section {
	case "":
		data, label = m.Raw, "BODY[]"
	case "HEADER":
		data, label = m.Raw[:m.HeaderSize], "BODY[HEADER]"
	case "TEXT", "1":
		data, label = m.Body(), "BODY["+it.section+"]"
	case "HEADER.FIELDS", "HEADER.FIELDS.NOT":
		not := it.section == "HEADER.FIELDS.NOT"
		var b strings.Builder
		for _, h := range m.Headers {
			in := false
			for _, f := range it.fields {
				if strings.EqualFold(f, h.Name) {
					in = true
				}
			}
			if in != not {
				b.WriteString(h.Name + ": " + h.Value + "\r\n")
			}
		}
		b.WriteString("\r\n")
		data = []byte(b.String())
		label = "BODY[" + it.section + " (" + strings.Join(it.fields, " ") + ")]"
		if c.p.courierList {
			// Courier echoes the names as the client wrote them, quoted.
			quoted := make([]string, len(it.names))
			for i, n := range it.names {
				quoted[i] = strconv.Quote(n)
			}
			label = "BODY[" + it.section + " (" + strings.Join(quoted, " ") + ")]"
		}
	}
	switch it.name {
	case "RFC822":
		label = "RFC822"
	case "RFC822.HEADER":
		label = "RFC822.HEADER"
	case "RFC822.TEXT":
		label = "RFC822.TEXT"
	}
	if it.partial[1] >= 0 {
		origin := min(it.partial[0], int64(len(data)))
		end := min(origin+it.partial[1], int64(len(data)))
		data = data[origin:end]
		label += fmt.Sprintf("<%d>", it.partial[0])
	}
	return label, data
}

func nstring(s string) string {
	if s == "" {
		return "NIL"
	}
	return strconv.Quote(s)
}

func addrList(list []mailbox.Address) string {
	if len(list) == 0 {
		return "NIL"
	}
	var b strings.Builder
	b.WriteString("(")
	for _, a := range list {
		fmt.Fprintf(&b, "(%s NIL %s %s)", nstring(a.Name), nstring(a.Mailbox), nstring(a.Host))
	}
	b.WriteString(")")
	return b.String()
}

func envelope(m *mailbox.Message) string {
	from := addrList([]mailbox.Address{m.From})
	return fmt.Sprintf("(%s %s %s %s %s %s NIL NIL NIL %s)",
		nstring(m.Date), nstring(m.Subject), from, from, from, addrList(m.To), nstring(m.MessageID))
}

func bodyStructure(m *mailbox.Message, extended bool) string {
	charset, enc := m.Charset, m.Encoding
	if charset == "" {
		charset = "us-ascii"
	}
	if enc == "" {
		enc = "7bit"
	}
	s := fmt.Sprintf(`("text" "plain" ("charset" %s) NIL NIL %s %d %d`,
		strconv.Quote(charset), strconv.Quote(enc), len(m.Body()), m.BodyLines)
	if extended {
		s += " NIL NIL NIL NIL"
	}
	return s + ")"
}

func (c *conn) cmdSearch(cmd *command, args []arg) error {
	if len(args) == 0 {
		return c.cmdError(cmd, "Missing search parameters")
	}
	if len(args) >= 2 && strings.EqualFold(args[0].str(), "CHARSET") {
		args = args[2:]
	}
	msgs := c.selected.Messages
	match := make([]bool, len(msgs))
	for i := range match {
		match[i] = true
	}
	for i := 0; i < len(args); i++ {
		key := strings.ToUpper(args[i].str())
		keep := func(f func(m *mailbox.Message, n int) bool) {
			for j, m := range msgs {
				match[j] = match[j] && f(m, j+1)
			}
		}
		needArg := func() (string, bool) {
			if i+1 >= len(args) {
				return "", false
			}
			i++
			return strings.ToLower(args[i].str()), true
		}
		switch key {
		case "ALL":
		case "SEEN":
			keep(func(m *mailbox.Message, _ int) bool { return c.isSeen(m) })
		case "UNSEEN", "NEW":
			keep(func(m *mailbox.Message, _ int) bool { return !c.isSeen(m) })
		case "RECENT", "DELETED", "FLAGGED", "ANSWERED", "DRAFT":
			keep(func(*mailbox.Message, int) bool { return false })
		case "UNDELETED", "UNFLAGGED", "UNANSWERED", "UNDRAFT", "OLD":
		case "FROM", "TO", "SUBJECT", "TEXT", "BODY":
			v, ok := needArg()
			if !ok {
				return c.cmdError(cmd, "Missing parameter for argument")
			}
			keep(func(m *mailbox.Message, _ int) bool {
				var hay string
				switch key {
				case "FROM":
					hay = m.From.String()
				case "TO":
					hay = m.To[0].String()
				case "SUBJECT":
					hay = m.Subject
				case "BODY":
					hay = string(m.Body())
				default:
					hay = string(m.Raw)
				}
				return strings.Contains(strings.ToLower(hay), v)
			})
		case "UID":
			v, ok := needArg()
			if !ok {
				return c.cmdError(cmd, "Missing parameter for argument")
			}
			var maxUID uint32
			if len(msgs) > 0 {
				maxUID = msgs[len(msgs)-1].UID
			}
			set := parseSeqSet(v, maxUID)
			if set == nil {
				return c.cmdError(cmd, "Invalid uidset")
			}
			keep(func(m *mailbox.Message, _ int) bool { return inSet(set, m.UID) })
		default:
			set := parseSeqSet(key, uint32(len(msgs)))
			if set == nil {
				return c.cmdError(cmd, "Unknown argument "+key)
			}
			keep(func(_ *mailbox.Message, n int) bool { return inSet(set, uint32(n)) })
		}
	}
	var b strings.Builder
	b.WriteString("* SEARCH")
	for j, m := range msgs {
		if !match[j] {
			continue
		}
		if strings.HasPrefix(cmd.name, "UID ") {
			fmt.Fprintf(&b, " %d", m.UID)
		} else {
			fmt.Fprintf(&b, " %d", j+1)
		}
	}
	if err := c.line(b.String()); err != nil {
		return err
	}
	return c.ok(cmd, "")
}
