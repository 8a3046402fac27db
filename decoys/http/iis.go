package httpdecoy

import (
	"bytes"
	"strconv"
	"strings"
	"time"
)

// iis imitates IIS 10.0 on Windows Server 2019 as a default install
// leaves it: the X-Powered-By: ASP.NET custom header of applicationHost
// .config, custom errors for remote clients (the short custerr pages),
// and HTTP.sys responding to what it rejects before IIS sees the request.
//
// IIS cannot run here, so the pages and header order come from the
// match lines in nmap-service-probes, which pin the HTTP.sys layout
// ("Content-Type: text/html; charset=us-ascii", "Server:
// Microsoft-HTTPAPI/2.0", Date, "Connection: close", Content-Length),
// and from published transcripts of IIS 10 whose Content-Length values
// the pages reproduce: 1245 for 404, 1293 for 405, 1208 for 500, 334 for
// HTTP.sys's invalid host name and 311 for its badly formed request.
type iis struct{}

const (
	iisServer     = "Microsoft-IIS/10.0"
	httpAPIServer = "Microsoft-HTTPAPI/2.0"
)

// iisStatus maps a status to the reason phrase IIS and HTTP.sys send.
var iisStatus = map[int]string{
	200: "OK",
	302: "Found",
	400: "Bad Request",
	401: "Unauthorized",
	403: "Forbidden",
	404: "Not Found",
	405: "Method Not Allowed",
	408: "Request Timeout",
	411: "Length Required",
	413: "Request Entity Too Large",
	414: "Request-URI Too Long",
	417: "Expectation Failed",
	500: "Internal Server Error",
	501: "Not Implemented",
	505: "HTTP Version Not Supported",
}

// iisCustomErrors are the headings of the custerr pages IIS serves to
// remote clients: the page title and the explanation under it.
var iisCustomErrors = map[int][2]string{
	401: {"401 - Unauthorized: Access is denied due to invalid credentials.",
		"You do not have permission to view this directory or page using the credentials that you supplied."},
	403: {"403 - Forbidden: Access is denied.",
		"You do not have permission to view this directory or page using the credentials that you supplied."},
	404: {"404 - File or directory not found.",
		"The resource you are looking for might have been removed, had its name changed, or is temporarily unavailable."},
	405: {"405 - HTTP verb used to access this page is not allowed.",
		"The page you are looking for cannot be displayed because an invalid method (HTTP verb) was used to attempt access."},
	500: {"500 - Internal server error.",
		"There is a problem with the resource you are looking for, and it cannot be displayed."},
}

// iisAllow is the Allow header of the static file handler's 405, and
// iisPublic the method list of an OPTIONS response.
const (
	iisAllow  = "GET, HEAD, OPTIONS, TRACE"
	iisPublic = "OPTIONS, TRACE, GET, HEAD, POST"
)

// httpSysPages holds the title, heading and message of each page
// HTTP.sys sends itself, keyed by status and variant.
var httpSysPages = map[string][3]string{
	"400":                           {"Bad Request", "Bad Request", "HTTP Error 400. The request is badly formed."},
	"400/" + variantInvalidHostname: {"Bad Request", "Bad Request - Invalid Hostname", "HTTP Error 400. The request hostname is invalid."},
	"400/" + variantInvalidURL:      {"Bad Request", "Bad Request - Invalid URL", "HTTP Error 400. The request URL is invalid."},
	"400/" + variantInvalidHeader:   {"Bad Request", "Bad Request - Invalid Header", "HTTP Error 400. The request has an invalid header name."},
	"400/" + variantInvalidVerb:     {"Bad Request", "Bad Request - Invalid Verb", "HTTP Error 400. The request verb is invalid."},
	"400/" + variantHeaderTooLarge:  {"Bad Request", "Bad Request - Header Field Too Long", "HTTP Error 400. A request header field is too long."},
	"400/" + variantTooManyHeaders:  {"Bad Request", "Bad Request - Request Too Long", "HTTP Error 400. The size of the request headers is too long."},
	"408":                           {"Request Timeout", "Request Timeout", "HTTP Error 408. The request timed out."},
	"411":                           {"Length Required", "Length Required", "HTTP Error 411. The request must be chunked or have a content length."},
	"413":                           {"Request Entity Too Large", "Request Entity Too Large", "HTTP Error 413. The request entity is too large."},
	"414":                           {"Request URL Too Long", "Request URL Too Long", "HTTP Error 414. The request URL is too long."},
	"501":                           {"Not Implemented", "Not Implemented", "HTTP Error 501. The request transfer encoding type is not supported."},
	"505":                           {"HTTP Version Not Supported", "HTTP Version Not Supported", "HTTP Error 505. The request has an unsupported HTTP version."},
}

