package attack

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// KindCredentialReuse is the kind a rule names to match a credential reuse
// group (MatchReuse) rather than an event.
const KindCredentialReuse = "credential.reuse" //nolint:gosec // G101: a kind name, not a credential

var knownKinds = map[string]bool{
	"connection.opened": true, "connection.closed": true, "connection.rejected": true, "auth.attempt": true,
	"command": true, "http.request": true, "file.captured": true,
	"file.requested": true, "download.requested": true, "session.recorded": true,
	"forward.requested": true, "mail.received": true, KindCredentialReuse: true,
}

// matcher is the compiled match block. Every set field must hold; a list
// holds when any element equals the value.
type matcher struct {
	kind, service, decky     []string
	outcome                  eventv1.AuthOutcome
	mechanism, secretKind    []string
	principal                *regexp.Regexp
	command                  *regexp.Regexp
	httpMethod               []string
	httpTarget, httpAgent    *regexp.Regexp
	downloadURL              *regexp.Regexp
	downloadTool, fileChan   []string
	fileName                 *regexp.Regexp
	forwardType              []string
	mailFrom, mailRcpt, subj *regexp.Regexp
}

func compileMatch(fm *fileMatch) (matcher, error) {
	var m matcher
	for _, k := range fm.Kind {
		if !knownKinds[k] {
			return m, fmt.Errorf("kind %q is not an event kind", k)
		}
	}
	for _, k := range fm.SessionWithout {
		if !knownKinds[k] || k == KindCredentialReuse {
			return m, fmt.Errorf("session_without kind %q is not an event kind", k)
		}
	}
	m.kind, m.service, m.decky = fm.Kind, fm.Service, fm.Decky
	m.mechanism, m.secretKind = fm.AuthMechanism, fm.SecretKind
	m.downloadTool, m.fileChan, m.forwardType = fm.DownloadTool, fm.FileChannel, fm.ForwardType
	for _, meth := range fm.HTTPMethod {
		m.httpMethod = append(m.httpMethod, strings.ToUpper(meth))
	}

	switch fm.AuthOutcome {
	case "":
	case "accepted":
		m.outcome = eventv1.AuthOutcome_AUTH_OUTCOME_ACCEPTED
	case "rejected":
		m.outcome = eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED
	default:
		return m, fmt.Errorf("auth_outcome %q must be accepted or rejected", fm.AuthOutcome)
	}

	regexps := []struct {
		name string
		src  string
		dst  **regexp.Regexp
	}{
		{"auth_principal", fm.AuthPrincipal, &m.principal},
		{"command", fm.Command, &m.command},
		{"http_target", fm.HTTPTarget, &m.httpTarget},
		{"http_user_agent", fm.HTTPUserAgent, &m.httpAgent},
		{"download_url", fm.DownloadURL, &m.downloadURL},
		{"file_name", fm.FileName, &m.fileName},
		{"mail_from", fm.MailFrom, &m.mailFrom},
		{"mail_rcpt", fm.MailRcpt, &m.mailRcpt},
		{"mail_subject", fm.MailSubject, &m.subj},
	}
	for _, re := range regexps {
		if re.src == "" {
			continue
		}
		if len(re.src) > maxRegexp {
			return m, fmt.Errorf("%s: pattern longer than %d bytes", re.name, maxRegexp)
		}
		c, err := regexp.Compile(re.src)
		if err != nil {
			return m, fmt.Errorf("%s: %w", re.name, err)
		}
		*re.dst = c
	}
	return m, nil
}

