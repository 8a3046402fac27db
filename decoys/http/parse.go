package httpdecoy

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
)

// Parse failure variants. Both products respond to these with status 400 but
// with their own page text, so the variant selects the page.
const (
	variantNone           = ""
	variantHeaderTooLarge = "header_too_large"
	variantTooManyHeaders = "too_many_headers"

	// HTTP.sys names the part of the request at fault.
	variantInvalidHostname = "invalid_hostname"
	variantInvalidURL      = "invalid_url"
	variantInvalidHeader   = "invalid_header"
	variantInvalidVerb     = "invalid_verb"
)

// protocolError is a malformed or unsupported request. Status is the code
// the persona responds with; the connection is closed after the response.
type protocolError struct {
	status  int
	variant string
	reason  string
	// headRead marks a failure found after the whole head was read.
	headRead bool
	// keep leaves the connection open after the response (Apache's 417).
	keep bool
}

func (e *protocolError) Error() string { return "invalid request: " + e.reason }

func badRequest(reason string) *protocolError {
	return &protocolError{status: 400, reason: reason}
}

// badRequestVariant is a 400 whose page differs by cause in some
// product (HTTP.sys names the host, URL, header or verb at fault).
func badRequestVariant(variant, reason string) *protocolError {
	return &protocolError{status: 400, variant: variant, reason: reason}
}

// dialect holds the parsing rules on which nginx and Apache disagree, as
// measured against nginx 1.22.1 (Debian 12) and Apache 2.4 with its default
// HttpProtocolOptions Strict.
type dialect struct {
	// earlyMethodCheck rejects a byte that cannot belong to a method as soon
	// as it arrives, without waiting for the end of the line. nginx does
	// this, so a TLS ClientHello gets its 400 at once.
	earlyMethodCheck bool
	// bareLF accepts a line ending with LF alone.
	bareLF bool
	// lenientSpaces accepts several spaces between the request line's
	// parts and after the version.
	lenientSpaces bool
	// knownMethods, when set, lists the methods the server implements; any
	// other well-formed method gets 501.
	knownMethods map[string]bool
	// nginxVersion parses the version as nginx does (parseVersionNginx);
	// otherwise only Apache's strict "HTTP/[1-9].[0-9]" is accepted.
	nginxVersion bool
	// targetFormFirst checks the form of the target (a path or
	// scheme://host) before the version, as nginx's incremental parser
	// meets it first: "PRI * HTTP/2.0" is a 400, not a 505.
	targetFormFirst bool
	// rejectUnknownExpect responds to an Expect other than 100-continue
	// with 417, as Apache does. nginx ignores such a value.
	rejectUnknownExpect bool
	// closeUnmetExpect closes the connection after a final response to a
	// request with Expect: 100-continue that got no 100, as Apache does,
	// because the client may still send the body.
	closeUnmetExpect bool
	// invalidHeaderNamesIgnored keeps header names with characters outside
	// [A-Za-z0-9-] (nginx's ignore_invalid_headers) instead of rejecting
	// the request.
	invalidHeaderNamesIgnored bool
	// rejectDuplicateAuthorization rejects a second Authorization with 400
	// header, as nginx does for its unique request headers.
	rejectDuplicateAuthorization bool
	// unsupportedEncodingStatus rejects a Transfer-Encoding other than
	// chunked: 501 for nginx, 400 for Apache.
	unsupportedEncodingStatus int
	// earlyTargetCheck validates the target as soon as the request line
	// is complete (nginx) instead of after the headers (Apache).
	earlyTargetCheck bool
	// maxHeaders caps the number of header lines (Apache's
	// LimitRequestFields); zero leaves only the byte limit.
	maxHeaders int
	// headerNameNoColonIgnored keeps a header line without a colon as an
	// ignored header instead of rejecting the request.
	headerNameNoColonIgnored bool
	// httpSys parses as Windows' HTTP.sys: the strict version syntax of
	// Apache, but any major version above 1 is a 505.
	httpSys bool
}

