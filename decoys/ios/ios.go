// Package ios emulates the EXEC command line of a Cisco 2911 router
// running IOS 15.7(3)M5, the session behind the Telnet decoy's Cisco
// persona. Nothing is configured or sent for real: every reply comes
// from a per-decky model of the router (derived from the decky seed)
// and a per-session copy of its configuration, so what an attacker
// configures lasts only for the session.
package ios

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"time"
)

// Config describes one session's command line.
type Config struct {
	Seed []byte
	// Hostname overrides the seed-derived host name.
	Hostname string
	// User is the name the session logged in with.
	User string
	// Source is the client's address, as show users prints it.
	Source string
	// OnCommand is called with each command line before it runs.
	OnCommand func(line string)
	// OnDownload reports the URL of each copy from the network.
	OnDownload func(url string)
	// Enable decides a password typed at enable's prompt; nil refuses
	// every one.
	Enable func(password []byte) bool
	// Sleep waits between ping probes; nil waits for real.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Session bounds: a router has none of these, but a decoy ends every
// session's work in bounded memory.
const (
	// maxLine caps an input line; longer input is dropped.
	maxLine = 4096
	// maxOutputBytes caps what one session writes to the attacker.
	maxOutputBytes = 16 << 20
	// historySize is IOS's default "terminal history size".
	historySize = 10
	// maxConfigLines caps the lines a session adds to the configuration.
	maxConfigLines = 500
	// enableTries is the number of passwords enable prompts for.
	enableTries = 3
	// pingTimeout is the default timeout of an IOS ping probe.
	pingTimeout = 2 * time.Second
)

// mode is the command mode, which sets the prompt and the commands.
type mode uint8

const (
	modeUser mode = iota
	modePriv
	modeConfig
	modeConfigIf
	modeConfigLine
)

// CLI is one session on the emulated router. It is not safe for
// concurrent use, except Resize.
type CLI struct {
	cfg   Config
	dev   *device
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error

	mode     mode
	hostname string
	cfgState *runningConfig
	// ifName is the interface being configured in modeConfigIf.
	ifName  string
	history []string
	out     int64
	ended   bool

	in   *input
	term io.Writer
	// exec is the command running now.
	exec  *execution
	trees trees

	// length is the terminal length: the lines of a screen, where
	// output pauses; 0 turns paging off.
	length atomic.Int32
}

// New prepares a session. It never fails.
func New(cfg Config) *CLI {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	c := &CLI{cfg: cfg, now: now, sleep: cfg.Sleep}
	if c.sleep == nil {
		c.sleep = sleepContext
	}
	c.trees = trees{exec: execNodes(), config: configNodes(), iface: interfaceNodes(), line: lineNodes()}
	c.dev = newDevice(cfg.Seed, cfg.Hostname, now())
	c.hostname = c.dev.hostname
	c.cfgState = newRunningConfig(c.dev)
	c.length.Store(24)
	return c
}

// Hostname is the router's host name at the start of the session.
func (c *CLI) Hostname() string { return c.dev.hostname }

// Resize records the terminal size. IOS takes the window height the
// client reports as the terminal length, where output pauses at
// --More--; the decoy does not wrap lines, so the width is unused.
func (c *CLI) Resize(_, height int) {
	if height > 0 && height < 10000 {
		c.length.Store(int32(height)) //nolint:gosec // G115: bounded above
	}
}

// Motd returns the text IOS prints between the password line and the
// first prompt: an empty line, because the configuration has no banner.
func (c *CLI) Motd(time.Time, time.Time, string) string { return "\n" }

// prompt is the prompt of the current mode.
func (c *CLI) prompt() string {
	switch c.mode {
	case modePriv:
		return c.hostname + "#"
	case modeConfig:
		return c.hostname + "(config)#"
	case modeConfigIf:
		return c.hostname + "(config-if)#"
	case modeConfigLine:
		return c.hostname + "(config-line)#"
	}
	return c.hostname + ">"
}

// priv is the privilege level of the current mode.
func (c *CLI) priv() int {
	if c.mode == modeUser {
		return 1
	}
	return 15
}

// trees are the command trees of the modes.
type trees struct {
	exec, config, iface, line []*node
}

// readResult carries one read: data and the error that ended reading.
type readResult struct {
	data []byte
	err  error
}

// input hands out the terminal's bytes one at a time. Reads happen on a
// goroutine so that a session ends when its context does.
type input struct {
	ctx  context.Context
	ch   <-chan readResult
	buf  []byte
	err  error
	last byte
}

func (in *input) next() (byte, error) {
	for len(in.buf) == 0 {
		if in.err != nil {
			return 0, in.err
		}
		select {
		case <-in.ctx.Done():
			return 0, io.EOF
		case r := <-in.ch:
			in.buf, in.err = r.data, r.err
		}
	}
	b := in.buf[0]
	in.buf = in.buf[1:]
	return b, nil
}

// Interactive runs the session on a raw terminal until the attacker
// logs out or input ends. The caller writes Motd first.
func (c *CLI) Interactive(ctx context.Context, term io.ReadWriter) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan readResult, 1)
	go func() {
		buf := make([]byte, 1024)
		for {
			n, err := term.Read(buf)
			select {
			case ch <- readResult{data: append([]byte(nil), buf[:n]...), err: err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	c.in = &input{ctx: ctx, ch: ch}
	c.term = term

	for !c.ended {
		line, err := c.readLine(c.prompt(), true)
		if errors.Is(err, errCtrlZ) {
			c.mode = modePriv
			continue
		}
		if err == nil {
			err = c.execute(ctx, line)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// write sends text with LF turned into CR LF, within the session's
// output cap.
func (c *CLI) write(s string) error {
	s = strings.ReplaceAll(s, "\n", "\r\n")
	left := maxOutputBytes - c.out
	if left <= 0 {
		return nil
	}
	if int64(len(s)) > left {
		s = s[:left]
	}
	c.out += int64(len(s))
	_, err := io.WriteString(c.term, s)
	return err
}

// Control characters of the IOS line editor.
const (
	ctrlH = 0x08
	ctrlN = 0x0e
	ctrlP = 0x10
	ctrlU = 0x15
	ctrlW = 0x17
	ctrlZ = 0x1a
	esc   = 0x1b
	del   = 0x7f
)

// errCtrlZ means ^Z ended a line in a configuration mode.
var errCtrlZ = errors.New("ctrl-z")

// readLine shows prompt and reads one line, echoing when echo is set.
// On the command line (not a question a command asks), "?" shows help
// at once, Tab completes a keyword and the arrows recall history, as
// IOS's editor does. Other lines keep "?" and Tab as characters.
func (c *CLI) readLine(prompt string, echo bool) (string, error) {
	if err := c.write(prompt); err != nil {
		return "", err
	}
	var buf []byte
	escState := 0
	// recall is the history entry shown by the arrow keys; only a
	// command line has one.
	recall := len(c.history)
	command := echo && c.exec == nil
	for {
		b, err := c.in.next()
		if err != nil {
			return "", err
		}
		prev := c.in.last
		c.in.last = b
		switch escState {
		case 1:
			escState = 0
			if b == '[' || b == 'O' {
				escState = 2
			}
			continue
		case 2:
			if b >= 0x40 && b <= 0x7e {
				escState = 0
				if command && (b == 'A' || b == 'B') {
					var err error
					if buf, recall, err = c.recallHistory(buf, recall, b == 'A'); err != nil {
						return "", err
					}
				}
			}
			continue
		}
		var echoed string
		switch {
		case b == '\r':
			return c.endLine(string(buf))
		case b == '\n' || b == 0:
			if prev == '\r' {
				continue
			}
			return c.endLine(string(buf))
		case b == del || b == ctrlH:
			if len(buf) > 0 {
				buf = buf[:len(buf)-1]
				echoed = "\b \b"
			}
		case b == ctrlU:
			echoed = strings.Repeat("\b \b", len(buf))
			buf = buf[:0]
		case b == ctrlW:
			n := len(buf)
			for n > 0 && buf[n-1] == ' ' {
				n--
			}
			for n > 0 && buf[n-1] != ' ' {
				n--
			}
			echoed = strings.Repeat("\b \b", len(buf)-n)
			buf = buf[:n]
		case b == ctrlZ && command && c.mode >= modeConfig:
			if err := c.write("^Z\n"); err != nil {
				return "", err
			}
			return "", errCtrlZ
		case b == esc:
			escState = 1
		case (b == ctrlP || b == ctrlN) && command:
			if buf, recall, err = c.recallHistory(buf, recall, b == ctrlP); err != nil {
				return "", err
			}
		case b == '?' && command:
			if err := c.write("?\n" + c.contextHelp(string(buf)) + prompt + string(buf)); err != nil {
				return "", err
			}
		case b == '\t' && command:
			if add := c.complete(string(buf)); add != "" && len(buf)+len(add) <= maxLine {
				buf = append(buf, add...)
				echoed = add
			}
		case b < 0x20:
		case len(buf) < maxLine:
			buf = append(buf, b)
			if echo {
				echoed = string(b)
			}
		}
		if echoed != "" && echo {
			if err := c.write(echoed); err != nil {
				return "", err
			}
		}
	}
}

// recallHistory replaces the line being edited with the previous (up)
// or next history entry, as the arrow keys and ^P/^N do in IOS. Past
// the newest entry the line is empty.
func (c *CLI) recallHistory(buf []byte, recall int, up bool) ([]byte, int, error) {
	switch {
	case up && recall > 0:
		recall--
	case !up && recall < len(c.history):
		recall++
	default:
		return buf, recall, nil
	}
	line := ""
	if recall < len(c.history) {
		line = c.history[recall]
	}
	err := c.write(strings.Repeat("\b \b", len(buf)) + line)
	return []byte(line), recall, err
}

func (c *CLI) endLine(line string) (string, error) {
	return line, c.write("\n")
}

// contextHelp is the reply to "?" typed after text: the keywords that
// may come next, those that complete a partial word, or an error.
func (c *CLI) contextHelp(text string) string {
	root := c.root()
	words := splitWords(text)
	partial := ""
	if len(words) > 0 && !strings.HasSuffix(text, " ") && !strings.HasSuffix(text, "\t") {
		partial = words[len(words)-1].text
		words = words[:len(words)-1]
	}
	level, leaf, ok := levelAfter(root, words, c.priv())
	if !ok {
		return "% Unrecognized command\n"
	}
	if leaf != nil {
		extra := len(words) > len(pathLen(root, words, c.priv()))
		switch {
		case leaf.args == argNone && (partial != "" || extra):
			return "% Unrecognized command\n"
		case leaf.args == argRequired && partial == "" && !extra:
			h := leaf.argHelp
			if h == "" {
				h = "WORD"
			}
			return "  " + h + "\n\n"
		}
		return "  <cr>\n\n"
	}
	if partial != "" {
		names := completions(level, partial, c.priv())
		if len(names) == 0 {
			return "% Unrecognized command\n"
		}
		return strings.Join(names, "  ") + "  \n\n"
	}
	if len(words) == 0 {
		return c.modeHeader() + helpList(level, c.priv()) + "\n"
	}
	return helpList(level, c.priv()) + "\n"
}

// pathLen returns the words of words that name keywords, up to a leaf.
func pathLen(root []*node, words []word, priv int) []word {
	level := root
	for i, w := range words {
		c := candidates(level, w.text, priv)
		if len(c) != 1 {
			return words[:i]
		}
		if len(c[0].children) == 0 {
			return words[:i+1]
		}
		level = c[0].children
	}
	return words
}

// complete returns what Tab adds to text: the rest of the last word and
// a space, when exactly one keyword completes it.
func (c *CLI) complete(text string) string {
	words := splitWords(text)
	if len(words) == 0 || strings.HasSuffix(text, " ") {
		return ""
	}
	last := words[len(words)-1].text
	level, leaf, ok := levelAfter(c.root(), words[:len(words)-1], c.priv())
	if !ok || leaf != nil {
		return ""
	}
	names := completions(level, last, c.priv())
	if len(names) != 1 {
		return ""
	}
	return names[0][len(last):] + " "
}

// modeHeader is the first line of "?" on an empty line.
func (c *CLI) modeHeader() string {
	switch c.mode {
	case modeConfig:
		return "Configure commands:\n"
	case modeConfigIf:
		return "Interface configuration commands:\n"
	case modeConfigLine:
		return "Line configuration commands:\n"
	}
	return "Exec commands:\n"
}

// root is the command tree of the current mode.
func (c *CLI) root() []*node {
	switch c.mode {
	case modeConfig:
		return c.trees.config
	case modeConfigIf:
		return c.trees.iface
	case modeConfigLine:
		return c.trees.line
	}
	return c.trees.exec
}

// execute runs one command line.
func (c *CLI) execute(ctx context.Context, line string) error {
	if strings.TrimSpace(line) != "" {
		if c.cfg.OnCommand != nil {
			c.cfg.OnCommand(line)
		}
		c.history = append(c.history, line)
		if len(c.history) > historySize {
			c.history = c.history[len(c.history)-historySize:]
		}
	}
	return c.dispatch(ctx, line, c.root(), len(c.prompt()))
}

// dispatch resolves line in root and runs it, or prints IOS's error.
// indent is the column where the line started on screen, for the caret.
func (c *CLI) dispatch(ctx context.Context, line string, root []*node, indent int) error {
	full := line
	line, modifier, pipeCol, piped := splitPipe(line)
	inv, fail, col := resolve(root, line, c.priv())
	if fail == failEmpty && piped {
		return c.invalid(indent + pipeCol)
	}
	switch fail {
	case failEmpty:
		return nil
	case failUnknown:
		if c.mode >= modeConfig {
			return c.invalid(indent + col)
		}
		// ip domain-lookup is on by default and no name server is
		// configured, so IOS broadcasts the query and gives up.
		// NOTE: the real router waits for the lookup to time out
		// before the second line; the decoy prints it at once.
		first := splitWords(line)[0].text
		return c.write("Translating \"" + first + "\"...domain server (255.255.255.255)\n" +
			"% Unknown command or computer name, or unable to find computer address\n")
	case failInvalid:
		return c.invalid(indent + col)
	case failAmbiguous:
		return c.write("% Ambiguous command:  \"" + strings.TrimSpace(full) + "\"\n")
	case failIncomplete:
		if root[0] == c.trees.exec[0] && len(splitWords(line)) == 1 && strings.HasPrefix("show", strings.ToLower(splitWords(line)[0].text)) {
			return c.write("% Type \"show ?\" for a list of subcommands\n")
		}
		return c.write("% Incomplete command.\n\n")
	}
	var filter func(string) string
	if piped {
		// Only commands that print a listing take an output modifier.
		if cmd := candidates(root, inv.path[0].text, c.priv()); root[0] != c.trees.exec[0] || cmd[0].name != "show" && cmd[0].name != "dir" && cmd[0].name != "more" {
			return c.invalid(indent + pipeCol)
		}
		f, fail, col := outputFilter(modifier)
		switch fail {
		case failIncomplete:
			return c.write("% Incomplete command.\n\n")
		case failAmbiguous:
			return c.write("% Ambiguous command:  \"" + strings.TrimSpace(full) + "\"\n")
		case failInvalid:
			return c.invalid(indent + col)
		}
		filter = f
	}

	// "do" runs a command inside another, so the outer one's state is
	// put back afterwards.
	outer := c.exec
	x := &execution{ctx: ctx, capture: filter != nil}
	c.exec = x
	inv.node.run(c, inv)
	if filter != nil && x.err == nil {
		x.capture = false
		c.print(filter(x.captured.String()))
	}
	c.exec = outer
	return x.err
}

// execution is the state of one running command: its context, the
// first write error (which ends the session) and its place in paging.
type execution struct {
	ctx context.Context
	err error
	// lines counts the lines shown since the last --More--; quit means
	// the attacker stopped the output there.
	lines int
	quit  bool
	// capture collects the output for an output modifier, which
	// filters it before it is shown.
	capture  bool
	captured strings.Builder
}

// print writes s for the running command, keeping the first error. When
// the terminal length is not 0, output pauses at --More-- after a
// screen less one line, as IOS does.
func (c *CLI) print(s string) {
	x := c.exec
	if x.capture {
		if x.captured.Len()+len(s) <= maxOutputBytes {
			x.captured.WriteString(s)
		}
		return
	}
	page := int(c.length.Load())
	for s != "" && x.err == nil && !x.quit {
		if page > 0 && x.lines >= page-1 && !c.more() {
			return
		}
		i := strings.IndexByte(s, '\n')
		if i < 0 || page == 0 {
			x.err = c.write(s)
			x.lines += strings.Count(s, "\n")
			return
		}
		x.err = c.write(s[:i+1])
		x.lines++
		s = s[i+1:]
	}
}

// morePrompt is IOS's pager prompt; after a key it is rubbed out.
const morePrompt = " --More-- "

// more shows --More-- and reads one key: space shows another screen,
// Return one more line, and any other key ends the output.
func (c *CLI) more() bool {
	x := c.exec
	if x.err = c.write(morePrompt); x.err != nil {
		return false
	}
	b, err := c.in.next()
	if err != nil {
		x.err = err
		return false
	}
	prev := c.in.last
	c.in.last = b
	for (b == '\n' || b == 0) && prev == '\r' {
		// The second byte of the Return before this key.
		if b, err = c.in.next(); err != nil {
			x.err = err
			return false
		}
		prev, c.in.last = c.in.last, b
	}
	rub := strings.Repeat("\b", len(morePrompt))
	if x.err = c.write(rub + strings.Repeat(" ", len(morePrompt)) + rub); x.err != nil {
		return false
	}
	switch b {
	case ' ':
		x.lines = 0
	case '\r', '\n':
		x.lines--
	default:
		x.quit = true
		return false
	}
	return true
}

// invalid prints the caret under column col and IOS's message.
func (c *CLI) invalid(col int) error {
	return c.write(strings.Repeat(" ", col) + "^\n% Invalid input detected at '^' marker.\n\n")
}

// sleepContext waits for d or until ctx ends.
func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
