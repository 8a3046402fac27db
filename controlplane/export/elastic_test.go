package export

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/decnet/decnet/controlplane/auth"
)

// bulkReceiver checks each request against the documented bulk format
// and answers per document id from a status table (default 201).
type bulkReceiver struct {
	t          *testing.T
	wantAuth   string
	mu         sync.Mutex
	statusOf   func(call int, id string) int
	requestIDs [][]string
	docs       []map[string]any
	server     *httptest.Server
}

func newBulkReceiver(t *testing.T, wantAuth string, statusOf func(call int, id string) int) *bulkReceiver {
	b := &bulkReceiver{t: t, wantAuth: wantAuth, statusOf: statusOf}
	b.server = httptest.NewServer(http.HandlerFunc(b.serve))
	t.Cleanup(b.server.Close)
	return b
}

func (b *bulkReceiver) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/_bulk":
		b.t.Errorf("%s %s, want POST /_bulk", r.Method, r.URL.Path)
	case r.Header.Get("Content-Type") != "application/x-ndjson":
		b.t.Errorf("content type %q", r.Header.Get("Content-Type"))
	case r.Header.Get("Authorization") != b.wantAuth:
		b.t.Errorf("authorization %q, want %q", r.Header.Get("Authorization"), b.wantAuth)
	}

	// NDJSON: action line, document line, each ending in a newline.
	var ids []string
	var docs []map[string]any
	sc := bufio.NewScanner(r.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var action map[string]map[string]string
		if err := json.Unmarshal(sc.Bytes(), &action); err != nil || len(action) != 1 || action["create"] == nil {
			b.t.Errorf("action line %s: %v", sc.Text(), err)
			return
		}
		if action["create"]["_index"] != "decnet-events" {
			b.t.Errorf("index %q", action["create"]["_index"])
		}
		if !sc.Scan() {
			b.t.Error("action without a document")
			return
		}
		var doc map[string]any
		if err := json.Unmarshal(sc.Bytes(), &doc); err != nil {
			b.t.Errorf("document line: %v", err)
		}
		ids = append(ids, action["create"]["_id"])
		docs = append(docs, doc)
	}

	b.mu.Lock()
	call := len(b.requestIDs)
	b.requestIDs = append(b.requestIDs, ids)
	b.docs = append(b.docs, docs...)
	b.mu.Unlock()

	// Response shape of the bulk API: took, errors, one item per action.
	type item struct {
		Index  string          `json:"_index"`
		ID     string          `json:"_id"`
		Status int             `json:"status"`
		Error  json.RawMessage `json:"error,omitempty"`
	}
	var items []map[string]item
	anyErr := false
	for _, id := range ids {
		st := b.statusOf(call, id)
		it := item{Index: "decnet-events", ID: id, Status: st}
		switch st {
		case 409:
			it.Error = json.RawMessage(`{"type":"version_conflict_engine_exception","reason":"[` + id + `]: version conflict, document already exists"}`)
		case 429:
			it.Error = json.RawMessage(`{"type":"es_rejected_execution_exception","reason":"rejected execution of coordinating operation"}`)
		case 400:
			it.Error = json.RawMessage(`{"type":"document_parsing_exception","reason":"failed to parse field [source.port] of type [long]"}`)
		}
		if st >= 300 {
			anyErr = true
		}
		items = append(items, map[string]item{"create": it})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"took": 3, "errors": anyErr, "items": items})
}

func (b *bulkReceiver) calls() [][]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([][]string(nil), b.requestIDs...)
}

