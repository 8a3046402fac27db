package httpdecoy

import (
	"fmt"
	"strings"
)

// phpMyAdmin release the application claims: Debian 12 and Ubuntu 24.04
// both package 5.2.1.
const pmaVersion = "5.2.1"

// pmaCookieAge is how long phpMyAdmin keeps its language cookie, 30 days.
const pmaCookieAge = 2592000

// phpMyAdminApp is phpMyAdmin's cookie login at /index.php: a form token
// and session cookie per visitor, and the MySQL error of a refused login.
type phpMyAdminApp struct{}

func (phpMyAdminApp) handles(req *request) bool {
	switch req.path {
	case "/", "/index.php", "/phpmyadmin", "/phpmyadmin/", "/phpmyadmin/index.php", "/favicon.ico":
		return true
	}
	return strings.HasPrefix(req.path, "/themes/") || strings.HasPrefix(req.path, "/js/")
}

func (a phpMyAdminApp) serve(c *appCall) *appReply {
	req := c.req
	switch {
	case req.path == "/phpmyadmin":
		if !isRead(req) {
			return nil
		}
		return redirect(c.origin() + "/phpmyadmin/")
	case strings.HasPrefix(req.path, "/themes/"), strings.HasPrefix(req.path, "/js/"), req.path == "/favicon.ico":
		if !isRead(req) {
			return nil
		}
		ct := "text/css"
		if strings.HasSuffix(req.path, ".js") {
			ct = "application/javascript"
		}
		if req.path == "/favicon.ico" {
			ct = "image/vnd.microsoft.icon"
		}
		return &appReply{status: 200, contentType: ct, headers: []header{{name: "Accept-Ranges", value: "bytes"}}, body: []byte("\n")}
	}

	switch req.method {
	case "GET", "HEAD":
		return a.page(c, "")
	case "POST":
	default:
		return nil
	}
	fields, mechanism := c.fields()
	user, hasUser := formValue(fields, "pma_username")
	password, hasPassword := formValue(fields, "pma_password")
	if !hasUser && !hasPassword {
		return a.page(c, "")
	}
	c.login(mechanism, user, password)

	using := "YES"
	if password == "" {
		using = "NO"
	}
	// MySQL quotes the user name as sent, and phpMyAdmin escapes the message
	// with htmlspecialchars.
	who := phpEscaper.Replace(user)
	msg := "mysqli::real_connect(): (HY000/1045): Access denied for user '" + who + "'@'localhost' (using password: " + using + ")"
	errors := "<div class=\"alert alert-danger\" role=\"alert\"><img src=\"themes/dot.gif\" title=\"\" alt=\"\" class=\"icon ic_s_error\"> " +
		msg + "</div>\n<div class=\"alert alert-danger\" role=\"alert\"><img src=\"themes/dot.gif\" title=\"\" alt=\"\" class=\"icon ic_s_error\"> Cannot log in to the MySQL server</div>\n"
	return a.page(c, errors)
}

// phpEscaper escapes as PHP's htmlspecialchars with ENT_QUOTES.
var phpEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#039;")

