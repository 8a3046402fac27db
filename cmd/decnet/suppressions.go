package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/internal/cli"
)

// Suppression rules drop the notices that match them before any webhook
// sends them, such as those from a scanner the team runs itself.

func runWebhooksSuppressions(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseClient("decnet webhooks suppressions", args, stdout, stderr, nil)
	if err != nil {
		return err
	}
	if err := c.noArgs(); err != nil {
		return err
	}
	resp, err := c.webhookClient().ListWebhookSuppressions(ctx, connect.NewRequest(&apiv1.ListWebhookSuppressionsRequest{}))
	if err != nil {
		return webhookError("suppressions", "", err)
	}
	return c.printSuppressions(resp.Msg.GetSuppressions())
}

// suppressionFlags are the flags of decnet webhooks suppress.
type suppressionFlags struct {
	webhook, prefix, agent, decky, from, until, reason string
	duration                                           time.Duration
}

// rule builds the rule the flags describe, with now as the time --for
// counts from.
func (f *suppressionFlags) rule(now time.Time) (*apiv1.WebhookSuppression, error) {
	rule := &apiv1.WebhookSuppression{WebhookId: f.webhook, AgentId: f.agent, Decky: f.decky, Reason: f.reason}
	if f.prefix != "" {
		prefix, err := netip.ParsePrefix(f.prefix)
		if err != nil {
			return nil, fmt.Errorf("invalid --prefix %q: want a CIDR such as 198.51.100.0/24: %w", f.prefix, errUsage)
		}
		if prefix != prefix.Masked() {
			return nil, fmt.Errorf("invalid --prefix %q: host bits are set, did you mean %s?: %w", f.prefix, prefix.Masked(), errUsage)
		}
		rule.Prefix = prefix.String()
	}
	parseTime := func(name, value string) (*timestamppb.Timestamp, error) {
		if value == "" {
			return nil, nil
		}
		t, err := time.Parse(time.RFC3339, value)
		if err != nil {
			return nil, fmt.Errorf("invalid --%s %q: want an RFC 3339 time such as 2026-03-01T18:00:00Z: %w", name, value, errUsage)
		}
		return timestamppb.New(t), nil
	}
	var err error
	if rule.NotBefore, err = parseTime("from", f.from); err != nil {
		return nil, err
	}
	if rule.NotAfter, err = parseTime("until", f.until); err != nil {
		return nil, err
	}
	if f.duration != 0 {
		if f.until != "" {
			return nil, fmt.Errorf("--for and --until both set the end: give one: %w", errUsage)
		}
		if f.duration < 0 {
			return nil, fmt.Errorf("invalid --for %s: want a positive duration: %w", f.duration, errUsage)
		}
		start := now
		if rule.NotBefore != nil {
			start = rule.NotBefore.AsTime()
		}
		rule.NotAfter = timestamppb.New(start.Add(f.duration))
	}
	if rule.NotBefore != nil && rule.NotAfter != nil && !rule.NotAfter.AsTime().After(rule.NotBefore.AsTime()) {
		return nil, fmt.Errorf("the end of the window must be later than --from: %w", errUsage)
	}
	if rule.Prefix == "" && rule.AgentId == "" && rule.Decky == "" && rule.NotBefore == nil && rule.NotAfter == nil {
		return nil, fmt.Errorf("a rule needs at least one of --prefix, --agent, --decky, --from, --until or --for: %w", errUsage)
	}
	return rule, nil
}

func runWebhooksSuppress(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f suppressionFlags
	c, err := parseClient("decnet webhooks suppress", args, stdout, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&f.webhook, "webhook", "", "only for this webhook id (default every webhook)")
		fs.StringVar(&f.prefix, "prefix", "", "attacker source addresses in this CIDR, such as 198.51.100.0/24")
		fs.StringVar(&f.agent, "agent", "", "notices from this agent id")
		fs.StringVar(&f.decky, "decky", "", "notices from this decky")
		fs.StringVar(&f.from, "from", "", "start of the window, RFC 3339 (default now)")
		fs.StringVar(&f.until, "until", "", "end of the window, RFC 3339 (default none)")
		fs.DurationVar(&f.duration, "for", 0, "length of the window from --from or now, such as 2h; in place of --until")
		fs.StringVar(&f.reason, "reason", "", "why the rule exists, for the other admins")
	}, "webhook", "prefix", "agent", "decky", "from", "until", "for", "reason")
	if err != nil {
		return err
	}
	if err := c.noArgs(); err != nil {
		return err
	}
	rule, err := f.rule(time.Now())
	if err != nil {
		return fmt.Errorf("webhooks suppress: %w", err)
	}
	resp, err := c.webhookClient().CreateWebhookSuppression(ctx, connect.NewRequest(&apiv1.CreateWebhookSuppressionRequest{Suppression: rule}))
	if err != nil {
		return webhookError("suppress", f.webhook, err)
	}
	return c.printSuppressions([]*apiv1.WebhookSuppression{resp.Msg.GetSuppression()})
}

func runWebhooksUnsuppress(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseClient("decnet webhooks unsuppress", args, stdout, stderr, nil)
	if err != nil {
		return err
	}
	id, err := c.oneArg("suppression id")
	if err != nil {
		return fmt.Errorf("webhooks unsuppress: %w", err)
	}
	_, err = c.webhookClient().DeleteWebhookSuppression(ctx, connect.NewRequest(&apiv1.DeleteWebhookSuppressionRequest{Id: id}))
	if connect.CodeOf(err) == connect.CodeNotFound {
		return fmt.Errorf("webhooks unsuppress: no suppression with id %s: see decnet webhooks suppressions", id)
	}
	if err != nil {
		return webhookError("unsuppress", "", err)
	}
	fmt.Fprintf(stdout, "Deleted suppression %s.\n", id)
	return nil
}

func (c *clientCommand) printSuppressions(list []*apiv1.WebhookSuppression) error {
	if c.json() {
		for _, s := range list {
			if err := cli.WriteJSON(c.stdout, s); err != nil {
				return err
			}
		}
		return nil
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SUPPRESSION ID\tWEBHOOK ID\tPREFIX\tAGENT ID\tDECKY\tFROM\tUNTIL\tREASON")
	for _, s := range list {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.GetId(), cmp.Or(s.GetWebhookId(), "(all)"), cmp.Or(s.GetPrefix(), "-"),
			cmp.Or(s.GetAgentId(), "-"), cmp.Or(s.GetDecky(), "-"), formatTimestamp(s.GetNotBefore()), formatTimestamp(s.GetNotAfter()),
			cmp.Or(s.GetReason(), "-"))
	}
	return w.Flush()
}
