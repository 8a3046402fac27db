package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
	"github.com/decnet/decnet/internal/cli"
)

func runAgents(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const want = "list, show or decommission"
	if len(args) == 0 {
		return fmt.Errorf("agents: want a subcommand, %s: %w", want, errUsage)
	}
	switch args[0] {
	case "list":
		return runAgentsList(ctx, args[1:], stdout, stderr)
	case "show":
		return runAgentsShow(ctx, args[1:], stdout, stderr)
	case "decommission":
		return runAgentsDecommission(ctx, args[1:], stdout, stderr)
	default:
		return fmt.Errorf("agents: unknown subcommand %q, want %s: %w", args[0], want, errUsage)
	}
}

func (c *fleetCommand) agentClient() apiv1connect.AgentServiceClient {
	return apiv1connect.NewAgentServiceClient(c.client.HTTP, c.client.BaseURL, c.client.Options...)
}

func runAgentsList(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	c, err := parseFleet("decnet agents list", args, stdout, stderr, os.Getenv, nil)
	if err != nil {
		return err
	}
	if err := c.noArgs(); err != nil {
		return err
	}
	if c.mode == modeAPI {
		resp, err := c.agentClient().ListAgents(ctx, connect.NewRequest(&apiv1.ListAgentsRequest{}))
		if err != nil {
			return cli.ExplainError(err)
		}
		return c.printAgents(resp.Msg.GetAgents())
	}

	st, err := c.store.open(ctx, c.dataDir, os.Getenv)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	agents, err := st.ListAgents(ctx)
	if err != nil {
		return err
	}
	out := make([]*apiv1.Agent, 0, len(agents))
	for _, a := range agents {
		out = append(out, agentMessage(a))
	}
	return c.printAgents(out)
}

func runAgentsShow(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	c, err := parseFleet("decnet agents show", args, stdout, stderr, os.Getenv, nil)
	if err != nil {
		return err
	}
	id, err := c.oneArg("agent id")
	if err != nil {
		return fmt.Errorf("agents show: %w", err)
	}
	if c.mode == modeAPI {
		resp, err := c.agentClient().GetAgent(ctx, connect.NewRequest(&apiv1.GetAgentRequest{Id: id}))
		if connect.CodeOf(err) == connect.CodeNotFound {
			return fmt.Errorf("agents show: no agent with id %s: see decnet agents list", id)
		}
		if err != nil {
			return cli.ExplainError(err)
		}
		return c.printAgent(resp.Msg.GetAgent())
	}

	st, err := c.store.open(ctx, c.dataDir, os.Getenv)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	a, err := st.GetAgent(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("agents show: no agent with id %s: see decnet agents list", id)
	}
	if err != nil {
		return err
	}
	return c.printAgent(agentMessage(a))
}

// agentMessage converts a stored agent for printing. The store knows
// nothing of the live connection, so the status stays unspecified.
func agentMessage(a store.Agent) *apiv1.Agent {
	m := &apiv1.Agent{
		Id: a.ID, Name: a.Name, Version: a.Version, CertificateSerial: a.CertificateSerial,
		EnrolledAt: timestampOrNil(a.EnrolledAt), LastSeen: timestampOrNil(a.LastSeen),
		CertificateExpiresAt: timestampOrNil(a.CertificateExpiresAt), Revoked: a.Revoked(),
	}
	if a.Revoked() {
		m.DecommissionedAt = timestamppb.New(a.RevokedAt)
	}
	return m
}

func timestampOrNil(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// agentState is "active" or "decommissioned <time>".
func agentState(a *apiv1.Agent) string {
	if a.GetRevoked() {
		return "decommissioned " + formatTimestamp(a.GetDecommissionedAt())
	}
	return "active"
}

// agentStatus is online, degraded or offline, or "-" where the status is
// unknown, as in the store mode.
func agentStatus(s apiv1.AgentStatus) string {
	if s == apiv1.AgentStatus_AGENT_STATUS_UNSPECIFIED {
		return "-"
	}
	return strings.ToLower(strings.TrimPrefix(s.String(), "AGENT_STATUS_"))
}

// formatTimestamp prints a timestamp like cli.FormatTime, "-" when unset.
func formatTimestamp(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return "-"
	}
	return cli.FormatTime(ts.AsTime())
}

