package ftp

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/decnet/decnet/decoys"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// Errors of readLine for command lines over the persona's limit.
var (
	errLineTooLong = errors.New("command line too long")
	errLineIgnored = errors.New("command line too long, ignored")
)

// control is the state of one control connection.
type control struct {
	s    *Service
	p    *persona
	conn *countingConn
	br   *bufio.Reader
	sess *decoys.Session

	remote netip.Addr
	local  netip.Addr
	// clientsAtStart is the number of live control connections, this one
	// included, when it was accepted.
	clientsAtStart int64

	// Login state.
	user      string
	loggedIn  bool
	anonymous bool
	failures  int

	// Session state after login.
	tree    *tree
	cwd     string
	binary  bool
	restAt  int64
	rnfr    string
	epsvAll bool
	data    dataMode

	// pin is ProFTPD's line reader state.
	pin proftpdInput
}

func newControl(s *Service, conn net.Conn, sess *decoys.Session) *control {
	cc := &countingConn{Conn: conn}
	return &control{
		s:      s,
		p:      s.persona,
		conn:   cc,
		br:     bufio.NewReaderSize(cc, 4<<10),
		sess:   sess,
		remote: addrOf(conn.RemoteAddr()),
		local:  addrOf(conn.LocalAddr()),
	}
}

// serve runs the command loop and returns why it ended.
func (c *control) serve(ctx context.Context) string {
	if !c.send("220 " + c.p.banner(c.local)) {
		return closeReason(ctx, nil)
	}
	for {
		_ = c.conn.SetReadDeadline(time.Now().Add(c.s.idleTimeout()))
		var line string
		var err error
		if c.p.proftpd {
			line, err = c.readProFTPDLine()
		} else {
			line, err = c.readLine()
		}
		switch {
		case errors.Is(err, errLineIgnored):
			continue
		case errors.Is(err, errLineTooLong):
			if c.p.lineTooLong != "" {
				c.send(c.p.lineTooLong)
			}
			return reasonLimit
		case err != nil:
			if isTimeout(err) && ctx.Err() == nil {
				if c.p.timeoutReply != "" {
					c.send(c.p.timeoutReply)
				}
				return reasonTimeout
			}
			return closeReason(ctx, err)
		}

		if c.p.proftpd && proftpdForeignProtocol(line) {
			c.sess.Command(truncate(line, maxEventLine), ServiceName)
			return reasonProtocol
		}
		if line == "" {
			if c.p.ignoreEmpty {
				continue
			}
			c.send(c.p.emptyReply)
			continue
		}
		if rest, ok := strings.CutPrefix(line, telnetInterrupt); ok && strings.EqualFold(rest, "ABOR") {
			line = rest
		}
		verb, arg := splitCommand(line)
		if c.p.proftpd {
			verb, arg = splitProFTPDCommand(line)
		}
		// The daemons would echo a CR or LF inside an argument into
		// their replies; the decoy cuts the argument there, so that no
		// reply line can be split.
		if i := strings.IndexAny(arg, "\r\n"); i >= 0 {
			arg = arg[:i]
		}
		if verb != "PASS" {
			c.sess.Command(truncate(line, maxEventLine), ServiceName)
		}

		done, reason := c.dispatch(ctx, verb, arg)
		if done {
			return reason
		}
	}
}

