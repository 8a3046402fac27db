package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// Document kinds of the webhook records.
const (
	kindSubscription = "webhook.subscription"
	kindDelivery     = "webhook.delivery"
	kindDeadLetter   = "webhook.dead_letter"
	kindSuppression  = "webhook.suppression"
)

// deliveryRetention is how long the delivery log keeps attempts; older
// ones are pruned as new ones arrive.
const deliveryRetention = 30 * 24 * time.Hour

// pruneEvery is how many delivery records are added between prunes.
const pruneEvery = 1000

// Documents is the part of the control plane store the webhook records
// live in.
type Documents interface {
	PutDocument(ctx context.Context, d store.Document) error
	GetDocument(ctx context.Context, kind, id string) (store.Document, error)
	ListDocuments(ctx context.Context, kind, grp string, limit int) ([]store.Document, error)
	DeleteDocument(ctx context.Context, kind, id string) error
	DeleteDocuments(ctx context.Context, kind, grp string) error
	TakeDocuments(ctx context.Context, kind, grp, id string, limit int) ([]store.Document, error)
	PruneDocuments(ctx context.Context, kind string, before time.Time) (int64, error)
}

// DocumentStore keeps the webhook records as documents of the control
// plane store, so every replica and every backend shares them.
type DocumentStore struct {
	docs  Documents
	now   func() time.Time
	added atomic.Int64
}

var _ Store = (*DocumentStore)(nil)

// NewDocumentStore returns the Store of docs.
func NewDocumentStore(docs Documents) *DocumentStore {
	return &DocumentStore{docs: docs, now: time.Now}
}

func (s *DocumentStore) put(ctx context.Context, kind, id, grp string, at time.Time, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s %s: %w", kind, id, err)
	}
	return s.docs.PutDocument(ctx, store.Document{Kind: kind, ID: id, Group: grp, At: at, Data: data})
}

// CreateSubscription implements Store.
func (s *DocumentStore) CreateSubscription(ctx context.Context, r Record) error {
	if _, err := s.docs.GetDocument(ctx, kindSubscription, r.ID); err == nil {
		return fmt.Errorf("create subscription %s: %w", r.ID, store.ErrExists)
	}
	return s.put(ctx, kindSubscription, r.ID, "", r.CreatedAt, r)
}

// UpdateSubscription implements Store.
func (s *DocumentStore) UpdateSubscription(ctx context.Context, r Record) error {
	if _, err := s.docs.GetDocument(ctx, kindSubscription, r.ID); err != nil {
		return fmt.Errorf("update subscription %s: %w", r.ID, err)
	}
	return s.put(ctx, kindSubscription, r.ID, "", r.CreatedAt, r)
}

// DeleteSubscription implements Store; the subscription's log and dead
// letters go with it.
func (s *DocumentStore) DeleteSubscription(ctx context.Context, id string) error {
	if err := s.docs.DeleteDocument(ctx, kindSubscription, id); err != nil {
		return err
	}
	return errors.Join(s.docs.DeleteDocuments(ctx, kindDelivery, id), s.docs.DeleteDocuments(ctx, kindDeadLetter, id))
}

// GetSubscription implements Store.
func (s *DocumentStore) GetSubscription(ctx context.Context, id string) (Record, error) {
	d, err := s.docs.GetDocument(ctx, kindSubscription, id)
	if err != nil {
		return Record{}, err
	}
	var r Record
	if err := json.Unmarshal(d.Data, &r); err != nil {
		return Record{}, fmt.Errorf("decode subscription %s: %w", id, err)
	}
	return r, nil
}

