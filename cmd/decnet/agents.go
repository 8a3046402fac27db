package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/decnet/decnet/controlplane/store"
)

func runAgents(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("agents: want a subcommand, list or decommission: %w", errUsage)
	}
	switch args[0] {
	case "list":
		return runAgentsList(ctx, args[1:], stdout, stderr)
	case "decommission":
		return runAgentsDecommission(ctx, args[1:], stdout, stderr)
	default:
		return fmt.Errorf("agents: unknown subcommand %q, want list or decommission: %w", args[0], errUsage)
	}
}

func runAgentsList(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("decnet agents list", stderr)
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

	agents, err := st.ListAgents(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "AGENT ID\tNAME\tSTATE\tLAST SEEN\tCERTIFICATE EXPIRES")
	for _, a := range agents {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", a.ID, a.Name, agentState(a), formatTime(a.LastSeen), formatTime(a.CertificateExpiresAt))
	}
	return w.Flush()
}

// agentState is "active" or "decommissioned <time>".
func agentState(a store.Agent) string {
	if a.Revoked() {
		return "decommissioned " + a.RevokedAt.Format(time.RFC3339)
	}
	return "active"
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format(time.RFC3339)
}

// runAgentsDecommission revokes an agent in the store. A running control
// plane reads the revocation within a few seconds and closes the agent's
// connection; this command does not need to reach it.
func runAgentsDecommission(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("decnet agents decommission", stderr)
	var sf storeFlags
	sf.register(fs)
	dataDir := fs.String("data-dir", "/var/lib/decnet", "control plane data directory")
	// The id may stand before, between or after the flags.
	flags, ids := splitPositional(args, "data-dir")
	if err := parseFlags(fs, flags); err != nil {
		return err
	}
	if len(ids) != 1 || ids[0] == "" {
		return fmt.Errorf("agents decommission: want exactly one agent id: %w", errUsage)
	}
	id := ids[0]

	st, err := sf.open(ctx, *dataDir, os.Getenv)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()

	a, err := st.RevokeAgent(ctx, id, time.Now())
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("agents decommission: no agent with id %s: see decnet agents list", id)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Agent %s (%s) decommissioned at %s. A running control plane closes its connection within seconds.\n",
		a.ID, a.Name, a.RevokedAt.Format(time.RFC3339))
	return nil
}

// splitPositional separates positional arguments from flags. valueFlags
// name the flags that take their value from the next argument when it is
// not given with "=".
func splitPositional(args []string, valueFlags ...string) (flags, positional []string) {
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			return flags, append(positional, args[i+1:]...)
		}
		if !strings.HasPrefix(arg, "-") || arg == "-" {
			positional = append(positional, arg)
			continue
		}
		flags = append(flags, arg)
		name := strings.TrimLeft(arg, "-")
		if !strings.Contains(name, "=") && slices.Contains(valueFlags, name) && i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	return flags, positional
}