// readLine reads one command line and returns it without its LF and
// one trailing CR. A line longer than the persona's limit before its LF
// is errLineTooLong, or errLineIgnored for a persona that skips such
// lines (ProFTPD discards them silently and closes only when one spans
// more than four buffers).
func (c *control) readLine() (string, error) {
	var buf []byte
	for {
		frag, err := c.br.ReadSlice('\n')
		buf = append(buf, frag...)
		if len(buf) > c.p.maxLine && (err != nil || len(buf)-1 > c.p.maxLine) {
			if !c.p.ignoreLongLines {
				return "", errLineTooLong
			}
			return "", c.skipLongLine(int64(len(buf)), err == nil)
		}
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return "", err
	}
	line := buf[:len(buf)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return string(line), nil
}

// maxIgnoredBuffers is how many command buffers one over-long line may
// fill before ProFTPD closes the connection (pr_cmd_read gives up after
// its fourth E2BIG).
const maxIgnoredBuffers = 4

// skipLongLine discards the rest of an over-long line. It returns
// errLineIgnored when the line ended in time, errLineTooLong when it ran
// past maxIgnoredBuffers buffers, or the read error. The count advances
// in reads of the 4 KiB buffer, so the close comes up to 4 KiB later
// than ProFTPD's.
func (c *control) skipLongLine(read int64, ended bool) error {
	limit := int64(maxIgnoredBuffers) * int64(c.p.maxLine+1)
	for !ended {
		if read > limit {
			return errLineTooLong
		}
		frag, err := c.br.ReadSlice('\n')
		read += int64(len(frag))
		switch {
		case err == nil:
			ended = true
		case !errors.Is(err, bufio.ErrBufferFull):
			return err
		}
	}
	if read > limit {
		return errLineTooLong
	}
	return errLineIgnored
}

// telnetInterrupt is the Telnet IP and DM sequence (IAC IP IAC DM) that
// clients send before ABOR (RFC 959 section 4.1.3). vsftpd takes it as
// ABOR and treats it before any other verb as part of an unknown verb.
const telnetInterrupt = "\xff\xf4\xff\xf2"

// splitCommand splits a command line at its first space into the verb,
// upper-cased, and the argument, kept as sent.
func splitCommand(line string) (string, string) {
	verb, arg, _ := strings.Cut(line, " ")
	return asciiUpper(verb), arg
}

// asciiUpper upper-cases ASCII letters only, as the C daemons' toupper
// does in the C locale; other bytes stay as sent.
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// send writes one reply line with CR LF and reports success.
func (c *control) send(line string) bool {
	_ = c.conn.SetWriteDeadline(time.Now().Add(c.s.limits.WriteTimeout))
	_, err := io.WriteString(c.conn, line+"\r\n")
	return err == nil
}

// sendRaw writes bytes that are not a reply, such as a Telnet option
// refusal.
func (c *control) sendRaw(b []byte) {
	_ = c.conn.SetWriteDeadline(time.Now().Add(c.s.limits.WriteTimeout))
	_, _ = c.conn.Write(b)
}

// sendLines writes a multi-line reply in one write.
func (c *control) sendLines(lines []string) bool {
	_ = c.conn.SetWriteDeadline(time.Now().Add(c.s.limits.WriteTimeout))
	_, err := io.WriteString(c.conn, strings.Join(lines, "\r\n")+"\r\n")
	return err == nil
}

// dispatch replies to one command. It reports whether the connection ends,
// and why.
func (c *control) dispatch(ctx context.Context, verb, arg string) (bool, string) {
	if c.p.proftpd && (c.loggedIn || c.p.allowedBeforeLogin(verb)) && c.proftpdCommand(ctx, verb, arg) {
		return false, ""
	}
	if !c.loggedIn && !c.p.allowedBeforeLogin(verb) {
		if c.p.unknownBeforeLogin && !c.p.implements(verb) {
			c.send(reply(c.p.unknown, verb))
		} else {
			c.send(c.p.needLogin)
		}
		return false, ""
	}

	switch verb {
	case "USER":
		c.cmdUser(arg)
	case "PASS":
		return c.cmdPass(ctx, arg)
	case "QUIT":
		c.send(c.p.quit)
		return true, reasonQuit
	case "FEAT":
		c.sendLines(c.p.feat)
	case "HELP":
		c.sendLines(c.p.help)
	case "SYST":
		c.send(c.p.syst)
	case "NOOP":
		c.send(c.p.noop)
	case "OPTS":
		if strings.EqualFold(arg, "UTF8 ON") {
			c.send(c.p.optsUTF8)
		} else {
			c.send(c.p.optsBad)
		}
	case "CLNT":
		if c.p.clnt == "" {
			c.send(reply(c.p.unknown, verb))
		} else {
			c.send(c.p.clnt)
		}
	case "AUTH":
		if c.loggedIn {
			c.send(reply(c.p.authTLSAfter, verb))
		} else {
			c.send(reply(c.p.authTLS, verb))
		}
	default:
		c.postLogin(ctx, verb, arg)
	}
	return false, ""
}

func (c *control) cmdUser(arg string) {
	if c.loggedIn {
		if c.anonymous {
			c.send(c.p.userAfterAnon)
		} else {
			c.send(c.p.userAfterUser)
		}
		return
	}
	c.user = arg
	if c.p.isAnonymous(arg) && c.s.anonymous {
		c.send(reply(c.p.anonUserOK, arg))
		return
	}
	c.send(reply(c.p.userOK, arg))
}

func (c *control) cmdPass(ctx context.Context, arg string) (bool, string) {
	if c.loggedIn {
		c.send(c.p.alreadyIn)
		return false, ""
	}
	if c.user == "" {
		c.send(c.p.passNoUser)
		return false, ""
	}
	user := c.user
	anonymous := c.p.isAnonymous(user)
	accepted := false
	if anonymous {
		accepted = c.s.anonymous
	} else {
		accepted = c.s.policy.Allow(c.remote, user, []byte(arg))
	}

	outcome := eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED
	if accepted {
		outcome = eventv1.AuthOutcome_AUTH_OUTCOME_ACCEPTED
	}
	c.sess.AuthAttempt(&eventv1.AuthAttempt{
		Principal:  truncate(user, maxEventUser),
		SecretKind: decoys.SecretPlaintext,
		Mechanism:  decoys.MechanismFTPPass,
		Secret:     []byte(truncate(arg, maxEventLine)),
		Outcome:    outcome,
	})

	if !accepted {
		if !sleepCtx(ctx, c.s.failDelay()) {
			return true, reasonShutdown
		}
		c.send(c.p.loginFailed)
		c.user = ""
		c.failures++
		if c.p.maxLoginFails > 0 && c.failures >= c.p.maxLoginFails {
			return true, reasonAuth
		}
		return false, ""
	}

	c.loggedIn = true
	c.anonymous = anonymous
	now := c.s.now()
	switch {
	case c.p.listStyle == listDOS:
		c.tree = newWindowsTree(c.s.seed, now)
	case anonymous:
		c.tree = newUnixTree(c.s.seed, "ftp", true, now)
		if c.s.anonUpload {
			c.tree.lookup("/pub").writable = true
		}
	default:
		c.tree = newUnixTree(c.s.seed, homeName(user), false, now)
	}
	c.s.uploads.apply(c.loginKey(), c.tree)
	c.cwd = c.tree.home
	if anonymous {
		c.send(reply(c.p.anonLoginOK, user))
	} else {
		c.send(reply(c.p.loginOK, user))
	}
	return false, ""
}

// homeName turns a login name into a directory name that cannot escape
// /home.
func homeName(user string) string {
	name := strings.Map(func(r rune) rune {
		if r == '/' || r < 0x20 || r == 0x7f {
			return '_'
		}
		return r
	}, truncate(user, 32))
	if name == "" || name == "." || name == ".." {
		return "user"
	}
	return name
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded)
}

