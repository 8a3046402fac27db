package ftp

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"path"
	"slices"
	"strings"
	"time"
)

// Caps on what one session may add to its tree: uploads are kept in
// memory only so that a listing or RETR after STOR looks right, and the
// quarantine holds the real copy.
const (
	maxSessionKeptBytes = 4 << 20
	maxSessionNodes     = 512
	maxNameBytes        = 255
)

// node is one file or directory of a session's file tree.
type node struct {
	name  string
	dir   bool
	perm  uint32 // permission bits, as ls prints them
	link  string // symlink target, "" for none
	uid   int
	gid   int
	owner string
	group string
	size  int64
	mtime time.Time
	// writable marks a directory the login may create files in.
	writable bool
	// hidden names start with a dot and are listed only with -a.
	children []*node
	// content produces the file's bytes; data holds an upload's kept
	// bytes instead.
	content func() io.Reader
	data    []byte
	// truncated marks an upload whose bytes were not all kept.
	truncated bool
}

func (n *node) child(name string) *node {
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (n *node) add(c *node) *node {
	n.children = append(n.children, c)
	slices.SortFunc(n.children, func(a, b *node) int { return strings.Compare(a.name, b.name) })
	return c
}

func (n *node) remove(name string) {
	n.children = slices.DeleteFunc(n.children, func(c *node) bool { return c.name == name })
}

// reader returns the file's content.
func (n *node) reader() io.Reader {
	if n.content != nil {
		return io.LimitReader(n.content(), n.size)
	}
	return bytes.NewReader(n.data)
}

// tree is the file system of one login: root is "/", home is the
// directory the login starts in.
type tree struct {
	root  *node
	home  string
	nodes int
	kept  int64
}

// seeder derives per-decky values from the decky seed.
type seeder struct{ seed []byte }

func (s seeder) sum(label string) []byte {
	m := hmac.New(sha256.New, s.seed)
	m.Write([]byte("decnet ftp " + label))
	return m.Sum(nil)
}

// rng returns a generator keyed by the seed and label. It is a stream
// cipher keyed per decky, not a fixed seed.
func (s seeder) rng(label string) *rand.Rand {
	var key [32]byte
	copy(key[:], s.sum(label))
	return rand.New(rand.NewChaCha8(key)) //nolint:gosec // G404: a reproducible listing per decky, never a secret
}

func (s seeder) intn(label string, n int) int {
	return int(binary.BigEndian.Uint64(s.sum(label)[:8]) % uint64(n)) //nolint:gosec // G115: n is a small positive constant
}

// stream returns the content generator of a file of pseudo-random bytes.
func (s seeder) stream(label string) func() io.Reader {
	return func() io.Reader { return randReader{s.rng("content " + label)} }
}

type randReader struct{ r *rand.Rand }

func (r randReader) Read(p []byte) (int, error) {
	for i := 0; i < len(p); i += 8 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], r.r.Uint64())
		copy(p[i:], b[:])
	}
	return len(p), nil
}

func textContent(text string) func() io.Reader {
	return func() io.Reader { return strings.NewReader(text) }
}

// treeOwner is who owns the files of a tree.
type treeOwner struct {
	uid, gid     int
	owner, group string
}

var rootOwner = treeOwner{0, 0, "root", "root"}

func mkdir(parent *node, name string, perm uint32, o treeOwner, mtime time.Time) *node {
	return parent.add(&node{name: name, dir: true, perm: perm, uid: o.uid, gid: o.gid, owner: o.owner, group: o.group, size: 4096, mtime: mtime})
}

func mkfile(parent *node, name string, perm uint32, o treeOwner, mtime time.Time, size int64, content func() io.Reader) *node {
	return parent.add(&node{name: name, perm: perm, uid: o.uid, gid: o.gid, owner: o.owner, group: o.group, size: size, mtime: mtime, content: content})
}

func mklink(parent *node, name, target string, mtime time.Time) *node {
	return parent.add(&node{name: name, perm: 0o777, link: target, owner: "root", group: "root", size: int64(len(target)), mtime: mtime})
}

// installTime is when the decky's system was installed: between 200 and
// 700 days before now, fixed per decky for a given day.
func installTime(s seeder, now time.Time) time.Time {
	days := 200 + s.intn("install day", 500)
	minute := s.intn("install minute", 24*60)
	base := now.UTC().Truncate(24*time.Hour).AddDate(0, 0, -days)
	return base.Add(time.Duration(minute) * time.Minute)
}

