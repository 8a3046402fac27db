package attack

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const goodRules = `version: 1
rules:
  - id: shell
    technique: T1059.004
    name: "Command and Scripting Interpreter: Unix Shell"
    tactic: execution
    match:
      kind: [command]
`

const otherRules = `version: 1
rules:
  - id: whoami
    technique: T1033
    name: System Owner/User Discovery
    tactic: discovery
    match:
      kind: [command]
      command: '^whoami$'
`

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"not yaml", "version: [1", "line 1"},
		{"no version", "rules: []\n", "version is required"},
		{"wrong version", "version: 2\nrules: []\n", "line 1: version must be 1"},
		{"unknown top key", "version: 1\nrulez: []\n", `line 2: unknown key "rulez"`},
		{"bad technique", strings.Replace(goodRules, "T1059.004", "T159", 1), `line 3: rule "shell": technique "T159"`},
		{"bad tactic", strings.Replace(goodRules, "execution", "exec", 1), `tactic "exec"`},
		{"unknown match key", strings.Replace(goodRules, "kind:", "knd:", 1), `line 8: unknown key "knd"`},
		{"bad kind", strings.Replace(goodRules, "[command]", "[cmd]", 1), `line 8: rule "shell": kind "cmd"`},
		{"bad regexp", otherRules[:len(otherRules)-len("'^whoami$'\n")] + "'(unclosed'\n", "line 8: rule \"whoami\": command: error parsing regexp"},
		{"duplicate id", goodRules + strings.SplitN(goodRules, "rules:\n", 2)[1], `line 9: rule id "shell" already used at line 3`},
		{"bad threshold", goodRules + "    threshold: {count: 0, window: 5m}\n", "count must be between"},
		{"bad window", goodRules + "    threshold: {count: 3, window: soon}\n", `window "soon"`},
		{"bad group", goodRules + "    threshold: {count: 3, window: 1m, group_by: password}\n", `group_by "password"`},
		{"unknown threshold key", goodRules + "    threshold: {count: 3, window: 1m, per: x}\n", `unknown key "per"`},
		{"bad outcome", strings.Replace(goodRules, "kind: [command]", "auth_outcome: maybe", 1), `auth_outcome "maybe"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(strings.NewReader(tt.text))
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load error = %q, want it to contain %q", err, tt.want)
			}
			if tt.name != "not yaml" && !errors.Is(err, ErrInvalidRules) {
				t.Errorf("error %v does not wrap ErrInvalidRules", err)
			}
		})
	}
}

func TestLoadTooLarge(t *testing.T) {
	big := goodRules + "# " + strings.Repeat("x", maxRulesFile) + "\n"
	if _, err := Load(strings.NewReader(big)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("Load(too large) error = %v", err)
	}
}

func TestDefaultYAMLRoundTrip(t *testing.T) {
	rs, err := Load(strings.NewReader(string(DefaultYAML())))
	if err != nil {
		t.Fatalf("Load(DefaultYAML()) = %v", err)
	}
	if rs.Len() != Default().Len() || rs.Version() != 1 {
		t.Errorf("reloaded default has %d rules version %d, want %d version 1", rs.Len(), rs.Version(), Default().Len())
	}
}

// reports records each call a watcher makes to its onReload callback.
type reports struct {
	rules []*RuleSet
	errs  []error
}

func (r *reports) add(rs *RuleSet, err error) {
	r.rules = append(r.rules, rs)
	r.errs = append(r.errs, err)
}

func writeRules(t *testing.T, path, text string, mtime time.Time) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	// Set the time explicitly: a rewrite within the file system's
	// timestamp granularity must still be seen as a change.
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func TestWatcherReloadAndBrokenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules.yaml")
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	writeRules(t, path, goodRules, t0)

	var rep reports
	w := &watcher{path: path, onReload: rep.add}
	w.poll()
	if len(rep.rules) != 1 || rep.errs[0] != nil || rep.rules[0].Techniques()[0].RuleID != "shell" {
		t.Fatalf("first poll reported %+v", rep)
	}
	first := rep.rules[0]

	w.poll()
	if len(rep.rules) != 1 {
		t.Fatalf("an unchanged file was reported again: %d reports", len(rep.rules))
	}

	writeRules(t, path, otherRules, t0.Add(time.Second))
	w.poll()
	if len(rep.rules) != 2 || rep.errs[1] != nil || rep.rules[1].Techniques()[0].RuleID != "whoami" {
		t.Fatalf("edit not reloaded: %+v", rep)
	}
	second := rep.rules[1]

	writeRules(t, path, "version: 1\nrules:\n  - id: x\n    technique: nope\n", t0.Add(2*time.Second))
	w.poll()
	if len(rep.rules) != 3 || rep.errs[2] == nil || !strings.Contains(rep.errs[2].Error(), "line 3") {
		t.Fatalf("broken file not reported with its line: %+v", rep)
	}
	if rep.rules[2] != second {
		t.Errorf("broken file reported rules %p, want the previous good set %p", rep.rules[2], second)
	}

	// The same broken content touched again is not reported twice.
	writeRules(t, path, "version: 1\nrules:\n  - id: x\n    technique: nope\n", t0.Add(3*time.Second))
	w.poll()
	if len(rep.rules) != 3 {
		t.Errorf("same error reported again: %d reports", len(rep.rules))
	}

	writeRules(t, path, goodRules, t0.Add(4*time.Second))
	w.poll()
	if len(rep.rules) != 4 || rep.errs[3] != nil || rep.rules[3] == first || rep.rules[3].Techniques()[0].RuleID != "shell" {
		t.Errorf("fixed file not reloaded: %+v", rep)
	}

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	w.poll()
	if len(rep.rules) != 5 || rep.errs[4] == nil || rep.rules[4] != rep.rules[3] {
		t.Errorf("missing file not reported with the previous rules: %+v", rep)
	}
}

func TestWatchStopsOnCancel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules.yaml")
	writeRules(t, path, goodRules, time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan *RuleSet, 1)
	done := make(chan error, 1)
	go func() {
		done <- Watch(ctx, path, func(rs *RuleSet, err error) {
			if err == nil {
				got <- rs
			}
		})
	}()
	rs := <-got
	if rs.Len() != 1 {
		t.Errorf("initial load has %d rules, want 1", rs.Len())
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Watch returned %v after cancel, want nil", err)
	}
}
