package api

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/decnet/decnet/controlplane/auth"
	"github.com/decnet/decnet/controlplane/export"
	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/controlplane/topics"
	"github.com/decnet/decnet/controlplane/webhooks"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
	"github.com/decnet/decnet/internal/netguard"
)

// Secrets of the outputs in these tests; no response may carry them.
const (
	testHECToken   = "hec-0b7f5e1c-secret"
	testElasticKey = "ZXM6a2V5LXNlY3JldA=="
)

// lineReceiver is a TCP receiver on loopback that keeps every line.
type lineReceiver struct {
	addr  string
	mu    sync.Mutex
	lines []string
	got   chan struct{}
}

func newLineReceiver(t *testing.T) *lineReceiver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	r := &lineReceiver{addr: ln.Addr().String(), got: make(chan struct{}, 64)}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				sc := bufio.NewScanner(conn)
				for sc.Scan() {
					r.mu.Lock()
					r.lines = append(r.lines, sc.Text())
					r.mu.Unlock()
					r.got <- struct{}{}
				}
			}()
		}
	}()
	return r
}

func (r *lineReceiver) snapshot() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lines...)
}

// exportFixture is the API with an exporter of four outputs: NDJSON to
// a TCP receiver, a file that applies suppression, a Splunk collector
// that refuses the token, and Elasticsearch with an API key.
type exportFixture struct {
	*fixture
	exporter   *export.Exporter
	dispatcher *webhooks.Dispatcher
	receiver   *lineReceiver
	hecCalls   chan string
}

