package recording

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock advances by step on every reading, so event times are known.
type fakeClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Unix(1_700_000_000, 0), step: 250 * time.Millisecond}
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.t
	c.t = c.t.Add(c.step)
	return t
}

// castEvent is one parsed event line.
type castEvent struct {
	time float64
	kind string
	data string
}

// parseCast checks every line of cast against asciicast v2 and returns the
// header and the events.
func parseCast(t testing.TB, cast []byte) (map[string]any, []castEvent) {
	t.Helper()
	if len(cast) == 0 || cast[len(cast)-1] != '\n' {
		t.Fatalf("cast does not end with a newline: %q", cast)
	}
	lines := strings.Split(strings.TrimSuffix(string(cast), "\n"), "\n")
	var h map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &h); err != nil {
		t.Fatalf("header %q: %v", lines[0], err)
	}
	if h["version"] != float64(2) {
		t.Fatalf("header version %v", h["version"])
	}
	for _, k := range []string{"width", "height", "timestamp"} {
		if _, ok := h[k].(float64); !ok {
			t.Fatalf("header %s = %v, want a number", k, h[k])
		}
	}
	var events []castEvent
	last := -1.0
	for i, line := range lines[1:] {
		var raw []json.RawMessage
		if err := json.Unmarshal([]byte(line), &raw); err != nil || len(raw) != 3 {
			t.Fatalf("event line %d %q: %v", i+1, line, err)
		}
		var ev castEvent
		if err := json.Unmarshal(raw[0], &ev.time); err != nil {
			t.Fatalf("event %d time: %v", i+1, err)
		}
		if err := json.Unmarshal(raw[1], &ev.kind); err != nil {
			t.Fatalf("event %d kind: %v", i+1, err)
		}
		if err := json.Unmarshal(raw[2], &ev.data); err != nil {
			t.Fatalf("event %d data: %v", i+1, err)
		}
		switch ev.kind {
		case "o", "i", "r":
		default:
			t.Fatalf("event %d kind %q", i+1, ev.kind)
		}
		if ev.time < last {
			t.Fatalf("event %d time %v before %v", i+1, ev.time, last)
		}
		last = ev.time
		events = append(events, ev)
	}
	return h, events
}

func TestRecordSession(t *testing.T) {
	dir := t.TempDir()
	clock := newClock()
	r := Start(Options{Dir: dir}, 100, 30, "xterm-256color", clock.now)

	r.Output([]byte("host login: "))
	r.Input([]byte("root\r"))
	r.Resize(120, 40)
	r.Output([]byte("<b>&\"quoted\"\\\x1b[0m\r\n"))
	got := r.Close()

	h, events := parseCast(t, got.GetCast())
	if h["width"] != float64(100) || h["height"] != float64(30) || h["timestamp"] != float64(1_700_000_000) {
		t.Errorf("header %v", h)
	}
	env, _ := h["env"].(map[string]any)
	if env["TERM"] != "xterm-256color" || env["SHELL"] != "/bin/bash" {
		t.Errorf("header env %v", env)
	}
	want := []castEvent{
		{0.25, "o", "host login: "},
		{0.5, "i", "root\r"},
		{0.75, "r", "120x40"},
		{1.0, "o", "<b>&\"quoted\"\\\x1b[0m\r\n"},
	}
	if fmt.Sprint(events) != fmt.Sprint(want) {
		t.Errorf("events\n got %v\nwant %v", events, want)
	}
	if !strings.Contains(string(got.GetCast()), `"<b>&\"quoted\"\\\u001b[0m\r\n"`) {
		t.Errorf("data not escaped as expected: %s", got.GetCast())
	}
	if got.GetDurationMs() != 1250 || got.GetWidth() != 100 || got.GetHeight() != 30 || got.GetTruncated() {
		t.Errorf("payload duration %d size %dx%d truncated %v", got.GetDurationMs(), got.GetWidth(), got.GetHeight(), got.GetTruncated())
	}
	if got.GetInputBytes() != 5 || got.GetOutputBytes() != 12+19 {
		t.Errorf("counters in %d out %d", got.GetInputBytes(), got.GetOutputBytes())
	}

	left, err := os.ReadDir(dir)
	if err != nil || len(left) != 0 {
		t.Errorf("files left in dir after Close: %v %v", left, err)
	}
	if again := r.Close(); again != got {
		t.Errorf("second Close returned a different payload")
	}
}

func TestPartialFileWhileLive(t *testing.T) {
	dir := t.TempDir()
	r := Start(Options{Dir: dir}, 80, 24, "vt100", newClock().now)
	r.Output([]byte("uname -a\r\n"))

	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Fatalf("live recording files %v %v, want one", entries, err)
	}
	info, err := entries[0].Info()
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("live file mode %v, want 0600", info.Mode().Perm())
	}
	partial, err := os.ReadFile(dir + "/" + entries[0].Name())
	if err != nil {
		t.Fatal(err)
	}
	_, events := parseCast(t, partial)
	if len(events) != 1 || events[0].data != "uname -a\r\n" {
		t.Errorf("partial file events %v", events)
	}
	r.Close()
}

