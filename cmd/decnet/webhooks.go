package main

import (
	"bufio"
	"cmp"
	"context"
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
	"google.golang.org/protobuf/types/known/durationpb"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
	"github.com/decnet/decnet/internal/cli"
)

// webhookSubcommands lists the webhooks subcommands in the order the
// usage text gives them.
var webhookSubcommands = []string{
	"list", "show", "create", "update", "pause", "resume", "delete",
	"test", "rotate-secret", "deliveries", "dead-letters", "replay",
	"suppressions", "suppress", "unsuppress",
}

// webhookFormats maps the --format names to the API's formats.
var webhookFormats = map[string]apiv1.WebhookFormat{
	"generic": apiv1.WebhookFormat_WEBHOOK_FORMAT_GENERIC,
	"slack":   apiv1.WebhookFormat_WEBHOOK_FORMAT_SLACK,
	"teams":   apiv1.WebhookFormat_WEBHOOK_FORMAT_TEAMS,
	"discord": apiv1.WebhookFormat_WEBHOOK_FORMAT_DISCORD,
	"thehive": apiv1.WebhookFormat_WEBHOOK_FORMAT_THEHIVE,
	"wazuh":   apiv1.WebhookFormat_WEBHOOK_FORMAT_WAZUH,
}

// maxSecretFileSize bounds what --url-file and --authorization-file read.
const maxSecretFileSize = 64 << 10

func runWebhooks(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	want := strings.Join(webhookSubcommands, ", ")
	if len(args) == 0 {
		return fmt.Errorf("webhooks: want a subcommand, %s: %w", want, errUsage)
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "list":
		return runWebhooksList(ctx, rest, stdout, stderr)
	case "show":
		return runWebhooksShow(ctx, rest, stdout, stderr)
	case "create":
		return runWebhooksCreate(ctx, rest, stdin, stdout, stderr)
	case "update":
		return runWebhooksUpdate(ctx, rest, stdin, stdout, stderr)
	case "pause", "resume":
		return runWebhooksSetEnabled(ctx, sub, rest, stdout, stderr)
	case "delete":
		return runWebhooksDelete(ctx, rest, stdout, stderr)
	case "test":
		return runWebhooksTest(ctx, rest, stdout, stderr)
	case "rotate-secret":
		return runWebhooksRotateSecret(ctx, rest, stdout, stderr)
	case "deliveries":
		return runWebhooksDeliveries(ctx, rest, stdout, stderr)
	case "dead-letters":
		return runWebhooksDeadLetters(ctx, rest, stdout, stderr)
	case "replay":
		return runWebhooksReplay(ctx, rest, stdout, stderr)
	case "suppressions":
		return runWebhooksSuppressions(ctx, rest, stdout, stderr)
	case "suppress":
		return runWebhooksSuppress(ctx, rest, stdout, stderr)
	case "unsuppress":
		return runWebhooksUnsuppress(ctx, rest, stdout, stderr)
	}
	return fmt.Errorf("webhooks: unknown subcommand %q, want %s: %w", sub, want, errUsage)
}

func (c *clientCommand) webhookClient() apiv1connect.WebhookServiceClient {
	return apiv1connect.NewWebhookServiceClient(c.client.HTTP, c.client.BaseURL, c.client.Options...)
}

// webhookError explains an API error of a webhooks subcommand. A missing
// webhook gets a hint where to find the ids.
func webhookError(sub, id string, err error) error {
	if connect.CodeOf(err) == connect.CodeNotFound && id != "" {
		return fmt.Errorf("webhooks %s: no webhook with id %s: see decnet webhooks list", sub, id)
	}
	return fmt.Errorf("webhooks %s: %w", sub, cli.ExplainError(err))
}

// findWebhook returns one webhook. The API has no call for one, so it
// lists them all.
func (c *clientCommand) findWebhook(ctx context.Context, sub, id string) (*apiv1.Webhook, error) {
	resp, err := c.webhookClient().ListWebhooks(ctx, connect.NewRequest(&apiv1.ListWebhooksRequest{}))
	if err != nil {
		return nil, webhookError(sub, "", err)
	}
	for _, w := range resp.Msg.GetWebhooks() {
		if w.GetId() == id {
			return w, nil
		}
	}
	return nil, fmt.Errorf("webhooks %s: no webhook with id %s: see decnet webhooks list", sub, id)
}

