package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Snapshot writes a consistent copy of the database at path to dest with
// VACUUM INTO, while other connections, such as a running server's, keep
// reading and writing: the copy is one read transaction's view. dest must
// not exist; it is created with mode 0600. The source is opened read-only
// and never migrated, so a snapshot holds the schema the server wrote.
func Snapshot(ctx context.Context, path, dest string) error {
	if strings.ContainsRune(path, '?') || strings.ContainsRune(dest, '?') {
		return fmt.Errorf("snapshot sqlite store %q: paths must not contain '?'", path)
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("snapshot sqlite store: %w", err)
	}
	if _, err := os.Stat(dest); !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("snapshot sqlite store to %q: destination exists", dest)
	}
	// Creating dest first gives the copy mode 0600; VACUUM INTO accepts
	// an empty file as its target.
	f, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("snapshot sqlite store: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("snapshot sqlite store: %w", err)
	}

	db, err := sql.Open(driverName, fmt.Sprintf("file:%s?mode=ro&_pragma=busy_timeout(%d)", path, busyTimeoutMillis))
	if err != nil {
		return fmt.Errorf("snapshot sqlite store %q: %w", path, err)
	}
	defer func() { _ = db.Close() }() // read-only
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, dest); err != nil {
		return fmt.Errorf("snapshot sqlite store %q: %w", path, err)
	}
	return nil
}
