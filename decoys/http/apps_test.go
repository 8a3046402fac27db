package httpdecoy

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/decnet/decnet/decoys"
)

func appService(t *testing.T, persona, app string) *testService {
	t.Helper()
	return startService(t, decoys.Config{Persona: persona, Seed: []byte("apps"), Options: map[string]string{OptionApp: app}})
}

func post(path, contentType, body string) string {
	return "POST " + path + " HTTP/1.1\r\nHost: site.test\r\nContent-Type: " + contentType + "\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\nConnection: close\r\n\r\n" + body
}

func get(path string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n"
}

func TestAppPages(t *testing.T) {
	tests := []struct {
		name    string
		persona string
		app     string
		raw     string
		want    []string
	}{
		{"wordpress front page", PersonaNginx, AppWordPress, get("/"),
			[]string{"HTTP/1.1 200 OK\r\n", `<meta name="generator" content="WordPress 6.4.3" />`, `href='http://site.test/wp-includes/css/dist/block-library/style.min.css?ver=6.4.3'`}},
		{"wordpress admin redirect", PersonaNginx, AppWordPress, get("/wp-admin/"),
			[]string{"HTTP/1.1 302 Moved Temporarily\r\n", "Location: http://site.test/wp-login.php?redirect_to=http%3A%2F%2Fsite.test%2Fwp-admin%2F&reauth=1\r\n"}},
		{"wordpress login form", PersonaApache, AppWordPress, get("/wp-login.php"),
			[]string{"HTTP/1.1 200 OK\r\n", "Set-Cookie: wordpress_test_cookie=WP%20Cookie%20check; path=/\r\n", `name="log"`, `name="pwd"`}},
		{"wordpress asset", PersonaNginx, AppWordPress, get("/wp-includes/js/jquery/jquery.min.js?ver=3.7.1"),
			[]string{"HTTP/1.1 200 OK\r\n", "Content-Type: application/javascript\r\n"}},
		{"wordpress unknown asset", PersonaNginx, AppWordPress, get("/wp-includes/nope.js"), []string{"HTTP/1.1 404 Not Found\r\n"}},
		{"grafana redirect", PersonaNginx, AppGrafana, get("/"), []string{"HTTP/1.1 302 Moved Temporarily\r\n", "Location: /login\r\n"}},
		{"grafana shell", PersonaNginx, AppGrafana, get("/login"),
			[]string{"<title>Grafana</title>", `"version":"10.2.3"`, "window.grafanaBootData = {"}},
		{"grafana health", PersonaNginx, AppGrafana, get("/api/health"), []string{`"version": "10.2.3"`}},
		{"phpmyadmin login", PersonaApache, AppPHPMyAdmin, get("/index.php"),
			[]string{"Set-Cookie: pma_lang=en;", "<title>phpMyAdmin</title>", `PMA_VERSION:"5.2.1"`, `name="pma_username"`}},
		{"owa redirect", PersonaIIS, AppOWA, get("/owa"),
			[]string{"HTTP/1.1 302 Found\r\n", "Location: http://site.test/owa/auth/logon.aspx?url=http%3a%2f%2fsite.test%2fowa%2f&reason=0\r\n", "X-OWA-Version: 15.2.1258.12\r\n"}},
		{"owa logon", PersonaIIS, AppOWA, get("/owa/auth/logon.aspx?url=http%3a%2f%2fsite.test%2fowa%2f&reason=2"),
			[]string{"<!-- OwaPage = ASP.auth_logon_aspx -->", `name="username"`, "isn't correct"}},
		{"router page", PersonaNginx, AppRouter, get("/"), []string{"<title>mikrotik routeros > administration</title>", "configuration page"}}, //nolint:misspell // RouterOS is MikroTik's system
		{"app leaves other paths", PersonaNginx, AppGrafana, get("/admin"), []string{"HTTP/1.1 404 Not Found\r\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := exchange(t, appService(t, tt.persona, tt.app).addr, tt.raw)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("response lacks %q:\n%.1500s", w, out)
				}
			}
		})
	}
}

func TestAppLogins(t *testing.T) {
	xmlrpc := "<?xml version=\"1.0\"?><methodCall><methodName>wp.getUsersBlogs</methodName><params>" +
		"<param><value><string>editor</string></value></param><param><value><string>a&lt;b</string></value></param></params></methodCall>"
	tests := []struct {
		name                      string
		app                       string
		raw                       string
		mechanism, user, password string
		want                      string
	}{
		{"wordpress known user", AppWordPress, post("/wp-login.php", "application/x-www-form-urlencoded", "log=admin&pwd=pw1"),
			decoys.MechanismHTTPForm, "admin", "pw1", "<strong>Error:</strong> The password you entered for the username <strong>admin</strong> is incorrect."},
		{"wordpress unknown user", AppWordPress, post("/wp-login.php", "application/x-www-form-urlencoded", "log=%3Cb%3E&pwd=pw2"),
			decoys.MechanismHTTPForm, "<b>", "pw2", "The username <strong>&lt;b&gt;</strong> is not registered on this site."},
		{"wordpress xmlrpc", AppWordPress, post("/xmlrpc.php", "text/xml", xmlrpc),
			decoys.MechanismHTTPForm, "editor", "a<b", "Incorrect username or password."},
		{"grafana json", AppGrafana, post("/login", "application/json", `{"user":"admin","password":"prom-operator"}`),
			decoys.MechanismHTTPJSON, "admin", "prom-operator", "HTTP/1.1 401 Unauthorized\r\n"},
		{"phpmyadmin", AppPHPMyAdmin, post("/index.php?route=/", "application/x-www-form-urlencoded", "pma_username=ro'ot&pma_password=&server=1"),
			decoys.MechanismHTTPForm, "ro'ot", "", "Access denied for user 'ro&#039;ot'@'localhost' (using password: NO)"},
		{"owa", AppOWA, post("/owa/auth.owa", "application/x-www-form-urlencoded", "destination=x&username=user%40corp.test&password=P%40ss"),
			decoys.MechanismHTTPForm, "user@corp.test", "P@ss", "reason=2"},
		{"router", AppRouter, post("/cfg", "application/x-www-form-urlencoded", "name=admin&password=mikrotik"),
			decoys.MechanismHTTPForm, "admin", "mikrotik", "invalid user name or password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := appService(t, PersonaNginx, tt.app)
			out := exchange(t, ts.addr, tt.raw)
			if !strings.Contains(out, tt.want) {
				t.Errorf("response lacks %q:\n%.1500s", tt.want, out)
			}
			a := ts.rec.waitKind(t, decoys.KindAuthAttempt, 1)[0].GetAuthAttempt()
			if a.GetMechanism() != tt.mechanism || a.GetPrincipal() != tt.user || string(a.GetSecret()) != tt.password {
				t.Errorf("attempt %s %q %q, want %s %q %q", a.GetMechanism(), a.GetPrincipal(), a.GetSecret(), tt.mechanism, tt.user, tt.password)
			}
		})
	}
}

func TestPHPMyAdminTokenPerVisit(t *testing.T) {
	ts := appService(t, PersonaNginx, AppPHPMyAdmin)
	token := regexp.MustCompile(`name="token" value="([0-9a-f]{32})"`)
	first := token.FindStringSubmatch(exchange(t, ts.addr, get("/")))
	second := token.FindStringSubmatch(exchange(t, ts.addr, get("/")))
	if first == nil || second == nil || first[1] == second[1] {
		t.Errorf("tokens %v and %v, want two different ones", first, second)
	}
}