func runWebhooksList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseClient("decnet webhooks list", args, stdout, stderr, nil)
	if err != nil {
		return err
	}
	if err := c.noArgs(); err != nil {
		return err
	}
	resp, err := c.webhookClient().ListWebhooks(ctx, connect.NewRequest(&apiv1.ListWebhooksRequest{}))
	if err != nil {
		return webhookError("list", "", err)
	}
	return c.printWebhooks(resp.Msg.GetWebhooks())
}

func runWebhooksShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseClient("decnet webhooks show", args, stdout, stderr, nil)
	if err != nil {
		return err
	}
	id, err := c.oneArg("webhook id")
	if err != nil {
		return fmt.Errorf("webhooks show: %w", err)
	}
	w, err := c.findWebhook(ctx, "show", id)
	if err != nil {
		return err
	}
	return c.printWebhook(w)
}

// webhookSettingsFlags are the flags of create and update.
type webhookSettingsFlags struct {
	name              string
	url               string
	urlFile           string
	format            string
	subjects          listFlag
	rateLimit         uint
	authorizationFile string
	// create only
	paused bool
	// update only
	clearAuthorization bool
}

var webhookSettingsValueFlags = []string{"name", "url", "url-file", "format", "subject", "rate-limit", "authorization-file"}

func (f *webhookSettingsFlags) register(fs *flag.FlagSet, update bool) {
	fs.StringVar(&f.name, "name", "", "name of the webhook")
	fs.StringVar(&f.url, "url", "", "destination URL, https:// (http:// only where the server allows it); "+
		"a chat service's URL is a credential that other users can read in the process list, so prefer --url-file")
	fs.StringVar(&f.urlFile, "url-file", "", "file whose first line is the destination URL; - reads standard input")
	fs.StringVar(&f.format, "format", "", "payload format: generic, slack, teams, discord, thehive or wazuh (default generic)")
	fs.Var(&f.subjects, "subject", "notice subject pattern to deliver, such as credential.> (repeat or separate with commas; default every notice)")
	fs.UintVar(&f.rateLimit, "rate-limit", 0, "deliveries per minute, 1 to 6000 (default 60; wazuh 1 to 30, default 30)")
	fs.StringVar(&f.authorizationFile, "authorization-file", "", "file whose first line is sent as the Authorization header, such as Bearer <API key> for TheHive or Bearer <JWT> for Wazuh; - reads standard input")
	if update {
		fs.BoolVar(&f.clearAuthorization, "clear-authorization", false, "stop sending the Authorization header")
	} else {
		fs.BoolVar(&f.paused, "paused", false, "create the webhook paused; decnet webhooks resume starts deliveries")
	}
}

// nonEmpty returns the names of the settings flags whose value is not
// the zero value, wherever it came from.
func (f *webhookSettingsFlags) nonEmpty() map[string]bool {
	return map[string]bool{
		"name": f.name != "", "url": f.url != "", "url-file": f.urlFile != "", "format": f.format != "",
		"subject": len(f.subjects) > 0, "rate-limit": f.rateLimit != 0, "authorization-file": f.authorizationFile != "",
	}
}

// apply copies the flags named in given into s, and reads the files they
// name. It reports whether any setting changed.
func (f *webhookSettingsFlags) apply(s *apiv1.WebhookSettings, given map[string]bool, stdin io.Reader) (bool, error) {
	if given["url"] && given["url-file"] {
		return false, fmt.Errorf("--url and --url-file both set the URL: give one: %w", errUsage)
	}
	if f.urlFile == "-" && f.authorizationFile == "-" {
		return false, fmt.Errorf("--url-file and --authorization-file cannot both read standard input: %w", errUsage)
	}
	if given["authorization-file"] && f.clearAuthorization {
		return false, fmt.Errorf("--authorization-file and --clear-authorization contradict each other: give one: %w", errUsage)
	}
	changed := false
	if given["name"] {
		s.Name, changed = f.name, true
	}
	if given["url"] {
		s.Url, changed = f.url, true
	}
	if given["url-file"] {
		u, err := readSecretLine(f.urlFile, stdin)
		if err != nil {
			return false, fmt.Errorf("--url-file: %w", err)
		}
		s.Url, changed = u, true
	}
	if given["format"] {
		format, ok := webhookFormats[f.format]
		if !ok {
			return false, fmt.Errorf("invalid --format %q: want generic, slack, teams, discord, thehive or wazuh: %w", f.format, errUsage)
		}
		s.Format, changed = format, true
	}
	if given["subject"] {
		s.Subjects, changed = f.subjects, true
	}
	if given["rate-limit"] {
		if f.rateLimit < 1 || f.rateLimit > 6000 {
			return false, fmt.Errorf("invalid --rate-limit %d: want 1 to 6000 deliveries per minute: %w", f.rateLimit, errUsage)
		}
		s.RateLimitPerMinute, changed = uint32(f.rateLimit), true
	}
	if given["authorization-file"] {
		a, err := readSecretLine(f.authorizationFile, stdin)
		if err != nil {
			return false, fmt.Errorf("--authorization-file: %w", err)
		}
		if a == "" {
			return false, fmt.Errorf("--authorization-file: the first line is empty: use --clear-authorization to stop sending the header: %w", errUsage)
		}
		s.Authorization, changed = a, true
	}
	if f.clearAuthorization {
		s.ClearAuthorization, changed = true, true
	}
	return changed, nil
}

