package api

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"connectrpc.com/connect"

	"github.com/decnet/decnet/controlplane/attack"
	"github.com/decnet/decnet/controlplane/stix"
	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// Caps of one export: the newest events and credentials of the attacker.
// An identity or campaign export shares the caps among its members, each
// member keeping at least the floor, and takes at most
// exportMaxMembers attackers.
const (
	exportMaxEvents           = 10_000
	exportMaxCredentials      = 1_000
	exportMaxMembers          = 200
	exportMemberEventFloor    = 200
	exportMemberCredentialCap = 100
)

// ExportAttacker returns the attacker as a STIX 2.1 bundle or a MISP
// event, with the ATT&CK techniques its stored events match.
func (s *attackerService) ExportAttacker(ctx context.Context, req *connect.Request[apiv1.ExportAttackerRequest]) (*connect.Response[apiv1.ExportAttackerResponse], error) {
	procedure := req.Spec().Procedure
	id, err := normalizeUUID(req.Msg.GetId(), "id")
	if err != nil || id == "" {
		return nil, invalidArgument("id must be an attacker's UUID")
	}
	misp, contentType, err := exportFormat(req.Msg.GetFormat())
	if err != nil {
		return nil, err
	}
	a, err := s.store.GetAttacker(ctx, id)
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	events, creds, err := s.exportRecords(ctx, id, exportMaxEvents, exportMaxCredentials)
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	tags := attack.Replay(attack.Default(), eventsOf(events))

	var doc []byte
	if misp {
		doc, err = stix.AttackerMISP(a, events, creds, tags)
	} else {
		doc, err = stix.AttackerBundle(a, events, creds, tags)
	}
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	return connect.NewResponse(&apiv1.ExportAttackerResponse{Document: doc, ContentType: contentType}), nil
}

