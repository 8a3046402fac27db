package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane"
	"github.com/decnet/decnet/controlplane/store/sqlite"
	"github.com/decnet/decnet/internal/endpoints"
	"github.com/decnet/decnet/pki"
)

func runTokens(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("tokens: want a subcommand, create or list: %w", errUsage)
	}
	switch args[0] {
	case "create":
		return runTokensCreate(ctx, args[1:], stdout, stderr)
	case "list":
		return runTokensList(ctx, args[1:], stdout, stderr)
	default:
		return fmt.Errorf("tokens: unknown subcommand %q, want create or list: %w", args[0], errUsage)
	}
}

func runTokensCreate(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("decnet tokens create", stderr)
	dataDir := fs.String("data-dir", "/var/lib/decnet", "control plane data directory")
	name := fs.String("name", "", "name of the agent the token enrolls (required)")
	ttl := fs.Duration("ttl", controlplane.DefaultTokenTTL, "how long the token stays valid")
	format := fs.String("format", "text", "output format: text or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *name == "" {
		return errors.New("tokens create: --name is required")
	}
	if *format != "text" && *format != "json" {
		return fmt.Errorf("tokens create: invalid --format %q: want text or json", *format)
	}

	ca, err := pki.LoadOrCreateCA(filepath.Join(*dataDir, "ca"), time.Now)
	if err != nil {
		return err
	}
	st, err := sqlite.Open(ctx, filepath.Join(*dataDir, "decnet.db"), zerolog.Nop())
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()

	issued, err := controlplane.CreateToken(ctx, st, ca, *name, *ttl, time.Now())
	if err != nil {
		return err
	}

	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(issued)
	}
	// The token exists only in this output, so a failed write is an error.
	if _, err := fmt.Fprintln(stdout, issued.Token); err != nil {
		return fmt.Errorf("write token: %w", err)
	}
	enrollURL := "https://<control-plane>:8444"
	if ep, err := endpoints.Read(*dataDir); err == nil && ep.Enroll != "" {
		enrollURL = ep.Enroll
	}
	fmt.Fprintf(stderr, "\nSingle-use token for agent %s (%s), valid until %s.\nOn the sensor:\n  decnet-agent enroll --server %s --token-file <file with the token>\n",
		issued.AgentName, issued.AgentID, issued.ExpiresAt.Format(time.RFC3339), enrollURL)
	return nil
}

func runTokensList(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("decnet tokens list", stderr)
	dataDir := fs.String("data-dir", "/var/lib/decnet", "control plane data directory")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	st, err := sqlite.Open(ctx, filepath.Join(*dataDir, "decnet.db"), zerolog.Nop())
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()

	tokens, err := st.ListTokens(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "AGENT ID\tNAME\tSTATE\tEXPIRES")
	for _, t := range tokens {
		state := "valid"
		switch {
		case !t.UsedAt.IsZero():
			state = "used"
		case !now.Before(t.ExpiresAt):
			state = "expired"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", t.AgentID, t.AgentName, state, t.ExpiresAt.Format(time.RFC3339))
	}
	return w.Flush()
}
