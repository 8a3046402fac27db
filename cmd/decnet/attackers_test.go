package main

import (
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

func TestAttackerListRequest(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	defaults := attackerListFlags{sort: "last-seen", limit: 100}
	with := func(change func(f *attackerListFlags)) attackerListFlags {
		f := defaults
		change(&f)
		return f
	}
	tests := []struct {
		name  string
		flags attackerListFlags
		want  *apiv1.ListAttackersRequest
	}{
		{"defaults", defaults, &apiv1.ListAttackersRequest{OrderBy: apiv1.AttackerOrder_ATTACKER_ORDER_LAST_SEEN_DESC}},
		{"sort by events", with(func(f *attackerListFlags) { f.sort = "events" }),
			&apiv1.ListAttackersRequest{OrderBy: apiv1.AttackerOrder_ATTACKER_ORDER_EVENT_COUNT_DESC}},
		{"first seen ascending", with(func(f *attackerListFlags) { f.sort, f.ascending = "first-seen", true }),
			&apiv1.ListAttackersRequest{OrderBy: apiv1.AttackerOrder_ATTACKER_ORDER_FIRST_SEEN_ASC}},
		{"auth attempts ascending", with(func(f *attackerListFlags) { f.sort, f.ascending = "auth-attempts", true }),
			&apiv1.ListAttackersRequest{OrderBy: apiv1.AttackerOrder_ATTACKER_ORDER_AUTH_ATTEMPT_COUNT_ASC}},
		{"filters", with(func(f *attackerListFlags) {
			f.address, f.prefix, f.service, f.decky, f.principal, f.minEvents = "127.0.0.2", "127.0.", "ssh", "web-01", "root", 5
		}), &apiv1.ListAttackersRequest{
			OrderBy: apiv1.AttackerOrder_ATTACKER_ORDER_LAST_SEEN_DESC,
			Address: "127.0.0.2", AddressPrefix: "127.0.", Service: "ssh", Decky: "web-01", Principal: "root", MinEventCount: 5,
		}},
		{"times", with(func(f *attackerListFlags) { f.since, f.until = "2026-03-01T18:00:00Z", "2026-03-02T00:00:00+01:00" }),
			&apiv1.ListAttackersRequest{
				OrderBy:   apiv1.AttackerOrder_ATTACKER_ORDER_LAST_SEEN_DESC,
				SeenSince: timestamppb.New(time.Date(2026, 3, 1, 18, 0, 0, 0, time.UTC)),
				SeenUntil: timestamppb.New(time.Date(2026, 3, 1, 23, 0, 0, 0, time.UTC)),
			}},
		{"durations", with(func(f *attackerListFlags) { f.since, f.until = "24h", "90m" }),
			&apiv1.ListAttackersRequest{
				OrderBy:   apiv1.AttackerOrder_ATTACKER_ORDER_LAST_SEEN_DESC,
				SeenSince: timestamppb.New(now.Add(-24 * time.Hour)),
				SeenUntil: timestamppb.New(now.Add(-90 * time.Minute)),
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := attackerListRequest(tc.flags, now)
			if err != nil {
				t.Fatalf("attackerListRequest: %v", err)
			}
			if !proto.Equal(got, tc.want) {
				t.Errorf("request = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAttackerListRequestRejectsBadFlags(t *testing.T) {
	now := time.Now()
	for name, f := range map[string]attackerListFlags{
		"unknown sort":      {sort: "name"},
		"malformed since":   {sort: "last-seen", since: "yesterday"},
		"negative duration": {sort: "last-seen", since: "-1h"},
		"malformed until":   {sort: "last-seen", until: "2026-03-01"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := attackerListRequest(f, now); !errors.Is(err, errUsage) {
				t.Errorf("attackerListRequest(%+v) error = %v, want a usage error", f, err)
			}
		})
	}
}
