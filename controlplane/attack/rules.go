// Package attack tags events with MITRE ATT&CK Enterprise techniques by
// rules an operator can read and edit. A rule is either stateless (one
// event is enough) or carries a threshold over a window per attacker,
// which the Tagger evaluates.
package attack

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// Limits on a rules file. They bound what a typo can cost, not what an
// operator may reasonably want.
const (
	// maxRulesFile caps the bytes read by Load.
	maxRulesFile = 1 << 20
	// maxRegexp caps one pattern's length; RE2 keeps matching linear but
	// compilation still grows with the pattern.
	maxRegexp = 4096
	// maxThresholdCount caps count, which is also how many timestamps or
	// distinct values the Tagger keeps per group.
	maxThresholdCount = 10000
	// maxWindow caps a threshold window; state older than this is dropped.
	maxWindow = 7 * 24 * time.Hour
)

// ErrInvalidRules is wrapped by every error Load returns for a file it
// could read but not accept.
var ErrInvalidRules = errors.New("invalid attack rules")

//go:embed default_rules.yaml
var defaultRules []byte

// Tag is one technique a rule attributed to an event or an attacker.
type Tag struct {
	RuleID        string `json:"rule_id"`
	TechniqueID   string `json:"technique_id"`
	TechniqueName string `json:"technique_name"`
	Tactic        string `json:"tactic"`
}

// RuleSet is an immutable, validated set of rules. Reloading builds a new
// one; a RuleSet in use is never changed.
type RuleSet struct {
	version int
	rules   []*rule
}

// Len reports how many rules the set holds.
func (rs *RuleSet) Len() int { return len(rs.rules) }

// Version is the version number the file declared.
func (rs *RuleSet) Version() int { return rs.version }

// Techniques lists the tags every rule can produce, in file order.
func (rs *RuleSet) Techniques() []Tag {
	out := make([]Tag, 0, len(rs.rules))
	for _, r := range rs.rules {
		out = append(out, r.tag)
	}
	return out
}

type rule struct {
	tag       Tag
	line      int
	m         matcher
	threshold *threshold
	// sessionWithout lists event kinds that must not have occurred in the
	// event's session. Only the Tagger tracks sessions.
	sessionWithout []string
}

func (r *rule) stateful() bool { return r.threshold != nil || len(r.sessionWithout) > 0 }

type threshold struct {
	count    int
	window   time.Duration
	groupBy  string
	distinct string
}

// Field names usable in threshold group_by and distinct.
var keyFields = map[string]bool{
	"principal": true, "secret": true, "credential": true, "target": true,
	"decky": true, "service": true, "session": true, "command": true,
}

// techniqueID is the ATT&CK Enterprise form: T, four digits, optional
// three-digit sub-technique.
var techniqueID = regexp.MustCompile(`^T[0-9]{4}(\.[0-9]{3})?$`)

var tactics = map[string]bool{
	"reconnaissance": true, "resource-development": true, "initial-access": true,
	"execution": true, "persistence": true, "privilege-escalation": true,
	"defense-evasion": true, "stealth": true, "defense-impairment": true,
	"credential-access": true, "discovery": true, "lateral-movement": true,
	"collection": true, "command-and-control": true, "exfiltration": true,
	"impact": true,
}

// Default returns the rule set built into the binary. It is parsed once
// and shared, which is safe because a RuleSet never changes.
func Default() *RuleSet { return defaultSet() }

var defaultSet = sync.OnceValue(func() *RuleSet {
	rs, err := Load(bytes.NewReader(defaultRules))
	if err != nil {
		// The embedded file is covered by tests, so failing here means the
		// binary was built from a broken tree.
		panic(fmt.Sprintf("attack: embedded default rules: %v", err))
	}
	return rs
})

// DefaultYAML returns the text of the built-in rules, a starting point for
// an operator's own file.
func DefaultYAML() []byte { return bytes.Clone(defaultRules) }

