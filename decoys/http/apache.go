package httpdecoy

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"html"
	"slices"
	"strconv"
	"strings"
	"time"
)

// apache imitates Apache httpd 2.4.58 as Ubuntu 24.04 ships it: ServerTokens
// OS and ServerSignature On and TraceEnable Off (conf-enabled/security.conf),
// mod_deflate enabled, the login application served by mod_php. The pages
// and header order were compared with Apache 2.4.71 from Debian 12, whose
// error documents and protocol handling match 2.4.58 apart from the
// version in the banner.
type apache struct {
	// serverName is the name Apache prints in its signature when the
	// request has no usable Host: the host name of the machine.
	serverName string
	// allow is the Allow value of 405, 501 and OPTIONS responses.
	allow string
	// defaultPort is the port the signature names when the Host has
	// none: 443 over TLS, else 80.
	defaultPort int
}

// apacheAllowMethods are the methods of the login application's Allow
// header. Apache lists them in the order of an APR hash whose seed is
// random per process, so each decky derives its own order.
var apacheAllowMethods = []string{"GET", "POST", "OPTIONS", "HEAD"}

// newApache returns the Apache persona for one decky.
func newApache(serverName string, seed []byte) apache {
	sum := sha256.Sum256(append([]byte("decnet http apache allow\x00"), seed...))
	methods := slices.Clone(apacheAllowMethods)
	for i := len(methods) - 1; i > 0; i-- {
		j := int(sum[i]) % (i + 1)
		methods[i], methods[j] = methods[j], methods[i]
	}
	return apache{serverName: serverName, allow: strings.Join(methods, ",")}
}

const apacheServer = "Apache/2.4.58 (Ubuntu)"

// apacheMethods are the methods Apache 2.4 registers at startup. Apache
// rejects any other method with 501.
var apacheMethods = map[string]bool{
	"GET": true, "HEAD": true, "PUT": true, "POST": true, "DELETE": true,
	"CONNECT": true, "OPTIONS": true, "TRACE": true, "PATCH": true,
	"PROPFIND": true, "PROPPATCH": true, "MKCOL": true, "COPY": true,
	"MOVE": true, "LOCK": true, "UNLOCK": true, "VERSION-CONTROL": true,
	"CHECKOUT": true, "UNCHECKOUT": true, "CHECKIN": true, "UPDATE": true,
	"LABEL": true, "REPORT": true, "MKWORKSPACE": true, "MKACTIVITY": true,
	"BASELINE-CONTROL": true, "MERGE": true,
}

// apacheStatus maps a status to its status line text.
var apacheStatus = map[int]string{
	400: "Bad Request",
	401: "Unauthorized",
	404: "Not Found",
	405: "Method Not Allowed",
	408: "Request Timeout",
	413: "Request Entity Too Large",
	414: "Request-URI Too Long",
	417: "Expectation Failed",
	500: "Internal Server Error",
	501: "Not Implemented",
}

func (apache) id() string { return PersonaApache }

func (apache) dialect() dialect {
	return dialect{
		knownMethods:              apacheMethods,
		rejectUnknownExpect:       true,
		closeUnmetExpect:          true,
		unsupportedEncodingStatus: 400,
		maxHeaders:                100, // LimitRequestFields default
	}
}

// MaxKeepAliveRequests 100 counts the requests after the first, so one
// connection carries 101.
func (apache) maxRequests() int { return 101 }

// KeepAliveTimeout 5 in the Debian and Ubuntu apache2.conf.
func (apache) keepAliveTimeout() time.Duration { return 5 * time.Second }

// headerTimeout is the header limit of mod_reqtimeout, which Debian and
// Ubuntu enable with "RequestReadTimeout header=20-40,minrate=500"
// (mods-available/reqtimeout.conf). It starts when the connection is
// accepted and, on a kept-alive connection, at the first byte of the
// next request. NOTE: the minrate extension (one more second per 500
// bytes received, up to 40 s) is not modelled, and neither is the
// TCP_DEFER_ACCEPT delay (AcceptFilter http data) before Apache sees a
// connection that sends nothing: with header=3 such a connection was
// closed after about 34 s instead of 3 s.
func (apache) headerTimeout() time.Duration { return 20 * time.Second }

