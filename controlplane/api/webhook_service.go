package api

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/auth"
	"github.com/decnet/decnet/controlplane/webhooks"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

type webhookService struct{ *API }

var _ apiv1connect.WebhookServiceHandler = (*webhookService)(nil)

// errNoWebhooks answers when the server runs without a dispatcher.
var errNoWebhooks = connect.NewError(connect.CodeUnimplemented, errors.New("webhooks are not enabled on this server"))

var webhookFormats = map[apiv1.WebhookFormat]webhooks.Format{
	apiv1.WebhookFormat_WEBHOOK_FORMAT_UNSPECIFIED: webhooks.FormatGeneric,
	apiv1.WebhookFormat_WEBHOOK_FORMAT_GENERIC:     webhooks.FormatGeneric,
	apiv1.WebhookFormat_WEBHOOK_FORMAT_SLACK:       webhooks.FormatSlack,
	apiv1.WebhookFormat_WEBHOOK_FORMAT_TEAMS:       webhooks.FormatTeams,
	apiv1.WebhookFormat_WEBHOOK_FORMAT_DISCORD:     webhooks.FormatDiscord,
	apiv1.WebhookFormat_WEBHOOK_FORMAT_THEHIVE:     webhooks.FormatTheHive,
	apiv1.WebhookFormat_WEBHOOK_FORMAT_WAZUH:       webhooks.FormatWazuh,
}

func formatMessage(f webhooks.Format) apiv1.WebhookFormat {
	for k, v := range webhookFormats {
		if v == f && k != apiv1.WebhookFormat_WEBHOOK_FORMAT_UNSPECIFIED {
			return k
		}
	}
	return apiv1.WebhookFormat_WEBHOOK_FORMAT_UNSPECIFIED
}

func specOf(s *apiv1.WebhookSettings) webhooks.Spec {
	return webhooks.Spec{
		Name: s.GetName(), URL: s.GetUrl(), Format: webhookFormats[s.GetFormat()], Subjects: s.GetSubjects(),
		Enabled: s.GetEnabled(), RateLimit: int(s.GetRateLimitPerMinute()),
		Authorization: auth.Secret(s.GetAuthorization()), ClearAuthorization: s.GetClearAuthorization(),
	}
}

func webhookMessage(w webhooks.Subscription) *apiv1.Webhook {
	breaker := map[webhooks.BreakerState]apiv1.WebhookBreakerState{
		webhooks.BreakerClosed:   apiv1.WebhookBreakerState_WEBHOOK_BREAKER_STATE_CLOSED,
		webhooks.BreakerOpen:     apiv1.WebhookBreakerState_WEBHOOK_BREAKER_STATE_OPEN,
		webhooks.BreakerHalfOpen: apiv1.WebhookBreakerState_WEBHOOK_BREAKER_STATE_HALF_OPEN,
	}[w.Breaker]
	return &apiv1.Webhook{
		Id: w.ID, Name: w.Name, Destination: w.Destination, Format: formatMessage(w.Format), Subjects: w.Subjects,
		Enabled: w.Enabled, RateLimitPerMinute: uint32(max(w.RateLimit, 0)), HasAuthorization: w.HasAuthorization, //nolint:gosec // G115: bounded by validation
		PreviousSecretExpiresAt: timestampOrNil(w.PreviousSecretExpiresAt), CreatedAt: timestampOrNil(w.CreatedAt),
		UpdatedAt: timestampOrNil(w.UpdatedAt), Breaker: breaker,
		ConsecutiveFailures: uint32(max(w.ConsecutiveFailures, 0)), Queued: uint32(max(w.Queued, 0)), //nolint:gosec // G115: small counters
	}
}

func deliveryMessage(d webhooks.Delivery) *apiv1.WebhookDelivery {
	outcome := map[webhooks.Outcome]apiv1.WebhookOutcome{
		webhooks.OutcomeDelivered: apiv1.WebhookOutcome_WEBHOOK_OUTCOME_DELIVERED,
		webhooks.OutcomeRetry:     apiv1.WebhookOutcome_WEBHOOK_OUTCOME_RETRY,
		webhooks.OutcomeFailed:    apiv1.WebhookOutcome_WEBHOOK_OUTCOME_FAILED,
	}[d.Outcome]
	return &apiv1.WebhookDelivery{
		Id: d.ID, WebhookId: d.SubscriptionID, NoticeId: d.NoticeID, Subject: d.Subject, Attempt: uint32(max(d.Attempt, 0)), //nolint:gosec // G115: small counter
		Time: timestampOrNil(d.Time), StatusCode: uint32(max(d.StatusCode, 0)), Duration: durationpb.New(d.Duration), //nolint:gosec // G115: HTTP status
		Outcome: outcome, Error: d.Error, Test: d.Test,
	}
}

func suppressionMessage(s webhooks.Suppression) *apiv1.WebhookSuppression {
	out := &apiv1.WebhookSuppression{
		Id: s.ID, WebhookId: s.SubscriptionID, AgentId: s.AgentID, Decky: s.Decky, Reason: s.Reason,
		NotBefore: timestampOrNil(s.NotBefore), NotAfter: timestampOrNil(s.NotAfter), CreatedAt: timestampOrNil(s.CreatedAt),
	}
	if s.Prefix.IsValid() {
		out.Prefix = s.Prefix.String()
	}
	return out
}