// parseLimits bound what the parser reads for one request.
type parseLimits struct {
	// maxLine caps the request line and each header line, without the
	// line ending.
	maxLine int
	// maxHeaderBytes caps the header block, line endings included.
	maxHeaderBytes int
	// maxHeaders caps the number of header lines; zero means no count
	// limit beyond maxHeaderBytes.
	maxHeaders int
}

// header is one header line as received. Ignored marks a header the real
// product skips (an invalid name), which is still recorded.
type header struct {
	name    string
	value   string
	ignored bool
}

// request is one parsed request head. After a parse failure it holds what
// was read before the failure, for the http.request event.
type request struct {
	method string
	target string
	proto  string
	major  int
	minor  int
	// http09 marks a request line without a version (HTTP/0.9).
	http09  bool
	headers []header

	host          string
	port          int // from Host or the absolute target; zero when absent
	path          string
	userAgent     string
	authorization []string
	contentType   string
	contentLength int64 // -1 when absent
	chunked       bool
	// expect joins the values of every Expect header with ", ", as
	// Apache merges repeated headers; expectContinue marks the value
	// 100-continue (case-insensitive).
	expect         string
	expectContinue bool
	// continueSent marks a request that was sent "100 Continue".
	continueSent   bool
	keepAliveToken bool
	closeToken     bool

	// lineSeen marks that bytes of a request line arrived, so a truncated
	// request is still worth an event.
	lineSeen bool
	// lineRead marks a request line read up to its line ending, which
	// decides whether Apache responds to a header timeout with 408.
	lineRead bool
}

// errLineTooLong reports a line over parseLimits.maxLine.
var errLineTooLong = errors.New("line too long")

// readLine reads one line ending in LF and returns it without the line
// ending. It returns errLineTooLong once the line exceeds max, without
// reading the rest. bareLF reports a line that ended with LF alone.
func readLine(br *bufio.Reader, max int, check func(line []byte, b byte) *protocolError) (line []byte, bareLF bool, err error) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			return line, false, err
		}
		if b == '\n' {
			if n := len(line); n > 0 && line[n-1] == '\r' {
				return line[:n-1], false, nil
			}
			return line, true, nil
		}
		if check != nil {
			if perr := check(line, b); perr != nil {
				return line, false, perr
			}
		}
		// One byte of slack keeps room for the CR of a line that is
		// exactly max bytes long.
		if len(line) >= max+1 {
			return line, false, errLineTooLong
		}
		line = append(line, b)
	}
}

// parseRequest reads one request head from br. It returns a
// *protocolError for malformed input, or the reader's error (io.EOF, a
// timeout) when the input ends first. The returned request is never nil.
func parseRequest(br *bufio.Reader, d dialect, lim parseLimits) (*request, error) {
	req := &request{contentLength: -1}

	line, err := readRequestLine(br, d, lim, req)
	if err != nil {
		return req, err
	}
	if perr := parseRequestLine(line, d, req); perr != nil {
		return req, perr
	}
	if req.http09 {
		if req.method != "GET" {
			return req, badRequest("HTTP/0.9 request with a method other than GET")
		}
		if perr := parseTarget(req); perr != nil {
			return req, perr
		}
		return req, nil
	}
	if d.earlyTargetCheck {
		if perr := parseTarget(req); perr != nil {
			return req, perr
		}
	}

	if err := readHeaders(br, d, lim, req); err != nil {
		return req, err
	}
	if perr := applyHeaders(req, d); perr != nil {
		return req, perr
	}
	if d.rejectUnknownExpect && req.expect != "" && !req.expectContinue {
		return req, &protocolError{status: 417, reason: "unsupported expectation", headRead: true, keep: true}
	}

	// Apache checks the target and the method only once the whole head is
	// read, so these responses may name the request's Host.
	if !d.earlyTargetCheck {
		if perr := parseTarget(req); perr != nil {
			perr.headRead = true
			return req, perr
		}
	}
	if d.knownMethods != nil && !d.knownMethods[req.method] {
		return req, &protocolError{status: 501, reason: "unknown method", headRead: true}
	}
	return req, nil
}

