package main

import (
	"context"
	"io"

	"github.com/decnet/decnet/internal/devmode"
	"github.com/decnet/decnet/ui"
)

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("decnet dev", stderr)
	var logs logFlags
	dataDir := fs.String("data-dir", ".decnet-dev", "directory for the store, CA, agent identity and decoy config; reused across runs")
	apiListen := fs.String("api-listen", "127.0.0.1:8080", "loopback TCP address of the API and dashboard (plain HTTP/2)")
	decoys := fs.String("decoys", "", "decoy configuration file (default: <data-dir>/decoys.yaml, created on first run)")
	logs.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := logs.logger(stderr)
	if err != nil {
		return err
	}

	return devmode.Run(ctx, devmode.Config{
		DataDir:    *dataDir,
		APIListen:  *apiListen,
		DecoysPath: *decoys,
		UI:         ui.Handler(),
		Version:    version,
		Logger:     log,
		Out:        stdout,
	})
}