func timeOf(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime()
}

// CreateWebhook creates a subscription and returns its secret once.
func (s *webhookService) CreateWebhook(ctx context.Context, req *connect.Request[apiv1.CreateWebhookRequest]) (*connect.Response[apiv1.CreateWebhookResponse], error) {
	if s.webhooks == nil {
		return nil, errNoWebhooks
	}
	w, secret, err := s.webhooks.Create(ctx, specOf(req.Msg.GetSettings()))
	if err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	return connect.NewResponse(&apiv1.CreateWebhookResponse{Webhook: webhookMessage(w), SigningSecret: secret.Reveal()}), nil
}

// UpdateWebhook replaces a subscription's settings.
func (s *webhookService) UpdateWebhook(ctx context.Context, req *connect.Request[apiv1.UpdateWebhookRequest]) (*connect.Response[apiv1.UpdateWebhookResponse], error) {
	if s.webhooks == nil {
		return nil, errNoWebhooks
	}
	w, err := s.webhooks.Update(ctx, req.Msg.GetId(), specOf(req.Msg.GetSettings()))
	if err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	return connect.NewResponse(&apiv1.UpdateWebhookResponse{Webhook: webhookMessage(w)}), nil
}

// DeleteWebhook removes a subscription with its log and dead letters.
func (s *webhookService) DeleteWebhook(ctx context.Context, req *connect.Request[apiv1.DeleteWebhookRequest]) (*connect.Response[apiv1.DeleteWebhookResponse], error) {
	if s.webhooks == nil {
		return nil, errNoWebhooks
	}
	if err := s.webhooks.Delete(ctx, req.Msg.GetId()); err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	return connect.NewResponse(&apiv1.DeleteWebhookResponse{}), nil
}

// ListWebhooks returns the subscriptions with their breaker states.
func (s *webhookService) ListWebhooks(ctx context.Context, req *connect.Request[apiv1.ListWebhooksRequest]) (*connect.Response[apiv1.ListWebhooksResponse], error) {
	if s.webhooks == nil {
		return connect.NewResponse(&apiv1.ListWebhooksResponse{}), nil
	}
	list, err := s.webhooks.List(ctx)
	if err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	out := make([]*apiv1.Webhook, 0, len(list))
	for _, w := range list {
		out = append(out, webhookMessage(w))
	}
	return connect.NewResponse(&apiv1.ListWebhooksResponse{Webhooks: out}), nil
}

// RotateWebhookSecret returns a new signing secret once. An unset grace
// takes the default; an explicit zero ends the old secret now.
func (s *webhookService) RotateWebhookSecret(ctx context.Context, req *connect.Request[apiv1.RotateWebhookSecretRequest]) (*connect.Response[apiv1.RotateWebhookSecretResponse], error) {
	if s.webhooks == nil {
		return nil, errNoWebhooks
	}
	grace := time.Duration(0)
	if g := req.Msg.GetGrace(); g != nil {
		if grace = g.AsDuration(); grace == 0 {
			grace = -1
		}
	}
	w, secret, err := s.webhooks.Rotate(ctx, req.Msg.GetId(), grace)
	if err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	return connect.NewResponse(&apiv1.RotateWebhookSecretResponse{Webhook: webhookMessage(w), SigningSecret: secret.Reveal()}), nil
}

// TestWebhook sends a test notice now.
func (s *webhookService) TestWebhook(ctx context.Context, req *connect.Request[apiv1.TestWebhookRequest]) (*connect.Response[apiv1.TestWebhookResponse], error) {
	if s.webhooks == nil {
		return nil, errNoWebhooks
	}
	d, err := s.webhooks.Test(ctx, req.Msg.GetId())
	if err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	return connect.NewResponse(&apiv1.TestWebhookResponse{Delivery: deliveryMessage(d)}), nil
}

// ListWebhookDeliveries returns the delivery log, newest first.
func (s *webhookService) ListWebhookDeliveries(ctx context.Context, req *connect.Request[apiv1.ListWebhookDeliveriesRequest]) (*connect.Response[apiv1.ListWebhookDeliveriesResponse], error) {
	if s.webhooks == nil {
		return connect.NewResponse(&apiv1.ListWebhookDeliveriesResponse{}), nil
	}
	list, err := s.webhooks.ListDeliveries(ctx, webhooks.DeliveryQuery{
		SubscriptionID: req.Msg.GetWebhookId(), NoticeID: req.Msg.GetNoticeId(), Limit: int(min(req.Msg.GetLimit(), 1000)),
	})
	if err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	out := make([]*apiv1.WebhookDelivery, 0, len(list))
	for _, d := range list {
		out = append(out, deliveryMessage(d))
	}
	return connect.NewResponse(&apiv1.ListWebhookDeliveriesResponse{Deliveries: out}), nil
}

