package main

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/decnet/decnet/controlplane/auth"
	"github.com/decnet/decnet/controlplane/store/sqlite"
)

// Names inside a backup archive. The data directory's layout is kept, so
// restore writes each entry to the same path under the new directory.
const (
	backupDatabase = "decnet.db"
	// backupPostgresDump is a pg_dump custom-format archive, restored
	// with pg_restore; decnet restore only unpacks it.
	backupPostgresDump = "postgres.dump"
	backupCADir        = "ca"
	// backupResetKey is controlplane's bridge reset key file.
	backupResetKey = "bridge-reset.key"
)

func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := newFlagSet("decnet backup", stderr)
	dataDir := fset.String("data-dir", "/var/lib/decnet", "control plane data directory")
	caDir := fset.String("ca-dir", "", "directory of the CA (default <data-dir>/ca)")
	out := fset.String("out", "", "archive to write, FILE.tar.gz (required; must not exist)")
	pgDump := fset.String("pg-dump", "pg_dump", "pg_dump binary for a PostgreSQL store")
	var sf storeFlags
	sf.register(fset)
	if err := parseFlags(fset, args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("backup: --out is required: %w", errUsage)
	}
	if *caDir == "" {
		*caDir = filepath.Join(*dataDir, backupCADir)
	}
	dsn, err := sf.databaseURL(os.Getenv)
	if err != nil {
		return err
	}

	tmpDir, err := os.MkdirTemp(filepath.Dir(*out), ".decnet-backup-")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer func() { _ = os.RemoveAll(tmpDir) }()

	// The database goes first: the CA and keys change rarely, and a
	// certificate issued after the snapshot is still signed by the CA the
	// archive holds.
	dbName := backupDatabase
	dbPath := filepath.Join(tmpDir, dbName)
	if dsn != "" {
		dbName = backupPostgresDump
		dbPath = filepath.Join(tmpDir, dbName)
		if err := dumpPostgres(ctx, *pgDump, dsn, dbPath); err != nil {
			return err
		}
	} else if err := sqlite.Snapshot(ctx, filepath.Join(*dataDir, backupDatabase), dbPath); err != nil {
		return fmt.Errorf("backup: %w", err)
	}

	entries := []backupEntry{{name: dbName, path: dbPath}}
	for _, name := range []string{backupResetKey, auth.AdminPasswordFile} {
		p := filepath.Join(*dataDir, name)
		if _, err := os.Stat(p); err == nil {
			entries = append(entries, backupEntry{name: name, path: p})
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("backup: %w", err)
		}
	}
	caEntries, err := dirEntries(*caDir, backupCADir)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	entries = append(entries, caEntries...)

	if err := writeArchive(*out, entries); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Wrote %s (%d files)\n", *out, len(entries))
	return nil
}

// backupEntry is one file or directory of the archive: its name inside
// the archive and where it is read from.
type backupEntry struct {
	name string
	path string
}

// dirEntries lists dir recursively as entries under prefix.
func dirEntries(dir, prefix string) ([]backupEntry, error) {
	var out []backupEntry
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if !d.IsDir() && !d.Type().IsRegular() {
			return nil // sockets, links: nothing the CA writes
		}
		out = append(out, backupEntry{name: path.Join(prefix, filepath.ToSlash(rel)), path: p})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	return out, nil
}

