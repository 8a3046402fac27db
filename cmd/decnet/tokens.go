package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/decnet/decnet/controlplane"
	"github.com/decnet/decnet/controlplane/download"
	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/controlplane/tokens"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
	"github.com/decnet/decnet/internal/cli"
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

func (c *fleetCommand) tokenClient() apiv1connect.TokenServiceClient {
	return apiv1connect.NewTokenServiceClient(c.client.HTTP, c.client.BaseURL, c.client.Options...)
}

func runTokensCreate(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	var (
		caDir, name, format, enrollFlag string
		ttl                             time.Duration
		labelArgs                       listFlag
	)
	c, err := parseFleet("decnet tokens create", args, stdout, stderr, os.Getenv, func(fs *flag.FlagSet) {
		fs.StringVar(&caDir, "ca-dir", "", "store mode: directory of the CA the token pins (default: <data-dir>/ca), as for decnet server")
		fs.StringVar(&name, "name", "", "name of the agent the token enrolls (required)")
		fs.DurationVar(&ttl, "ttl", controlplane.DefaultTokenTTL, "how long the token stays valid; the API accepts at most 168h")
		fs.StringVar(&format, "format", "text", "output format: text or json; json is the same as --output json")
		fs.StringVar(&enrollFlag, "enroll-url", "", "store mode: enrollment URL sensors dial, https://host:port, for the printed install command (default: the running server's, from endpoints.json)")
		fs.Var(&labelArgs, "label", "label key=value copied to the agent record; repeat or separate with commas")
	}, "ca-dir", "name", "ttl", "format", "enroll-url", "label")
	if err != nil {
		return err
	}
	if err := c.noArgs(); err != nil {
		return err
	}
	labels, err := tokens.ParseLabels(labelArgs)
	if err != nil {
		return fmt.Errorf("tokens create: %w", err)
	}
	if name == "" {
		return errors.New("tokens create: --name is required")
	}
	if format != "text" && format != "json" {
		return fmt.Errorf("tokens create: invalid --format %q: want text or json", format)
	}
	if err := c.only(modeStore, "ca-dir", "enroll-url"); err != nil {
		return fmt.Errorf("tokens create: %w", err)
	}
	asJSON := c.json() || format == "json"

	if c.mode == modeAPI {
		return c.createTokenAPI(ctx, &apiv1.CreateTokenRequest{AgentName: name, Ttl: durationpb.New(ttl), Labels: labels}, asJSON)
	}

	caPath := caDir
	if caPath == "" {
		caPath = filepath.Join(c.dataDir, "ca")
	}
	ca, err := pki.LoadOrCreateCA(caPath, time.Now)
	if err != nil {
		return err
	}
	st, err := c.store.open(ctx, c.dataDir, os.Getenv)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()

	issued, err := tokens.Create(ctx, st, ca.RootFingerprint(), tokens.Request{AgentName: name, TTL: ttl, Labels: labels}, time.Now())
	if err != nil {
		return err
	}

	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(issued)
	}
	// The token exists only in this output, so a failed write is an error.
	if _, err := fmt.Fprintln(stdout, issued.Token); err != nil {
		return fmt.Errorf("write token: %w", err)
	}
	enrollURL := enrollURLFor(enrollFlag, c.dataDir)
	fmt.Fprintf(stderr, "\nSingle-use token for agent %s (%s), valid until %s.\nOn the sensor:\n  decnet-agent enroll --server %s --token-file <file with the token>\n",
		issued.AgentName, issued.AgentID, issued.ExpiresAt.Format(time.RFC3339), enrollURL)
	// The install line pins the CA root before it downloads anything; see
	// docs/deployment.md.
	if line, err := download.InstallCommand(enrollURL, ca.RootFingerprint(), issued.Token); err == nil {
		fmt.Fprintf(stderr, "Or install, enroll and start the agent as root on the sensor (needs openssl and curl):\n  %s\n", line)
	}
	return nil
}

