package export

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	token := filepath.Join(dir, "hec-token")
	if err := os.WriteFile(token, []byte("11111111-2222-3333-4444-555555555555\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "export.yaml")
	if err := os.WriteFile(path, []byte(`allow_cidrs: ["10.20.0.0/16"]
outputs:
  - name: siem
    topics: ["event.auth.attempt", "credential.>"]
    syslog: {address: "10.20.0.5:6514", tls: true, format: cef}
  - name: splunk
    splunk: {url: "https://splunk.example:8088", token_file: `+token+`, index: honeypot}
  - name: archive
    lines: {path: /var/log/decnet/events.ndjson, max_files: 3}
    apply_suppression: true
`), 0o600); err != nil {
		t.Fatal(err)
	}
	outputs, allow, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(allow) != 1 || allow[0].String() != "10.20.0.0/16" || len(outputs) != 3 {
		t.Fatalf("allow %v, %d outputs", allow, len(outputs))
	}
	if s := outputs[0].Syslog; s == nil || s.Address != "10.20.0.5:6514" || s.TLS == nil || s.Format != FormatCEF || len(outputs[0].Topics) != 2 {
		t.Errorf("syslog = %+v", outputs[0])
	}
	if s := outputs[1].Splunk; s == nil || s.Token.Reveal() != "11111111-2222-3333-4444-555555555555" || s.Index != "honeypot" {
		t.Errorf("splunk = %+v", s)
	}
	if l := outputs[2].Lines; l == nil || l.MaxFiles != 3 || l.TLS != nil {
		t.Errorf("lines = %+v", l)
	}
	if outputs[0].ApplySuppression || !outputs[2].ApplySuppression {
		t.Errorf("apply_suppression = %v, %v; want off unless set", outputs[0].ApplySuppression, outputs[2].ApplySuppression)
	}

	for name, body := range map[string]string{
		"two kinds":      "outputs: [{name: x, syslog: {address: a}, lines: {path: p}}]",
		"none":           "outputs: [{name: x}]",
		"unknown key":    "outputs: [{name: x, lines: {path: p, colour: red}}]",
		"missing token":  "outputs: [{name: x, splunk: {url: u}}]",
		"bad allow cidr": "allow_cidrs: [nope]",
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, err := LoadFile(p); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