func TestElasticPartialFailureRetriesOnlyFailedItems(t *testing.T) {
	apiKey := base64.StdEncoding.EncodeToString([]byte("VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw"))
	recv := newBulkReceiver(t, "ApiKey "+apiKey, func(call int, id string) int {
		switch {
		case call == 0 && id == "busy":
			return 429
		case id == "bad":
			return 400
		case id == "dup":
			return 409
		}
		return 201
	})
	e, err := New(Config{
		Outputs: []OutputConfig{{Name: "es", BatchSize: 4, Elastic: &ElasticConfig{URL: recv.server.URL, Index: "decnet-events", APIKey: auth.Secret(apiKey)}}},
		Guard:   loopbackGuard(),
		Clock:   instantClock{},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"ok", "busy", "bad", "dup"} {
		e.Offer(record(authEvent(id)))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	out := e.Outputs()[0]
	for st := out.Stats(); st.Delivered+st.Failed < 4; st = out.Stats() {
		waitBriefly()
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}

	calls := recv.calls()
	if len(calls) != 2 || strings.Join(calls[0], ",") != "ok,busy,bad,dup" || strings.Join(calls[1], ",") != "busy" {
		t.Errorf("bulk requests %v, want [ok busy bad dup] then [busy]", calls)
	}
	// ok, dup (already stored) and busy (second try) count as
	// delivered; bad is rejected for good.
	if st := out.Stats(); st.Delivered != 3 || st.Failed != 1 || !strings.Contains(st.LastError, "first error es_rejected_execution_exception") {
		t.Errorf("stats %+v", st)
	}
	if recv.docs[0]["@timestamp"] != "2026-03-01T12:34:56.789Z" {
		t.Errorf("document: %v", recv.docs[0])
	}
}

func TestElasticBasicAuthAndStatuses(t *testing.T) {
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("decnet:s3cret"))
	tests := []struct {
		name         string
		status       int
		body         string
		wantRetry    int
		wantRejected int
	}{
		{"all created", 200, "", 0, 0},
		{"cluster throttled", 429, `{"error":{"type":"es_rejected_execution_exception"},"status":429}`, 2, 0},
		{"unavailable", 503, `{"error":"unavailable"}`, 2, 0},
		{"unauthorised", 401, `{"error":{"type":"security_exception"},"status":401}`, 0, 2},
		{"truncated answer", 200, `{"took":1,"errors":true,"items":[`, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != basic {
					t.Errorf("authorization %q", r.Header.Get("Authorization"))
				}
				w.WriteHeader(tt.status)
				body := tt.body
				if body == "" {
					body = `{"took":1,"errors":false,"items":[{"create":{"_id":"a","status":201}},{"create":{"_id":"b","status":201}}]}`
				}
				if _, err := io.WriteString(w, body); err != nil {
					t.Errorf("write response: %v", err)
				}
			}))
			t.Cleanup(srv.Close)
			s, err := newElasticSink(ElasticConfig{URL: srv.URL, Username: "decnet", Password: "s3cret"}, loopbackGuard(), testFormatter)
			if err != nil {
				t.Fatal(err)
			}
			retry, err := s.Send(context.Background(), []Record{record(authEvent("a")), record(authEvent("b"))})
			var re *rejectedError
			rejected := 0
			if errors.As(err, &re) {
				rejected = re.Count
			}
			if len(retry) != tt.wantRetry || rejected != tt.wantRejected {
				t.Errorf("retry %d rejected %d (err %v), want %d and %d", len(retry), rejected, err, tt.wantRetry, tt.wantRejected)
			}
			if (tt.wantRetry+tt.wantRejected == 0) != (err == nil) {
				t.Errorf("err %v", err)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Error("error carries the password")
			}
		})
	}
}

func TestParseBulkResponse(t *testing.T) {
	data := `{"took":30,"errors":true,"items":[
		{"create":{"_index":"i","_id":"1","_version":1,"result":"created","status":201}},
		{"index":{"_index":"i","_id":"2","status":429,"error":{"type":"es_rejected_execution_exception","reason":"queue full"}}}]}`
	got, err := parseBulkResponse([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Errors || len(got.Items) != 2 {
		t.Fatalf("parsed %+v", got)
	}
	if it := got.Items[1]; it.Action != "index" || it.Status != 429 || it.ID != "2" || it.Error == nil || it.Error.Type != "es_rejected_execution_exception" {
		t.Errorf("item 1: %+v", it)
	}
	for _, bad := range []string{`{"items":[{}]}`, `{"items":[{"create":{"status":0}}]}`, `{"items":[{"a":{"status":200},"b":{"status":200}}]}`, `[]`} {
		if _, err := parseBulkResponse([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func TestElasticConfigValidation(t *testing.T) {
	if _, err := newElasticSink(ElasticConfig{URL: "http://127.0.0.1:9200", APIKey: "k", Username: "u"}, loopbackGuard(), testFormatter); err == nil {
		t.Error("api key and username together accepted")
	}
	if _, err := newElasticSink(ElasticConfig{URL: "ftp://127.0.0.1"}, loopbackGuard(), testFormatter); err == nil {
		t.Error("ftp url accepted")
	}
}
