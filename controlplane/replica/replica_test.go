package replica_test

import (
	"errors"
	"testing"

	"github.com/decnet/decnet/controlplane/replica"
)

func TestLockDataDir(t *testing.T) {
	dir := t.TempDir()
	first, err := replica.LockDataDir(dir)
	if err != nil {
		t.Fatalf("first lock: %v", err)
	}
	if _, err := replica.LockDataDir(dir); !errors.Is(err, replica.ErrDataDirInUse) {
		t.Fatalf("second lock while the first is held: %v, want ErrDataDirInUse", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := replica.LockDataDir(dir)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	_ = again.Close()
}
