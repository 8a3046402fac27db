package controlplane

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResetKeyPersists(t *testing.T) {
	dir := t.TempDir()
	first, err := loadOrCreateResetKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(dir, resetKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", info.Mode().Perm())
	}

	second, err := loadOrCreateResetKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if *first != *second {
		t.Fatal("reset key changed between loads")
	}
	if other, _ := loadOrCreateResetKey(t.TempDir()); *other == *first {
		t.Fatal("two data directories share a reset key")
	}
}

func TestResetKeyRejectsWrongSize(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, resetKeyFile), []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadOrCreateResetKey(dir); err == nil || !strings.Contains(err.Error(), "want 32") {
		t.Fatalf("error = %v, want a size error", err)
	}
}
