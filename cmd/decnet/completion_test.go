package main

import (
	"bytes"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

func TestCompletionScriptContents(t *testing.T) {
	var out bytes.Buffer
	if err := runCompletion([]string{"bash"}, &out); err != nil {
		t.Fatal(err)
	}
	script := out.String()
	for _, want := range []string{
		`"list show decommission"`,
		`"list show create update pause resume delete test rotate-secret deliveries dead-letters replay suppressions suppress unsuppress"`,
		`"webhooks create --format") words="generic slack teams discord thehive wazuh"`,
		`"agents list") words="--server --ca-file --config --output --data-dir --store --database-url-file"`,
		`"list show export intel notes note triage"`,
		`"attackers intel") words="--server --ca-file --config --output --refresh"`,
	} {
		if !strings.Contains(script, want) {
			t.Errorf("completion script lacks %s", want)
		}
	}
}

// TestCompletionInBash loads the script into bash and completes a few
// command lines.
func TestCompletionInBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	var script bytes.Buffer
	if err := runCompletion([]string{"bash"}, &script); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		words []string
		want  string
	}{
		{[]string{"decnet", "webh"}, "webhooks"},
		{[]string{"decnet", "webhooks", "dead"}, "dead-letters"},
		{[]string{"decnet", "agents", "s"}, "show"},
		{[]string{"decnet", "webhooks", "create", "--format", "te"}, "teams"},
		{[]string{"decnet", "webhooks", "update", "wh-1", "--clear"}, "--clear-authorization"},
		{[]string{"decnet", "tokens", "create", "--data-d"}, "--data-dir"},
		{[]string{"decnet", "events", "list", "--output", "j"}, "json"},
		{[]string{"decnet", "credentials", "list", "--output", "c"}, "csv"},
		{[]string{"decnet", "webhooks", "rotate-secret", "--g"}, "--grace"},
		{[]string{"decnet", "webhooks", "suppress", "--pre"}, "--prefix"},
		{[]string{"decnet", "attackers", "list", "--min"}, "--min-events"},
		{[]string{"decnet", "attackers", "list", "--sort", "au"}, "auth-attempts"},
		{[]string{"decnet", "exp"}, "export"},
		{[]string{"decnet", "export", "t"}, "test"},
		{[]string{"decnet", "attackers", "int"}, "intel"},
		{[]string{"decnet", "attackers", "intel", "a-1", "--ref"}, "--refresh"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.words, " "), func(t *testing.T) {
			var words strings.Builder
			for _, w := range tt.words {
				words.WriteString(" '" + w + "'")
			}
			program := script.String() + "COMP_WORDS=(" + words.String() + ")\nCOMP_CWORD=" +
				strconv.Itoa(len(tt.words)-1) + "\n_decnet\necho \"${COMPREPLY[*]}\"\n"
			out, err := exec.Command(bash, "-c", program).CombinedOutput()
			if err != nil {
				t.Fatalf("bash: %v: %s", err, out)
			}
			if got := strings.TrimSpace(string(out)); got != tt.want {
				t.Errorf("completion of %q = %q, want %q", tt.words, got, tt.want)
			}
		})
	}
}
