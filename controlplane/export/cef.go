package export

import (
	"encoding/hex"
	"strconv"
	"strings"

	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// CEF (ArcSight Common Event Format, version 0) is one line:
//
//	CEF:0|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity|Extension
//
// Field mapping:
//
//	deviceVendor   DECNET
//	deviceProduct  Config.Product (DECNET by default)
//	deviceVersion  Config.Version
//	signature id   per kind, see kinds (100 connection.opened ... 1001 credential.reuse.detected);
//	               the topic itself for a kind not in the table
//	name           per kind
//	severity       0-10 per kind; an accepted login is at least 8
//	rt             event or notice time, milliseconds since the Unix epoch
//	externalId     event or notice id
//	act            record topic ("event.auth.attempt", "credential.reuse.detected")
//	src, spt       attacker address and port
//	dst, dpt       decoy address and port
//	proto          TCP or UDP
//	app            decoy service ("ssh", "http")
//	dvchost        decky (the fake host that saw it)
//	suser          principal of an authentication attempt or credential
//	msg            notice summary, command line, or request target
//	cs1Label/cs1   attackerId / attacker UUID
//	cs2Label/cs2   sessionId / session id
//	cs3Label/cs3   secretKind / form of a captured secret
//	cs4Label/cs4   mechanism / carrier of a captured secret
//	cs5Label/cs5   secretSha256 / hex digest of a captured secret
//	cs6Label/cs6   agentId / agent UUID
//	fileHash, fname, fsize   captured or downloaded files
//	request, requestMethod, requestClientApplication   HTTP requests and download URLs
//	outcome        success or failure of an authentication attempt

// cefEscapeHeader escapes a header field: backslash and pipe get a
// backslash. Line breaks are not allowed in the header and become spaces.
func cefEscapeHeader(s string) string {
	if !strings.ContainsAny(s, "\\|\r\n") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '|':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\r', '\n':
			b.WriteByte(' ')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// cefEscapeValue escapes an extension value: backslash and equals sign
// get a backslash, and line breaks are written as \n and \r. A pipe needs
// no escape in the extension.
func cefEscapeValue(s string) string {
	if !strings.ContainsAny(s, "\\=\r\n") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '=':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// cefExt accumulates extension pairs in order. Keys are constants from
// the CEF dictionary, so only values are escaped; empty values are left
// out.
type cefExt struct{ b strings.Builder }

func (e *cefExt) add(key, value string) {
	if value == "" {
		return
	}
	if e.b.Len() > 0 {
		e.b.WriteByte(' ')
	}
	e.b.WriteString(key)
	e.b.WriteByte('=')
	e.b.WriteString(cefEscapeValue(value))
}

func (e *cefExt) port(key string, p uint32) {
	if p != 0 {
		e.add(key, strconv.FormatUint(uint64(p), 10))
	}
}

func (e *cefExt) custom(n int, label, value string) {
	if value == "" {
		return
	}
	i := strconv.Itoa(n)
	e.add("cs"+i+"Label", label)
	e.add("cs"+i, value)
}

// cef renders r as one CEF line, without a trailing newline.
func (f formatter) cef(r Record) string {
	k := infoOf(r)
	var b strings.Builder
	b.WriteString("CEF:0|")
	for _, h := range []string{vendor, f.product, f.version, k.signatureID, k.name} {
		b.WriteString(cefEscapeHeader(h))
		b.WriteByte('|')
	}
	b.WriteString(strconv.Itoa(severityOf(r)))
	b.WriteByte('|')

	var e cefExt
	e.add("rt", strconv.FormatInt(r.Time().UnixMilli(), 10))
	e.add("externalId", r.ID())
	e.add("act", r.Topic)
	if n := r.Notice; n != nil {
		e.add("msg", n.GetSummary())
		e.custom(1, "attackerId", n.GetAttackerId())
		if se := n.GetEvent(); se != nil {
			f.cefEvent(&e, Record{Topic: EventTopicPrefix + se.GetEvent().GetKind(), Event: se}, false)
		}
		if cr := n.GetCredentialReuse(); cr != nil {
			e.add("suser", cr.GetPrincipal())
			e.custom(3, "secretKind", cr.GetSecretKind())
			e.custom(5, "secretSha256", hex.EncodeToString(cr.GetSecretSha256()))
		}
	} else {
		e.custom(1, "attackerId", r.Event.GetAttackerId())
		f.cefEvent(&e, r, true)
	}
	b.WriteString(e.b.String())
	return b.String()
}

// cefEvent adds an event's fields; withMsg is false inside a notice,
// whose summary already fills msg.
func (f formatter) cefEvent(e *cefExt, r Record, withMsg bool) {
	ev := r.Event.GetEvent()
	e.add("src", ev.GetSource().GetAddress())
	e.port("spt", ev.GetSource().GetPort())
	e.add("dst", ev.GetDestination().GetAddress())
	e.port("dpt", ev.GetDestination().GetPort())
	e.add("proto", strings.ToUpper(transportOf(r)))
	e.add("app", ev.GetService())
	e.add("dvchost", ev.GetDecky())
	e.custom(2, "sessionId", ev.GetSessionId())
	e.custom(6, "agentId", ev.GetAgentId())

	msg := ""
	switch p := ev.GetPayload().(type) {
	case *eventv1.Event_AuthAttempt:
		a := p.AuthAttempt
		e.add("suser", a.GetPrincipal())
		e.custom(3, "secretKind", a.GetSecretKind())
		e.custom(4, "mechanism", a.GetMechanism())
		if len(a.GetSecretSha256()) > 0 {
			e.custom(5, "secretSha256", hex.EncodeToString(a.GetSecretSha256()))
		}
		e.add("outcome", outcomeOf(r))
	case *eventv1.Event_Command:
		msg = p.Command.GetLine()
	case *eventv1.Event_HttpRequest:
		h := p.HttpRequest
		e.add("requestMethod", h.GetMethod())
		e.add("request", h.GetTarget())
		e.add("requestClientApplication", h.GetUserAgent())
		msg = h.GetMethod() + " " + h.GetTarget()
	case *eventv1.Event_FileCaptured:
		fc := p.FileCaptured
		e.add("fileHash", hex.EncodeToString(fc.GetSha256()))
		e.add("fname", fc.GetName())
		e.add("fsize", strconv.FormatUint(fc.GetSize(), 10))
		e.add("request", fc.GetUrl())
	case *eventv1.Event_DownloadRequested:
		e.add("request", p.DownloadRequested.GetUrl())
		e.add("fileHash", hex.EncodeToString(p.DownloadRequested.GetSha256()))
		msg = p.DownloadRequested.GetTool() + " " + p.DownloadRequested.GetOutcome()
	case *eventv1.Event_FileRequested:
		e.add("fname", p.FileRequested.GetName())
	case *eventv1.Event_ConnectionClosed:
		msg = p.ConnectionClosed.GetReason()
	case *eventv1.Event_ConnectionRejected:
		e.add("cnt", strconv.FormatUint(p.ConnectionRejected.GetCount(), 10))
		msg = p.ConnectionRejected.GetReason()
	case *eventv1.Event_ForwardRequested:
		fw := p.ForwardRequested
		msg = fw.GetType() + " " + fw.GetHost() + ":" + strconv.FormatUint(uint64(fw.GetPort()), 10)
	case *eventv1.Event_MailReceived:
		msg = p.MailReceived.GetSubject()
	}
	if withMsg {
		e.add("msg", msg)
	}
}
