package api

import (
	"context"
	"errors"
	"net/url"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/decnet/decnet/controlplane/export"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

// exportOutputService serves ExportService: the SIEM outputs of this
// replica's exporter. The attacker, identity and campaign exports live
// in their own services.
type exportOutputService struct{ *API }

var _ apiv1connect.ExportServiceHandler = (*exportOutputService)(nil)

// ListExportOutputs returns every output with its state; none when the
// server runs without an exporter.
func (s *exportOutputService) ListExportOutputs(context.Context, *connect.Request[apiv1.ListExportOutputsRequest]) (*connect.Response[apiv1.ListExportOutputsResponse], error) {
	resp := &apiv1.ListExportOutputsResponse{}
	if s.exporter == nil {
		return connect.NewResponse(resp), nil
	}
	for _, o := range s.exporter.Outputs() {
		resp.Outputs = append(resp.Outputs, exportOutputMessage(o.Config(), o.Stats()))
	}
	return connect.NewResponse(resp), nil
}

// TestExportOutput sends a test notice to one output. A destination
// that rejects it is a result, not a failed call, so the response says
// why.
func (s *exportOutputService) TestExportOutput(ctx context.Context, req *connect.Request[apiv1.TestExportOutputRequest]) (*connect.Response[apiv1.TestExportOutputResponse], error) {
	name := req.Msg.GetName()
	if name == "" {
		return nil, invalidArgument("name must name an export output")
	}
	if s.exporter == nil {
		return nil, connect.NewError(connect.CodeNotFound, errors.New("no export output is configured"))
	}
	err := s.exporter.Test(ctx, name)
	switch {
	case errors.Is(err, export.ErrNoOutput):
		return nil, connect.NewError(connect.CodeNotFound, errors.New("no export output with this name"))
	case err != nil && ctx.Err() != nil:
		return nil, s.toConnectError(ctx, req.Spec().Procedure, ctx.Err())
	case err != nil:
		s.log.Debug().Err(err).Str(fieldProcedure, req.Spec().Procedure).Str(fieldOutput, name).Msg("export test send failed")
		return connect.NewResponse(&apiv1.TestExportOutputResponse{Error: export.ErrorText(err)}), nil
	}
	return connect.NewResponse(&apiv1.TestExportOutputResponse{Delivered: true}), nil
}

// exportOutputMessage describes an output without its secrets: the
// token, API key and password become booleans, and URLs lose their user
// information and query.
func exportOutputMessage(c export.OutputConfig, st export.Stats) *apiv1.ExportOutput {
	out := &apiv1.ExportOutput{
		Name: c.Name, Topics: c.Topics, ApplySuppression: c.ApplySuppression,
		QueueSize: clampUint32(c.QueueSize), BatchSize: clampUint32(c.BatchSize),
		BatchDelay: durationpb.New(c.BatchDelay), MaxAttempts: clampUint32(c.MaxAttempts),
		Stats: &apiv1.ExportOutputStats{
			Delivered: st.Delivered, Dropped: st.Dropped, Failed: st.Failed, Suppressed: st.Suppressed,
			Queued: clampUint32(st.Queued), LastError: st.LastError,
			LastErrorAt: timestampOrNil(st.LastErrorAt), LastDeliveredAt: timestampOrNil(st.LastDeliveredAt),
		},
	}
	switch {
	case c.Syslog != nil:
		sc := c.Syslog
		out.Destination = &apiv1.ExportOutput_Syslog{Syslog: &apiv1.ExportSyslogOutput{
			Address: sc.Address, Tls: sc.TLS != nil, Format: exportFormatMessage(sc.Format),
			Hostname: sc.Hostname, AppName: sc.AppName, Facility: clampUint32(sc.Facility), SdId: sc.SDID,
		}}
	case c.Lines != nil:
		lc := c.Lines
		out.Destination = &apiv1.ExportOutput_Lines{Lines: &apiv1.ExportLinesOutput{
			Path: lc.Path, MaxBytes: uint64(max(lc.MaxBytes, 0)), MaxFiles: clampUint32(lc.MaxFiles),
			Address: lc.Address, Tls: lc.TLS != nil, Format: exportFormatMessage(lc.Format),
		}}
	case c.Splunk != nil:
		sc := c.Splunk
		out.Destination = &apiv1.ExportOutput_Splunk{Splunk: &apiv1.ExportSplunkOutput{
			Url: urlWithoutSecrets(sc.URL), TokenSet: !sc.Token.Empty(), Index: sc.Index,
			Source: sc.Source, Sourcetype: sc.Sourcetype, Host: sc.Host,
		}}
	case c.Elastic != nil:
		ec := c.Elastic
		authKind := "none"
		switch {
		case !ec.APIKey.Empty():
			authKind = "api_key"
		case ec.Username != "":
			authKind = "basic"
		}
		out.Destination = &apiv1.ExportOutput_Elastic{Elastic: &apiv1.ExportElasticOutput{
			Url: urlWithoutSecrets(ec.URL), Index: ec.Index, Auth: authKind, Username: ec.Username,
		}}
	}
	return out
}

func exportFormatMessage(f export.Format) apiv1.ExportOutputFormat {
	switch f {
	case export.FormatCEF:
		return apiv1.ExportOutputFormat_EXPORT_OUTPUT_FORMAT_CEF
	case export.FormatJSON, "":
		// The empty format is the sinks' default, JSON.
		return apiv1.ExportOutputFormat_EXPORT_OUTPUT_FORMAT_JSON
	}
	return apiv1.ExportOutputFormat_EXPORT_OUTPUT_FORMAT_UNSPECIFIED
}

// urlWithoutSecrets keeps scheme, host and path. User information and
// query may carry a credential, and an unparseable URL is replaced as a
// whole for the same reason.
func urlWithoutSecrets(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	clean := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	return clean.String()
}