// file mirrors the YAML layout; see README.md.
type fileRule struct {
	ID        string         `yaml:"id"`
	Technique string         `yaml:"technique"`
	Name      string         `yaml:"name"`
	Tactic    string         `yaml:"tactic"`
	Match     yaml.Node      `yaml:"match"`
	Threshold *fileThreshold `yaml:"threshold"`
}

type fileThreshold struct {
	Count    int    `yaml:"count"`
	Window   string `yaml:"window"`
	GroupBy  string `yaml:"group_by"`
	Distinct string `yaml:"distinct"`
}

type fileMatch struct {
	Kind           []string `yaml:"kind"`
	Service        []string `yaml:"service"`
	Decky          []string `yaml:"decky"`
	AuthOutcome    string   `yaml:"auth_outcome"`
	AuthMechanism  []string `yaml:"auth_mechanism"`
	AuthPrincipal  string   `yaml:"auth_principal"`
	SecretKind     []string `yaml:"secret_kind"`
	Command        string   `yaml:"command"`
	HTTPMethod     []string `yaml:"http_method"`
	HTTPTarget     string   `yaml:"http_target"`
	HTTPUserAgent  string   `yaml:"http_user_agent"`
	DownloadURL    string   `yaml:"download_url"`
	DownloadTool   []string `yaml:"download_tool"`
	FileChannel    []string `yaml:"file_channel"`
	FileName       string   `yaml:"file_name"`
	ForwardType    []string `yaml:"forward_type"`
	MailFrom       string   `yaml:"mail_from"`
	MailRcpt       string   `yaml:"mail_rcpt"`
	MailSubject    string   `yaml:"mail_subject"`
	SessionWithout []string `yaml:"session_without"`
}

var (
	topKeys       = []string{"version", "rules"}
	ruleKeys      = []string{"id", "technique", "name", "tactic", "match", "threshold"}
	thresholdKeys = []string{"count", "window", "group_by", "distinct"}
	matchKeys     = []string{
		"kind", "service", "decky", "auth_outcome", "auth_mechanism", "auth_principal",
		"secret_kind", "command", "http_method", "http_target", "http_user_agent",
		"download_url", "download_tool", "file_channel", "file_name", "forward_type",
		"mail_from", "mail_rcpt", "mail_subject", "session_without",
	}
)

// Load reads and validates a rules file. Errors name the line of the
// offending rule or key and wrap ErrInvalidRules.
func Load(r io.Reader) (*RuleSet, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxRulesFile+1))
	if err != nil {
		return nil, fmt.Errorf("read attack rules: %w", err)
	}
	if len(data) > maxRulesFile {
		return nil, fmt.Errorf("%w: file larger than %d bytes", ErrInvalidRules, maxRulesFile)
	}

	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRules, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%w: line %d: top level must be a mapping with version and rules", ErrInvalidRules, doc.Line)
	}
	top := doc.Content[0]
	if err := checkKeys(top, topKeys); err != nil {
		return nil, err
	}

	rs := &RuleSet{}
	versionNode, rulesNode := lookup(top, "version"), lookup(top, "rules")
	if versionNode == nil {
		return nil, fmt.Errorf("%w: line %d: version is required", ErrInvalidRules, top.Line)
	}
	if err := versionNode.Decode(&rs.version); err != nil || rs.version != 1 {
		return nil, fmt.Errorf("%w: line %d: version must be 1", ErrInvalidRules, versionNode.Line)
	}
	if rulesNode == nil || rulesNode.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%w: line %d: rules must be a list", ErrInvalidRules, top.Line)
	}

	seen := make(map[string]int)
	for _, n := range rulesNode.Content {
		r, err := parseRule(n)
		if err != nil {
			return nil, err
		}
		if prev, ok := seen[r.tag.RuleID]; ok {
			return nil, fmt.Errorf("%w: line %d: rule id %q already used at line %d", ErrInvalidRules, n.Line, r.tag.RuleID, prev)
		}
		seen[r.tag.RuleID] = n.Line
		rs.rules = append(rs.rules, r)
	}
	return rs, nil
}

