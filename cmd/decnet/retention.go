package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/controlplane/store/postgres"
	"github.com/decnet/decnet/controlplane/store/sqlite"
)

// storeFlags select the store the way decnet server does: --store and
// --database-url-file, else $DECNET_DATABASE_URL, else SQLite in the data
// directory.
type storeFlags struct {
	url     secretURL
	urlFile string
}

func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.url, "store", "sqlite, postgres or a postgres:// URL, as for decnet server")
	fs.StringVar(&f.urlFile, "database-url-file", "", "file holding the PostgreSQL URL, which may carry a password")
}

// databaseURL returns the PostgreSQL URL, or "" for SQLite.
func (f *storeFlags) databaseURL(getenv func(string) string) (string, error) {
	return resolveDatabaseURL(f.url.value, f.urlFile, getenv)
}

// open opens the selected store. A running server may hold it open too:
// SQLite serialises the writers and PostgreSQL is shared anyway.
func (f *storeFlags) open(ctx context.Context, dataDir string, getenv func(string) string) (store.Store, error) {
	dsn, err := f.databaseURL(getenv)
	if err != nil {
		return nil, err
	}
	if dsn != "" {
		return postgres.Open(ctx, dsn, zerolog.Nop())
	}
	return sqlite.Open(ctx, filepath.Join(dataDir, "decnet.db"), zerolog.Nop())
}

func runRetention(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("decnet retention", stderr)
	dataDir := fs.String("data-dir", "/var/lib/decnet", "control plane data directory")
	var sf storeFlags
	sf.register(fs)
	olderThan := fs.Duration("older-than", 0, "prune raw events older than this, by event time, such as 720h (required)")
	dryRun := fs.Bool("dry-run", false, "count what would be pruned and delete nothing")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *olderThan <= 0 {
		return fmt.Errorf("retention: --older-than must be positive: %w", errUsage)
	}

	st, err := sf.open(ctx, *dataDir, os.Getenv)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()

	report, err := st.PruneEvents(ctx, time.Now().Add(-*olderThan), *dryRun)
	if err != nil {
		return err
	}
	printPruneReport(stdout, report)
	return nil
}

// printPruneReport writes one line per table and per dropped partition.
func printPruneReport(w io.Writer, r store.PruneReport) {
	verb := "deleted"
	if r.DryRun {
		verb = "would delete"
	}
	fmt.Fprintf(w, "Events before %s (dry run: %t)\n", r.Before.UTC().Format(time.RFC3339), r.DryRun)
	tables := make([]string, 0, len(r.Rows))
	for t := range r.Rows {
		tables = append(tables, t)
	}
	slices.Sort(tables)
	for _, t := range tables {
		fmt.Fprintf(w, "%s: %s %d rows\n", t, verb, r.Rows[t])
	}
	for _, p := range r.Partitions {
		fmt.Fprintf(w, "partition %s: %s whole\n", p, verb)
	}
}
