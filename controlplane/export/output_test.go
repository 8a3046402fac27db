package export

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/fanout"
	"github.com/decnet/decnet/controlplane/topics"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

func TestTopicFilter(t *testing.T) {
	tests := []struct {
		patterns []string
		topic    string
		want     bool
	}{
		{nil, "event.auth.attempt", true},
		{[]string{"event.>"}, "event.auth.attempt", true},
		{[]string{"event.>"}, "credential.captured", false},
		{[]string{"event.auth.*"}, "event.auth.attempt", true},
		{[]string{"event.*"}, "event.auth.attempt", false},
		{[]string{"event.command"}, "event.command", true},
		{[]string{"credential.>"}, "credential.reuse.detected", true},
		{[]string{"credential.*"}, "credential.reuse.detected", false},
		{[]string{"event.command", "credential.>"}, "credential.captured", true},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.patterns, ",")+" "+tt.topic, func(t *testing.T) {
			o := newOutputWithSink(OutputConfig{Name: "t", Topics: tt.patterns}, newRecordingSink(), instantClock{}, nil, zerolog.Nop())
			if got := o.Matches(tt.topic); got != tt.want {
				t.Errorf("Matches(%q) = %v, want %v", tt.topic, got, tt.want)
			}
		})
	}
}

func TestOutputRejectsBadPattern(t *testing.T) {
	_, err := New(Config{Outputs: []OutputConfig{{Name: "x", Topics: []string{"event.>.x"}, Lines: &LinesConfig{Path: filepath.Join(t.TempDir(), "f")}}}})
	if err == nil {
		t.Fatal("pattern with '>' in the middle accepted")
	}
}

// TestSlowReceiverDoesNotBlock parks the sink in Send and offers more
// records than the queue holds: Offer returns each time and the excess is
// counted as dropped.
func TestSlowReceiverDoesNotBlock(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{})
	var once sync.Once
	sink := newRecordingSink()
	sink.answer = func(int, []Record) ([]Record, error) {
		once.Do(func() { close(entered) })
		<-release
		return nil, nil
	}
	const queue = 8
	o := newOutputWithSink(OutputConfig{Name: "slow", QueueSize: queue, BatchSize: 1}, sink, instantClock{}, nil, zerolog.Nop())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()

	o.Offer(record(authEvent("first")))
	<-entered

	const extra = 100
	for i := 0; i < queue+extra; i++ {
		o.Offer(record(authEvent("more")))
	}
	if got := o.Stats().Dropped; got != extra {
		t.Errorf("dropped %d, want %d", got, extra)
	}

	close(release)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
}

func TestRetryOnlyWhatTheSinkHandsBack(t *testing.T) {
	sink := newRecordingSink()
	sink.answer = func(call int, batch []Record) ([]Record, error) {
		switch call {
		case 0:
			// One rejected for good, the last to retry.
			return batch[2:], &rejectedError{Count: 1, Err: errors.New("mapping")}
		case 1:
			return retryAll(batch, errors.New("busy"))
		}
		return nil, nil
	}
	reg := prometheus.NewRegistry()
	m, err := newMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	o := newOutputWithSink(OutputConfig{Name: "es", BatchSize: 3}, sink, instantClock{}, m, zerolog.Nop())
	// Queued before Run, so they form one batch.
	for _, id := range []string{"a", "b", "c"} {
		o.Offer(record(authEvent(id)))
	}
	startOutput(t, o)
	for range 3 {
		<-sink.sent
	}
	// The loop counts after Send returns, so wait for the counters.
	for st := o.Stats(); st.Delivered+st.Failed < 3; st = o.Stats() {
		waitBriefly()
	}

	calls := sink.calls()
	if len(calls) != 3 {
		t.Fatalf("%d sends, want 3", len(calls))
	}
	if len(calls[0]) != 3 || len(calls[1]) != 1 || calls[1][0].ID() != "c" || calls[2][0].ID() != "c" {
		t.Errorf("sends: %v / %v / %v", ids(calls[0]), ids(calls[1]), ids(calls[2]))
	}
	want := Stats{Delivered: 2, Failed: 1, LastError: "busy", LastErrorAt: testTime, LastDeliveredAt: testTime}
	if got := o.Stats(); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
	if got := testutil.ToFloat64(m.records.WithLabelValues("es", outcomeDelivered)); got != 2 {
		t.Errorf("delivered metric %v, want 2", got)
	}
}

func TestGiveUpAfterMaxAttempts(t *testing.T) {
	sink := newRecordingSink()
	sink.answer = func(_ int, batch []Record) ([]Record, error) {
		if batch[0].ID() == "b" {
			return nil, nil
		}
		return retryAll(batch, errors.New("down"))
	}
	o := newOutputWithSink(OutputConfig{Name: "down", MaxAttempts: 4, BatchSize: 1}, sink, instantClock{}, nil, zerolog.Nop())
	startOutput(t, o)

	o.Offer(record(authEvent("a")))
	for range 4 {
		<-sink.sent
	}
	o.Offer(record(authEvent("b")))
	<-sink.sent
	if got := sink.calls(); len(got) != 5 || got[4][0].ID() != "b" {
		t.Fatalf("sends %d, want 4 for a then b", len(got))
	}
	if got := o.Stats().Failed; got != 1 {
		t.Errorf("failed %d, want 1", got)
	}
}

