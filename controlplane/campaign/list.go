package campaign

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// Query selects live campaigns for ListCampaigns.
type Query struct {
	// PageSize is clamped by store.ClampPageSize.
	PageSize  int
	PageToken string
}

// listCursorVersion prefixes every campaign page token, so that a later
// encoding can be distinguished from this one.
const listCursorVersion = "c1"

// listKey is a campaign's position in ListCampaigns order, and a page
// token is the key of the last campaign on the page.
type listKey struct {
	identities    int
	attackers     int
	lastSeenNanos int64
	id            string
}

func keyOf(c *apiv1.Campaign) listKey {
	return listKey{
		identities:    len(c.GetIdentityIds()),
		attackers:     len(c.GetAttackerIds()),
		lastSeenNanos: c.GetLastSeen().AsTime().UnixNano(),
		id:            c.GetId(),
	}
}

// compareListKeys orders campaigns largest first: more identities, then
// more attackers, then the most recently active, then by id ascending.
func compareListKeys(a, b listKey) int {
	if c := cmp.Compare(b.identities, a.identities); c != 0 {
		return c
	}
	if c := cmp.Compare(b.attackers, a.attackers); c != 0 {
		return c
	}
	if c := cmp.Compare(b.lastSeenNanos, a.lastSeenNanos); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}

func encodeListCursor(k listKey) string {
	raw := strings.Join([]string{
		listCursorVersion,
		strconv.Itoa(k.identities),
		strconv.Itoa(k.attackers),
		strconv.FormatInt(k.lastSeenNanos, 10),
		k.id,
	}, "|")
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// decodeListCursor parses a token from encodeListCursor and returns
// store.ErrInvalidPageToken for anything else.
func decodeListCursor(token string) (listKey, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return listKey{}, fmt.Errorf("decode campaign page token: %w", store.ErrInvalidPageToken)
	}
	parts := strings.SplitN(string(raw), "|", 5)
	if len(parts) != 5 || parts[0] != listCursorVersion || parts[4] == "" {
		return listKey{}, fmt.Errorf("parse campaign page token: %w", store.ErrInvalidPageToken)
	}
	identities, errI := strconv.Atoi(parts[1])
	attackers, errA := strconv.Atoi(parts[2])
	lastSeen, errL := strconv.ParseInt(parts[3], 10, 64)
	if errI != nil || errA != nil || errL != nil || identities < 0 || attackers < 0 {
		return listKey{}, fmt.Errorf("parse campaign page token numbers: %w", store.ErrInvalidPageToken)
	}
	return listKey{identities: identities, attackers: attackers, lastSeenNanos: lastSeen, id: parts[4]}, nil
}

// ListCampaigns returns one page of the live campaigns in the order of
// compareListKeys. Campaigns merged into another are left out. It
// returns an error wrapping store.ErrInvalidPageToken for a token it did
// not issue.
//
// NOTE: a page token is a position in that order, not a snapshot, so a
// campaign that grows between two requests can be skipped or repeated.
func (w *Worker) ListCampaigns(q Query) (store.Page[*apiv1.Campaign], error) {
	var after *listKey
	if q.PageToken != "" {
		k, err := decodeListCursor(q.PageToken)
		if err != nil {
			return store.Page[*apiv1.Campaign]{}, err
		}
		after = &k
	}

	var matched []*apiv1.Campaign
	for _, v := range w.engine.Live() {
		c := describe(v)
		if after != nil && compareListKeys(keyOf(c), *after) <= 0 {
			continue
		}
		matched = append(matched, c)
	}
	slices.SortFunc(matched, func(a, b *apiv1.Campaign) int { return compareListKeys(keyOf(a), keyOf(b)) })

	size := store.ClampPageSize(q.PageSize)
	if len(matched) <= size {
		return store.Page[*apiv1.Campaign]{Items: matched}, nil
	}
	return store.Page[*apiv1.Campaign]{
		Items:         matched[:size],
		NextPageToken: encodeListCursor(keyOf(matched[size-1])),
	}, nil
}

// Campaign returns a live campaign by id, resolving a merged one to its
// winner, and the id requested when it was merged. A campaign whose
// identities all left it is not found.
func (w *Worker) Campaign(id string) (*apiv1.Campaign, string, bool) {
	live := w.engine.Resolve(id)
	if live == "" {
		return nil, "", false
	}
	for _, v := range w.engine.Live() {
		if v.ID != live {
			continue
		}
		mergedFrom := ""
		if live != id {
			mergedFrom = id
		}
		return describe(v), mergedFrom, true
	}
	return nil, "", false
}

// describe turns a live campaign into its API form.
func describe(v View) *apiv1.Campaign {
	c := &apiv1.Campaign{Id: v.ID, Created: timestamppb.New(v.Created)}
	attackers := map[string]struct{}{}
	var first, last time.Time
	for _, m := range v.Members {
		c.IdentityIds = append(c.IdentityIds, m.Identity)
		for _, a := range m.Attackers {
			attackers[a] = struct{}{}
		}
		if first.IsZero() || m.First.Before(first) {
			first = m.First
		}
		if m.Last.After(last) {
			last = m.Last
		}
	}
	slices.Sort(c.IdentityIds)
	c.AttackerIds = slices.Sorted(maps.Keys(attackers))
	for _, m := range v.Members {
		c.Members = append(c.Members, &apiv1.CampaignMember{IdentityId: m.Identity, AttackerIds: slices.Sorted(slices.Values(m.Attackers))})
	}
	slices.SortFunc(c.Members, func(a, b *apiv1.CampaignMember) int { return strings.Compare(a.GetIdentityId(), b.GetIdentityId()) })
	c.FirstSeen, c.LastSeen = timestamppb.New(first), timestamppb.New(last)

	for _, j := range v.Links {
		e := &apiv1.CampaignEvidence{IdentityId: j.A, OtherIdentityId: j.B, Score: j.Score}
		for _, t := range j.Terms {
			e.Terms = append(e.Terms, &apiv1.CampaignEvidenceTerm{Kind: t.Kind, Score: t.Score, Detail: t.Detail})
		}
		c.Evidence = append(c.Evidence, e)
	}
	return c
}
