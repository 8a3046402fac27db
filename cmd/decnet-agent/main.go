// Command decnet-agent runs a DECNET sensor: it enrolls with the control
// plane once, then serves decoys and ships their events over the bridge.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/rs/zerolog"

	"github.com/decnet/decnet/agent"
	"github.com/decnet/decnet/agent/config"
	"github.com/decnet/decnet/agent/enroll"
	"github.com/decnet/decnet/bridge"
	"github.com/decnet/decnet/internal/cli"
	"github.com/decnet/decnet/internal/endpoints"
)

const usage = `decnet-agent: the DECNET sensor agent

Usage:
  decnet-agent enroll --server URL (--token T | --token-file F) [--name N] [flags]
  decnet-agent run --decoys FILE [flags]
  decnet-agent version

The bootstrap token may also come from DECNET_ENROLL_TOKEN. Every flag can
be set through the environment: --data-dir reads DECNET_DATA_DIR.
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

var errUsage = errors.New("invalid usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if errors.Is(err, flag.ErrHelp) || errors.Is(err, errUsage) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "decnet-agent:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "enroll":
		return runEnroll(ctx, args[1:], stdout, stderr)
	case "run":
		return runAgent(ctx, args[1:], stderr)
	case "version":
		fmt.Fprintln(stdout, "decnet-agent", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q: %w", args[0], errUsage)
	}
}

func newLogger(stderr io.Writer, level, format string) (zerolog.Logger, error) {
	if format != "console" && format != "json" {
		return zerolog.Nop(), fmt.Errorf("invalid --log-format %q: want console or json", format)
	}
	return cli.NewLogger(stderr, level, format == "console")
}

func runEnroll(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("decnet-agent enroll", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", "/var/lib/decnet-agent", "directory for the agent's key, certificate and spool")
	server := fs.String("server", "", "enrollment URL of the control plane, https://host:port (required)")
	tokenFile := fs.String("token-file", "", "file holding the bootstrap token")
	name := fs.String("name", "", "agent name to request; the control plane uses it only when the token was created without one (default: the host name)")
	// The token flag is not read from the environment through cli.Parse:
	// DECNET_ENROLL_TOKEN is its own source, checked for conflicts below.
	var token string
	fs.StringVar(&token, "token", "", "bootstrap token (single use; prefer --token-file or DECNET_ENROLL_TOKEN)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	logFormat := fs.String("log-format", "console", "log format: console or json")
	if err := cli.Parse(fs, args, envWithout("DECNET_TOKEN")); err != nil {
		return err
	}
	if *server == "" {
		return errors.New("enroll: --server is required")
	}
	log, err := newLogger(stderr, *logLevel, *logFormat)
	if err != nil {
		return err
	}

	secret, err := enroll.TokenFromSources(token, *tokenFile, os.Getenv)
	if err != nil {
		return err
	}
	result, err := enroll.Enroll(ctx, enroll.Config{
		ServerURL: *server,
		Token:     secret,
		DataDir:   *dataDir,
		Name:      *name,
		Logger:    log,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Enrolled as agent %s (%s); identity written to %s\n", result.AgentName, result.AgentID, *dataDir)
	return nil
}

// envWithout hides one variable from flag parsing.
func envWithout(name string) func(string) string {
	return func(k string) string {
		if k == name {
			return ""
		}
		return os.Getenv(k)
	}
}

func runAgent(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("decnet-agent run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", "/var/lib/decnet-agent", "directory with the enrolled identity and the spool")
	decoysPath := fs.String("decoys", "/etc/decnet/decoys.yaml", "decoy configuration file")
	metricsListen := fs.String("metrics-listen", "127.0.0.1:9465", "TCP address of /metrics; empty disables it")
	bridgeAddrs := fs.String("bridge", "", "comma-separated bridge host:port list overriding the enrolled one")
	spoolMax := fs.Int64("spool-max-bytes", agent.DefaultSpoolMaxBytes, "disk cap of the event spool in bytes")
	fetchDownloads := fs.Bool("fetch-downloads", false, "fetch the URLs attackers ask emulated shells to download into the quarantine (public addresses only); off records the URLs only")
	heartbeat := fs.Duration("heartbeat-interval", bridge.DefaultHeartbeatInterval, "time between heartbeats to the control plane")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	logFormat := fs.String("log-format", "console", "log format: console or json")
	if err := cli.Parse(fs, args, os.Getenv); err != nil {
		return err
	}
	log, err := newLogger(stderr, *logLevel, *logFormat)
	if err != nil {
		return err
	}

	identity, err := enroll.LoadIdentity(*dataDir)
	if err != nil {
		return err
	}
	decoyConfig, err := config.Load(*decoysPath)
	if err != nil {
		return err
	}
	var overrides []string
	for _, a := range strings.Split(*bridgeAddrs, ",") {
		if a = strings.TrimSpace(a); a != "" {
			overrides = append(overrides, a)
		}
	}

	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ag, err := agent.New(agent.Config{
		DataDir:           *dataDir,
		Decoys:            decoyConfig,
		Identity:          identity,
		BridgeAddresses:   overrides,
		MetricsListen:     *metricsListen,
		SpoolMaxBytes:     *spoolMax,
		FetchDownloads:    *fetchDownloads,
		HeartbeatInterval: *heartbeat,
		Version:           version,
		Logger:            log,
		Registry:          registry,
	})
	if err != nil {
		return err
	}

	if err := endpoints.Write(*dataDir, endpoints.Endpoints{Metrics: ag.MetricsURL(), Decoys: ag.Decoys()}); err != nil {
		return err
	}
	defer func() { _ = endpoints.Remove(*dataDir) }()
	for _, d := range ag.Decoys() {
		log.Info().Str("decky", d.Decky).Str("service", d.Service).Str("address", d.Address).Msg("decoy listening")
	}
	return ag.Run(ctx)
}