func newExportFixture(t *testing.T) *exportFixture {
	t.Helper()
	f := &exportFixture{fixture: newFixture(t, options{}), receiver: newLineReceiver(t), hecCalls: make(chan string, 8)}
	hec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.hecCalls <- r.Header.Get("Authorization")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"text":"Invalid token","code":4}`))
	}))
	t.Cleanup(hec.Close)

	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	var err error
	f.dispatcher, err = webhooks.New(webhooks.Config{
		Store:     webhooks.NewDocumentStore(f.store),
		Publisher: topics.New[*apiv1.Notice](),
		Key:       make([]byte, 32),
		Guard:     &netguard.Guard{Allow: loopback},
		AllowHTTP: true,
		Logger:    zerolog.Nop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	f.exporter, err = export.New(export.Config{
		Outputs: []export.OutputConfig{
			{Name: "stream", Topics: []string{"event.>"}, BatchSize: 1, Lines: &export.LinesConfig{Address: f.receiver.addr}},
			{Name: "archive", ApplySuppression: true, BatchSize: 1, Lines: &export.LinesConfig{Path: filepath.Join(t.TempDir(), "archive.ndjson"), Format: export.FormatCEF}},
			{Name: "splunk", Topics: []string{"credential.>"}, Splunk: &export.SplunkConfig{URL: hec.URL + "/?token=in-query", Token: auth.Secret(testHECToken), Index: "honeypot"}},
			{Name: "elastic", QueueSize: 16, Elastic: &export.ElasticConfig{URL: "https://es.example:9200/?secret-query", Index: "decnet", APIKey: auth.Secret(testElasticKey)}},
		},
		Guard:      &netguard.Guard{Allow: loopback},
		Suppressor: f.dispatcher,
		Logger:     zerolog.Nop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	f.api.exporter = f.exporter
	return f
}

// run delivers until the test ends.
func (f *exportFixture) run(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.exporter.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("exporter: %v", err)
		}
	})
}

func outputsByName(outs []*apiv1.ExportOutput) map[string]*apiv1.ExportOutput {
	m := map[string]*apiv1.ExportOutput{}
	for _, o := range outs {
		m[o.GetName()] = o
	}
	return m
}

// A viewer lists the outputs with their destinations and settings, and
// with whether a secret is set but never the secret itself, nor a URL's
// credentials or query.
func TestListExportOutputs(t *testing.T) {
	f := newExportFixture(t)
	ctx := context.Background()
	viewer := f.loginNewUser(t, "viewer-v", apiv1.Role_ROLE_VIEWER)
	client := apiv1connect.NewExportServiceClient(f.h1, f.srv.URL)

	resp, err := client.ListExportOutputs(ctx, withToken(&apiv1.ListExportOutputsRequest{}, viewer))
	if err != nil {
		t.Fatalf("ListExportOutputs: %v", err)
	}
	raw, err := protojson.Marshal(resp.Msg)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{testHECToken, testElasticKey, "in-query", "secret-query"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("response carries %q: %s", secret, raw)
		}
	}

	outs := resp.Msg.GetOutputs()
	if len(outs) != 4 || outs[0].GetName() != "stream" || outs[3].GetName() != "elastic" {
		t.Fatalf("outputs %v, want the four in configuration order", outs)
	}
	byName := outputsByName(outs)

	stream := byName["stream"]
	if l := stream.GetLines(); l.GetAddress() != f.receiver.addr || l.GetPath() != "" || l.GetTls() ||
		l.GetFormat() != apiv1.ExportOutputFormat_EXPORT_OUTPUT_FORMAT_JSON {
		t.Errorf("stream destination %v", l)
	}
	if got := stream.GetTopics(); len(got) != 1 || got[0] != "event.>" || stream.GetApplySuppression() {
		t.Errorf("stream topics %v, apply_suppression %v", got, stream.GetApplySuppression())
	}
	// Unset delivery settings show their defaults.
	if stream.GetQueueSize() != 4096 || stream.GetBatchSize() != 1 || stream.GetBatchDelay().AsDuration() != 250*time.Millisecond || stream.GetMaxAttempts() != 8 {
		t.Errorf("stream delivery settings %d/%d/%v/%d", stream.GetQueueSize(), stream.GetBatchSize(), stream.GetBatchDelay().AsDuration(), stream.GetMaxAttempts())
	}

	archive := byName["archive"]
	if !archive.GetApplySuppression() || archive.GetLines().GetFormat() != apiv1.ExportOutputFormat_EXPORT_OUTPUT_FORMAT_CEF ||
		!strings.HasSuffix(archive.GetLines().GetPath(), "archive.ndjson") {
		t.Errorf("archive %v", archive)
	}

	splunk := byName["splunk"].GetSplunk()
	if !splunk.GetTokenSet() || splunk.GetIndex() != "honeypot" || !strings.HasPrefix(splunk.GetUrl(), "http://127.0.0.1:") || strings.Contains(splunk.GetUrl(), "?") {
		t.Errorf("splunk %v", splunk)
	}
	elastic := byName["elastic"]
	if e := elastic.GetElastic(); e.GetAuth() != "api_key" || e.GetUsername() != "" || e.GetUrl() != "https://es.example:9200/" || e.GetIndex() != "decnet" {
		t.Errorf("elastic %v", e)
	}
	if elastic.GetQueueSize() != 16 {
		t.Errorf("elastic queue size %d, want 16", elastic.GetQueueSize())
	}
	if st := elastic.GetStats(); st.GetDelivered() != 0 || st.GetQueued() != 0 || st.GetLastError() != "" || st.GetLastErrorAt() != nil {
		t.Errorf("stats of an idle output %v", st)
	}
}

// An admin's test send reaches a TCP receiver whatever the output's
// topics. A rejected one is reported with the collector's response and
// without the token. Viewers may not send, and unknown names are
// NotFound.
func TestTestExportOutput(t *testing.T) {
	f := newExportFixture(t)
	ctx := context.Background()
	admin := f.login(t)
	viewer := f.loginNewUser(t, "viewer-v", apiv1.Role_ROLE_VIEWER)
	client := apiv1connect.NewExportServiceClient(f.h1, f.srv.URL)

	resp, err := client.TestExportOutput(ctx, withToken(&apiv1.TestExportOutputRequest{Name: "stream"}, admin))
	if err != nil {
		t.Fatalf("TestExportOutput: %v", err)
	}
	if !resp.Msg.GetDelivered() || resp.Msg.GetError() != "" {
		t.Errorf("test of a listening receiver: %v", resp.Msg)
	}
	<-f.receiver.got
	lines := f.receiver.snapshot()
	if len(lines) != 1 || !strings.Contains(lines[0], `"action":"export.test"`) || !strings.Contains(lines[0], "DECNET export test for output stream") {
		t.Errorf("receiver got %q", lines)
	}

	resp, err = client.TestExportOutput(ctx, withToken(&apiv1.TestExportOutputRequest{Name: "splunk"}, admin))
	if err != nil {
		t.Fatalf("TestExportOutput splunk: %v", err)
	}
	if resp.Msg.GetDelivered() || !strings.Contains(resp.Msg.GetError(), "status 403 code 4: Invalid token") || strings.Contains(resp.Msg.GetError(), testHECToken) {
		t.Errorf("test of a refusing collector: %v", resp.Msg)
	}
	if got := <-f.hecCalls; got != "Splunk "+testHECToken {
		t.Errorf("collector saw Authorization %q", got)
	}

	// Tests do not count as exported records.
	list, err := client.ListExportOutputs(ctx, withToken(&apiv1.ListExportOutputsRequest{}, admin))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range list.Msg.GetOutputs() {
		if st := o.GetStats(); st.GetDelivered() != 0 || st.GetFailed() != 0 || st.GetLastError() != "" {
			t.Errorf("%s stats after tests: %v", o.GetName(), st)
		}
	}

	// Test sends reach outside systems, so they are audited.
	entries, err := f.store.ListAudit(ctx, store.AuditQuery{PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	var tests []string
	for _, e := range entries.Items {
		if e.Procedure == apiv1connect.ExportServiceTestExportOutputProcedure {
			tests = append(tests, e.Username+" "+e.Outcome)
		}
	}
	if len(tests) != 2 || tests[0] != "admin ok" || tests[1] != "admin ok" {
		t.Errorf("audited test sends %q, want two by admin", tests)
	}

	cases := []struct {
		name  string
		token string
		want  connect.Code
	}{
		{"stream", viewer, connect.CodePermissionDenied},
		{"nope", admin, connect.CodeNotFound},
		{"", admin, connect.CodeInvalidArgument},
	}
	for _, tc := range cases {
		_, err := client.TestExportOutput(ctx, withToken(&apiv1.TestExportOutputRequest{Name: tc.name}, tc.token))
		if got := connect.CodeOf(err); got != tc.want {
			t.Errorf("TestExportOutput(%q): %v, want %v", tc.name, err, tc.want)
		}
	}
}

// Delivered, suppressed and failed records and the latest error show in
// the listing. The suppression rule is added through WebhookService and
// applies only to the output that sets apply_suppression.
func TestExportOutputStatsThroughAPI(t *testing.T) {
	f := newExportFixture(t)
	ctx := context.Background()
	admin := f.login(t)
	hooks := apiv1connect.NewWebhookServiceClient(f.h1, f.srv.URL)
	f.api.webhooks = f.dispatcher
	if _, err := hooks.CreateWebhookSuppression(ctx, withToken(&apiv1.CreateWebhookSuppressionRequest{Suppression: &apiv1.WebhookSuppression{
		Prefix: "127.0.0.0/24", Reason: "internal scanner",
	}}, admin)); err != nil {
		t.Fatalf("CreateWebhookSuppression: %v", err)
	}
	f.run(t)

	scanner := &apiv1.StoredEvent{Event: newEvent("127.0.0.2", "connection.opened")}
	outsider := &apiv1.StoredEvent{Event: newEvent("127.0.1.9", "connection.opened")}
	f.exporter.OfferEvents([]*apiv1.StoredEvent{scanner, outsider})
	f.exporter.Offer(export.Record{Topic: "credential.reuse.detected", Notice: &apiv1.Notice{
		Id: "0190a8c4-0000-7000-8000-0000000000e1", Subject: "credential.reuse.detected", Summary: "reuse",
	}})

	client := apiv1connect.NewExportServiceClient(f.h1, f.srv.URL)
	var byName map[string]*apiv1.ExportOutput
	// Delivery runs in the background; the test deadline bounds the wait.
	for {
		resp, err := client.ListExportOutputs(ctx, withToken(&apiv1.ListExportOutputsRequest{}, admin))
		if err != nil {
			t.Fatal(err)
		}
		byName = outputsByName(resp.Msg.GetOutputs())
		if byName["stream"].GetStats().GetDelivered() == 2 && byName["archive"].GetStats().GetDelivered() == 2 &&
			byName["splunk"].GetStats().GetFailed() == 1 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}

	if st := byName["stream"].GetStats(); st.GetSuppressed() != 0 || st.GetLastDeliveredAt() == nil || st.GetLastError() != "" {
		t.Errorf("stream %v: want both events, nothing suppressed", st)
	}
	// The scanner's event is suppressed; the other event and the
	// notice, which has no address, are delivered.
	if st := byName["archive"].GetStats(); st.GetSuppressed() != 1 || st.GetQueued() != 0 {
		t.Errorf("archive %v: want one suppressed", st)
	}
	if st := byName["splunk"].GetStats(); !strings.Contains(st.GetLastError(), "status 403") || st.GetLastErrorAt() == nil || st.GetDelivered() != 0 {
		t.Errorf("splunk %v: want the refusal as the last error", st)
	}
}
