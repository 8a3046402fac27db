package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/auth"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
	"github.com/decnet/decnet/internal/cli"
)

// Client commands talk to a control plane through the API, as the user
// whose token they carry, so the server enforces that user's role.

// clientTokenTTL is the lifetime of the token decnet login saves.
const clientTokenTTL = 90 * 24 * time.Hour

// clientCommand is one parsed client command.
type clientCommand struct {
	flags  cli.ClientFlags
	cfg    cli.ClientConfig
	client *cli.Client
	args   []string
	stdout io.Writer
	stderr io.Writer
	// csvOut is set once the header of --output csv is written.
	csvOut *cli.CSVWriter
}

// parseClient parses the connection flags plus the command's own, which
// register adds, and connects. valueFlags lists the command's flags that
// take a value, so positional arguments may stand among the flags.
func parseClient(name string, args []string, stdout, stderr io.Writer, register func(fs *flag.FlagSet), valueFlags ...string) (*clientCommand, error) {
	c, _, err := parseClientGiven(name, args, stdout, stderr, register, valueFlags...)
	return c, err
}

// parseClientGiven is parseClient that also returns the names of the
// flags given on the command line, for commands that change only what was
// given.
func parseClientGiven(name string, args []string, stdout, stderr io.Writer, register func(fs *flag.FlagSet),
	valueFlags ...string) (*clientCommand, map[string]bool, error) {
	fs := newFlagSet(name, stderr)
	c := &clientCommand{stdout: stdout, stderr: stderr}
	c.flags.Register(fs)
	if register != nil {
		register(fs)
	}
	flags, positional := splitPositional(args, append(valueFlags, "server", "ca-file", "config", "output")...)
	if err := parseFlags(fs, flags); err != nil {
		return nil, nil, err
	}
	if err := checkCSV(name, c.flags.Output); err != nil {
		return nil, nil, err
	}
	c.args = positional
	given := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if err := c.connect(os.Getenv); err != nil {
		return nil, nil, err
	}
	return c, given, nil
}

// connect resolves the server and token from the parsed flags, the
// environment and the configuration file, and builds the API client.
func (c *clientCommand) connect(getenv func(string) string) error {
	cfg, err := c.flags.Resolve(getenv)
	if err != nil {
		return err
	}
	c.cfg = cfg
	c.client, err = cli.NewClient(cfg)
	return err
}

func (c *clientCommand) json() bool { return c.flags.Output == cli.OutputJSON }

func (c *clientCommand) csv() bool { return c.flags.Output == cli.OutputCSV }

// csvCommands are the commands that print rows and so take --output csv.
var csvCommands = []string{"events list", "events tail", "attackers list", "attackers show", "credentials list"}

// checkCSV returns a usage error when --output csv is given to a command
// that does not print rows, rather than printing a table instead.
func checkCSV(name, output string) error {
	command := strings.TrimPrefix(name, "decnet ")
	if output != cli.OutputCSV || slices.Contains(csvCommands, command) {
		return nil
	}
	return fmt.Errorf("%s: --output csv is for %s: %w", command, strings.Join(csvCommands, ", "), errUsage)
}

func (c *clientCommand) oneArg(what string) (string, error) {
	if len(c.args) != 1 || c.args[0] == "" {
		return "", fmt.Errorf("want exactly one %s: %w", what, errUsage)
	}
	return c.args[0], nil
}

// optionalArg returns the one positional argument, or "" when there is
// none.
func (c *clientCommand) optionalArg(what string) (string, error) {
	if len(c.args) > 1 {
		return "", fmt.Errorf("want at most one %s: %w", what, errUsage)
	}
	if len(c.args) == 0 {
		return "", nil
	}
	return c.args[0], nil
}

func (c *clientCommand) noArgs() error {
	if len(c.args) != 0 {
		return fmt.Errorf("unexpected argument %q: %w", c.args[0], errUsage)
	}
	return nil
}

