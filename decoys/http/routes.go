package httpdecoy

import (
	"context"
	"strings"

	"github.com/decnet/decnet/decoys"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// route builds the response to a request whose head and body were read. The portal
// serves its login form at / and /login and protects /admin with Basic
// authentication; every other path is the product's 404.
func (s *Service) route(ctx context.Context, sess *decoys.Session, req *request, body []byte) *response {
	page := pageInfoFor(req)

	if req.method == "TRACE" {
		// Both products refuse TRACE on every path: nginx always, Apache
		// under Ubuntu's TraceEnable Off.
		page.status = 405
		return s.persona.errorResponse(page)
	}

	if req.path == "*" {
		// Only Apache and IIS accept OPTIONS *, with an empty 200 that
		// names no methods.
		return &response{status: 200, reason: "OK"}
	}
	if s.windowsAuth != nil && s.windowsAuth.protects(req.path) {
		return s.serveWindowsAuth(ctx, sess, req, page)
	}
	if s.app != nil {
		return s.routeApp(ctx, sess, req, body, page)
	}

	switch {
	case req.path == "/admin" || strings.HasPrefix(req.path, "/admin/"):
		return s.unauthorized(page)
	case req.path == "/" || req.path == "/login":
		return s.servePortal(ctx, sess, req, body, page)
	}
	page.status = 404
	return s.persona.errorResponse(page)
}

// routesToApp reports whether route hands req to the login application
// instead of answering with one of the product's own pages.
func (s *Service) routesToApp(req *request) bool {
	if s.app != nil {
		return s.app.handles(req)
	}
	if req.path != "/" && req.path != "/login" {
		return false
	}
	switch req.method {
	case "GET", "HEAD", "POST":
		return req.path != "/login" || !hasBasic(req)
	}
	return false
}

func (s *Service) servePortal(ctx context.Context, sess *decoys.Session, req *request, body []byte, page pageInfo) *response {
	basic := req.path == "/login" && hasBasic(req)

	switch req.method {
	case "GET", "HEAD":
		if basic {
			return s.unauthorized(page)
		}
		if s.handleQueryLogin(ctx, sess, req) {
			return s.persona.appResponse(req, s.portalReply(true))
		}
		return s.persona.appResponse(req, s.portalReply(false))
	case "POST":
		if basic {
			return s.unauthorized(page)
		}
		s.handleQueryLogin(ctx, sess, req)
		s.handleLogin(ctx, sess, req, body)
		return s.persona.appResponse(req, s.portalReply(true))
	case "OPTIONS":
		if resp := s.persona.optionsResponse(); resp != nil {
			return resp
		}
	}
	page.status = 405
	return s.persona.errorResponse(page)
}

// portalReply is the portal's login page as its PHP script sends it.
func (s *Service) portalReply(failed bool) appReply {
	return appReply{
		status:      200,
		contentType: "text/html; charset=UTF-8",
		headers: []header{
			{name: "Cache-Control", value: "no-store, no-cache, must-revalidate"},
			{name: "Pragma", value: "no-cache"},
		},
		body: s.portal.loginPage(failed),
	}
}

// handleLogin records the credential of a form or JSON post and waits as
// a portal that checked the password would. A post without a user or
// password field is given the same response but records nothing.
func (s *Service) handleLogin(ctx context.Context, sess *decoys.Session, req *request, body []byte) {
	var fields []formField
	mechanism := ""
	switch {
	case isFormContentType(req.contentType):
		fields, mechanism = parseForm(body), decoys.MechanismHTTPForm
	case isJSONContentType(req.contentType):
		fields, mechanism = parseJSONLogin(body), decoys.MechanismHTTPJSON
	}
	if user, password, found := pickLogin(fields); found {
		s.emitAuth(sess, credential{mechanism: mechanism, principal: user, secret: []byte(password)})
	}
	// NOTE: multipart/form-data posts get a response but are not parsed, so
	// their credentials are only visible as a body size.
	sleepContext(ctx, s.failDelay())
}

// handleQueryLogin records a login sent in the query string of a portal
// page, as a form with method="get" sends it, and waits as for a post
// when it found one. It returns whether it found a user or password.
func (s *Service) handleQueryLogin(ctx context.Context, sess *decoys.Session, req *request) bool {
	query := queryOf(req.target)
	if query == "" {
		return false
	}
	user, password, found := pickLogin(parseForm([]byte(query)))
	if !found {
		return false
	}
	s.emitAuth(sess, credential{mechanism: decoys.MechanismHTTPQuery, principal: user, secret: []byte(password)})
	if req.method != "POST" {
		sleepContext(ctx, s.failDelay())
	}
	return true
}

func (s *Service) unauthorized(page pageInfo) *response {
	page.status = 401
	resp := s.persona.errorResponse(page)
	resp.extra = append(resp.extra, header{name: "WWW-Authenticate", value: `Basic realm="` + s.portal.realm() + `"`})
	return resp
}

// emitCredentials records every Basic, Bearer and Digest Authorization
// header of req, whatever the path.
func (s *Service) emitCredentials(sess *decoys.Session, req *request) {
	for _, value := range req.authorization {
		if c, ok := parseAuthorization(value); ok {
			s.emitAuth(sess, c)
		}
	}
}

func (s *Service) emitAuth(sess *decoys.Session, c credential) {
	kind := c.secretKind
	if kind == "" {
		kind = decoys.SecretPlaintext
	}
	sess.AuthAttempt(&eventv1.AuthAttempt{
		Principal:  capText(c.principal, maxEventField),
		SecretKind: kind,
		Mechanism:  c.mechanism,
		Secret:     c.secret,
		Outcome:    eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED,
	})
}

func hasBasic(req *request) bool {
	for _, value := range req.authorization {
		if c, ok := parseAuthorization(value); ok && c.mechanism == decoys.MechanismHTTPBasic {
			return true
		}
	}
	return false
}