// readSecretLine returns the first line of a file, or of stdin for "-".
// Errors never contain what the file holds.
func readSecretLine(path string, stdin io.Reader) (string, error) {
	r := stdin
	if path != "-" {
		f, err := os.Open(path) //nolint:gosec // G304: the user names their own file
		if err != nil {
			return "", err
		}
		defer func() { _ = f.Close() }() // read only
		r = f
	}
	line, err := bufio.NewReader(io.LimitReader(r, maxSecretFileSize)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return strings.TrimSpace(line), nil
}

func runWebhooksCreate(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var f webhookSettingsFlags
	c, err := parseClient("decnet webhooks create", args, stdout, stderr, func(fs *flag.FlagSet) { f.register(fs, false) },
		webhookSettingsValueFlags...)
	if err != nil {
		return err
	}
	if err := c.noArgs(); err != nil {
		return err
	}
	if f.name == "" {
		return fmt.Errorf("webhooks create: --name is required: %w", errUsage)
	}
	if f.url == "" && f.urlFile == "" {
		return fmt.Errorf("webhooks create: --url or --url-file is required: %w", errUsage)
	}
	settings := &apiv1.WebhookSettings{Enabled: !f.paused}
	if _, err := f.apply(settings, f.nonEmpty(), stdin); err != nil {
		return fmt.Errorf("webhooks create: %w", err)
	}
	if settings.GetUrl() == "" {
		return fmt.Errorf("webhooks create: the URL is empty: %w", errUsage)
	}
	resp, err := c.webhookClient().CreateWebhook(ctx, connect.NewRequest(&apiv1.CreateWebhookRequest{Settings: settings}))
	if err != nil {
		return webhookError("create", "", err)
	}
	if c.json() {
		return cli.WriteJSON(stdout, resp.Msg)
	}
	w := resp.Msg.GetWebhook()
	fmt.Fprintf(stdout, "Created webhook %s (%s) for %s, %s.\n", w.GetId(), w.GetName(), w.GetDestination(), webhookState(w))
	// The secret is returned only here, so a failed write is an error.
	if _, err := fmt.Fprintf(stdout, "Signing secret, shown only this once. Verify the Decnet-Signature header of deliveries with it:\n%s\n",
		resp.Msg.GetSigningSecret()); err != nil {
		return fmt.Errorf("write signing secret: %w", err)
	}
	return nil
}

// currentSettings returns the settings of w as UpdateWebhook takes them.
// The URL and authorization stay empty, which keeps the current ones.
func currentSettings(w *apiv1.Webhook) *apiv1.WebhookSettings {
	return &apiv1.WebhookSettings{
		Name: w.GetName(), Format: w.GetFormat(), Subjects: w.GetSubjects(),
		Enabled: w.GetEnabled(), RateLimitPerMinute: w.GetRateLimitPerMinute(),
	}
}

func runWebhooksUpdate(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var f webhookSettingsFlags
	c, given, err := parseClientGiven("decnet webhooks update", args, stdout, stderr, func(fs *flag.FlagSet) { f.register(fs, true) },
		webhookSettingsValueFlags...)
	if err != nil {
		return err
	}
	id, err := c.oneArg("webhook id")
	if err != nil {
		return fmt.Errorf("webhooks update: %w", err)
	}
	// UpdateWebhook replaces every setting, so the command starts from
	// the current ones and changes those given on the command line. An
	// empty --subject "" clears the patterns, so every notice goes out.
	// NOTE: a change another admin makes between this read and the update
	// is overwritten, because the API has no version check.
	w, err := c.findWebhook(ctx, "update", id)
	if err != nil {
		return err
	}
	settings := currentSettings(w)
	changed, err := f.apply(settings, given, stdin)
	if err != nil {
		return fmt.Errorf("webhooks update: %w", err)
	}
	if !changed {
		return fmt.Errorf("webhooks update: nothing to change: give at least one of --name, --url, --url-file, --format, "+
			"--subject, --rate-limit, --authorization-file or --clear-authorization: %w", errUsage)
	}
	resp, err := c.webhookClient().UpdateWebhook(ctx, connect.NewRequest(&apiv1.UpdateWebhookRequest{Id: id, Settings: settings}))
	if err != nil {
		return webhookError("update", id, err)
	}
	return c.printWebhook(resp.Msg.GetWebhook())
}

// runWebhooksSetEnabled pauses or resumes a webhook. A paused webhook
// keeps its settings and its dead letters.
func runWebhooksSetEnabled(ctx context.Context, sub string, args []string, stdout, stderr io.Writer) error {
	c, err := parseClient("decnet webhooks "+sub, args, stdout, stderr, nil)
	if err != nil {
		return err
	}
	id, err := c.oneArg("webhook id")
	if err != nil {
		return fmt.Errorf("webhooks %s: %w", sub, err)
	}
	w, err := c.findWebhook(ctx, sub, id)
	if err != nil {
		return err
	}
	settings := currentSettings(w)
	settings.Enabled = sub == "resume"
	resp, err := c.webhookClient().UpdateWebhook(ctx, connect.NewRequest(&apiv1.UpdateWebhookRequest{Id: id, Settings: settings}))
	if err != nil {
		return webhookError(sub, id, err)
	}
	updated := resp.Msg.GetWebhook()
	if c.json() {
		return cli.WriteJSON(stdout, updated)
	}
	fmt.Fprintf(stdout, "Webhook %s (%s) is %s.\n", updated.GetId(), updated.GetName(), webhookState(updated))
	return nil
}

func runWebhooksDelete(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseClient("decnet webhooks delete", args, stdout, stderr, nil)
	if err != nil {
		return err
	}
	id, err := c.oneArg("webhook id")
	if err != nil {
		return fmt.Errorf("webhooks delete: %w", err)
	}
	if _, err := c.webhookClient().DeleteWebhook(ctx, connect.NewRequest(&apiv1.DeleteWebhookRequest{Id: id})); err != nil {
		return webhookError("delete", id, err)
	}
	fmt.Fprintf(stdout, "Deleted webhook %s with its delivery log and dead letters.\n", id)
	return nil
}

// runWebhooksTest sends a webhook.test notice and prints the attempt. A
// delivery that did not succeed makes the command fail, so scripts can
// check a destination by the exit status.
func runWebhooksTest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseClient("decnet webhooks test", args, stdout, stderr, nil)
	if err != nil {
		return err
	}
	id, err := c.oneArg("webhook id")
	if err != nil {
		return fmt.Errorf("webhooks test: %w", err)
	}
	resp, err := c.webhookClient().TestWebhook(ctx, connect.NewRequest(&apiv1.TestWebhookRequest{Id: id}))
	if err != nil {
		return webhookError("test", id, err)
	}
	d := resp.Msg.GetDelivery()
	if err := c.printDeliveries([]*apiv1.WebhookDelivery{d}); err != nil {
		return err
	}
	if d.GetOutcome() != apiv1.WebhookOutcome_WEBHOOK_OUTCOME_DELIVERED {
		return fmt.Errorf("webhooks test: the test notice was not delivered (%s): see the error column, "+
			"then decnet webhooks deliveries %s", deliveryOutcome(d.GetOutcome()), id)
	}
	return nil
}

