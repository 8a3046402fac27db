package spool

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// File names inside the spool directory.
const (
	segmentSuffix = ".seg"
	commitFile    = "commit"
	tmpSuffix     = ".tmp"
)

// commitFileBytes is the commit file: the committed position as a
// big-endian uint64 and the CRC-32C of those 8 bytes.
const commitFileBytes = 12

// segment is one spool file. Records are numbered by a global index that
// never repeats. A segment contains the records first .. first+count-1,
// and its name is its first index.
type segment struct {
	first uint64
	count uint64
	// size is the number of bytes of valid, fsynced records.
	size int64
	path string
}

// end returns the index after the segment's last record.
func (s *segment) end() uint64 { return s.first + s.count }

func segmentPath(dir string, first uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", first, segmentSuffix))
}

// listSegments returns the segments in dir ordered by first index, with
// count and size not yet known. It deletes temporary files that a crash
// left behind.
func listSegments(dir string) ([]*segment, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list spool directory: %w", err)
	}

	var segs []*segment
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, tmpSuffix) {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return nil, fmt.Errorf("remove temporary file: %w", err)
			}
			continue
		}
		if !strings.HasSuffix(name, segmentSuffix) || !e.Type().IsRegular() {
			continue
		}
		first, err := strconv.ParseUint(strings.TrimSuffix(name, segmentSuffix), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("parse segment name %q: %w", name, err)
		}
		segs = append(segs, &segment{first: first, path: filepath.Join(dir, name)})
	}

	sort.Slice(segs, func(i, j int) bool { return segs[i].first < segs[j].first })
	return segs, nil
}

// scanResult is the outcome of scanSegment on one file.
type scanResult struct {
	count uint64
	// size is the byte offset after the last valid record kept.
	size int64
	// fileSize is the size of the file on disk.
	fileSize int64
	// stop is the torn or corrupt record that ended the scan before the
	// end of the file, or nil.
	stop error
}

// scanSegment counts the valid records of the file at path, at most limit
// of them.
func scanSegment(path string, limit uint64) (scanResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return scanResult{}, fmt.Errorf("open segment: %w", err)
	}
	defer func() { _ = f.Close() }() // read-only

	info, err := f.Stat()
	if err != nil {
		return scanResult{}, fmt.Errorf("stat segment: %w", err)
	}

	res := scanResult{fileSize: info.Size()}
	r := bufio.NewReaderSize(f, 64<<10)
	header := make([]byte, recordHeaderBytes)
	var payload []byte
	for res.count < limit {
		n, err := io.ReadFull(r, header)
		if errors.Is(err, io.EOF) {
			return res, nil
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			res.stop = fmt.Errorf("%w: %d header bytes at offset %d", errTornRecord, n, res.size)
			return res, nil
		}
		if err != nil {
			return res, fmt.Errorf("read segment: %w", err)
		}

		length, sum, err := parseHeader(header)
		if err != nil {
			res.stop = err
			return res, nil
		}
		if int64(length) > res.fileSize-res.size-recordHeaderBytes {
			res.stop = fmt.Errorf("%w: %d-byte payload at offset %d runs past the end of the file", errTornRecord, length, res.size)
			return res, nil
		}

		payload = growTo(payload, length)
		if _, err := io.ReadFull(r, payload); err != nil {
			return res, fmt.Errorf("read segment: %w", err)
		}
		if err := checkPayload(payload, sum); err != nil {
			res.stop = err
			return res, nil
		}

		res.count++
		res.size += int64(recordHeaderBytes + length)
	}
	return res, nil
}

func growTo(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// readCommit returns the committed position stored in dir, or 0 if the
// file does not exist.
func readCommit(dir string) (uint64, error) {
	b, err := os.ReadFile(filepath.Join(dir, commitFile))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read commit file: %w", err)
	}
	if len(b) != commitFileBytes {
		return 0, fmt.Errorf("read commit file: %d bytes, want %d", len(b), commitFileBytes)
	}
	if crc32.Checksum(b[:8], castagnoli) != binary.BigEndian.Uint32(b[8:]) {
		return 0, errors.New("read commit file: checksum mismatch")
	}
	return binary.BigEndian.Uint64(b[:8]), nil
}

// writeCommit stores pos in dir atomically: a crash leaves either the old
// or the new value, because the file is written under a temporary name,
// fsynced, and renamed over the old one, and the rename is made durable by
// fsyncing the directory.
func writeCommit(dir string, pos uint64) error {
	var b [commitFileBytes]byte
	binary.BigEndian.PutUint64(b[:8], pos)
	binary.BigEndian.PutUint32(b[8:], crc32.Checksum(b[:8], castagnoli))

	tmp := filepath.Join(dir, commitFile+tmpSuffix)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("create commit file: %w", err)
	}
	if _, err := f.Write(b[:]); err != nil {
		_ = f.Close() // the temporary file is never renamed into place
		return fmt.Errorf("write commit file: %w", err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("sync commit file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close commit file: %w", err)
	}

	if err := os.Rename(tmp, filepath.Join(dir, commitFile)); err != nil {
		return fmt.Errorf("rename commit file: %w", err)
	}
	return syncDir(dir)
}

// syncDir makes creations, renames and deletions in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open spool directory: %w", err)
	}
	if err := d.Sync(); err != nil {
		_ = d.Close()
		return fmt.Errorf("sync spool directory: %w", err)
	}
	if err := d.Close(); err != nil {
		return fmt.Errorf("close spool directory: %w", err)
	}
	return nil
}