// runLogin logs in with a password read from standard input, creates an
// API token for this machine and saves it in the client configuration.
func runLogin(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var (
		username string
		scopes   listFlag
	)
	c, err := parseClient("decnet login", args, stdout, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&username, "username", "", "user name (required); the password is read from standard input")
		fs.Var(&scopes, "scope", `scope of the saved token, such as "*:read"; repeat or separate with commas (default "*")`)
	}, "username", "scope")
	if err != nil {
		return err
	}
	if username == "" {
		return fmt.Errorf("login: --username is required: %w", errUsage)
	}
	fmt.Fprint(stderr, "Password: ")
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("login: read password: %w", err)
	}
	fmt.Fprintln(stderr)
	password := strings.TrimRight(line, "\r\n")

	authClient := apiv1connect.NewAuthServiceClient(c.client.HTTP, c.client.BaseURL)
	login, err := authClient.Login(ctx, connect.NewRequest(&apiv1.LoginRequest{Username: username, Password: password}))
	if err != nil {
		return fmt.Errorf("login: %w", cli.ExplainError(err))
	}
	if login.Msg.GetPasswordChangeRequired() {
		return errors.New("login: this password must be changed first: log in to the dashboard, change it, then run decnet login again")
	}
	hostname, _ := os.Hostname()
	tokens := apiv1connect.NewApiTokenServiceClient(c.client.HTTP, c.client.BaseURL)
	req := connect.NewRequest(&apiv1.CreateApiTokenRequest{Name: "cli@" + hostname, Ttl: durationpb.New(clientTokenTTL), Scopes: scopes})
	req.Header().Set("Authorization", "Bearer "+login.Msg.GetToken())
	created, err := tokens.CreateApiToken(ctx, req)
	if err != nil {
		return fmt.Errorf("login: create API token: %w", cli.ExplainError(err))
	}
	// The browser-style session is not needed any more.
	logout := connect.NewRequest(&apiv1.LogoutRequest{})
	logout.Header().Set("Authorization", "Bearer "+login.Msg.GetToken())
	_, _ = authClient.Logout(ctx, logout)

	path, err := c.flags.ConfigPath()
	if err != nil {
		return err
	}
	cfg := cli.ClientConfig{Server: c.cfg.Server, CAFile: c.cfg.CAFile, Token: created.Msg.GetSecret()}
	if err := cli.SaveClientConfig(path, cfg); err != nil {
		return err
	}
	t := created.Msg.GetToken()
	fmt.Fprintf(stdout, "Logged in to %s as %s (%s). API token %s saved to %s; it expires %s.\n",
		c.cfg.Server, t.GetUsername(), auth.RoleName(t.GetRole()), t.GetId(), path, cli.FormatTime(t.GetExpiresAt().AsTime()))
	return nil
}

func runEvents(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("events: want a subcommand, list or tail: %w", errUsage)
	}
	var filter apiv1.EventFilter
	var limit int
	register := func(fs *flag.FlagSet) {
		fs.StringVar(&filter.Kind, "kind", "", "only events of this kind, such as auth.attempt")
		fs.StringVar(&filter.Service, "service", "", "only events of this service, such as ssh")
		fs.StringVar(&filter.Decky, "decky", "", "only events of this decky")
		fs.StringVar(&filter.SourceAddress, "source", "", "only events from this address")
		fs.StringVar(&filter.AttackerId, "attacker", "", "only events of this attacker id")
		fs.IntVar(&limit, "limit", 100, "list: events to print (at most 1000)")
	}
	values := []string{"kind", "service", "decky", "source", "attacker", "limit"}
	switch args[0] {
	case "list":
		c, err := parseClient("decnet events list", args[1:], stdout, stderr, register, values...)
		if err != nil {
			return err
		}
		if err := c.noArgs(); err != nil {
			return err
		}
		client := apiv1connect.NewEventServiceClient(c.client.HTTP, c.client.BaseURL, c.client.Options...)
		resp, err := client.ListEvents(ctx, connect.NewRequest(&apiv1.ListEventsRequest{Filter: &filter, PageSize: int32(min(max(limit, 1), 1000))})) //nolint:gosec // G115: bounded above
		if err != nil {
			return cli.ExplainError(err)
		}
		return c.printEvents(resp.Msg.GetEvents())
	case "tail":
		c, err := parseClient("decnet events tail", args[1:], stdout, stderr, register, values...)
		if err != nil {
			return err
		}
		if err := c.noArgs(); err != nil {
			return err
		}
		client := apiv1connect.NewEventServiceClient(c.client.HTTP, c.client.BaseURL, c.client.Options...)
		stream, err := client.StreamEvents(ctx, connect.NewRequest(&apiv1.StreamEventsRequest{Filter: &filter}))
		if err != nil {
			return cli.ExplainError(err)
		}
		defer func() { _ = stream.Close() }() // the stream ends with the command; its close error says nothing more
		if !c.json() {
			fmt.Fprintln(stderr, "Following new events; press Ctrl-C to stop.")
		}
		for stream.Receive() {
			if err := c.printEvents([]*apiv1.StoredEvent{stream.Msg().GetEvent()}); err != nil {
				return err
			}
		}
		if err := stream.Err(); err != nil && ctx.Err() == nil {
			return cli.ExplainError(err)
		}
		return nil
	}
	return fmt.Errorf("events: unknown subcommand %q, want list or tail: %w", args[0], errUsage)
}

