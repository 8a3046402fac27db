package shell

import (
	"errors"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"
)

// File system errors, worded as the C library's strerror so commands can
// print them as coreutils does.
//
//nolint:staticcheck // ST1005: the attacker sees these verbatim, capitalised as glibc's
var (
	errNotExist = errors.New("No such file or directory")
	errNotDir   = errors.New("Not a directory")
	errIsDir    = errors.New("Is a directory")
	errPerm     = errors.New("Permission denied")
	errExist    = errors.New("File exists")
	errLoop     = errors.New("Too many levels of symbolic links")
	errBadFD    = errors.New("Bad file descriptor")
	errNoSpace  = errors.New("No space left on device")
)

// Overlay caps: what one session may add to its private copy of the
// file system. Beyond them writes fail with ENOSPC, as a full disk does.
const (
	maxOverlayBytes = 8 << 20
	maxOverlayNodes = 4096
	maxSymlinkHops  = 8
)

// node is a file, directory or symbolic link of the emulated tree.
type node struct {
	name     string
	mode     fs.FileMode
	uid, gid int
	mtime    time.Time
	data     []byte
	// gen produces the content on each read (files under /proc).
	gen func() []byte
	// size is the nominal size of a file whose bytes are not kept, such
	// as a binary in /usr/bin.
	size     int64
	target   string
	children map[string]*node
	parent   *node
}

func (n *node) isDir() bool  { return n.mode.IsDir() }
func (n *node) isLink() bool { return n.mode&fs.ModeSymlink != 0 }

func (n *node) content() []byte {
	if n.gen != nil {
		return n.gen()
	}
	return n.data
}

func (n *node) length() int64 {
	switch {
	case n.isDir():
		return 4096
	case n.isLink():
		return int64(len(n.target))
	case n.gen != nil:
		return 0
	case n.data != nil:
		return max(int64(len(n.data)), n.size)
	}
	return n.size
}

func (n *node) sortedChildren() []*node {
	out := make([]*node, 0, len(n.children))
	for _, c := range n.children {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return lsLess(out[i].name, out[j].name) })
	return out
}

// vfs is one session's copy of the decky's tree.
type vfs struct {
	root  *node
	bytes int
	nodes int
	now   func() time.Time
}

func newDir(name string, mode fs.FileMode, uid, gid int, t time.Time) *node {
	return &node{name: name, mode: fs.ModeDir | mode, uid: uid, gid: gid, mtime: t, children: map[string]*node{}}
}

func (v *vfs) add(parent *node, n *node) *node {
	n.parent = parent
	parent.children[n.name] = n
	return n
}

// mkdirAll creates the directories of p for the tree builder, owned by
// root with mode 755.
func (v *vfs) mkdirAll(p string, t time.Time) *node {
	cur := v.root
	for part := range strings.SplitSeq(strings.Trim(p, "/"), "/") {
		if part == "" {
			continue
		}
		next, ok := cur.children[part]
		if !ok {
			next = v.add(cur, newDir(part, 0o755, 0, 0, t))
		}
		cur = next
	}
	return cur
}

// put places a file for the tree builder, creating its parents.
func (v *vfs) put(p string, mode fs.FileMode, uid, gid int, t time.Time, data string) *node {
	dir := v.mkdirAll(path.Dir(p), t)
	return v.add(dir, &node{name: path.Base(p), mode: mode, uid: uid, gid: gid, mtime: t, data: []byte(data)})
}

func (v *vfs) link(p, target string, t time.Time) *node {
	dir := v.mkdirAll(path.Dir(p), t)
	return v.add(dir, &node{name: path.Base(p), mode: fs.ModeSymlink | 0o777, mtime: t, target: target})
}

// abs joins p to cwd and cleans it. p is attacker text, so the result
// is only ever a key into the emulated tree.
func abs(cwd, p string) string {
	if !strings.HasPrefix(p, "/") {
		p = cwd + "/" + p
	}
	return path.Clean(p)
}

// lookup resolves an absolute path. follow controls the final
// component; intermediate links are always followed.
func (v *vfs) lookup(p string, follow bool) (*node, error) {
	return v.walk(p, follow, 0)
}

func (v *vfs) walk(p string, follow bool, hops int) (*node, error) {
	if hops > maxSymlinkHops {
		return nil, errLoop
	}
	parts := strings.Split(strings.Trim(path.Clean(p), "/"), "/")
	cur := v.root
	for i, part := range parts {
		if part == "" {
			continue
		}
		if !cur.isDir() {
			return nil, errNotDir
		}
		if part == ".." {
			if cur.parent != nil {
				cur = cur.parent
			}
			continue
		}
		next, ok := cur.children[part]
		if !ok {
			return nil, errNotExist
		}
		last := i == len(parts)-1
		if next.isLink() && (!last || follow) {
			target := next.target
			if !strings.HasPrefix(target, "/") {
				target = v.pathOf(cur) + "/" + target
			}
			resolved, err := v.walk(target, true, hops+1)
			if err != nil {
				return nil, err
			}
			next = resolved
		}
		cur = next
	}
	return cur, nil
}

