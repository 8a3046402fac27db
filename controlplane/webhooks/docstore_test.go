package webhooks

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/controlplane/store/sqlite"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// The document store keeps every field of the records through the SQL
// store, as the memory store does.
func TestDocumentStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "decnet.db"), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := NewDocumentStore(st)
	at := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

	rec := Record{ID: "sub-1", Name: "soc", SealedURL: []byte{1, 2, 3}, Origin: "https://hooks.example", Format: "slack",
		Subjects: []string{"credential.>"}, Enabled: true, RateLimit: 60, SealedSecret: []byte{4}, CreatedAt: at, UpdatedAt: at}
	if err := s.CreateSubscription(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSubscription(ctx, rec); !errors.Is(err, store.ErrExists) {
		t.Errorf("create twice = %v", err)
	}
	rec.Name = "soc-2"
	if err := s.UpdateSubscription(ctx, rec); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetSubscription(ctx, "sub-1")
	if err != nil || got.Name != "soc-2" || string(got.SealedURL) != "\x01\x02\x03" || got.Format != "slack" || !got.CreatedAt.Equal(at) {
		t.Fatalf("GetSubscription = %+v, %v", got, err)
	}

	for i, id := range []string{"d1", "d2", "d3"} {
		if err := s.AddDelivery(ctx, Delivery{ID: id, SubscriptionID: "sub-1", NoticeID: "n" + id, Time: at.Add(time.Duration(i) * time.Second),
			StatusCode: 500, Duration: time.Second, Outcome: OutcomeRetry}); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := s.ListDeliveries(ctx, DeliveryQuery{SubscriptionID: "sub-1", Limit: 2})
	if err != nil || len(ds) != 2 || ds[0].ID != "d3" || ds[0].Duration != time.Second {
		t.Fatalf("ListDeliveries = %+v, %v", ds, err)
	}
	if ds, _ := s.ListDeliveries(ctx, DeliveryQuery{NoticeID: "nd1"}); len(ds) != 1 || ds[0].ID != "d1" {
		t.Errorf("by notice = %+v", ds)
	}

	notice := &apiv1.Notice{Id: "n1", Subject: "credential.captured", Summary: "x", Detail: &apiv1.Notice_CredentialReuse{
		CredentialReuse: &apiv1.CredentialReuse{Principal: "root"}}}
	for i, id := range []string{"l1", "l2"} {
		if err := s.AddDeadLetter(ctx, DeadLetter{ID: id, SubscriptionID: "sub-1", Notice: notice, Reason: ReasonFinalStatus,
			StatusCode: 404, CreatedAt: at.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	dls, err := s.ListDeadLetters(ctx, "sub-1", 0)
	if err != nil || len(dls) != 2 || dls[0].Notice.GetCredentialReuse().GetPrincipal() != "root" {
		t.Fatalf("ListDeadLetters = %+v, %v", dls, err)
	}
	taken, err := s.TakeDeadLetters(ctx, "sub-1", "", 1)
	if err != nil || len(taken) != 1 || taken[0].ID != "l1" {
		t.Fatalf("take oldest = %+v, %v", taken, err)
	}
	if _, err := s.TakeDeadLetters(ctx, "sub-1", "l1", 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("take taken = %v", err)
	}

	sup := Suppression{ID: "s1", Prefix: netip.MustParsePrefix("198.51.100.0/24"), Reason: "own scanner", CreatedAt: at}
	if err := s.CreateSuppression(ctx, sup); err != nil {
		t.Fatal(err)
	}
	sups, err := s.ListSuppressions(ctx)
	if err != nil || len(sups) != 1 || sups[0].Prefix != sup.Prefix {
		t.Fatalf("ListSuppressions = %+v, %v", sups, err)
	}

	if err := s.DeleteSubscription(ctx, "sub-1"); err != nil {
		t.Fatal(err)
	}
	if ds, _ := s.ListDeliveries(ctx, DeliveryQuery{SubscriptionID: "sub-1"}); len(ds) != 0 {
		t.Errorf("deliveries left after delete: %d", len(ds))
	}
	if dls, _ := s.ListDeadLetters(ctx, "sub-1", 0); len(dls) != 0 {
		t.Errorf("dead letters left after delete: %d", len(dls))
	}
}