func (c *clientCommand) printEvents(events []*apiv1.StoredEvent) error {
	if c.csv() {
		return c.eventsCSV(events)
	}
	if c.json() {
		for _, e := range events {
			if err := cli.WriteJSON(c.stdout, e); err != nil {
				return err
			}
		}
		return nil
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	for _, e := range events {
		ev := e.GetEvent()
		fmt.Fprintf(w, "%s\t%s\t%s/%s\t%s\t%s\n", cli.FormatTime(ev.GetTime().AsTime()), ev.GetKind(), ev.GetDecky(), ev.GetService(),
			ev.GetSource().GetAddress(), eventDetail(ev))
	}
	return w.Flush()
}

// eventsCSVHeader names the columns of decnet events --output csv.
var eventsCSVHeader = []string{"time", "kind", "decky", "service", "source_address", "source_port", "attacker_id", "event_id", "detail"}

// eventsCSV writes events as CSV rows; the header comes first, once, also
// when events tail calls it for each event.
func (c *clientCommand) eventsCSV(events []*apiv1.StoredEvent) error {
	w, err := c.csvWriter(eventsCSVHeader)
	if err != nil {
		return err
	}
	for _, e := range events {
		ev := e.GetEvent()
		port := ""
		if ev.GetSource().GetPort() != 0 {
			port = strconv.FormatUint(uint64(ev.GetSource().GetPort()), 10)
		}
		if err := w.Write(csvTime(ev.GetTime().AsTime()), ev.GetKind(), ev.GetDecky(), ev.GetService(),
			ev.GetSource().GetAddress(), port, e.GetAttackerId(), ev.GetId(), eventDetail(ev)); err != nil {
			return err
		}
	}
	return w.Flush()
}

// csvWriter returns the command's CSV writer, writing the header on the
// first call.
func (c *clientCommand) csvWriter(header []string) (*cli.CSVWriter, error) {
	if c.csvOut == nil {
		w, err := cli.NewCSVWriter(c.stdout, header...)
		if err != nil {
			return nil, err
		}
		c.csvOut = w
	}
	return c.csvOut, nil
}

// csvTime is FormatTime with an empty cell for an unset time: the zero
// time, or the Unix epoch that an absent timestamp converts to.
// Spreadsheets read an empty cell as missing.
func csvTime(t time.Time) string {
	if t.IsZero() || t.Unix() == 0 {
		return ""
	}
	return cli.FormatTime(t)
}

// eventDetail summarises the payload on one line, with what the attacker
// chose made printable. Secret values are not printed in tables;
// --output json has them for roles that see them.
func eventDetail(ev *eventv1.Event) string {
	switch {
	case ev.GetAuthAttempt() != nil:
		a := ev.GetAuthAttempt()
		return fmt.Sprintf("%s %s %s", a.GetMechanism(), cli.Printable(a.GetPrincipal()), a.GetOutcome().String())
	case ev.GetCommand() != nil:
		return cli.Printable(ev.GetCommand().GetLine())
	case ev.GetHttpRequest() != nil:
		r := ev.GetHttpRequest()
		return fmt.Sprintf("%s %s %d", cli.Printable(r.GetMethod()), cli.Printable(r.GetTarget()), r.GetStatus())
	case ev.GetDownloadRequested() != nil:
		return cli.Printable(ev.GetDownloadRequested().GetUrl())
	case ev.GetFileCaptured() != nil:
		return fmt.Sprintf("%s %x", cli.Printable(ev.GetFileCaptured().GetName()), ev.GetFileCaptured().GetSha256())
	case ev.GetClientFingerprinted() != nil:
		fp := ev.GetClientFingerprinted()
		return strings.TrimSpace(fmt.Sprintf("%s %s %s", cli.Printable(fp.GetSshClientVersion()), fp.GetHassh(), cli.Printable(fp.GetJa4())))
	}
	return ""
}

func runAttackers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("attackers: want a subcommand, list, show, export, intel, notes, note or triage: %w", errUsage)
	}
	switch args[0] {
	case "list":
		return runAttackersList(ctx, args[1:], stdout, stderr)
	case "show":
		c, err := parseClient("decnet attackers show", args[1:], stdout, stderr, nil)
		if err != nil {
			return err
		}
		id, err := c.oneArg("attacker id")
		if err != nil {
			return err
		}
		client := apiv1connect.NewAttackerServiceClient(c.client.HTTP, c.client.BaseURL, c.client.Options...)
		resp, err := client.GetAttacker(ctx, connect.NewRequest(&apiv1.GetAttackerRequest{Id: id}))
		if err != nil {
			return cli.ExplainError(err)
		}
		return c.printAttackers([]*apiv1.Attacker{resp.Msg.GetAttacker()})
	case "export":
		return runAttackersExport(ctx, args[1:], stdout, stderr)
	case "intel":
		return runAttackerIntel(ctx, args[1:], stdout, stderr)
	case "notes":
		return runAttackerNotes(ctx, args[1:], stdout, stderr)
	case "note":
		return runAttackerNote(ctx, args[1:], os.Stdin, stdout, stderr)
	case "triage":
		return runAttackerTriage(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("attackers: unknown subcommand %q, want list, show, export, intel, notes, note or triage: %w", args[0], errUsage)
}

// attackerListFlags are the flags of attackers list.
type attackerListFlags struct {
	address, prefix, service, decky, principal string
	sort                                       string
	ascending                                  bool
	minEvents                                  uint64
	since, until                               string
	limit                                      int
}

// attackerSorts maps each --sort value to its descending and ascending
// orders.
var attackerSorts = map[string][2]apiv1.AttackerOrder{
	"last-seen":     {apiv1.AttackerOrder_ATTACKER_ORDER_LAST_SEEN_DESC, apiv1.AttackerOrder_ATTACKER_ORDER_LAST_SEEN_ASC},
	"first-seen":    {apiv1.AttackerOrder_ATTACKER_ORDER_FIRST_SEEN_DESC, apiv1.AttackerOrder_ATTACKER_ORDER_FIRST_SEEN_ASC},
	"events":        {apiv1.AttackerOrder_ATTACKER_ORDER_EVENT_COUNT_DESC, apiv1.AttackerOrder_ATTACKER_ORDER_EVENT_COUNT_ASC},
	"auth-attempts": {apiv1.AttackerOrder_ATTACKER_ORDER_AUTH_ATTEMPT_COUNT_DESC, apiv1.AttackerOrder_ATTACKER_ORDER_AUTH_ATTEMPT_COUNT_ASC},
}

// attackerSortNames lists the --sort values for help and completion.
var attackerSortNames = []string{"last-seen", "first-seen", "events", "auth-attempts"}

// maxAttackerPage is the largest page the API returns.
const maxAttackerPage = 1000

func runAttackersList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f attackerListFlags
	c, err := parseClient("decnet attackers list", args, stdout, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&f.address, "address", "", "only attackers that used this address")
		fs.StringVar(&f.prefix, "address-prefix", "", "only attackers with an address that starts with this, such as 203.0.113.")
		fs.StringVar(&f.service, "service", "", "only attackers that reached this service")
		fs.StringVar(&f.decky, "decky", "", "only attackers that reached this decky (with --service, that service on it)")
		fs.StringVar(&f.principal, "principal", "", "only attackers that tried this user name")
		fs.Uint64Var(&f.minEvents, "min-events", 0, "only attackers with at least this many events")
		fs.StringVar(&f.since, "since", "", "only attackers seen at or after this RFC 3339 time, or this long ago, such as 24h")
		fs.StringVar(&f.until, "until", "", "only attackers first seen before this RFC 3339 time, or this long ago")
		fs.StringVar(&f.sort, "sort", "last-seen", "order: "+strings.Join(attackerSortNames, ", ")+"; largest or newest first")
		fs.BoolVar(&f.ascending, "ascending", false, "smallest or oldest first")
		fs.IntVar(&f.limit, "limit", 100, "attackers to print; more than 1000 are fetched a page at a time")
	}, "address", "address-prefix", "service", "decky", "principal", "min-events", "since", "until", "sort", "limit")
	if err != nil {
		return err
	}
	if err := c.noArgs(); err != nil {
		return err
	}
	req, err := attackerListRequest(f, time.Now())
	if err != nil {
		return err
	}

	client := apiv1connect.NewAttackerServiceClient(c.client.HTTP, c.client.BaseURL, c.client.Options...)
	var attackers []*apiv1.Attacker
	for remaining := max(f.limit, 1); remaining > 0; {
		req.PageSize = int32(min(remaining, maxAttackerPage)) //nolint:gosec // G115: bounded above
		resp, err := client.ListAttackers(ctx, connect.NewRequest(req))
		if err != nil {
			return cli.ExplainError(err)
		}
		attackers = append(attackers, resp.Msg.GetAttackers()...)
		remaining -= len(resp.Msg.GetAttackers())
		if req.PageToken = resp.Msg.GetNextPageToken(); req.PageToken == "" {
			break
		}
	}
	return c.printAttackers(attackers)
}