// ListSubscriptions implements Store, oldest first.
func (s *DocumentStore) ListSubscriptions(ctx context.Context) ([]Record, error) {
	docs, err := s.docs.ListDocuments(ctx, kindSubscription, "", 0)
	if err != nil {
		return nil, err
	}
	out := make([]Record, 0, len(docs))
	for i := len(docs) - 1; i >= 0; i-- {
		var r Record
		if err := json.Unmarshal(docs[i].Data, &r); err != nil {
			return nil, fmt.Errorf("decode subscription %s: %w", docs[i].ID, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// AddDelivery implements Store, pruning old attempts now and then.
func (s *DocumentStore) AddDelivery(ctx context.Context, d Delivery) error {
	if err := s.put(ctx, kindDelivery, d.ID, d.SubscriptionID, d.Time, d); err != nil {
		return err
	}
	if s.added.Add(1)%pruneEvery == 0 {
		if _, err := s.docs.PruneDocuments(ctx, kindDelivery, s.now().Add(-deliveryRetention)); err != nil {
			return fmt.Errorf("prune delivery log: %w", err)
		}
	}
	return nil
}

// ListDeliveries implements Store, newest first.
func (s *DocumentStore) ListDeliveries(ctx context.Context, q DeliveryQuery) ([]Delivery, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	fetch := limit
	if q.NoticeID != "" {
		fetch = 0
	}
	docs, err := s.docs.ListDocuments(ctx, kindDelivery, q.SubscriptionID, fetch)
	if err != nil {
		return nil, err
	}
	var out []Delivery
	for _, doc := range docs {
		var d Delivery
		if err := json.Unmarshal(doc.Data, &d); err != nil {
			return nil, fmt.Errorf("decode delivery %s: %w", doc.ID, err)
		}
		if q.NoticeID != "" && d.NoticeID != q.NoticeID {
			continue
		}
		out = append(out, d)
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

// storedDeadLetter is a DeadLetter as stored: the notice in protobuf JSON.
type storedDeadLetter struct {
	DeadLetter
	Notice json.RawMessage `json:"NoticeJSON,omitempty"`
}

// AddDeadLetter implements Store.
func (s *DocumentStore) AddDeadLetter(ctx context.Context, dl DeadLetter) error {
	stored := storedDeadLetter{DeadLetter: dl}
	stored.DeadLetter.Notice = nil
	if dl.Notice != nil {
		data, err := protojson.Marshal(dl.Notice)
		if err != nil {
			return fmt.Errorf("encode dead letter %s: %w", dl.ID, err)
		}
		stored.Notice = data
	}
	return s.put(ctx, kindDeadLetter, dl.ID, dl.SubscriptionID, dl.CreatedAt, stored)
}

func decodeDeadLetters(docs []store.Document) ([]DeadLetter, error) {
	out := make([]DeadLetter, 0, len(docs))
	for _, doc := range docs {
		var stored storedDeadLetter
		if err := json.Unmarshal(doc.Data, &stored); err != nil {
			return nil, fmt.Errorf("decode dead letter %s: %w", doc.ID, err)
		}
		dl := stored.DeadLetter
		if len(stored.Notice) > 0 {
			dl.Notice = &apiv1.Notice{}
			if err := protojson.Unmarshal(stored.Notice, dl.Notice); err != nil {
				return nil, fmt.Errorf("decode dead letter %s: %w", doc.ID, err)
			}
		}
		out = append(out, dl)
	}
	return out, nil
}

// ListDeadLetters implements Store, newest first.
func (s *DocumentStore) ListDeadLetters(ctx context.Context, subscriptionID string, limit int) ([]DeadLetter, error) {
	docs, err := s.docs.ListDocuments(ctx, kindDeadLetter, subscriptionID, limit)
	if err != nil {
		return nil, err
	}
	return decodeDeadLetters(docs)
}

// TakeDeadLetters implements Store, oldest first.
func (s *DocumentStore) TakeDeadLetters(ctx context.Context, subscriptionID, id string, limit int) ([]DeadLetter, error) {
	docs, err := s.docs.TakeDocuments(ctx, kindDeadLetter, subscriptionID, id, limit)
	if err != nil {
		return nil, err
	}
	if id != "" && len(docs) == 0 {
		return nil, fmt.Errorf("take dead letter %s: %w", id, store.ErrNotFound)
	}
	return decodeDeadLetters(docs)
}

// CreateSuppression implements Store.
func (s *DocumentStore) CreateSuppression(ctx context.Context, sup Suppression) error {
	if _, err := s.docs.GetDocument(ctx, kindSuppression, sup.ID); err == nil {
		return fmt.Errorf("create suppression %s: %w", sup.ID, store.ErrExists)
	}
	return s.put(ctx, kindSuppression, sup.ID, "", sup.CreatedAt, sup)
}

// DeleteSuppression implements Store.
func (s *DocumentStore) DeleteSuppression(ctx context.Context, id string) error {
	return s.docs.DeleteDocument(ctx, kindSuppression, id)
}

// ListSuppressions implements Store, oldest first.
func (s *DocumentStore) ListSuppressions(ctx context.Context) ([]Suppression, error) {
	docs, err := s.docs.ListDocuments(ctx, kindSuppression, "", 0)
	if err != nil {
		return nil, err
	}
	out := make([]Suppression, 0, len(docs))
	for i := len(docs) - 1; i >= 0; i-- {
		var sup Suppression
		if err := json.Unmarshal(docs[i].Data, &sup); err != nil {
			return nil, fmt.Errorf("decode suppression %s: %w", docs[i].ID, err)
		}
		out = append(out, sup)
	}
	return out, nil
}