func readRequestLine(br *bufio.Reader, d dialect, lim parseLimits, req *request) ([]byte, error) {
	// Both products skip empty lines before a request line (RFC 9112
	// section 2.2). The loop is bounded by the bytes the peer sends and the
	// read deadline.
	for {
		b, err := br.Peek(1)
		if err != nil {
			return nil, err
		}
		if b[0] != '\r' && b[0] != '\n' {
			break
		}
		_, _ = br.ReadByte()
	}
	req.lineSeen = true

	var check func([]byte, byte) *protocolError
	if d.earlyMethodCheck {
		inMethod := true
		check = func(_ []byte, b byte) *protocolError {
			if !inMethod {
				return nil
			}
			if b == ' ' {
				inMethod = false
				return nil
			}
			if (b < 'A' || b > 'Z') && b != '_' && b != '-' {
				return badRequest("invalid method byte")
			}
			return nil
		}
	}

	line, bareLF, err := readLine(br, lim.maxLine, check)
	req.target = string(line) // provisional, so a truncated line is recorded
	if errors.Is(err, errLineTooLong) {
		return nil, &protocolError{status: 414, reason: "request line too long"}
	}
	if err != nil {
		return nil, err
	}
	req.target = ""
	req.lineRead = true
	if bareLF && !d.bareLF {
		return nil, badRequest("request line ends with a bare LF")
	}
	return line, nil
}

// parseRequestLine splits "METHOD SP target SP HTTP/x.y".
func parseRequestLine(line []byte, d dialect, req *request) *protocolError {
	s := string(line)

	sp := strings.IndexByte(s, ' ')
	if sp <= 0 {
		req.method = s
		return badRequest("request line without a target")
	}
	req.method = s[:sp]
	rest := s[sp+1:]
	if d.lenientSpaces {
		rest = strings.TrimLeft(rest, " ")
	}

	for i := 0; i < len(req.method); i++ {
		if !isMethodByte(req.method[i], d) {
			return badRequestVariant(variantInvalidVerb, "invalid method")
		}
	}

	target, version, hasVersion := strings.Cut(rest, " ")
	req.target = target
	if target == "" {
		return badRequest("empty target")
	}
	for i := 0; i < len(target); i++ {
		if c := target[i]; c < 0x21 || c == 0x7f {
			return badRequest("control byte in target")
		}
	}

	if d.targetFormFirst {
		if perr := checkTargetForm(target); perr != nil {
			return perr
		}
	}
	if target == "*" && req.method != "OPTIONS" {
		// Apache rejects it with the request line, before the headers.
		return badRequest("asterisk target without OPTIONS")
	}

	if !hasVersion {
		req.http09 = true
		req.proto = "HTTP/0.9"
		return nil
	}
	if d.lenientSpaces {
		version = strings.TrimRight(strings.TrimLeft(version, " "), " ")
	}
	req.proto = version
	if d.nginxVersion {
		return parseVersionNginx(version, req)
	}
	if perr := parseVersionStrict(version, req); perr != nil {
		return perr
	}
	if d.httpSys && req.major > 1 {
		return &protocolError{status: 505, reason: "unsupported version"}
	}
	return nil
}

// checkTargetForm rejects a target that is neither a path nor
// scheme://host, without decoding the path.
func checkTargetForm(target string) *protocolError {
	if strings.HasPrefix(target, "/") {
		return nil
	}
	scheme, rest, ok := strings.Cut(target, "://")
	if !ok || scheme == "" || !isScheme(scheme) {
		return badRequestVariant(variantInvalidURL, "target is neither a path nor an absolute URI")
	}
	authority, _, _ := strings.Cut(rest, "/")
	if _, _, ok := splitHost(authority); !ok {
		return badRequest("invalid host in target")
	}
	return nil
}

