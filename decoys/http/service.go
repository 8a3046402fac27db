// Package httpdecoy is the HTTP decoy: a login application behind a web
// server persona (nginx, Apache or IIS) that records every request and
// every credential sent to it, over plain HTTP/1.1 or over TLS with
// HTTP/1.1 and HTTP/2. The directory is decoys/http; the package name
// differs so that it does not shadow net/http in importers.
//
// The decoy parses HTTP/1.x requests itself instead of using net/http's
// server, so that it controls every byte an observer receives (status
// lines, header order, error pages, connection handling) and enforces
// its own limits. HTTP/2, where header order is not observable the same
// way, runs on golang.org/x/net/http2 with the same routes.
//
// Options (decoys.Config.Options; unknown keys are rejected):
//
//	tls       "true" serves HTTPS with a certificate derived from the seed
//	http2     "true"/"false": offer h2 in ALPN (default on for nginx and
//	          IIS, off for Apache as Ubuntu ships it)
//	app       "portal" (default), "router", "wordpress", "grafana",
//	          "phpmyadmin" or "owa"
//	hostname  host name for the certificate and Apache's signature
//
// With the IIS persona and the owa application, the directories Exchange
// protects with Windows authentication run the NTLM handshake and record
// its response (ntlm.go).
package httpdecoy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/tlsfp"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// ServiceName is the service name in every event of this decoy.
const ServiceName = "http"

// maxBodyBytes caps a request body. The login form needs a few hundred
// bytes; a bigger body gets 413 as the product's
// client_max_body_size or LimitRequestBody would.
const maxBodyBytes = 64 << 10

// headerBlockLines is how many maximum-size lines the header block may
// hold, after nginx's large_client_header_buffers 4 8k.
const headerBlockLines = 4

// Caps on what one http.request event carries.
const (
	maxEventTarget      = 4 << 10
	maxEventHeaders     = 64
	maxEventHeaderBytes = 8 << 10
	maxEventField       = 1 << 10 // method, protocol, host, user agent
)

// Failed logins get their response after a pause drawn from this range,
// an estimate of what a PHP portal spends on password_verify and a session
// write.
const (
	failDelayMin = 300 * time.Millisecond
	failDelayMax = 900 * time.Millisecond
)

// lingerMax caps the whole lingering close, as nginx's lingering_time
// (30 s) does.
const lingerMax = 30 * time.Second

// Reasons in connection.closed.
const (
	reasonClientClosed  = "client_closed"
	reasonTimeout       = "timeout"
	reasonLimit         = "limit"
	reasonProtocolError = "protocol_error"
	reasonServerClosed  = "server_closed"
	reasonShutdown      = "shutdown"
)

// Service is the HTTP decoy. It implements decoys.Service.
type Service struct {
	decky   string
	emitter decoys.Emitter
	log     zerolog.Logger
	limits  decoys.Limits
	metrics *decoys.Metrics
	persona persona
	portal  portal
	// app is the login application; nil serves the portal.
	app application
	// windowsAuth protects Exchange's directories with NTLM; nil
	// where the decky has none.
	windowsAuth *windowsAuth
	// tlsConfig, when set, serves HTTPS; h2 is in its ALPN list when
	// HTTP/2 is on.
	tlsConfig *tls.Config

	// now stamps events and Date headers; tests replace it.
	now func() time.Time
	// failDelay returns the pause before the response to a rejected login;
	// tests replace it.
	failDelay func() time.Duration
}

var _ decoys.Service = (*Service)(nil)