// attackerListRequest builds the request for the flags of attackers
// list, without its page size. Durations in --since and --until count
// back from now.
func attackerListRequest(f attackerListFlags, now time.Time) (*apiv1.ListAttackersRequest, error) {
	orders, ok := attackerSorts[f.sort]
	if !ok {
		return nil, fmt.Errorf("invalid --sort %q: want one of %s: %w", f.sort, strings.Join(attackerSortNames, ", "), errUsage)
	}
	req := &apiv1.ListAttackersRequest{
		Address:       f.address,
		AddressPrefix: f.prefix,
		Service:       f.service,
		Decky:         f.decky,
		Principal:     f.principal,
		MinEventCount: f.minEvents,
		OrderBy:       orders[0],
	}
	if f.ascending {
		req.OrderBy = orders[1]
	}

	var err error
	if req.SeenSince, err = parseSeenTime("since", f.since, now); err != nil {
		return nil, err
	}
	if req.SeenUntil, err = parseSeenTime("until", f.until, now); err != nil {
		return nil, err
	}
	return req, nil
}

// parseSeenTime parses a time flag: an RFC 3339 time, or a duration that
// far before now. It returns nil for an empty value.
func parseSeenTime(name, value string, now time.Time) (*timestamppb.Timestamp, error) {
	if value == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339, value); err == nil {
		return timestamppb.New(t), nil
	}
	d, err := time.ParseDuration(value)
	if err != nil || d <= 0 {
		return nil, fmt.Errorf("invalid --%s %q: want an RFC 3339 time such as 2026-03-01T18:00:00Z or a positive duration such as 24h: %w", name, value, errUsage)
	}
	return timestamppb.New(now.Add(-d)), nil
}