// exportRecords returns up to maxEvents of the attacker's newest events,
// newest first, and up to maxCreds of its credentials.
func (s *API) exportRecords(ctx context.Context, attackerID string, maxEvents, maxCreds int) ([]*apiv1.StoredEvent, []*apiv1.Credential, error) {
	var events []*apiv1.StoredEvent
	for token := ""; len(events) < maxEvents; {
		size := min(1000, maxEvents-len(events))
		page, err := s.store.ListEvents(ctx, store.EventQuery{Filter: &apiv1.EventFilter{AttackerId: attackerID}, PageSize: size, PageToken: token})
		if err != nil {
			return nil, nil, err
		}
		events = append(events, page.Items...)
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	creds, err := s.store.ListCredentials(ctx, store.CredentialQuery{AttackerID: attackerID, PageSize: maxCreds})
	if err != nil {
		return nil, nil, err
	}
	return events, creds.Items, nil
}

// exportMembers reads the records of a group's attackers for an identity
// or campaign export, with the techniques their events match. truncated
// reports attackers, events or credentials left out by the caps.
// Attackers the store no longer has (retention keeps aggregates, so this
// is rare) are skipped.
func (s *API) exportMembers(ctx context.Context, attackerIDs []string) (members []stix.Member, tags []attack.Tag, truncated bool, err error) {
	ids := slices.Clone(attackerIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) > exportMaxMembers {
		ids, truncated = ids[:exportMaxMembers], true
	}
	if len(ids) == 0 {
		return nil, nil, false, nil
	}

	perEvents := max(exportMemberEventFloor, exportMaxEvents/len(ids))
	perCreds := max(exportMemberCredentialCap, exportMaxCredentials/len(ids))

	var all []*eventv1.Event
	for _, id := range ids {
		a, err := s.store.GetAttacker(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			truncated = true
			continue
		}
		if err != nil {
			return nil, nil, false, err
		}
		events, creds, err := s.exportRecords(ctx, id, perEvents, perCreds)
		if err != nil {
			return nil, nil, false, err
		}
		if uint64(len(events)) < a.GetEventCount() && len(events) == perEvents {
			truncated = true
		}
		members = append(members, stix.Member{Attacker: a, Events: events, Credentials: creds})
		all = append(all, eventsOf(events)...)
	}

	// Rules that count (brute force over many attempts) see the group's
	// events in time order, as the live tagger saw them.
	slices.SortStableFunc(all, func(a, b *eventv1.Event) int { return a.GetTime().AsTime().Compare(b.GetTime().AsTime()) })
	return members, attack.Replay(attack.Default(), all), truncated, nil
}

// exportFormat returns the media type of an export format, or an error
// for a format this version does not know.
func exportFormat(f apiv1.ExportFormat) (misp bool, contentType string, err error) {
	switch f {
	case apiv1.ExportFormat_EXPORT_FORMAT_STIX, apiv1.ExportFormat_EXPORT_FORMAT_UNSPECIFIED:
		return false, "application/stix+json;version=2.1", nil
	case apiv1.ExportFormat_EXPORT_FORMAT_MISP:
		return true, "application/json", nil
	}
	return false, "", invalidArgument("format must be STIX or MISP")
}

// exportGroupError maps an export of a group without exportable
// attackers to FailedPrecondition.
func (s *API) exportGroupError(ctx context.Context, procedure, what string, err error) error {
	if errors.Is(err, stix.ErrNoMembers) {
		return connect.NewError(connect.CodeFailedPrecondition, fmt.Errorf("%s has no stored attacker to export", what))
	}
	return s.toConnectError(ctx, procedure, err)
}

// ExportIdentity returns an identity, the winner of a merged id, as a
// STIX 2.1 bundle or a MISP event.
func (s *identityService) ExportIdentity(ctx context.Context, req *connect.Request[apiv1.ExportIdentityRequest]) (*connect.Response[apiv1.ExportIdentityResponse], error) {
	procedure := req.Spec().Procedure
	misp, contentType, err := exportFormat(req.Msg.GetFormat())
	if err != nil {
		return nil, err
	}
	if s.identities == nil {
		return nil, s.toConnectError(ctx, procedure, store.ErrNotFound)
	}
	ident, _, ok := s.identities.Identity(req.Msg.GetId())
	if !ok {
		return nil, s.toConnectError(ctx, procedure, store.ErrNotFound)
	}
	members, tags, truncated, err := s.exportMembers(ctx, ident.GetAttackerIds())
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	var doc []byte
	if misp {
		doc, err = stix.IdentityMISP(ident, members, tags, truncated)
	} else {
		doc, err = stix.IdentityBundle(ident, members, tags, truncated)
	}
	if err != nil {
		return nil, s.exportGroupError(ctx, procedure, "identity", err)
	}
	return connect.NewResponse(&apiv1.ExportIdentityResponse{Document: doc, ContentType: contentType, IdentityId: ident.GetId()}), nil
}

// ExportCampaign returns a campaign, the winner of a merged id, as a
// STIX 2.1 bundle or a MISP event.
func (s *campaignService) ExportCampaign(ctx context.Context, req *connect.Request[apiv1.ExportCampaignRequest]) (*connect.Response[apiv1.ExportCampaignResponse], error) {
	procedure := req.Spec().Procedure
	misp, contentType, err := exportFormat(req.Msg.GetFormat())
	if err != nil {
		return nil, err
	}
	if s.campaigns == nil {
		return nil, s.toConnectError(ctx, procedure, store.ErrNotFound)
	}
	c, _, ok := s.campaigns.Campaign(req.Msg.GetId())
	if !ok {
		return nil, s.toConnectError(ctx, procedure, store.ErrNotFound)
	}

	// A member identity's attackers come from the identity worker. Two
	// member ids merged since then resolve to one identity.
	var identities []*apiv1.AttackerIdentity
	var attackers []string
	seen := map[string]bool{}
	if s.identities != nil {
		for _, id := range c.GetIdentityIds() {
			ident, _, ok := s.identities.Identity(id)
			if !ok || seen[ident.GetId()] {
				continue
			}
			seen[ident.GetId()] = true
			identities = append(identities, ident)
			attackers = append(attackers, ident.GetAttackerIds()...)
		}
	}

	members, tags, truncated, err := s.exportMembers(ctx, attackers)
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}

	var doc []byte
	if misp {
		doc, err = stix.CampaignMISP(c, identities, members, tags, truncated)
	} else {
		doc, err = stix.CampaignBundle(c, identities, members, tags, truncated)
	}
	if err != nil {
		return nil, s.exportGroupError(ctx, procedure, "campaign", err)
	}
	return connect.NewResponse(&apiv1.ExportCampaignResponse{Document: doc, ContentType: contentType, CampaignId: c.GetId()}), nil
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
