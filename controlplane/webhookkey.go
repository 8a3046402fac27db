package controlplane

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// webhookKeyFile holds the key that seals webhook URLs and secrets at
// rest. It lives in the CA directory, which replicas share and backups
// include, so every replica can open what another sealed.
const webhookKeyFile = "webhook.key"

// loadOrCreateWebhookKey reads the 32-byte key, creating it with mode
// 0600 on first start.
func loadOrCreateWebhookKey(dir string) ([]byte, error) {
	path := filepath.Join(dir, webhookKeyFile)
	key, err := os.ReadFile(path) //nolint:gosec // G304: the CA directory is the operator's
	if err == nil {
		if len(key) != 32 {
			return nil, fmt.Errorf("webhook key %s: %d bytes, want 32: restore it from a backup", path, len(key))
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read webhook key: %w", err)
	}
	key = make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate webhook key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create webhook key: %w", err)
	}
	// O_EXCL: a replica starting at the same moment keeps the first key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) //nolint:gosec // G304: the CA directory is the operator's
	if errors.Is(err, fs.ErrExist) {
		return loadOrCreateWebhookKey(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("create webhook key: %w", err)
	}
	if _, err := f.Write(key); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("write webhook key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write webhook key: %w", err)
	}
	return key, nil
}
