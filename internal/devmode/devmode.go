// Package devmode runs `decnet dev`: a control plane, one agent enrolled
// against it through the real enrollment endpoint, and the agent's decoys,
// all in one process on loopback.
package devmode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/decnet/decnet/agent"
	"github.com/decnet/decnet/agent/config"
	"github.com/decnet/decnet/agent/enroll"
	"github.com/decnet/decnet/controlplane"
	"github.com/decnet/decnet/internal/endpoints"
)

// devAgentName names the in-process agent.
const devAgentName = "dev-agent"

// Config configures decnet dev.
type Config struct {
	DataDir string
	// APIListen is the loopback address of the API and dashboard.
	APIListen string
	// DecoysPath is the decoy configuration; empty uses
	// <DataDir>/decoys.yaml, written with a fresh seed on the first run.
	DecoysPath string
	UI         http.Handler
	Version    string
	Logger     zerolog.Logger
	// Out receives the lines a person reads: URLs, credentials, decoys.
	Out io.Writer
}

// Run starts everything, writes endpoints.json and serves until ctx ends.
// Decoys configured with port 0 listen on the ports of the previous run on
// the same data directory when those are still free.
func Run(ctx context.Context, cfg Config) error {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	// A stale file from a killed run would point scripts at dead ports.
	if err := endpoints.Remove(cfg.DataDir); err != nil {
		return err
	}

	registry := prometheus.NewRegistry()
	server, err := controlplane.New(ctx, controlplane.Config{
		Version:      cfg.Version,
		DataDir:      cfg.DataDir,
		APIListen:    cfg.APIListen,
		AgentListen:  "127.0.0.1:0",
		BridgeListen: "127.0.0.1:0",
		// One registry serves the control plane's and the agent's metrics.
		MetricsListen: "127.0.0.1:0",
		PlainHTTP:     true,
		// The dev agent renews its certificate over the bridge like any
		// agent, so the default lifetime applies.
		UI:       cfg.UI,
		Logger:   cfg.Logger,
		Registry: registry,
		Now:      time.Now,
		// Everything of decnet dev runs on this machine, so a webhook
		// receiver tried out next to it is on loopback too.
		WebhookAllow:     []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
		WebhookAllowHTTP: true,
	})
	if err != nil {
		return err
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return server.Run(gctx) })

	ag, err := startAgent(gctx, cfg, server, registry)
	if err != nil {
		// Stop the control plane that is already serving.
		g.Go(func() error { return err })
		return g.Wait()
	}

	ep := server.Endpoints()
	ep.Decoys = ag.Decoys()
	if err := savePorts(cfg.DataDir, ep.Decoys); err != nil {
		g.Go(func() error { return err })
		return g.Wait()
	}
	if err := endpoints.Write(cfg.DataDir, ep); err != nil {
		g.Go(func() error { return err })
		return g.Wait()
	}
	defer func() { _ = endpoints.Remove(cfg.DataDir) }()
	printBanner(cfg, server, ep)

	g.Go(func() error { return ag.Run(gctx) })
	return g.Wait()
}

// startAgent loads or creates the agent's identity and decoy configuration
// and builds the agent. The identity is enrolled over HTTPS against the
// server's own enrollment endpoint, as a remote sensor would enroll.
func startAgent(ctx context.Context, cfg Config, server *controlplane.Server, registry *prometheus.Registry) (*agent.Agent, error) {
	agentDir := filepath.Join(cfg.DataDir, "agent")
	identity, err := enroll.LoadIdentity(agentDir)
	if err != nil || expired(identity, time.Now()) {
		if identity, err = enrollDevAgent(ctx, server, agentDir, cfg.Logger); err != nil {
			return nil, err
		}
	}

	decoys, err := loadOrCreateDecoys(cfg)
	if err != nil {
		return nil, err
	}
	// Only the configuration in memory changes, so decoys.yaml keeps
	// asking for any port and a taken port never stops dev.
	reusePorts(decoys, loadPorts(cfg.DataDir, cfg.Logger), cfg.Logger)

	return agent.New(agent.Config{
		DataDir:  agentDir,
		Decoys:   decoys,
		Identity: identity,
		// The bridge listens on a fresh port every run.
		BridgeAddresses: []string{server.Endpoints().Bridge},
		Version:         cfg.Version,
		Logger:          cfg.Logger,
		Registry:        registry,
	})
}

func enrollDevAgent(ctx context.Context, server *controlplane.Server, agentDir string, log zerolog.Logger) (*enroll.Identity, error) {
	issued, err := server.CreateToken(ctx, devAgentName, time.Minute)
	if err != nil {
		return nil, err
	}
	if _, err := enroll.Enroll(ctx, enroll.Config{
		ServerURL: server.Endpoints().Enroll,
		Token:     issued.Token,
		DataDir:   agentDir,
		Logger:    log,
	}); err != nil {
		return nil, fmt.Errorf("enroll the dev agent: %w", err)
	}
	return enroll.LoadIdentity(agentDir)
}

func loadOrCreateDecoys(cfg Config) (*config.Decoys, error) {
	path := cfg.DecoysPath
	if path != "" {
		return config.Load(path)
	}
	path = filepath.Join(cfg.DataDir, "decoys.yaml")
	decoys, err := config.Load(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return decoys, err
	}

	if decoys, err = config.DevDefault(); err != nil {
		return nil, err
	}
	data, err := decoys.Marshal()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return nil, fmt.Errorf("write decoy config: %w", err)
	}
	return decoys, nil
}

func printBanner(cfg Config, server *controlplane.Server, ep endpoints.Endpoints) {
	w := cfg.Out
	fmt.Fprintf(w, "\nDECNET dev is running. Data directory: %s\n\n", cfg.DataDir)
	fmt.Fprintf(w, "  Dashboard  %s\n", ep.Dashboard)
	fmt.Fprintf(w, "  API        %s\n", ep.API)
	fmt.Fprintf(w, "  Metrics    %s\n", ep.Metrics)
	if password, ok := server.AdminPassword(); ok {
		fmt.Fprintf(w, "  Login      admin / %s   (shown once; also in %s)\n", password, filepath.Join(cfg.DataDir, "admin-password"))
	} else {
		fmt.Fprintf(w, "  Login      admin / see %s\n", filepath.Join(cfg.DataDir, "admin-password"))
	}
	fmt.Fprintln(w)
	for _, d := range ep.Decoys {
		fmt.Fprintf(w, "  decoy %-6s %-22s decky %s, persona %s\n", d.Service, d.Address, d.Decky, d.Persona)
	}
	fmt.Fprintf(w, "\nAddresses are also in %s. Stop with Ctrl-C.\n\n", filepath.Join(cfg.DataDir, endpoints.FileName))
}

// expired reports whether the identity's certificate is no longer valid, so
// the dev agent enrolls again. Renewal keeps it valid while dev runs; it
// expires only when dev was stopped for longer than its lifetime.
func expired(id *enroll.Identity, now time.Time) bool {
	leaf := id.Certificate.Leaf
	return leaf == nil || !now.Before(leaf.NotAfter)
}