func runWebhooksRotateSecret(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var grace time.Duration
	c, given, err := parseClientGiven("decnet webhooks rotate-secret", args, stdout, stderr, func(fs *flag.FlagSet) {
		fs.DurationVar(&grace, "grace", 0, "how long the old secret keeps signing as a second signature, at most 720h; 0 ends it now (default 24h)")
	}, "grace")
	if err != nil {
		return err
	}
	id, err := c.oneArg("webhook id")
	if err != nil {
		return fmt.Errorf("webhooks rotate-secret: %w", err)
	}
	req := &apiv1.RotateWebhookSecretRequest{Id: id}
	if given["grace"] {
		if grace < 0 {
			return fmt.Errorf("webhooks rotate-secret: invalid --grace %s: want 0 or more: %w", grace, errUsage)
		}
		req.Grace = durationpb.New(grace)
	}
	resp, err := c.webhookClient().RotateWebhookSecret(ctx, connect.NewRequest(req))
	if err != nil {
		return webhookError("rotate-secret", id, err)
	}
	if c.json() {
		return cli.WriteJSON(stdout, resp.Msg)
	}
	w := resp.Msg.GetWebhook()
	until := "now"
	if t := w.GetPreviousSecretExpiresAt(); t != nil {
		until = "until " + formatTimestamp(t)
	}
	fmt.Fprintf(stdout, "New signing secret for webhook %s (%s), shown only this once. The old one keeps signing %s.\n", w.GetId(), w.GetName(), until)
	if _, err := fmt.Fprintln(stdout, resp.Msg.GetSigningSecret()); err != nil {
		return fmt.Errorf("write signing secret: %w", err)
	}
	return nil
}

