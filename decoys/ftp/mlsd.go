package ftp

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
)

// rootDevice is the st_dev of the decky's root file system as ProFTPD
// prints it in the unique fact: 0xfe01, device-mapper minor 1, the LVM
// root of a Debian install.
const rootDevice = 0xfe01

// factsLine renders one RFC 3659 fact line as ProFTPD's mod_facts does
// with every fact of its FEAT MLST line enabled, in its order. writable
// reports whether the login may change the entry's directory.
func factsLine(n *node, typ, name string, writable bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "modify=%s;", n.mtime.UTC().Format("20060102150405"))
	fmt.Fprintf(&b, "perm=%s;", factPerm(n, writable))
	if !n.dir {
		fmt.Fprintf(&b, "size=%d;", n.size)
	}
	fmt.Fprintf(&b, "type=%s;", typ)
	fmt.Fprintf(&b, "unique=%XU%X;", rootDevice, inode(name, n))
	fmt.Fprintf(&b, "UNIX.group=%d;UNIX.groupname=%s;", n.gid, n.group)
	fmt.Fprintf(&b, "UNIX.mode=0%o;", n.perm&0o7777)
	fmt.Fprintf(&b, "UNIX.owner=%d;UNIX.ownername=%s;", n.uid, n.owner)
	b.WriteString(" ")
	b.WriteString(name)
	return b.String()
}

// factPerm lists the RFC 3659 permission letters in mod_facts' order.
func factPerm(n *node, writable bool) string {
	switch {
	case n.dir && writable:
		return "flcdmpe"
	case n.dir:
		return "el"
	case writable:
		return "adfrw"
	}
	return "r"
}

// inode derives a stable inode number for an entry from its name and
// time, so that unique facts differ between entries and deckies.
func inode(name string, n *node) uint64 {
	h := sha256.Sum256([]byte(name + n.mtime.String()))
	return 1<<17 + binary.BigEndian.Uint64(h[:8])%(1<<22)
}

// cmdMLSD sends the facts of a directory's entries over the data
// connection.
func (c *control) cmdMLSD(ctx context.Context, arg string) {
	if !c.data.set() {
		c.send(c.p.needPort)
		return
	}
	abs := resolve(c.cwd, arg)
	n := c.tree.follow(abs, c.tree.lookup(abs))
	switch {
	case n == nil:
		c.closeData()
		c.send(reply("550 %s: No such file or directory", arg))
		return
	case !n.dir:
		c.closeData()
		c.send(reply("550 '%s' is not a directory", arg))
		return
	}
	lines := []string{factsLine(n, "cdir", ".", n.writable)}
	if parent := c.tree.lookup(resolve(abs, "..")); parent != nil {
		lines = append(lines, factsLine(parent, "pdir", "..", parent.writable))
	}
	for _, ch := range n.children {
		target := c.tree.follow(resolve(abs, ch.name), ch)
		if target == nil {
			continue
		}
		typ := "file"
		if target.dir {
			typ = "dir"
		}
		lines = append(lines, factsLine(target, typ, ch.name, n.writable))
	}

	conn, fail := c.openData(ctx)
	if conn == nil {
		c.send(fail)
		return
	}
	defer func() { _ = conn.Close() }() // the control reply reports the transfer, and closing only ends it
	c.send("150 Opening ASCII mode data connection for MLSD")
	if !c.writeData(conn, strings.NewReader(strings.Join(lines, "\r\n")+"\r\n")) {
		c.send(c.p.writeFailed)
		return
	}
	_ = conn.Close()
	c.send(c.p.xferDone)
}

// cmdMLST sends the facts of one entry on the control connection.
func (c *control) cmdMLST(arg string) {
	abs := resolve(c.cwd, arg)
	n := c.tree.follow(abs, c.tree.lookup(abs))
	if n == nil {
		c.send(reply("550 %s: No such file or directory", arg))
		return
	}
	typ := "file"
	if n.dir {
		typ = "dir"
	}
	parent, _ := c.tree.parentOf(abs)
	writable := parent != nil && parent.writable
	c.sendLines([]string{"250-Start of list for " + abs, " " + factsLine(n, typ, abs, writable), "250 End of list"})
}
