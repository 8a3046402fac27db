package export

import (
	"strings"
	"testing"

	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// The cases follow the CEF escaping rules as rsyslog documents them for
// its tocef and cef_ext_escape functions: a header escapes backslash and
// pipe, an extension value escapes backslash, equals sign and line breaks.
func TestCEFEscapeHeader(t *testing.T) {
	tests := []struct{ in, want string }{
		{"detected a | in message", `detected a \| in message`},
		{`detected a \ in packet`, `detected a \\ in packet`},
		{"equal = stays", "equal = stays"},
		{"line\nbreak", "line break"},
		{"plain", "plain"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := cefEscapeHeader(tt.in); got != tt.want {
				t.Errorf("cefEscapeHeader(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCEFEscapeValue(t *testing.T) {
	tests := []struct{ in, want string }{
		{"detected an equal sign = in message", `detected an equal sign \= in message`},
		{`detected a \ in packet`, `detected a \\ in packet`},
		{"Detected a threat.\nNo action needed.", `Detected a threat.\nNo action needed.`},
		{"crlf\r\n", `crlf\r\n`},
		{"pipe | stays", "pipe | stays"},
		{`a\=b`, `a\\\=b`},
		{"status=ok", `status\=ok`},
		{`C:\dir\file.txt`, `C:\\dir\\file.txt`},
		{"http://foo.com/x=42", `http://foo.com/x\=42`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := cefEscapeValue(tt.in); got != tt.want {
				t.Errorf("cefEscapeValue(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCEFAuthAttempt(t *testing.T) {
	got := testFormatter.cef(record(authEvent("0190a8c4-0000-7000-8000-000000000001")))
	want := "CEF:0|DECNET|DECNET|1.2.3|200|Authentication attempt|5|" +
		"rt=1772368496789 externalId=0190a8c4-0000-7000-8000-000000000001 act=event.auth.attempt " +
		"cs1Label=attackerId cs1=0190a8c4-0000-7000-8000-00000000a77c " +
		"src=127.0.0.2 spt=51515 dst=127.0.0.1 dpt=2222 proto=TCP app=ssh dvchost=web-01 " +
		"cs2Label=sessionId cs2=sess-1 cs6Label=agentId cs6=0190a8c4-0000-7000-8000-0000000a6e47 " +
		"suser=root cs3Label=secretKind cs3=plaintext cs4Label=mechanism cs4=ssh_password " +
		"cs5Label=secretSha256 cs5=f52fbd32 outcome=failure"
	if got != want {
		t.Errorf("CEF line\n got %s\nwant %s", got, want)
	}
	if strings.Contains(got, "hunter2") {
		t.Error("CEF line carries the captured secret")
	}
}

func TestCEFConnectionRejected(t *testing.T) {
	se := authEvent("0190a8c4-0000-7000-8000-000000000002")
	se.Event.Kind = "connection.rejected"
	se.Event.SessionId = ""
	se.Event.Payload = &eventv1.Event_ConnectionRejected{ConnectionRejected: &eventv1.ConnectionRejected{Reason: "per_source_limit", Count: 37}}
	got := testFormatter.cef(record(se))
	for _, want := range []string{"|104|Connections rejected|4|", " cnt=37 ", " msg=per_source_limit"} {
		if !strings.Contains(got, want) {
			t.Errorf("CEF line %s\nlacks %q", got, want)
		}
	}
}

func TestCEFCommandEscaping(t *testing.T) {
	got := testFormatter.cef(record(commandEvent("id-2", "echo a=b\\c |\nwhoami")))
	if !strings.HasPrefix(got, "CEF:0|DECNET|DECNET|1.2.3|300|Command executed|7|") {
		t.Errorf("CEF header: %s", got)
	}
	if want := ` msg=echo a\=b\\c |\nwhoami`; !strings.HasSuffix(got, want) {
		t.Errorf("CEF line %s\ndoes not end with %s", got, want)
	}
}

func TestCEFNotice(t *testing.T) {
	got := testFormatter.cef(Record{Topic: "credential.reuse.detected", Notice: reuseNotice("n-1")})
	want := "CEF:0|DECNET|DECNET|1.2.3|1001|Credential reuse detected|8|" +
		"rt=1772368496789 externalId=n-1 act=credential.reuse.detected msg=root/plaintext tried on 2 targets " +
		"cs1Label=attackerId cs1=0190a8c4-0000-7000-8000-00000000a77c suser=root " +
		"cs3Label=secretKind cs3=plaintext cs5Label=secretSha256 cs5=f52f"
	if got != want {
		t.Errorf("CEF line\n got %s\nwant %s", got, want)
	}
}

func TestCEFUnknownKindAndHeaderEscaping(t *testing.T) {
	f := formatter{product: "DEC|NET", version: `1\2`}
	se := authEvent("id-3")
	se.Event.Kind = "new.kind"
	se.Event.Payload = nil
	got := f.cef(record(se))
	if want := `CEF:0|DECNET|DEC\|NET|1\\2|event.new.kind|event.new.kind|5|`; !strings.HasPrefix(got, want) {
		t.Errorf("CEF line %s\ndoes not start with %s", got, want)
	}
}
