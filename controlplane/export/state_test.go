package export

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/auth"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// Records waiting before the loop starts count as queued, and a failed
// send followed by a good one leaves both outcomes in the state.
func TestStatsShowQueueAndLastOutcome(t *testing.T) {
	sink := newRecordingSink()
	sink.answer = func(call int, batch []Record) ([]Record, error) {
		if call == 0 {
			return retryAll(batch, errors.New("connection refused"))
		}
		return nil, nil
	}
	o := newOutputWithSink(OutputConfig{Name: "q", BatchSize: 3}, sink, instantClock{}, nil, zerolog.Nop())
	for _, id := range []string{"a", "b", "c"} {
		o.Offer(record(authEvent(id)))
	}
	if got := o.Stats(); got != (Stats{Queued: 3}) {
		t.Fatalf("before run: %+v, want 3 queued and nothing else", got)
	}

	startOutput(t, o)
	<-sink.sent
	<-sink.sent
	for o.Stats().Delivered < 3 {
		waitBriefly()
	}
	want := Stats{Delivered: 3, LastError: "connection refused", LastErrorAt: testTime, LastDeliveredAt: testTime}
	if got := o.Stats(); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
}

func TestLastErrorIsBoundedUTF8(t *testing.T) {
	o := newOutputWithSink(OutputConfig{Name: "e"}, newRecordingSink(), instantClock{}, nil, zerolog.Nop())
	// A multi-byte rune straddles the cut, and an invalid byte comes
	// from the destination's response.
	o.noteError(errors.New("\xff" + strings.Repeat("é", 400)))
	got := o.Stats().LastError
	if !utf8.ValidString(got) || len(got) > maxLastError+len("…") || !strings.HasPrefix(got, "?é") || !strings.HasSuffix(got, "é…") {
		t.Errorf("last error %q (%d bytes)", got, len(got))
	}
}

// fakeSuppressor drops records of one decky and counts the questions.
type fakeSuppressor struct {
	mu    sync.Mutex
	decky string
	asked int
}

func (s *fakeSuppressor) SuppressesEvent(se *apiv1.StoredEvent) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked++
	return se.GetEvent().GetDecky() == s.decky
}

func (s *fakeSuppressor) SuppressesNotice(n *apiv1.Notice) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked++
	for _, t := range n.GetCredentialReuse().GetTargets() {
		if t.GetDecky() == s.decky {
			return true
		}
	}
	return false
}

// Only outputs that apply suppression lose the suppressed records. The
// rules are consulted once per record however many outputs apply them,
// and never for records no such output selects.
func TestApplySuppressionPerOutput(t *testing.T) {
	dir := t.TempDir()
	sup := &fakeSuppressor{decky: "web-01"}
	reg := prometheus.NewRegistry()
	e, err := New(Config{
		Outputs: []OutputConfig{
			{Name: "all", Lines: &LinesConfig{Path: filepath.Join(dir, "all")}},
			{Name: "quiet", ApplySuppression: true, Lines: &LinesConfig{Path: filepath.Join(dir, "quiet")}},
			{Name: "quiet-cef", ApplySuppression: true, Lines: &LinesConfig{Path: filepath.Join(dir, "cef"), Format: FormatCEF}},
			{Name: "commands", ApplySuppression: true, Topics: []string{"event.command"}, Lines: &LinesConfig{Path: filepath.Join(dir, "cmd")}},
		},
		Suppressor: sup,
		Registerer: reg,
		Clock:      instantClock{},
	})
	if err != nil {
		t.Fatal(err)
	}

	other := authEvent("ev-2")
	other.Event.Decky = "db-01"
	e.OfferEvents([]*apiv1.StoredEvent{authEvent("ev-1"), other})
	e.Offer(Record{Topic: "credential.reuse.detected", Notice: reuseNotice("n-1")})

	want := map[string]Stats{
		"all":       {Queued: 3},
		"quiet":     {Queued: 1, Suppressed: 2},
		"quiet-cef": {Queued: 1, Suppressed: 2},
		"commands":  {},
	}
	for _, o := range e.Outputs() {
		if got := o.Stats(); got != want[o.Name()] {
			t.Errorf("%s: %+v, want %+v", o.Name(), got, want[o.Name()])
		}
	}
	if sup.asked != 3 {
		t.Errorf("rules asked %d times, want once per record", sup.asked)
	}
	if got := testutil.ToFloat64(e.outputs[1].metrics.records.WithLabelValues("quiet", outcomeSuppressed)); got != 2 {
		t.Errorf("suppressed metric %v, want 2", got)
	}
}