func runWebhooksDeliveries(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var notice string
	var limit int
	c, err := parseClient("decnet webhooks deliveries", args, stdout, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&notice, "notice", "", "only deliveries of this notice id")
		fs.IntVar(&limit, "limit", 100, "deliveries to print, newest first (at most 1000)")
	}, "notice", "limit")
	if err != nil {
		return err
	}
	id, err := c.optionalArg("webhook id")
	if err != nil {
		return fmt.Errorf("webhooks deliveries: %w", err)
	}
	resp, err := c.webhookClient().ListWebhookDeliveries(ctx, connect.NewRequest(&apiv1.ListWebhookDeliveriesRequest{
		WebhookId: id, NoticeId: notice, Limit: uint32(min(max(limit, 1), 1000)), //nolint:gosec // G115: bounded
	}))
	if err != nil {
		return webhookError("deliveries", id, err)
	}
	return c.printDeliveries(resp.Msg.GetDeliveries())
}

func runWebhooksDeadLetters(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var limit int
	c, err := parseClient("decnet webhooks dead-letters", args, stdout, stderr, func(fs *flag.FlagSet) {
		fs.IntVar(&limit, "limit", 100, "dead letters to print (at most 1000)")
	}, "limit")
	if err != nil {
		return err
	}
	id, err := c.optionalArg("webhook id")
	if err != nil {
		return fmt.Errorf("webhooks dead-letters: %w", err)
	}
	resp, err := c.webhookClient().ListWebhookDeadLetters(ctx, connect.NewRequest(&apiv1.ListWebhookDeadLettersRequest{
		WebhookId: id, Limit: uint32(min(max(limit, 1), 1000)), //nolint:gosec // G115: bounded
	}))
	if err != nil {
		return webhookError("dead-letters", id, err)
	}
	return c.printDeadLetters(resp.Msg.GetDeadLetters())
}

func runWebhooksReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var deadLetter string
	c, err := parseClient("decnet webhooks replay", args, stdout, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&deadLetter, "dead-letter", "", "queue only this dead letter id (default: as many as the queue has room for, oldest first)")
	}, "dead-letter")
	if err != nil {
		return err
	}
	id, err := c.oneArg("webhook id")
	if err != nil {
		return fmt.Errorf("webhooks replay: %w", err)
	}
	resp, err := c.webhookClient().ReplayWebhookDeadLetters(ctx, connect.NewRequest(&apiv1.ReplayWebhookDeadLettersRequest{
		WebhookId: id, DeadLetterId: deadLetter,
	}))
	if err != nil {
		return webhookError("replay", id, err)
	}
	fmt.Fprintf(stdout, "Queued %d dead letters of webhook %s again.\n", resp.Msg.GetQueued(), id)
	return nil
}

// webhookState is "active" or "paused".
func webhookState(w *apiv1.Webhook) string {
	if w.GetEnabled() {
		return "active"
	}
	return "paused"
}

func webhookFormat(f apiv1.WebhookFormat) string {
	if f == apiv1.WebhookFormat_WEBHOOK_FORMAT_UNSPECIFIED {
		return "generic"
	}
	return strings.ToLower(strings.TrimPrefix(f.String(), "WEBHOOK_FORMAT_"))
}

func breakerState(b apiv1.WebhookBreakerState) string {
	if b == apiv1.WebhookBreakerState_WEBHOOK_BREAKER_STATE_UNSPECIFIED {
		return "-"
	}
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(b.String(), "WEBHOOK_BREAKER_STATE_")), "_", "-")
}

func deliveryOutcome(o apiv1.WebhookOutcome) string {
	if o == apiv1.WebhookOutcome_WEBHOOK_OUTCOME_UNSPECIFIED {
		return "-"
	}
	return strings.ToLower(strings.TrimPrefix(o.String(), "WEBHOOK_OUTCOME_"))
}

