package api

import (
	"context"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

// GetOverview returns the store's statistics, with secret values only
// for analysts and above.
func TestGetOverview(t *testing.T) {
	f := newFixture(t, options{})
	ctx := context.Background()
	f.ingest(t, newEvent("127.0.0.2", "auth.attempt"), newEvent("127.0.0.2", "auth.attempt"),
		newEvent("127.0.0.3", "connection.opened"))

	client := apiv1connect.NewEventServiceClient(f.h1, f.srv.URL)
	for _, tc := range []struct {
		role       apiv1.Role
		wantSecret string
		wantMasked bool
	}{
		{apiv1.Role_ROLE_VIEWER, "", true},
		{apiv1.Role_ROLE_ANALYST, "toor", false},
	} {
		t.Run(tc.role.String(), func(t *testing.T) {
			token := f.loginNewUser(t, "overview-"+tc.role.String(), tc.role)
			resp, err := client.GetOverview(ctx, withToken(&apiv1.GetOverviewRequest{TopN: 5}, token))
			if err != nil {
				t.Fatalf("GetOverview: %v", err)
			}
			o := resp.Msg
			if o.GetTotalEvents() != 3 || o.GetTotalAttackers() != 2 || o.GetTotalCredentials() != 2 || o.GetWindowEvents() != 3 {
				t.Errorf("totals = events %d, attackers %d, credentials %d, in window %d; want 3, 2, 2, 3",
					o.GetTotalEvents(), o.GetTotalAttackers(), o.GetTotalCredentials(), o.GetWindowEvents())
			}
			var sum uint64
			for _, n := range o.GetHistogram() {
				sum += n
			}
			if len(o.GetHistogram()) != 24 || sum != 3 {
				t.Errorf("histogram = %v, want 24 hourly buckets holding the 3 events", o.GetHistogram())
			}
			if got := o.GetWindowEnd().AsTime().Sub(o.GetWindowStart().AsTime()); got != 24*time.Hour || o.GetBucket().AsDuration() != time.Hour {
				t.Errorf("window = %v in buckets of %v, want 24h in buckets of 1h", got, o.GetBucket().AsDuration())
			}
			attackers := o.GetTopAttackers()
			if len(attackers) != 2 || attackers[0].GetEvents() != 2 || attackers[0].GetAddresses()[0] != "127.0.0.2" || attackers[1].GetEvents() != 1 {
				t.Errorf("top attackers = %v, want 127.0.0.2 with 2 events, then one with 1", attackers)
			}
			creds := o.GetTopCredentials()
			if len(creds) != 1 || creds[0].GetPrincipal() != "root" || creds[0].GetCount() != 2 ||
				string(creds[0].GetSecret()) != tc.wantSecret || creds[0].GetSecretMasked() != tc.wantMasked {
				t.Errorf("top credentials = %v, want root tried twice with secret %q, masked %v", creds, tc.wantSecret, tc.wantMasked)
			}
		})
	}
}

func TestOverviewQuery(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 34, 56, 0, time.UTC)
	hours := func(h int) *durationpb.Duration { return durationpb.New(time.Duration(h) * time.Hour) }
	tests := []struct {
		name      string
		req       *apiv1.GetOverviewRequest
		wantStart time.Time
		wantN     int
		wantTop   int
		wantErr   bool
	}{
		{"defaults", &apiv1.GetOverviewRequest{}, time.Date(2025, 2, 28, 13, 0, 0, 0, time.UTC), 24, 10, false},
		{"minutes", &apiv1.GetOverviewRequest{Window: hours(1), Bucket: durationpb.New(5 * time.Minute), TopN: 3},
			time.Date(2025, 3, 1, 11, 35, 0, 0, time.UTC), 12, 3, false},
		{"partial bucket rounds up", &apiv1.GetOverviewRequest{Window: durationpb.New(90 * time.Minute), TopN: 500},
			time.Date(2025, 3, 1, 11, 0, 0, 0, time.UTC), 2, 100, false},
		{"longest window", &apiv1.GetOverviewRequest{Window: hours(31 * 24), Bucket: hours(24)},
			time.Date(2025, 1, 30, 0, 0, 0, 0, time.UTC), 31, 10, false},
		{"window too long", &apiv1.GetOverviewRequest{Window: hours(31*24 + 1)}, time.Time{}, 0, 0, true},
		{"negative window", &apiv1.GetOverviewRequest{Window: hours(-1)}, time.Time{}, 0, 0, true},
		{"bucket too short", &apiv1.GetOverviewRequest{Bucket: durationpb.New(time.Second)}, time.Time{}, 0, 0, true},
		{"bucket longer than window", &apiv1.GetOverviewRequest{Window: hours(1), Bucket: hours(2)}, time.Time{}, 0, 0, true},
		{"too many buckets", &apiv1.GetOverviewRequest{Window: hours(24 * 30), Bucket: durationpb.New(time.Minute)}, time.Time{}, 0, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := overviewQuery(tc.req, now)
			if tc.wantErr {
				if connect.CodeOf(err) != connect.CodeInvalidArgument {
					t.Fatalf("overviewQuery = %v, want InvalidArgument", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("overviewQuery: %v", err)
			}
			if !q.Start.Equal(tc.wantStart) || q.Buckets != tc.wantN || q.TopN != tc.wantTop {
				t.Errorf("overviewQuery = start %v, %d buckets, top %d; want %v, %d, %d",
					q.Start, q.Buckets, q.TopN, tc.wantStart, tc.wantN, tc.wantTop)
			}
			if !q.End().After(now) {
				t.Errorf("window ends at %v, before now %v", q.End(), now)
			}
		})
	}
}
