package ftp

import (
	"io"
	"path"
	"sync"
	"time"
)

// Caps on the uploads a service remembers across sessions, so that a file
// stored in one session is listed and served in the next, as on a real
// disk.
const (
	maxRememberedUploads = 512
	maxRememberedBytes   = 32 << 20
)

// upload is a file stored by a login.
type upload struct {
	size  int64
	data  []byte // nil when the bytes were not kept
	mtime time.Time
	owner treeOwner
}

// uploadStore remembers uploads per login.
type uploadStore struct {
	mu        sync.Mutex
	files     map[string]map[string]*upload // login key, then absolute path
	count     int
	keptBytes int64
}

func newUploadStore() *uploadStore {
	return &uploadStore{files: make(map[string]map[string]*upload)}
}

// remember records an upload; bytes over the budget are dropped and the
// file keeps only its size.
func (u *uploadStore) remember(login, abs string, up *upload) {
	u.mu.Lock()
	defer u.mu.Unlock()
	byPath := u.files[login]
	if byPath == nil {
		byPath = make(map[string]*upload)
		u.files[login] = byPath
	}
	old := byPath[abs]
	if old == nil && u.count >= maxRememberedUploads {
		return
	}
	if old != nil {
		u.keptBytes -= int64(len(old.data))
	} else {
		u.count++
	}
	if int64(len(up.data)) != up.size || u.keptBytes+up.size > maxRememberedBytes {
		up.data = nil
	}
	u.keptBytes += int64(len(up.data))
	byPath[abs] = up
}

// apply adds a login's remembered uploads to its new tree.
func (u *uploadStore) apply(login string, t *tree) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for abs, up := range u.files[login] {
		dir, base := t.parentOf(abs)
		if dir == nil || dir.child(base) != nil {
			continue
		}
		n := mkfile(dir, base, 0o644, up.owner, up.mtime, up.size, nil)
		if up.data != nil {
			n.data = up.data
		} else {
			size := up.size
			n.content = func() io.Reader { return io.LimitReader(zeroReader{}, size) }
		}
		t.nodes++
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// loginKey names whose uploads a tree shows: anonymous logins share one
// area, named logins each have their own.
func (c *control) loginKey() string {
	if c.anonymous {
		return "anonymous"
	}
	return "user " + path.Clean("/"+c.user)
}