// isMethodByte reports whether b may appear in a method. nginx takes only
// upper-case letters, '_' and '-'; Apache takes any token character
// (RFC 9110 section 5.6.2) and rejects unknown methods with 501 later.
func isMethodByte(b byte, d dialect) bool {
	if d.httpSys {
		return isTokenByte(b)
	}
	if d.knownMethods == nil {
		return b >= 'A' && b <= 'Z' || b == '_' || b == '-'
	}
	return isTokenByte(b)
}

func isTokenByte(b byte) bool {
	switch {
	case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
}

// parseVersionNginx follows nginx 1.22.1's request line state machine.
// The first major digit must be 1-9 and a major version above 1 is a 505
// as soon as it is seen, whatever follows ("HTTP/2x.0" too). The minor
// version takes leading zeros and up to three digits: a fourth digit
// after a value above 99 is a 400 ("HTTP/1.0001" passes, "HTTP/1.1000"
// does not). Each rule was measured against nginx 1.22.1-9+deb12u12.
func parseVersionNginx(v string, req *request) *protocolError {
	digits, ok := strings.CutPrefix(v, "HTTP/")
	if !ok || digits == "" || digits[0] < '1' || digits[0] > '9' {
		return badRequest("invalid version")
	}
	if digits[0] > '1' {
		return &protocolError{status: 505, reason: "unsupported version"}
	}
	req.major = 1

	i := 1
	if i < len(digits) && digits[i] >= '0' && digits[i] <= '9' {
		// Any second major digit makes the version 10 or more.
		return &protocolError{status: 505, reason: "unsupported version"}
	}
	if i >= len(digits) || digits[i] != '.' {
		return badRequest("invalid version")
	}
	i++
	if i >= len(digits) {
		return badRequest("invalid version")
	}
	minor := 0
	for ; i < len(digits); i++ {
		c := digits[i]
		if c < '0' || c > '9' || minor > 99 {
			return badRequest("invalid version")
		}
		minor = minor*10 + int(c-'0')
	}
	req.minor = minor
	return nil
}

// parseVersionStrict accepts "HTTP/" and two single digits with a major
// version of 1 to 9, as Apache 2.4's HttpProtocolOptions Strict does.
// Apache serves HTTP/2.0 to HTTP/9.9 as HTTP/1.1.
func parseVersionStrict(v string, req *request) *protocolError {
	if len(v) != 8 || !strings.HasPrefix(v, "HTTP/") || v[5] < '1' || v[5] > '9' || v[6] != '.' || v[7] < '0' || v[7] > '9' {
		return badRequest("invalid version")
	}
	req.major = int(v[5] - '0')
	req.minor = int(v[7] - '0')
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseTarget accepts origin-form ("/path?query") and absolute-form
// ("http://host/path") targets and normalises the path as nginx does:
// percent-decoding, dot segments, and a 400 for a path above the root or
// a bad escape.
func parseTarget(req *request) *protocolError {
	t := req.target
	if t == "*" && req.method == "OPTIONS" {
		// The asterisk-form names the server itself (RFC 9112 section
		// 3.2.4); nginx rejected it earlier in checkTargetForm.
		req.path = t
		return nil
	}
	if !strings.HasPrefix(t, "/") {
		scheme, rest, ok := strings.Cut(t, "://")
		if !ok || scheme == "" || !isScheme(scheme) {
			return badRequestVariant(variantInvalidURL, "target is neither a path nor an absolute URI")
		}
		authority, path, _ := strings.Cut(rest, "/")
		host, port, ok := splitHost(authority)
		if !ok {
			return badRequest("invalid host in target")
		}
		// An absolute-form target overrides Host (RFC 9112 section 3.2.2).
		req.host, req.port = host, port
		t = "/" + path
	}

	if i := strings.IndexAny(t, "?#"); i >= 0 {
		t = t[:i]
	}
	path, ok := normalizePath(t)
	if !ok {
		return badRequestVariant(variantInvalidURL, "invalid path")
	}
	req.path = path
	return nil
}

func isScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		afterFirst := i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')
		if !letter && !afterFirst {
			return false
		}
	}
	return true
}

