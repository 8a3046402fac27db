package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/decnet/decnet/controlplane/auth"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
	"github.com/decnet/decnet/internal/cli"
)

// runAPITokens manages the caller's API tokens, the credentials of scripts
// and SIEM pulls, as opposed to the agents' bootstrap tokens of "decnet
// tokens".
func runAPITokens(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const want = "list, create or revoke"
	if len(args) == 0 {
		return fmt.Errorf("api-tokens: want a subcommand, %s: %w", want, errUsage)
	}
	parse := func(register func(*flag.FlagSet), values ...string) (*clientCommand, apiv1connect.ApiTokenServiceClient, error) {
		c, err := parseClient("decnet api-tokens "+args[0], args[1:], stdout, stderr, register, values...)
		if err != nil {
			return nil, nil, err
		}
		return c, apiv1connect.NewApiTokenServiceClient(c.client.HTTP, c.client.BaseURL, c.client.Options...), nil
	}
	switch args[0] {
	case "list":
		var all bool
		c, tokens, err := parse(func(fs *flag.FlagSet) {
			fs.BoolVar(&all, "all", false, "every user's tokens (admin)")
		})
		if err != nil {
			return err
		}
		if err := c.noArgs(); err != nil {
			return err
		}
		resp, err := tokens.ListApiTokens(ctx, connect.NewRequest(&apiv1.ListApiTokensRequest{AllUsers: all}))
		if err != nil {
			return cli.ExplainError(err)
		}
		return c.printAPITokens(resp.Msg.GetTokens())
	case "create":
		var (
			name, role string
			ttl        time.Duration
			scopes     listFlag
		)
		c, tokens, err := parse(func(fs *flag.FlagSet) {
			fs.StringVar(&name, "name", "", "label of the token, such as siem-pull (required)")
			fs.StringVar(&role, "role", "", "viewer, analyst or admin, at most your own (default: your role)")
			fs.DurationVar(&ttl, "ttl", 0, "lifetime, 1h to 8784h (default 2160h, 90 days)")
			fs.Var(&scopes, "scope", `scope such as events:read, webhooks:write, "*:read" or "*"; repeat or separate with commas (default: your own, "*" for a login)`)
		}, "name", "role", "ttl", "scope")
		if err != nil {
			return err
		}
		if err := c.noArgs(); err != nil {
			return err
		}
		if name == "" {
			return fmt.Errorf("api-tokens create: --name is required: %w", errUsage)
		}
		if role != "" && auth.ParseRole(role) == apiv1.Role_ROLE_UNSPECIFIED {
			return fmt.Errorf("api-tokens create: invalid --role %q, want viewer, analyst or admin: %w", role, errUsage)
		}
		req := &apiv1.CreateApiTokenRequest{Name: name, Role: auth.ParseRole(role), Scopes: scopes}
		if ttl != 0 {
			req.Ttl = durationpb.New(ttl)
		}
		resp, err := tokens.CreateApiToken(ctx, connect.NewRequest(req))
		if err != nil {
			return cli.ExplainError(err)
		}
		if c.json() {
			return cli.WriteJSON(stdout, resp.Msg)
		}
		t := resp.Msg.GetToken()
		fmt.Fprintf(stdout, "Created API token %s (%s, %s, scopes %s), expiring %s. Its secret, shown only now:\n%s\n",
			t.GetId(), t.GetName(), auth.RoleName(t.GetRole()), strings.Join(t.GetScopes(), " "),
			cli.FormatTime(t.GetExpiresAt().AsTime()), resp.Msg.GetSecret())
		return nil
	case "revoke":
		c, tokens, err := parse(nil)
		if err != nil {
			return err
		}
		id, err := c.oneArg("token id")
		if err != nil {
			return err
		}
		resp, err := tokens.RevokeApiToken(ctx, connect.NewRequest(&apiv1.RevokeApiTokenRequest{Id: id}))
		if err != nil {
			return cli.ExplainError(err)
		}
		return c.printAPITokens([]*apiv1.ApiToken{resp.Msg.GetToken()})
	}
	return fmt.Errorf("api-tokens: unknown subcommand %q, want %s: %w", args[0], want, errUsage)
}

func (c *clientCommand) printAPITokens(tokens []*apiv1.ApiToken) error {
	if c.json() {
		for _, t := range tokens {
			if err := cli.WriteJSON(c.stdout, t); err != nil {
				return err
			}
		}
		return nil
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tUSER\tROLE\tSCOPES\tEXPIRES\tREVOKED")
	for _, t := range tokens {
		revoked := "-"
		if t.GetRevokedAt() != nil {
			revoked = cli.FormatTime(t.GetRevokedAt().AsTime())
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.GetId(), t.GetName(), t.GetUsername(), auth.RoleName(t.GetRole()),
			strings.Join(t.GetScopes(), ","), cli.FormatTime(t.GetExpiresAt().AsTime()), revoked)
	}
	return w.Flush()
}
