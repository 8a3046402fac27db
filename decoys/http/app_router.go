package httpdecoy

import (
	"crypto/sha256"
	"fmt"
	"html"
)

// routerOSVersions are RouterOS 6 long-term releases, whose classic
// welcome page carries a login form for WebFig.
var routerOSVersions = []string{"6.48.6", "6.49.7", "6.49.8", "6.49.10", "6.49.13"}

// routerApp is the welcome and login page of a MikroTik router running
// RouterOS 6, and the WebFig frame scanners fetch to name the product.
type routerApp struct {
	version string
	// board is the RouterBOARD model printed on the page.
	board string
}

var routerBoards = []string{"RB750Gr3", "RB951Ui-2HnD", "hAP ac^2", "RB4011iGS+", "CCR1009-7G-1C-1S+", "RB2011UiAS"}

func newRouterApp(seed []byte) routerApp {
	sum := sha256.Sum256(append([]byte("decnet http router\x00"), seed...))
	return routerApp{
		version: routerOSVersions[int(sum[0])%len(routerOSVersions)],
		board:   routerBoards[int(sum[1])%len(routerBoards)],
	}
}

func (routerApp) handles(req *request) bool {
	switch req.path {
	case "/", "/index.html", "/cfg", "/webfig/", "/webfig/iframe.html", "/mikrotik_logo.png", "/favicon.png":
		return true
	}
	return false
}

func (a routerApp) serve(c *appCall) *appReply {
	req := c.req
	switch req.path {
	case "/webfig/iframe.html":
		if !isRead(req) {
			return nil
		}
		return &appReply{status: 200, contentType: "text/html", body: []byte(
			"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></head>" +
				"<body onload=\"parent.generateContent(parent.location.hash.substr(1));\"></body></html>\n")}
	case "/mikrotik_logo.png", "/favicon.png":
		if !isRead(req) {
			return nil
		}
		return &appReply{status: 200, contentType: "image/png", body: []byte("\x89PNG\r\n\x1a\n")}
	case "/webfig/":
		if !isRead(req) {
			return nil
		}
		return a.page("")
	}

	switch req.method {
	case "GET", "HEAD":
		return a.page("")
	case "POST":
	default:
		return nil
	}
	fields, mechanism := c.fields()
	user, hasUser := formValue(fields, "name")
	if !hasUser {
		user, hasUser = firstField(fields, userFieldNames)
	}
	password, hasPassword := firstField(fields, passwordFieldNames)
	if hasUser || hasPassword {
		c.login(mechanism, user, password)
	}
	return a.page("ERROR: invalid user name or password (6)")
}

func (a routerApp) page(errMsg string) *appReply {
	if errMsg != "" {
		errMsg = "<div class=\"error\">" + html.EscapeString(errMsg) + "</div>\n"
	}
	//nolint:misspell // RouterOS is MikroTik's system, named as its login page names it
	body := fmt.Appendf(nil, `<!DOCTYPE html>
<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>mikrotik routeros > administration</title>
<link rel="shortcut icon" href="favicon.png">
<style type="text/css">
body{margin:0;font:12px Verdana,Arial,sans-serif;background:#fff}
.top{background:#293341;color:#fff;padding:10px 18px;font-size:16px}
.box{width:300px;margin:50px 0 0 40px}
.box input[type=text],.box input[type=password]{width:180px}
.error{color:#c00;margin:8px 0}
</style>
</head>
<body>
<div class="top">mikrotik routeros %[1]s configuration page</div>
<div class="box">
<a href="http://mikrotik.com"><img src="mikrotik_logo.png" style="float: right;" /></a>
<h1>RouterOS v%[1]s</h1>
<p>You have connected to a router. Administrative access only. If this device is not in your possession, please contact your local network administrator.</p>
<p>Board: %[2]s</p>
%[3]s<form method="post" action="/cfg" name="login">
<table>
<tr><td><label for="name">Login:</label></td><td><input type="text" id="name" name="name" value="admin"></td></tr>
<tr><td><label for="password">Password:</label></td><td><input type="password" id="password" name="password"></td></tr>
<tr><td></td><td><input type="submit" value="Login"></td></tr>
</table>
</form>
<p><a href="/webfig/">Webfig</a> &middot; <a href="http://www.mikrotik.com/download.html">Winbox</a></p>
</div>
</body>
</html>
`, a.version, html.EscapeString(a.board), errMsg)
	return &appReply{status: 200, contentType: "text/html", headers: []header{{name: "Cache-Control", value: "no-cache"}}, body: body}
}
