package httpdecoy

import (
	"crypto/sha256"
	"fmt"
	"html"
	"strings"

	"github.com/decnet/decnet/decoys"
)

// WordPress release the application claims, and the versions of the
// bundled scripts that release references.
const (
	wpVersion     = "6.4.3"
	wpJQuery      = "3.7.1"
	wpJQueryMig   = "3.4.1"
	wpThemeName   = "twentytwentyfour"
	wpThemeVer    = "1.0"
	wpLoginPath   = "/wp-login.php"
	wpTestCookie  = "wordpress_test_cookie=WP%20Cookie%20check; path=/"
	wpNoCacheDate = "Wed, 11 Jan 1984 05:00:00 GMT"
)

// wordPressApp is a small WordPress site: a front page, the login form
// with WordPress's own failure messages, the /wp-admin redirect and the
// versioned assets its pages link to.
type wordPressApp struct {
	// blog is the site title, derived per decky.
	blog string
	// users are the accounts that exist. A wrong password for one of
	// them gets a different message than an unknown name.
	users map[string]bool
}

var wpBlogNames = []string{"Company News", "Team Updates", "Project Notes", "Field Reports", "Staff Portal", "Community Blog"}

func newWordPressApp(seed []byte, host string) wordPressApp {
	sum := sha256.Sum256(append([]byte("decnet http wordpress\x00"), seed...))
	blog := wpBlogNames[int(sum[0])%len(wpBlogNames)]
	users := map[string]bool{"admin": true}
	if host != "" {
		// Authors are often named after the host's owner or the host.
		users[strings.SplitN(host, ".", 2)[0]] = true
	}
	return wordPressApp{blog: blog, users: users}
}

func (wordPressApp) handles(req *request) bool {
	p := req.path
	switch {
	case p == "/" || p == "/index.php" || p == wpLoginPath || p == "/wp-admin" || strings.HasPrefix(p, "/wp-admin/"):
		return true
	case p == "/xmlrpc.php":
		return true
	}
	_, ok := wpAssets[p]
	return ok
}

// wpAssets are the static files the pages link to, with their type. The
// bodies are minimal stand-ins, enough for a client that fetches them.
var wpAssets = map[string][2]string{
	"/wp-includes/css/dashicons.min.css":                    {"text/css", ".dashicons{display:inline-block;width:20px;height:20px;font-size:20px}\n"},
	"/wp-includes/css/buttons.min.css":                      {"text/css", ".wp-core-ui .button{display:inline-block;padding:0 10px;border-radius:3px}\n"},
	"/wp-admin/css/forms.min.css":                           {"text/css", "input[type=text],input[type=password]{padding:0 8px;line-height:2}\n"},
	"/wp-admin/css/l10n.min.css":                            {"text/css", "body.rtl{direction:rtl}\n"},
	"/wp-admin/css/login.min.css":                           {"text/css", "body.login{background:#f0f0f1;min-width:0}#login{width:320px;margin:auto;padding:8% 0 0}\n"},
	"/wp-includes/js/jquery/jquery.min.js":                  {"application/javascript", "/*! jQuery v" + wpJQuery + " */\n"},
	"/wp-includes/js/jquery/jquery-migrate.min.js":          {"application/javascript", "/*! jQuery Migrate v" + wpJQueryMig + " */\n"},
	"/wp-includes/js/wp-emoji-release.min.js":               {"application/javascript", "/*! This file is auto-generated */\n"},
	"/wp-content/themes/" + wpThemeName + "/style.css":      {"text/css", "/*\nTheme Name: Twenty Twenty-Four\nVersion: " + wpThemeVer + "\n*/\n"},
	"/wp-includes/blocks/navigation/view.min.js":            {"application/javascript", "/*! This file is auto-generated */\n"},
	"/wp-includes/css/dist/block-library/style.min.css":     {"text/css", ".wp-block-button__link{box-sizing:border-box}\n"},
	"/wp-content/themes/" + wpThemeName + "/screenshot.png": {"image/png", "\x89PNG\r\n\x1a\n"},
}

func (a wordPressApp) serve(c *appCall) *appReply {
	req := c.req
	if asset, ok := wpAssets[req.path]; ok {
		if !isRead(req) {
			return nil
		}
		return &appReply{status: 200, contentType: asset[0], body: []byte(asset[1]),
			headers: []header{{name: "Accept-Ranges", value: "bytes"}}}
	}

	switch {
	case req.path == "/wp-admin" || strings.HasPrefix(req.path, "/wp-admin/"):
		if !isRead(req) && req.method != "POST" {
			return nil
		}
		back := c.origin() + "/wp-admin/"
		return redirect(c.origin()+wpLoginPath+"?redirect_to="+queryEscape(back)+"&reauth=1", wpNoCache()...)
	case req.path == wpLoginPath:
		return a.login(c)
	case req.path == "/xmlrpc.php":
		if isRead(req) {
			return &appReply{status: 405, contentType: "text/plain;charset=UTF-8",
				headers: []header{{name: "Allow", value: "POST"}},
				body:    []byte("XML-RPC server accepts POST requests only.")}
		}
		return a.xmlrpc(c)
	}
	if !isRead(req) && req.method != "POST" {
		return nil
	}
	return &appReply{
		status:      200,
		contentType: "text/html; charset=UTF-8",
		headers:     []header{{name: "Link", value: "<" + c.origin() + "/wp-json/>; rel=\"https://api.w.org/\""}},
		body:        a.frontPage(c.origin()),
	}
}

