package intel

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"sync/atomic"
	"time"
)

const (
	// maxListEntries bounds a parsed list, so a corrupt or hostile
	// download cannot take the control plane's memory. Feodo lists a few
	// hundred addresses and DROP about two thousand networks.
	maxListEntries = 1 << 20
	// Shortest prefixes a list may carry. A shorter entry would mark a
	// large part of the internet and is treated as corruption.
	minListBits4 = 8
	minListBits6 = 16
)

// listEntry is one network on a list, with the facts the list gives.
type listEntry struct {
	prefix   netip.Prefix
	evidence map[string]string
}

// prefixSet tests membership by trying each prefix length the list
// uses, longest first, so a lookup costs one map access per length.
type prefixSet struct {
	bits    []int
	entries map[netip.Prefix]listEntry
	loaded  time.Time
}

func newPrefixSet(items []listEntry, loaded time.Time) *prefixSet {
	s := &prefixSet{entries: make(map[netip.Prefix]listEntry, len(items)), loaded: loaded}
	for _, it := range items {
		if _, dup := s.entries[it.prefix]; dup {
			continue
		}
		s.entries[it.prefix] = it
		if !slices.Contains(s.bits, it.prefix.Bits()) {
			s.bits = append(s.bits, it.prefix.Bits())
		}
	}
	slices.SortFunc(s.bits, func(a, b int) int { return b - a })
	return s
}

func (s *prefixSet) lookup(addr netip.Addr) (listEntry, bool) {
	addr = addr.Unmap()
	for _, b := range s.bits {
		if b > addr.BitLen() {
			continue
		}
		p, err := addr.Prefix(b)
		if err != nil {
			continue
		}
		if e, ok := s.entries[p]; ok {
			return e, true
		}
	}
	return listEntry{}, false
}

// checkListPrefix normalises a list entry and refuses one too wide to be
// believable.
func checkListPrefix(p netip.Prefix) (netip.Prefix, error) {
	if !p.IsValid() {
		return netip.Prefix{}, fmt.Errorf("invalid prefix")
	}
	if p.Addr().Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, fmt.Errorf("prefix %s mixes ipv4-mapped and ipv6", p)
		}
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	p = p.Masked()
	minBits := minListBits6
	if p.Addr().Is4() {
		minBits = minListBits4
	}
	if p.Bits() < minBits {
		return netip.Prefix{}, fmt.Errorf("prefix %s wider than /%d", p, minBits)
	}
	return p, nil
}

// List is a provider backed by a downloaded list of addresses or
// networks, looked up locally. Membership gives the list's verdict;
// absence gives unknown. Until the first Refresh succeeds, Check fails
// with ErrNotLoaded.
type List struct {
	name     string
	urls     []*url.URL
	parse    func([]byte) ([]listEntry, error)
	interval time.Duration
	verdict  Verdict
	reason   string
	client   *http.Client
	now      func() time.Time
	set      atomic.Pointer[prefixSet]
}

var (
	_ Provider  = (*List)(nil)
	_ Refresher = (*List)(nil)
)

func newList(name string, rawURLs []string, interval time.Duration, http HTTPConfig) (*List, error) {
	if len(rawURLs) == 0 {
		return nil, fmt.Errorf("%w: %s: no list url", ErrInvalidConfig, name)
	}
	l := &List{name: name, interval: interval, client: http.client(), now: http.now()}
	for _, raw := range rawURLs {
		u, err := parseListURL(raw, name)
		if err != nil {
			return nil, err
		}
		l.urls = append(l.urls, u)
	}
	return l, nil
}

// parseListURL is parseBaseURL without the query ban: some list hosts
// select the format with a query parameter.
func parseListURL(raw, name string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %s url: %w", ErrInvalidConfig, name, err)
	}
	if u.RawQuery == "" {
		return parseBaseURL(raw, name)
	}
	q := *u
	q.RawQuery = ""
	if _, err := parseBaseURL(q.String(), name); err != nil {
		return nil, err
	}
	return u, nil
}

// Name returns the list's name ("feodo", "spamhaus_drop").
func (l *List) Name() string { return l.name }

// RefreshInterval is how often Run downloads the list again.
func (l *List) RefreshInterval() time.Duration { return l.interval }

// Len is the number of entries loaded, 0 before the first Refresh.
func (l *List) Len() int {
	if s := l.set.Load(); s != nil {
		return len(s.entries)
	}
	return 0
}

// Refresh downloads every URL of the list and swaps in the new contents.
// On any failure the previous contents stay.
func (l *List) Refresh(ctx context.Context) error {
	var all []listEntry
	for _, u := range l.urls {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return fmt.Errorf("build %s request: %w", l.name, err)
		}
		a, err := do(l.client, req, maxListBytes)
		if err != nil {
			return err
		}
		if err := statusError(a, l.now()); err != nil {
			return fmt.Errorf("download %s: %w", l.name, err)
		}
		if a.status != http.StatusOK {
			return fmt.Errorf("download %s: %w", l.name, errStatus(a.status))
		}
		items, err := l.parse(a.body)
		if err != nil {
			return fmt.Errorf("parse %s: %w", l.name, err)
		}
		if len(all)+len(items) > maxListEntries {
			return fmt.Errorf("%w: %s has over %d entries", ErrUnexpectedResponse, l.name, maxListEntries)
		}
		all = append(all, items...)
	}
	l.set.Store(newPrefixSet(all, l.now()))
	return nil
}

// Check looks addr up in the loaded list. It makes no request.
func (l *List) Check(_ context.Context, addr netip.Addr) (Result, error) {
	s := l.set.Load()
	if s == nil {
		return Result{}, ErrNotLoaded
	}
	e, ok := s.lookup(addr)
	if !ok {
		return Result{Verdict: VerdictUnknown, Reason: "not listed"}, nil
	}
	ev := make(map[string]string, len(e.evidence)+2)
	for k, v := range e.evidence {
		ev[k] = v
	}
	ev["listed_network"] = e.prefix.String()
	ev["list_loaded_at"] = s.loaded.UTC().Format(time.RFC3339)
	return Result{Verdict: l.verdict, Reason: l.reason, Evidence: ev}, nil
}