// writeArchive writes the entries to a gzipped tar at out, through a
// temporary file renamed into place, with mode 0600 because it holds the
// CA keys.
func writeArchive(out string, entries []backupEntry) (err error) {
	if _, err := os.Lstat(out); err == nil {
		return fmt.Errorf("write backup %s: file exists; choose another --out", out)
	}
	f, err := os.CreateTemp(filepath.Dir(out), ".decnet-backup-*.tar.gz")
	if err != nil {
		return fmt.Errorf("write backup: %w", err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()

	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		if err := addToArchive(tw, e); err != nil {
			return fmt.Errorf("write backup: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("write backup: %w", err)
	}
	if err := gz.Close(); err != nil {
		return fmt.Errorf("write backup: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write backup: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write backup: %w", err)
	}
	if err := os.Rename(f.Name(), out); err != nil {
		return fmt.Errorf("write backup: %w", err)
	}
	return nil
}

func addToArchive(tw *tar.Writer, e backupEntry) error {
	fi, err := os.Stat(e.path)
	if err != nil {
		return err
	}
	hdr := &tar.Header{
		Name:    e.name,
		Mode:    int64(fi.Mode().Perm()),
		ModTime: fi.ModTime().UTC().Truncate(time.Second),
		Format:  tar.FormatPAX,
	}
	if fi.IsDir() {
		hdr.Typeflag = tar.TypeDir
		hdr.Name += "/"
		return tw.WriteHeader(hdr)
	}
	hdr.Typeflag = tar.TypeReg
	hdr.Size = fi.Size()
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	src, err := os.Open(e.path)
	if err != nil {
		return err
	}
	defer func() { _ = src.Close() }() // read-only
	if _, err := io.CopyN(tw, src, fi.Size()); err != nil {
		return fmt.Errorf("copy %s: %w", e.path, err)
	}
	return nil
}

// dumpPostgres runs pg_dump in its custom format into dest. The password
// goes through PGPASSWORD, so it appears in no process list.
//
// pg_dump must be the same major version as the server or newer.
func dumpPostgres(ctx context.Context, pgDump, dsn, dest string) error {
	bin, err := exec.LookPath(pgDump)
	if err != nil {
		return fmt.Errorf("backup postgres store: %s not found; install the PostgreSQL client tools or back up the database with your own tooling: %w", pgDump, err)
	}
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return errors.New("backup postgres store: want the database as a postgres:// URL")
	}
	env := os.Environ()
	if u.User != nil {
		if pw, ok := u.User.Password(); ok {
			env = append(env, "PGPASSWORD="+pw)
			u.User = url.User(u.User.Username())
		}
	}
	//nolint:gosec // G204: bin is the operator's --pg-dump found on PATH, run without a shell
	cmd := exec.CommandContext(ctx, bin, "--format=custom", "--no-password", "--file="+dest, "--dbname="+u.String())
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("backup postgres store: pg_dump: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return os.Chmod(dest, 0o600)
}

func runRestore(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fset := newFlagSet("decnet restore", stderr)
	dataDir := fset.String("data-dir", "", "new data directory to restore into; must be missing or empty (required)")
	from := fset.String("from", "", "archive written by decnet backup (required)")
	if err := parseFlags(fset, args); err != nil {
		return err
	}
	if *dataDir == "" || *from == "" {
		return fmt.Errorf("restore: --data-dir and --from are required: %w", errUsage)
	}
	if err := requireEmptyDir(*dataDir); err != nil {
		return err
	}
	n, hasDump, err := extractArchive(*from, *dataDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Restored %d files into %s\n", n, *dataDir)
	if hasDump {
		fmt.Fprintf(stdout, "The PostgreSQL database is in %s: load it into an empty database with\n  pg_restore --dbname <url> %s\n",
			filepath.Join(*dataDir, backupPostgresDump), filepath.Join(*dataDir, backupPostgresDump))
	}
	return nil
}

// requireEmptyDir creates dir with mode 0700, or accepts it when it exists
// and is empty, so a restore never mixes with or overwrites a live data
// directory.
func requireEmptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("restore: %w", err)
	case len(entries) > 0:
		return fmt.Errorf("restore into %s: directory is not empty; choose a new or empty --data-dir", dir)
	}
	return os.Chmod(dir, 0o700) //nolint:gosec // G302: a directory needs the search bit, and 0700 is owner-only
}

// extractArchive unpacks the archive into dir and returns how many files
// it wrote and whether one was a PostgreSQL dump. Only regular files and
// directories with relative names inside dir are accepted; modes are
// those recorded, without group or other write.
func extractArchive(from, dir string) (int, bool, error) {
	f, err := os.Open(from)
	if err != nil {
		return 0, false, fmt.Errorf("restore: %w", err)
	}
	defer func() { _ = f.Close() }() // read-only
	gz, err := gzip.NewReader(f)
	if err != nil {
		return 0, false, fmt.Errorf("restore %s: %w", from, err)
	}
	tr := tar.NewReader(gz)

	var (
		files   int
		hasDump bool
	)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return files, hasDump, fmt.Errorf("restore %s: %w", from, err)
		}
		name := strings.TrimSuffix(hdr.Name, "/")
		if !fs.ValidPath(name) || name == "." {
			return files, hasDump, fmt.Errorf("restore %s: invalid entry name %q", from, hdr.Name)
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		mode := fs.FileMode(hdr.Mode).Perm() &^ 0o022
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o700); err != nil {
				return files, hasDump, fmt.Errorf("restore: %w", err)
			}
			if err := os.Chmod(target, mode|0o700); err != nil {
				return files, hasDump, fmt.Errorf("restore: %w", err)
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
				return files, hasDump, fmt.Errorf("restore: %w", err)
			}
			if err := writeRestored(target, tr, mode); err != nil {
				return files, hasDump, fmt.Errorf("restore %s: %w", name, err)
			}
			files++
			hasDump = hasDump || name == backupPostgresDump
		default:
			return files, hasDump, fmt.Errorf("restore %s: entry %q is not a file or directory", from, hdr.Name)
		}
	}
	return files, hasDump, nil
}

// writeRestored creates path exclusively with mode and copies r into it.
func writeRestored(path string, r io.Reader, mode fs.FileMode) error {
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, r); err != nil { //nolint:gosec // G110: the archive is the operator's own backup
		_ = out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		_ = out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	// The umask may have narrowed the mode at creation.
	return os.Chmod(path, mode)
}
