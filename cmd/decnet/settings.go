package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
	"github.com/decnet/decnet/internal/cli"
)

// settingsSetFlags are the runtime values decnet settings set changes.
// Only the flags given are sent, so the others keep their value.
type settingsSetFlags struct {
	retention        time.Duration
	requireAdminTOTP bool
	streamsPerUser   uint
	webhookAllowHTTP bool
	webhookCIDRs     string
	restore          string
}

// restoreNames maps the names --restore takes to the runtime values.
var restoreNames = map[string]apiv1.RuntimeSetting{
	"retention":           apiv1.RuntimeSetting_RUNTIME_SETTING_RETENTION,
	"require-admin-totp":  apiv1.RuntimeSetting_RUNTIME_SETTING_REQUIRE_ADMIN_TOTP,
	"streams-per-user":    apiv1.RuntimeSetting_RUNTIME_SETTING_STREAMS_PER_USER,
	"webhook-allow-http":  apiv1.RuntimeSetting_RUNTIME_SETTING_WEBHOOK_ALLOW_HTTP,
	"webhook-allow-cidrs": apiv1.RuntimeSetting_RUNTIME_SETTING_WEBHOOK_ALLOWED_CIDRS,
}

// runSettings shows the settings of the replica that serves the call, or
// changes the runtime values (admin).
func runSettings(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("settings: want a subcommand, show or set: %w", errUsage)
	}
	switch args[0] {
	case "show":
		c, err := parseClient("decnet settings show", args[1:], stdout, stderr, nil)
		if err != nil {
			return err
		}
		if err := c.noArgs(); err != nil {
			return err
		}
		client := apiv1connect.NewSettingsServiceClient(c.client.HTTP, c.client.BaseURL, c.client.Options...)
		resp, err := client.GetSettings(ctx, connect.NewRequest(&apiv1.GetSettingsRequest{}))
		if err != nil {
			return cli.ExplainError(err)
		}
		return c.printSettings(resp.Msg.GetSettings())
	case "set":
		return runSettingsSet(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("settings: unknown subcommand %q, want show or set: %w", args[0], errUsage)
}

func runSettingsSet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f settingsSetFlags
	register := func(fs *flag.FlagSet) {
		fs.DurationVar(&f.retention, "retention", 0, "keep raw events this long, such as 720h; 0 keeps them forever")
		fs.BoolVar(&f.requireAdminTOTP, "require-admin-totp", false, "make every admin enroll TOTP, from their next sign-in")
		fs.UintVar(&f.streamsPerUser, "streams-per-user", 0, "live streams one user may hold open, 1 to 100")
		fs.BoolVar(&f.webhookAllowHTTP, "webhook-allow-http", false, "accept http:// webhook URLs")
		fs.StringVar(&f.webhookCIDRs, "webhook-allow-cidrs", "", `private networks webhooks may reach, separated by commas; "" allows none`)
		fs.StringVar(&f.restore, "restore", "", "return these values to the server's flags, separated by commas: "+strings.Join(sortedKeys(restoreNames), ", "))
	}
	c, given, err := parseClientGiven("decnet settings set", args, stdout, stderr, register,
		"retention", "streams-per-user", "webhook-allow-cidrs", "restore")
	if err != nil {
		return err
	}
	if err := c.noArgs(); err != nil {
		return err
	}
	req, err := settingsRequest(f, given)
	if err != nil {
		return err
	}
	client := apiv1connect.NewSettingsServiceClient(c.client.HTTP, c.client.BaseURL, c.client.Options...)
	resp, err := client.UpdateSettings(ctx, connect.NewRequest(req))
	if err != nil {
		return cli.ExplainError(err)
	}
	return c.printSettings(resp.Msg.GetSettings())
}

// settingsRequest builds the request from the flags given; a flag not
// given leaves its value alone.
func settingsRequest(f settingsSetFlags, given map[string]bool) (*apiv1.UpdateSettingsRequest, error) {
	req := &apiv1.UpdateSettingsRequest{}
	if given["retention"] {
		req.RetentionEvents = durationpb.New(f.retention)
	}
	if given["require-admin-totp"] {
		req.RequireAdminTotp = proto.Bool(f.requireAdminTOTP)
	}
	if given["streams-per-user"] {
		if f.streamsPerUser > 1<<16 {
			return nil, fmt.Errorf("settings set: --streams-per-user %d is out of range 1 to 100: %w", f.streamsPerUser, errUsage)
		}
		req.StreamsPerUser = proto.Uint32(uint32(f.streamsPerUser)) //nolint:gosec // bounded above
	}
	if given["webhook-allow-http"] {
		req.WebhookAllowHttp = proto.Bool(f.webhookAllowHTTP)
	}
	if given["webhook-allow-cidrs"] {
		req.WebhookAllowedCidrs = &apiv1.CidrList{Cidrs: splitList(f.webhookCIDRs)}
	}
	for _, name := range splitList(f.restore) {
		s, ok := restoreNames[name]
		if !ok {
			return nil, fmt.Errorf("settings set: --restore %q: want one of %s: %w", name, strings.Join(sortedKeys(restoreNames), ", "), errUsage)
		}
		req.RestoreDefaults = append(req.RestoreDefaults, s)
	}
	if proto.Equal(req, &apiv1.UpdateSettingsRequest{}) {
		return nil, fmt.Errorf("settings set: give at least one value to change or --restore: %w", errUsage)
	}
	return req, nil
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// printSettings prints one line per setting; the runtime values an admin
// overrode are marked.
func (c *clientCommand) printSettings(s *apiv1.Settings) error {
	if c.json() {
		return cli.WriteJSON(c.stdout, s)
	}
	mark := func(setting apiv1.RuntimeSetting) string {
		if slices.Contains(s.GetOverridden(), setting) {
			return "set by an admin"
		}
		return "flag"
	}
	retention := "forever"
	if d := s.GetRetention().GetEvents().AsDuration(); d > 0 {
		retention = d.String()
	}
	cidrs := strings.Join(s.GetWebhooks().GetAllowedCidrs(), ",")
	if cidrs == "" {
		cidrs = "none"
	}
	storage := "sqlite"
	if s.GetStorage().GetKind() == apiv1.StorageKind_STORAGE_KIND_POSTGRES {
		storage = "postgres"
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SETTING\tVALUE\tSOURCE")
	rows := [][3]string{
		{"version", s.GetVersion(), ""},
		{"storage", storage, "flag"},
		{"api-listen", s.GetListen().GetApi(), "flag"},
		{"retention", retention, mark(apiv1.RuntimeSetting_RUNTIME_SETTING_RETENTION)},
		{"require-admin-totp", fmt.Sprint(s.GetAuth().GetRequireAdminTotp()), mark(apiv1.RuntimeSetting_RUNTIME_SETTING_REQUIRE_ADMIN_TOTP)},
		{"streams-per-user", fmt.Sprint(s.GetStreamsPerUser()), mark(apiv1.RuntimeSetting_RUNTIME_SETTING_STREAMS_PER_USER)},
		{"webhook-allow-http", fmt.Sprint(s.GetWebhooks().GetAllowHttp()), mark(apiv1.RuntimeSetting_RUNTIME_SETTING_WEBHOOK_ALLOW_HTTP)},
		{"webhook-allow-cidrs", cidrs, mark(apiv1.RuntimeSetting_RUNTIME_SETTING_WEBHOOK_ALLOWED_CIDRS)},
	}
	for _, r := range rows {
		fmt.Fprintf(w, "%s\t%s\t%s\n", r[0], cli.Printable(r[1]), r[2])
	}
	return w.Flush()
}
