package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/decnet/decnet/controlplane"
	"github.com/decnet/decnet/internal/endpoints"
	"github.com/decnet/decnet/ui"
)

func runServer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("decnet server", stderr)
	var (
		logs            logFlags
		serverNames     listFlag
		advertiseBridge listFlag
	)
	dataDir := fs.String("data-dir", "/var/lib/decnet", "directory for the store, the CA and endpoints.json")
	apiListen := fs.String("api-listen", "0.0.0.0:8443", "TCP address of the API and dashboard (TLS)")
	agentListen := fs.String("agent-listen", "0.0.0.0:8444", "TCP address of the enrollment endpoint (TLS)")
	bridgeListen := fs.String("bridge-listen", "0.0.0.0:8444", "UDP address of the QUIC bridge")
	metricsListen := fs.String("metrics-listen", "127.0.0.1:9464", "TCP address of the Prometheus /metrics endpoint (no authentication); empty disables it")
	certLifetime := fs.Duration("agent-cert-lifetime", controlplane.DefaultAgentCertLifetime, "validity of agent certificates")
	fs.Var(&serverNames, "server-name", "DNS name or IP address clients dial, for the server certificate (repeatable)")
	fs.Var(&advertiseBridge, "advertise-bridge", "bridge host:port given to enrolling agents (repeatable; default: the bridge listener)")
	logs.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := logs.logger(stderr)
	if err != nil {
		return err
	}

	server, err := controlplane.New(ctx, controlplane.Config{
		DataDir:           *dataDir,
		APIListen:         *apiListen,
		AgentListen:       *agentListen,
		BridgeListen:      *bridgeListen,
		MetricsListen:     *metricsListen,
		ServerNames:       serverNames,
		AdvertiseBridge:   advertiseBridge,
		AgentCertLifetime: *certLifetime,
		UI:                ui.Handler(),
		Logger:            log,
		Registry:          prometheus.NewRegistry(),
		Now:               time.Now,
	})
	if err != nil {
		return err
	}
	if password, ok := server.AdminPassword(); ok {
		fmt.Fprintf(stdout, "Created user admin with password %s (also in %s/admin-password; shown once)\n", password, *dataDir)
	}

	ep := server.Endpoints()
	if err := endpoints.Write(*dataDir, ep); err != nil {
		return err
	}
	defer func() { _ = endpoints.Remove(*dataDir) }()
	fmt.Fprintf(stdout, "Dashboard: %s\nAPI:       %s\nEnroll:    %s\nBridge:    %s (UDP)\nMetrics:   %s\n", ep.Dashboard, ep.API, ep.Enroll, ep.Bridge, ep.Metrics)

	return server.Run(ctx)
}