// normalizePath decodes %XX escapes and resolves "." and ".." segments. It
// fails on a bad escape, a decoded NUL or a ".." above the root.
func normalizePath(p string) (string, bool) {
	decoded := make([]byte, 0, len(p))
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c != '%' {
			decoded = append(decoded, c)
			continue
		}
		if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
			return "", false
		}
		v := unhex(p[i+1])<<4 | unhex(p[i+2])
		if v == 0 {
			return "", false
		}
		decoded = append(decoded, v)
		i += 2
	}

	segments := strings.Split(string(decoded), "/")
	out := make([]string, 0, len(segments))
	for _, seg := range segments[1:] {
		switch seg {
		case ".":
			continue
		case "..":
			if len(out) == 0 {
				return "", false
			}
			out = out[:len(out)-1]
			continue
		}
		out = append(out, seg)
	}
	// Merge empty segments as nginx's merge_slashes does.
	path := "/" + strings.Join(out, "/")
	for strings.Contains(path, "//") {
		path = strings.ReplaceAll(path, "//", "/")
	}
	return path, true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

func readHeaders(br *bufio.Reader, d dialect, lim parseLimits, req *request) error {
	total := 0
	for {
		line, bareLF, err := readLine(br, lim.maxLine, nil)
		if errors.Is(err, errLineTooLong) {
			return &protocolError{status: 400, variant: variantHeaderTooLarge, reason: "header line too long"}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return io.ErrUnexpectedEOF
			}
			return err
		}
		if bareLF && !d.bareLF {
			return badRequest("header line ends with a bare LF")
		}
		total += len(line) + 2
		if total > lim.maxHeaderBytes {
			return &protocolError{status: 400, variant: variantHeaderTooLarge, reason: "header block too large"}
		}
		if len(line) == 0 {
			return nil
		}
		if lim.maxHeaders > 0 && len(req.headers) >= lim.maxHeaders {
			return &protocolError{status: 400, variant: variantTooManyHeaders, reason: "too many header lines"}
		}
		h, perr := parseHeaderLine(line, d)
		if perr != nil {
			return perr
		}
		req.headers = append(req.headers, h)
	}
}

// parseHeaderLine splits "name: value". Folded continuation lines
// (obs-fold) are rejected, as both products do for a request.
func parseHeaderLine(line []byte, d dialect) (header, *protocolError) {
	if line[0] == ' ' || line[0] == '\t' {
		return header{}, badRequest("folded header line")
	}
	colon := bytes.IndexByte(line, ':')
	if colon < 0 {
		if d.headerNameNoColonIgnored && !bytes.ContainsAny(line, " \t\x00") {
			return header{name: string(line), ignored: true}, nil
		}
		return header{}, badRequest("header line without a colon")
	}
	if colon == 0 {
		return header{}, badRequestVariant(variantInvalidHeader, "empty header name")
	}

	name := line[:colon]
	h := header{name: string(name)}
	for _, c := range name {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-':
		case c <= ' ' || c == 0x7f:
			return header{}, badRequestVariant(variantInvalidHeader, "invalid byte in header name")
		case d.invalidHeaderNamesIgnored:
			h.ignored = true
		case !isTokenByte(c):
			return header{}, badRequestVariant(variantInvalidHeader, "invalid byte in header name")
		}
	}

	value := bytes.Trim(line[colon+1:], " \t")
	for _, c := range value {
		if c == 0 || c == '\r' {
			return header{}, badRequest("invalid byte in header value")
		}
		if !d.bareLF && c < ' ' && c != '\t' {
			return header{}, badRequest("control byte in header value")
		}
	}
	h.value = string(value)
	return h, nil
}