// wpNoCache are the headers of wp-login.php (nocache_headers and the
// test cookie).
func wpNoCache() []header {
	return []header{
		{name: "Expires", value: wpNoCacheDate},
		{name: "Cache-Control", value: "no-cache, must-revalidate, max-age=0, no-store, private"},
		{name: "Set-Cookie", value: wpTestCookie},
		{name: "X-Frame-Options", value: "SAMEORIGIN"},
		{name: "Referrer-Policy", value: "strict-origin-when-cross-origin"},
	}
}

func (a wordPressApp) login(c *appCall) *appReply {
	req := c.req
	switch req.method {
	case "GET", "HEAD":
		return &appReply{status: 200, contentType: "text/html; charset=UTF-8", headers: wpNoCache(), body: a.loginPage(c, "", "")}
	case "POST":
	default:
		return nil
	}

	fields, mechanism := c.fields()
	user, hasUser := formValue(fields, "log")
	password, hasPassword := formValue(fields, "pwd")
	if !hasUser && !hasPassword {
		return &appReply{status: 200, contentType: "text/html; charset=UTF-8", headers: wpNoCache(), body: a.loginPage(c, "", "")}
	}
	c.login(mechanism, user, password)

	var msg string
	user = strings.TrimSpace(user)
	switch {
	case user == "" && password == "":
		msg = "<strong>Error:</strong> The username field is empty.<br />\n<strong>Error:</strong> The password field is empty."
	case user == "":
		msg = "<strong>Error:</strong> The username field is empty."
	case password == "":
		msg = "<strong>Error:</strong> The password field is empty."
	case a.users[strings.ToLower(user)]:
		msg = "<strong>Error:</strong> The password you entered for the username <strong>" + html.EscapeString(user) +
			"</strong> is incorrect. <a href=\"" + c.origin() + wpLoginPath + "?action=lostpassword\">Lost your password?</a>"
	default:
		msg = "<strong>Error:</strong> The username <strong>" + html.EscapeString(user) +
			"</strong> is not registered on this site. If you are unsure of your username, try your email address instead."
	}
	return &appReply{status: 200, contentType: "text/html; charset=UTF-8", headers: wpNoCache(), body: a.loginPage(c, msg, user)}
}

// xmlrpc responds to wp.getUsersBlogs and other calls with WordPress's fault
// for a bad login, recording the user name and password of the call.
func (wordPressApp) xmlrpc(c *appCall) *appReply {
	user, password, ok := xmlrpcCredentials(c.body)
	if ok {
		c.login(decoys.MechanismHTTPForm, user, password)
	}
	body := `<?xml version="1.0" encoding="UTF-8"?>
<methodResponse>
  <fault>
    <value>
      <struct>
        <member>
          <name>faultCode</name>
          <value><int>403</int></value>
        </member>
        <member>
          <name>faultString</name>
          <value><string>Incorrect username or password.</string></value>
        </member>
      </struct>
    </value>
  </fault>
</methodResponse>
`
	return &appReply{status: 200, contentType: "text/xml; charset=UTF-8", body: []byte(body)}
}

// xmlrpcCredentials takes the first two <string> params of a call, the
// user name and password of wp.getUsersBlogs and of most wp.* methods'
// second and third.
func xmlrpcCredentials(body []byte) (user, password string, ok bool) {
	s := string(body)
	var values []string
	for len(values) < 3 {
		i := strings.Index(s, "<string>")
		if i < 0 {
			break
		}
		s = s[i+len("<string>"):]
		j := strings.Index(s, "</string>")
		if j < 0 {
			break
		}
		values = append(values, html.UnescapeString(s[:j]))
		s = s[j:]
	}
	switch {
	case strings.Contains(string(body), "wp.getUsersBlogs") && len(values) >= 2:
		return values[0], values[1], true
	case len(values) >= 3:
		return values[1], values[2], true
	}
	return "", "", false
}

