// Package quarantine keeps the files attackers send to decoys (uploads,
// mail, fetched downloads) on disk under their SHA-256, with a cap per file,
// a cap on the whole store and a floor of free disk space. Files are written
// with mode 0400 and never executed or interpreted.
package quarantine

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// Defaults applied to zero Options fields.
const (
	DefaultMaxFileBytes  = 16 << 20
	DefaultMaxTotalBytes = 1 << 30
	DefaultMinFreeBytes  = 256 << 20
)

// freeCheckEvery is how many bytes a file may grow between two checks of
// the free disk space.
const freeCheckEvery = 1 << 20

// Options bounds what the store keeps.
type Options struct {
	// MaxFileBytes caps one file; bytes beyond it are counted and hashed
	// no further.
	MaxFileBytes int64
	// MaxTotalBytes caps the sum of all stored files.
	MaxTotalBytes int64
	// MinFreeBytes is the free space the store leaves on its file system.
	MinFreeBytes int64
}

func (o Options) withDefaults() Options {
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	if o.MaxTotalBytes <= 0 {
		o.MaxTotalBytes = DefaultMaxTotalBytes
	}
	if o.MinFreeBytes <= 0 {
		o.MinFreeBytes = DefaultMinFreeBytes
	}
	return o
}

// Store is a directory of quarantined files named by SHA-256. A nil *Store
// is valid: its files compute digests and sizes but keep nothing.
type Store struct {
	dir  string
	opts Options

	mu    sync.Mutex
	total int64
	// freeBytes reports the free space of the store's file system; tests
	// replace it.
	freeBytes func() (int64, error)
}

// Open creates dir if needed and counts the files already in it.
func Open(dir string, opts Options) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o700); err != nil {
		return nil, fmt.Errorf("create quarantine: %w", err)
	}
	// Partial files of a previous run are incomplete by definition.
	if err := removeTemp(filepath.Join(dir, "tmp")); err != nil {
		return nil, err
	}
	s := &Store{dir: dir, opts: opts.withDefaults()}
	s.freeBytes = func() (int64, error) { return statfsFree(dir) }
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read quarantine: %w", err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("read quarantine: %w", err)
		}
		s.total += info.Size()
	}
	return s, nil
}

func removeTemp(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read quarantine: %w", err)
	}
	for _, e := range entries {
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("clean quarantine: %w", err)
		}
	}
	return nil
}

func statfsFree(dir string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	return int64(st.Bavail) * st.Bsize, nil //nolint:gosec // G115: block counts of a real file system fit in int64
}

// Dir returns the store's directory, or "" for a nil store.
func (s *Store) Dir() string {
	if s == nil {
		return ""
	}
	return s.dir
}

// Path returns where the file with the given SHA-256 is kept.
func (s *Store) Path(sum []byte) string {
	return filepath.Join(s.dir, hex.EncodeToString(sum))
}

// TotalBytes returns the sum of the sizes of the stored files.
func (s *Store) TotalBytes() int64 {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// Result describes one file after Close.
type Result struct {
	// SHA256 covers the bytes kept: all of them unless Truncated.
	SHA256 []byte
	// Size counts every byte written, including those beyond the cap.
	Size uint64
	// Truncated reports that the per-file cap was reached.
	Truncated bool
	// Stored reports that the content is in the store under SHA256.
	Stored bool
}

// File receives one file's bytes. Write never fails: bytes beyond the cap
// are counted and dropped, and a disk error stops storing without stopping
// the hashing, so the decoy's reply to the attacker does not change.
type File struct {
	store     *Store
	tmp       *os.File
	hash      hash.Hash
	kept      int64
	size      uint64
	truncated bool
	failed    bool
	sinceFree int64
	err       error
}

// NewFile starts a file. With a nil store, or when the store is full or
// the disk is short of space, the file only hashes.
func (s *Store) NewFile() *File {
	f := &File{store: s, hash: sha256.New()}
	if s == nil {
		return f
	}
	if !s.roomFor(1) {
		f.failed = true
		return f
	}
	tmp, err := os.CreateTemp(filepath.Join(s.dir, "tmp"), "part-")
	if err != nil {
		f.failed = true
		f.err = err
		return f
	}
	f.tmp = tmp
	return f
}

// roomFor reports whether n more bytes fit under the total cap and leave
// the free-space floor.
func (s *Store) roomFor(n int64) bool {
	s.mu.Lock()
	over := s.total+n > s.opts.MaxTotalBytes
	s.mu.Unlock()
	if over {
		return false
	}
	free, err := s.freeBytes()
	return err == nil && free-n >= s.opts.MinFreeBytes
}

// Write hashes p and stores it up to the cap. It always returns len(p).
func (f *File) Write(p []byte) (int, error) {
	n := len(p)
	f.size += uint64(n)
	if f.truncated {
		return n, nil
	}
	maxFile := int64(DefaultMaxFileBytes)
	if f.store != nil {
		maxFile = f.store.opts.MaxFileBytes
	}
	if room := maxFile - f.kept; int64(len(p)) > room {
		p = p[:room]
		f.truncated = true
	}
	f.hash.Write(p)
	f.kept += int64(len(p))
	if f.tmp != nil && !f.failed {
		f.sinceFree += int64(len(p))
		if f.sinceFree >= freeCheckEvery {
			f.sinceFree = 0
			if !f.store.roomFor(f.kept) {
				f.failed = true
			}
		}
		if !f.failed {
			if _, err := f.tmp.Write(p); err != nil {
				f.failed = true
				f.err = err
			}
		}
	}
	return n, nil
}

// Close finishes the file and moves it into the store under its digest.
// A file already present is kept once.
func (f *File) Close() Result {
	res := Result{SHA256: f.hash.Sum(nil), Size: f.size, Truncated: f.truncated}
	if f.tmp == nil {
		return res
	}
	tmpName := f.tmp.Name()
	defer func() { _ = os.Remove(tmpName) }()
	if err := f.tmp.Close(); err != nil || f.failed {
		return res
	}
	s := f.store
	final := s.Path(res.SHA256)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := os.Lstat(final); err == nil {
		res.Stored = true
		return res
	}
	if s.total+f.kept > s.opts.MaxTotalBytes {
		return res
	}
	if err := os.Chmod(tmpName, 0o400); err != nil {
		return res
	}
	if err := os.Rename(tmpName, final); err != nil {
		return res
	}
	s.total += f.kept
	res.Stored = true
	return res
}

// Err returns the disk error that stopped storing, if any. The decoy logs
// it; the attacker never sees it.
func (f *File) Err() error { return f.err }