// ListWebhookDeadLetters returns undelivered notices.
func (s *webhookService) ListWebhookDeadLetters(ctx context.Context, req *connect.Request[apiv1.ListWebhookDeadLettersRequest]) (*connect.Response[apiv1.ListWebhookDeadLettersResponse], error) {
	if s.webhooks == nil {
		return connect.NewResponse(&apiv1.ListWebhookDeadLettersResponse{}), nil
	}
	list, err := s.webhooks.ListDeadLetters(ctx, req.Msg.GetWebhookId(), int(min(req.Msg.GetLimit(), 1000)))
	if err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	out := make([]*apiv1.WebhookDeadLetter, 0, len(list))
	for _, dl := range list {
		m := &apiv1.WebhookDeadLetter{
			Id: dl.ID, WebhookId: dl.SubscriptionID, Notice: dl.Notice, Reason: dl.Reason, Attempts: uint32(max(dl.Attempts, 0)), //nolint:gosec // G115: small counter
			StatusCode: uint32(max(dl.StatusCode, 0)), Error: dl.Error, CreatedAt: timestampOrNil(dl.CreatedAt), //nolint:gosec // G115: HTTP status
		}
		if in := dl.Incident; in != nil {
			subjects := make(map[string]uint32, len(in.Subjects))
			for k, v := range in.Subjects {
				subjects[k] = uint32(max(v, 0)) //nolint:gosec // G115: counts
			}
			m.Incident = &apiv1.WebhookIncident{
				AttackerId: in.AttackerID, Count: uint32(max(in.Count, 0)), First: timestampOrNil(in.First), Last: timestampOrNil(in.Last), //nolint:gosec // G115: counts
				Subjects: subjects, Deckies: in.Deckies, Addresses: in.Addresses,
			}
		}
		out = append(out, m)
	}
	return connect.NewResponse(&apiv1.ListWebhookDeadLettersResponse{DeadLetters: out}), nil
}

// ReplayWebhookDeadLetters queues dead letters again.
func (s *webhookService) ReplayWebhookDeadLetters(ctx context.Context, req *connect.Request[apiv1.ReplayWebhookDeadLettersRequest]) (*connect.Response[apiv1.ReplayWebhookDeadLettersResponse], error) {
	if s.webhooks == nil {
		return nil, errNoWebhooks
	}
	n, err := s.webhooks.ReplayDeadLetters(ctx, req.Msg.GetWebhookId(), req.Msg.GetDeadLetterId())
	if err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	return connect.NewResponse(&apiv1.ReplayWebhookDeadLettersResponse{Queued: uint32(max(n, 0))}), nil //nolint:gosec // G115: bounded by the queue
}

// CreateWebhookSuppression adds a suppression rule.
func (s *webhookService) CreateWebhookSuppression(ctx context.Context, req *connect.Request[apiv1.CreateWebhookSuppressionRequest]) (*connect.Response[apiv1.CreateWebhookSuppressionResponse], error) {
	if s.webhooks == nil {
		return nil, errNoWebhooks
	}
	in := req.Msg.GetSuppression()
	rule := webhooks.Suppression{
		SubscriptionID: in.GetWebhookId(), AgentID: in.GetAgentId(), Decky: in.GetDecky(), Reason: in.GetReason(),
		NotBefore: timeOf(in.GetNotBefore()), NotAfter: timeOf(in.GetNotAfter()),
	}
	if in.GetPrefix() != "" {
		prefix, err := netip.ParsePrefix(in.GetPrefix())
		if err != nil {
			return nil, invalidArgument("prefix must be a CIDR such as 198.51.100.0/24")
		}
		rule.Prefix = prefix.Masked()
	}
	created, err := s.webhooks.AddSuppression(ctx, rule)
	if err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	return connect.NewResponse(&apiv1.CreateWebhookSuppressionResponse{Suppression: suppressionMessage(created)}), nil
}

// DeleteWebhookSuppression removes a suppression rule.
func (s *webhookService) DeleteWebhookSuppression(ctx context.Context, req *connect.Request[apiv1.DeleteWebhookSuppressionRequest]) (*connect.Response[apiv1.DeleteWebhookSuppressionResponse], error) {
	if s.webhooks == nil {
		return nil, errNoWebhooks
	}
	if err := s.webhooks.DeleteSuppression(ctx, req.Msg.GetId()); err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	return connect.NewResponse(&apiv1.DeleteWebhookSuppressionResponse{}), nil
}

// ListWebhookSuppressions returns the suppression rules.
func (s *webhookService) ListWebhookSuppressions(ctx context.Context, req *connect.Request[apiv1.ListWebhookSuppressionsRequest]) (*connect.Response[apiv1.ListWebhookSuppressionsResponse], error) {
	if s.webhooks == nil {
		return connect.NewResponse(&apiv1.ListWebhookSuppressionsResponse{}), nil
	}
	list, err := s.webhooks.ListSuppressions(ctx)
	if err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	out := make([]*apiv1.WebhookSuppression, 0, len(list))
	for _, r := range list {
		out = append(out, suppressionMessage(r))
	}
	return connect.NewResponse(&apiv1.ListWebhookSuppressionsResponse{Suppressions: out}), nil
}
