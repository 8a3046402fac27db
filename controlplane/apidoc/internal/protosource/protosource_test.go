package protosource

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestFindBuf(t *testing.T) {
	t.Setenv("PATH", t.TempDir())

	root := t.TempDir()
	if _, err := FindBuf(root); !errors.Is(err, ErrNoBuf) {
		t.Fatalf("FindBuf without buf: error %v, want ErrNoBuf", err)
	}

	pinned := filepath.Join(root, ".tools", "bin", "buf")
	if err := os.MkdirAll(filepath.Dir(pinned), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pinned, []byte("#!/bin/sh\n"), 0o755); err != nil { //nolint:gosec // G306: a stand-in executable in a temp dir
		t.Fatal(err)
	}
	got, err := FindBuf(root)
	if err != nil || got != pinned {
		t.Fatalf("FindBuf = %q, %v; want the pinned %q", got, err, pinned)
	}
}

func TestBuildReportsBufFailure(t *testing.T) {
	// false replaces a buf that fails, as on a syntax error.
	_, err := Build(t.Context(), "false", t.TempDir())
	if err == nil {
		t.Fatal("Build succeeded with a failing buf")
	}
}