func (c *fleetCommand) printAgents(agents []*apiv1.Agent) error {
	if c.json() {
		for _, a := range agents {
			if err := cli.WriteJSON(c.stdout, a); err != nil {
				return err
			}
		}
		return nil
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "AGENT ID\tNAME\tSTATE\tSTATUS\tLAST SEEN\tCERTIFICATE EXPIRES")
	for _, a := range agents {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", a.GetId(), a.GetName(), agentState(a), agentStatus(a.GetStatus()),
			formatTimestamp(a.GetLastSeen()), formatTimestamp(a.GetCertificateExpiresAt()))
	}
	return w.Flush()
}

// printAgent prints one agent as "field: value" lines, or as JSON.
func (c *fleetCommand) printAgent(a *apiv1.Agent) error {
	if c.json() {
		return cli.WriteJSON(c.stdout, a)
	}
	version := func(v uint64) string {
		if v == 0 {
			return "-"
		}
		return strconv.FormatUint(v, 10)
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	rows := [][2]string{
		{"ID", a.GetId()},
		{"Name", a.GetName()},
		{"State", agentState(a)},
		{"Status", agentStatus(a.GetStatus())},
		{"Connected", strconv.FormatBool(a.GetConnected())},
		{"Version", cmp.Or(a.GetVersion(), "-")},
		{"Enrolled", formatTimestamp(a.GetEnrolledAt())},
		{"Last seen", formatTimestamp(a.GetLastSeen())},
		{"Certificate serial", cmp.Or(a.GetCertificateSerial(), "-")},
		{"Certificate expires", formatTimestamp(a.GetCertificateExpiresAt())},
		{"Desired config version", version(a.GetDesiredConfigVersion())},
		{"Applied config version", version(a.GetAppliedConfigVersion())},
	}
	if e := a.GetConfigError(); e != "" {
		rows = append(rows, [2]string{"Config error", e})
	}
	for _, r := range rows {
		fmt.Fprintf(w, "%s:\t%s\n", r[0], r[1])
	}
	return w.Flush()
}

// runAgentsDecommission revokes an agent. Through the API the server
// closes the agent's connection at once. In the store mode a running
// control plane reads the revocation within a few seconds and closes it
// then, so the command does not need to reach the server.
func runAgentsDecommission(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	c, err := parseFleet("decnet agents decommission", args, stdout, stderr, os.Getenv, nil)
	if err != nil {
		return err
	}
	if len(c.args) != 1 || c.args[0] == "" {
		return fmt.Errorf("agents decommission: want exactly one agent id: %w", errUsage)
	}
	id := c.args[0]

	if c.mode == modeAPI {
		resp, err := c.agentClient().DecommissionAgent(ctx, connect.NewRequest(&apiv1.DecommissionAgentRequest{Id: id}))
		if connect.CodeOf(err) == connect.CodeNotFound {
			return fmt.Errorf("agents decommission: no agent with id %s: see decnet agents list", id)
		}
		if err != nil {
			return cli.ExplainError(err)
		}
		a := resp.Msg.GetAgent()
		if c.json() {
			return cli.WriteJSON(stdout, a)
		}
		fmt.Fprintf(stdout, "Agent %s (%s) decommissioned at %s. The control plane closed its connection.\n",
			a.GetId(), a.GetName(), formatTimestamp(a.GetDecommissionedAt()))
		return nil
	}

	st, err := c.store.open(ctx, c.dataDir, os.Getenv)
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
	if c.json() {
		return cli.WriteJSON(stdout, agentMessage(a))
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
