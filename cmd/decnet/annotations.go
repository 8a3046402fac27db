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

// triageStatuses maps the --status values to the API's.
var triageStatuses = map[string]apiv1.TriageStatus{
	"new":            apiv1.TriageStatus_TRIAGE_STATUS_NEW,
	"acknowledged":   apiv1.TriageStatus_TRIAGE_STATUS_ACKNOWLEDGED,
	"false-positive": apiv1.TriageStatus_TRIAGE_STATUS_FALSE_POSITIVE,
}

func triageName(s apiv1.TriageStatus) string {
	for name, v := range triageStatuses {
		if v == s {
			return name
		}
	}
	return "new"
}

// runAttackerNotes prints an attacker's triage status, tags and notes.
func runAttackerNotes(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseClient("decnet attackers notes", args, stdout, stderr, nil)
	if err != nil {
		return err
	}
	id, err := c.oneArg("attacker id")
	if err != nil {
		return err
	}
	client := apiv1connect.NewAnnotationServiceClient(c.client.HTTP, c.client.BaseURL, c.client.Options...)
	resp, err := client.GetAnnotations(ctx, connect.NewRequest(&apiv1.GetAnnotationsRequest{AttackerId: id}))
	if err != nil {
		return cli.ExplainError(err)
	}
	if c.json() {
		return cli.WriteJSON(c.stdout, resp.Msg)
	}
	t := resp.Msg.GetTriage()
	fmt.Fprintf(c.stdout, "status: %s\ntags: %s\n", triageName(t.GetStatus()), strings.Join(t.GetTags(), ","))
	if t.GetUpdatedBy() != "" {
		fmt.Fprintf(c.stdout, "set by %s at %s\n", t.GetUpdatedBy(), cli.FormatTime(t.GetUpdated().AsTime()))
	}
	for _, n := range resp.Msg.GetNotes() {
		fmt.Fprintf(c.stdout, "\n%s  %s  %s\n", n.GetId(), cli.FormatTime(n.GetCreated().AsTime()), n.GetAuthor())
		// Notes keep their lines; each line is made printable.
		for _, line := range strings.Split(n.GetText(), "\n") {
			fmt.Fprintln(c.stdout, cli.Printable(line))
		}
	}
	return nil
}

// runAttackerNote adds a note; the text is the arguments after the id,
// or standard input when there are none.
func runAttackerNote(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var deleteID string
	c, err := parseClient("decnet attackers note", args, stdout, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&deleteID, "delete", "", "delete the note with this id instead of adding one")
	}, "delete")
	if err != nil {
		return err
	}
	if len(c.args) == 0 || c.args[0] == "" {
		return fmt.Errorf("want an attacker id, then the note's text (or the text on standard input): %w", errUsage)
	}
	id := c.args[0]
	client := apiv1connect.NewAnnotationServiceClient(c.client.HTTP, c.client.BaseURL, c.client.Options...)
	if deleteID != "" {
		if len(c.args) > 1 {
			return fmt.Errorf("--delete takes no note text: %w", errUsage)
		}
		if _, err := client.DeleteNote(ctx, connect.NewRequest(&apiv1.DeleteNoteRequest{AttackerId: id, Id: deleteID})); err != nil {
			return cli.ExplainError(err)
		}
		fmt.Fprintf(c.stderr, "Deleted note %s.\n", deleteID)
		return nil
	}
	text := strings.Join(c.args[1:], " ")
	if len(c.args) == 1 {
		// A note is at most 4,000 characters; read a little more so the
		// server, not a silent cut, reports one that is too long.
		b, err := io.ReadAll(io.LimitReader(stdin, 64<<10))
		if err != nil {
			return fmt.Errorf("read the note from standard input: %w", err)
		}
		text = string(b)
	}
	resp, err := client.AddNote(ctx, connect.NewRequest(&apiv1.AddNoteRequest{AttackerId: id, Text: text}))
	if err != nil {
		return cli.ExplainError(err)
	}
	if c.json() {
		return cli.WriteJSON(c.stdout, resp.Msg.GetNote())
	}
	fmt.Fprintln(c.stdout, resp.Msg.GetNote().GetId())
	return nil
}