func (c *clientCommand) printAttackers(attackers []*apiv1.Attacker) error {
	if c.csv() {
		return c.attackersCSV(attackers)
	}
	if c.json() {
		for _, a := range attackers {
			if err := cli.WriteJSON(c.stdout, a); err != nil {
				return err
			}
		}
		return nil
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ATTACKER ID\tADDRESSES\tEVENTS\tAUTH ATTEMPTS\tSERVICES\tFIRST SEEN\tLAST SEEN")
	for _, a := range attackers {
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%s\t%s\t%s\n", a.GetId(), strings.Join(a.GetAddresses(), ","), a.GetEventCount(),
			a.GetAuthAttemptCount(), strings.Join(a.GetServices(), ","), cli.FormatTime(a.GetFirstSeen().AsTime()), cli.FormatTime(a.GetLastSeen().AsTime()))
	}
	return w.Flush()
}

// attackersCSV writes attackers as CSV rows. Lists within a cell are
// separated by semicolons, which addresses and service names never hold.
func (c *clientCommand) attackersCSV(attackers []*apiv1.Attacker) error {
	w, err := c.csvWriter([]string{"attacker_id", "addresses", "event_count", "auth_attempt_count", "services", "first_seen", "last_seen"})
	if err != nil {
		return err
	}
	for _, a := range attackers {
		if err := w.Write(a.GetId(), strings.Join(a.GetAddresses(), ";"), strconv.FormatUint(a.GetEventCount(), 10),
			strconv.FormatUint(a.GetAuthAttemptCount(), 10), strings.Join(a.GetServices(), ";"),
			csvTime(a.GetFirstSeen().AsTime()), csvTime(a.GetLastSeen().AsTime())); err != nil {
			return err
		}
	}
	return w.Flush()
}

