package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"connectrpc.com/connect"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
	"github.com/decnet/decnet/internal/cli"
)

// runExport lists the SIEM export outputs of the replica that serves
// the call, or sends one a test record.
func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("export: want a subcommand, list or test: %w", errUsage)
	}
	switch args[0] {
	case "list":
		c, err := parseClient("decnet export list", args[1:], stdout, stderr, nil)
		if err != nil {
			return err
		}
		if err := c.noArgs(); err != nil {
			return err
		}
		client := apiv1connect.NewExportServiceClient(c.client.HTTP, c.client.BaseURL, c.client.Options...)
		resp, err := client.ListExportOutputs(ctx, connect.NewRequest(&apiv1.ListExportOutputsRequest{}))
		if err != nil {
			return cli.ExplainError(err)
		}
		return c.printExportOutputs(resp.Msg.GetOutputs())
	case "test":
		return runExportTest(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("export: unknown subcommand %q, want list or test: %w", args[0], errUsage)
}

// runExportTest sends a test record to one output. A destination that
// refuses it makes the command fail, so scripts can check an output by
// the exit status.
func runExportTest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseClient("decnet export test", args, stdout, stderr, nil)
	if err != nil {
		return err
	}
	name, err := c.oneArg("output name")
	if err != nil {
		return fmt.Errorf("export test: %w", err)
	}
	client := apiv1connect.NewExportServiceClient(c.client.HTTP, c.client.BaseURL, c.client.Options...)
	resp, err := client.TestExportOutput(ctx, connect.NewRequest(&apiv1.TestExportOutputRequest{Name: name}))
	if err != nil {
		if connect.CodeOf(err) == connect.CodeNotFound {
			return fmt.Errorf("export test: no output named %q on this server; decnet export list shows them", name)
		}
		return cli.ExplainError(err)
	}
	if c.json() {
		if err := cli.WriteJSON(stdout, resp.Msg); err != nil {
			return err
		}
	} else if resp.Msg.GetDelivered() {
		fmt.Fprintf(stdout, "Output %s accepted the test record (export.test).\n", name)
	}
	if !resp.Msg.GetDelivered() {
		return fmt.Errorf("export test: output %s did not accept the test record: %s", name, cli.Printable(resp.Msg.GetError()))
	}
	return nil
}

func (c *clientCommand) printExportOutputs(outputs []*apiv1.ExportOutput) error {
	if c.json() {
		for _, o := range outputs {
			if err := cli.WriteJSON(c.stdout, o); err != nil {
				return err
			}
		}
		return nil
	}
	if len(outputs) == 0 {
		fmt.Fprintln(c.stdout, "No export outputs: decnet server runs without --export-config.")
		return nil
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tKIND\tDESTINATION\tTOPICS\tSUPPRESSION\tDELIVERED\tDROPPED\tFAILED\tSUPPRESSED\tQUEUED\tLAST DELIVERED\tLAST ERROR")
	for _, o := range outputs {
		st := o.GetStats()
		kind, dest := exportDestination(o)
		topics := strings.Join(o.GetTopics(), ",")
		if topics == "" {
			topics = "(all)"
		}
		suppression := "off"
		if o.GetApplySuppression() {
			suppression = "on"
		}
		lastError := "-"
		if st.GetLastError() != "" {
			lastError = formatTimestamp(st.GetLastErrorAt()) + " " + cli.Printable(st.GetLastError())
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\n", o.GetName(), kind, dest, topics, suppression,
			st.GetDelivered(), st.GetDropped(), st.GetFailed(), st.GetSuppressed(), st.GetQueued(),
			formatTimestamp(st.GetLastDeliveredAt()), lastError)
	}
	return w.Flush()
}

// exportDestination names an output's kind and where it sends, with
// whether a credential is configured; the credential itself never comes
// from the server.
func exportDestination(o *apiv1.ExportOutput) (kind, dest string) {
	format := func(f apiv1.ExportOutputFormat) string {
		if f == apiv1.ExportOutputFormat_EXPORT_OUTPUT_FORMAT_CEF {
			return "cef"
		}
		return "json"
	}
	tls := func(on bool) string {
		if on {
			return " tls"
		}
		return ""
	}
	switch {
	case o.GetSyslog() != nil:
		s := o.GetSyslog()
		return "syslog/" + format(s.GetFormat()), s.GetAddress() + tls(s.GetTls())
	case o.GetLines() != nil:
		l := o.GetLines()
		if l.GetPath() != "" {
			return "lines/" + format(l.GetFormat()), l.GetPath()
		}
		return "lines/" + format(l.GetFormat()), l.GetAddress() + tls(l.GetTls())
	case o.GetSplunk() != nil:
		s := o.GetSplunk()
		token := "token unset"
		if s.GetTokenSet() {
			token = "token set"
		}
		return "splunk", fmt.Sprintf("%s (%s)", s.GetUrl(), token)
	case o.GetElastic() != nil:
		e := o.GetElastic()
		return "elasticsearch", fmt.Sprintf("%s index %s (auth %s)", e.GetUrl(), e.GetIndex(), e.GetAuth())
	}
	return "unknown", "-"
}
