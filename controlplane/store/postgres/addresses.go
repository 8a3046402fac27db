package postgres

import (
	"sync"

	"github.com/google/uuid"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// addressCacheEntries bounds the address cache: about 100 bytes each.
const addressCacheEntries = 200_000

// addressCache remembers the attacker of source addresses committed
// earlier. The mapping of an address never changes once committed, so an
// entry never goes stale; the cache only saves the lookup query. When it
// is full it starts again empty, which costs one query per address.
type addressCache struct {
	mu      sync.Mutex
	max     int
	entries map[string]uuid.UUID
}

func newAddressCache(maxEntries int) *addressCache {
	return &addressCache{max: maxEntries, entries: make(map[string]uuid.UUID)}
}

// lookup adds the known addresses to out and returns the others.
func (c *addressCache) lookup(addresses []string, out map[string]*attackerRef) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var unknown []string
	for _, a := range addresses {
		if id, ok := c.entries[a]; ok {
			out[a] = &attackerRef{id: id}
			continue
		}
		unknown = append(unknown, a)
	}
	return unknown
}

// remember records the attackers of the committed events' addresses.
// Attackers a batch created and deleted again have no stored event, so
// they are never remembered.
func (c *addressCache) remember(stored []*apiv1.StoredEvent, attackers map[string]*attackerRef) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ev := range stored {
		address := normalizeAddress(ev.GetEvent().GetSource().GetAddress())
		a, ok := attackers[address]
		if !ok {
			continue
		}
		if _, ok := c.entries[address]; ok {
			continue
		}
		if len(c.entries) >= c.max {
			clear(c.entries)
		}
		c.entries[address] = a.id
	}
}