// newUnixTree builds the tree of a Debian host for a local user, or the
// anonymous FTP root when anonymous is set.
func newUnixTree(s seeder, user string, anonymous bool, now time.Time) *tree {
	inst := installTime(s, now)
	root := &node{name: "/", dir: true, perm: 0o755, owner: "root", group: "root", size: 4096, mtime: inst}
	if anonymous {
		ftpOwner := treeOwner{0, 0, "root", "root"}
		pub := mkdir(root, "pub", 0o755, ftpOwner, inst.AddDate(0, 0, 3))
		addPub(s, pub, ftpOwner, inst)
		t := &tree{root: root, home: "/"}
		t.nodes = countNodes(root)
		return t
	}

	// Debian 12's merged /usr: the old top-level directories are links.
	for _, l := range [][2]string{{"bin", "usr/bin"}, {"lib", "usr/lib"}, {"lib64", "usr/lib64"}, {"sbin", "usr/sbin"}} {
		mklink(root, l[0], l[1], inst)
	}
	for _, d := range []string{"boot", "etc", "media", "mnt", "opt", "srv", "usr", "var"} {
		mkdir(root, d, 0o755, rootOwner, inst.Add(time.Duration(s.intn("dir "+d, 3600))*time.Second))
	}
	mkdir(root, "dev", 0o755, rootOwner, now.Add(-time.Duration(1+s.intn("boot", 40))*24*time.Hour))
	mkdir(root, "proc", 0o555, rootOwner, now.Add(-time.Duration(1+s.intn("boot", 40))*24*time.Hour))
	mkdir(root, "run", 0o755, rootOwner, now.Add(-time.Hour))
	mkdir(root, "sys", 0o555, rootOwner, now.Add(-time.Duration(1+s.intn("boot", 40))*24*time.Hour))
	mkdir(root, "tmp", 0o1777, rootOwner, now.Add(-time.Duration(s.intn("tmp", 600))*time.Second))
	mkdir(root, "root", 0o700, rootOwner, inst)
	srvFTP := mkdir(root.child("srv"), "ftp", 0o755, rootOwner, inst.AddDate(0, 0, 3))
	addPub(s, mkdir(srvFTP, "pub", 0o755, rootOwner, inst.AddDate(0, 0, 3)), rootOwner, inst)
	mkfile(root.child("etc"), "hostname", 0o644, rootOwner, inst, 8, textContent("ftp-srv\n"))

	home := mkdir(root, "home", 0o755, rootOwner, inst)
	o := treeOwner{1000, 1000, user, user}
	if user == "root" {
		o = rootOwner
	}
	var hdir *node
	homePath := "/home/" + user
	if user == "root" {
		hdir = root.child("root")
		homePath = "/root"
	} else {
		hdir = mkdir(home, user, 0o755, o, inst.Add(time.Hour))
	}
	hdir.writable = true
	addHome(s, hdir, o, inst, now)

	t := &tree{root: root, home: homePath}
	t.nodes = countNodes(root)
	return t
}

// addPub fills a public download directory.
func addPub(s seeder, pub *node, o treeOwner, inst time.Time) {
	readme := fmt.Sprintf("Public downloads.\nMirror of internal release files, updated nightly.\nContact: it-support@%s\n", domainFor(s))
	mkfile(pub, "README", 0o644, o, inst.AddDate(0, 0, 4), int64(len(readme)), textContent(readme))
	v := fmt.Sprintf("%d.%d.%d", 2+s.intn("fw major", 3), s.intn("fw minor", 10), s.intn("fw patch", 30))
	fw := pub.add(&node{name: "firmware-" + v + ".bin", perm: 0o644, owner: o.owner, group: o.group,
		size: int64(1<<20 + s.intn("fw size", 3<<20)), mtime: inst.AddDate(0, 0, 30+s.intn("fw day", 90)),
		content: s.stream("firmware")})
	sum := fmt.Sprintf("%x  %s\n", s.sum("fw digest"), fw.name)
	mkfile(pub, fw.name+".sha256", 0o644, o, fw.mtime, int64(len(sum)), textContent(sum))
}

// addHome fills a user's home directory with what an operator leaves
// behind: backups from a cron job, a web root and notes.
func addHome(s seeder, h *node, o treeOwner, inst, now time.Time) {
	for _, f := range []struct {
		name string
		text string
	}{
		{".bash_logout", "# ~/.bash_logout: executed by bash(1) when login shell exits.\n"},
		{".profile", "# ~/.profile: executed by the command interpreter for login shells.\nif [ -n \"$BASH_VERSION\" ]; then\n    if [ -f \"$HOME/.bashrc\" ]; then\n\t. \"$HOME/.bashrc\"\n    fi\nfi\n"},
		{".bashrc", "# ~/.bashrc: executed by bash(1) for non-login shells.\ncase $- in\n    *i*) ;;\n      *) return;;\nesac\nHISTCONTROL=ignoreboth\n"},
	} {
		mkfile(h, f.name, 0o644, o, inst.Add(time.Hour), int64(len(f.text)), textContent(f.text))
	}

	backups := mkdir(h, "backups", 0o750, o, now.Add(-time.Duration(2+s.intn("bk dir", 20))*time.Hour))
	backups.writable = true
	// A weekly cron job at a fixed hour keeps the last three dumps.
	hour := 1 + s.intn("bk hour", 4)
	minute := s.intn("bk minute", 60)
	last := now.UTC().Truncate(24 * time.Hour).Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute)
	for last.After(now) {
		last = last.AddDate(0, 0, -1)
	}
	db := []string{"app", "wordpress", "crm", "inventory"}[s.intn("db name", 4)]
	for i := range 3 {
		day := last.AddDate(0, 0, -7*i)
		label := fmt.Sprintf("db %d", i)
		mkfile(backups, fmt.Sprintf("%s-%s.sql.gz", db, day.Format("2006-01-02")), 0o640, o,
			day.Add(time.Duration(40+s.intn(label+" s", 200))*time.Second),
			int64(400<<10+s.intn(label+" size", 1200<<10)), s.stream(label))
	}
	site := last.AddDate(0, 0, -s.intn("site day", 6))
	mkfile(backups, "www-"+site.Format("20060102")+".tar.gz", 0o640, o, site.Add(9*time.Minute),
		int64(2<<20+s.intn("site size", 4<<20)), s.stream("site"))

	web := mkdir(h, "public_html", 0o755, o, inst.AddDate(0, 0, 12))
	web.writable = true
	index := fmt.Sprintf("<!DOCTYPE html>\n<html><head><title>%s</title></head>\n<body><p>Site under maintenance.</p></body></html>\n", domainFor(s))
	mkfile(web, "index.html", 0o644, o, inst.AddDate(0, 0, 12), int64(len(index)), textContent(index))

	notes := fmt.Sprintf("- rotate db dumps (keep 3)\n- move %s to new vps before renewal\n- ftp only from office ip, ask isp for static\n", domainFor(s))
	mkfile(h, "notes.txt", 0o600, o, inst.AddDate(0, 1, s.intn("notes", 60)), int64(len(notes)), textContent(notes))
}

