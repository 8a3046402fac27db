package quarantine

import (
	"bytes"
	"crypto/sha256"
	"os"
	"testing"
)

func TestStoreKeepsFileUnderDigest(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	content := []byte("#!/bin/sh\necho pwned\n")
	f := s.NewFile()
	_, _ = f.Write(content[:5])
	_, _ = f.Write(content[5:])
	res := f.Close()
	want := sha256.Sum256(content)
	if !bytes.Equal(res.SHA256, want[:]) || res.Size != uint64(len(content)) || res.Truncated || !res.Stored {
		t.Fatalf("result = %+v", res)
	}
	got, err := os.ReadFile(s.Path(res.SHA256))
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("stored content = %q, %v", got, err)
	}
	info, err := os.Stat(s.Path(res.SHA256))
	if err != nil || info.Mode().Perm() != 0o400 {
		t.Fatalf("mode = %v, %v", info.Mode(), err)
	}
	if s.TotalBytes() != int64(len(content)) {
		t.Fatalf("total = %d", s.TotalBytes())
	}

	// The same content again is stored once.
	f = s.NewFile()
	_, _ = f.Write(content)
	if res := f.Close(); !res.Stored || s.TotalBytes() != int64(len(content)) {
		t.Fatalf("second copy: %+v, total %d", res, s.TotalBytes())
	}
}

func TestFileCapTruncates(t *testing.T) {
	s, err := Open(t.TempDir(), Options{MaxFileBytes: 10})
	if err != nil {
		t.Fatal(err)
	}
	f := s.NewFile()
	_, _ = f.Write([]byte("0123456789abcdef"))
	res := f.Close()
	want := sha256.Sum256([]byte("0123456789"))
	if !res.Truncated || res.Size != 16 || !bytes.Equal(res.SHA256, want[:]) || !res.Stored {
		t.Fatalf("result = %+v", res)
	}
}

func TestTotalCapAndFreeSpaceRefuse(t *testing.T) {
	s, err := Open(t.TempDir(), Options{MaxTotalBytes: 8})
	if err != nil {
		t.Fatal(err)
	}
	f := s.NewFile()
	_, _ = f.Write([]byte("123456789"))
	if res := f.Close(); res.Stored || res.Size != 9 {
		t.Fatalf("over total cap: %+v", res)
	}

	s2, err := Open(t.TempDir(), Options{MinFreeBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	s2.freeBytes = func() (int64, error) { return 1 << 10, nil }
	f = s2.NewFile()
	_, _ = f.Write([]byte("abc"))
	if res := f.Close(); res.Stored || len(res.SHA256) != 32 {
		t.Fatalf("short of disk: %+v", res)
	}
}

func TestNilStoreOnlyHashes(t *testing.T) {
	var s *Store
	f := s.NewFile()
	_, _ = f.Write([]byte("abc"))
	res := f.Close()
	want := sha256.Sum256([]byte("abc"))
	if res.Stored || !bytes.Equal(res.SHA256, want[:]) || res.Size != 3 {
		t.Fatalf("result = %+v", res)
	}
}

func TestOpenCountsExistingAndDropsPartials(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := s.NewFile()
	_, _ = f.Write([]byte("kept"))
	f.Close()
	partial := s.NewFile()
	_, _ = partial.Write([]byte("partial"))
	// The process dies before Close: the partial file stays in tmp.

	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.TotalBytes() != 4 {
		t.Fatalf("total after reopen = %d", s.TotalBytes())
	}
	left, _ := os.ReadDir(dir + "/tmp")
	if len(left) != 0 {
		t.Fatalf("partials left: %d", len(left))
	}
}
