package httpdecoy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// Grafana release the application claims. The commit is the release's
// short build hash as /api/health reports it.
const (
	grafanaVersion = "10.2.3"
	grafanaCommit  = "1e84fede543"
	grafanaEdition = "Open Source"
)

// grafanaApp is Grafana's login: the single-page shell with its boot
// data at /login, the JSON login API, the redirect from / and the
// health endpoint that scanners query for the version.
type grafanaApp struct {
	// buildHash names the asset bundle. It differs between builds, so a
	// decky derives its own.
	buildHash string
}

func newGrafanaApp(seed []byte) grafanaApp {
	sum := sha256.Sum256(append([]byte("decnet http grafana\x00"), seed...))
	return grafanaApp{buildHash: hex.EncodeToString(sum[:10])}
}

func (grafanaApp) handles(req *request) bool {
	switch req.path {
	case "/", "/login", "/api/login", "/api/health", "/api/user", "/api/frontend/settings":
		return true
	}
	return strings.HasPrefix(req.path, "/public/build/")
}

// grafanaHeaders are the security headers Grafana's HTTP server adds to
// every response.
func grafanaHeaders(extra ...header) []header {
	return append([]header{
		{name: "Cache-Control", value: "no-store"},
		{name: "X-Content-Type-Options", value: "nosniff"},
		{name: "X-Frame-Options", value: "deny"},
		{name: "X-Xss-Protection", value: "1; mode=block"},
	}, extra...)
}

const grafanaUnauthorized = `{"message":"Unauthorized"}`

func (a grafanaApp) serve(c *appCall) *appReply {
	req := c.req
	switch req.path {
	case "/":
		if !isRead(req) {
			return nil
		}
		r := redirect("/login", grafanaHeaders()...)
		r.contentType = "text/html; charset=utf-8"
		r.body = []byte("<a href=\"/login\">Found</a>.\n\n")
		return r
	case "/login":
		if isRead(req) {
			return &appReply{status: 200, contentType: "text/html; charset=UTF-8", headers: grafanaHeaders(), body: a.shell(c)}
		}
		if req.method == "POST" {
			return a.apiLogin(c)
		}
		return nil
	case "/api/login":
		if req.method != "POST" {
			return nil
		}
		return a.apiLogin(c)
	case "/api/health":
		body := fmt.Sprintf("{\n  \"commit\": %q,\n  \"database\": \"ok\",\n  \"version\": %q\n}", grafanaCommit, grafanaVersion)
		return &appReply{status: 200, contentType: "application/json", headers: grafanaHeaders(), body: []byte(body)}
	case "/api/user", "/api/frontend/settings":
		return &appReply{status: 401, contentType: "application/json", headers: grafanaHeaders(), body: []byte(grafanaUnauthorized)}
	}
	return &appReply{status: 404, contentType: "text/plain; charset=utf-8", headers: grafanaHeaders(), body: []byte("404 page not found\n")}
}

// apiLogin records a login posted as JSON ({"user":..,"password":..}) or
// as a form, and responds as Grafana does to a wrong password.
func (grafanaApp) apiLogin(c *appCall) *appReply {
	fields, mechanism := c.fields()
	user, hasUser := formValue(fields, "user")
	password, hasPassword := formValue(fields, "password")
	if !hasUser {
		user, hasUser = firstField(fields, userFieldNames)
	}
	if hasUser || hasPassword {
		c.login(mechanism, user, password)
	}
	body := `{"message":"Invalid username or password","messageId":"password-auth.failed","statusCode":401,"traceID":""}`
	if !hasUser && !hasPassword {
		body = `{"message":"bad request data","traceID":""}`
		return &appReply{status: 400, contentType: "application/json", headers: grafanaHeaders(), body: []byte(body)}
	}
	return &appReply{status: 401, contentType: "application/json", headers: grafanaHeaders(), body: []byte(body)}
}

func (a grafanaApp) shell(c *appCall) []byte {
	// The boot data contains what the login page reads, while Grafana sends a
	// much larger settings object. Maps marshal with sorted keys, so
	// the page is stable.
	boot := map[string]any{
		"user": map[string]any{"isSignedIn": false, "id": 0, "login": "", "theme": "dark", "locale": "en-US", "timezone": "browser"},
		"settings": map[string]any{
			"appUrl":           c.origin() + "/",
			"appSubUrl":        "",
			"authProxyEnabled": false,
			"disableLoginForm": false,
			"loginHint":        "email or username",
			"passwordHint":     "password",
			"oauth":            map[string]any{},
			"buildInfo": map[string]any{
				"buildstamp": 1702995342, "commit": grafanaCommit, "edition": grafanaEdition, "env": "production",
				"hasUpdate": false, "hideVersion": false, "latestVersion": "", "version": grafanaVersion,
				"versionString": "Grafana v" + grafanaVersion + " (" + grafanaCommit + ")",
			},
		},
		"navTree": []any{},
	}
	data, _ := json.Marshal(boot)

	return fmt.Appendf(nil, `<!DOCTYPE html>
<html lang="en-US">
  <head>
    <meta charset="utf-8" />
    <meta http-equiv="X-UA-Compatible" content="IE=edge,chrome=1" />
    <meta name="viewport" content="width=device-width" />
    <meta name="theme-color" content="#000" />

    <title>Grafana</title>

    <base href="/" />

    <link rel="icon" type="image/png" href="public/img/fav32.png" />
    <link rel="apple-touch-icon" sizes="180x180" href="public/img/apple-touch-icon.png" />
    <link rel="mask-icon" href="public/img/grafana_mask_icon.svg" color="#F05A28" />
    <link rel="stylesheet" href="public/build/grafana.dark.%[1]s.css" />

    <script nonce="">
      performance.mark('frontend_boot_css_time_seconds');
    </script>
  </head>

  <body class="theme-dark app-grafana">
    <div class="preloader">
      <div class="preloader__enter">
        <div class="preloader__bounce">
          <div class="preloader__logo" aria-live="polite" role="status" aria-label="Loading Grafana"></div>
        </div>
      </div>
      <div class="preloader__text">Loading Grafana</div>
    </div>

    <div id="reactRoot"></div>

    <script nonce="">
      window.grafanaBootData = %[2]s;
      window.__grafana_load_failed = function () {
        document.querySelector('.preloader__text').textContent = 'Grafana has failed to load its application files';
      };
    </script>

    <script nonce="" src="public/build/runtime.%[1]s.js" type="text/javascript"></script>
    <script nonce="" src="public/build/app.%[1]s.js" type="text/javascript"></script>
  </body>
</html>
`, a.buildHash, data)
}