func (a wordPressApp) loginPage(c *appCall, errMsg, user string) []byte {
	origin := c.origin()
	var b strings.Builder
	fmt.Fprintf(&b, `<!DOCTYPE html>
<html lang="en-US">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
<title>Log In &lsaquo; %[1]s &#8212; WordPress</title>
<meta name='robots' content='max-image-preview:large, noindex, noarchive' />
<link rel='stylesheet' id='dashicons-css' href='%[2]s/wp-includes/css/dashicons.min.css?ver=%[3]s' media='all' />
<link rel='stylesheet' id='buttons-css' href='%[2]s/wp-includes/css/buttons.min.css?ver=%[3]s' media='all' />
<link rel='stylesheet' id='forms-css' href='%[2]s/wp-admin/css/forms.min.css?ver=%[3]s' media='all' />
<link rel='stylesheet' id='l10n-css' href='%[2]s/wp-admin/css/l10n.min.css?ver=%[3]s' media='all' />
<link rel='stylesheet' id='login-css' href='%[2]s/wp-admin/css/login.min.css?ver=%[3]s' media='all' />
<meta name='referrer' content='strict-origin-when-cross-origin' />
<meta name="viewport" content="width=device-width" />
</head>
<body class="login no-js login-action-login wp-core-ui  locale-en-us">
<script type="text/javascript">document.body.className = document.body.className.replace('no-js','js');</script>
<div id="login">
<h1><a href="https://wordpress.org/">Powered by WordPress</a></h1>
`, html.EscapeString(a.blog), origin, wpVersion)
	if errMsg != "" {
		fmt.Fprintf(&b, "<div id=\"login_error\" class=\"notice notice-error\"><p>%s</p></div>\n", errMsg)
	}
	fmt.Fprintf(&b, `<form name="loginform" id="loginform" action="%[1]s/wp-login.php" method="post">
<p>
<label for="user_login">Username or Email Address</label>
<input type="text" name="log" id="user_login" class="input" value="%[2]s" size="20" autocapitalize="off" autocomplete="username" required="required" />
</p>
<div class="user-pass-wrap">
<label for="user_pass">Password</label>
<div class="wp-pwd">
<input type="password" name="pwd" id="user_pass" class="input password-input" value="" size="20" autocomplete="current-password" spellcheck="false" required="required" />
</div>
</div>
<p class="forgetmenot"><input name="rememberme" type="checkbox" id="rememberme" value="forever" /> <label for="rememberme">Remember Me</label></p>
<p class="submit">
<input type="submit" name="wp-submit" id="wp-submit" class="button button-primary button-large" value="Log In" />
<input type="hidden" name="redirect_to" value="%[1]s/wp-admin/" />
<input type="hidden" name="testcookie" value="1" />
</p>
</form>
<p id="nav">
<a href="%[1]s/wp-login.php?action=lostpassword">Lost your password?</a>
</p>
<p id="backtoblog"><a href="%[1]s/">&larr; Go to %[3]s</a></p>
</div>
<script src="%[1]s/wp-includes/js/jquery/jquery.min.js?ver=%[4]s" id="jquery-core-js"></script>
<script src="%[1]s/wp-includes/js/jquery/jquery-migrate.min.js?ver=%[5]s" id="jquery-migrate-js"></script>
</body>
</html>
`, origin, html.EscapeString(user), html.EscapeString(a.blog), wpJQuery, wpJQueryMig)
	return []byte(b.String())
}

func (a wordPressApp) frontPage(origin string) []byte {
	blog := html.EscapeString(a.blog)
	return fmt.Appendf(nil, `<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="UTF-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<meta name='robots' content='max-image-preview:large' />
<title>%[1]s</title>
<link rel="alternate" type="application/rss+xml" title="%[1]s &raquo; Feed" href="%[2]s/feed/" />
<link rel='stylesheet' id='wp-block-library-css' href='%[2]s/wp-includes/css/dist/block-library/style.min.css?ver=%[3]s' media='all' />
<link rel='stylesheet' id='theme-style-css' href='%[2]s/wp-content/themes/%[4]s/style.css?ver=%[5]s' media='all' />
<link rel="https://api.w.org/" href="%[2]s/wp-json/" />
<link rel="EditURI" type="application/rsd+xml" title="RSD" href="%[2]s/xmlrpc.php?rsd" />
<meta name="generator" content="WordPress %[3]s" />
</head>
<body class="home blog wp-embed-responsive">
<div class="wp-site-blocks">
<header class="wp-block-template-part"><h1 class="wp-block-site-title"><a href="%[2]s" rel="home">%[1]s</a></h1></header>
<main class="wp-block-group">
<h2 class="wp-block-post-title"><a href="%[2]s/?p=1">Hello world!</a></h2>
<div class="wp-block-post-content"><p>Welcome to WordPress. This is your first post. Edit or delete it, then start writing!</p></div>
</main>
<footer class="wp-block-template-part"><p class="has-text-align-center">Proudly powered by <a href="https://wordpress.org" rel="nofollow">WordPress</a></p></footer>
</div>
<script src="%[2]s/wp-includes/blocks/navigation/view.min.js?ver=%[3]s" id="wp-block-navigation-view-js"></script>
</body>
</html>
`, blog, origin, wpVersion, wpThemeName, wpThemeVer)
}