// runAttackersExport writes one attacker with all its events and
// credentials as JSON lines: the attacker first, then each event, then
// each credential, each line an object with one key naming its type.
// Progress goes to standard error.
func runAttackersExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var format string
	c, err := parseClient("decnet attackers export", args, stdout, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&format, "format", "jsonl", "jsonl (attacker, events, credentials), stix (STIX 2.1 bundle) or misp (MISP event)")
	}, "format")
	if err != nil {
		return err
	}
	id, err := c.oneArg("attacker id")
	if err != nil {
		return err
	}
	attackers := apiv1connect.NewAttackerServiceClient(c.client.HTTP, c.client.BaseURL, c.client.Options...)
	if format != "jsonl" {
		formats := map[string]apiv1.ExportFormat{"stix": apiv1.ExportFormat_EXPORT_FORMAT_STIX, "misp": apiv1.ExportFormat_EXPORT_FORMAT_MISP}
		f, ok := formats[format]
		if !ok {
			return fmt.Errorf("attackers export: invalid --format %q: want jsonl, stix or misp: %w", format, errUsage)
		}
		resp, err := attackers.ExportAttacker(ctx, connect.NewRequest(&apiv1.ExportAttackerRequest{Id: id, Format: f}))
		if err != nil {
			return cli.ExplainError(err)
		}
		_, err = fmt.Fprintf(stdout, "%s\n", resp.Msg.GetDocument())
		return err
	}
	got, err := attackers.GetAttacker(ctx, connect.NewRequest(&apiv1.GetAttackerRequest{Id: id}))
	if err != nil {
		return cli.ExplainError(err)
	}
	if err := writeTagged(stdout, "attacker", got.Msg.GetAttacker()); err != nil {
		return err
	}

	events := apiv1connect.NewEventServiceClient(c.client.HTTP, c.client.BaseURL, c.client.Options...)
	progress := &cli.Progress{W: stderr, What: "events exported"}
	token := ""
	for {
		resp, err := events.ListEvents(ctx, connect.NewRequest(&apiv1.ListEventsRequest{
			Filter: &apiv1.EventFilter{AttackerId: id}, PageSize: 1000, PageToken: token,
		}))
		if err != nil {
			return cli.ExplainError(err)
		}
		for _, e := range resp.Msg.GetEvents() {
			if err := writeTagged(stdout, "event", e); err != nil {
				return err
			}
		}
		progress.Add(len(resp.Msg.GetEvents()))
		if token = resp.Msg.GetNextPageToken(); token == "" {
			break
		}
	}
	progress.Done()

	creds := apiv1connect.NewCredentialServiceClient(c.client.HTTP, c.client.BaseURL, c.client.Options...)
	progress = &cli.Progress{W: stderr, What: "credentials exported"}
	token = ""
	for {
		resp, err := creds.ListCredentials(ctx, connect.NewRequest(&apiv1.ListCredentialsRequest{AttackerId: id, PageSize: 1000, PageToken: token}))
		if err != nil {
			return cli.ExplainError(err)
		}
		for _, cr := range resp.Msg.GetCredentials() {
			if err := writeTagged(stdout, "credential", cr); err != nil {
				return err
			}
		}
		progress.Add(len(resp.Msg.GetCredentials()))
		if token = resp.Msg.GetNextPageToken(); token == "" {
			break
		}
	}
	progress.Done()
	return nil
}

