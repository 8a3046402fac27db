package export

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/decnet/decnet/controlplane/auth"
)

// hecReceiver checks each request against the documented HEC format and
// answers from a script of (status, body) pairs, repeating the last.
type hecReceiver struct {
	t       *testing.T
	mu      sync.Mutex
	answers []hecAnswer
	events  [][]map[string]any
	server  *httptest.Server
}

type hecAnswer struct {
	status int
	body   string
}

const testHECToken = "0f1e2d3c-aaaa-bbbb-cccc-000000000001"

func newHECReceiver(t *testing.T, answers ...hecAnswer) *hecReceiver {
	h := &hecReceiver{t: t, answers: answers}
	h.server = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.server.Close)
	return h
}

func (h *hecReceiver) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method != http.MethodPost:
		h.t.Errorf("method %s, want POST", r.Method)
	case r.URL.Path != "/services/collector/event":
		h.t.Errorf("path %s, want /services/collector/event", r.URL.Path)
	case r.Header.Get("Authorization") != "Splunk "+testHECToken:
		h.t.Errorf("authorization %q", r.Header.Get("Authorization"))
	case r.Header.Get("X-Splunk-Request-Channel") == "":
		h.t.Error("no request channel header")
	}

	// The body is a sequence of JSON objects, each with the event
	// metadata keys and an event object.
	var events []map[string]any
	dec := json.NewDecoder(r.Body)
	for {
		var ev map[string]any
		if err := dec.Decode(&ev); err == io.EOF {
			break
		} else if err != nil {
			h.t.Errorf("body is not concatenated JSON: %v", err)
			break
		}
		for _, k := range []string{"time", "host", "source", "sourcetype", "event"} {
			if _, ok := ev[k]; !ok {
				h.t.Errorf("event object lacks %q: %v", k, ev)
			}
		}
		if _, ok := ev["event"].(map[string]any); !ok {
			h.t.Errorf("event is not an object: %v", ev["event"])
		}
		events = append(events, ev)
	}

	h.mu.Lock()
	h.events = append(h.events, events)
	a := h.answers[min(len(h.events)-1, len(h.answers)-1)]
	h.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	if _, err := io.WriteString(w, a.body); err != nil {
		h.t.Errorf("write response: %v", err)
	}
}

func (h *hecReceiver) requests() [][]map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([][]map[string]any(nil), h.events...)
}

func newTestSplunk(t *testing.T, url string) *splunkSink {
	s, err := newSplunkSink(SplunkConfig{URL: url, Token: auth.Secret(testHECToken), Index: "honeypot"}, loopbackGuard(), testFormatter)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// HEC answers as documented by Splunk ("Troubleshoot HTTP Event
// Collector", status codes table).
const (
	hecOK          = `{"text":"Success","code":0}`
	hecOKAck       = `{"text":"Success","code":0,"ackId":7}`
	hecBusy        = `{"text":"Server is busy","code":9}`
	hecInvalidTok  = `{"text":"Invalid token","code":4}`
	hecBadFormat   = `{"text":"Invalid data format","code":6,"invalid-event-number":1}`
	hecNoAuthToken = `{"text":"Token is required","code":2}`
)

func TestSplunkRequestFormat(t *testing.T) {
	h := newHECReceiver(t, hecAnswer{200, hecOKAck})
	s := newTestSplunk(t, h.server.URL)
	batch := []Record{record(authEvent("id-1")), {Topic: "credential.reuse.detected", Notice: reuseNotice("n-1")}}
	if retry, err := s.Send(context.Background(), batch); err != nil || retry != nil {
		t.Fatalf("send: %v (retry %d)", err, len(retry))
	}

	reqs := h.requests()
	if len(reqs) != 1 || len(reqs[0]) != 2 {
		t.Fatalf("requests %v", reqs)
	}
	ev := reqs[0][0]
	want := map[string]any{"time": 1772368496.789, "host": "web-01", "source": "decnet", "sourcetype": "decnet:ecs", "index": "honeypot"}
	for k, v := range want {
		if ev[k] != v {
			t.Errorf("%s = %#v, want %#v", k, ev[k], v)
		}
	}
	if body := ev["event"].(map[string]any); body["@timestamp"] != "2026-03-01T12:34:56.789Z" {
		t.Errorf("event body: %v", body)
	}
	if reqs[0][1]["host"] != "decnet" {
		t.Errorf("notice host %v, want decnet", reqs[0][1]["host"])
	}
}

func TestSplunkStatusHandling(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		wantRetry bool
	}{
		{"busy 503", 503, hecBusy, true},
		{"throttled 429", 429, `{"text":"Too many requests"}`, true},
		{"internal 500", 500, `{"text":"Internal server error","code":8}`, true},
		{"invalid token 403", 403, hecInvalidTok, false},
		{"token required 401", 401, hecNoAuthToken, false},
		{"bad format 400", 400, hecBadFormat, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHECReceiver(t, hecAnswer{tt.status, tt.body})
			s := newTestSplunk(t, h.server.URL)
			batch := []Record{record(authEvent("id-1")), record(authEvent("id-2"))}
			retry, err := s.Send(context.Background(), batch)
			if err == nil {
				t.Fatal("no error")
			}
			var re *rejectedError
			if tt.wantRetry {
				if len(retry) != 2 || errors.As(err, &re) {
					t.Errorf("retry %d records (rejected %v), want the whole batch retried", len(retry), re)
				}
			} else if len(retry) != 0 || !errors.As(err, &re) || re.Count != 2 {
				t.Errorf("retry %d records, err %v; want both rejected", len(retry), err)
			}
			if strings.Contains(err.Error(), testHECToken) {
				t.Error("error carries the token")
			}
		})
	}
}