func closeReason(ctx context.Context, err error) string {
	switch {
	case ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		return reasonTimeout
	case ctx.Err() != nil:
		return reasonShutdown
	case err != nil && isTimeout(err):
		return reasonTimeout
	}
	return reasonClientClosed
}

// postLogin replies to the commands that need a login.
func (c *control) postLogin(ctx context.Context, verb, arg string) {
	switch verb {
	case "PWD", "XPWD":
		c.send(reply(c.p.pwd, strings.ReplaceAll(c.cwd, `"`, `""`)))
	case "CWD", "XCWD":
		c.cmdCwd(verb, arg)
	case "CDUP", "XCUP":
		c.cmdCwd(verb, "..")
	case "TYPE":
		c.cmdType(arg)
	case "MODE":
		if strings.EqualFold(arg, "S") {
			c.send(c.p.modeS)
		} else {
			c.send(reply(c.p.modeBad, arg))
		}
	case "STRU":
		if strings.EqualFold(arg, "F") {
			c.send(c.p.struF)
		} else {
			c.send(reply(c.p.struBad, arg))
		}
	case "ALLO":
		c.send(c.p.allo)
	case "REST":
		// vsftpd takes what strtoll reads and clamps negatives to 0.
		n, _ := strconv.ParseInt(leadingDigits(arg), 10, 64)
		c.restAt = max(n, 0)
		c.send(reply(c.p.rest, c.restAt))
	case "ABOR":
		c.send(c.p.abor)
	case "PASV", "EPSV", "PORT", "EPRT":
		c.cmdDataMode(ctx, verb, arg)
	case "LIST", "NLST":
		c.cmdList(ctx, verb, arg)
	case "RETR":
		c.cmdRetr(ctx, arg)
	case "STOR", "APPE", "STOU":
		c.cmdStor(ctx, verb, arg)
	case "SIZE":
		c.cmdSize(arg)
	case "MDTM":
		c.cmdMdtm(arg)
	case "STAT":
		c.cmdStat(arg)
	case "MKD", "XMKD", "RMD", "XRMD", "DELE", "RNFR", "RNTO":
		c.cmdModify(verb, arg)
	case "SITE":
		c.send(c.p.site(arg, c.anonymous))
	case "PBSZ", "PROT":
		c.send(reply(c.p.pbszProt, verb))
	case "MLSD", "MLST":
		if !c.p.mlsd {
			c.send(reply(c.p.unknown, verb))
		} else if verb == "MLSD" {
			c.cmdMLSD(ctx, arg)
		} else {
			c.cmdMLST(arg)
		}
	case "REIN", "ACCT", "SMNT":
		c.send(reply(c.p.notImplemented, verb))
	default:
		c.send(reply(c.p.unknown, verb))
	}
}