// writeTagged prints {"<tag>": <message>} on one line.
func writeTagged(w io.Writer, tag string, m proto.Message) error {
	data, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "{%q:%s}\n", tag, data)
	return err
}

func runCredentials(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "list" {
		return fmt.Errorf("credentials: want the subcommand list: %w", errUsage)
	}
	var attacker, principal string
	var limit int
	c, err := parseClient("decnet credentials list", args[1:], stdout, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&attacker, "attacker", "", "only credentials of this attacker id")
		fs.StringVar(&principal, "principal", "", "only credentials for this user name")
		fs.IntVar(&limit, "limit", 100, "credentials to print (at most 1000)")
	}, "attacker", "principal", "limit")
	if err != nil {
		return err
	}
	if err := c.noArgs(); err != nil {
		return err
	}
	client := apiv1connect.NewCredentialServiceClient(c.client.HTTP, c.client.BaseURL, c.client.Options...)
	resp, err := client.ListCredentials(ctx, connect.NewRequest(&apiv1.ListCredentialsRequest{
		AttackerId: attacker, Principal: principal, PageSize: int32(min(max(limit, 1), 1000)), //nolint:gosec // G115: bounded above
	}))
	if err != nil {
		return cli.ExplainError(err)
	}
	if c.csv() {
		return c.credentialsCSV(resp.Msg.GetCredentials())
	}
	if c.json() {
		for _, cr := range resp.Msg.GetCredentials() {
			if err := cli.WriteJSON(stdout, cr); err != nil {
				return err
			}
		}
		return nil
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "TIME\tSOURCE\tDECKY/SERVICE\tMECHANISM\tPRINCIPAL\tSECRET")
	for _, cr := range resp.Msg.GetCredentials() {
		secret := fmt.Sprintf("%q", cr.GetSecret())
		switch {
		case cr.GetSecretMasked():
			secret = "(hidden for your role)"
		case !textSecret(cr.GetSecretKind()):
			secret = cr.GetSecretKind() + " " + cr.GetKeyFingerprint()
		}
		fmt.Fprintf(w, "%s\t%s\t%s/%s\t%s\t%s\t%s\n", cli.FormatTime(cr.GetTime().AsTime()), cr.GetSourceAddress(),
			cr.GetDecky(), cr.GetService(), cr.GetMechanism(), cli.Printable(cr.GetPrincipal()), secret)
	}
	return w.Flush()
}

// textSecret reports whether secrets of kind are text to show as they
// are: a password, or an NTLM response as the hashcat line that cracks
// it.
func textSecret(kind string) bool {
	return kind == "plaintext" || kind == "ntlmssp_v1" || kind == "ntlmssp_v2"
}

// credentialsCSV writes credentials as CSV rows. The secret column has
// a plaintext secret or NTLM hashcat line made printable. It is empty when the caller's role
// does not see secrets, and secret_masked is then true. secret_sha256
// identifies the exact bytes either way.
func (c *clientCommand) credentialsCSV(creds []*apiv1.Credential) error {
	w, err := c.csvWriter([]string{"time", "source_address", "decky", "service", "mechanism", "principal",
		"secret_kind", "secret", "secret_masked", "secret_sha256", "key_fingerprint", "outcome", "attacker_id", "event_id"})
	if err != nil {
		return err
	}
	for _, cr := range creds {
		secret := ""
		if textSecret(cr.GetSecretKind()) && !cr.GetSecretMasked() {
			secret = cli.Printable(string(cr.GetSecret()))
		}
		if err := w.Write(csvTime(cr.GetTime().AsTime()), cr.GetSourceAddress(), cr.GetDecky(), cr.GetService(), cr.GetMechanism(),
			cli.Printable(cr.GetPrincipal()), cr.GetSecretKind(), secret, strconv.FormatBool(cr.GetSecretMasked()),
			hex.EncodeToString(cr.GetSecretSha256()), cr.GetKeyFingerprint(), cr.GetOutcome().String(), cr.GetAttackerId(), cr.GetEventId()); err != nil {
			return err
		}
	}
	return w.Flush()
}