func (iis) id() string { return PersonaIIS }

// dialect approximates HTTP.sys: any token is a verb (IIS rejects an
// unknown one with 405), bare line feeds pass, and a Host that is
// missing or malformed is "Invalid Hostname". NOTE: these rules come
// from transcripts and nmap's match lines, not from a running HTTP.sys.
func (iis) dialect() dialect {
	return dialect{
		bareLF:                    true,
		unsupportedEncodingStatus: 501,
		earlyTargetCheck:          true,
		httpSys:                   true,
	}
}

// HTTP.sys puts no limit on the requests of one connection.
func (iis) maxRequests() int { return 1 << 20 }

// IIS's connectionTimeout defaults to 120 s, and HTTP.sys's idle connection
// timer uses it.
func (iis) keepAliveTimeout() time.Duration { return 120 * time.Second }

// HTTP.sys's HeaderWait timer defaults to 120 s.
func (iis) headerTimeout() time.Duration { return 120 * time.Second }

// headerTimeoutResponse is nil: HTTP.sys resets a connection whose
// headers time out.
func (iis) headerTimeoutResponse(*request) *response { return nil }

// HTTP.sys sends "100 Continue" itself as soon as a request with
// Expect: 100-continue and a body is handed on.
func (iis) sendsContinue(req *request, _ bool) bool {
	return req.chunked || req.contentLength > 0
}

func (iis) respondsBeforeBody(bool) bool { return false }

// NOTE: the time HTTP.sys drains a closing connection is an estimate.
func (iis) lingerTimeout() time.Duration { return 2 * time.Second }

func (iis) reason(status int) string {
	if r, ok := iisStatus[status]; ok {
		return r
	}
	return "OK"
}

// errorResponse returns IIS's custom error page for statuses IIS itself
// produces, and HTTP.sys's page for those found while parsing.
func (p iis) errorResponse(pi pageInfo) *response {
	if pi.httpSys || iisCustomErrors[pi.status][0] == "" {
		return p.httpSysResponse(pi)
	}
	texts := iisCustomErrors[pi.status]
	r := &response{status: pi.status, reason: iisStatus[pi.status], contentType: "text/html"}
	r.body = []byte(iisErrorPage(texts[0], texts[1]))
	if pi.status == 405 {
		r.extra = append(r.extra, header{name: "Allow", value: iisAllow})
	}
	return r
}

// httpSysResponse returns the page HTTP.sys sends. HTTP.sys always closes the
// connection.
func (iis) httpSysResponse(pi pageInfo) *response {
	key := strconv.Itoa(pi.status)
	if pi.variant != variantNone {
		key += "/" + pi.variant
	}
	texts, ok := httpSysPages[key]
	if !ok {
		texts, ok = httpSysPages[strconv.Itoa(pi.status)]
	}
	if !ok {
		pi.status = 400
		texts = httpSysPages["400"]
	}
	body := "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\"\"http://www.w3.org/TR/html4/strict.dtd\">\r\n" +
		"<HTML><HEAD><TITLE>" + texts[0] + "</TITLE>\r\n" +
		"<META HTTP-EQUIV=\"Content-Type\" Content=\"text/html; charset=us-ascii\"></HEAD>\r\n" +
		"<BODY><h2>" + texts[1] + "</h2>\r\n<hr><p>" + texts[2] + "</p>\r\n</BODY></HTML>\r\n"
	return &response{
		status:      pi.status,
		reason:      iisStatus[pi.status],
		contentType: "text/html; charset=us-ascii",
		body:        []byte(body),
		close:       true,
		server:      httpAPIServer,
	}
}