// headerTimeoutResponse is Apache's 408 once the request line was read;
// a request line cut short is closed without a response. Both were
// measured with a short RequestReadTimeout on Apache 2.4.
func (a apache) headerTimeoutResponse(req *request) *response {
	if !req.lineRead {
		return nil
	}
	// The headers were not parsed, so the page names this machine.
	return a.errorResponse(pageInfo{status: 408, method: req.method, head: req.method == "HEAD"})
}

// sendsContinue reports whether Apache sends an interim 100 in reply to
// Expect: 100-continue: only when there is a body to read, on every path,
// because its input filter sends it when the body is first read and
// error responses discard the body by reading it.
func (apache) sendsContinue(req *request, _ bool) bool {
	return req.chunked || req.contentLength > 0
}

// Apache reads or discards the body before it sends any response.
func (apache) respondsBeforeBody(bool) bool { return false }

// NOTE: 2 s is an estimate of how long Apache's lingering close reads;
// it was not measured.
func (apache) lingerTimeout() time.Duration { return 2 * time.Second }

// escapeHTMLApache escapes as Apache's ap_escape_html does, with &quot;
// where html.EscapeString writes &#34; and leaving apostrophes alone.
func escapeHTMLApache(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

// apacheMessage returns the paragraph of the error document for p, as
// Apache 2.4 sends it.
func apacheMessage(p pageInfo) string {
	method := html.EscapeString(p.method)
	switch p.status {
	case 400:
		switch p.variant {
		case variantHeaderTooLarge:
			return "<p>Your browser sent a request that this server could not understand.<br />\nSize of a request header field exceeds server limit.</p>\n"
		case variantTooManyHeaders:
			return "<p>Your browser sent a request that this server could not understand.<br />\nThe number of request header fields exceeds this server's limit.</p>\n"
		case variantPlainHTTP:
			return apachePlainHTTPMessage
		}
		return "<p>Your browser sent a request that this server could not understand.<br />\n</p>\n"
	case 401:
		return "<p>This server could not verify that you\nare authorized to access the document\nrequested.  Either you supplied the wrong\n" +
			"credentials (e.g., bad password), or your\nbrowser doesn't understand how to supply\nthe credentials required.</p>\n"
	case 404:
		return "<p>The requested URL was not found on this server.</p>\n"
	case 405:
		return "<p>The requested method " + method + " is not allowed for this URL.</p>\n"
	case 413:
		return "The requested resource does not allow request data with " + method +
			" requests, or the amount of data provided in\nthe request exceeds the capacity limit.\n"
	case 408:
		return "<p>Server timeout waiting for the HTTP request from the client.</p>\n"
	case 414:
		return "<p>The requested URL's length exceeds the capacity\nlimit for this server.<br />\n</p>\n"
	case 417:
		return "<p>The expectation given in the Expect request-header\nfield could not be met by this server.\nThe client sent<pre>\n    Expect: " +
			escapeHTMLApache(p.expect) + "\n</pre>\n</p><p>Only the 100-continue expectation is supported.</p>\n"
	case 501:
		return "<p>" + method + " not supported for current URL.<br />\n</p>\n"
	}
	// ServerAdmin is webmaster@localhost in Ubuntu's 000-default.conf.
	return "<p>The server encountered an internal error or\nmisconfiguration and was unable to complete\nyour request.</p>\n" +
		"<p>Please contact the server administrator at \n webmaster@localhost to inform them of the time this error occurred,\n" +
		" and the actions you performed just before this error.</p>\n" +
		"<p>More information about this error may be available\nin the server error log.</p>\n"
}

func (a apache) errorResponse(p pageInfo) *response {
	reason, ok := apacheStatus[p.status]
	if !ok {
		p.status = 500
		reason = apacheStatus[500]
	}
	r := &response{status: p.status, reason: reason, contentType: "text/html; charset=iso-8859-1"}

	// With UseCanonicalName Off the signature names the request's Host and
	// its port, else this machine and the scheme's default port.
	host, port := p.host, p.port
	if host == "" {
		host = a.serverName
	}
	if port == 0 {
		port = a.defaultPort
	}
	if port == 0 {
		port = 80
	}
	r.body = fmt.Appendf(nil, "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"+
		"<html><head>\n<title>%d %s</title>\n</head><body>\n<h1>%s</h1>\n%s<hr>\n<address>%s Server at %s Port %d</address>\n</body></html>\n",
		p.status, reason, reason, apacheMessage(p), apacheServer, html.EscapeString(host), port)

	switch p.status {
	case 401:
		// The caller adds WWW-Authenticate.
	case 405:
		allow := a.allow
		if p.method == "TRACE" {
			// TraceEnable Off refuses TRACE with an empty Allow.
			allow = ""
		}
		r.extra = append(r.extra, header{name: "Allow", value: allow})
	case 501:
		r.extra = append(r.extra, header{name: "Allow", value: a.allow})
		r.close = true
	case 400, 408, 414, 500:
		r.close = true
	case 413:
		// The body was not read, so Apache closes without a length.
		r.close = true
		r.omitLength = true
	}
	if p.head {
		// Apache builds no error document for HEAD, so it sends no length.
		r.omitLength = true
	}
	return r
}

func (apache) reason(status int) string {
	switch status {
	case 200:
		return "OK"
	case 301:
		return "Moved Permanently"
	case 302:
		return "Found"
	case 303:
		return "See Other"
	case 403:
		return "Forbidden"
	}
	if r, ok := apacheStatus[status]; ok {
		return r
	}
	return "OK"
}

func (a apache) appResponse(_ *request, reply appReply) *response {
	extra := append([]header(nil), reply.headers...)
	if len(reply.body) > 0 {
		// mod_deflate adds Vary to every compressible response.
		extra = append(extra, header{name: "Vary", value: "Accept-Encoding"})
	}
	return &response{
		status:      reply.status,
		reason:      a.reason(reply.status),
		contentType: reply.contentType,
		body:        reply.body,
		extra:       extra,
	}
}

func (a apache) optionsResponse() *response {
	return &response{
		status:      200,
		reason:      "OK",
		contentType: "text/html",
		extra:       []header{{name: "Allow", value: a.allow}},
	}
}

func (a apache) writeHead(buf *bytes.Buffer, r *response, ka keepAlive, now time.Time) {
	writeStatusLine(buf, r)
	writeHeaderLine(buf, "Date", now.UTC().Format(dateLayout))
	writeHeaderLine(buf, "Server", apacheServer)
	for _, h := range r.extra {
		writeHeaderLine(buf, h.name, h.value)
	}

	switch {
	case r.chunked:
		writeHeaderLine(buf, "Transfer-Encoding", "chunked")
	case !r.omitLength:
		writeHeaderLine(buf, "Content-Length", strconv.Itoa(len(r.body)))
	}

	// Apache names the connection only when it closes one the client
	// expected to keep, or when the client asked for keep-alive.
	switch {
	case !ka.keep:
		writeHeaderLine(buf, "Connection", "close")
	case ka.token:
		writeHeaderLine(buf, "Keep-Alive", fmt.Sprintf("timeout=%d, max=%d", int(a.keepAliveTimeout()/time.Second), ka.left))
		writeHeaderLine(buf, "Connection", "Keep-Alive")
	}
	if r.contentType != "" {
		writeHeaderLine(buf, "Content-Type", r.contentType)
	}
	buf.WriteString("\r\n")
}