// TestSplunkRetriesThroughOutput drives the delivery loop: two busy
// answers, then success.
func TestSplunkRetriesThroughOutput(t *testing.T) {
	h := newHECReceiver(t, hecAnswer{503, hecBusy}, hecAnswer{429, ""}, hecAnswer{200, hecOK})
	e, err := New(Config{
		Outputs: []OutputConfig{{Name: "splunk", BatchSize: 2, Splunk: &SplunkConfig{URL: h.server.URL, Token: auth.Secret(testHECToken)}}},
		Guard:   loopbackGuard(),
		Clock:   instantClock{},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.OfferEvents(nil)
	e.Offer(record(authEvent("id-1")))
	e.Offer(record(authEvent("id-2")))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	out := e.Outputs()[0]
	for out.Stats().Delivered < 2 {
		waitBriefly()
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
	if got := len(h.requests()); got != 3 {
		t.Errorf("%d requests, want 3", got)
	}
	if st := out.Stats(); st.Delivered != 2 || st.Failed != 0 || st.LastError != "hec: status 429 code 0: " {
		t.Errorf("stats %+v", st)
	}
}

func TestSplunkConfigSecretRedacted(t *testing.T) {
	cfg := SplunkConfig{URL: "https://127.0.0.1:8088", Token: auth.Secret(testHECToken)}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "%v %+v %#v", cfg, cfg, cfg)
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatalf("marshal config: %v", err)
	}
	buf.Write(b)
	if strings.Contains(buf.String(), testHECToken) {
		t.Errorf("config printing leaks the token: %s", buf.String())
	}
	if _, err := newSplunkSink(SplunkConfig{URL: "https://user:pw@127.0.0.1:8088", Token: "x"}, loopbackGuard(), testFormatter); err == nil {
		t.Error("url with credentials accepted")
	}
	if _, err := newSplunkSink(SplunkConfig{URL: "https://127.0.0.1:8088"}, loopbackGuard(), testFormatter); err == nil {
		t.Error("config without a token accepted")
	}
}

// TestSplunkTLSWithPrivateCA checks that a configured TLS root reaches
// the guarded client: the collector's certificate is not in the system
// pool.
func TestSplunkTLSWithPrivateCA(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.WriteString(w, hecOK); err != nil {
			t.Errorf("write response: %v", err)
		}
	}))
	// The system-roots case fails its handshake on purpose.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())

	for name, cfg := range map[string]*tls.Config{"private root": {RootCAs: pool}, "system roots": nil} {
		t.Run(name, func(t *testing.T) {
			s, err := newSplunkSink(SplunkConfig{URL: srv.URL, Token: auth.Secret(testHECToken), TLS: cfg}, loopbackGuard(), testFormatter)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			_, err = s.Send(context.Background(), []Record{record(authEvent("id-1"))})
			if (cfg != nil) != (err == nil) {
				t.Errorf("send with %s: %v", name, err)
			}
		})
	}
}