// iisErrorPage renders a custerr page. The files use CRLF line ends.
func iisErrorPage(title, detail string) string {
	page := `<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"/>
<title>` + title + `</title>
<style type="text/css">
<!--
body{margin:0;font-size:.7em;font-family:Verdana, Arial, Helvetica, sans-serif;background:#EEEEEE;}
fieldset{padding:0 15px 10px 15px;} 
h1{font-size:2.4em;margin:0;color:#FFF;}
h2{font-size:1.7em;margin:0;color:#CC0000;} 
h3{font-size:1.2em;margin:10px 0 0 0;color:#000000;} 
#header{width:96%;margin:0 0 0 0;padding:6px 2% 6px 2%;font-family:"trebuchet MS", Verdana, sans-serif;color:#FFF;
background-color:#555555;}
#content{margin:0 0 0 2%;position:relative;}
.content-container{background:#FFF;width:96%;margin-top:8px;padding:10px;position:relative;}
-->
</style>
</head>
<body>
<div id="header"><h1>Server Error</h1></div>
<div id="content">
 <div class="content-container"><fieldset>
  <h2>` + title + `</h2>
  <h3>` + detail + `</h3>
 </fieldset></div>
</div>
</body>
</html>
`
	return strings.ReplaceAll(page, "\n", "\r\n")
}

func (p iis) appResponse(_ *request, a appReply) *response {
	return &response{
		status:      a.status,
		reason:      p.reason(a.status),
		contentType: a.contentType,
		body:        a.body,
		extra:       a.headers,
	}
}

func (iis) optionsResponse() *response {
	return &response{
		status: 200,
		reason: "OK",
		extra: []header{
			{name: "Allow", value: iisPublic},
			{name: "Public", value: iisPublic},
		},
	}
}

// iisEarlyHeaders are sent before Content-Type, and iisEntityHeaders
// between Content-Type and Server, as IIS orders its response headers;
// every other header follows Server.
var (
	iisEarlyHeaders  = map[string]bool{"Allow": true, "Cache-Control": true, "Pragma": true, "Expires": true, "Location": true}
	iisEntityHeaders = map[string]bool{"Last-Modified": true, "Accept-Ranges": true, "ETag": true, "Vary": true}
)

func (iis) writeHead(buf *bytes.Buffer, r *response, ka keepAlive, now time.Time) {
	writeStatusLine(buf, r)
	if r.server == httpAPIServer {
		writeHeaderLine(buf, "Content-Type", r.contentType)
		writeHeaderLine(buf, "Server", httpAPIServer)
		writeHeaderLine(buf, "Date", now.UTC().Format(dateLayout))
		writeHeaderLine(buf, "Connection", "close")
		writeHeaderLine(buf, "Content-Length", strconv.Itoa(len(r.body)))
		buf.WriteString("\r\n")
		return
	}

	// An OPTIONS response sends Allow here and Public after Server.
	for _, h := range r.extra {
		if iisEarlyHeaders[h.name] {
			writeHeaderLine(buf, h.name, h.value)
		}
	}
	if r.contentType != "" {
		writeHeaderLine(buf, "Content-Type", r.contentType)
	}
	for _, h := range r.extra {
		if iisEntityHeaders[h.name] {
			writeHeaderLine(buf, h.name, h.value)
		}
	}
	writeHeaderLine(buf, "Server", iisServer)
	for _, h := range r.extra {
		if !iisEarlyHeaders[h.name] && !iisEntityHeaders[h.name] {
			writeHeaderLine(buf, h.name, h.value)
		}
	}
	writeHeaderLine(buf, "X-Powered-By", "ASP.NET")
	writeHeaderLine(buf, "Date", now.UTC().Format(dateLayout))
	// NOTE: a kept HTTP/1.0 connection gets no Connection header here.
	// What HTTP.sys sends then was not found in a transcript.
	if !ka.keep {
		writeHeaderLine(buf, "Connection", "close")
	}
	switch {
	case r.chunked:
		writeHeaderLine(buf, "Transfer-Encoding", "chunked")
	case !r.omitLength:
		writeHeaderLine(buf, "Content-Length", strconv.Itoa(len(r.body)))
	}
	buf.WriteString("\r\n")
}