func runUsers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const want = "list, create, set-role, reset-password or delete"
	if len(args) == 0 {
		return fmt.Errorf("users: want a subcommand, %s: %w", want, errUsage)
	}
	var role string
	withRole := func(fs *flag.FlagSet) {
		fs.StringVar(&role, "role", "viewer", "role: viewer, analyst or admin")
	}
	parse := func(register func(*flag.FlagSet), values ...string) (*clientCommand, apiv1connect.UserServiceClient, error) {
		c, err := parseClient("decnet users "+args[0], args[1:], stdout, stderr, register, values...)
		if err != nil {
			return nil, nil, err
		}
		return c, apiv1connect.NewUserServiceClient(c.client.HTTP, c.client.BaseURL, c.client.Options...), nil
	}
	switch args[0] {
	case "list":
		c, users, err := parse(nil)
		if err != nil {
			return err
		}
		resp, err := users.ListUsers(ctx, connect.NewRequest(&apiv1.ListUsersRequest{}))
		if err != nil {
			return cli.ExplainError(err)
		}
		return c.printUsers(resp.Msg.GetUsers())
	case "create":
		c, users, err := parse(withRole, "role")
		if err != nil {
			return err
		}
		name, err := c.oneArg("user name")
		if err != nil {
			return err
		}
		resp, err := users.CreateUser(ctx, connect.NewRequest(&apiv1.CreateUserRequest{Username: name, Role: auth.ParseRole(role)}))
		if err != nil {
			return cli.ExplainError(err)
		}
		fmt.Fprintf(stdout, "Created %s (%s). One-time password, to be changed at the first login:\n%s\n", name, role, resp.Msg.GetPassword())
		return nil
	case "set-role":
		c, users, err := parse(withRole, "role")
		if err != nil {
			return err
		}
		name, err := c.oneArg("user name")
		if err != nil {
			return err
		}
		resp, err := users.SetUserRole(ctx, connect.NewRequest(&apiv1.SetUserRoleRequest{Username: name, Role: auth.ParseRole(role)}))
		if err != nil {
			return cli.ExplainError(err)
		}
		return c.printUsers([]*apiv1.User{resp.Msg.GetUser()})
	case "reset-password":
		c, users, err := parse(nil)
		if err != nil {
			return err
		}
		name, err := c.oneArg("user name")
		if err != nil {
			return err
		}
		resp, err := users.ResetUserPassword(ctx, connect.NewRequest(&apiv1.ResetUserPasswordRequest{Username: name}))
		if err != nil {
			return cli.ExplainError(err)
		}
		fmt.Fprintf(stdout, "Sessions of %s ended. One-time password, to be changed at the next login:\n%s\n", name, resp.Msg.GetPassword())
		return nil
	case "delete":
		c, users, err := parse(nil)
		if err != nil {
			return err
		}
		name, err := c.oneArg("user name")
		if err != nil {
			return err
		}
		if _, err := users.DeleteUser(ctx, connect.NewRequest(&apiv1.DeleteUserRequest{Username: name})); err != nil {
			return cli.ExplainError(err)
		}
		fmt.Fprintf(stdout, "Deleted %s and ended their sessions.\n", name)
		return nil
	}
	return fmt.Errorf("users: unknown subcommand %q, want %s: %w", args[0], want, errUsage)
}

func (c *clientCommand) printUsers(users []*apiv1.User) error {
	if c.json() {
		for _, u := range users {
			if err := cli.WriteJSON(c.stdout, u); err != nil {
				return err
			}
		}
		return nil
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "USER\tROLE\tCREATED\tPASSWORD CHANGE REQUIRED")
	for _, u := range users {
		fmt.Fprintf(w, "%s\t%s\t%s\t%v\n", u.GetUsername(), auth.RoleName(u.GetRole()), cli.FormatTime(u.GetCreatedAt().AsTime()), u.GetPasswordChangeRequired())
	}
	return w.Flush()
}
