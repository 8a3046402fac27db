package devmode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/agent/config"
	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/internal/endpoints"
)

// portsFileName is the file in the data directory that keeps the decoy
// addresses of the last run. endpoints.json is no record of them, because
// it is removed on stop so that scripts never read a stopped process's
// addresses.
const portsFileName = "decoy-ports.json"

// portKey identifies a decoy across runs.
func portKey(decky, service string) string {
	return decky + "/" + service
}

// loadPorts returns the decoys recorded by the last run, by portKey. A
// missing file means a first run. An unreadable one is logged and ignored,
// because new ports are a safe fallback.
func loadPorts(dataDir string, log zerolog.Logger) map[string]endpoints.Decoy {
	out := map[string]endpoints.Decoy{}
	path := filepath.Join(dataDir, portsFileName)
	data, err := os.ReadFile(path) //nolint:gosec // G304: the data directory is the operator's
	if errors.Is(err, fs.ErrNotExist) {
		return out
	}
	var recorded []endpoints.Decoy
	if err == nil {
		err = json.Unmarshal(data, &recorded)
	}
	if err != nil {
		log.Warn().Err(err).Str("path", path).Msg("decoy ports of the last run unreadable, picking new ones")
		return out
	}
	for _, d := range recorded {
		out[portKey(d.Decky, d.Service)] = d
	}
	return out
}

// savePorts records the decoys' addresses for the next run.
func savePorts(dataDir string, running []endpoints.Decoy) error {
	data, err := json.MarshalIndent(running, "", "  ")
	if err != nil {
		return fmt.Errorf("encode decoy ports: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, portsFileName), append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("write decoy ports: %w", err)
	}
	return nil
}

// reusePorts gives each service configured with port 0 the address it had
// in the last run, when that address is still free. A taken address is
// logged and the service keeps port 0, so it gets a new port.
//
// NOTE: a process that binds a port between the check here and the
// agent's own bind makes the agent fail to start. Starting dev again then
// picks a new port, because the port is no longer free.
func reusePorts(cfg *config.Decoys, recorded map[string]endpoints.Decoy, log zerolog.Logger) {
	for i := range cfg.Deckies {
		d := &cfg.Deckies[i]
		for j := range d.Services {
			s := &d.Services[j]
			old, ok := recorded[portKey(d.Name, s.Name)]
			if !ok || !sameHostAnyPort(s.Listen, old.Address) {
				continue
			}
			if err := checkFree(old.Transport, old.Address); err != nil {
				log.Warn().Err(err).Str(decoys.FieldDecky, d.Name).Str(decoys.FieldService, s.Name).Str("address", old.Address).
					Msg("decoy port of the last run is taken, picking a new one")
				continue
			}
			s.Listen = old.Address
		}
	}
}

// sameHostAnyPort reports whether listen requests port 0 on the host of
// the recorded address.
func sameHostAnyPort(listen, recorded string) bool {
	want, err := netip.ParseAddrPort(listen)
	if err != nil || want.Port() != 0 {
		return false
	}
	got, err := netip.ParseAddrPort(recorded)
	return err == nil && got.Port() != 0 && got.Addr() == want.Addr()
}

// checkFree binds address and releases it at once. transport is "udp" for
// datagram decoys; empty means TCP, as in endpoints.Decoy.
func checkFree(transport, address string) error {
	var lc net.ListenConfig
	if transport == "udp" {
		pc, err := lc.ListenPacket(context.Background(), "udp", address)
		if err != nil {
			return err
		}
		return pc.Close()
	}
	ln, err := lc.Listen(context.Background(), "tcp", address)
	if err != nil {
		return err
	}
	return ln.Close()
}