// New returns the HTTP decoy for cfg. It fails on a missing emitter or an
// unknown persona (ErrUnknownPersona).
func New(cfg decoys.Config) (*Service, error) {
	if cfg.Emitter == nil {
		return nil, errors.New("create http decoy: missing emitter")
	}
	personaID := cfg.Persona
	if personaID == "" {
		personaID = DefaultPersona
	}
	opts, err := parseOptions(cfg.Options, personaID)
	if err != nil {
		return nil, fmt.Errorf("create http decoy: %w", err)
	}
	host := serverName(cfg.Decky)
	if opts.hostname != "" {
		host = opts.hostname
	}
	p, err := newPersona(cfg.Persona, host, cfg.Seed)
	if err != nil {
		return nil, fmt.Errorf("create http decoy: %w", err)
	}
	app, err := newApp(opts.app, cfg.Seed, host)
	if err != nil {
		return nil, fmt.Errorf("create http decoy: %w", err)
	}
	// The computer name of IIS: Exchange's front end when it names
	// itself in X-FEServer, else the name Windows setup gave the host.
	computer := iisHostName(cfg.Decky, cfg.Seed)
	if owa, ok := app.(owaApp); ok {
		computer = owa.feServer
	}
	var tlsConfig *tls.Config
	if opts.tls {
		if a, ok := p.(apache); ok {
			a.defaultPort = 443
			p = a
		}
		certHost := host
		if p.id() == PersonaIIS {
			certHost = iisHostName(cfg.Decky, cfg.Seed)
			if opts.hostname != "" {
				certHost = strings.ToUpper(opts.hostname)
			}
		}
		set := tlsFor(p, certHost)
		cert, err := deriveCertificate(cfg.Seed, set.profile)
		if err != nil {
			return nil, fmt.Errorf("create http decoy: %w", err)
		}
		alpn := []string{"http/1.1"}
		if opts.http2 {
			alpn = []string{"h2", "http/1.1"}
		}
		tlsConfig = tlsfp.Capture(newTLSConfig(set, cert, alpn))
	}

	return &Service{
		app:         app,
		windowsAuth: newWindowsAuth(p.id(), opts.app, cfg.Seed, computer),
		tlsConfig:   tlsConfig,
		decky:       cfg.Decky,
		emitter:     cfg.Emitter,
		log:         cfg.Logger.With().Str(decoys.FieldService, ServiceName).Str(decoys.FieldDecky, cfg.Decky).Logger(),
		limits:      cfg.Limits.WithDefaults(),
		metrics:     cfg.Metrics,
		persona:     p,
		portal:      newPortal(cfg.Seed, cfg.Decky),
		now:         time.Now,
		failDelay: func() time.Duration {
			return failDelayMin + rand.N(failDelayMax-failDelayMin) //nolint:gosec // G404: a timing delay, not a secret
		},
	}, nil
}

// Serve accepts connections from ln until ctx ends; see decoys.ServeConns.
func (s *Service) Serve(ctx context.Context, ln net.Listener) error {
	s.log.Info().Str("persona", s.persona.id()).Str("address", ln.Addr().String()).Msg("http decoy serving")
	err := decoys.ServeConns(ctx, ln, decoys.ServeOptions{
		Limits:  s.limits,
		Logger:  s.log,
		Decky:   s.decky,
		Service: ServiceName,
		Metrics: s.metrics,
		Emitter: s.emitter,
	}, s.handleConn)
	if err != nil {
		return fmt.Errorf("serve http decoy: %w", err)
	}
	return nil
}

// scheme is the URL scheme the decoy serves.
func (s *Service) scheme() string {
	if s.tlsConfig != nil {
		return "https"
	}
	return "http"
}

// serverName is the host name Apache prints when a request has no usable
// Host. A decky named like a host uses its name; otherwise the address
// Ubuntu's /etc/hosts gives the machine's own name.
func serverName(decky string) string {
	name := strings.ToLower(decky)
	if name == "" || len(name) > 63 {
		return "127.0.1.1"
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return "127.0.1.1"
		}
	}
	return name
}

func (s *Service) handleConn(ctx context.Context, conn net.Conn) {
	counted := &countingConn{Conn: conn}
	sess := decoys.NewSession(conn, s.decky, ServiceName, s.emitter)
	sess.Now = s.now
	started := s.now()
	sess.Opened()

	ctx = withNTLMConn(ctx)
	var reason string
	if s.tlsConfig != nil {
		reason = s.serveTLS(ctx, counted, sess)
	} else {
		reason = s.serveConn(ctx, counted, sess, false)
	}

	sess.Closed(started, counted.received.Load(), counted.sent.Load(), reason)
	s.log.Debug().Str(decoys.FieldSession, sess.ID).Str(decoys.FieldSource, conn.RemoteAddr().String()).
		Str("reason", reason).Msg("http connection closed")
}