// createTokenAPI creates a token through the API and prints it like the
// store mode does: the token alone on standard output, the rest on
// standard error. With asJSON it prints the whole response, token and
// install command included, as one JSON line.
func (c *fleetCommand) createTokenAPI(ctx context.Context, req *apiv1.CreateTokenRequest, asJSON bool) error {
	resp, err := c.tokenClient().CreateToken(ctx, connect.NewRequest(req))
	if err != nil {
		return cli.ExplainError(err)
	}
	if asJSON {
		return cli.WriteJSON(c.stdout, resp.Msg)
	}
	// The token exists only in this output, so a failed write is an error.
	if _, err := fmt.Fprintln(c.stdout, resp.Msg.GetToken()); err != nil {
		return fmt.Errorf("write token: %w", err)
	}
	info := resp.Msg.GetInfo()
	fmt.Fprintf(c.stderr, "\nSingle-use token for agent %s (%s), valid until %s.\n",
		info.GetAgentName(), info.GetAgentId(), formatTimestamp(info.GetExpiresAt()))
	if line := resp.Msg.GetInstallCommand(); line != "" {
		fmt.Fprintf(c.stderr, "Install, enroll and start the agent as root on the sensor (needs openssl and curl):\n  %s\n", line)
	} else {
		fmt.Fprintf(c.stderr, "The server knows no enrollment URL sensors can dial. On the sensor:\n"+
			"  decnet-agent enroll --server https://<control-plane>:8444 --token-file <file with the token>\n")
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
	c, err := parseFleet("decnet tokens list", args, stdout, stderr, os.Getenv, nil)
	if err != nil {
		return err
	}
	if err := c.noArgs(); err != nil {
		return err
	}
	if c.mode == modeAPI {
		resp, err := c.tokenClient().ListTokens(ctx, connect.NewRequest(&apiv1.ListTokensRequest{}))
		if err != nil {
			return cli.ExplainError(err)
		}
		return c.printTokens(resp.Msg.GetTokens())
	}

	st, err := c.store.open(ctx, c.dataDir, os.Getenv)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	list, err := st.ListTokens(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	out := make([]*apiv1.TokenInfo, 0, len(list))
	for _, t := range list {
		out = append(out, tokenMessage(t, now))
	}
	return c.printTokens(out)
}

// tokenMessage converts a stored token, which holds no secret, for
// printing.
func tokenMessage(t store.Token, now time.Time) *apiv1.TokenInfo {
	states := map[tokens.State]apiv1.TokenState{
		tokens.StateValid:   apiv1.TokenState_TOKEN_STATE_VALID,
		tokens.StateUsed:    apiv1.TokenState_TOKEN_STATE_USED,
		tokens.StateExpired: apiv1.TokenState_TOKEN_STATE_EXPIRED,
		tokens.StateRevoked: apiv1.TokenState_TOKEN_STATE_REVOKED,
	}
	return &apiv1.TokenInfo{
		AgentId: t.AgentID, AgentName: t.AgentName, Labels: t.Labels,
		CreatedAt: timestampOrNil(t.CreatedAt), ExpiresAt: timestampOrNil(t.ExpiresAt),
		UsedAt: timestampOrNil(t.UsedAt), RevokedAt: timestampOrNil(t.RevokedAt),
		State: states[tokens.StateOf(t, now)],
	}
}

// tokenState is valid, used, expired or revoked.
func tokenState(s apiv1.TokenState) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "TOKEN_STATE_"))
}

func (c *fleetCommand) printTokens(list []*apiv1.TokenInfo) error {
	if c.json() {
		for _, t := range list {
			if err := cli.WriteJSON(c.stdout, t); err != nil {
				return err
			}
		}
		return nil
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "AGENT ID\tNAME\tSTATE\tEXPIRES\tLABELS")
	for _, t := range list {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.GetAgentId(), t.GetAgentName(), tokenState(t.GetState()),
			formatTimestamp(t.GetExpiresAt()), tokens.FormatLabels(t.GetLabels()))
	}
	return w.Flush()
}

func runTokensRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	c, err := parseFleet("decnet tokens revoke", args, stdout, stderr, os.Getenv, nil)
	if err != nil {
		return err
	}
	if len(c.args) != 1 || c.args[0] == "" {
		return fmt.Errorf("tokens revoke: want exactly one agent id: %w", errUsage)
	}
	id := c.args[0]

	var t *apiv1.TokenInfo
	if c.mode == modeAPI {
		resp, err := c.tokenClient().RevokeToken(ctx, connect.NewRequest(&apiv1.RevokeTokenRequest{AgentId: id}))
		if connect.CodeOf(err) == connect.CodeNotFound {
			return fmt.Errorf("tokens revoke: no token for agent %s: see decnet tokens list", id)
		}
		if err != nil {
			return cli.ExplainError(err)
		}
		t = resp.Msg.GetToken()
	} else {
		st, err := c.store.open(ctx, c.dataDir, os.Getenv)
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, st.Close()) }()
		now := time.Now()
		revoked, err := tokens.Revoke(ctx, st, id, now)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("tokens revoke: no token for agent %s: see decnet tokens list", id)
		}
		if err != nil {
			return err
		}
		t = tokenMessage(revoked, now)
	}

	if c.json() {
		return cli.WriteJSON(stdout, t)
	}
	fmt.Fprintf(stdout, "Token for agent %s (%s) revoked.\n", t.GetAgentId(), t.GetAgentName())
	if t.GetState() == apiv1.TokenState_TOKEN_STATE_USED {
		// Revoking a used token changes nothing for the agent it enrolled.
		fmt.Fprintf(stderr, "The token was already used; run decnet agents decommission %s to cut the agent off.\n", t.GetAgentId())
	}
	return nil
}