func TestInvalidUTF8(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{"invalid byte", []string{"a\xffb"}, "a\uFFFDb"},
		{"split sequence joined", []string{"caf\xc3", "\xa9!"}, "café!"},
		{"split four-byte", []string{"\xf0\x9f", "\x98", "\x80"}, "😀"},
		{"lead without continuation", []string{"x\xe2", "y"}, "x\uFFFDy"},
		{"dangling at close", []string{"z\xe2\x82"}, "z\uFFFD\uFFFD"},
		{"nul and del", []string{"\x00\x7f"}, "\x00\x7f"},
		{"line separators", []string{"\u2028\u2029"}, "\u2028\u2029"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Start(Options{}, 80, 24, "xterm", newClock().now)
			for _, w := range tc.writes {
				r.Output([]byte(w))
			}
			_, events := parseCast(t, r.Close().GetCast())
			var got strings.Builder
			for _, ev := range events {
				got.WriteString(ev.data)
			}
			if got.String() != tc.want {
				t.Errorf("output %q, want %q", got.String(), tc.want)
			}
		})
	}
}

func TestCap(t *testing.T) {
	r := Start(Options{MaxBytes: 300}, 80, 24, "xterm", newClock().now)
	chunk := bytes.Repeat([]byte("0123456789"), 10)
	for range 5 {
		r.Output(chunk)
		r.Input([]byte("ab"))
	}
	got := r.Close()

	_, events := parseCast(t, got.GetCast())
	if !got.GetTruncated() {
		t.Error("Truncated not set")
	}
	last := events[len(events)-1]
	if last.kind != "o" || last.data != "\r\n[recording truncated: cap of 300 bytes reached]\r\n" {
		t.Errorf("last event %v", last)
	}
	marker := len(encodeEvent(last.time, "o", []byte(last.data)))
	if n := len(got.GetCast()) - marker; n > 300 {
		t.Errorf("cast without marker is %d bytes, cap 300", n)
	}
	// The event that crossed the cap is kept in part.
	if prev := events[len(events)-2]; prev.kind != "o" || len(prev.data) == 0 || len(prev.data) >= len(chunk) || !strings.HasPrefix(string(chunk), prev.data) {
		t.Errorf("event before marker %v", prev)
	}
	if got.GetOutputBytes() != 500 || got.GetInputBytes() != 10 {
		t.Errorf("counters in %d out %d, want 10 and 500", got.GetInputBytes(), got.GetOutputBytes())
	}
}

func TestCapSmallerThanHeader(t *testing.T) {
	r := Start(Options{MaxBytes: 10}, 80, 24, "xterm", newClock().now)
	r.Output([]byte("hello"))
	got := r.Close()
	_, events := parseCast(t, got.GetCast())
	if len(events) != 1 || !strings.Contains(events[0].data, "cap of 10 bytes") || !got.GetTruncated() {
		t.Errorf("events %v truncated %v", events, got.GetTruncated())
	}
}

func TestLowDiskAtStart(t *testing.T) {
	dir := t.TempDir()
	free := func(string) (uint64, error) { return 1 << 20, nil }
	r := start(Options{Dir: dir, MinFreeBytes: 2 << 20}, 80, 24, "xterm", newClock().now, free)
	r.Output([]byte("ls\r\n"))
	got := r.Close()

	_, events := parseCast(t, got.GetCast())
	if len(events) != 1 || events[0].data != "\r\n[recording stopped: less than 2097152 bytes of free disk space]\r\n" {
		t.Errorf("events %v", events)
	}
	if !got.GetTruncated() || got.GetOutputBytes() != 4 {
		t.Errorf("truncated %v output bytes %d", got.GetTruncated(), got.GetOutputBytes())
	}
}

func TestDiskFillsDuringSession(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	avail := uint64(1 << 30)
	free := func(string) (uint64, error) {
		mu.Lock()
		defer mu.Unlock()
		return avail, nil
	}
	r := start(Options{Dir: dir, MinFreeBytes: 1 << 20, MaxBytes: 1 << 22}, 80, 24, "xterm", newClock().now, free)
	block := bytes.Repeat([]byte("x"), 4096)
	for range 20 {
		r.Output(block)
	}
	mu.Lock()
	avail = 1 << 10
	mu.Unlock()
	// The next check comes within freeCheckInterval bytes.
	for range 20 {
		r.Output(block)
	}
	got := r.Close()

	_, events := parseCast(t, got.GetCast())
	last := events[len(events)-1]
	if !strings.HasPrefix(last.data, "\r\n[recording stopped: less than") || !got.GetTruncated() {
		t.Errorf("last event %v truncated %v", last, got.GetTruncated())
	}
	if recorded := len(events) - 1; recorded >= 40 || recorded < 20 {
		t.Errorf("%d output events kept, want between 20 and 39", recorded)
	}
	if got.GetOutputBytes() != 40*4096 {
		t.Errorf("output bytes %d", got.GetOutputBytes())
	}
}

