package api

import (
	"context"

	"connectrpc.com/connect"

	"github.com/decnet/decnet/controlplane/attack"
	"github.com/decnet/decnet/controlplane/stix"
	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// Caps of one export: the newest events and credentials of the attacker.
const (
	exportMaxEvents      = 10_000
	exportMaxCredentials = 1_000
)

// ExportAttacker returns the attacker as a STIX 2.1 bundle or a MISP
// event, with the ATT&CK techniques its stored events match.
func (s *attackerService) ExportAttacker(ctx context.Context, req *connect.Request[apiv1.ExportAttackerRequest]) (*connect.Response[apiv1.ExportAttackerResponse], error) {
	procedure := req.Spec().Procedure
	id, err := normalizeUUID(req.Msg.GetId(), "id")
	if err != nil || id == "" {
		return nil, invalidArgument("id must be an attacker's UUID")
	}
	a, err := s.store.GetAttacker(ctx, id)
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	var events []*apiv1.StoredEvent
	for token := ""; len(events) < exportMaxEvents; {
		page, err := s.store.ListEvents(ctx, store.EventQuery{Filter: &apiv1.EventFilter{AttackerId: id}, PageSize: 1000, PageToken: token})
		if err != nil {
			return nil, s.toConnectError(ctx, procedure, err)
		}
		events = append(events, page.Items...)
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	creds, err := s.store.ListCredentials(ctx, store.CredentialQuery{AttackerID: id, PageSize: exportMaxCredentials})
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	tags := attack.Replay(attack.Default(), eventsOf(events))

	var doc []byte
	contentType := "application/stix+json;version=2.1"
	switch req.Msg.GetFormat() {
	case apiv1.ExportFormat_EXPORT_FORMAT_STIX, apiv1.ExportFormat_EXPORT_FORMAT_UNSPECIFIED:
		doc, err = stix.AttackerBundle(a, events, creds.Items, tags)
	case apiv1.ExportFormat_EXPORT_FORMAT_MISP:
		doc, err = stix.AttackerMISP(a, events, creds.Items, tags)
		contentType = "application/json"
	default:
		return nil, invalidArgument("format must be STIX or MISP")
	}
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	return connect.NewResponse(&apiv1.ExportAttackerResponse{Document: doc, ContentType: contentType}), nil
}

// eventsOf returns the events of a newest-first page, oldest first, as
// Replay wants them.
func eventsOf(stored []*apiv1.StoredEvent) []*eventv1.Event {
	out := make([]*eventv1.Event, len(stored))
	for i, e := range stored {
		out[len(stored)-1-i] = e.GetEvent()
	}
	return out
}
