package ftp

import (
	"fmt"
	"path"
	"strings"
	"time"
)

// recentWindow is the age past which ls prints a file's year
// instead of its time of day: six months, as in GNU ls and both daemons.
const recentWindow = 182 * 24 * time.Hour

// listOptions are the ls flags a LIST argument may carry.
type listOptions struct {
	all       bool // -a: dot files, and "." and ".." in vsftpd
	directory bool // -d: the directory itself
}

// splitListArg separates leading ls options from the path of a LIST or
// NLST argument, as vsftpd does: words starting with "-" are options.
func splitListArg(arg string) (listOptions, string) {
	var o listOptions
	rest := arg
	for strings.HasPrefix(rest, "-") {
		word, after, _ := strings.Cut(rest, " ")
		o.all = o.all || strings.ContainsAny(word, "aA")
		o.directory = o.directory || strings.Contains(word, "d")
		rest = strings.TrimLeft(after, " ")
	}
	return o, rest
}

// permString renders the type and permission bits as ls does.
func permString(n *node) string {
	var b [10]byte
	switch {
	case n.link != "":
		b[0] = 'l'
	case n.dir:
		b[0] = 'd'
	default:
		b[0] = '-'
	}
	const rwx = "rwxrwxrwx"
	for i := range 9 {
		if n.perm&(1<<(8-i)) != 0 {
			b[1+i] = rwx[i]
		} else {
			b[1+i] = '-'
		}
	}
	if n.perm&0o1000 != 0 {
		if b[9] == 'x' {
			b[9] = 't'
		} else {
			b[9] = 'T'
		}
	}
	return string(b[:])
}

func linkCount(n *node) int {
	if !n.dir {
		return 1
	}
	c := 2
	for _, ch := range n.children {
		if ch.dir && ch.link == "" {
			c++
		}
	}
	return c
}

// listLine renders one LIST line without its line ending.
func listLine(style listStyle, n *node, name string, now time.Time) string {
	mt := n.mtime.UTC()
	recent := now.Sub(mt) < recentWindow && mt.Sub(now) < recentWindow
	display := name
	if n.link != "" {
		display += " -> " + n.link
	}
	switch style {
	case listProFTPD:
		when := fmt.Sprintf("%5d", mt.Year())
		if recent {
			when = mt.Format("15:04")
		}
		return fmt.Sprintf("%s %3d %-8s %-8s %8d %s %2d %s %s", permString(n), linkCount(n), n.owner, n.group, n.size,
			mt.Format("Jan"), mt.Day(), when, display)
	case listDOS:
		field := fmt.Sprintf("%20d", n.size)
		if n.dir {
			field = "      <DIR>         "
		}
		return mt.Format("01-02-06  03:04PM") + " " + field + " " + name
	default:
		when := mt.Format("Jan 02  2006")
		if recent {
			when = mt.Format("Jan 02 15:04")
		}
		return fmt.Sprintf("%s %4d %-8d %-8d %8d %s %s", permString(n), linkCount(n), n.uid, n.gid, n.size, when, display)
	}
}

// listing renders LIST output for the node at abs. A directory lists its
// children (and "." and ".." with -a in vsftpd); a file lists itself
// under the name the client gave.
func (t *tree) listing(style listStyle, abs, given string, o listOptions, now time.Time) []string {
	n := t.lookup(abs)
	if n == nil {
		return nil
	}
	target := t.follow(abs, n)
	if target == nil || !target.dir || o.directory {
		name := given
		if name == "" {
			name = "."
		}
		return []string{listLine(style, n, name, now)}
	}
	var lines []string
	if o.all && style != listDOS {
		lines = append(lines, listLine(style, target, ".", now))
		parent := t.lookup(path.Dir(abs))
		if parent == nil {
			parent = target
		}
		lines = append(lines, listLine(style, parent, "..", now))
	}
	for _, c := range target.children {
		if strings.HasPrefix(c.name, ".") && (!o.all || style == listDOS) {
			continue
		}
		lines = append(lines, listLine(style, c, c.name, now))
	}
	return lines
}

// names renders NLST output: the names of a directory's entries prefixed
// with the directory as the client gave it, or the file itself.
func (t *tree) names(abs, given string, o listOptions) []string {
	n := t.lookup(abs)
	if n == nil {
		return nil
	}
	target := t.follow(abs, n)
	if target == nil || !target.dir {
		return []string{given}
	}
	prefix := ""
	if given != "" {
		prefix = strings.TrimSuffix(given, "/") + "/"
	}
	var out []string
	for _, c := range target.children {
		if strings.HasPrefix(c.name, ".") && !o.all {
			continue
		}
		out = append(out, prefix+c.name)
	}
	return out
}
