package export

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/decnet/decnet/controlplane/auth"
	"github.com/decnet/decnet/internal/netguard"
)

// ElasticConfig configures an Elasticsearch bulk API output.
type ElasticConfig struct {
	// URL is the cluster's base, such as https://es.example:9200; the
	// sink posts to <URL>/_bulk.
	URL string
	// Index is the index or data stream written to; empty means
	// "decnet". Documents are sent with the create action, which data
	// streams require.
	Index string
	// APIKey is the encoded API key (base64 of id:key, the "encoded"
	// value Elasticsearch returns), sent as "Authorization: ApiKey".
	// Otherwise Username and Password are sent as Basic.
	APIKey   auth.Secret
	Username string
	Password auth.Secret
	// TLS overrides the client TLS configuration, for a private CA.
	TLS     *tls.Config
	Timeout time.Duration
}

// maxElasticResponse bounds the bulk answer read. Each item takes a few
// hundred bytes, so this covers batches of tens of thousands.
const maxElasticResponse = 16 << 20

// elasticSink sends batches through the bulk API and retries only the
// documents that failed for a transient reason.
type elasticSink struct {
	cfg    ElasticConfig
	f      formatter
	poster *httpPoster
	auth   auth.Secret
}

func newElasticSink(cfg ElasticConfig, guard *netguard.Guard, f formatter) (*elasticSink, error) {
	if cfg.Index == "" {
		cfg.Index = "decnet"
	}
	var authz auth.Secret
	switch {
	case !cfg.APIKey.Empty() && cfg.Username != "":
		return nil, errors.New("elastic: set either api key or username, not both")
	case !cfg.APIKey.Empty():
		authz = auth.Secret("ApiKey " + cfg.APIKey.Reveal())
	case cfg.Username != "":
		authz = auth.Secret("Basic " + base64.StdEncoding.EncodeToString([]byte(cfg.Username+":"+cfg.Password.Reveal())))
	}
	p, err := newHTTPPoster(cfg.URL, "/_bulk", cfg.TLS, guard, cfg.Timeout, maxElasticResponse)
	if err != nil {
		return nil, fmt.Errorf("elastic: %w", err)
	}
	return &elasticSink{cfg: cfg, f: f, poster: p, auth: authz}, nil
}

// bulkAction is the action line of one document. The record id is the
// document id, so a document resent after a lost answer is rejected as a
// conflict instead of stored twice.
type bulkAction struct {
	Create bulkMeta `json:"create"`
}

type bulkMeta struct {
	Index string `json:"_index"`
	ID    string `json:"_id,omitempty"`
}

// Send posts the batch as NDJSON action and document lines.
func (s *elasticSink) Send(ctx context.Context, batch []Record) ([]Record, error) {
	var body []byte
	for _, r := range batch {
		action, err := json.Marshal(bulkAction{Create: bulkMeta{Index: s.cfg.Index, ID: r.ID()}})
		if err != nil {
			return rejectAll(batch, fmt.Errorf("encode bulk action: %w", err))
		}
		source, err := s.f.ecsJSON(r)
		if err != nil {
			return rejectAll(batch, fmt.Errorf("encode bulk document: %w", err))
		}
		body = append(body, action...)
		body = append(body, '\n')
		body = append(body, source...)
		body = append(body, '\n')
	}

	h := http.Header{}
	h.Set("Content-Type", "application/x-ndjson")
	if !s.auth.Empty() {
		h.Set("Authorization", s.auth.Reveal())
	}
	status, _, data, err := s.poster.post(ctx, h, body)
	if err != nil {
		return retryAll(batch, err)
	}
	switch {
	case retryableStatus(status):
		return retryAll(batch, fmt.Errorf("bulk: status %d", status))
	case status != http.StatusOK:
		return rejectAll(batch, fmt.Errorf("bulk: status %d", status))
	}

	// Without a result per item nothing is known. Resending is safe
	// because create rejects duplicates.
	resp, err := parseBulkResponse(data)
	if err != nil {
		return retryAll(batch, fmt.Errorf("bulk: unreadable response: %w", err))
	}
	if len(resp.Items) != len(batch) {
		return retryAll(batch, fmt.Errorf("bulk: unreadable response (%d items for %d documents)", len(resp.Items), len(batch)))
	}
	if !resp.Errors {
		return nil, nil
	}
	return s.sortItems(batch, resp)
}

// sortItems splits a partial failure into the documents to resend and
// the ones rejected for good.
func (s *elasticSink) sortItems(batch []Record, resp bulkResponse) ([]Record, error) {
	var retry []Record
	rejected := 0
	var first *bulkError
	for i, it := range resp.Items {
		switch {
		case it.Status/100 == 2:
		case it.Status == http.StatusConflict:
			// Already stored by an earlier attempt whose answer was
			// lost.
		case retryableStatus(it.Status):
			retry = append(retry, batch[i])
		default:
			rejected++
		}
		if it.Error != nil && first == nil {
			first = it.Error
		}
	}
	if len(retry) == 0 && rejected == 0 {
		return nil, nil
	}
	err := fmt.Errorf("bulk: %d to retry, %d rejected", len(retry), rejected)
	if first != nil {
		err = fmt.Errorf("bulk: %d to retry, %d rejected, first error %s: %s", len(retry), rejected, first.Type, first.Reason)
	}
	if rejected > 0 {
		return retry, &rejectedError{Count: rejected, Err: err}
	}
	return retry, err
}

// Close releases idle connections.
func (s *elasticSink) Close() error {
	s.poster.client.CloseIdleConnections()
	return nil
}

// bulkResponse is the part of a bulk API answer the sink reads.
type bulkResponse struct {
	Errors bool
	// Items are in request order.
	Items []bulkItem
}

// bulkItem is the outcome of one action.
type bulkItem struct {
	// Action is the operation name ("create", "index", ...).
	Action string
	Status int
	ID     string
	Error  *bulkError
}

// bulkError is an item's error object.
type bulkError struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

// parseBulkResponse decodes a bulk answer: {"took":..,"errors":bool,
// "items":[{"<action>":{"_index":..,"_id":..,"status":N,"error":{..}}}]}.
// Each item must name exactly one action.
func parseBulkResponse(data []byte) (bulkResponse, error) {
	var raw struct {
		Errors bool                         `json:"errors"`
		Items  []map[string]json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return bulkResponse{}, fmt.Errorf("parse bulk response: %w", err)
	}
	out := bulkResponse{Errors: raw.Errors, Items: make([]bulkItem, 0, len(raw.Items))}
	for i, item := range raw.Items {
		if len(item) != 1 {
			return bulkResponse{}, fmt.Errorf("parse bulk response: item %d has %d actions", i, len(item))
		}
		for action, body := range item {
			if action == "" {
				return bulkResponse{}, fmt.Errorf("parse bulk response: item %d has no action name", i)
			}
			var v struct {
				ID     string     `json:"_id"`
				Status int        `json:"status"`
				Error  *bulkError `json:"error"`
			}
			if err := json.Unmarshal(body, &v); err != nil {
				return bulkResponse{}, fmt.Errorf("parse bulk response: item %d: %w", i, err)
			}
			if v.Status < 100 || v.Status > 599 {
				return bulkResponse{}, fmt.Errorf("parse bulk response: item %d: status %d", i, v.Status)
			}
			out.Items = append(out.Items, bulkItem{Action: action, Status: v.Status, ID: v.ID, Error: v.Error})
		}
	}
	return out, nil
}