func parseRule(n *yaml.Node) (*rule, error) {
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%w: line %d: a rule must be a mapping", ErrInvalidRules, n.Line)
	}
	if err := checkKeys(n, ruleKeys); err != nil {
		return nil, err
	}
	var fr fileRule
	if err := n.Decode(&fr); err != nil {
		return nil, fmt.Errorf("%w: line %d: %w", ErrInvalidRules, n.Line, err)
	}

	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: line %d: rule %q: %s", ErrInvalidRules, n.Line, fr.ID, fmt.Sprintf(format, args...))
	}
	switch {
	case fr.ID == "":
		return nil, bad("id is required")
	case !techniqueID.MatchString(fr.Technique):
		return nil, bad("technique %q is not an ATT&CK technique id such as T1110 or T1110.001", fr.Technique)
	case strings.TrimSpace(fr.Name) == "":
		return nil, bad("name is required")
	case !tactics[fr.Tactic]:
		return nil, bad("tactic %q is not an ATT&CK tactic short name such as credential-access", fr.Tactic)
	case fr.Match.Kind == 0:
		return nil, bad("match is required")
	}

	r := &rule{
		tag:  Tag{RuleID: fr.ID, TechniqueID: fr.Technique, TechniqueName: fr.Name, Tactic: fr.Tactic},
		line: n.Line,
	}
	if fr.Match.Kind != yaml.MappingNode {
		return nil, bad("match must be a mapping")
	}
	if err := checkKeys(&fr.Match, matchKeys); err != nil {
		return nil, err
	}
	var fm fileMatch
	if err := fr.Match.Decode(&fm); err != nil {
		return nil, fmt.Errorf("%w: line %d: %w", ErrInvalidRules, fr.Match.Line, err)
	}
	m, err := compileMatch(&fm)
	if err != nil {
		return nil, fmt.Errorf("%w: line %d: rule %q: %w", ErrInvalidRules, fr.Match.Line, fr.ID, err)
	}
	r.m = m
	r.sessionWithout = fm.SessionWithout

	if fr.Threshold != nil {
		if tn := lookup(n, "threshold"); tn != nil {
			if err := checkKeys(tn, thresholdKeys); err != nil {
				return nil, err
			}
		}
		t, err := compileThreshold(fr.Threshold)
		if err != nil {
			return nil, bad("threshold: %v", err)
		}
		r.threshold = t
	}
	return r, nil
}

func compileThreshold(ft *fileThreshold) (*threshold, error) {
	if ft.Count < 1 || ft.Count > maxThresholdCount {
		return nil, fmt.Errorf("count must be between 1 and %d", maxThresholdCount)
	}
	w, err := time.ParseDuration(ft.Window)
	if err != nil {
		return nil, fmt.Errorf("window %q: %w", ft.Window, err)
	}
	if w <= 0 || w > maxWindow {
		return nil, fmt.Errorf("window must be positive and at most %s", maxWindow)
	}
	if ft.GroupBy != "" && !keyFields[ft.GroupBy] {
		return nil, fmt.Errorf("group_by %q is not one of %s", ft.GroupBy, fieldList())
	}
	if ft.Distinct != "" && !keyFields[ft.Distinct] {
		return nil, fmt.Errorf("distinct %q is not one of %s", ft.Distinct, fieldList())
	}
	return &threshold{count: ft.Count, window: w, groupBy: ft.GroupBy, distinct: ft.Distinct}, nil
}

func fieldList() string {
	return "principal, secret, credential, target, decky, service, session, command"
}

// checkKeys rejects keys a mapping does not know, so a misspelt field
// fails loudly instead of silently matching everything.
func checkKeys(n *yaml.Node, allowed []string) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		ok := false
		for _, a := range allowed {
			if k.Value == a {
				ok = true
				break
			}
		}
		if !ok {
			return fmt.Errorf("%w: line %d: unknown key %q (allowed: %s)", ErrInvalidRules, k.Line, k.Value, strings.Join(allowed, ", "))
		}
	}
	return nil
}

func lookup(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