func inList(list []string, v string) bool {
	if len(list) == 0 {
		return true
	}
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func reOK(re *regexp.Regexp, v string) bool { return re == nil || re.MatchString(v) }

// match reports whether ev satisfies every condition. A condition on a
// payload the event does not carry fails, so a command regex never matches
// an HTTP request.
func (m *matcher) match(ev *eventv1.Event) bool {
	if ev == nil || !inList(m.kind, ev.GetKind()) || !inList(m.service, ev.GetService()) || !inList(m.decky, ev.GetDecky()) {
		return false
	}

	if m.outcome != 0 || len(m.mechanism) > 0 || len(m.secretKind) > 0 || m.principal != nil {
		a := ev.GetAuthAttempt()
		if a == nil || (m.outcome != 0 && a.GetOutcome() != m.outcome) ||
			!inList(m.mechanism, a.GetMechanism()) || !inList(m.secretKind, a.GetSecretKind()) ||
			!reOK(m.principal, a.GetPrincipal()) {
			return false
		}
	}
	if m.command != nil {
		c := ev.GetCommand()
		if c == nil || !m.command.MatchString(c.GetLine()) {
			return false
		}
	}
	if len(m.httpMethod) > 0 || m.httpTarget != nil || m.httpAgent != nil {
		h := ev.GetHttpRequest()
		if h == nil || !inList(m.httpMethod, strings.ToUpper(h.GetMethod())) ||
			!reOK(m.httpTarget, h.GetTarget()) || !reOK(m.httpAgent, h.GetUserAgent()) {
			return false
		}
	}
	if m.downloadURL != nil || len(m.downloadTool) > 0 {
		if !m.matchDownload(ev) {
			return false
		}
	}
	if len(m.fileChan) > 0 || m.fileName != nil {
		if !m.matchFile(ev) {
			return false
		}
	}
	if len(m.forwardType) > 0 {
		f := ev.GetForwardRequested()
		if f == nil || !inList(m.forwardType, f.GetType()) {
			return false
		}
	}
	if m.mailFrom != nil || m.mailRcpt != nil || m.subj != nil {
		if !m.matchMail(ev.GetMailReceived()) {
			return false
		}
	}
	return true
}

// matchDownload accepts a download request, or a captured file that came
// from a URL (the fetched download).
func (m *matcher) matchDownload(ev *eventv1.Event) bool {
	if d := ev.GetDownloadRequested(); d != nil {
		return reOK(m.downloadURL, d.GetUrl()) && inList(m.downloadTool, d.GetTool())
	}
	if f := ev.GetFileCaptured(); f != nil && f.GetUrl() != "" && len(m.downloadTool) == 0 {
		return reOK(m.downloadURL, f.GetUrl())
	}
	return false
}

// matchFile accepts a captured file or a file requested from a decoy's
// file service.
func (m *matcher) matchFile(ev *eventv1.Event) bool {
	if f := ev.GetFileCaptured(); f != nil {
		return inList(m.fileChan, f.GetChannel()) && reOK(m.fileName, f.GetName())
	}
	if f := ev.GetFileRequested(); f != nil {
		return inList(m.fileChan, f.GetChannel()) && reOK(m.fileName, f.GetName())
	}
	return false
}

func (m *matcher) matchMail(mr *eventv1.MailReceived) bool {
	if mr == nil || !reOK(m.mailFrom, mr.GetMailFrom()) || !reOK(m.subj, mr.GetSubject()) {
		return false
	}
	if m.mailRcpt == nil {
		return true
	}
	for _, r := range mr.GetRcptTo() {
		if m.mailRcpt.MatchString(r) {
			return true
		}
	}
	return false
}

// Match returns the tags of the stateless rules ev satisfies, in file
// order. Rules with a threshold or a session condition need history and
// are left to the Tagger.
func (rs *RuleSet) Match(ev *eventv1.Event) []Tag {
	var out []Tag
	for _, r := range rs.rules {
		if !r.stateful() && r.m.match(ev) {
			out = append(out, r.tag)
		}
	}
	return out
}

// MatchReuse returns the tags of rules of kind credential.reuse that a
// reuse group satisfies. Such a rule may restrict service, decky (any
// target), auth_principal, secret_kind and auth_mechanism (any target's);
// a threshold count there means at least that many targets.
func (rs *RuleSet) MatchReuse(cr *apiv1.CredentialReuse) []Tag {
	if cr == nil {
		return nil
	}
	var out []Tag
	for _, r := range rs.rules {
		if len(r.m.kind) != 1 || r.m.kind[0] != KindCredentialReuse {
			continue
		}
		if r.m.matchReuse(cr, r.threshold) {
			out = append(out, r.tag)
		}
	}
	return out
}

func (m *matcher) matchReuse(cr *apiv1.CredentialReuse, t *threshold) bool {
	if !reOK(m.principal, cr.GetPrincipal()) || !inList(m.secretKind, cr.GetSecretKind()) {
		return false
	}
	min := 2
	if t != nil {
		min = t.count
	}
	if len(cr.GetTargets()) < min {
		return false
	}
	svc, decky, mech := len(m.service) == 0, len(m.decky) == 0, len(m.mechanism) == 0
	for _, tg := range cr.GetTargets() {
		svc = svc || inList(m.service, tg.GetService())
		decky = decky || inList(m.decky, tg.GetDecky())
		for _, me := range tg.GetMechanisms() {
			mech = mech || inList(m.mechanism, me)
		}
	}
	return svc && decky && mech
}

// fieldValue extracts a threshold key from an event. It returns ok false
// when the event lacks that field, so such an event does not count.
func fieldValue(ev *eventv1.Event, field string) (string, bool) {
	switch field {
	case "":
		return "", true
	case "decky":
		return ev.GetDecky(), true
	case "service":
		return ev.GetService(), true
	case "target":
		return ev.GetDecky() + "/" + ev.GetService(), true
	case "session":
		return ev.GetSessionId(), ev.GetSessionId() != ""
	case "command":
		c := ev.GetCommand()
		return c.GetLine(), c != nil
	}
	a := ev.GetAuthAttempt()
	if a == nil {
		return "", false
	}
	switch field {
	case "principal":
		return a.GetPrincipal(), true
	case "secret":
		return a.GetSecretKind() + ":" + secretKey(a), true
	case "credential":
		return a.GetPrincipal() + "\x00" + a.GetSecretKind() + ":" + secretKey(a), true
	}
	return "", false
}

// secretKey is a digest, so raw secrets never sit in Tagger memory.
func secretKey(a *eventv1.AuthAttempt) string {
	if d := a.GetSecretSha256(); len(d) > 0 {
		return hex.EncodeToString(d)
	}
	sum := sha256.Sum256(a.GetSecret())
	return hex.EncodeToString(sum[:])
}
