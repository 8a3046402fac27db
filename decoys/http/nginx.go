package httpdecoy

import (
	"bytes"
	"strconv"
	"strings"
	"time"
)

// nginx imitates nginx 1.22.1 as Debian 12 packages it, serving the login
// application through PHP-FPM. Every byte below was compared with the real
// nginx 1.22.1-9+deb12u12 on loopback (integration test
// TestNginxOracle).
type nginx struct{}

const nginxServer = "nginx/1.22.1"

// nginxPageTail ends every built-in error page when server_tokens is on,
// as nginx 1.22.1 sends it.
const nginxPageTail = "<hr><center>" + nginxServer + "</center>\r\n</body>\r\n</html>\r\n"

// nginxMSIEPadding follows an error page for Internet Explorer
// (msie_padding on), so the browser shows it instead of its own page.
var nginxMSIEPadding = strings.Repeat("<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n", 6)

// nginxStatus maps a status to its status line text and page title.
var nginxStatus = map[int][2]string{
	400: {"Bad Request", "400 Bad Request"},
	401: {"Unauthorized", "401 Authorization Required"},
	404: {"Not Found", "404 Not Found"},
	405: {"Not Allowed", "405 Not Allowed"},
	413: {"Request Entity Too Large", "413 Request Entity Too Large"},
	414: {"Request-URI Too Large", "414 Request-URI Too Large"},
	500: {"Internal Server Error", "500 Internal Server Error"},
	501: {"Not Implemented", "501 Not Implemented"},
	505: {"HTTP Version Not Supported", "505 HTTP Version Not Supported"},
}

func (nginx) id() string { return PersonaNginx }

func (nginx) dialect() dialect {
	return dialect{
		earlyMethodCheck:             true,
		bareLF:                       true,
		lenientSpaces:                true,
		nginxVersion:                 true,
		targetFormFirst:              true,
		invalidHeaderNamesIgnored:    true,
		rejectDuplicateAuthorization: true,
		unsupportedEncodingStatus:    501,
		headerNameNoColonIgnored:     true,
		earlyTargetCheck:             true,
	}
}

// keepalive_requests defaults to 1000 in nginx 1.22.
func (nginx) maxRequests() int { return 1000 }

// Debian 12's /etc/nginx/nginx.conf leaves keepalive_timeout at nginx's
// default of 75 s.
func (nginx) keepAliveTimeout() time.Duration { return 75 * time.Second }

// client_header_timeout defaults to 60 s and Debian 12's nginx.conf
// leaves it there. The timer starts when the connection is accepted and
// is not reset by further bytes; on a kept-alive connection it starts
// with the next request's first byte.
func (nginx) headerTimeout() time.Duration { return 60 * time.Second }

// headerTimeoutResponse is nil because nginx closes a connection whose
// header timed out without a response, with or without a complete
// request line (measured with client_header_timeout 3s).
func (nginx) headerTimeoutResponse(*request) *response { return nil }

// sendsContinue reports whether nginx sends an interim 100 in reply to
// Expect: 100-continue. nginx sends it when a handler first reads the body,
// which for this site means the request is passed to PHP-FPM: with or
// without a body, even for GET. Its own error pages (404, 401 from
// auth_basic, 405) discard the body without a 100.
func (nginx) sendsContinue(_ *request, toApp bool) bool { return toApp }

// respondsBeforeBody is true for nginx's own pages: nginx sends them at
// once and discards the body afterwards, so a client waiting for a 100
// gets the final response instead.
func (nginx) respondsBeforeBody(toApp bool) bool { return !toApp }

// lingering_timeout defaults to 5 s in nginx 1.22.
func (nginx) lingerTimeout() time.Duration { return 5 * time.Second }

func (nginx) errorResponse(p pageInfo) *response {
	texts, ok := nginxStatus[p.status]
	if !ok {
		p.status = 500
		texts = nginxStatus[500]
	}
	r := &response{status: p.status, reason: texts[0], contentType: "text/html"}

	var body bytes.Buffer
	switch p.variant {
	case variantPlainHTTP:
		body.WriteString(nginxPlainHTTPPage)
	case variantHeaderTooLarge, variantTooManyHeaders:
		// nginx sends its internal 494 as status 400 with this page.
		body.WriteString("<html>\r\n<head><title>400 Request Header Or Cookie Too Large</title></head>\r\n<body>\r\n" +
			"<center><h1>400 Bad Request</h1></center>\r\n<center>Request Header Or Cookie Too Large</center>\r\n")
	default:
		body.WriteString("<html>\r\n<head><title>" + texts[1] + "</title></head>\r\n<body>\r\n<center><h1>" + texts[1] + "</h1></center>\r\n")
	}
	body.WriteString(nginxPageTail)
	if p.msie {
		body.WriteString(nginxMSIEPadding)
	}
	// For HEAD the caller drops the body after the head, which still
	// names the page's length.
	r.body = body.Bytes()

	switch p.status {
	case 400, 413, 414, 500, 501, 505:
		r.close = true
	case 405:
		// TRACE is refused while the header is processed, which turns
		// keep-alive off; other methods fail in the static handler.
		r.close = p.method == "TRACE"
	}
	return r
}

// nginxAppStatus holds the status texts nginx 1.22 sends for an
// upstream's statuses beyond its own error pages.
var nginxAppStatus = map[int]string{
	200: "OK",
	301: "Moved Permanently",
	302: "Moved Temporarily",
	303: "See Other",
	403: "Forbidden",
}

func (nginx) reason(status int) string {
	if r, ok := nginxAppStatus[status]; ok {
		return r
	}
	if t, ok := nginxStatus[status]; ok {
		return t[0]
	}
	return "OK"
}

func (n nginx) appResponse(req *request, a appReply) *response {
	r := &response{
		status:      a.status,
		reason:      n.reason(a.status),
		contentType: a.contentType,
		body:        a.body,
		extra:       a.headers,
	}
	// A FastCGI response has no length, so nginx chunks it for HTTP/1.1 and
	// closes the connection for HTTP/1.0. A HEAD response has neither.
	switch {
	case req.method == "HEAD":
		r.omitLength = true
	case req.major == 1 && req.minor == 0:
		r.omitLength = true
		r.close = true
	default:
		r.chunked = true
	}
	return r
}

func (nginx) optionsResponse() *response { return nil }

func (nginx) writeHead(buf *bytes.Buffer, r *response, ka keepAlive, now time.Time) {
	writeStatusLine(buf, r)
	writeHeaderLine(buf, "Server", nginxServer)
	writeHeaderLine(buf, "Date", now.UTC().Format(dateLayout))
	if r.contentType != "" {
		writeHeaderLine(buf, "Content-Type", r.contentType)
	}

	switch {
	case r.chunked:
		writeHeaderLine(buf, "Transfer-Encoding", "chunked")
	case !r.omitLength:
		writeHeaderLine(buf, "Content-Length", strconv.Itoa(len(r.body)))
	}

	if ka.keep {
		writeHeaderLine(buf, "Connection", "keep-alive")
	} else {
		writeHeaderLine(buf, "Connection", "close")
	}
	for _, h := range r.extra {
		writeHeaderLine(buf, h.name, h.value)
	}
	buf.WriteString("\r\n")
}
