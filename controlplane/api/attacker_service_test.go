package api

import (
	"context"
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

// TestListAttackersOrderAndFilters lists three attackers through the API
// in each kind of order, with filters, and page by page.
func TestListAttackersOrderAndFilters(t *testing.T) {
	f := newFixture(t, options{})
	token := f.login(t)
	ctx := context.Background()

	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	at := func(src, kind, service string, offset time.Duration) *eventv1.Event {
		ev := newEvent(src, kind)
		ev.Service = service
		ev.Time = timestamppb.New(start.Add(offset))
		return ev
	}
	// 127.0.0.2: ssh, first 0s, last 30s, 3 events, 2 attempts.
	// 127.0.0.3: http, first 10s, last 20s, 2 events.
	// 127.0.1.4: ssh, first and last 40s, 1 event.
	f.ingest(t,
		at("127.0.0.2", "connection.opened", "ssh", 0),
		at("127.0.0.2", "auth.attempt", "ssh", 25*time.Second),
		at("127.0.0.2", "auth.attempt", "ssh", 30*time.Second),
		at("127.0.0.3", "connection.opened", "http", 10*time.Second),
		at("127.0.0.3", "connection.opened", "http", 20*time.Second),
		at("127.0.1.4", "connection.opened", "ssh", 40*time.Second),
	)

	client := apiv1connect.NewAttackerServiceClient(f.h1, f.srv.URL)
	list := func(t *testing.T, req *apiv1.ListAttackersRequest) *apiv1.ListAttackersResponse {
		t.Helper()
		resp, err := client.ListAttackers(ctx, withToken(req, token))
		if err != nil {
			t.Fatalf("ListAttackers(%v): %v", req, err)
		}
		return resp.Msg
	}

	tests := []struct {
		name string
		req  *apiv1.ListAttackersRequest
		want []string
	}{
		{"default order", &apiv1.ListAttackersRequest{}, []string{"127.0.1.4", "127.0.0.2", "127.0.0.3"}},
		{"first seen ascending", &apiv1.ListAttackersRequest{OrderBy: apiv1.AttackerOrder_ATTACKER_ORDER_FIRST_SEEN_ASC}, []string{"127.0.0.2", "127.0.0.3", "127.0.1.4"}},
		{"event count descending", &apiv1.ListAttackersRequest{OrderBy: apiv1.AttackerOrder_ATTACKER_ORDER_EVENT_COUNT_DESC}, []string{"127.0.0.2", "127.0.0.3", "127.0.1.4"}},
		{"service", &apiv1.ListAttackersRequest{Service: "ssh", OrderBy: apiv1.AttackerOrder_ATTACKER_ORDER_LAST_SEEN_ASC}, []string{"127.0.0.2", "127.0.1.4"}},
		{"decky", &apiv1.ListAttackersRequest{Decky: "db-01"}, nil},
		{"principal", &apiv1.ListAttackersRequest{Principal: "root"}, []string{"127.0.0.2"}},
		{"min event count", &apiv1.ListAttackersRequest{MinEventCount: 2}, []string{"127.0.0.2", "127.0.0.3"}},
		{"seen window", &apiv1.ListAttackersRequest{
			SeenSince: timestamppb.New(start.Add(15 * time.Second)),
			SeenUntil: timestamppb.New(start.Add(35 * time.Second)),
		}, []string{"127.0.0.2", "127.0.0.3"}},
		{"address prefix", &apiv1.ListAttackersRequest{AddressPrefix: "127.0.0."}, []string{"127.0.0.2", "127.0.0.3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := addressesOf(list(t, tc.req).GetAttackers()); !slices.Equal(got, tc.want) {
				t.Errorf("attackers = %v, want %v", got, tc.want)
			}
		})
	}

	t.Run("paging", func(t *testing.T) {
		req := &apiv1.ListAttackersRequest{OrderBy: apiv1.AttackerOrder_ATTACKER_ORDER_EVENT_COUNT_ASC, PageSize: 2}
		first := list(t, req)
		if got, want := addressesOf(first.GetAttackers()), []string{"127.0.1.4", "127.0.0.3"}; !slices.Equal(got, want) {
			t.Errorf("first page = %v, want %v", got, want)
		}
		req.PageToken = first.GetNextPageToken()
		second := list(t, req)
		if got, want := addressesOf(second.GetAttackers()), []string{"127.0.0.2"}; !slices.Equal(got, want) {
			t.Errorf("second page = %v, want %v", got, want)
		}
		if second.GetNextPageToken() != "" {
			t.Errorf("second page next token = %q, want none", second.GetNextPageToken())
		}

		// The token continues only its own order.
		_, err := client.ListAttackers(ctx, withToken(&apiv1.ListAttackersRequest{PageToken: first.GetNextPageToken()}, token))
		if connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "invalid page token") {
			t.Errorf("token of another order: %v, want InvalidArgument about the page token", err)
		}
	})
}