// serveConn runs the request loop of one connection and returns the reason
// it ended. PlainOnTLS marks plain HTTP sent to the TLS port, which the
// product answers with its own 400 for every request.
func (s *Service) serveConn(ctx context.Context, conn *countingConn, sess *decoys.Session, plainOnTLS bool) string {
	br := bufio.NewReaderSize(conn, 4<<10)
	d := s.persona.dialect()
	lim := parseLimits{
		maxLine:        s.limits.MaxLineBytes,
		maxHeaderBytes: headerBlockLines * s.limits.MaxLineBytes,
		maxHeaders:     d.maxHeaders,
	}

	// The first request's header timer starts at accept, as in both
	// products; a later request's starts with its first byte.
	headStart := time.Now()
	for n := 1; ; n++ {
		if n > 1 {
			_ = conn.SetReadDeadline(time.Now().Add(min(s.limits.ReadTimeout, s.persona.keepAliveTimeout())))
			if _, err := br.Peek(1); err != nil {
				return closeReason(ctx, err)
			}
			headStart = time.Now()
		}
		_ = conn.SetReadDeadline(headStart.Add(min(s.limits.ReadTimeout, s.persona.headerTimeout())))

		req, err := parseRequest(br, d, lim)
		var perr *protocolError
		switch {
		case errors.As(err, &perr):
			if !s.respondProtocolError(ctx, conn, sess, req, perr, n) {
				return reasonProtocolError
			}
			continue
		case err != nil:
			if !req.lineSeen {
				return closeReason(ctx, err)
			}
			if resp := s.persona.headerTimeoutResponse(req); resp != nil && isTimeout(err) && ctx.Err() == nil {
				s.finish(ctx, conn, sess, req, resp, 0, n)
			} else {
				s.emitRequest(sess, req, 0, 0)
			}
			return closeReason(ctx, err)
		}

		if plainOnTLS {
			s.respondPlainOnTLS(ctx, conn, sess, req, n)
			return reasonProtocolError
		}
		keep, reason := s.serveRequest(ctx, conn, br, sess, req, n)
		if !keep {
			return reason
		}
	}
}

// serveRequest responds to one well-formed request head. It returns whether the
// connection stays open, and the close reason when it does not.
func (s *Service) serveRequest(ctx context.Context, conn *countingConn, br *bufio.Reader, sess *decoys.Session, req *request, n int) (bool, string) {
	s.emitCredentials(sess, req)
	page := pageInfoFor(req)
	toApp := s.routesToApp(req)
	hasBody := req.chunked || req.contentLength > 0
	if hasBody && req.contentLength <= maxBodyBytes && s.persona.respondsBeforeBody(toApp) {
		return s.respondThenDiscard(ctx, conn, br, sess, req, n)
	}

	body, err := s.readRequestBody(conn, br, req, toApp)
	switch {
	case errors.Is(err, errBodyTooLarge):
		page.status = 413
		page.httpSys = s.persona.dialect().httpSys
		s.finish(ctx, conn, sess, req, s.persona.errorResponse(page), int64(len(body)), n)
		return false, reasonLimit
	case errors.Is(err, errBadChunk):
		page.status = 400
		page.httpSys = s.persona.dialect().httpSys
		resp := s.persona.errorResponse(page)
		if s.persona.id() == PersonaApache {
			// Apache finds the bad chunk in its input filter and
			// closes without a length, as for 413.
			resp.omitLength = true
		}
		s.finish(ctx, conn, sess, req, resp, 0, n)
		return false, reasonProtocolError
	case err != nil:
		s.emitRequest(sess, req, 0, 0)
		return false, closeReason(ctx, err)
	}

	resp := s.route(ctx, sess, req, body)
	keep := s.finish(ctx, conn, sess, req, resp, int64(len(body)), n)
	if !keep {
		if n >= s.persona.maxRequests() {
			return false, reasonLimit
		}
		return false, reasonServerClosed
	}
	return true, ""
}

