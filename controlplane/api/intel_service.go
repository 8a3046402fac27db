package api

import (
	"context"
	"net/netip"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/intel"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

type intelService struct{ *API }

var _ apiv1connect.IntelServiceHandler = (*intelService)(nil)

var verdictMessages = map[intel.Verdict]apiv1.IntelVerdict{
	intel.VerdictUnknown:    apiv1.IntelVerdict_INTEL_VERDICT_UNKNOWN,
	intel.VerdictBenign:     apiv1.IntelVerdict_INTEL_VERDICT_BENIGN,
	intel.VerdictSuspicious: apiv1.IntelVerdict_INTEL_VERDICT_SUSPICIOUS,
	intel.VerdictMalicious:  apiv1.IntelVerdict_INTEL_VERDICT_MALICIOUS,
}

// GetAttackerIntel returns a report per address of the attacker.
func (s *intelService) GetAttackerIntel(ctx context.Context, req *connect.Request[apiv1.GetAttackerIntelRequest]) (*connect.Response[apiv1.GetAttackerIntelResponse], error) {
	verdict, reports, err := s.attackerIntel(ctx, req.Spec().Procedure, req.Msg.GetAttackerId(), false)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&apiv1.GetAttackerIntelResponse{Verdict: verdict, Reports: reports}), nil
}

// RefreshAttackerIntel drops the cached reports and looks up again.
func (s *intelService) RefreshAttackerIntel(ctx context.Context, req *connect.Request[apiv1.RefreshAttackerIntelRequest]) (*connect.Response[apiv1.RefreshAttackerIntelResponse], error) {
	verdict, reports, err := s.attackerIntel(ctx, req.Spec().Procedure, req.Msg.GetAttackerId(), true)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&apiv1.RefreshAttackerIntelResponse{Verdict: verdict, Reports: reports}), nil
}

func (s *intelService) attackerIntel(ctx context.Context, procedure, attackerID string, refresh bool) (apiv1.IntelVerdict, []*apiv1.IntelReport, error) {
	id, err := normalizeUUID(attackerID, "attacker_id")
	if err != nil || id == "" {
		return 0, nil, invalidArgument("attacker_id must be an attacker's UUID")
	}
	a, err := s.store.GetAttacker(ctx, id)
	if err != nil {
		return 0, nil, s.toConnectError(ctx, procedure, err)
	}
	var results []intel.Result
	var out []*apiv1.IntelReport
	for _, address := range a.GetAddresses() {
		addr, err := netip.ParseAddr(address)
		if err != nil {
			continue
		}
		report := intel.Report{Addr: addr, Verdict: intel.VerdictUnknown, Skipped: "no provider configured"}
		if s.intel != nil {
			if refresh {
				if err := s.intel.Forget(ctx, addr); err != nil {
					return 0, nil, s.toConnectError(ctx, procedure, err)
				}
			}
			if report, err = s.intel.Lookup(ctx, addr); err != nil {
				return 0, nil, s.toConnectError(ctx, procedure, err)
			}
		}
		results = append(results, intel.Result{Verdict: report.Verdict})
		out = append(out, reportMessage(report))
	}
	return verdictMessages[intel.Aggregate(results)], out, nil
}

func reportMessage(r intel.Report) *apiv1.IntelReport {
	m := &apiv1.IntelReport{
		Address: r.Addr.String(), Verdict: verdictMessages[r.Verdict], Skipped: r.Skipped, Cached: r.Cached,
	}
	if !r.CheckedAt.IsZero() {
		m.CheckedAt = timestamppb.New(r.CheckedAt)
	}
	for _, res := range r.Results {
		m.Results = append(m.Results, &apiv1.IntelResult{
			Provider: res.Provider, Verdict: verdictMessages[res.Verdict], Reason: res.Reason,
			Evidence: res.Evidence, Link: res.Link, Error: res.Error,
		})
	}
	if l := r.Location; l != nil {
		m.Location = &apiv1.IntelLocation{
			CountryCode: l.CountryCode, Country: l.Country, City: l.City, Asn: l.ASN, AsOrg: l.ASOrg, Network: l.Network,
		}
	}
	return m
}
