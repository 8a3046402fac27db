package shell

import (
	"strconv"
	"strings"
)

// maxDDBytes caps what one dd copies. The real dd would stream a whole
// device, while the decoy stops at a size no header peek reaches.
const maxDDBytes = 1 << 20

// bbDD is BusyBox dd for the header peek bots run on /bin/echo: it
// copies count blocks of bs bytes and reports records as BusyBox does
// (its Debian build, the oracle, prints no third status line).
func bbDD(sh *Shell, c *call) int {
	bs, count, skip := 512, -1, 0
	in, out := "", ""
	for _, a := range c.args {
		k, val, ok := strings.Cut(a, "=")
		if !ok {
			fprint(c.err, sh.bbStamp()+"\nUsage: dd [if=FILE] [of=FILE] [ibs=N obs=N/bs=N] [count=N] [skip=N] [seek=N]\n")
			return 1
		}
		n, err := strconv.Atoi(val)
		switch k {
		case "if":
			in = val
		case "of":
			out = val
		case "bs", "ibs", "count", "skip":
			if err != nil || n < 0 {
				fprintf(c.err, "dd: invalid number '%s'\n", val)
				return 1
			}
			switch k {
			case "count":
				count = n
			case "skip":
				skip = n
			default:
				bs = max(n, 1)
			}
		}
	}
	data := c.stdin
	if in != "" {
		d, err := sh.readPath(in)
		if err != nil {
			fprintf(c.err, "dd: can't open '%s': %s\n", in, err)
			return 1
		}
		data = d
	}
	start := min(skip*bs, len(data))
	data = data[start:]
	if count >= 0 && count*bs < len(data) {
		data = data[:count*bs]
	}
	data = data[:min(len(data), maxDDBytes)]
	full, partial := len(data)/bs, 0
	if len(data)%bs != 0 {
		partial = 1
	}
	if out != "" {
		if err := sh.fs.writeFile(abs(sh.cwd, out), data, false, sh.uid); err != nil {
			fprintf(c.err, "dd: can't open '%s': %s\n", out, err)
			return 1
		}
	} else {
		write(c.out, data)
	}
	fprintf(c.err, "%d+%d records in\n%d+%d records out\n", full, partial, full, partial)
	return 0
}

// bbWget is BusyBox wget: the URL is recorded, and without a fetched
// file the transfer fails as it does on a device with no route out.
func bbWget(sh *Shell, c *call) int {
	var urls []string
	outFile, quiet := "", false
	for i := 0; i < len(c.args); i++ {
		a := c.args[i]
		switch {
		case (a == "-O" || a == "-P" || a == "-U" || a == "-T" || a == "-Y" || a == "--header") && i+1 < len(c.args):
			i++
			if a == "-O" {
				outFile = c.args[i]
			}
		case strings.HasPrefix(a, "-O"):
			outFile = a[2:]
		case strings.HasPrefix(a, "-") && len(a) > 1:
			quiet = quiet || a == "-q" || strings.HasPrefix(a, "-q")
			if strings.HasSuffix(a, "O-") {
				outFile = "-"
			}
		default:
			urls = append(urls, a)
		}
	}
	if len(urls) == 0 {
		fprint(c.err, sh.bbStamp()+"\nUsage: wget [-c|--continue] [--spider] [-q|--quiet] [-O|--output-document FILE]\n\t[--header 'header: value'] [-Y|--proxy on/off] [-P DIR]\n\t[-S|--server-response] [-U|--user-agent AGENT] [-T SEC] URL...\n")
		return 1
	}
	for _, raw := range urls {
		t := parseTarget(raw)
		res := sh.fetchURL(c, "wget", raw)
		if t.host == "" {
			fprintf(c.err, "wget: not an http or ftp url: %s\n", raw)
			return 1
		}
		if res.Outcome != "fetched" {
			if !t.literal {
				fprintf(c.err, "wget: bad address '%s'\n", t.host)
				return 1
			}
			if !quiet {
				fprintf(c.err, "Connecting to %s (%s)\n", t.hostPort(), t.hostPort())
			}
			fprintf(c.err, "wget: can't connect to remote host (%s): Connection refused\n", t.host)
			return 1
		}
		name := outFile
		if name == "" {
			name = t.file
		}
		if !quiet {
			fprintf(c.err, "Connecting to %s (%s)\n", t.hostPort(), t.hostPort())
			if name != "-" {
				fprintf(c.err, "saving to '%s'\n", name)
				fprintf(c.err, "%-20.20s 100%% |%s| %5d  0:00:00 ETA\n'%s' saved\n", name, strings.Repeat("*", 32), res.Size, name)
			}
		}
		if name != "-" {
			sh.placeFetched(abs(sh.cwd, name), res)
		}
	}
	return 0
}

// bbTftp is BusyBox tftp. The request is recorded and passed to the
// fetch hook (which refuses tftp), then times out as an unanswered one.
func bbTftp(sh *Shell, c *call) int {
	var host, remote, local string
	get := false
	for i := 0; i < len(c.args); i++ {
		a := c.args[i]
		switch {
		case (a == "-r" || a == "-l" || a == "-b") && i+1 < len(c.args):
			i++
			switch a {
			case "-r":
				remote = c.args[i]
			case "-l":
				local = c.args[i]
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			get = get || strings.ContainsRune(a, 'g')
		case host == "":
			host = a
		}
	}
	if host == "" || remote == "" && local == "" {
		fprint(c.err, sh.bbStamp()+"\nUsage: tftp [OPTIONS] HOST [PORT]\n")
		return 1
	}
	if remote == "" {
		remote = local
	}
	if !get {
		fprint(c.err, "tftp: timeout\n")
		return 1
	}
	res := sh.fetchURL(c, "tftp", "tftp://"+host+"/"+strings.TrimPrefix(remote, "/"))
	if res.Outcome == "fetched" {
		if local == "" {
			local = remote[strings.LastIndexByte(remote, '/')+1:]
		}
		sh.placeFetched(abs(sh.cwd, local), res)
		return 0
	}
	fprint(c.err, "tftp: timeout\n")
	return 1
}