// subjectsText joins subject patterns. No pattern means every notice.
func subjectsText(subjects []string) string {
	if len(subjects) == 0 {
		return "(all)"
	}
	return strings.Join(subjects, ",")
}

func statusText(code uint32) string {
	if code == 0 {
		return "-"
	}
	return strconv.FormatUint(uint64(code), 10)
}

func (c *clientCommand) printWebhooks(list []*apiv1.Webhook) error {
	if c.json() {
		for _, w := range list {
			if err := cli.WriteJSON(c.stdout, w); err != nil {
				return err
			}
		}
		return nil
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "WEBHOOK ID\tNAME\tDESTINATION\tFORMAT\tSUBJECTS\tSTATE\tBREAKER\tFAILURES\tQUEUED")
	for _, h := range list {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\n", h.GetId(), h.GetName(), h.GetDestination(), webhookFormat(h.GetFormat()),
			subjectsText(h.GetSubjects()), webhookState(h), breakerState(h.GetBreaker()), h.GetConsecutiveFailures(), h.GetQueued())
	}
	return w.Flush()
}

// printWebhook prints one webhook as "field: value" lines, or as JSON.
func (c *clientCommand) printWebhook(h *apiv1.Webhook) error {
	if c.json() {
		return cli.WriteJSON(c.stdout, h)
	}
	authorization := "none"
	if h.GetHasAuthorization() {
		authorization = "set"
	}
	rows := [][2]string{
		{"ID", h.GetId()},
		{"Name", h.GetName()},
		{"Destination", h.GetDestination()},
		{"Format", webhookFormat(h.GetFormat())},
		{"Subjects", subjectsText(h.GetSubjects())},
		{"State", webhookState(h)},
		{"Rate limit", fmt.Sprintf("%d per minute", h.GetRateLimitPerMinute())},
		{"Authorization header", authorization},
		{"Breaker", breakerState(h.GetBreaker())},
		{"Consecutive failures", strconv.FormatUint(uint64(h.GetConsecutiveFailures()), 10)},
		{"Queued", strconv.FormatUint(uint64(h.GetQueued()), 10)},
		{"Created", formatTimestamp(h.GetCreatedAt())},
		{"Updated", formatTimestamp(h.GetUpdatedAt())},
	}
	if t := h.GetPreviousSecretExpiresAt(); t != nil {
		rows = append(rows, [2]string{"Previous secret signs until", formatTimestamp(t)})
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintf(w, "%s:\t%s\n", r[0], r[1])
	}
	return w.Flush()
}

func (c *clientCommand) printDeliveries(list []*apiv1.WebhookDelivery) error {
	if c.json() {
		for _, d := range list {
			if err := cli.WriteJSON(c.stdout, d); err != nil {
				return err
			}
		}
		return nil
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "TIME\tWEBHOOK ID\tSUBJECT\tATTEMPT\tOUTCOME\tSTATUS\tDURATION\tERROR")
	for _, d := range list {
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", formatTimestamp(d.GetTime()), d.GetWebhookId(), d.GetSubject(), d.GetAttempt(),
			deliveryOutcome(d.GetOutcome()), statusText(d.GetStatusCode()), d.GetDuration().AsDuration().Round(time.Millisecond), cmp.Or(d.GetError(), "-"))
	}
	return w.Flush()
}

func (c *clientCommand) printDeadLetters(list []*apiv1.WebhookDeadLetter) error {
	if c.json() {
		for _, d := range list {
			if err := cli.WriteJSON(c.stdout, d); err != nil {
				return err
			}
		}
		return nil
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "CREATED\tDEAD LETTER ID\tWEBHOOK ID\tSUBJECT\tREASON\tATTEMPTS\tSTATUS\tERROR")
	for _, d := range list {
		subject := d.GetNotice().GetSubject()
		if in := d.GetIncident(); in != nil {
			subjects := make([]string, 0, len(in.GetSubjects()))
			for s := range in.GetSubjects() {
				subjects = append(subjects, s)
			}
			slices.Sort(subjects)
			subject = fmt.Sprintf("incident of %d: %s", in.GetCount(), strings.Join(subjects, ","))
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", formatTimestamp(d.GetCreatedAt()), d.GetId(), d.GetWebhookId(), cmp.Or(subject, "-"),
			d.GetReason(), d.GetAttempts(), statusText(d.GetStatusCode()), cmp.Or(d.GetError(), "-"))
	}
	return w.Flush()
}
