package api

import (
	"context"

	"connectrpc.com/connect"

	"github.com/decnet/decnet/controlplane/campaign"
	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

// Campaigns serves reads of campaigns; the campaign worker implements
// it.
type Campaigns interface {
	Campaign(id string) (c *apiv1.Campaign, mergedFrom string, ok bool)
	// ListCampaigns returns one page of live campaigns, largest first;
	// see campaign.Worker.ListCampaigns for the order.
	ListCampaigns(q campaign.Query) (store.Page[*apiv1.Campaign], error)
}

type campaignService struct{ *API }

var _ apiv1connect.CampaignServiceHandler = (*campaignService)(nil)

// GetCampaign returns a campaign; a merged id returns its winner.
func (s *campaignService) GetCampaign(ctx context.Context, req *connect.Request[apiv1.GetCampaignRequest]) (*connect.Response[apiv1.GetCampaignResponse], error) {
	if s.campaigns == nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, store.ErrNotFound)
	}
	c, mergedFrom, ok := s.campaigns.Campaign(req.Msg.GetId())
	if !ok {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, store.ErrNotFound)
	}
	return connect.NewResponse(&apiv1.GetCampaignResponse{Campaign: c, MergedFrom: mergedFrom}), nil
}

// ListCampaigns returns live campaigns, largest first. Without a
// campaign worker it returns an empty list.
func (s *campaignService) ListCampaigns(ctx context.Context, req *connect.Request[apiv1.ListCampaignsRequest]) (*connect.Response[apiv1.ListCampaignsResponse], error) {
	if s.campaigns == nil {
		return connect.NewResponse(&apiv1.ListCampaignsResponse{}), nil
	}
	page, err := s.campaigns.ListCampaigns(campaign.Query{
		PageSize:  int(req.Msg.GetPageSize()),
		PageToken: req.Msg.GetPageToken(),
	})
	if err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	return connect.NewResponse(&apiv1.ListCampaignsResponse{Campaigns: page.Items, NextPageToken: page.NextPageToken}), nil
}
