package shell

import (
	"net"
	"net/netip"
	"net/url"
	"path"
	"strconv"
	"strings"

	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// maxURLBytes caps the URL reported in events.
const maxURLBytes = 2048

func progApt(sh *Shell, c *call) int {
	if len(c.args) == 0 {
		fprint(c.out, "apt 2.6.1 (amd64)\nUsage: apt [options] command\n")
		return 1
	}
	if sh.uid != 0 && c.args[0] != "list" && c.args[0] != "search" && c.args[0] != "show" && c.args[0] != "policy" {
		fprint(c.err, "E: Could not open lock file /var/lib/dpkg/lock-frontend - open (13: Permission denied)\nE: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), are you root?\n")
		return 100
	}
	switch c.args[0] {
	case "update":
		// The decoy does not reach the mirrors, so it prints what apt
		// prints on a host without outbound access.
		fprint(c.out, "Ign:1 http://deb.debian.org/debian bookworm InRelease\nIgn:2 http://deb.debian.org/debian bookworm-updates InRelease\nIgn:3 http://security.debian.org/debian-security bookworm-security InRelease\nErr:1 http://deb.debian.org/debian bookworm InRelease\n  Temporary failure resolving 'deb.debian.org'\nReading package lists... Done\n")
		fprint(c.err, "W: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease  Temporary failure resolving 'deb.debian.org'\nW: Some index files failed to download. They have been ignored, or old ones used instead.\n")
		return 0
	case "install", "upgrade", "dist-upgrade", "full-upgrade":
		fprint(c.out, "Reading package lists... Done\nBuilding dependency tree... Done\nReading state information... Done\n")
		for _, p := range c.args[1:] {
			if strings.HasPrefix(p, "-") {
				continue
			}
			if sh.hasPackage(p) {
				fprintf(c.out, "%s is already the newest version (%s).\n", p, sh.packageVersion(p))
				continue
			}
			fprintf(c.err, "E: Unable to locate package %s\n", p)
			return 100
		}
		fprint(c.out, "0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n")
		return 0
	case "list":
		fprint(c.err, "\nWARNING: apt does not have a stable CLI interface. Use with caution in scripts.\n\n")
		fprint(c.out, "Listing... Done\n")
		for _, p := range sh.host.persona.packageList(sh.host.kernel) {
			fprintf(c.out, "%s/now %s %s [installed,local]\n", p.base(), p.version, p.arch)
		}
		return 0
	}
	fprintf(c.err, "E: Invalid operation %s\n", c.args[0])
	return 100
}

func (sh *Shell) hasPackage(name string) bool { return sh.packageVersion(name) != "" }

func (sh *Shell) packageVersion(name string) string {
	for _, p := range sh.host.persona.packageList(sh.host.kernel) {
		if p.base() == name || p.name == name {
			return p.version
		}
	}
	return ""
}

func progDpkg(sh *Shell, c *call) int {
	if len(c.args) == 0 {
		fprint(c.err, "dpkg: error: need an action option\n\nType dpkg --help for help about installing and deinstalling packages [*];\nUse 'apt' or 'aptitude' for user-friendly package management;\nType dpkg -Dhelp for a list of dpkg debug flag values;\nType dpkg --force-help for a list of forcing options;\nType dpkg-deb --help for help about manipulating *.deb files;\n\nOptions marked [*] produce a lot of output - pipe it through 'less' or 'more' !\n")
		return 2
	}
	switch c.args[0] {
	case "-l", "--list":
		return sh.dpkgList(c, c.args[1:])
	case "--version":
		fprint(c.out, "Debian 'dpkg' package management program version 1.21.22 (amd64).\n")
		return 0
	case "--print-architecture":
		fprintln(c.out, "amd64")
		return 0
	}
	fprintf(c.err, "dpkg: error: unknown option %s\n\nType dpkg --help for help about installing and deinstalling packages [*];\n", c.args[0])
	return 2
}

// dpkgList prints dpkg -l as it looks when piped.
func (sh *Shell) dpkgList(c *call, patterns []string) int {
	all := sh.host.persona.packageList(sh.host.kernel)
	var rows []pkg
	for _, p := range all {
		if len(patterns) == 0 {
			rows = append(rows, p)
			continue
		}
		for _, pat := range patterns {
			if ok, _ := path.Match(pat, p.base()); ok {
				rows = append(rows, p)
				break
			}
		}
	}
	if len(rows) == 0 {
		fprintf(c.err, "dpkg-query: no packages found matching %s\n", strings.Join(patterns, " "))
		return 1
	}
	// Off a terminal dpkg sizes the name and version columns to the
	// longest value and keeps 72 columns of description.
	nw, vw, aw, dw := 4, 7, 12, 72
	for _, p := range rows {
		nw, vw = max(nw, len(p.name)), max(vw, len(p.version))
	}
	fprint(c.out, "Desired=Unknown/Install/Remove/Purge/Hold\n| Status=Not/Inst/Conf-files/Unpacked/halF-conf/Half-inst/trig-aWait/Trig-pend\n|/ Err?=(none)/Reinst-required (Status,Err: uppercase=bad)\n")
	fprintf(c.out, "||/ %-*s %-*s %-*s %s\n", nw, "Name", vw, "Version", aw, "Architecture", "Description")
	fprintf(c.out, "+++-%s-%s-%s-%s\n", strings.Repeat("=", nw), strings.Repeat("=", vw), strings.Repeat("=", aw), strings.Repeat("=", dw))
	for _, p := range rows {
		desc := p.summary
		if len(desc) > dw {
			desc = desc[:dw]
		}
		fprintf(c.out, "ii  %-*s %-*s %-*s %s\n", nw, p.name, vw, p.version, aw, p.arch, desc)
	}
	return 0
}

// fetchURL passes a URL to the Fetch hook and reports the download.
func (sh *Shell) fetchURL(c *call, tool, raw string) FetchResult {
	if len(raw) > maxURLBytes {
		raw = raw[:maxURLBytes]
	}
	res := FetchResult{Outcome: "not_fetched"}
	if sh.cfg.Fetch != nil {
		res = sh.cfg.Fetch(c.ctx, tool, raw)
	}
	if sh.cfg.OnDownload != nil {
		sh.cfg.OnDownload(&eventv1.DownloadRequested{Url: raw, Tool: tool, Outcome: res.Outcome, Sha256: res.SHA256, Size: res.Size})
	}
	return res
}

// target is a URL split into the parts wget and curl print.
type target struct {
	full string // the URL with a scheme and a path
	host string // as written, without brackets
	port int
	file string // the remote file name
	// literal is set when host is an IP address, which needs no lookup.
	literal bool
}

func parseTarget(raw string) target {
	full := raw
	if !strings.Contains(raw, "://") {
		full = "http://" + raw
	}
	u, err := url.Parse(full)
	if err != nil || u.Host == "" {
		return target{full: full}
	}
	t := target{full: full, host: u.Hostname(), port: 80}
	if u.Scheme == "https" {
		t.port = 443
	}
	if p, err := strconv.Atoi(u.Port()); err == nil {
		t.port = p
	}
	t.file = path.Base(u.Path)
	if t.file == "/" || t.file == "." || t.file == "" {
		t.file = "index.html"
	}
	if u.Path == "" {
		t.full += "/"
	}
	_, err = netip.ParseAddr(t.host)
	t.literal = err == nil
	return t
}

// hostPort formats an address as wget prints it, IPv6 in brackets.
func (t target) hostPort() string {
	return net.JoinHostPort(t.host, strconv.Itoa(t.port))
}

// NOTE: a fetched URL is shown with its host name where wget prints the
// resolved address, because FetchResult does not carry the address.
func progWget(sh *Shell, c *call) int {
	var urls []string
	outFile := ""
	quiet := false
	for i := 0; i < len(c.args); i++ {
		a := c.args[i]
		switch {
		case a == "-O" && i+1 < len(c.args):
			i++
			outFile = c.args[i]
		case strings.HasPrefix(a, "-O"):
			outFile = a[2:]
		case a == "-q" || a == "--quiet" || a == "-qO-":
			quiet = true
			if a == "-qO-" {
				outFile = "-"
			}
		case strings.HasPrefix(a, "-"):
		default:
			urls = append(urls, a)
		}
	}
	if len(urls) == 0 {
		fprint(c.err, "wget: missing URL\nUsage: wget [OPTION]... [URL]...\n\nTry `wget --help' for more options.\n")
		return 1
	}
	status := 0
	logf := func(format string, args ...any) {
		if !quiet {
			fprintf(c.err, format, args...)
		}
	}
	for _, raw := range urls {
		t := parseTarget(raw)
		res := sh.fetchURL(c, "wget", raw)
		now := sh.now().UTC().Format("2006-01-02 15:04:05")
		if t.host == "" {
			fprintf(c.err, "%s: Invalid URL %s: Unsupported scheme\n", t.full, raw)
			status = 1
			continue
		}
		logf("--%s--  %s\n", now, t.full)
		switch {
		case res.Outcome == "fetched":
		case t.literal:
			logf("Connecting to %s... failed: Connection refused.\n", t.hostPort())
			status = 4
			continue
		default:
			logf("Resolving %s (%s)... failed: Temporary failure in name resolution.\n", t.host, t.host)
			fprintf(c.err, "wget: unable to resolve host address %s\n", sh.quote(t.host))
			status = 4
			continue
		}
		name := outFile
		if name == "" {
			name = t.file
		}
		if !t.literal {
			logf("Resolving %s (%s)... %s\n", t.host, t.host, t.host)
		}
		logf("Connecting to %s (%s)|%s|:%d... connected.\nHTTP request sent, awaiting response... 200 OK\nLength: %d [application/octet-stream]\nSaving to: %s\n\n", t.host, t.host, t.host, t.port, res.Size, sh.quote(name))
		logf("     0K %s 100%%  1.00M=0s\n\n%s (1.00 MB/s) - %s saved [%d/%d]\n\n", strings.Repeat(".", int(min(res.Size/1024+1, 50))), now, sh.quote(name), res.Size, res.Size)
		if name != "-" {
			sh.placeFetched(abs(sh.cwd, name), res)
		}
	}
	return status
}

// curlMeter is curl's progress meter for a transfer that moved nothing,
// which curl writes to stderr when the body does not go to a terminal.
const curlMeter = "  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n" +
	"                                 Dload  Upload   Total   Spent    Left  Speed\n" +
	"\r  0     0    0     0    0     0      0      0 --:--:-- --:--:-- --:--:--     0" +
	"\r  0     0    0     0    0     0      0      0 --:--:-- --:--:-- --:--:--     0\n"

func progCurl(sh *Shell, c *call) int {
	var urls []string
	outFile := ""
	remoteName, silent, showErr := false, false, false
	for i := 0; i < len(c.args); i++ {
		a := c.args[i]
		switch {
		case (a == "-o" || a == "--output") && i+1 < len(c.args):
			i++
			outFile = c.args[i]
		case a == "-O" || a == "--remote-name":
			remoteName = true
		case (a == "-H" || a == "-d" || a == "-A" || a == "-X" || a == "-u" || a == "-e" || a == "--data" || a == "--header" || a == "-m" || a == "--connect-timeout") && i+1 < len(c.args):
			i++
		case strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--"):
			silent = silent || strings.ContainsRune(a, 's')
			showErr = showErr || strings.ContainsRune(a, 'S')
			remoteName = remoteName || strings.ContainsRune(a, 'O')
		case strings.HasPrefix(a, "-"):
			silent = silent || a == "--silent"
			showErr = showErr || a == "--show-error"
		default:
			urls = append(urls, a)
		}
	}
	if len(urls) == 0 {
		fprint(c.err, "curl: try 'curl --help' or 'curl --manual' for more information\n")
		return 2
	}
	_, tty := c.out.(*capWriter)
	meter := !silent && (outFile != "" || remoteName || !tty || !sh.interactive)
	report := func(format string, args ...any) {
		if !silent || showErr {
			fprintf(c.err, format, args...)
		}
	}
	status := 0
	for _, raw := range urls {
		t := parseTarget(raw)
		res := sh.fetchURL(c, "curl", raw)
		if t.host == "" {
			report("curl: (3) URL using bad/illegal format or missing URL\n")
			status = 3
			continue
		}
		if meter {
			fprint(c.err, curlMeter)
		}
		switch {
		case res.Outcome == "fetched":
		case t.literal:
			report("curl: (7) Failed to connect to %s port %d after 0 ms: Couldn't connect to server\n", t.host, t.port)
			status = 7
			continue
		default:
			report("curl: (6) Could not resolve host: %s\n", t.host)
			status = 6
			continue
		}
		name := outFile
		if remoteName {
			name = t.file
		}
		if name != "" && name != "-" {
			sh.placeFetched(abs(sh.cwd, name), res)
		}
	}
	return status
}

// placeFetched puts a file of the fetched size in the overlay. Its bytes
// stay in quarantine, and the session lists a file of the right size.
func (sh *Shell) placeFetched(p string, res FetchResult) {
	if err := sh.fs.writeFile(p, nil, false, sh.uid); err != nil {
		return
	}
	if n, err := sh.fs.lookup(p, true); err == nil {
		n.data = []byte{0x7f, 'E', 'L', 'F'}
		n.size = int64(res.Size)
	}
}
