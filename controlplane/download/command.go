package download

import (
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
)

// InstallCommand returns a one-line shell command that installs an agent
// from the control plane at enrollURL (https://host:port) with token.
//
// The line never trusts an unverified download. It takes the last
// certificate of the chain the server sends, because the control plane's
// chain ends with its root. It continues only when that certificate's
// SHA-256 is rootFingerprint. Then it fetches install-agent.sh with curl,
// verifying the server against that root alone, and runs it. The script checks the pin
// again from the token before it downloads the binary. A pipe into sh is
// avoided because sh would run a truncated or empty script when curl
// fails.
//
// The token is passed in DECNET_ENROLL_TOKEN, so it stays out of the
// script's argument list but lands in the shell's history; it is single
// use and short lived.
func InstallCommand(enrollURL string, rootFingerprint [32]byte, token string) (string, error) {
	u, err := url.Parse(enrollURL)
	if err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return "", fmt.Errorf("invalid enrollment URL %q: want https://host:port", enrollURL)
	}
	base := "https://" + u.Host
	hostPort := u.Host
	if u.Port() == "" {
		hostPort += ":443"
	}

	// The fingerprint as openssl prints it, without colons, in upper case.
	pin := strings.ToUpper(hex.EncodeToString(rootFingerprint[:]))
	steps := []string{
		`d=$(mktemp -d)`,
		`openssl s_client -connect ` + shellQuote(hostPort) + ` -showcerts </dev/null 2>/dev/null | awk '/BEGIN CERT/{c=""} {c=c $0 "\n"} /END CERT/{r=c} END{printf "%s", r}' >"$d/root.pem"`,
		`openssl x509 -in "$d/root.pem" -noout -fingerprint -sha256 | tr -d : | grep -qix 'sha256 fingerprint=` + pin + `'`,
		// An empty --capath keeps curl from also trusting the system CA
		// directory; $d has no hashed certificate links.
		`curl --proto =https -fsS --cacert "$d/root.pem" --capath "$d" -o "$d/install-agent.sh" ` + shellQuote(base+ScriptPath),
		`DECNET_ENROLL_TOKEN=` + shellQuote(token) + ` sh "$d/install-agent.sh" --server ` + shellQuote(base),
	}
	line := strings.Join(steps, " && ") +
		` || echo 'DECNET agent install failed: the server did not present the pinned CA root, or a step above failed' >&2; rm -rf "$d"`
	return line, nil
}

// shellQuote quotes s as one word for POSIX sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
