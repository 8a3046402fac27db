package export

import (
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// ECSVersion is the Elastic Common Schema release the documents follow.
const ECSVersion = "8.11.0"

// ecsTimeLayout is RFC 3339 in UTC with milliseconds, the precision of
// an Elasticsearch date field.
const ecsTimeLayout = "2006-01-02T15:04:05.000Z"

// doc is a JSON object built from dotted ECS field names. Fields nest as
// objects, the form ECS documents use.
type doc map[string]any

// set stores v under a dotted name. Empty strings, zero ports and empty
// lists are left out, so a document carries only what was observed.
func (d doc) set(name string, v any) {
	switch x := v.(type) {
	case string:
		if x == "" {
			return
		}
	case []string:
		if len(x) == 0 {
			return
		}
	case uint32:
		if x == 0 {
			return
		}
	}
	m := d
	for {
		head, rest, more := strings.Cut(name, ".")
		if !more {
			m[head] = v
			return
		}
		child, ok := m[head].(doc)
		if !ok {
			child = doc{}
			m[head] = child
		}
		m, name = child, rest
	}
}

// ecs renders r as an Elastic Common Schema document. ECS has no field
// for some DECNET values (attacker id, session id, kind, secret kind);
// they sit under the custom "decnet" object, which ECS reserves for
// vendor fields by leaving it out of its own names.
func (f formatter) ecs(r Record) doc {
	k := infoOf(r)
	d := doc{}
	d.set("@timestamp", r.Time().UTC().Format(ecsTimeLayout))
	d.set("ecs.version", ECSVersion)
	d.set("event.id", r.ID())
	d.set("event.category", k.category)
	d.set("event.type", k.typ)
	d.set("event.action", r.Topic)
	d.set("event.severity", severityOf(r))
	d.set("event.outcome", outcomeOf(r))
	d.set("observer.type", "honeypot")
	d.set("observer.vendor", vendor)
	d.set("observer.product", f.product)
	d.set("observer.version", f.version)

	if r.Notice != nil {
		f.ecsNotice(d, r.Notice)
		return d
	}
	f.ecsEvent(d, r.Event)
	return d
}

func (f formatter) ecsNotice(d doc, n *apiv1.Notice) {
	d.set("event.kind", "alert")
	d.set("event.dataset", "decnet.notice")
	d.set("message", n.GetSummary())
	d.set("decnet.attacker_id", n.GetAttackerId())

	if se := n.GetEvent(); se != nil {
		// The notice keeps its own event fields and takes the
		// observation's context: endpoints, user, decky, payload.
		ev := doc{}
		f.ecsEvent(ev, se)
		if dn, ok := ev["decnet"].(doc); ok {
			delete(dn, "attacker_id")
		}
		for key, v := range ev {
			if key != "event" {
				mergeDoc(d, key, v)
			}
		}
		d.set("decnet.event_id", se.GetEvent().GetId())
	}
	if cr := n.GetCredentialReuse(); cr != nil {
		d.set("user.name", cr.GetPrincipal())
		d.set("decnet.secret_kind", cr.GetSecretKind())
		d.set("decnet.secret_sha256", hex.EncodeToString(cr.GetSecretSha256()))
		targets := make([]string, 0, len(cr.GetTargets()))
		for _, t := range cr.GetTargets() {
			targets = append(targets, t.GetDecky()+"/"+t.GetService())
		}
		d.set("decnet.targets", targets)
		d.set("related.user", []string{cr.GetPrincipal()})
		d.set("related.hash", []string{hex.EncodeToString(cr.GetSecretSha256())})
	}
}

// mergeDoc adds v under key, merging objects field by field.
func mergeDoc(d doc, key string, v any) {
	src, ok := v.(doc)
	dst, ok2 := d[key].(doc)
	if !ok || !ok2 {
		if _, exists := d[key]; !exists {
			d[key] = v
		}
		return
	}
	for k, sv := range src {
		mergeDoc(dst, k, sv)
	}
}

func (f formatter) ecsEvent(d doc, se *apiv1.StoredEvent) {
	ev := se.GetEvent()
	d.set("event.kind", "event")
	d.set("event.dataset", "decnet.event")
	if t := se.GetReceivedAt(); t != nil {
		d.set("event.ingested", t.AsTime().UTC().Format(ecsTimeLayout))
	}
	d.set("source.ip", ev.GetSource().GetAddress())
	d.set("source.port", ev.GetSource().GetPort())
	d.set("destination.ip", ev.GetDestination().GetAddress())
	d.set("destination.port", ev.GetDestination().GetPort())
	d.set("network.transport", transportOf(Record{Event: se}))
	d.set("observer.name", ev.GetDecky())
	d.set("observer.hostname", ev.GetDecky())
	d.set("service.name", ev.GetService())
	d.set("agent.id", ev.GetAgentId())
	d.set("decnet.kind", ev.GetKind())
	d.set("decnet.attacker_id", se.GetAttackerId())
	d.set("decnet.session_id", ev.GetSessionId())
	d.set("related.ip", nonEmpty(ev.GetSource().GetAddress()))
	f.ecsPayload(d, ev)
}

// ecsPayload maps the typed payload to ECS fields where ECS has them.
// Captured secrets are left out: the SIEM gets the digest, and the API
// keeps the bytes for the roles allowed to see them.
func (f formatter) ecsPayload(d doc, ev *eventv1.Event) {
	switch p := ev.GetPayload().(type) {
	case *eventv1.Event_ConnectionClosed:
		d.set("event.duration", int64(time.Duration(p.ConnectionClosed.GetDurationMs())*time.Millisecond))
		d.set("source.bytes", p.ConnectionClosed.GetBytesReceived())
		d.set("destination.bytes", p.ConnectionClosed.GetBytesSent())
		d.set("event.reason", p.ConnectionClosed.GetReason())
	case *eventv1.Event_ConnectionRejected:
		d.set("event.reason", p.ConnectionRejected.GetReason())
		d.set("decnet.rejected_count", p.ConnectionRejected.GetCount())
	case *eventv1.Event_AuthAttempt:
		a := p.AuthAttempt
		d.set("user.name", a.GetPrincipal())
		d.set("related.user", nonEmpty(a.GetPrincipal()))
		d.set("decnet.secret_kind", a.GetSecretKind())
		d.set("decnet.mechanism", a.GetMechanism())
		if len(a.GetSecretSha256()) > 0 {
			h := hex.EncodeToString(a.GetSecretSha256())
			d.set("decnet.secret_sha256", h)
			d.set("related.hash", []string{h})
		}
		d.set("decnet.key_type", a.GetKeyType())
		d.set("decnet.key_fingerprint", a.GetKeyFingerprint())
	case *eventv1.Event_Command:
		d.set("process.command_line", p.Command.GetLine())
		d.set("decnet.channel", p.Command.GetChannel())
	case *eventv1.Event_HttpRequest:
		h := p.HttpRequest
		d.set("http.request.method", h.GetMethod())
		d.set("url.original", h.GetTarget())
		d.set("url.domain", h.GetHost())
		d.set("user_agent.original", h.GetUserAgent())
		d.set("http.request.body.bytes", h.GetBodySize())
		if h.GetStatus() != 0 {
			d.set("http.response.status_code", h.GetStatus())
		}
		d.set("http.version", strings.TrimPrefix(h.GetProtocol(), "HTTP/"))
	case *eventv1.Event_FileCaptured:
		fc := p.FileCaptured
		f.ecsFile(d, fc.GetSha256(), fc.GetName(), fc.GetSize())
		d.set("url.original", fc.GetUrl())
		d.set("decnet.channel", fc.GetChannel())
		d.set("decnet.truncated", fc.GetTruncated())
	case *eventv1.Event_DownloadRequested:
		dr := p.DownloadRequested
		d.set("url.original", dr.GetUrl())
		d.set("decnet.tool", dr.GetTool())
		d.set("decnet.download_outcome", dr.GetOutcome())
		if len(dr.GetSha256()) > 0 {
			f.ecsFile(d, dr.GetSha256(), "", dr.GetSize())
		}
	case *eventv1.Event_FileRequested:
		fr := p.FileRequested
		d.set("file.path", fr.GetName())
		d.set("decnet.channel", fr.GetChannel())
		d.set("decnet.served", fr.GetServed())
	case *eventv1.Event_SessionRecorded:
		sr := p.SessionRecorded
		d.set("event.duration", int64(time.Duration(sr.GetDurationMs())*time.Millisecond))
		d.set("decnet.truncated", sr.GetTruncated())
		d.set("decnet.input_bytes", sr.GetInputBytes())
		d.set("decnet.output_bytes", sr.GetOutputBytes())
	case *eventv1.Event_ForwardRequested:
		fw := p.ForwardRequested
		d.set("decnet.forward_type", fw.GetType())
		d.set("decnet.forward_host", fw.GetHost())
		d.set("decnet.forward_port", fw.GetPort())
	case *eventv1.Event_ClientFingerprinted:
		fp := p.ClientFingerprinted
		d.set("decnet.ssh_client_version", fp.GetSshClientVersion())
		d.set("decnet.hassh", fp.GetHassh())
		d.set("decnet.hassh_algorithms", fp.GetHasshAlgorithms())
		d.set("tls.client.ja3", fp.GetJa3())
		d.set("decnet.ja4", fp.GetJa4())
	case *eventv1.Event_MailReceived:
		m := p.MailReceived
		d.set("email.from.address", nonEmpty(m.GetMailFrom()))
		d.set("email.to.address", m.GetRcptTo())
		d.set("email.subject", m.GetSubject())
		d.set("decnet.helo", m.GetHelo())
		if len(m.GetSha256()) > 0 {
			d.set("related.hash", []string{hex.EncodeToString(m.GetSha256())})
		}
	}
}

func (f formatter) ecsFile(d doc, sha []byte, name string, size uint64) {
	if len(sha) > 0 {
		h := hex.EncodeToString(sha)
		d.set("file.hash.sha256", h)
		d.set("related.hash", []string{h})
	}
	d.set("file.path", name)
	d.set("file.size", size)
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// ecsJSON renders r as one line of ECS JSON, without the newline.
func (f formatter) ecsJSON(r Record) ([]byte, error) {
	return json.Marshal(f.ecs(r))
}
