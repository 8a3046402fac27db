package httpdecoy

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Persona ids.
const (
	PersonaNginx  = "nginx-1.22.1-debian12"
	PersonaApache = "apache-2.4.58-ubuntu24.04"
	PersonaIIS    = "iis-10.0-windows2019"

	// DefaultPersona is used when decoys.Config.Persona is empty.
	DefaultPersona = PersonaNginx
)

// ErrUnknownPersona is returned by New for a persona id it does not know.
var ErrUnknownPersona = errors.New("unknown persona")

// Personas returns the ids New accepts, sorted.
func Personas() []string {
	ids := []string{PersonaNginx, PersonaApache, PersonaIIS}
	sort.Strings(ids)
	return ids
}

// dateLayout is the IMF-fixdate both products send in Date (RFC 9110
// section 5.6.7).
const dateLayout = "Mon, 02 Jan 2006 15:04:05 GMT"

// response is one HTTP response before the persona lays out its head.
type response struct {
	status      int
	reason      string
	contentType string
	body        []byte
	// extra holds headers beyond the persona's fixed set, such as
	// WWW-Authenticate, Allow or an application's Cache-Control, in the
	// order they are sent.
	extra []header
	// chunked sends the body as chunks instead of with Content-Length.
	chunked bool
	// omitLength sends no Content-Length, so the body runs to the close.
	omitLength bool
	// close ends the connection after this response.
	close bool
	// server, when set, replaces the persona's Server value; IIS uses it
	// for the pages HTTP.sys sends itself.
	server string
}

// appReply is one page of a login application before the persona frames
// it: the application decides status, type, its own headers and body.
type appReply struct {
	status      int
	contentType string
	headers     []header
	body        []byte
}

// pageInfo is the request data an error page depends on.
type pageInfo struct {
	status  int
	variant string
	method  string
	// host and port come from the request; host is empty when the
	// request failed before its Host header was read.
	host string
	port int
	// head omits the body (a HEAD request).
	head bool
	// msie marks a User-Agent that nginx treats as Internet Explorer.
	msie bool
	// expect is the Expect value Apache's 417 page quotes.
	expect string
	// httpSys marks a failure found by the parser, which IIS leaves to
	// HTTP.sys.
	httpSys bool
}

// keepAlive is the connection state a persona needs for its Connection
// and Keep-Alive headers.
type keepAlive struct {
	// keep is true when the connection stays open after the response.
	keep bool
	// token is true when the request carried "Connection: keep-alive".
	token bool
	// left is the number of further requests the connection may carry.
	left int
}

// persona is one real product the decoy imitates.
type persona interface {
	id() string
	dialect() dialect
	// maxRequests is the number of requests one connection may carry.
	maxRequests() int
	// keepAliveTimeout is the longest the product waits for the next
	// request on an idle connection.
	keepAliveTimeout() time.Duration
	// headerTimeout is the longest the product waits for a complete
	// request head.
	headerTimeout() time.Duration
	// headerTimeoutResponse is the response when headerTimeout expires,
	// or nil when the product closes without one.
	headerTimeoutResponse(req *request) *response
	// sendsContinue reports whether the product sends "100 Continue" to
	// a request with Expect: 100-continue; toApp marks a request that
	// the login application handles.
	sendsContinue(req *request, toApp bool) bool
	// respondsBeforeBody reports whether the product sends its response
	// before it reads the request body, which it then discards.
	respondsBeforeBody(toApp bool) bool
	// lingerTimeout is how long the product keeps reading after it
	// decides to close, so its last response is not lost to a reset.
	lingerTimeout() time.Duration
	errorResponse(pageInfo) *response
	// appResponse wraps a page of the login application as the product
	// serves it.
	appResponse(req *request, a appReply) *response
	// reason is the status line text the product sends for status.
	reason(status int) string
	// optionsResponse returns the response to OPTIONS on the application's
	// paths, or nil when the product responds 405.
	optionsResponse() *response
	writeHead(buf *bytes.Buffer, r *response, ka keepAlive, now time.Time)
}

// newPersona returns the persona for id. The serverName is the host name
// the product prints where it names itself. The seed derives the values
// that differ between installs.
func newPersona(id, serverName string, seed []byte) (persona, error) {
	switch id {
	case "", PersonaNginx:
		return nginx{}, nil
	case PersonaApache:
		return newApache(serverName, seed), nil
	case PersonaIIS:
		return iis{}, nil
	}
	return nil, fmt.Errorf("select persona %q (known: %s): %w", id, strings.Join(Personas(), ", "), ErrUnknownPersona)
}

func writeHeaderLine(buf *bytes.Buffer, name, value string) {
	buf.WriteString(name)
	buf.WriteString(": ")
	buf.WriteString(value)
	buf.WriteString("\r\n")
}

func writeStatusLine(buf *bytes.Buffer, r *response) {
	buf.WriteString("HTTP/1.1 ")
	buf.WriteString(strconv.Itoa(r.status))
	buf.WriteByte(' ')
	buf.WriteString(r.reason)
	buf.WriteString("\r\n")
}

// isMSIE reports a User-Agent that nginx 1.22.1 pads its error pages for:
// "MSIE " followed by at least three more bytes, without "Opera" anywhere.
// Both cases were measured ("MSIE 6.0" alone is padded).
func isMSIE(ua string) bool {
	i := strings.Index(ua, "MSIE ")
	if i < 0 || i+7 >= len(ua) {
		return false
	}
	return !strings.Contains(ua, "Opera")
}
