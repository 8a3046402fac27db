package api

import (
	"context"
	"fmt"
	"strings"

	"connectrpc.com/connect"

	"github.com/decnet/decnet/controlplane/attack"
	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

type attackerService struct{ *API }

var _ apiv1connect.AttackerServiceHandler = (*attackerService)(nil)

// ListAttackers returns the attackers the request selects, in its order.
func (s *attackerService) ListAttackers(ctx context.Context, req *connect.Request[apiv1.ListAttackersRequest]) (*connect.Response[apiv1.ListAttackersResponse], error) {
	procedure := req.Spec().Procedure
	q, err := attackerQuery(req.Msg)
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}

	page, err := s.store.ListAttackers(ctx, q)
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	return connect.NewResponse(&apiv1.ListAttackersResponse{Attackers: page.Items, NextPageToken: page.NextPageToken}), nil
}

// attackerOrders maps each order of the API to the store's sort and
// direction.
var attackerOrders = map[apiv1.AttackerOrder]struct {
	sort      store.AttackerSort
	ascending bool
}{
	apiv1.AttackerOrder_ATTACKER_ORDER_UNSPECIFIED:             {store.SortLastSeen, false},
	apiv1.AttackerOrder_ATTACKER_ORDER_LAST_SEEN_DESC:          {store.SortLastSeen, false},
	apiv1.AttackerOrder_ATTACKER_ORDER_LAST_SEEN_ASC:           {store.SortLastSeen, true},
	apiv1.AttackerOrder_ATTACKER_ORDER_FIRST_SEEN_DESC:         {store.SortFirstSeen, false},
	apiv1.AttackerOrder_ATTACKER_ORDER_FIRST_SEEN_ASC:          {store.SortFirstSeen, true},
	apiv1.AttackerOrder_ATTACKER_ORDER_EVENT_COUNT_DESC:        {store.SortEventCount, false},
	apiv1.AttackerOrder_ATTACKER_ORDER_EVENT_COUNT_ASC:         {store.SortEventCount, true},
	apiv1.AttackerOrder_ATTACKER_ORDER_AUTH_ATTEMPT_COUNT_DESC: {store.SortAuthAttemptCount, false},
	apiv1.AttackerOrder_ATTACKER_ORDER_AUTH_ATTEMPT_COUNT_ASC:  {store.SortAuthAttemptCount, true},
}

// maxAddressPrefix is the length of the longest address text, an IPv6
// address with an embedded IPv4 one; a longer prefix matches nothing.
const maxAddressPrefix = len("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255")

// attackerQuery validates a list request and converts it to a store
// query. It returns an InvalidArgument error for a malformed field.
func attackerQuery(msg *apiv1.ListAttackersRequest) (store.AttackerQuery, error) {
	address, err := normalizeIP(msg.GetAddress(), "address")
	if err != nil {
		return store.AttackerQuery{}, err
	}
	prefix, err := normalizeAddressPrefix(msg.GetAddressPrefix())
	if err != nil {
		return store.AttackerQuery{}, err
	}
	order, ok := attackerOrders[msg.GetOrderBy()]
	if !ok {
		return store.AttackerQuery{}, invalidArgument("order_by is not a known order")
	}

	q := store.AttackerQuery{
		Address:       address,
		AddressPrefix: prefix,
		Service:       msg.GetService(),
		Decky:         msg.GetDecky(),
		Principal:     msg.GetPrincipal(),
		MinEventCount: msg.GetMinEventCount(),
		Sort:          order.sort,
		Ascending:     order.ascending,
		PageSize:      int(msg.GetPageSize()),
		PageToken:     msg.GetPageToken(),
	}
	if since := msg.GetSeenSince(); since != nil {
		if since.CheckValid() != nil {
			return store.AttackerQuery{}, invalidArgument("seen_since is not a valid timestamp")
		}
		q.SeenSince = since.AsTime()
	}
	if until := msg.GetSeenUntil(); until != nil {
		if until.CheckValid() != nil {
			return store.AttackerQuery{}, invalidArgument("seen_until is not a valid timestamp")
		}
		q.SeenUntil = until.AsTime()
	}
	if !q.SeenSince.IsZero() && !q.SeenUntil.IsZero() && !q.SeenSince.Before(q.SeenUntil) {
		return store.AttackerQuery{}, invalidArgument("seen_until must be after seen_since")
	}
	return q, nil
}

// normalizeAddressPrefix lowercases an address prefix, as stored addresses
// are, and rejects characters no address text contains.
func normalizeAddressPrefix(prefix string) (string, error) {
	if len(prefix) > maxAddressPrefix {
		return "", invalidArgument(fmt.Sprintf("address_prefix is longer than %d characters", maxAddressPrefix))
	}
	for _, r := range prefix {
		if !strings.ContainsRune("0123456789abcdefABCDEF.:", r) {
			return "", invalidArgument("address_prefix may contain only hex digits, \".\" and \":\"")
		}
	}
	return strings.ToLower(prefix), nil
}

// GetAttacker returns one attacker: NotFound for an unknown id,
// InvalidArgument for an id that is not a UUID.
func (s *attackerService) GetAttacker(ctx context.Context, req *connect.Request[apiv1.GetAttackerRequest]) (*connect.Response[apiv1.GetAttackerResponse], error) {
	procedure := req.Spec().Procedure
	if req.Msg.GetId() == "" {
		return nil, s.toConnectError(ctx, procedure, invalidArgument("id is required"))
	}
	id, err := normalizeUUID(req.Msg.GetId(), "id")
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}

	a, err := s.store.GetAttacker(ctx, id)
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	if a.Techniques, err = attack.AttackerTechniques(ctx, s.store, id); err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	if a.Behaviour, a.Traversal, err = attackerBehaviour(ctx, s.store, id); err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	return connect.NewResponse(&apiv1.GetAttackerResponse{Attacker: a}), nil
}