func TestApplySuppressionNeedsRules(t *testing.T) {
	_, err := New(Config{Outputs: []OutputConfig{{Name: "quiet", ApplySuppression: true, Lines: &LinesConfig{Path: filepath.Join(t.TempDir(), "f")}}}})
	if err == nil || !strings.Contains(err.Error(), "apply_suppression") {
		t.Fatalf("New without a suppressor: %v", err)
	}
}

// A test send reaches the file whatever the topic filter and leaves the
// counters alone. An unknown name returns ErrNoOutput.
func TestExporterTestSend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "archive")
	e, err := New(Config{
		Outputs: []OutputConfig{{Name: "archive", Topics: []string{"event.command"}, Lines: &LinesConfig{Path: path, Format: FormatCEF}}},
		Clock:   instantClock{},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Test(context.Background(), "archive"); err != nil {
		t.Fatalf("Test: %v", err)
	}
	lines := readLines(t, path)
	if len(lines) != 1 || !strings.Contains(lines[0], "|1900|Export test|0|") || !strings.Contains(lines[0], "msg=DECNET export test for output archive") {
		t.Errorf("test line %q", lines)
	}
	o, _ := e.Output("archive")
	if got := o.Stats(); got != (Stats{}) {
		t.Errorf("test send changed the state: %+v", got)
	}
	if err := e.Test(context.Background(), "nope"); !errors.Is(err, ErrNoOutput) {
		t.Errorf("Test of an unknown output: %v, want ErrNoOutput", err)
	}
}

// A refused test send reports why, without the token that went with it.
func TestExporterTestSendRefused(t *testing.T) {
	const token = "11111111-2222-3333-4444-555555555555"
	var gotAuth string
	hec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Get("Authorization")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"text":"Invalid token","code":4}`))
	}))
	defer hec.Close()
	e, err := New(Config{
		Outputs: []OutputConfig{{Name: "splunk", Splunk: &SplunkConfig{URL: hec.URL, Token: auth.Secret(token)}}},
		Guard:   loopbackGuard(),
		Clock:   instantClock{},
	})
	if err != nil {
		t.Fatal(err)
	}
	err = e.Test(context.Background(), "splunk")
	if err == nil || !strings.Contains(err.Error(), "status 403 code 4: Invalid token") || strings.Contains(err.Error(), token) {
		t.Errorf("Test error %v", err)
	}
	if gotAuth != "Splunk "+token {
		t.Errorf("collector saw Authorization %q", gotAuth)
	}
}

// A test waits its turn behind a batch in flight instead of using the
// sink at the same time, and gives up when its context ends.
func TestTestWaitsForBatchInFlight(t *testing.T) {
	release := make(chan struct{})
	sink := newRecordingSink()
	sink.answer = func(int, []Record) ([]Record, error) {
		<-release
		return nil, nil
	}
	o := newOutputWithSink(OutputConfig{Name: "busy", BatchSize: 1}, sink, instantClock{}, nil, zerolog.Nop())
	startOutput(t, o)
	o.Offer(record(authEvent("a")))
	for len(sink.calls()) == 0 {
		waitBriefly()
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	notice, _ := NoticeRecord(reuseNotice("n-test"))
	if err := o.Test(ctx, notice); !errors.Is(err, context.Canceled) {
		t.Errorf("Test during a send: %v, want context.Canceled", err)
	}
	close(release)
	if err := o.Test(context.Background(), notice); err != nil {
		t.Fatalf("Test after the send: %v", err)
	}
	calls := sink.calls()
	if len(calls) != 2 || calls[1][0].ID() != "n-test" {
		t.Errorf("sends %d, want the batch then the test", len(calls))
	}
}

// A syslog destination that is down fails the test with the dial error.
func TestExporterTestSendUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	e, err := New(Config{
		Outputs: []OutputConfig{{Name: "siem", Syslog: &SyslogConfig{Address: addr}}},
		Guard:   loopbackGuard(),
		Clock:   instantClock{},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Test(context.Background(), "siem"); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("Test of a closed port: %v", err)
	}
}