// page renders the login form with a fresh token and session, as
// phpMyAdmin does on every visit without a valid session.
func (phpMyAdminApp) page(c *appCall, errors string) *appReply {
	token := randomHex(16)
	session := randomHex(16)
	secure := ""
	if c.scheme == "https" {
		secure = "; secure"
	}
	headers := []header{
		{name: "Set-Cookie", value: "phpMyAdmin=" + session + "; path=/" + secure + "; HttpOnly; SameSite=Strict"},
		{name: "Set-Cookie", value: fmt.Sprintf("pma_lang=en; expires=Mon, 04-Jan-2038 00:00:00 GMT; Max-Age=%d; path=/%s; HttpOnly; SameSite=Strict", pmaCookieAge, secure)},
		{name: "X-ob_mode", value: "1"},
		{name: "X-Frame-Options", value: "DENY"},
		{name: "Referrer-Policy", value: "no-referrer"},
		{name: "X-Robots-Tag", value: "noindex, nofollow"},
		{name: "Expires", value: "Thu, 19 Nov 1981 08:52:00 GMT"},
		{name: "Cache-Control", value: "no-store, no-cache, must-revalidate,  pre-check=0, post-check=0, max-age=0"},
		{name: "Pragma", value: "no-cache"},
	}
	body := fmt.Appendf(nil, `<!DOCTYPE HTML>
<html lang="en" dir="ltr">
<head>
  <meta charset="utf-8">
  <meta name="referrer" content="no-referrer">
  <meta name="robots" content="noindex,nofollow,notranslate">
  <meta name="google" content="notranslate">
  <link rel="icon" href="favicon.ico" type="image/x-icon">
  <link rel="shortcut icon" href="favicon.ico" type="image/x-icon">
  <link rel="stylesheet" type="text/css" href="./themes/pmahomme/css/theme.css?v=%[1]s">
  <title>phpMyAdmin</title>
    <script data-cfasync="false" type="text/javascript" src="js/vendor/jquery/jquery.min.js?v=%[1]s"></script>
  <script data-cfasync="false" type="text/javascript" src="js/dist/common.js?v=%[1]s"></script>
  <script data-cfasync="false" type="text/javascript">
// <![CDATA[
CommonParams.setAll({common_query:"",opendb_url:"index.php?route=/database/structure",lang:"en",server:"1",table:"",db:"",token:"%[2]s",text_dir:"ltr",LimitChars:"50",pftext:"",confirm:true,LoginCookieValidity:"1440",session_gc_maxlifetime:"1440",logged_in:false,is_https:%[3]t,rootPath:"/",arg_separator:"&",PMA_VERSION:"%[1]s",auth_type:"cookie",user:"root"});
// ]]>
</script>
</head>
<body id="loginform">
<div class="container">
<a href="./url.php?url=https%%3A%%2F%%2Fwww.phpmyadmin.net%%2F" target="_blank" rel="noopener noreferrer" class="logo">
<img src="./themes/pmahomme/img/logo_right.png" id="imLogo" name="imLogo" alt="phpMyAdmin" border="0">
</a>
<h1>Welcome to <bdo dir="ltr" lang="en">phpMyAdmin</bdo></h1>
<noscript><div class="alert alert-danger" role="alert">Javascript must be enabled past this point!</div></noscript>
<div class="hide" id="js-https-mismatch"><div class="alert alert-danger" role="alert">There is a mismatch between HTTPS indicated on the server and client. This can lead to a non working phpMyAdmin or a security risk. Please fix your server configuration to indicate HTTPS properly.</div></div>
%[4]s<div class="card mb-4">
<form method="post" id="login_form" action="index.php?route=/" name="login_form" class="disableAjax hide js-show">
<fieldset class="card-body">
<input type="hidden" name="set_session" value="%[5]s">
<legend class="card-header">Log in</legend>
<div class="row mb-3">
<label for="input_username" class="col-sm-4 form-label">Username:</label>
<div class="col-sm-8"><input type="text" name="pma_username" id="input_username" value="" class="form-control" autocomplete="username" spellcheck="false"></div>
</div>
<div class="row">
<label for="input_password" class="col-sm-4 form-label">Password:</label>
<div class="col-sm-8"><input type="password" name="pma_password" id="input_password" value="" class="form-control" autocomplete="current-password" spellcheck="false"></div>
</div>
<input type="hidden" name="server" value="1">
</fieldset>
<fieldset class="card-footer">
<input class="btn btn-primary" value="Log in" type="submit" id="input_go">
<input type="hidden" name="route" value="/"><input type="hidden" name="token" value="%[2]s">
</fieldset>
</form>
</div>
</div>
</body>
</html>
`, pmaVersion, token, c.scheme == "https", errors, session)
	return &appReply{status: 200, contentType: "text/html; charset=utf-8", headers: headers, body: body}
}