// runAttackerTriage sets an attacker's status and tags. Only what is
// given changes: the current values are read first.
func runAttackerTriage(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var status, tags string
	c, given, err := parseClientGiven("decnet attackers triage", args, stdout, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&status, "status", "", "new, acknowledged or false-positive")
		fs.StringVar(&tags, "tags", "", "comma-separated tags, replacing the current ones; empty clears them")
	}, "status", "tags")
	if err != nil {
		return err
	}
	id, err := c.oneArg("attacker id")
	if err != nil {
		return err
	}
	if !given["status"] && !given["tags"] {
		return fmt.Errorf("give --status, --tags or both: %w", errUsage)
	}
	client := apiv1connect.NewAnnotationServiceClient(c.client.HTTP, c.client.BaseURL, c.client.Options...)
	current, err := client.GetAnnotations(ctx, connect.NewRequest(&apiv1.GetAnnotationsRequest{AttackerId: id}))
	if err != nil {
		return cli.ExplainError(err)
	}
	req := &apiv1.SetTriageRequest{AttackerId: id, Status: current.Msg.GetTriage().GetStatus(), Tags: current.Msg.GetTriage().GetTags()}
	if given["status"] {
		s, ok := triageStatuses[status]
		if !ok {
			return fmt.Errorf("--status %q: want new, acknowledged or false-positive: %w", status, errUsage)
		}
		req.Status = s
	}
	if given["tags"] {
		req.Tags = nil
		for _, t := range strings.Split(tags, ",") {
			if t = strings.TrimSpace(t); t != "" {
				req.Tags = append(req.Tags, t)
			}
		}
	}
	resp, err := client.SetTriage(ctx, connect.NewRequest(req))
	if err != nil {
		return cli.ExplainError(err)
	}
	if c.json() {
		return cli.WriteJSON(c.stdout, resp.Msg.GetTriage())
	}
	t := resp.Msg.GetTriage()
	fmt.Fprintf(c.stdout, "status: %s\ntags: %s\n", triageName(t.GetStatus()), strings.Join(t.GetTags(), ","))
	return nil
}

func runIdentities(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("identities: want a subcommand, list, show or export: %w", errUsage)
	}
	switch args[0] {
	case "list":
		var minAttackers, limit int
		c, err := parseClient("decnet identities list", args[1:], stdout, stderr, func(fs *flag.FlagSet) {
			fs.IntVar(&minAttackers, "min-attackers", 1, "only identities with at least this many attackers")
			fs.IntVar(&limit, "limit", 100, "identities to print (at most 1000)")
		}, "min-attackers", "limit")
		if err != nil {
			return err
		}
		if err := c.noArgs(); err != nil {
			return err
		}
		client := apiv1connect.NewIdentityServiceClient(c.client.HTTP, c.client.BaseURL, c.client.Options...)
		resp, err := client.ListIdentities(ctx, connect.NewRequest(&apiv1.ListIdentitiesRequest{
			PageSize:     int32(min(max(limit, 1), 1000)),          //nolint:gosec // G115: bounded above
			MinAttackers: uint32(min(max(minAttackers, 1), 1<<20)), //nolint:gosec // G115: bounded above
		}))
		if err != nil {
			return cli.ExplainError(err)
		}
		return c.printIdentities(resp.Msg.GetIdentities())
	case "show":
		var byAttacker bool
		c, err := parseClient("decnet identities show", args[1:], stdout, stderr, func(fs *flag.FlagSet) {
			fs.BoolVar(&byAttacker, "attacker", false, "the id is an attacker's: show the identity it belongs to")
		})
		if err != nil {
			return err
		}
		id, err := c.oneArg("identity id")
		if err != nil {
			return err
		}
		client := apiv1connect.NewIdentityServiceClient(c.client.HTTP, c.client.BaseURL, c.client.Options...)
		var identity *apiv1.AttackerIdentity
		if byAttacker {
			resp, err := client.GetAttackerIdentity(ctx, connect.NewRequest(&apiv1.GetAttackerIdentityRequest{AttackerId: id}))
			if err != nil {
				return cli.ExplainError(err)
			}
			identity = resp.Msg.GetIdentity()
		} else {
			resp, err := client.GetIdentity(ctx, connect.NewRequest(&apiv1.GetIdentityRequest{Id: id}))
			if err != nil {
				return cli.ExplainError(err)
			}
			identity = resp.Msg.GetIdentity()
			if from := resp.Msg.GetMergedFrom(); from != "" && !c.json() {
				fmt.Fprintf(c.stderr, "%s was merged into %s.\n", from, identity.GetId())
			}
		}
		return c.printIdentities([]*apiv1.AttackerIdentity{identity})
	case "export":
		return runGroupExport(ctx, "identities", args[1:], stdout, stderr)
	}
	return fmt.Errorf("identities: unknown subcommand %q, want list, show or export: %w", args[0], errUsage)
}

func (c *clientCommand) printIdentities(identities []*apiv1.AttackerIdentity) error {
	if c.json() {
		for _, i := range identities {
			if err := cli.WriteJSON(c.stdout, i); err != nil {
				return err
			}
		}
		return nil
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "IDENTITY ID\tATTACKERS\tSESSIONS\tCREATED\tATTACKER IDS")
	for _, i := range identities {
		fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%s\n", i.GetId(), len(i.GetAttackerIds()), i.GetSessions(),
			cli.FormatTime(i.GetCreated().AsTime()), strings.Join(i.GetAttackerIds(), ","))
	}
	return w.Flush()
}
