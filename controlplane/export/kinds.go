package export

import (
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// defaultProduct names DECNET in CEF headers and ECS observer fields
// when the configuration gives no product.
const defaultProduct = "DECNET"

// vendor is the CEF deviceVendor and ECS observer.vendor.
const vendor = "DECNET"

// kindInfo is what every format says about one event kind or notice
// subject.
type kindInfo struct {
	// signatureID is the CEF Device Event Class ID. Numbers are stable
	// across releases so SIEM rules can key on them; the hundreds group
	// related kinds.
	signatureID string
	// name is the CEF Name: short and for people.
	name string
	// severity is the CEF severity, 0 (lowest) to 10.
	severity int
	// category and typ are the ECS event.category and event.type
	// values, taken from the ECS allowed-values lists.
	category []string
	typ      []string
}

// kinds maps event topics and notice subjects to their descriptions.
// Unknown topics fall back to unknownKind with the topic as signature id,
// so a new kind is exported before this table learns it.
var kinds = map[string]kindInfo{
	"event.connection.opened":    {"100", "Connection opened", 3, []string{"network"}, []string{"connection", "start"}},
	"event.connection.closed":    {"101", "Connection closed", 2, []string{"network"}, []string{"connection", "end"}},
	"event.connection.rejected":  {"104", "Connections rejected", 4, []string{"network"}, []string{"connection", "denied"}},
	"event.forward.requested":    {"102", "Port forward requested", 6, []string{"network"}, []string{"connection", "denied"}},
	"event.client.fingerprinted": {"103", "Client fingerprinted", 3, []string{"network"}, []string{"info"}},
	"event.auth.attempt":         {"200", "Authentication attempt", 5, []string{"authentication"}, []string{"start"}},
	"event.command":              {"300", "Command executed", 7, []string{"process"}, []string{"start"}},
	"event.session.recorded":     {"301", "Session recorded", 6, []string{"session"}, []string{"end"}},
	"event.http.request":         {"400", "HTTP request", 4, []string{"web", "network"}, []string{"access"}},
	"event.file.captured":        {"500", "File captured", 8, []string{"file"}, []string{"creation"}},
	"event.download.requested":   {"501", "Download requested", 7, []string{"network"}, []string{"info"}},
	"event.file.requested":       {"502", "File requested", 4, []string{"file"}, []string{"access"}},
	"event.mail.received":        {"600", "Mail received", 6, []string{"email"}, []string{"info"}},
	"credential.captured":        {"1000", "Credential captured", 6, []string{"authentication", "intrusion_detection"}, []string{"info"}},
	"credential.reuse.detected":  {"1001", "Credential reuse detected", 8, []string{"authentication", "intrusion_detection"}, []string{"info"}},
	// A test send from an operator; the lowest severity keeps it out of
	// alerting rules.
	SubjectTest: {"1900", "Export test", 0, []string{"configuration"}, []string{"info"}},
}

// unknownKind describes topics missing from kinds.
var unknownKind = kindInfo{severity: 5, category: []string{"intrusion_detection"}, typ: []string{"info"}}

func infoOf(r Record) kindInfo {
	if k, ok := kinds[r.Topic]; ok {
		return k
	}
	k := unknownKind
	k.signatureID = r.Topic
	k.name = r.Topic
	return k
}

// severityOf raises the kind's severity where the payload says more:
// an accepted login means the attacker is in.
func severityOf(r Record) int {
	k := infoOf(r)
	if a := r.Event.GetEvent().GetAuthAttempt(); a != nil && a.GetOutcome() == eventv1.AuthOutcome_AUTH_OUTCOME_ACCEPTED {
		return max(k.severity, 8)
	}
	return k.severity
}

// outcomeOf is the ECS event.outcome, or "" when the record has none.
func outcomeOf(r Record) string {
	a := r.Event.GetEvent().GetAuthAttempt()
	switch {
	case a == nil:
		return ""
	case a.GetOutcome() == eventv1.AuthOutcome_AUTH_OUTCOME_ACCEPTED:
		return "success"
	case a.GetOutcome() == eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED:
		return "failure"
	}
	return "unknown"
}

// udpServices are the decoy services that speak UDP; ECS and CEF name
// the transport, and only connection.opened carries it explicitly.
var udpServices = map[string]bool{"tftp": true, "snmp": true, "ntp": true, "mdns": true, "llmnr": true, "sip": true}

// transportOf is the lowercase transport of the record's connection, or
// "" for notices.
func transportOf(r Record) string {
	ev := r.Event.GetEvent()
	if ev == nil {
		return ""
	}
	if t := ev.GetConnectionOpened().GetTransport(); t != "" {
		return t
	}
	if udpServices[ev.GetService()] {
		return "udp"
	}
	return "tcp"
}

// formatter renders records; it carries the build's identity.
type formatter struct {
	product string
	version string
}
