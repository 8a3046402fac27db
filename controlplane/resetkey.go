package controlplane

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/quic-go/quic-go"

	"github.com/decnet/decnet/pki"
)

// resetKeyFile holds the bridge's QUIC stateless reset key. Keeping it
// across restarts lets a restarted control plane reset the connections of
// its previous run at once, so agents reconnect without waiting for the
// idle timeout.
const resetKeyFile = "bridge-reset.key"

// loadOrCreateResetKey reads dataDir/bridge-reset.key, creating it with
// random bytes and mode 0600 on first use.
func loadOrCreateResetKey(dataDir string) (*quic.StatelessResetKey, error) {
	path := filepath.Join(dataDir, resetKeyFile)
	var key quic.StatelessResetKey

	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if len(data) != len(key) {
			return nil, fmt.Errorf("invalid %s: %d bytes, want %d: delete it to create a new one", path, len(data), len(key))
		}
		copy(key[:], data)
		return &key, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("read bridge reset key: %w", err)
	}

	if _, err := rand.Read(key[:]); err != nil {
		return nil, fmt.Errorf("create bridge reset key: %w", err)
	}
	if err := pki.WriteFileAtomic(path, key[:], 0o600); err != nil {
		return nil, fmt.Errorf("write bridge reset key: %w", err)
	}
	return &key, nil
}
