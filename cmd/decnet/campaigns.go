package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"connectrpc.com/connect"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
	"github.com/decnet/decnet/internal/cli"
)

func runCampaigns(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("campaigns: want a subcommand, list or show: %w", errUsage)
	}
	switch args[0] {
	case "list":
		var limit int
		c, err := parseClient("decnet campaigns list", args[1:], stdout, stderr, func(fs *flag.FlagSet) {
			fs.IntVar(&limit, "limit", 100, "campaigns to print (at most 1000)")
		}, "limit")
		if err != nil {
			return err
		}
		if err := c.noArgs(); err != nil {
			return err
		}
		client := apiv1connect.NewCampaignServiceClient(c.client.HTTP, c.client.BaseURL, c.client.Options...)
		resp, err := client.ListCampaigns(ctx, connect.NewRequest(&apiv1.ListCampaignsRequest{PageSize: int32(min(max(limit, 1), 1000))})) //nolint:gosec // G115: bounded above
		if err != nil {
			return cli.ExplainError(err)
		}
		return c.printCampaigns(resp.Msg.GetCampaigns(), false)
	case "show":
		c, err := parseClient("decnet campaigns show", args[1:], stdout, stderr, nil)
		if err != nil {
			return err
		}
		id, err := c.oneArg("campaign id")
		if err != nil {
			return err
		}
		client := apiv1connect.NewCampaignServiceClient(c.client.HTTP, c.client.BaseURL, c.client.Options...)
		resp, err := client.GetCampaign(ctx, connect.NewRequest(&apiv1.GetCampaignRequest{Id: id}))
		if err != nil {
			return cli.ExplainError(err)
		}
		if from := resp.Msg.GetMergedFrom(); from != "" && !c.json() {
			fmt.Fprintf(c.stderr, "%s was merged into %s.\n", from, resp.Msg.GetCampaign().GetId())
		}
		return c.printCampaigns([]*apiv1.Campaign{resp.Msg.GetCampaign()}, true)
	}
	return fmt.Errorf("campaigns: unknown subcommand %q, want list or show: %w", args[0], errUsage)
}

// printCampaigns prints one row per campaign, and with evidence the terms
// that joined each pair of identities.
func (c *clientCommand) printCampaigns(campaigns []*apiv1.Campaign, evidence bool) error {
	if c.json() {
		for _, m := range campaigns {
			if err := cli.WriteJSON(c.stdout, m); err != nil {
				return err
			}
		}
		return nil
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "CAMPAIGN ID\tIDENTITIES\tATTACKERS\tFIRST SEEN\tLAST SEEN")
	for _, m := range campaigns {
		fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%s\n", m.GetId(), len(m.GetIdentityIds()), len(m.GetAttackerIds()),
			cli.FormatTime(m.GetFirstSeen().AsTime()), cli.FormatTime(m.GetLastSeen().AsTime()))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if !evidence {
		return nil
	}
	for _, m := range campaigns {
		fmt.Fprintf(c.stdout, "\nidentities: %s\nattackers: %s\n", strings.Join(m.GetIdentityIds(), ","), strings.Join(m.GetAttackerIds(), ","))
		for _, e := range m.GetEvidence() {
			fmt.Fprintf(c.stdout, "%s + %s: %.2f\n", e.GetIdentityId(), e.GetOtherIdentityId(), e.GetScore())
			for _, term := range e.GetTerms() {
				fmt.Fprintf(c.stdout, "  %s %.2f %s\n", term.GetKind(), term.GetScore(), cli.Printable(term.GetDetail()))
			}
		}
	}
	return nil
}
