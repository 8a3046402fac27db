package tftp

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"path"
	"strings"
	"sync"
)

// Memory budget for uploads kept so that a later RRQ returns them; the
// quarantine keeps the real copy.
const (
	maxKeptFileBytes  = 4 << 20
	maxKeptTotalBytes = 16 << 20
	maxKeptFiles      = 256
)

// file is one entry of the TFTP root.
type file struct {
	dir     bool
	size    int64
	content func() io.Reader
	// uploaded marks a file a WRQ created; such files are mode 0666 in
	// tftpd-hpa and can be overwritten.
	uploaded bool
	// kept is how many bytes of an upload are held in memory.
	kept int64
}

// store is the decky's TFTP root: seeded files plus uploads.
type store struct {
	mu    sync.Mutex
	files map[string]*file
	kept  int64
	added int
}

type seeder struct{ seed []byte }

func (s seeder) sum(label string) []byte {
	m := hmac.New(sha256.New, s.seed)
	m.Write([]byte("decnet tftp " + label))
	return m.Sum(nil)
}

func (s seeder) intn(label string, n int) int {
	return int(binary.BigEndian.Uint64(s.sum(label)[:8]) % uint64(n)) //nolint:gosec // G115: n is a small positive constant
}

// stream returns a generator of pseudo-random bytes keyed by the seed.
func (s seeder) stream(label string) func() io.Reader {
	return func() io.Reader {
		var key [32]byte
		copy(key[:], s.sum("content "+label))
		return randReader{rand.New(rand.NewChaCha8(key))} //nolint:gosec // G404: reproducible file content per decky, never a secret
	}
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

func text(s string) *file {
	return &file{size: int64(len(s)), content: func() io.Reader { return strings.NewReader(s) }}
}

// newStore seeds a network-boot and configuration-backup root, the usual
// content of /srv/tftp on a Debian host that provisions devices.
func newStore(s seeder) *store {
	st := &store{files: map[string]*file{"/": {dir: true}}}
	add := func(p string, f *file) {
		st.files[p] = f
		for dir := path.Dir(p); dir != "/"; dir = path.Dir(dir) {
			st.files[dir] = &file{dir: true}
		}
	}
	add("/pxelinux.0", &file{size: int64(42000 + s.intn("pxelinux size", 6000)), content: s.stream("pxelinux")})
	add("/ldlinux.c32", &file{size: int64(115000 + s.intn("ldlinux size", 12000)), content: s.stream("ldlinux")})
	add("/pxelinux.cfg/default", text("DEFAULT install\nLABEL install\n  KERNEL debian-installer/amd64/linux\n"+
		"  APPEND vga=788 initrd=debian-installer/amd64/initrd.gz auto=true priority=critical url=tftp://"+
		fmt.Sprintf("10.%d.%d.%d", s.intn("net b", 250), s.intn("net c", 250), 2+s.intn("net d", 200))+"/preseed.cfg ---\nPROMPT 0\nTIMEOUT 50\n"))

	switches := []string{"sw-core", "sw-access", "rtr-edge", "fw-dmz"}
	for i := range 2 {
		name := fmt.Sprintf("%s%02d", switches[s.intn(fmt.Sprintf("dev %d", i), len(switches))], 1+i)
		cfg := fmt.Sprintf("!\nversion 15.2\nservice timestamps debug datetime msec\nno service password-encryption\n!\nhostname %s\n!\n"+
			"enable secret 5 $1$%s$%x\n!\nusername netadmin privilege 15 secret 5 $1$%s$%x\n!\nsnmp-server community %s RO\n!\nend\n",
			name, saltFrom(s, name+" salt"), s.sum(name + " hash")[:11], saltFrom(s, name+" user salt"), s.sum(name + " user hash")[:11],
			[]string{"public", "monitor", "n3tw0rk", "c0mmun1ty"}[s.intn(name+" community", 4)])
		add("/"+name+"-confg", text(cfg))
	}
	return st
}

func saltFrom(s seeder, label string) string {
	const alphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := s.sum(label)
	out := make([]byte, 4)
	for i := range out {
		out[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(out)
}

// cleanPath maps a requested name to the root as tftpd-hpa's --secure
// chroot does: relative and absolute names are the same, ".." stops at
// the root.
func cleanPath(name string) string {
	return path.Clean("/" + name)
}

func (st *store) lookup(p string) *file {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.files[p]
}

// keep records an upload so that the next RRQ of p serves its bytes.
// Uploads beyond the memory budget are recorded with their size only and
// read back as zeros.
func (st *store) keep(p string, data []byte, size int64) {
	st.mu.Lock()
	defer st.mu.Unlock()
	old := st.files[p]
	if old == nil && st.added >= maxKeptFiles {
		return
	}
	if old == nil {
		st.added++
	}
	if old != nil {
		st.kept -= old.kept
	}
	if int64(len(data)) > maxKeptFileBytes || st.kept+int64(len(data)) > maxKeptTotalBytes {
		data = nil
	}
	st.kept += int64(len(data))
	kept := data
	st.files[p] = &file{size: size, uploaded: true, kept: int64(len(data)), content: func() io.Reader {
		if int64(len(kept)) == size {
			return bytes.NewReader(kept)
		}
		return io.LimitReader(zeros{}, size)
	}}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// netascii converts a file to its netascii form (RFC 764): LF becomes
// CR LF and a bare CR becomes CR NUL.
func netascii(r io.Reader) io.Reader {
	return &netasciiReader{src: r}
}

type netasciiReader struct {
	src     io.Reader
	pending []byte
	buf     [4096]byte
}

func (n *netasciiReader) Read(p []byte) (int, error) {
	if len(n.pending) == 0 {
		m, err := n.src.Read(n.buf[:])
		if m == 0 {
			return 0, err
		}
		out := make([]byte, 0, 2*m)
		for _, c := range n.buf[:m] {
			switch c {
			case '\n':
				out = append(out, '\r', '\n')
			case '\r':
				out = append(out, '\r', 0)
			default:
				out = append(out, c)
			}
		}
		n.pending = out
	}
	c := copy(p, n.pending)
	n.pending = n.pending[c:]
	return c, nil
}
