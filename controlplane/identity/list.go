package identity

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// IdentityQuery selects live identities for ListIdentities.
type IdentityQuery struct {
	// MinAttackers leaves out identities with fewer attackers. Values
	// below 1 mean 1.
	MinAttackers int
	// PageSize is clamped by store.ClampPageSize.
	PageSize  int
	PageToken string
}

// listCursorVersion prefixes every identity page token, so that a later
// encoding can be distinguished from this one.
const listCursorVersion = "i1"

// listKey is an identity's position in ListIdentities order, and a page
// token is the key of the last identity on the page.
type listKey struct {
	attackers    int
	sessions     uint32
	createdNanos int64
	id           string
}

func keyOf(i *apiv1.AttackerIdentity) listKey {
	return listKey{
		attackers:    len(i.GetAttackerIds()),
		sessions:     i.GetSessions(),
		createdNanos: i.GetCreated().AsTime().UnixNano(),
		id:           i.GetId(),
	}
}

// compareListKeys orders identities largest first: more attackers, then
// more sessions, then newer, then by id ascending.
func compareListKeys(a, b listKey) int {
	if c := cmp.Compare(b.attackers, a.attackers); c != 0 {
		return c
	}
	if c := cmp.Compare(b.sessions, a.sessions); c != 0 {
		return c
	}
	if c := cmp.Compare(b.createdNanos, a.createdNanos); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}

func encodeListCursor(k listKey) string {
	raw := strings.Join([]string{
		listCursorVersion,
		strconv.Itoa(k.attackers),
		strconv.FormatUint(uint64(k.sessions), 10),
		strconv.FormatInt(k.createdNanos, 10),
		k.id,
	}, "|")
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// decodeListCursor parses a token from encodeListCursor and returns
// store.ErrInvalidPageToken for anything else.
func decodeListCursor(token string) (listKey, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return listKey{}, fmt.Errorf("decode identity page token: %w", store.ErrInvalidPageToken)
	}
	parts := strings.SplitN(string(raw), "|", 5)
	if len(parts) != 5 || parts[0] != listCursorVersion || parts[4] == "" {
		return listKey{}, fmt.Errorf("parse identity page token: %w", store.ErrInvalidPageToken)
	}
	attackers, errA := strconv.Atoi(parts[1])
	sessions, errS := strconv.ParseUint(parts[2], 10, 32)
	created, errC := strconv.ParseInt(parts[3], 10, 64)
	if errA != nil || errS != nil || errC != nil || attackers < 0 {
		return listKey{}, fmt.Errorf("parse identity page token numbers: %w", store.ErrInvalidPageToken)
	}
	return listKey{attackers: attackers, sessions: uint32(sessions), createdNanos: created, id: parts[4]}, nil
}

// ListIdentities returns one page of the live identities with at least
// q.MinAttackers attackers, in the order of compareListKeys. Identities
// merged into another are left out. It returns an error wrapping
// store.ErrInvalidPageToken for a token it did not issue.
//
// NOTE: a page token is a position in that order, not a snapshot. An
// identity that gains attackers or sessions between two requests moves
// ahead of the position, so the next page skips it, and one that loses
// some can appear on two pages.
func (w *Worker) ListIdentities(q IdentityQuery) (store.Page[*apiv1.AttackerIdentity], error) {
	var after *listKey
	if q.PageToken != "" {
		k, err := decodeListCursor(q.PageToken)
		if err != nil {
			return store.Page[*apiv1.AttackerIdentity]{}, err
		}
		after = &k
	}
	minAttackers := max(q.MinAttackers, 1)

	var matched []*apiv1.AttackerIdentity
	for _, identity := range w.liveIdentities() {
		if len(identity.GetAttackerIds()) < minAttackers {
			continue
		}
		if after != nil && compareListKeys(keyOf(identity), *after) <= 0 {
			continue
		}
		matched = append(matched, identity)
	}
	slices.SortFunc(matched, func(a, b *apiv1.AttackerIdentity) int { return compareListKeys(keyOf(a), keyOf(b)) })

	size := store.ClampPageSize(q.PageSize)
	if len(matched) <= size {
		return store.Page[*apiv1.AttackerIdentity]{Items: matched}, nil
	}
	return store.Page[*apiv1.AttackerIdentity]{
		Items:         matched[:size],
		NextPageToken: encodeListCursor(keyOf(matched[size-1])),
	}, nil
}

// liveIdentities describes every live identity with its attackers and
// session count, from one copy of the session map and one read of the
// engine. Like AttackerIdentity, it never calls the engine with w.mu
// held.
func (w *Worker) liveIdentities() []*apiv1.AttackerIdentity {
	var sessionIDs, attackerIDs []string
	w.mu.Lock()
	for attacker, sessions := range w.sessions {
		for s := range sessions {
			sessionIDs = append(sessionIDs, s)
			attackerIDs = append(attackerIDs, attacker)
		}
	}
	w.mu.Unlock()

	live, owners := w.engine.Live(sessionIDs)
	out := make([]*apiv1.AttackerIdentity, 0, len(live))
	byID := make(map[string]*apiv1.AttackerIdentity, len(live))
	members := make(map[string]map[string]struct{}, len(live))
	for _, rec := range live {
		identity := &apiv1.AttackerIdentity{Id: rec.ID, Created: timestamppb.New(rec.Created)}
		out = append(out, identity)
		byID[rec.ID] = identity
		members[rec.ID] = map[string]struct{}{}
	}

	for k, owner := range owners {
		identity, ok := byID[owner]
		if !ok {
			continue
		}
		identity.Sessions++
		members[owner][attackerIDs[k]] = struct{}{}
	}
	for _, identity := range out {
		identity.AttackerIds = slices.Sorted(maps.Keys(members[identity.GetId()]))
	}
	return out
}
