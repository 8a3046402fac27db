package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/decnet/decnet/controlplane"
	"github.com/decnet/decnet/controlplane/download"
	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/controlplane/tokens"
	"github.com/decnet/decnet/internal/endpoints"
	"github.com/decnet/decnet/pki"
)

func runTokens(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("tokens: want a subcommand, create, list or revoke: %w", errUsage)
	}
	switch args[0] {
	case "create":
		return runTokensCreate(ctx, args[1:], stdout, stderr)
	case "list":
		return runTokensList(ctx, args[1:], stdout, stderr)
	case "revoke":
		return runTokensRevoke(ctx, args[1:], stdout, stderr)
	default:
		return fmt.Errorf("tokens: unknown subcommand %q, want create, list or revoke: %w", args[0], errUsage)
	}
}

func runTokensCreate(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("decnet tokens create", stderr)
	var sf storeFlags
	sf.register(fs)
	caDir := fs.String("ca-dir", "", "directory of the CA the token pins (default: <data-dir>/ca), as for decnet server")
	dataDir := fs.String("data-dir", "/var/lib/decnet", "control plane data directory")
	name := fs.String("name", "", "name of the agent the token enrolls (required)")
	ttl := fs.Duration("ttl", controlplane.DefaultTokenTTL, "how long the token stays valid")
	format := fs.String("format", "text", "output format: text or json")
	enrollFlag := fs.String("enroll-url", "", "enrollment URL sensors dial, https://host:port, for the printed install command (default: the running server's, from endpoints.json)")
	var labelArgs listFlag
	fs.Var(&labelArgs, "label", "label key=value copied to the agent record; repeat or separate with commas")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	labels, err := tokens.ParseLabels(labelArgs)
	if err != nil {
		return fmt.Errorf("tokens create: %w", err)
	}
	if *name == "" {
		return errors.New("tokens create: --name is required")
	}
	if *format != "text" && *format != "json" {
		return fmt.Errorf("tokens create: invalid --format %q: want text or json", *format)
	}

	caPath := *caDir
	if caPath == "" {
		caPath = filepath.Join(*dataDir, "ca")
	}
	ca, err := pki.LoadOrCreateCA(caPath, time.Now)
	if err != nil {
		return err
	}
	st, err := sf.open(ctx, *dataDir, os.Getenv)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()

	issued, err := tokens.Create(ctx, st, ca.RootFingerprint(), tokens.Request{AgentName: *name, TTL: *ttl, Labels: labels}, time.Now())
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
	enrollURL := enrollURLFor(*enrollFlag, *dataDir)
	fmt.Fprintf(stderr, "\nSingle-use token for agent %s (%s), valid until %s.\nOn the sensor:\n  decnet-agent enroll --server %s --token-file <file with the token>\n",
		issued.AgentName, issued.AgentID, issued.ExpiresAt.Format(time.RFC3339), enrollURL)
	// The install line pins the CA root before it downloads anything; see
	// docs/deployment.md.
	if line, err := download.InstallCommand(enrollURL, ca.RootFingerprint(), issued.Token); err == nil {
		fmt.Fprintf(stderr, "Or install, enroll and start the agent as root on the sensor (needs openssl and curl):\n  %s\n", line)
	}
	return nil
}

// enrollURLFor returns the enrollment URL to print: the flag value, else
// the running server's from endpoints.json, else a placeholder. A wildcard
// listen address is replaced by the placeholder host, because no sensor
// can dial it.
func enrollURLFor(flagValue, dataDir string) string {
	const placeholder = "https://<control-plane>:8444"
	if flagValue != "" {
		return flagValue
	}
	ep, err := endpoints.Read(dataDir)
	if err != nil || ep.Enroll == "" {
		return placeholder
	}
	u, err := url.Parse(ep.Enroll)
	if err != nil {
		return placeholder
	}
	if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsUnspecified() {
		return "https://" + net.JoinHostPort("<control-plane>", u.Port())
	}
	return ep.Enroll
}

func runTokensList(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("decnet tokens list", stderr)
	var sf storeFlags
	sf.register(fs)
	dataDir := fs.String("data-dir", "/var/lib/decnet", "control plane data directory")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	st, err := sf.open(ctx, *dataDir, os.Getenv)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()

	list, err := st.ListTokens(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "AGENT ID\tNAME\tSTATE\tEXPIRES\tLABELS")
	for _, t := range list {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.AgentID, t.AgentName, tokens.StateOf(t, now),
			t.ExpiresAt.Format(time.RFC3339), tokens.FormatLabels(t.Labels))
	}
	return w.Flush()
}

func runTokensRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("decnet tokens revoke", stderr)
	var sf storeFlags
	sf.register(fs)
	dataDir := fs.String("data-dir", "/var/lib/decnet", "control plane data directory")
	// The id may stand before, between or after the flags.
	flags, ids := splitPositional(args, "data-dir")
	if err := parseFlags(fs, flags); err != nil {
		return err
	}
	if len(ids) != 1 || ids[0] == "" {
		return fmt.Errorf("tokens revoke: want exactly one agent id: %w", errUsage)
	}
	id := ids[0]
	st, err := sf.open(ctx, *dataDir, os.Getenv)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()

	now := time.Now()
	t, err := tokens.Revoke(ctx, st, id, now)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("tokens revoke: no token for agent %s", id)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Token for agent %s (%s) revoked.\n", t.AgentID, t.AgentName)
	if tokens.StateOf(t, now) == tokens.StateUsed {
		// Revoking a used token changes nothing for the agent it enrolled.
		fmt.Fprintf(stderr, "The token was already used; run decnet agents decommission %s to cut the agent off.\n", t.AgentID)
	}
	return nil
}
