package httpdecoy

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"html"
)

// portal is the admin application a decky pretends to run behind its web
// server. Each decky picks one from its seed, so deckies differ while one
// decky keeps its portal across restarts.
type portal struct {
	// title names the device, in the page title, the heading and the
	// Basic realm.
	title string
	// firmware is the version in the page footer.
	firmware string
}

// portalTitles are generic device consoles of the kinds found on small
// office networks. They name no real vendor on purpose.
var portalTitles = []string{
	"Gigabit Router Administration",
	"NAS Storage Manager",
	"Managed Switch Web Console",
	"Firewall Management Console",
	"Wireless Access Point Setup",
	"Network Video Recorder Login",
	"UPS Network Management Card",
	"VPN Gateway Administration",
	"Print Server Configuration",
	"Building Controller Web Access",
}

// newPortal derives the portal from the decky's seed and name.
func newPortal(seed []byte, decky string) portal {
	h := sha256.New()
	h.Write([]byte("decnet http portal\x00"))
	h.Write(seed)
	h.Write([]byte{0})
	h.Write([]byte(decky))
	sum := h.Sum(nil)

	pick := binary.BigEndian.Uint32(sum[0:4])
	return portal{
		title:    portalTitles[int(pick%uint32(len(portalTitles)))],
		firmware: fmt.Sprintf("%d.%d.%d build %d", 1+sum[4]%4, sum[5]%10, sum[6]%30, 1000+int(binary.BigEndian.Uint16(sum[7:9]))%9000),
	}
}

// realm is the Basic authentication realm of /admin.
func (p portal) realm() string { return p.title }

// loginPage renders the login form; failed adds the message a portal shows
// after a rejected password. The page echoes nothing the client sent.
func (p portal) loginPage(failed bool) []byte {
	message := ""
	if failed {
		message = "<p class=\"error\">Invalid username or password</p>\n"
	}
	title := html.EscapeString(p.title)
	return fmt.Appendf(nil, `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%s</title>
<style>
body{font-family:Arial,Helvetica,sans-serif;background:#eef1f4;margin:0}
.box{width:320px;margin:80px auto;background:#fff;padding:24px 28px;border:1px solid #cfd6dd;border-radius:4px}
h1{font-size:18px;margin:0 0 18px}
label{display:block;font-size:13px;margin:10px 0 4px}
input{width:100%%;box-sizing:border-box;padding:7px;border:1px solid #b8c1ca}
button{margin-top:16px;width:100%%;padding:8px;background:#2d6cb5;color:#fff;border:0;cursor:pointer}
.error{color:#b00020;font-size:13px}
.foot{text-align:center;font-size:11px;color:#7a8691;margin-top:14px}
</style>
</head>
<body>
<div class="box">
<h1>%s</h1>
%s<form method="post" action="/login">
<label for="username">Username</label>
<input type="text" id="username" name="username" autocomplete="username">
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password">
<button type="submit">Log in</button>
</form>
<div class="foot">Firmware %s</div>
</div>
</body>
</html>
`, title, title, message, p.firmware)
}
