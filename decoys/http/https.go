package httpdecoy

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http2"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/tlsfp"
)

// tlsRecordHandshake is the first byte of a TLS ClientHello record.
const tlsRecordHandshake = 0x16

// h2MaxConcurrentStreams is the SETTINGS_MAX_CONCURRENT_STREAMS each
// product announces: nginx's http2_max_concurrent_streams and Apache's
// H2MaxSessionStreams default to 128 and 100, HTTP.sys to 100.
func h2MaxConcurrentStreams(p persona) uint32 {
	if p.id() == PersonaNginx {
		return 128
	}
	return 100
}

// serveTLS runs one HTTPS connection: the handshake, then HTTP/2 when
// ALPN chose h2 and the HTTP/1.1 loop otherwise. Plain HTTP sent to the
// port gets the product's response to it.
func (s *Service) serveTLS(ctx context.Context, raw *countingConn, sess *decoys.Session) string {
	_ = raw.SetReadDeadline(time.Now().Add(min(s.limits.ReadTimeout, s.persona.headerTimeout())))
	br := bufio.NewReaderSize(raw, 4<<10)
	first, err := br.Peek(1)
	if err != nil {
		return closeReason(ctx, err)
	}
	conn := &prefixConn{Conn: raw, r: br}
	if first[0] != tlsRecordHandshake {
		switch s.persona.id() {
		case PersonaIIS:
			// Schannel drops a connection that does not start a
			// handshake, without an HTTP response.
			return reasonProtocolError
		case PersonaApache:
			// mod_ssl responds only to what OpenSSL recognises as an HTTP
			// request: its first record header reads "GET ", "POST ",
			// "HEAD " or "PUT ". Anything else fails the handshake.
			head, err := br.Peek(5)
			if err != nil {
				return closeReason(ctx, err)
			}
			if !isOpenSSLHTTPPrefix(head) {
				return reasonProtocolError
			}
		}
		return s.serveConn(ctx, &countingConn{Conn: conn}, sess, true)
	}

	tc := tls.Server(conn, s.tlsConfig)
	if err := tc.HandshakeContext(tlsfp.WithSink(ctx, sess.Fingerprinted)); err != nil {
		s.log.Debug().Err(err).Str(decoys.FieldSession, sess.ID).Msg("tls handshake failed")
		if isTimeout(err) || ctx.Err() != nil {
			return closeReason(ctx, err)
		}
		return reasonProtocolError
	}
	_ = tc.SetReadDeadline(time.Time{})

	if tc.ConnectionState().NegotiatedProtocol == "h2" {
		return s.serveH2(ctx, tc, sess)
	}
	return s.serveConn(ctx, &countingConn{Conn: tc}, sess, false)
}

// respondPlainOnTLS answers a well-formed plain HTTP request on the TLS
// port and closes, as nginx (its internal 497) and mod_ssl do.
func (s *Service) respondPlainOnTLS(ctx context.Context, conn *countingConn, sess *decoys.Session, req *request, n int) {
	page := pageInfoFor(req)
	page.status = 400
	page.variant = variantPlainHTTP
	if s.persona.id() == PersonaApache {
		// mod_ssl fails the request before Apache reads its Host, so
		// the signature names the TLS virtual host.
		page.host, page.port = "", 0
	}
	resp := s.persona.errorResponse(page)
	resp.close = true
	s.finish(ctx, conn, sess, req, resp, 0, n)
}

// isOpenSSLHTTPPrefix reports the first bytes by which OpenSSL's record
// layer detects a plain HTTP request (SSL_R_HTTP_REQUEST).
func isOpenSSLHTTPPrefix(head []byte) bool {
	for _, p := range []string{"GET ", "POST ", "HEAD ", "PUT "} {
		if strings.HasPrefix(string(head), p) {
			return true
		}
	}
	return false
}

// prefixConn reads through the buffer that peeked at the first byte.
type prefixConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *prefixConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func (c *prefixConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// serveH2 serves HTTP/2 on a TLS connection until the client or the
// idle timeout ends it. Each stream goes through the same routes and
// credential capture as HTTP/1.1.
//
// x/net/http2's Server is deprecated in favour of net/http's own, but
// only ServeConn serves one connection whose TLS handshake the decoy has
// already run and fingerprinted, with settings chosen per persona. The
// move to net/http is a protocol change to measure, not a rename.
//
//nolint:staticcheck // SA1019: see above
func (s *Service) serveH2(ctx context.Context, conn *tls.Conn, sess *decoys.Session) string {
	srv := &http2.Server{
		MaxConcurrentStreams: h2MaxConcurrentStreams(s.persona),
		IdleTimeout:          min(s.limits.ReadTimeout, s.persona.keepAliveTimeout()),
		WriteByteTimeout:     s.limits.WriteTimeout,
	}
	if s.persona.id() == PersonaNginx {
		// nginx 1.22 announces SETTINGS_MAX_FRAME_SIZE 16777215 and
		// SETTINGS_INITIAL_WINDOW_SIZE 65536, then opens the connection
		// window to 2^31-1 (measured). Go's server adds settings of its
		// own that cannot be left out (TLS.md).
		srv.MaxReadFrameSize = 1<<24 - 1
		srv.MaxUploadBufferPerStream = 65536
		srv.MaxUploadBufferPerConnection = 1<<31 - 1
	}
	// http2 never reads ReadHeaderTimeout: headers arrive as frames,
	// and the idle and write timeouts above bound a slow client.
	base := &http.Server{ //nolint:gosec // G112: see above
		MaxHeaderBytes: headerBlockLines * s.limits.MaxLineBytes,
		// Frame errors are the attacker's, and the decoy's own log has
		// the connection.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	srv.ServeConn(conn, &http2.ServeConnOpts{
		Context:    ctx,
		BaseConfig: base,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.serveH2Request(w, r, sess)
		}),
	})
	if ctx.Err() != nil {
		return reasonShutdown
	}
	return reasonClientClosed
}

