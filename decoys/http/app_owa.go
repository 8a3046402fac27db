package httpdecoy

import (
	"crypto/sha256"
	"fmt"
	"html"
	"strings"

	"github.com/google/uuid"
)

// Exchange build the application claims (Exchange Server 2019 CU13), in
// the X-OWA-Version header and, without the revision, in resource paths.
const (
	owaVersion = "15.2.1258.12"
	owaBuild   = "15.2.1258"
	owaLogon   = "/owa/auth/logon.aspx"
)

// owaApp is the Outlook on the web forms logon of Exchange: /owa
// redirects to /owa/auth/logon.aspx, whose form posts to
// /owa/auth.owa, which sends a failed logon back with reason=2.
type owaApp struct {
	// feServer is the front end's NetBIOS name in X-FEServer.
	feServer string
}

func newOWAApp(seed []byte, host string) owaApp {
	name := strings.ToUpper(strings.SplitN(host, ".", 2)[0])
	if name == "" || name == "127" || len(name) > 15 {
		sum := sha256.Sum256(append([]byte("decnet http owa\x00"), seed...))
		name = fmt.Sprintf("EXCH%02d", int(sum[0])%20+1)
	}
	return owaApp{feServer: name}
}

func (owaApp) handles(req *request) bool {
	p := strings.ToLower(req.path)
	return p == "/" || p == "/owa" || strings.HasPrefix(p, "/owa/") || p == "/ecp" || strings.HasPrefix(p, "/ecp/")
}

// headers are those Exchange's front end adds to its logon pages.
func (a owaApp) headers(extra ...header) []header {
	h := []header{
		{name: "Cache-Control", value: "no-cache, no-store"},
		{name: "Pragma", value: "no-cache"},
		{name: "Expires", value: "-1"},
		{name: "request-id", value: uuid.NewString()},
		{name: "X-Frame-Options", value: "SAMEORIGIN"},
		{name: "X-OWA-Version", value: owaVersion},
		{name: "X-AspNet-Version", value: "4.0.30319"},
		{name: "X-FEServer", value: a.feServer},
	}
	return append(h, extra...)
}

func (a owaApp) serve(c *appCall) *appReply {
	req := c.req
	p := strings.ToLower(req.path)
	switch p {
	case "/", "/owa", "/owa/", "/ecp", "/ecp/":
		if !isRead(req) {
			return nil
		}
		back := c.origin() + "/owa/"
		if strings.HasPrefix(p, "/ecp") {
			back = c.origin() + "/ecp/"
		}
		return a.toLogon(c, back, "0")
	case owaLogon:
		if !isRead(req) {
			return nil
		}
		return &appReply{status: 200, contentType: "text/html; charset=utf-8", headers: a.headers(), body: a.logonPage(c)}
	case "/owa/auth.owa":
		if req.method != "POST" {
			return nil
		}
		return a.post(c)
	}
	return &appReply{status: 404, contentType: "text/html", headers: a.headers(),
		body: []byte(iisErrorPage(iisCustomErrors[404][0], iisCustomErrors[404][1]))}
}

// toLogon redirects to the logon page. Reason 0 is a first visit and 2
// a wrong user name or password.
func (a owaApp) toLogon(c *appCall, back, reason string) *appReply {
	location := c.origin() + owaLogon + "?url=" + strings.ToLower(queryEscape(back)) + "&reason=" + reason
	r := redirect(location, a.headers()...)
	r.contentType = "text/html; charset=utf-8"
	r.body = []byte("<html><head><title>Object moved</title></head><body>\r\n<h2>Object moved to <a href=\"" +
		html.EscapeString(location) + "\">here</a>.</h2>\r\n</body></html>\r\n")
	return r
}

func (a owaApp) post(c *appCall) *appReply {
	fields, mechanism := c.fields()
	user, hasUser := formValue(fields, "username")
	password, hasPassword := formValue(fields, "password")
	if hasUser || hasPassword {
		c.login(mechanism, user, password)
	}
	back, _ := formValue(fields, "destination")
	if back == "" {
		back = c.origin() + "/owa/"
	}
	return a.toLogon(c, back, "2")
}

func (a owaApp) logonPage(c *appCall) []byte {
	failed := queryValue(c.req, "reason") == "2"
	destination := queryValue(c.req, "url")
	if destination == "" {
		destination = c.origin() + "/owa/"
	}
	message := ""
	if failed {
		message = `<div id="signInErrorDiv" class="signInError" role="alert" tabIndex="0">The user name or password you entered isn't correct. Try entering it again.</div>`
	}
	return fmt.Appendf(nil, `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">
<!-- Copyright (c) 2011 Microsoft Corporation.  All rights reserved. -->
<!-- OwaPage = ASP.auth_logon_aspx -->
<html>
<head>
<meta http-equiv="X-UA-Compatible" content="IE=10" />
<link rel="shortcut icon" href="/owa/auth/%[1]s/themes/resources/favicon.ico" type="image/x-icon">
<meta http-equiv="Content-Type" content="text/html; CHARSET=utf-8">
<meta name="Robots" content="NOINDEX, NOFOLLOW">
<title>Outlook</title>
<link rel="stylesheet" href="/owa/auth/%[1]s/themes/resources/logon.css">
<script type="text/javascript" src="/owa/auth/%[1]s/scripts/premium/flogon.js"></script>
</head>
<body class="signInBg" style="display: none">
<noscript>
<div id="dvErr">
<table cellpadding="0" cellspacing="0">
<tr>
<td style="width:100%%">To use Outlook, browser settings must allow scripts to run. For information about how to allow scripts, consult the Help for your browser. If your browser doesn't support scripts, you can download <a href="http://www.microsoft.com/windows/ie/downloads/default.mspx">Windows Internet Explorer</a> for access to Outlook.</td>
</tr>
</table>
</div>
</noscript>
<form action="/owa/auth.owa" method="POST" name="logonForm" ENCTYPE="application/x-www-form-urlencoded" autocomplete="off">
<input type="hidden" name="destination" value="%[2]s">
<input type="hidden" name="flags" value="4">
<input type="hidden" name="forcedownlevel" value="0">
<div id="mainLogonDiv" class="mouse">
<div class="sidebar"><div class="owaLogoContainer"><img src="/owa/auth/%[1]s/themes/resources/owa_text_blue.png" class="owaLogo" aria-hidden="true"></div></div>
<div class="logonContainer">
<div id="lgnDiv" class="logonDiv" onKeyPress="return checkSubmit(event)">
<div class="signInInputLabel" id="userNameLabel" aria-hidden="true">Domain\user name:</div>
<div><input id="username" name="username" class="signInInputText" role="textbox" aria-labelledby="userNameLabel"/></div>
<div class="signInInputLabel" id="passwordLabel" aria-hidden="true">Password:</div>
<div><input id="password" onfocus="g_fFcs=0" name="password" value="" type="password" class="signInInputText" aria-labelledby="passwordLabel"/></div>
<div><input id="passwordText" name="passwordText" value="" style="display: none;" class="signInInputText"/></div>
<input type="hidden" name="isUtf8" value="1">
%[3]s
<div onclick="clkLgn()" class="signinbutton" role="button" tabIndex="0"><img class="imgLnk" src="/owa/auth/%[1]s/themes/resources/signinbutton.png" alt=""><span class="signinTxt">sign in</span></div>
</div>
</div>
</div>
</form>
</body>
</html>
`, owaBuild, html.EscapeString(destination), message)
}
