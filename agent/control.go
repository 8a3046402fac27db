package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/decnet/decnet/agent/config"
	"github.com/decnet/decnet/bridge"
	bridgev1 "github.com/decnet/decnet/gen/decnet/bridge/v1"
	"github.com/decnet/decnet/pki"
)

// Files of the configuration pushed by the control plane, in the data
// directory. The version file is written after the document, so a crash
// between the two makes the agent report the older version and the
// control plane push the newer one again.
const (
	PushedDecoysFile  = "pushed-decoys.yaml"
	pushedVersionFile = "pushed-decoys.version"
)

// applier applies the configurations the control plane pushes and
// reports the agent's state in heartbeats.
//
// NOTE: a pushed configuration is validated and saved, but the running
// decoys are not restarted with it. The agent runs the pushed deckies only
// after an operator points --decoys at PushedDecoysFile and restarts it.
type applier struct {
	dataDir string
	// state returns everything of the heartbeat but the applied version.
	state func() *bridgev1.Heartbeat

	mu      sync.Mutex
	applied uint64
}

var _ bridge.AgentControl = (*applier)(nil)

// newApplier reads the version applied before a restart, if any.
func newApplier(dataDir string, state func() *bridgev1.Heartbeat) (*applier, error) {
	a := &applier{dataDir: dataDir, state: state}
	data, err := os.ReadFile(filepath.Join(dataDir, pushedVersionFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
		return a, nil
	case err != nil:
		return nil, fmt.Errorf("read pushed config version: %w", err)
	}
	a.applied, err = strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("read pushed config version from %s: %w", pushedVersionFile, err)
	}
	return a, nil
}

// Applied returns the version of the last configuration applied, 0 for
// none.
func (a *applier) Applied() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.applied
}

func (a *applier) Heartbeat() *bridgev1.Heartbeat {
	hb := a.state()
	hb.AppliedConfigVersion = a.Applied()
	return hb
}

// ApplyConfig validates the document with config.Parse and saves it. The
// version applied already is acknowledged without writing again.
func (a *applier) ApplyConfig(_ context.Context, cfg *bridgev1.DesiredConfig) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if cfg.GetVersion() == 0 {
		return errors.New("apply config: version 0 is reserved for none")
	}
	if cfg.GetVersion() == a.applied {
		return nil
	}

	if _, err := config.Parse(cfg.GetDocument()); err != nil {
		return fmt.Errorf("apply config version %d: %w", cfg.GetVersion(), err)
	}
	if err := pki.WriteFileAtomic(filepath.Join(a.dataDir, PushedDecoysFile), cfg.GetDocument(), 0o600); err != nil {
		return fmt.Errorf("apply config version %d: %w", cfg.GetVersion(), err)
	}
	version := []byte(strconv.FormatUint(cfg.GetVersion(), 10) + "\n")
	if err := pki.WriteFileAtomic(filepath.Join(a.dataDir, pushedVersionFile), version, 0o600); err != nil {
		return fmt.Errorf("apply config version %d: %w", cfg.GetVersion(), err)
	}
	a.applied = cfg.GetVersion()
	return nil
}

// RunCommand runs COMMAND_KIND_RELOAD by validating the saved
// configuration again.
func (a *applier) RunCommand(_ context.Context, cmd *bridgev1.Command) error {
	if cmd.GetKind() != bridgev1.CommandKind_COMMAND_KIND_RELOAD {
		return fmt.Errorf("unsupported command %s", cmd.GetKind())
	}
	if a.Applied() == 0 {
		return errors.New("reload: no pushed configuration")
	}
	if _, err := config.Load(filepath.Join(a.dataDir, PushedDecoysFile)); err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	return nil
}

// decoyHealth is the state of one decoy service, updated when its Serve
// starts and returns.
type decoyHealth struct {
	mu      sync.Mutex
	running bool
	lastErr string
}

func (h *decoyHealth) set(running bool, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.running = running
	if err != nil {
		h.lastErr = err.Error()
	}
}

func (h *decoyHealth) get() (bool, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.running, h.lastErr
}

// heartbeatState returns the agent's state for a heartbeat.
//
// NOTE: connections accepted and rejected per decoy stay 0: the decoys
// count them only in Prometheus counters, which are not read back here.
func (a *Agent) heartbeatState() *bridgev1.Heartbeat {
	hb := &bridgev1.Heartbeat{
		Version:            a.cfg.Version,
		UptimeMs:           uint64(time.Since(a.started) / time.Millisecond),
		SpoolPendingEvents: a.spool.Pending(),
		SpoolPendingBytes:  uint64(max(a.spool.Bytes(), 0)),
		SpoolEvictedEvents: a.spool.Dropped(),
		EmitDroppedEvents:  a.emitter.Dropped(),
	}
	for _, s := range a.services {
		running, lastErr := s.health.get()
		hb.Decoys = append(hb.Decoys, &bridgev1.DecoyHealth{
			Decky:     s.endpoint.Decky,
			Service:   s.endpoint.Service,
			Address:   s.endpoint.Address,
			Healthy:   running,
			LastError: lastErr,
		})
	}
	return hb
}