// serveH2Request turns one HTTP/2 stream into the decoy's request form,
// routes it and writes the persona's response.
func (s *Service) serveH2Request(w http.ResponseWriter, r *http.Request, sess *decoys.Session) {
	req := h2Request(r)
	page := pageInfoFor(req)

	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	var resp *response
	switch {
	case len(body) > maxBodyBytes:
		page.status = 413
		resp = s.persona.errorResponse(page)
		body = nil
	case err != nil:
		s.emitRequest(sess, req, int64(len(body)), 0)
		return
	}

	if resp == nil {
		if perr := parseTarget(req); perr != nil {
			page.status, page.variant = perr.status, perr.variant
			page.httpSys = s.persona.dialect().httpSys
			resp = s.persona.errorResponse(page)
		}
	}
	if resp == nil {
		s.emitCredentials(sess, req)
		resp = s.route(r.Context(), sess, req, body)
	}
	writeH2Response(w, s.persona, req, resp, s.now())
	s.emitRequest(sess, req, int64(len(body)), resp.status)
}

// h2Request builds the decoy's request from an HTTP/2 stream. Header
// order is lost in Go's map, so names are sorted to keep events stable, with
// the :authority as Host first.
func h2Request(r *http.Request) *request {
	req := &request{
		method:        r.Method,
		target:        r.RequestURI,
		proto:         "HTTP/2.0",
		major:         2,
		contentLength: r.ContentLength,
		userAgent:     r.UserAgent(),
		authorization: r.Header.Values("Authorization"),
		contentType:   r.Header.Get("Content-Type"),
		lineSeen:      true,
		lineRead:      true,
	}
	if host, port, ok := splitHost(r.Host); ok {
		req.host, req.port = host, port
	}
	req.headers = append(req.headers, header{name: "Host", value: r.Host})
	names := make([]string, 0, len(r.Header))
	for name := range r.Header {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, v := range r.Header[name] {
			req.headers = append(req.headers, header{name: name, value: v})
		}
	}
	return req
}

// h2Hop are the HTTP/1.1 connection headers HTTP/2 forbids.
var h2Hop = map[string]bool{"Connection": true, "Keep-Alive": true, "Transfer-Encoding": true}

// writeH2Response sends resp on an HTTP/2 stream. HPACK and Go's server
// choose the header order, so only the names and values are the
// product's: server, date, content-type, content-length and the
// response's own headers.
func writeH2Response(w http.ResponseWriter, p persona, req *request, resp *response, now time.Time) {
	h := w.Header()
	server := resp.server
	if server == "" {
		server = serverHeader(p)
	}
	h.Set("Server", server)
	h.Set("Date", now.UTC().Format(dateLayout))
	if resp.contentType != "" {
		h.Set("Content-Type", resp.contentType)
	} else {
		// Keep Go from sniffing a type the product would not send.
		h["Content-Type"] = nil
	}
	for _, x := range resp.extra {
		if !h2Hop[x.name] {
			h.Add(x.name, x.value)
		}
	}
	if p.id() == PersonaIIS && server == iisServer {
		h.Set("X-Powered-By", "ASP.NET")
	}
	if !resp.chunked && (!resp.omitLength || req.method == "HEAD") {
		h.Set("Content-Length", strconv.Itoa(len(resp.body)))
	}
	w.WriteHeader(resp.status)
	if req.method != "HEAD" {
		// The body is the page the HTTP/1.1 path sends too, and the
		// routes escape what they reflect of the request.
		_, _ = w.Write(resp.body) //nolint:gosec // G705: see above
	}
}

// serverHeader is the persona's Server value.
func serverHeader(p persona) string {
	switch p.id() {
	case PersonaApache:
		return apacheServer
	case PersonaIIS:
		return iisServer
	}
	return nginxServer
}

// variantPlainHTTP is a plain HTTP request on the TLS port.
const variantPlainHTTP = "plain_http"

// nginxPlainHTTPPage is nginx's page for its internal status 497.
const nginxPlainHTTPPage = "<html>\r\n<head><title>400 The plain HTTP request was sent to HTTPS port</title></head>\r\n<body>\r\n" +
	"<center><h1>400 Bad Request</h1></center>\r\n<center>The plain HTTP request was sent to HTTPS port</center>\r\n"

// apachePlainHTTPMessage is mod_ssl's reason for the same.
const apachePlainHTTPMessage = "<p>Your browser sent a request that this server could not understand.<br />\n" +
	"Reason: You're speaking plain HTTP to an SSL-enabled server port.<br />\n" +
	" Instead use the HTTPS scheme to access this URL, please.<br />\n</p>\n"