// applyHeaders interprets the headers that both products check before
// routing: Host, Content-Length, Transfer-Encoding, Connection, Expect.
func applyHeaders(req *request, d dialect) *protocolError {
	var sawHost, sawLength bool
	for _, h := range req.headers {
		if h.ignored {
			continue
		}
		switch strings.ToLower(h.name) {
		case "host":
			if sawHost {
				return badRequestVariant(variantInvalidHostname, "duplicate Host header")
			}
			sawHost = true
			host, port, ok := splitHost(h.value)
			if !ok {
				return badRequestVariant(variantInvalidHostname, "invalid Host header")
			}
			if req.host == "" {
				req.host, req.port = host, port
			}
		case "content-length":
			if sawLength {
				return badRequest("duplicate Content-Length header")
			}
			sawLength = true
			if h.value == "" || len(h.value) > 18 || !allDigits(h.value) {
				return badRequest("invalid Content-Length header")
			}
			req.contentLength, _ = strconv.ParseInt(h.value, 10, 64)
		case "transfer-encoding":
			if !strings.EqualFold(h.value, "chunked") {
				return &protocolError{status: d.unsupportedEncodingStatus, reason: "unsupported transfer coding"}
			}
			req.chunked = true
		case "connection":
			for _, token := range strings.Split(h.value, ",") {
				switch strings.ToLower(strings.TrimSpace(token)) {
				case "keep-alive":
					req.keepAliveToken = true
				case "close":
					req.closeToken = true
				}
			}
		case "user-agent":
			if req.userAgent == "" {
				req.userAgent = h.value
			}
		case "authorization":
			if len(req.authorization) > 0 && d.rejectDuplicateAuthorization {
				return badRequest("duplicate Authorization header")
			}
			req.authorization = append(req.authorization, h.value)
		case "content-type":
			if req.contentType == "" {
				req.contentType = h.value
			}
		case "expect":
			if h.value == "" {
				break
			}
			if req.expect != "" {
				req.expect += ", "
			}
			req.expect += h.value
			// nginx 1.22 reads only the first Expect header; Apache
			// reads the merged value.
			if d.rejectUnknownExpect || req.expect == h.value {
				req.expectContinue = strings.EqualFold(req.expect, "100-continue")
			}
		}
	}

	if req.chunked && (sawLength || req.major == 1 && req.minor == 0) {
		return badRequest("chunked body with Content-Length or in HTTP/1.0")
	}
	if !sawHost && (req.major > 1 || req.major == 1 && req.minor >= 1) && req.target != "" && !isAbsoluteTarget(req.target) {
		return badRequestVariant(variantInvalidHostname, "missing Host header")
	}
	return nil
}

// isAbsoluteTarget reports an absolute-form target, which names its own
// host, so HTTP/1.1 needs no Host header with it.
func isAbsoluteTarget(t string) bool {
	return !strings.HasPrefix(t, "/") && strings.Contains(t, "://")
}

// splitHost validates a Host value ("name", "name:port", "[v6]:port") as
// nginx's ngx_http_validate_host does and returns the lower-cased name and
// the port (zero when absent).
func splitHost(v string) (string, int, bool) {
	if v == "" {
		return "", 0, false
	}
	name, portText := v, ""
	if strings.HasPrefix(v, "[") {
		end := strings.IndexByte(v, ']')
		if end < 0 {
			return "", 0, false
		}
		name = v[:end+1]
		rest := v[end+1:]
		if rest != "" {
			p, ok := strings.CutPrefix(rest, ":")
			if !ok {
				return "", 0, false
			}
			portText = p
		}
	} else if i := strings.LastIndexByte(v, ':'); i >= 0 {
		name, portText = v[:i], v[i+1:]
	}

	if name == "" || strings.Contains(name, "..") {
		return "", 0, false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c == 0x7f || c == '/' || c == '\\' {
			return "", 0, false
		}
	}
	name = strings.TrimSuffix(strings.ToLower(name), ".")

	port := 0
	if portText != "" {
		if len(portText) > 5 || !allDigits(portText) {
			return "", 0, false
		}
		port, _ = strconv.Atoi(portText)
	}
	return name, port, true
}