func (v *vfs) pathOf(n *node) string {
	if n.parent == nil {
		return "/"
	}
	var parts []string
	for c := n; c.parent != nil; c = c.parent {
		parts = append(parts, c.name)
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return "/" + strings.Join(parts, "/")
}

// parentOf returns the directory that holds p and the base name.
func (v *vfs) parentOf(p string) (*node, string, error) {
	dir, err := v.lookup(path.Dir(p), true)
	if err != nil {
		return nil, "", err
	}
	if !dir.isDir() {
		return nil, "", errNotDir
	}
	return dir, path.Base(p), nil
}

func (v *vfs) charge(n int) error {
	if v.bytes+n > maxOverlayBytes || v.nodes >= maxOverlayNodes {
		return errNoSpace
	}
	v.bytes += n
	return nil
}

// writeFile creates or replaces (or appends to) a regular file.
func (v *vfs) writeFile(p string, data []byte, appendTo bool, uid int) error {
	if n, err := v.lookup(p, true); err == nil {
		if n.isDir() {
			return errIsDir
		}
		if !canWrite(n, uid) {
			return errPerm
		}
		if n.gen != nil || n.data == nil && n.size > 0 {
			// Writing to /proc or over a binary: the bytes go nowhere
			// the attacker can read back.
			return nil
		}
		if err := v.charge(len(data)); err != nil {
			return err
		}
		if appendTo {
			n.data = append(n.data, data...)
		} else {
			v.bytes -= len(n.data)
			n.data = append([]byte{}, data...)
			// A truncated copy of a binary no longer has its size.
			n.size = 0
		}
		n.mtime = v.now()
		return nil
	}
	dir, name, err := v.parentOf(p)
	if err != nil {
		return err
	}
	if !canWrite(dir, uid) {
		return errPerm
	}
	if err := v.charge(len(data)); err != nil {
		return err
	}
	v.nodes++
	gid := uid
	v.add(dir, &node{name: name, mode: 0o644, uid: uid, gid: gid, mtime: v.now(), data: append([]byte{}, data...)})
	dir.mtime = v.now()
	return nil
}

func (v *vfs) mkdir(p string, uid int) error {
	dir, name, err := v.parentOf(p)
	if err != nil {
		return err
	}
	if _, ok := dir.children[name]; ok || name == "/" || name == "." || name == ".." {
		return errExist
	}
	if !canWrite(dir, uid) {
		return errPerm
	}
	if err := v.charge(0); err != nil {
		return err
	}
	v.nodes++
	v.add(dir, newDir(name, 0o755, uid, uid, v.now()))
	dir.mtime = v.now()
	return nil
}

func (v *vfs) remove(p string, uid int) error {
	dir, name, err := v.parentOf(p)
	if err != nil {
		return err
	}
	if _, ok := dir.children[name]; !ok {
		return errNotExist
	}
	if !canWrite(dir, uid) {
		return errPerm
	}
	delete(dir.children, name)
	dir.mtime = v.now()
	return nil
}

// copyNode duplicates n, charging its bytes to the overlay.
func (v *vfs) copyNode(n *node, name string, uid int) (*node, error) {
	c := &node{name: name, mode: n.mode, uid: uid, gid: uid, mtime: v.now(), size: n.size, target: n.target}
	if n.isDir() {
		c.children = map[string]*node{}
		for _, ch := range n.children {
			cc, err := v.copyNode(ch, ch.name, uid)
			if err != nil {
				return nil, err
			}
			cc.parent = c
			c.children[ch.name] = cc
		}
	} else {
		data := n.content()
		if err := v.charge(len(data)); err != nil {
			return nil, err
		}
		if data != nil {
			c.data = append([]byte{}, data...)
		}
	}
	v.nodes++
	return c, nil
}

func canRead(n *node, uid int) bool {
	if uid == 0 {
		return true
	}
	if n.uid == uid {
		return n.mode&0o400 != 0
	}
	return n.mode&0o004 != 0
}

func canWrite(n *node, uid int) bool {
	if uid == 0 {
		return true
	}
	if n.uid == uid {
		return n.mode&0o200 != 0
	}
	return n.mode&0o002 != 0
}

func canExec(n *node, uid int) bool {
	if uid == 0 {
		return n.mode&0o111 != 0 || n.isDir()
	}
	if n.uid == uid {
		return n.mode&0o100 != 0
	}
	return n.mode&0o001 != 0
}

// lsLess orders names as ls does under LANG=C.UTF-8, the session's
// locale: by byte value.
func lsLess(a, b string) bool { return a < b }