func TestStatfsError(t *testing.T) {
	free := func(string) (uint64, error) { return 0, errors.New("statfs failed") }
	r := start(Options{Dir: t.TempDir()}, 80, 24, "xterm", newClock().now, free)
	r.Output([]byte("ok"))
	got := r.Close()
	_, events := parseCast(t, got.GetCast())
	if len(events) != 1 || events[0].data != "ok" || got.GetTruncated() {
		t.Errorf("a failing statfs stopped the recording: %v", events)
	}
}

func TestUnusableDirKeepsMemory(t *testing.T) {
	r := Start(Options{Dir: "/nonexistent/decnet-recordings"}, 80, 24, "xterm", newClock().now)
	r.Output([]byte("id\r\n"))
	_, events := parseCast(t, r.Close().GetCast())
	if len(events) != 1 || events[0].data != "id\r\n" {
		t.Errorf("events %v", events)
	}
}

func TestAfterClose(t *testing.T) {
	r := Start(Options{}, 80, 24, "xterm", newClock().now)
	got := r.Close()
	r.Output([]byte("late"))
	r.Input([]byte("late"))
	r.Resize(1, 1)
	if got.GetOutputBytes() != 0 || got.GetInputBytes() != 0 || bytes.Count(got.GetCast(), []byte("\n")) != 1 {
		t.Errorf("writes after Close changed the payload: %+v", got)
	}
}

// echoConn makes each write readable.
type echoConn struct {
	bytes.Buffer
}

func TestWrap(t *testing.T) {
	r := Start(Options{}, 80, 24, "xterm", newClock().now)
	rw := r.Wrap(&echoConn{})
	if _, err := io.WriteString(rw, "typed"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	n, err := rw.Read(buf)
	if err != nil || string(buf[:n]) != "typed" {
		t.Fatalf("read %q %v", buf[:n], err)
	}
	_, events := parseCast(t, r.Close().GetCast())
	if fmt.Sprint(events) != fmt.Sprint([]castEvent{{0.25, "o", "typed"}, {0.5, "i", "typed"}}) {
		t.Errorf("events %v", events)
	}
}

// TestConcurrentStreams runs output and input from two goroutines, as the
// SSH decoy does; run it with -race.
func TestConcurrentStreams(t *testing.T) {
	r := Start(Options{Dir: t.TempDir()}, 80, 24, "xterm", nil)
	var wg sync.WaitGroup
	for _, write := range []func([]byte){r.Output, r.Input} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				write([]byte("é"))
			}
		}()
	}
	wg.Wait()
	got := r.Close()
	_, events := parseCast(t, got.GetCast())
	var out, in int
	for _, ev := range events {
		if ev.data != "é" {
			t.Fatalf("event data %q", ev.data)
		}
		if ev.kind == "o" {
			out++
		} else {
			in++
		}
	}
	if out != 200 || in != 200 || got.GetOutputBytes() != 400 || got.GetInputBytes() != 400 {
		t.Errorf("events out %d in %d, bytes out %d in %d", out, in, got.GetOutputBytes(), got.GetInputBytes())
	}
}

func FuzzRecording(f *testing.F) {
	f.Add([]byte("hello\r\n"), []byte("ls\r"), uint16(200))
	f.Add([]byte("\xff\xfe\xc3"), []byte("\xa9\xe2\x82"), uint16(64))
	f.Add([]byte("\u2028\"\\\x00"), []byte{0xf4, 0x90, 0x80, 0x80}, uint16(0))
	f.Fuzz(func(t *testing.T, out, in []byte, capBytes uint16) {
		r := Start(Options{MaxBytes: int64(capBytes)}, 80, 24, string(in), newClock().now)
		// Feed the input in uneven pieces so split sequences are tried.
		for i := 0; i < len(out); i += 3 {
			r.Output(out[i:min(i+3, len(out))])
			if i < len(in) {
				r.Input(in[i:min(i+2, len(in))])
			}
		}
		got := r.Close()
		sc := bufio.NewScanner(bytes.NewReader(got.GetCast()))
		sc.Buffer(nil, 1<<22)
		for sc.Scan() {
			if !json.Valid(sc.Bytes()) {
				t.Fatalf("invalid JSON line %q", sc.Bytes())
			}
		}
		parseCast(t, got.GetCast())
		if got.GetOutputBytes() != uint64(len(out)) {
			t.Fatalf("output bytes %d, want %d", got.GetOutputBytes(), len(out))
		}
	})
}