// newWindowsTree builds an IIS FTP site root.
func newWindowsTree(s seeder, now time.Time) *tree {
	inst := installTime(s, now)
	o := treeOwner{owner: "owner", group: "group"}
	root := &node{name: "/", dir: true, perm: 0o755, size: 0, mtime: inst, writable: true}
	backups := mkdir(root, "backups", 0o755, o, now.Add(-time.Duration(3+s.intn("bk dir", 30))*time.Hour))
	backups.writable = true
	for i := range 3 {
		day := now.AddDate(0, 0, -7*i-s.intn(fmt.Sprintf("win bk %d", i), 3))
		label := fmt.Sprintf("win db %d", i)
		mkfile(backups, "SQLBackup_"+day.Format("20060102")+".bak.zip", 0o644, o, day,
			int64(600<<10+s.intn(label, 2<<20)), s.stream(label))
	}
	public := mkdir(root, "public", 0o755, o, inst.AddDate(0, 0, 5))
	public.writable = true
	addPub(s, public, o, inst)
	note := "Drop files for the ERP import job here. Files are picked up every 15 minutes.\r\n"
	mkfile(root, "readme.txt", 0o644, o, inst.AddDate(0, 0, 5), int64(len(note)), textContent(note))
	t := &tree{root: root, home: "/"}
	t.nodes = countNodes(root)
	return t
}

func countNodes(n *node) int {
	c := 1
	for _, ch := range n.children {
		c += countNodes(ch)
	}
	return c
}

// domainFor is the organisation's domain that appears in file contents.
func domainFor(s seeder) string {
	names := []string{"northwind", "contoso-lab", "acme-print", "bluepeak", "riverside-med", "kestrel-logistics", "orbitel", "granite-legal"}
	tlds := []string{"com", "net", "co.uk", "de", "io"}
	return names[s.intn("org", len(names))] + "." + tlds[s.intn("tld", len(tlds))]
}

// resolve returns the absolute, cleaned form of p relative to cwd. It
// never leaves the root.
func resolve(cwd, p string) string {
	if !strings.HasPrefix(p, "/") {
		p = cwd + "/" + p
	}
	return path.Clean("/" + p)
}

// lookup returns the node at abs, following symlinks in directories on
// the way, or nil.
func (t *tree) lookup(abs string) *node {
	n := t.root
	if abs == "/" {
		return n
	}
	parts := strings.Split(strings.TrimPrefix(abs, "/"), "/")
	for depth, part := range parts {
		if !n.dir {
			return nil
		}
		n = n.child(part)
		if n == nil {
			return nil
		}
		if n.link != "" && depth < len(parts)-1 {
			n = t.lookup(resolve("/"+strings.Join(parts[:depth], "/"), n.link))
			if n == nil {
				return nil
			}
		}
	}
	return n
}

// follow returns the target of a symlink, or n itself.
func (t *tree) follow(abs string, n *node) *node {
	for range 8 {
		if n == nil || n.link == "" {
			return n
		}
		n = t.lookup(resolve(path.Dir(abs), n.link))
	}
	return nil
}

// parentOf returns the directory that would hold abs and the base name.
func (t *tree) parentOf(abs string) (*node, string) {
	if abs == "/" {
		return nil, ""
	}
	dir := t.follow(path.Dir(abs), t.lookup(path.Dir(abs)))
	if dir == nil || !dir.dir {
		return nil, ""
	}
	return dir, path.Base(abs)
}

// canCreate reports whether the session may add a node: the directory is
// writable and the session is under its caps.
func (t *tree) canCreate(dir *node, name string) bool {
	return dir != nil && dir.writable && t.nodes < maxSessionNodes && len(name) <= maxNameBytes && name != "." && name != ".."
}
