package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"connectrpc.com/connect"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
	"github.com/decnet/decnet/internal/cli"
)

// runAttackerIntel prints the threat-intel reports on an attacker's
// addresses, one row per address and provider. --refresh drops the
// cached reports and queries the providers again, which takes the admin
// role.
func runAttackerIntel(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var refresh bool
	c, err := parseClient("decnet attackers intel", args, stdout, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&refresh, "refresh", false, "look the addresses up again instead of reading the cache (admin)")
	})
	if err != nil {
		return err
	}
	id, err := c.oneArg("attacker id")
	if err != nil {
		return fmt.Errorf("attackers intel: %w", err)
	}
	client := apiv1connect.NewIntelServiceClient(c.client.HTTP, c.client.BaseURL, c.client.Options...)
	var verdict apiv1.IntelVerdict
	var reports []*apiv1.IntelReport
	if refresh {
		resp, err := client.RefreshAttackerIntel(ctx, connect.NewRequest(&apiv1.RefreshAttackerIntelRequest{AttackerId: id}))
		if err != nil {
			return cli.ExplainError(err)
		}
		verdict, reports = resp.Msg.GetVerdict(), resp.Msg.GetReports()
		if c.json() {
			return cli.WriteJSON(stdout, resp.Msg)
		}
	} else {
		resp, err := client.GetAttackerIntel(ctx, connect.NewRequest(&apiv1.GetAttackerIntelRequest{AttackerId: id}))
		if err != nil {
			return cli.ExplainError(err)
		}
		verdict, reports = resp.Msg.GetVerdict(), resp.Msg.GetReports()
		if c.json() {
			return cli.WriteJSON(stdout, resp.Msg)
		}
	}
	return printIntel(stdout, verdict, reports)
}

// verdictLabel is the lowercase verdict name, "-" when unset.
func verdictLabel(v apiv1.IntelVerdict) string {
	if v == apiv1.IntelVerdict_INTEL_VERDICT_UNSPECIFIED {
		return "-"
	}
	return strings.ToLower(strings.TrimPrefix(v.String(), "INTEL_VERDICT_"))
}

// printIntel prints the aggregate verdict, then per address its location
// and each provider's verdict with the reason, or the error that kept
// the provider from returning one. Provider texts are made printable: they
// may quote what an attacker reported about itself.
func printIntel(w io.Writer, verdict apiv1.IntelVerdict, reports []*apiv1.IntelReport) error {
	fmt.Fprintf(w, "Verdict: %s\n", verdictLabel(verdict))
	for _, r := range reports {
		if r.GetSkipped() != "" {
			fmt.Fprintf(w, "\n%s: not looked up (%s)\n", r.GetAddress(), r.GetSkipped())
			continue
		}
		fmt.Fprintf(w, "\n%s: %s", r.GetAddress(), verdictLabel(r.GetVerdict()))
		if loc := r.GetLocation(); loc != nil {
			place := strings.Trim(strings.Join([]string{loc.GetCity(), loc.GetCountry()}, ", "), ", ")
			if loc.GetAsn() != 0 {
				place = strings.TrimSpace(fmt.Sprintf("%s AS%d %s", place, loc.GetAsn(), loc.GetAsOrg()))
			}
			if place != "" {
				fmt.Fprintf(w, " (%s)", cli.Printable(place))
			}
		}
		source := "looked up"
		if r.GetCached() {
			source = "cached"
		}
		fmt.Fprintf(w, ", %s %s\n", source, formatTimestamp(r.GetCheckedAt()))
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PROVIDER\tVERDICT\tREASON\tEVIDENCE\tLINK")
		for _, res := range r.GetResults() {
			reason := cli.Printable(res.GetReason())
			if res.GetError() != "" {
				reason = "error: " + res.GetError()
			}
			evidence := make([]string, 0, len(res.GetEvidence()))
			for _, k := range slices.Sorted(maps.Keys(res.GetEvidence())) {
				evidence = append(evidence, k+"="+cli.Printable(res.GetEvidence()[k]))
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", res.GetProvider(), verdictLabel(res.GetVerdict()), orDash(reason),
				orDash(strings.Join(evidence, " ")), orDash(res.GetLink()))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