// respondThenDiscard sends the product's own page for a request whose
// body it does not need, then reads and drops the body so the connection
// can carry the next request.
func (s *Service) respondThenDiscard(ctx context.Context, conn *countingConn, br *bufio.Reader, sess *decoys.Session, req *request, n int) (bool, string) {
	resp := s.route(ctx, sess, req, nil)
	ka := s.keepAlive(ctx, req, resp, n)
	if err := s.writeResponse(conn, req, resp, ka); err != nil {
		s.emitRequest(sess, req, 0, resp.status)
		s.log.Debug().Err(err).Str(decoys.FieldSession, sess.ID).Msg("write http response failed")
		return false, reasonClientClosed
	}
	if !ka.keep {
		s.emitRequest(sess, req, 0, resp.status)
		s.lingeringClose(conn)
		return false, reasonServerClosed
	}

	body, err := readBody(br, req, maxBodyBytes)
	s.emitRequest(sess, req, int64(len(body)), resp.status)
	switch {
	case errors.Is(err, errBodyTooLarge), errors.Is(err, errBadChunk):
		s.lingeringClose(conn)
		return false, reasonProtocolError
	case err != nil:
		return false, closeReason(ctx, err)
	}
	return true, ""
}

// readRequestBody reads the body, after a 100 Continue when the client
// waits for one and the persona sends it; toApp marks a request for the
// login application. A Content-Length over the cap fails before anything
// is read, as both products check it with the head.
//
// NOTE: for its own error pages nginx sends the response before it
// discards the body, whereas the decoy reads the body first. A client
// that waits for a 100 it never gets (curl waits 1 s) sees the same
// bytes later than from nginx.
func (s *Service) readRequestBody(conn *countingConn, br *bufio.Reader, req *request, toApp bool) ([]byte, error) {
	if req.contentLength > maxBodyBytes {
		return nil, errBodyTooLarge
	}
	if req.expectContinue && (req.major > 1 || req.major == 1 && req.minor >= 1) && s.persona.sendsContinue(req, toApp) {
		_ = conn.SetWriteDeadline(time.Now().Add(s.limits.WriteTimeout))
		if _, err := conn.Write([]byte("HTTP/1.1 100 Continue\r\n\r\n")); err != nil {
			return nil, err
		}
		req.continueSent = true
	}
	if !req.chunked && req.contentLength <= 0 {
		return nil, nil
	}
	return readBody(br, req, maxBodyBytes)
}

// respondProtocolError sends the persona's page for a malformed request
// and records the request. It returns whether the connection stays open,
// which only a perr marked keep on a request without a body allows;
// otherwise it closes the connection.
func (s *Service) respondProtocolError(ctx context.Context, conn *countingConn, sess *decoys.Session, req *request, perr *protocolError, n int) bool {
	page := pageInfoFor(req)
	page.status = perr.status
	page.variant = perr.variant
	page.httpSys = s.persona.dialect().httpSys
	if !perr.headRead {
		// The product fails before it has a Host to name.
		page.host, page.port = "", 0
	}
	resp := s.persona.errorResponse(page)
	// A body left unread would be parsed as the next request.
	resp.close = resp.close || !perr.keep || req.chunked || req.contentLength > 0
	return s.finish(ctx, conn, sess, req, resp, 0, n)
}

func pageInfoFor(req *request) pageInfo {
	return pageInfo{
		method: req.method,
		host:   req.host,
		port:   req.port,
		head:   req.method == "HEAD",
		msie:   isMSIE(req.userAgent),
		expect: req.expect,
	}
}

// finish writes resp, emits http.request and, when the connection ends,
// closes it the way the product does. It returns whether the connection
// stays open.
func (s *Service) finish(ctx context.Context, conn *countingConn, sess *decoys.Session, req *request, resp *response, bodySize int64, n int) bool {
	ka := s.keepAlive(ctx, req, resp, n)
	err := s.writeResponse(conn, req, resp, ka)
	s.emitRequest(sess, req, bodySize, resp.status)
	if err != nil {
		s.log.Debug().Err(err).Str(decoys.FieldSession, sess.ID).Msg("write http response failed")
		return false
	}
	if !ka.keep {
		s.lingeringClose(conn)
	}
	return ka.keep
}

