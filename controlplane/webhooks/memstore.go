package webhooks

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// memDeliveriesPerSubscription bounds the in-process audit log: enough
// for the last few hours of a busy subscription.
const memDeliveriesPerSubscription = 1000

// memDeadLettersPerSubscription bounds the in-process dead letters; the
// oldest go first.
const memDeadLettersPerSubscription = 10000

// MemoryStore is the in-process Store, for tests and for a control plane
// that needs no persistence. Its logs are bounded per subscription.
type MemoryStore struct {
	mu           sync.Mutex
	subs         []Record
	deliveries   map[string][]Delivery
	deadLetters  []DeadLetter
	suppressions []Suppression
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{deliveries: map[string][]Delivery{}}
}

func (m *MemoryStore) index(id string) int {
	return slices.IndexFunc(m.subs, func(r Record) bool { return r.ID == id })
}

// CreateSubscription implements Store.
func (m *MemoryStore) CreateSubscription(_ context.Context, r Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.index(r.ID) >= 0 {
		return fmt.Errorf("create subscription %s: %w", r.ID, store.ErrExists)
	}
	m.subs = append(m.subs, cloneRecord(r))
	return nil
}

// UpdateSubscription implements Store.
func (m *MemoryStore) UpdateSubscription(_ context.Context, r Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := m.index(r.ID)
	if i < 0 {
		return fmt.Errorf("update subscription %s: %w", r.ID, store.ErrNotFound)
	}
	m.subs[i] = cloneRecord(r)
	return nil
}

// DeleteSubscription implements Store.
func (m *MemoryStore) DeleteSubscription(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := m.index(id)
	if i < 0 {
		return fmt.Errorf("delete subscription %s: %w", id, store.ErrNotFound)
	}
	m.subs = slices.Delete(m.subs, i, i+1)
	delete(m.deliveries, id)
	m.deadLetters = slices.DeleteFunc(m.deadLetters, func(dl DeadLetter) bool { return dl.SubscriptionID == id })
	return nil
}

// GetSubscription implements Store.
func (m *MemoryStore) GetSubscription(_ context.Context, id string) (Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := m.index(id)
	if i < 0 {
		return Record{}, fmt.Errorf("get subscription %s: %w", id, store.ErrNotFound)
	}
	return cloneRecord(m.subs[i]), nil
}

// ListSubscriptions implements Store.
func (m *MemoryStore) ListSubscriptions(_ context.Context) ([]Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Record, 0, len(m.subs))
	for _, r := range m.subs {
		out = append(out, cloneRecord(r))
	}
	return out, nil
}

// AddDelivery implements Store.
func (m *MemoryStore) AddDelivery(_ context.Context, d Delivery) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	log := append(m.deliveries[d.SubscriptionID], d)
	if over := len(log) - memDeliveriesPerSubscription; over > 0 {
		log = slices.Delete(log, 0, over)
	}
	m.deliveries[d.SubscriptionID] = log
	return nil
}

// ListDeliveries implements Store.
func (m *MemoryStore) ListDeliveries(_ context.Context, q DeliveryQuery) ([]Delivery, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var all []Delivery
	for id, log := range m.deliveries {
		if q.SubscriptionID != "" && id != q.SubscriptionID {
			continue
		}
		for _, d := range log {
			if q.NoticeID == "" || d.NoticeID == q.NoticeID {
				all = append(all, d)
			}
		}
	}
	// Newest first; ids are UUIDv7, so they break ties in time order.
	slices.SortFunc(all, func(a, b Delivery) int {
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		switch {
		case a.ID > b.ID:
			return -1
		case a.ID < b.ID:
			return 1
		}
		return 0
	})
	if len(all) > limit {
		all = all[:limit]
	}
	return all, nil
}

// AddDeadLetter implements Store.
func (m *MemoryStore) AddDeadLetter(_ context.Context, dl DeadLetter) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.deadLetters = append(m.deadLetters, cloneDeadLetter(dl))
	count := 0
	for _, x := range m.deadLetters {
		if x.SubscriptionID == dl.SubscriptionID {
			count++
		}
	}
	if count > memDeadLettersPerSubscription {
		i := slices.IndexFunc(m.deadLetters, func(x DeadLetter) bool { return x.SubscriptionID == dl.SubscriptionID })
		m.deadLetters = slices.Delete(m.deadLetters, i, i+1)
	}
	return nil
}

// ListDeadLetters implements Store.
func (m *MemoryStore) ListDeadLetters(_ context.Context, subscriptionID string, limit int) ([]DeadLetter, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []DeadLetter
	for _, dl := range m.deadLetters {
		if limit > 0 && len(out) == limit {
			break
		}
		if subscriptionID == "" || dl.SubscriptionID == subscriptionID {
			out = append(out, cloneDeadLetter(dl))
		}
	}
	return out, nil
}

// TakeDeadLetters implements Store.
func (m *MemoryStore) TakeDeadLetters(_ context.Context, subscriptionID, id string, limit int) ([]DeadLetter, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []DeadLetter
	kept := m.deadLetters[:0:0]
	for _, dl := range m.deadLetters {
		take := dl.SubscriptionID == subscriptionID && (id == "" || dl.ID == id) && (limit <= 0 || len(out) < limit)
		if take {
			out = append(out, dl)
		} else {
			kept = append(kept, dl)
		}
	}
	if id != "" && len(out) == 0 {
		return nil, fmt.Errorf("take dead letter %s: %w", id, store.ErrNotFound)
	}
	m.deadLetters = kept
	return out, nil
}

// CreateSuppression implements Store.
func (m *MemoryStore) CreateSuppression(_ context.Context, s Suppression) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if slices.ContainsFunc(m.suppressions, func(x Suppression) bool { return x.ID == s.ID }) {
		return fmt.Errorf("create suppression %s: %w", s.ID, store.ErrExists)
	}
	m.suppressions = append(m.suppressions, s)
	return nil
}

// DeleteSuppression implements Store.
func (m *MemoryStore) DeleteSuppression(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := slices.IndexFunc(m.suppressions, func(x Suppression) bool { return x.ID == id })
	if i < 0 {
		return fmt.Errorf("delete suppression %s: %w", id, store.ErrNotFound)
	}
	m.suppressions = slices.Delete(m.suppressions, i, i+1)
	return nil
}

// ListSuppressions implements Store.
func (m *MemoryStore) ListSuppressions(_ context.Context) ([]Suppression, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.suppressions), nil
}

func cloneRecord(r Record) Record {
	r.SealedURL = slices.Clone(r.SealedURL)
	r.Subjects = slices.Clone(r.Subjects)
	r.SealedSecret = slices.Clone(r.SealedSecret)
	r.SealedPrevious = slices.Clone(r.SealedPrevious)
	r.SealedAuthorization = slices.Clone(r.SealedAuthorization)
	return r
}

func cloneDeadLetter(dl DeadLetter) DeadLetter {
	if dl.Notice != nil {
		dl.Notice = proto.Clone(dl.Notice).(*apiv1.Notice)
	}
	if dl.Incident != nil {
		inc := dl.Incident.clone()
		dl.Incident = &inc
	}
	return dl
}