func TestListAttackersRejectsMalformedRequests(t *testing.T) {
	f := newFixture(t, options{})
	token := f.login(t)
	client := apiv1connect.NewAttackerServiceClient(f.h1, f.srv.URL)
	now := time.Now()

	tests := []struct {
		name string
		req  *apiv1.ListAttackersRequest
		want string
	}{
		{"unknown order", &apiv1.ListAttackersRequest{OrderBy: apiv1.AttackerOrder(99)}, "order_by"},
		{"prefix with a wildcard", &apiv1.ListAttackersRequest{AddressPrefix: "10.%"}, "address_prefix"},
		{"prefix with a space", &apiv1.ListAttackersRequest{AddressPrefix: "10. "}, "address_prefix"},
		{"prefix too long", &apiv1.ListAttackersRequest{AddressPrefix: strings.Repeat("1", 46)}, "address_prefix"},
		{"window ends before it starts", &apiv1.ListAttackersRequest{
			SeenSince: timestamppb.New(now), SeenUntil: timestamppb.New(now.Add(-time.Minute)),
		}, "seen_until"},
		{"invalid since", &apiv1.ListAttackersRequest{SeenSince: &timestamppb.Timestamp{Nanos: -1}}, "seen_since"},
		{"invalid until", &apiv1.ListAttackersRequest{SeenUntil: &timestamppb.Timestamp{Seconds: 1 << 62}}, "seen_until"},
		{"invalid page token", &apiv1.ListAttackersRequest{PageToken: "garbage"}, "page token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client.ListAttackers(context.Background(), withToken(tc.req, token))
			if got := connect.CodeOf(err); got != connect.CodeInvalidArgument {
				t.Fatalf("code = %v (%v), want InvalidArgument", got, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %s", err, tc.want)
			}
		})
	}
}

func TestNormalizeAddressPrefix(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"203.0.113.", "203.0.113."},
		{"2001:DB8:", "2001:db8:"},
		{"::FFFF", "::ffff"},
	}
	for _, tc := range tests {
		got, err := normalizeAddressPrefix(tc.in)
		if err != nil {
			t.Errorf("normalizeAddressPrefix(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("normalizeAddressPrefix(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzNormalizeAddressPrefix checks that whatever a client sends, an
// accepted prefix holds only lowercase address characters, so it can
// never carry a pattern character to the store.
func FuzzNormalizeAddressPrefix(f *testing.F) {
	for _, seed := range []string{"", "10.0.", "2001:DB8::", "%", "1*", "[a]", strings.Repeat("f", 46)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := normalizeAddressPrefix(in)
		if err != nil {
			return
		}
		if len(got) > maxAddressPrefix {
			t.Fatalf("accepted %q of %d bytes", got, len(got))
		}
		if strings.Trim(got, "0123456789abcdef.:") != "" {
			t.Fatalf("normalizeAddressPrefix(%q) = %q, with characters outside lowercase hex, dot and colon", in, got)
		}
	})
}

func addressesOf(attackers []*apiv1.Attacker) []string {
	var out []string
	for _, a := range attackers {
		out = append(out, strings.Join(a.GetAddresses(), ","))
	}
	return out
}