// leadingDigits returns the decimal prefix of s, with a leading minus.
func leadingDigits(s string) string {
	i := 0
	if strings.HasPrefix(s, "-") {
		i = 1
	}
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

func (c *control) cmdCwd(verb, arg string) {
	abs := resolve(c.cwd, arg)
	n := c.tree.follow(abs, c.tree.lookup(abs))
	if arg == "" || n == nil || !n.dir || !c.canEnter(n) {
		c.send(reply(c.p.cwdFailed, arg))
		return
	}
	c.cwd = abs
	c.send(reply(c.p.cwdOK, verb))
}

// canEnter applies the directory's search permission to the login.
func (c *control) canEnter(n *node) bool {
	if c.p.listStyle == listDOS || c.user == "root" {
		return true
	}
	if n.uid == 1000 && !c.anonymous {
		return n.perm&0o100 != 0
	}
	return n.perm&0o001 != 0
}

func (c *control) cmdType(arg string) {
	switch strings.ToUpper(arg) {
	case "I":
		c.binary = true
		c.send(c.p.typeI)
	case "A", "A N":
		c.binary = false
		c.send(c.p.typeA)
	case "L 8", "L8":
		c.binary = true
		c.send(c.p.typeL8)
	default:
		c.send(reply(c.p.typeBad, arg))
	}
}

func (c *control) cmdSize(arg string) {
	if !c.binary && c.p.sizeASCII != "" {
		c.send(c.p.sizeASCII)
		return
	}
	n := c.fileAt(arg)
	if n == nil {
		c.send(reply(c.p.sizeFailed, arg))
		return
	}
	c.send(reply(c.p.size, n.size))
}

func (c *control) cmdMdtm(arg string) {
	n := c.fileAt(arg)
	if n == nil {
		c.send(reply(c.p.mdtmFailed, arg))
		return
	}
	c.send(reply(c.p.mdtm, n.mtime.UTC().Format("20060102150405")))
}

// fileAt returns the regular file the argument names, or nil.
func (c *control) fileAt(arg string) *node {
	if arg == "" {
		return nil
	}
	abs := resolve(c.cwd, arg)
	n := c.tree.follow(abs, c.tree.lookup(abs))
	if n == nil || n.dir {
		return nil
	}
	return n
}

func (c *control) cmdStat(arg string) {
	if arg == "" {
		user := c.user
		if c.anonymous {
			user = "ftp"
		}
		c.sendLines(c.p.stat(statInfo{remote: c.remote, user: user, binary: c.binary, timeout: c.p.idleTimeout, clients: c.clientsAtStart}))
		return
	}
	opts, target := splitListArg(arg)
	opts.all = true
	abs := resolve(c.cwd, target)
	lines := []string{reply(c.p.statFileHead, target)}
	lines = append(lines, c.tree.listing(c.p.listStyle, abs, target, opts, c.s.now())...)
	lines = append(lines, c.p.statFileTail)
	c.sendLines(lines)
}

// writeDenied reports whether this login may not change the tree at all.
func (c *control) writeDenied() bool {
	return c.anonymous && !c.s.anonUpload
}

func (c *control) cmdModify(verb, arg string) {
	if c.writeDenied() {
		c.send(reply(c.p.denied, arg))
		return
	}
	abs := resolve(c.cwd, arg)
	switch verb {
	case "MKD", "XMKD":
		dir, name := c.tree.parentOf(abs)
		if arg == "" || !c.tree.canCreate(dir, name) || dir.child(name) != nil {
			c.send(reply(c.p.mkdFailed, arg))
			return
		}
		nd := mkdir(dir, name, 0o755, c.owner(), c.s.now())
		nd.writable = true
		c.tree.nodes++
		c.send(reply(c.p.mkdOK, strings.ReplaceAll(abs, `"`, `""`)))
	case "RMD", "XRMD":
		dir, name := c.tree.parentOf(abs)
		n := c.tree.lookup(abs)
		if arg == "" || dir == nil || !dir.writable || n == nil || !n.dir || n.link != "" || len(n.children) > 0 {
			c.send(reply(c.p.rmdFailed, arg))
			return
		}
		dir.remove(name)
		c.send(c.p.rmdOK)
	case "DELE":
		dir, name := c.tree.parentOf(abs)
		n := c.tree.lookup(abs)
		if arg == "" || dir == nil || !dir.writable || n == nil || n.dir {
			c.send(reply(c.p.deleFailed, arg))
			return
		}
		dir.remove(name)
		c.send(c.p.deleOK)
	case "RNFR":
		dir, _ := c.tree.parentOf(abs)
		if arg == "" || dir == nil || !dir.writable || c.tree.lookup(abs) == nil {
			c.rnfr = ""
			c.send(reply(c.p.rnfrFailed, arg))
			return
		}
		c.rnfr = abs
		c.send(c.p.rnfrOK)
	case "RNTO":
		from := c.rnfr
		c.rnfr = ""
		if from == "" {
			c.send(c.p.rntoNeed)
			return
		}
		src, srcName := c.tree.parentOf(from)
		n := c.tree.lookup(from)
		dst, dstName := c.tree.parentOf(abs)
		if arg == "" || n == nil || src == nil || !c.tree.canCreate(dst, dstName) {
			c.send(reply(c.p.renameFailed, arg))
			return
		}
		src.remove(srcName)
		dst.remove(dstName)
		n.name = dstName
		dst.add(n)
		c.send(c.p.rntoOK)
	}
}

// owner is who owns the files this login creates.
func (c *control) owner() treeOwner {
	switch {
	case c.p.listStyle == listDOS:
		return treeOwner{owner: "owner", group: "group"}
	case c.anonymous:
		// vsftpd's Debian package creates the ftp user; its ids vary per
		// install, 105 and 113 are those of a minimal Debian 12.
		return treeOwner{105, 113, "ftp", "nogroup"}
	case c.user == "root":
		return rootOwner
	}
	name := homeName(c.user)
	return treeOwner{1000, 1000, name, name}
}
