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
		return fmt.Errorf("campaigns: want a subcommand, list, show or export: %w", errUsage)
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
	case "export":
		return runGroupExport(ctx, "campaigns", args[1:], stdout, stderr)
	}
	return fmt.Errorf("campaigns: unknown subcommand %q, want list, show or export: %w", args[0], errUsage)
}

// runGroupExport writes an identity or a campaign (what is "identities"
// or "campaigns") as a STIX 2.1 bundle or a MISP event. The id of a
// merged identity or campaign exports the one it was merged into, which
// standard error names.
func runGroupExport(ctx context.Context, what string, args []string, stdout, stderr io.Writer) error {
	var format string
	c, err := parseClient("decnet "+what+" export", args, stdout, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&format, "format", "stix", "stix (STIX 2.1 bundle) or misp (MISP event)")
	}, "format")
	if err != nil {
		return err
	}
	noun := "campaign id"
	if what == "identities" {
		noun = "identity id"
	}
	id, err := c.oneArg(noun)
	if err != nil {
		return err
	}
	formats := map[string]apiv1.ExportFormat{"stix": apiv1.ExportFormat_EXPORT_FORMAT_STIX, "misp": apiv1.ExportFormat_EXPORT_FORMAT_MISP}
	f, ok := formats[format]
	if !ok {
		return fmt.Errorf("%s export: invalid --format %q: want stix or misp: %w", what, format, errUsage)
	}
	var doc []byte
	var exported string
	if what == "identities" {
		client := apiv1connect.NewIdentityServiceClient(c.client.HTTP, c.client.BaseURL, c.client.Options...)
		resp, err := client.ExportIdentity(ctx, connect.NewRequest(&apiv1.ExportIdentityRequest{Id: id, Format: f}))
		if err != nil {
			return cli.ExplainError(err)
		}
		doc, exported = resp.Msg.GetDocument(), resp.Msg.GetIdentityId()
	} else {
		client := apiv1connect.NewCampaignServiceClient(c.client.HTTP, c.client.BaseURL, c.client.Options...)
		resp, err := client.ExportCampaign(ctx, connect.NewRequest(&apiv1.ExportCampaignRequest{Id: id, Format: f}))
		if err != nil {
			return cli.ExplainError(err)
		}
		doc, exported = resp.Msg.GetDocument(), resp.Msg.GetCampaignId()
	}
	if exported != "" && exported != id {
		fmt.Fprintf(stderr, "%s was merged into %s; exported %s.\n", id, exported, exported)
	}
	_, err = fmt.Fprintf(stdout, "%s\n", doc)
	return err
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
