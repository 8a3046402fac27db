package endpoints

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteReadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	want := Endpoints{
		API:    "http://127.0.0.1:8080",
		Bridge: "127.0.0.1:7443",
		Decoys: []Decoy{{Decky: "dev-01", Service: "ssh", Address: "127.0.0.1:2222"}},
	}
	if err := Write(dir, want); err != nil {
		t.Fatalf("Write: %v", err)
	}

	got, err := Read(dir)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if got.API != want.API || got.Bridge != want.Bridge {
		t.Fatalf("Read = %+v, want %+v", got, want)
	}
	ssh, ok := got.FindDecoy("ssh")
	if !ok || ssh.Address != "127.0.0.1:2222" {
		t.Fatalf("FindDecoy(ssh) = %+v, %v", ssh, ok)
	}
	if _, ok := got.FindDecoy("ftp"); ok {
		t.Fatal("FindDecoy(ftp) found a decoy that was never written")
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("data dir holds %d files after Write, want only %s", len(entries), FileName)
	}
}

func TestRemove(t *testing.T) {
	dir := t.TempDir()
	if err := Remove(dir); err != nil {
		t.Fatalf("Remove of a missing file: %v", err)
	}
	if err := Write(dir, Endpoints{API: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := Remove(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); !os.IsNotExist(err) {
		t.Fatalf("file still present after Remove: %v", err)
	}
}
