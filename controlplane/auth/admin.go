package auth

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/decnet/decnet/controlplane/store"
)

// Initial administrator account.
const (
	AdminUsername     = "admin"
	AdminRole         = "admin"
	AdminPasswordFile = "admin-password"
	adminPasswordLen  = 24
)

// EnsureAdmin creates the user "admin" with a random password when the
// store has no users. It writes the password to <dataDir>/admin-password
// with mode 0600 and returns it so that the caller can print it once. When
// users exist it changes nothing and returns created false.
func EnsureAdmin(ctx context.Context, st store.Store, dataDir string) (password string, created bool, err error) {
	n, err := st.CountUsers(ctx)
	if err != nil {
		return "", false, fmt.Errorf("ensure admin user: %w", err)
	}
	if n > 0 {
		return "", false, nil
	}

	pw, err := GeneratePassword(adminPasswordLen)
	if err != nil {
		return "", false, fmt.Errorf("ensure admin user: %w", err)
	}
	hash, err := HashPassword(pw)
	if err != nil {
		return "", false, fmt.Errorf("ensure admin user: %w", err)
	}

	// The file is written before the user exists, so a crash in between
	// leaves no account with an unrecorded password. The next start then
	// overwrites the file.
	path := filepath.Join(dataDir, AdminPasswordFile)
	if err := writeSecretFile(path, pw); err != nil {
		return "", false, fmt.Errorf("ensure admin user: %w", err)
	}

	err = st.CreateUser(ctx, store.User{Username: AdminUsername, PasswordHash: hash, Role: AdminRole, CreatedAt: time.Now(), MustChangePassword: true})
	if errors.Is(err, store.ErrExists) {
		// Another replica created the admin first; its password file is
		// the valid one, and this one would mislead.
		_ = os.Remove(path)
		return "", false, nil
	}
	if err != nil {
		_ = os.Remove(path)
		return "", false, fmt.Errorf("ensure admin user: %w", err)
	}
	return pw.Reveal(), true, nil
}

// writeSecretFile replaces path with secret and a newline, readable by the
// owner only. It writes a temporary file and renames it, so a reader never
// sees a partial password.
func writeSecretFile(path string, secret Secret) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create directory %s: %w", dir, err)
	}
	// CreateTemp opens the file with mode 0600.
	f, err := os.CreateTemp(dir, ".admin-password-*")
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() { _ = os.Remove(tmp) }()

	if _, err := f.WriteString(secret.Reveal() + "\n"); err != nil {
		_ = f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename to %s: %w", path, err)
	}
	return nil
}