func TestBackoffBounds(t *testing.T) {
	for attempt := 1; attempt < 40; attempt++ {
		d := backoff(attempt)
		ceiling := backoffCap
		if attempt < 16 {
			ceiling = min(backoffBase<<(attempt-1), backoffCap)
		}
		if d < ceiling/2 || d > ceiling {
			t.Errorf("backoff(%d) = %v, want within [%v, %v]", attempt, d, ceiling/2, ceiling)
		}
	}
}

// startOutput runs o until the test ends and fails the test if Run
// returns an error.
func startOutput(t *testing.T, o *Output) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
}

func ids(rs []Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID()
	}
	return out
}

// TestExporterEndToEnd runs an exporter on an in-process broker and
// notice publisher with two filtered file outputs.
func TestExporterEndToEnd(t *testing.T) {
	dir := t.TempDir()
	hub := fanout.New()
	notices := topics.New[*apiv1.Notice]()
	e, err := New(Config{
		Outputs: []OutputConfig{
			{Name: "auth-cef", Topics: []string{"event.auth.>", "credential.>"}, Lines: &LinesConfig{Path: filepath.Join(dir, "cef.log"), Format: FormatCEF}, BatchSize: 1},
			{Name: "all-ecs", Lines: &LinesConfig{Path: filepath.Join(dir, "ecs.ndjson")}, BatchSize: 1},
		},
		Events:  hub,
		Notices: notices,
		Version: "1.2.3",
		Clock:   instantClock{},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()

	// Run subscribes asynchronously; publish until the hub has the
	// exporter as a subscriber.
	for hub.Subscribers() == 0 {
		time.Sleep(time.Millisecond)
	}
	hub.Publish([]*apiv1.StoredEvent{authEvent("ev-1"), commandEvent("ev-2", "id")})
	if err := notices.Publish("credential.reuse.detected", reuseNotice("n-1")); err != nil {
		t.Fatal(err)
	}

	waitLines(t, filepath.Join(dir, "cef.log"), 2)
	waitLines(t, filepath.Join(dir, "ecs.ndjson"), 3)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}

	cef := readLines(t, filepath.Join(dir, "cef.log"))
	if !containsLine(cef, "externalId=ev-1 ") || !containsLine(cef, "externalId=n-1 ") || containsLine(cef, "externalId=ev-2 ") {
		t.Errorf("cef output filtered wrongly:\n%s", strings.Join(cef, "\n"))
	}
	ecs := readLines(t, filepath.Join(dir, "ecs.ndjson"))
	for _, id := range []string{`"id":"ev-1"`, `"id":"ev-2"`, `"id":"n-1"`} {
		if !containsLine(ecs, id) {
			t.Errorf("ecs output lacks %s:\n%s", id, strings.Join(ecs, "\n"))
		}
	}
}

func containsLine(lines []string, sub string) bool {
	for _, l := range lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// waitLines polls until path has n lines; the test deadline bounds it.
func waitLines(t *testing.T, path string, n int) {
	t.Helper()
	for len(readLines(t, path)) < n {
		time.Sleep(5 * time.Millisecond)
	}
}

func TestLinesRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.ndjson")
	s, err := newLinesSink(LinesConfig{Path: path, MaxBytes: 1000, MaxFiles: 2, Format: FormatCEF}, nil, testFormatter)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 8 {
		if _, err := s.Send(context.Background(), []Record{record(authEvent("id-" + string(rune('a'+i))))}); err != nil {
			t.Fatal(err)
		}
	}
	cur, one, two := readLines(t, path), readLines(t, path+".1"), readLines(t, path+".2")
	if len(cur) == 0 || len(one) == 0 || len(two) == 0 {
		t.Fatalf("rotation left %d/%d/%d lines", len(cur), len(one), len(two))
	}
	if _, err := os.Stat(path + ".3"); !os.IsNotExist(err) {
		t.Errorf("more than MaxFiles rotated files: %v", err)
	}
	if !strings.Contains(cur[len(cur)-1], "externalId=id-h ") {
		t.Errorf("newest line not in the current file: %s", cur[len(cur)-1])
	}
	for _, f := range []string{path, path + ".1", path + ".2"} {
		st, _ := os.Stat(f)
		if st.Size() > 1000 {
			t.Errorf("%s is %d bytes, over MaxBytes", f, st.Size())
		}
	}
}

func TestLinesTCPSink(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got := make(chan []string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		var lines []string
		sc := bufio.NewScanner(c)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		got <- lines
	}()

	s, err := newLinesSink(LinesConfig{Address: ln.Addr().String()}, loopbackGuard(), testFormatter)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(context.Background(), []Record{record(authEvent("a")), record(commandEvent("b", "x\ny"))}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	lines := <-got
	if len(lines) != 2 || !strings.Contains(lines[0], `"id":"a"`) || !strings.Contains(lines[1], `"command_line":"x\ny"`) {
		t.Errorf("lines %q", lines)
	}
}