func (s *Service) keepAlive(ctx context.Context, req *request, resp *response, n int) keepAlive {
	ka := keepAlive{token: req.keepAliveToken, left: s.persona.maxRequests() - n}

	ka.keep = !resp.close && !req.http09 && ka.left > 0 && ctx.Err() == nil
	if req.major == 1 && req.minor == 0 {
		ka.keep = ka.keep && req.keepAliveToken
	} else {
		ka.keep = ka.keep && !req.closeToken
	}
	if req.expectContinue && !req.continueSent && s.persona.dialect().closeUnmetExpect {
		ka.keep = false
	}
	if resp.omitLength && req.method != "HEAD" {
		// Without a length the body ends only with the connection.
		ka.keep = false
	}
	return ka
}

func (s *Service) writeResponse(conn *countingConn, req *request, resp *response, ka keepAlive) error {
	buf := bytes.NewBuffer(make([]byte, 0, len(resp.body)+512))
	switch {
	case req.http09:
		// HTTP/0.9 has no status line or headers: the body alone.
		buf.Write(resp.body)
	default:
		s.persona.writeHead(buf, resp, ka, s.now())
		if req.method == "HEAD" {
			break
		}
		if resp.chunked {
			if len(resp.body) > 0 {
				fmt.Fprintf(buf, "%x\r\n", len(resp.body))
				buf.Write(resp.body)
				buf.WriteString("\r\n")
			}
			buf.WriteString("0\r\n\r\n")
			break
		}
		buf.Write(resp.body)
	}

	_ = conn.SetWriteDeadline(time.Now().Add(s.limits.WriteTimeout))
	_, err := conn.Write(buf.Bytes())
	return err
}

// lingeringClose half-closes the connection and drains what the client
// still sends, so the last response is not destroyed by a TCP reset when
// unread bytes remain. The accept loop closes the connection afterwards.
func (s *Service) lingeringClose(conn *countingConn) {
	_ = conn.CloseWrite()
	deadline := time.Now().Add(lingerMax)
	scratch := make([]byte, 4<<10)
	for {
		next := time.Now().Add(s.persona.lingerTimeout())
		if next.After(deadline) {
			next = deadline
		}
		_ = conn.SetReadDeadline(next)
		if _, err := conn.Read(scratch); err != nil {
			return
		}
	}
}

func closeReason(ctx context.Context, err error) string {
	switch {
	case ctx.Err() != nil:
		return reasonShutdown
	case isTimeout(err):
		return reasonTimeout
	}
	return reasonClientClosed
}

func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// sleepContext waits d or until ctx ends.
func sleepContext(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// emitRequest emits http.request for req, capped and with text fields
// made valid UTF-8, as protobuf strings must be.
func (s *Service) emitRequest(sess *decoys.Session, req *request, bodySize int64, status int) {
	ev := &eventv1.HTTPRequest{
		Method:    capText(req.method, maxEventField),
		Target:    capText(req.target, maxEventTarget),
		Protocol:  capText(req.proto, maxEventField),
		Host:      capText(hostHeader(req), maxEventField),
		UserAgent: capText(req.userAgent, maxEventField),
		BodySize:  uint64(max(bodySize, 0)),
		Status:    uint32(status),
	}
	for i, h := range req.headers {
		if i == maxEventHeaders {
			break
		}
		ev.Headers = append(ev.Headers, &eventv1.Header{
			Name:  capText(h.name, maxEventHeaderBytes),
			Value: capText(h.value, maxEventHeaderBytes),
		})
	}
	sess.HTTPRequest(ev)
}

// hostHeader returns the first Host value as sent, or the host of an
// absolute-form target.
func hostHeader(req *request) string {
	for _, h := range req.headers {
		if strings.EqualFold(h.name, "Host") {
			return h.value
		}
	}
	return req.host
}

// capText cuts s to at most n bytes and replaces invalid UTF-8.
func capText(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// countingConn counts the bytes of one connection. The HTTP/2 server
// reads and writes from different goroutines, hence the atomics.
type countingConn struct {
	net.Conn
	received atomic.Uint64
	sent     atomic.Uint64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.received.Add(uint64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.sent.Add(uint64(n))
	return n, err
}

// CloseWrite half-closes a TCP connection; other connections are left
// open for the caller to close.
func (c *countingConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
