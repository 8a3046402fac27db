//go:build unix

package spool

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockFile is the file whose exclusive flock marks a directory in use.
const lockFile = "lock"

// lockDir takes an exclusive, non-blocking flock on dir, so a second agent
// (or a second Open) cannot interleave writes with the first. The kernel
// releases the lock when the process exits, so a crash leaves no stale
// lock.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock spool directory: another spool has it open")
		}
		return nil, fmt.Errorf("lock spool directory: %w", err)
	}
	return f, nil
}
