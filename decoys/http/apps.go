package httpdecoy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/decnet/decnet/decoys"
)

// Application names, the values of the "app" option.
const (
	AppPortal     = "portal"
	AppRouter     = "router"
	AppWordPress  = "wordpress"
	AppGrafana    = "grafana"
	AppPHPMyAdmin = "phpmyadmin"
	AppOWA        = "owa"
)

// ErrUnknownApp is returned by New for an "app" option it does not know.
var ErrUnknownApp = errors.New("unknown application")

// Apps returns the values the "app" option accepts, sorted.
func Apps() []string {
	apps := []string{AppPortal, AppRouter, AppWordPress, AppGrafana, AppPHPMyAdmin, AppOWA}
	sort.Strings(apps)
	return apps
}

// application is a login application that a decky serves instead of the
// generic device portal. Each one carries the markers by which scanners
// name the product (page titles, generator tags, cookies, headers) in
// pages written for the decoy, not copied from the product.
type application interface {
	// handles reports whether the application serves req. The web
	// server's own 404 covers the rest.
	handles(req *request) bool
	// serve responds to a request that handles accepted. It returns nil for
	// a method the application does not take, which the server refuses
	// with 405.
	serve(c *appCall) *appReply
}

// appCall is one request handed to an application.
type appCall struct {
	ctx  context.Context
	req  *request
	body []byte
	// scheme is "https" over TLS, else "http", for absolute redirects.
	scheme string
	// login records a credential and waits as the product does before
	// it rejects one.
	login func(mechanism, user, password string)
}

// origin is scheme://host of the request, as applications build their
// absolute links from the Host header.
func (c *appCall) origin() string {
	host := hostHeader(c.req)
	if host == "" {
		host = "localhost"
	}
	return c.scheme + "://" + host
}

// fields returns the fields of a form or JSON body with the mechanism
// that carried them.
func (c *appCall) fields() ([]formField, string) {
	switch {
	case isFormContentType(c.req.contentType):
		return parseForm(c.body), decoys.MechanismHTTPForm
	case isJSONContentType(c.req.contentType):
		return parseJSONLogin(c.body), decoys.MechanismHTTPJSON
	}
	return nil, ""
}

// newApp returns the application named by the "app" option. Both "" and
// "portal" return nil, which keeps the device portal. Host is the
// decky's host name, which some products print.
func newApp(name string, seed []byte, host string) (application, error) {
	switch name {
	case "", AppPortal:
		return nil, nil
	case AppRouter:
		return newRouterApp(seed), nil
	case AppWordPress:
		return newWordPressApp(seed, host), nil
	case AppGrafana:
		return newGrafanaApp(seed), nil
	case AppPHPMyAdmin:
		return phpMyAdminApp{}, nil
	case AppOWA:
		return newOWAApp(seed, host), nil
	}
	return nil, fmt.Errorf("select application %q (known: %s): %w", name, strings.Join(Apps(), ", "), ErrUnknownApp)
}

func (s *Service) routeApp(ctx context.Context, sess *decoys.Session, req *request, body []byte, page pageInfo) *response {
	if !s.app.handles(req) {
		page.status = 404
		return s.persona.errorResponse(page)
	}
	s.handleQueryLogin(ctx, sess, req)
	call := &appCall{
		ctx:    ctx,
		req:    req,
		body:   body,
		scheme: s.scheme(),
		login: func(mechanism, user, password string) {
			s.emitAuth(sess, credential{mechanism: mechanism, principal: user, secret: []byte(password)})
			sleepContext(ctx, s.failDelay())
		},
	}
	reply := s.app.serve(call)
	if reply == nil {
		page.status = 405
		return s.persona.errorResponse(page)
	}
	return s.persona.appResponse(req, *reply)
}

// randomHex returns n random bytes in hex, for session ids and tokens
// that a real application draws per visitor.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// redirect is a 302 to location with the body PHP and Go servers send
// with one: none.
func redirect(location string, headers ...header) *appReply {
	return &appReply{
		status:  302,
		headers: append(headers, header{name: "Location", value: location}),
	}
}

// isRead reports GET and HEAD, to which every page responds alike.
func isRead(req *request) bool { return req.method == "GET" || req.method == "HEAD" }

// queryValue returns the first value of name in the request's query.
func queryValue(req *request, name string) string {
	v, _ := formValue(parseForm([]byte(queryOf(req.target))), name)
	return v
}

// pathEscape escapes a value for a query string as PHP's urlencode does.
func queryEscape(s string) string { return url.QueryEscape(s) }
