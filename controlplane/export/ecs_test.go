package export

import (
	"bufio"
	"encoding/json"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// readFixture returns the non-comment lines of a testdata file.
func readFixture(t *testing.T, name string) map[string]bool {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			out[line] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// flatten returns the dotted leaf names of a decoded JSON document with
// their values.
func flatten(prefix string, m map[string]any, out map[string]any) {
	for k, v := range m {
		name := k
		if prefix != "" {
			name = prefix + "." + k
		}
		if child, ok := v.(map[string]any); ok {
			flatten(name, child, out)
			continue
		}
		out[name] = v
	}
}

// everyKind returns one record of each event kind and notice subject.
func everyKind() []Record {
	payloads := map[string]func(*eventv1.Event){
		"connection.opened": func(e *eventv1.Event) {
			e.Payload = &eventv1.Event_ConnectionOpened{ConnectionOpened: &eventv1.ConnectionOpened{Transport: "tcp"}}
		},
		"connection.closed": func(e *eventv1.Event) {
			e.Payload = &eventv1.Event_ConnectionClosed{ConnectionClosed: &eventv1.ConnectionClosed{DurationMs: 1500, BytesReceived: 10, BytesSent: 20, Reason: "timeout"}}
		},
		"connection.rejected": func(e *eventv1.Event) {
			e.Payload = &eventv1.Event_ConnectionRejected{ConnectionRejected: &eventv1.ConnectionRejected{Reason: "per_source_limit", Count: 37}}
		},
		"auth.attempt": func(*eventv1.Event) {},
		"command": func(e *eventv1.Event) {
			e.Payload = &eventv1.Event_Command{Command: &eventv1.Command{Line: "uname -a", Channel: "exec"}}
		},
		"http.request": func(e *eventv1.Event) {
			e.Payload = &eventv1.Event_HttpRequest{HttpRequest: &eventv1.HTTPRequest{Method: "GET", Target: "/admin", Protocol: "HTTP/1.1", Host: "web-01", UserAgent: "curl/8", BodySize: 3, Status: 401}}
		},
		"file.captured": func(e *eventv1.Event) {
			e.Payload = &eventv1.Event_FileCaptured{FileCaptured: &eventv1.FileCaptured{Sha256: []byte{1, 2}, Size: 4, Name: "x.sh", Channel: "download", Url: "http://example.invalid/x.sh", Stored: true}}
		},
		"download.requested": func(e *eventv1.Event) {
			e.Payload = &eventv1.Event_DownloadRequested{DownloadRequested: &eventv1.DownloadRequested{Url: "http://example.invalid/x", Tool: "wget", Outcome: "fetched", Sha256: []byte{3}, Size: 9}}
		},
		"file.requested": func(e *eventv1.Event) {
			e.Payload = &eventv1.Event_FileRequested{FileRequested: &eventv1.FileRequested{Name: "/etc/passwd", Channel: "tftp_read", Served: true}}
		},
		"session.recorded": func(e *eventv1.Event) {
			e.Payload = &eventv1.Event_SessionRecorded{SessionRecorded: &eventv1.SessionRecorded{Cast: []byte("{}"), DurationMs: 10, InputBytes: 1, OutputBytes: 2}}
		},
		"forward.requested": func(e *eventv1.Event) {
			e.Payload = &eventv1.Event_ForwardRequested{ForwardRequested: &eventv1.ForwardRequested{Type: "direct-tcpip", Host: "example.invalid", Port: 25}}
		},
		"client.fingerprinted": func(e *eventv1.Event) {
			e.Payload = &eventv1.Event_ClientFingerprinted{ClientFingerprinted: &eventv1.ClientFingerprint{
				SshClientVersion: "SSH-2.0-Go", Hassh: "0123456789abcdef0123456789abcdef", HasshAlgorithms: "a;b;c;none", Ja3: "fedcba9876543210fedcba9876543210", Ja4: "t13d1516h2_8daaf6152771_b186095e22b6",
			}}
		},
		"mail.received": func(e *eventv1.Event) {
			e.Payload = &eventv1.Event_MailReceived{MailReceived: &eventv1.MailReceived{Helo: "x", MailFrom: "a@example.invalid", RcptTo: []string{"b@example.invalid"}, Size: 5, Sha256: []byte{4}, Subject: "hi"}}
		},
	}
	var out []Record
	for kind, set := range payloads {
		se := authEvent("id-" + kind)
		se.Event.Kind = kind
		set(se.Event)
		out = append(out, record(se))
	}
	out = append(out,
		Record{Topic: "credential.reuse.detected", Notice: reuseNotice("n-reuse")},
		Record{Topic: "credential.captured", Notice: &apiv1.Notice{
			Id: "n-captured", Subject: "credential.captured", Time: authEvent("x").Event.Time,
			AttackerId: "a", Summary: "root on web-01/ssh",
			Detail: &apiv1.Notice_Event{Event: authEvent("id-behind")},
		}},
	)
	return out
}

func TestECSFieldNamesAreECS(t *testing.T) {
	fields := readFixture(t, "ecs_fields.txt")
	allowed := readFixture(t, "ecs_allowed_values.txt")

	for _, r := range everyKind() {
		t.Run(r.Topic, func(t *testing.T) {
			line, err := testFormatter.ecsJSON(r)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(line, &m); err != nil {
				t.Fatal(err)
			}
			flat := map[string]any{}
			flatten("", m, flat)
			for name, v := range flat {
				if strings.HasPrefix(name, "decnet.") {
					continue
				}
				if !fields[name] {
					t.Errorf("field %q is not in the ECS fixture", name)
				}
				switch name {
				case "event.kind", "event.outcome":
					if !allowed[name+"="+v.(string)] {
						t.Errorf("%s=%v is not an ECS allowed value", name, v)
					}
				case "event.category", "event.type":
					for _, x := range v.([]any) {
						if !allowed[name+"="+x.(string)] {
							t.Errorf("%s=%v is not an ECS allowed value", name, x)
						}
					}
				}
			}
			for _, must := range []string{"@timestamp", "ecs.version", "event.kind", "event.category", "event.type", "event.action", "observer.type"} {
				if _, ok := flat[must]; !ok {
					t.Errorf("document lacks %s", must)
				}
			}
			if strings.Contains(string(line), "hunter2") {
				t.Error("document carries the captured secret")
			}
		})
	}
}

func TestECSAuthAttemptValues(t *testing.T) {
	line, err := testFormatter.ecsJSON(record(authEvent("0190a8c4-0000-7000-8000-000000000001")))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatal(err)
	}
	flat := map[string]any{}
	flatten("", m, flat)

	want := map[string]any{
		"@timestamp":         "2026-03-01T12:34:56.789Z",
		"ecs.version":        ECSVersion,
		"event.id":           "0190a8c4-0000-7000-8000-000000000001",
		"event.kind":         "event",
		"event.action":       "event.auth.attempt",
		"event.outcome":      "failure",
		"event.ingested":     "2026-03-01T12:34:57.789Z",
		"source.ip":          "127.0.0.2",
		"source.port":        float64(51515),
		"destination.ip":     "127.0.0.1",
		"destination.port":   float64(2222),
		"user.name":          "root",
		"network.transport":  "tcp",
		"observer.name":      "web-01",
		"observer.hostname":  "web-01",
		"observer.type":      "honeypot",
		"observer.vendor":    "DECNET",
		"observer.version":   "1.2.3",
		"service.name":       "ssh",
		"decnet.attacker_id": "0190a8c4-0000-7000-8000-00000000a77c",
		"decnet.secret_kind": "plaintext",
		"decnet.mechanism":   "ssh_password",
		"decnet.session_id":  "sess-1",
	}
	for k, v := range want {
		if flat[k] != v {
			t.Errorf("%s = %#v, want %#v", k, flat[k], v)
		}
	}
	cats := flat["event.category"].([]any)
	if len(cats) != 1 || cats[0] != "authentication" {
		t.Errorf("event.category = %v", cats)
	}
}

func TestECSNoticeCarriesEventContext(t *testing.T) {
	recs := everyKind()
	i := slices.IndexFunc(recs, func(r Record) bool { return r.Topic == "credential.captured" })
	d := testFormatter.ecs(recs[i])
	b, _ := json.Marshal(d)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	flat := map[string]any{}
	flatten("", m, flat)

	want := map[string]any{
		"event.kind":         "alert",
		"event.id":           "n-captured",
		"event.action":       "credential.captured",
		"message":            "root on web-01/ssh",
		"source.ip":          "127.0.0.2",
		"user.name":          "root",
		"decnet.attacker_id": "a",
		"decnet.event_id":    "id-behind",
	}
	for k, v := range want {
		if flat[k] != v {
			t.Errorf("%s = %#v, want %#v", k, flat[k], v)
		}
	}
	keys := make([]string, 0, len(flat))
	for k := range flat {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if slices.Contains(keys, "decnet.kind") != true {
		t.Errorf("notice lost the event kind; fields %v", keys)
	}
}
