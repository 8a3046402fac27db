package export

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/decnet/decnet/controlplane/auth"
	"github.com/decnet/decnet/internal/netguard"
)

// SplunkConfig configures a Splunk HTTP Event Collector output.
type SplunkConfig struct {
	// URL is the collector's base, such as https://splunk.example:8088;
	// the sink posts to <URL>/services/collector/event.
	URL string
	// Token is the HEC token, sent as "Authorization: Splunk <token>".
	Token auth.Secret
	// Index, Source, Sourcetype and Host set the event metadata; empty
	// Index leaves the token's default, empty Source is "decnet",
	// empty Sourcetype is "decnet:ecs", empty Host is the decky.
	Index      string
	Source     string
	Sourcetype string
	Host       string
	// TLS overrides the client TLS configuration, for a private CA. It
	// holds callbacks, which encoding/json cannot encode.
	TLS     *tls.Config `json:"-"`
	Timeout time.Duration
}

// splunkPath is the HEC endpoint for JSON-formatted events.
const splunkPath = "/services/collector/event"

// maxSplunkResponse bounds the answer read; HEC answers are one small
// JSON object.
const maxSplunkResponse = 64 << 10

// splunkSink posts batches of events to a Splunk HTTP Event Collector.
//
// NOTE: indexer acknowledgement is not polled. Every request carries a
// channel id, so a token with acknowledgement enabled accepts the events,
// and a 200 counts as delivered.
type splunkSink struct {
	cfg     SplunkConfig
	f       formatter
	poster  *httpPoster
	channel string
}

func newSplunkSink(cfg SplunkConfig, guard *netguard.Guard, f formatter) (*splunkSink, error) {
	if cfg.Token.Empty() {
		return nil, errors.New("splunk: token is required")
	}
	if cfg.Source == "" {
		cfg.Source = "decnet"
	}
	if cfg.Sourcetype == "" {
		cfg.Sourcetype = "decnet:ecs"
	}
	p, err := newHTTPPoster(cfg.URL, splunkPath, cfg.TLS, guard, cfg.Timeout, maxSplunkResponse)
	if err != nil {
		return nil, fmt.Errorf("splunk: %w", err)
	}
	ch, err := uuid.NewRandomFromReader(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("splunk: channel id: %w", err)
	}
	return &splunkSink{cfg: cfg, f: f, poster: p, channel: ch.String()}, nil
}

// hecEvent is one event object of a HEC request.
type hecEvent struct {
	// Time is seconds since the Unix epoch with millisecond decimals.
	Time       json.Number `json:"time"`
	Host       string      `json:"host,omitempty"`
	Source     string      `json:"source,omitempty"`
	Sourcetype string      `json:"sourcetype,omitempty"`
	Index      string      `json:"index,omitempty"`
	Event      doc         `json:"event"`
}

// hecResponse is the collector's answer (Splunk documents the codes in
// "Troubleshoot HTTP Event Collector").
type hecResponse struct {
	Text               string `json:"text"`
	Code               int    `json:"code"`
	InvalidEventNumber *int   `json:"invalid-event-number,omitempty"`
	AckID              *int64 `json:"ackId,omitempty"`
}

// HEC status codes the sink tells apart.
const (
	hecSuccess    = 0
	hecServerBusy = 9
)

// parseHECResponse decodes a HEC answer body.
func parseHECResponse(data []byte) (hecResponse, error) {
	var r hecResponse
	if err := json.Unmarshal(data, &r); err != nil {
		return hecResponse{}, fmt.Errorf("parse hec response: %w", err)
	}
	return r, nil
}

// Send posts the batch as concatenated JSON event objects.
func (s *splunkSink) Send(ctx context.Context, batch []Record) ([]Record, error) {
	var body []byte
	for _, r := range batch {
		ev := hecEvent{
			Time:       json.Number(fmt.Sprintf("%.3f", float64(r.Time().UnixMilli())/1000)),
			Host:       s.cfg.Host,
			Source:     s.cfg.Source,
			Sourcetype: s.cfg.Sourcetype,
			Index:      s.cfg.Index,
			Event:      s.f.ecs(r),
		}
		if ev.Host == "" {
			ev.Host = hostOf(r)
		}
		line, err := json.Marshal(ev)
		if err != nil {
			return rejectAll(batch, fmt.Errorf("encode hec event: %w", err))
		}
		body = append(body, line...)
		body = append(body, '\n')
	}

	h := http.Header{}
	h.Set("Authorization", "Splunk "+s.cfg.Token.Reveal())
	h.Set("Content-Type", "application/json")
	h.Set("X-Splunk-Request-Channel", s.channel)
	status, _, data, err := s.poster.post(ctx, h, body)
	if err != nil {
		return retryAll(batch, err)
	}

	resp, perr := parseHECResponse(data)
	switch {
	case status == http.StatusOK && (perr != nil || resp.Code == hecSuccess):
		// A 200 means HEC accepted the batch. An unreadable body
		// does not undo that, and resending would duplicate events.
		return nil, nil //nolint:nilerr // the status decides, the body only adds detail
	case retryableStatus(status) || resp.Code == hecServerBusy:
		return retryAll(batch, fmt.Errorf("hec: status %d code %d: %s", status, resp.Code, resp.Text))
	}
	// Authentication, format and index errors repeat on every attempt.
	return rejectAll(batch, fmt.Errorf("hec: status %d code %d: %s", status, resp.Code, resp.Text))
}

// hostOf is the decky that saw the record, or "decnet" for notices
// without one.
func hostOf(r Record) string {
	if d := r.Event.GetEvent().GetDecky(); d != "" {
		return d
	}
	if d := r.Notice.GetEvent().GetEvent().GetDecky(); d != "" {
		return d
	}
	return "decnet"
}

// Close releases idle connections.
func (s *splunkSink) Close() error {
	s.poster.client.CloseIdleConnections()
	return nil
}
