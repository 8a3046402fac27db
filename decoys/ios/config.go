package ios

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Interface kinds of the 2911 and those a session may create.
const (
	kindGig = iota
	kindESE
	kindLoopback
	kindTunnel
)

// ifaceConf is one interface of the running configuration.
type ifaceConf struct {
	name     string
	kind     int
	mac      [6]byte
	desc     string
	addr     netip.Prefix
	shutdown bool
	// cabled: a cable is in, so the port comes up when enabled.
	cabled bool
	// manual: the address was set in this session, not read from NVRAM.
	manual bool
	extra  []string
}

// lineBlock is one "line" section of the configuration.
type lineBlock struct {
	name string
	cmds []string
}

// runningConfig is the session's copy of the router's configuration.
type runningConfig struct {
	hostname  string
	enable    string
	usernames []string
	ifaces    []*ifaceConf
	globals   []string
	lines     []*lineBlock
	// curLine is the block being configured in modeConfigLine.
	curLine *lineBlock
	added   int
	// changedBy is the user who changed the configuration in this
	// session; empty while it is the startup configuration.
	changedBy string
	changedAt string
}

func newRunningConfig(d *device) *runningConfig {
	return &runningConfig{
		hostname:  d.hostname,
		enable:    "secret 5 " + d.enableHash,
		usernames: []string{"username " + d.adminUser + " privilege 15 secret 5 " + d.adminHash},
		ifaces: []*ifaceConf{
			{name: "Embedded-Service-Engine0/0", kind: kindESE, mac: [6]byte{}, shutdown: true},
			{name: "GigabitEthernet0/0", kind: kindGig, mac: d.portMAC(0), addr: d.wan, cabled: true, desc: "WAN"},
			{name: "GigabitEthernet0/1", kind: kindGig, mac: d.portMAC(1), addr: d.lan, cabled: true, desc: "LAN"},
			{name: "GigabitEthernet0/2", kind: kindGig, mac: d.portMAC(2), shutdown: true},
		},
		lines: []*lineBlock{
			{name: "con 0"},
			{name: "aux 0"},
			{name: "2", cmds: []string{"no activation-character", "no exec", "transport preferred none",
				"transport output pad telnet rlogin lapb-ta mop udptn v120 ssh", "stopbits 1"}},
			{name: "vty 0 4", cmds: []string{"login local", "transport input telnet ssh"}},
		},
	}
}

func (r *runningConfig) iface(name string) *ifaceConf {
	for _, i := range r.ifaces {
		if strings.EqualFold(i.name, name) {
			return i
		}
	}
	return nil
}

// interfaceTypes maps IOS interface type names to kinds.
var interfaceTypes = []struct {
	name string
	kind int
}{
	{"GigabitEthernet", kindGig},
	{"Embedded-Service-Engine", kindESE},
	{"Loopback", kindLoopback},
	{"Tunnel", kindTunnel},
}

// errNoNumber means an interface name has a known type and no number.
var errNoNumber = errors.New("interface number missing")

// errUnknownType means an interface name has no known type.
var errUnknownType = errors.New("unknown interface type")

// normalizeInterface expands an abbreviated interface name ("gi0/1",
// "Gig 0/1", "lo0") to IOS's spelling.
func normalizeInterface(s string) (string, error) {
	s = strings.ReplaceAll(s, " ", "")
	i := 0
	for i < len(s) && (s[i] < '0' || s[i] > '9') {
		i++
	}
	typ, num := strings.ToLower(s[:i]), s[i:]
	if typ == "" {
		return "", errUnknownType
	}
	for _, t := range interfaceTypes {
		if strings.HasPrefix(strings.ToLower(t.name), typ) {
			if num == "" {
				return "", errNoNumber
			}
			return t.name + num, nil
		}
	}
	return "", errUnknownType
}

func interfaceKind(name string) int {
	for _, t := range interfaceTypes {
		if strings.HasPrefix(name, t.name) {
			return t.kind
		}
	}
	return kindGig
}

// configNodes builds the global configuration tree.
// NOTE: the list is the subset of 15.x configuration commands the decoy
// accepts; commands it keeps without modelling go into the
// configuration as typed.
func configNodes() []*node {
	keep := func(name, help string) *node {
		return &node{name: name, help: help, priv: 15, args: argRequired, run: (*CLI).keepGlobal}
	}
	return []*node{
		keep("aaa", "Authentication, Authorization and Accounting."),
		keep("access-list", "Add an access list entry"),
		keep("banner", "Define a login banner"),
		keep("boot", "Modify system boot parameters"),
		keep("cdp", "Global CDP configuration subcommands"),
		keep("clock", "Configure time-of-day clock"),
		keep("crypto", "Encryption module"),
		{name: "do", help: "To run exec commands in config mode", priv: 15, args: argRequired, run: (*CLI).doExec},
		{name: "enable", help: "Modify enable password parameters", priv: 15, children: []*node{
			{name: "password", help: "Assign the privileged level password (MAX of 25 characters)", priv: 15, args: argRequired, run: (*CLI).enablePassword},
			{name: "secret", help: "Assign the privileged level secret (MAX of 25 characters)", priv: 15, args: argRequired, run: (*CLI).enablePassword},
		}},
		{name: "end", help: "Exit from configure mode", priv: 15, run: (*CLI).endConfig},
		{name: "exit", help: "Exit from configure mode", priv: 15, run: (*CLI).endConfig},
		{name: "hostname", help: "Set system's network name", priv: 15, args: argRequired, argHelp: "WORD  This system's network name", run: (*CLI).setHostname},
		{name: "interface", help: "Select an interface to configure", priv: 15, args: argRequired, run: (*CLI).selectInterface},
		keep("ip", "Global IP configuration subcommands"),
		{name: "line", help: "Configure a terminal line", priv: 15, args: argRequired, run: (*CLI).selectLine},
		keep("logging", "Modify message logging facilities"),
		keep("no", "Negate a command or set its defaults"),
		keep("ntp", "Configure NTP"),
		keep("router", "Enable a routing process"),
		keep("service", "Modify use of network based services"),
		keep("snmp-server", "Modify SNMP engine parameters"),
		{name: "username", help: "Establish User Name Authentication", priv: 15, args: argRequired, run: (*CLI).setUsername},
	}
}

// interfaceNodes builds the interface configuration tree.
func interfaceNodes() []*node {
	return []*node{
		{name: "description", help: "Interface specific description", priv: 15, args: argRequired, argHelp: "LINE  Up to 240 characters describing this interface", run: (*CLI).ifDescription},
		{name: "do", help: "To run exec commands in config mode", priv: 15, args: argRequired, run: (*CLI).doExec},
		{name: "duplex", help: "Configure duplex operation.", priv: 15, args: argRequired, run: (*CLI).ifKeep},
		{name: "end", help: "Exit from configure mode", priv: 15, run: (*CLI).endConfig},
		{name: "exit", help: "Exit from interface configuration mode", priv: 15, run: func(c *CLI, _ *invocation) { c.mode = modeConfig }},
		{name: "interface", help: "Select an interface to configure", priv: 15, args: argRequired, run: (*CLI).selectInterface},
		{name: "ip", help: "Interface Internet Protocol config commands", priv: 15, args: argRequired, run: (*CLI).ifIP},
		{name: "no", help: "Negate a command or set its defaults", priv: 15, args: argRequired, run: (*CLI).ifNo},
		{name: "shutdown", help: "Shutdown the selected interface", priv: 15, run: func(c *CLI, _ *invocation) { c.cfgState.iface(c.ifName).shutdown = true; c.changed() }},
		{name: "speed", help: "Configure speed operation.", priv: 15, args: argRequired, run: (*CLI).ifKeep},
	}
}

// lineNodes builds the line configuration tree.
func lineNodes() []*node {
	keep := func(name, help string) *node {
		return &node{name: name, help: help, priv: 15, args: argAny, run: (*CLI).keepLine}
	}
	return []*node{
		keep("access-class", "Filter connections based on an IP access list"),
		{name: "do", help: "To run exec commands in config mode", priv: 15, args: argRequired, run: (*CLI).doExec},
		{name: "end", help: "Exit from configure mode", priv: 15, run: (*CLI).endConfig},
		keep("exec-timeout", "Set the EXEC timeout"),
		{name: "exit", help: "Exit from line configuration mode", priv: 15, run: func(c *CLI, _ *invocation) { c.mode = modeConfig }},
		keep("login", "Enable password checking"),
		keep("logging", "Modify message logging facilities"),
		keep("no", "Negate a command or set its defaults"),
		keep("password", "Set a password"),
		keep("privilege", "Change privilege level for line"),
		keep("transport", "Define transport protocols for line"),
	}
}

// changed marks the configuration as changed by the session's user.
func (c *CLI) changed() {
	c.cfgState.changedBy = c.cfg.User
	c.cfgState.changedAt = iosTime(c.now())
}

// rest is the text of the arguments as typed, from the first one.
func rest(x *invocation) string {
	if len(x.args) == 0 {
		return ""
	}
	return x.line[x.args[0].col:]
}

// command is the invocation's keywords in full followed by its
// arguments, as the configuration stores a line.
func command(x *invocation) string {
	var names []string
	for _, w := range x.path {
		names = append(names, w.text)
	}
	if len(x.args) > 0 {
		names = append(names, strings.TrimSpace(rest(x)))
	}
	return strings.Join(names, " ")
}

func (c *CLI) addLine(list *[]string, line string) {
	if c.cfgState.added >= maxConfigLines {
		return
	}
	c.cfgState.added++
	*list = append(*list, line)
	c.changed()
}

func (c *CLI) keepGlobal(x *invocation) {
	c.addLine(&c.cfgState.globals, x.node.name+" "+strings.TrimSpace(rest(x)))
}

// keepLine sets a command of the line being configured, replacing the
// one with the same keywords, as "transport input all" replaces
// "transport input telnet ssh".
func (c *CLI) keepLine(x *invocation) {
	b := c.cfgState.curLine
	cmd := strings.Join(strings.Fields(x.node.name+" "+rest(x)), " ")
	key := strings.Join(firstWords(cmd, 2), " ")
	for i, old := range b.cmds {
		if strings.Join(firstWords(old, 2), " ") == key {
			b.cmds[i] = cmd
			c.changed()
			return
		}
	}
	c.addLine(&b.cmds, cmd)
}

func firstWords(s string, n int) []string {
	f := strings.Fields(s)
	return f[:min(n, len(f))]
}

func (c *CLI) endConfig(*invocation) { c.mode = modePriv }

// doExec runs an EXEC command from a configuration mode.
func (c *CLI) doExec(x *invocation) {
	c.exec.err = c.dispatch(c.exec.ctx, rest(x), c.trees.exec, len(c.prompt())+x.args[0].col)
}

func (c *CLI) setHostname(x *invocation) {
	name := x.args[0].text
	if len(name) > 63 {
		name = name[:63]
	}
	c.hostname = name
	c.cfgState.hostname = name
	c.changed()
}

// enablePassword sets "enable secret" or "enable password". A secret is
// stored as its type 5 hash, as IOS does.
func (c *CLI) enablePassword(x *invocation) {
	value := strings.TrimSpace(rest(x))
	if x.node.name == "secret" {
		c.cfgState.enable = "secret " + secretValue(value, c.dev.seed)
	} else {
		c.cfgState.enable = "password " + value
	}
	c.changed()
}

// secretValue turns the words after "secret" into the stored form:
// "5 <hash>" from a clear text ("[0] text") or an already hashed one.
func secretValue(value string, seed []byte) string {
	typ, text, found := strings.Cut(value, " ")
	switch {
	case found && typ == "5":
		return "5 " + text
	case found && typ == "0":
		value = text
	}
	salt := base64Salt(derive(seed, "session salt "+value))
	return "5 " + md5Crypt([]byte(value), []byte(salt))
}

// setUsername adds or replaces a local user; its secret is hashed.
func (c *CLI) setUsername(x *invocation) {
	name := x.args[0].text
	words := wordsText(x.args[1:])
	for i, w := range words {
		if strings.EqualFold(w, "secret") && i+1 < len(words) {
			words = append(words[:i+1], secretValue(strings.Join(words[i+1:], " "), c.dev.seed))
			break
		}
		if strings.EqualFold(w, "password") && i+1 < len(words) && words[i+1] != "0" && words[i+1] != "7" {
			words = append(words[:i+1], "0 "+strings.Join(words[i+1:], " "))
			break
		}
	}
	line := strings.TrimSpace("username " + name + " " + strings.Join(words, " "))
	for i, u := range c.cfgState.usernames {
		if f := strings.Fields(u); len(f) > 1 && f[1] == name {
			c.cfgState.usernames[i] = line
			c.changed()
			return
		}
	}
	c.addLine(&c.cfgState.usernames, line)
}

// selectInterface enters interface configuration, creating loopback and
// tunnel interfaces on first use as IOS does.
func (c *CLI) selectInterface(x *invocation) {
	name, err := normalizeInterface(strings.Join(wordsText(x.args), ""))
	if errors.Is(err, errNoNumber) {
		c.print("% Incomplete command.\n\n")
		return
	}
	if err != nil {
		c.exec.err = c.invalid(len(c.prompt()) + x.args[0].col)
		return
	}
	if c.cfgState.iface(name) == nil {
		kind := interfaceKind(name)
		if kind != kindLoopback && kind != kindTunnel || !virtualNumber(name) || len(c.cfgState.ifaces) >= 64 {
			c.exec.err = c.invalid(len(c.prompt()) + x.args[0].col)
			return
		}
		c.cfgState.ifaces = append(c.cfgState.ifaces, &ifaceConf{name: name, kind: kind, cabled: true})
		c.changed()
	}
	c.ifName = c.cfgState.iface(name).name
	c.mode = modeConfigIf
}

// maxVirtualInterface is the largest Loopback and Tunnel number.
// NOTE: IOS's help shows <0-2147483647> for both, as recalled, not
// checked on a 2911.
const maxVirtualInterface = 2147483647

// virtualNumber reports whether the name of a new Loopback or Tunnel
// interface ends in a number IOS accepts: decimal and in range.
func virtualNumber(name string) bool {
	i := strings.IndexAny(name, "0123456789")
	if i < 0 {
		return false
	}
	n, err := strconv.ParseUint(name[i:], 10, 32)
	return err == nil && n <= maxVirtualInterface
}

// selectLine enters line configuration for a line section, creating
// it when the configuration has none of that name.
func (c *CLI) selectLine(x *invocation) {
	name := strings.ToLower(strings.Join(wordsText(x.args), " "))
	for _, b := range c.cfgState.lines {
		if b.name == name {
			c.cfgState.curLine = b
			c.mode = modeConfigLine
			return
		}
	}
	if c.cfgState.added >= maxConfigLines {
		c.exec.err = c.invalid(len(c.prompt()) + x.args[0].col)
		return
	}
	c.cfgState.added++
	b := &lineBlock{name: name}
	c.cfgState.lines = append(c.cfgState.lines, b)
	c.cfgState.curLine = b
	c.mode = modeConfigLine
	c.changed()
}

func (c *CLI) ifDescription(x *invocation) {
	d := strings.TrimSpace(rest(x))
	if len(d) > 240 {
		d = d[:240]
	}
	c.cfgState.iface(c.ifName).desc = d
	c.changed()
}

func (c *CLI) ifKeep(x *invocation) {
	i := c.cfgState.iface(c.ifName)
	if len(i.extra) < 32 {
		i.extra = append(i.extra, command(x))
	}
	c.changed()
}

// ifIP handles "ip address A M" and keeps other interface ip commands.
func (c *CLI) ifIP(x *invocation) {
	i := c.cfgState.iface(c.ifName)
	if len(x.args) >= 1 && strings.HasPrefix("address", strings.ToLower(x.args[0].text)) {
		if len(x.args) < 3 {
			c.print("% Incomplete command.\n\n")
			return
		}
		addr, err1 := netip.ParseAddr(x.args[1].text)
		bits, err2 := maskBits(x.args[2].text)
		if err1 != nil || !addr.Is4() {
			c.exec.err = c.invalid(len(c.prompt()) + x.args[1].col)
			return
		}
		if err2 != nil {
			c.exec.err = c.invalid(len(c.prompt()) + x.args[2].col)
			return
		}
		i.addr = netip.PrefixFrom(addr, bits)
		i.manual = true
		c.changed()
		return
	}
	c.ifKeep(x)
}

func (c *CLI) ifNo(x *invocation) {
	i := c.cfgState.iface(c.ifName)
	first := strings.ToLower(x.args[0].text)
	switch {
	case strings.HasPrefix("shutdown", first) && len(first) >= 2:
		i.shutdown = false
	case strings.HasPrefix("description", first) && len(first) >= 2:
		i.desc = ""
	case first == "ip" && len(x.args) > 1 && strings.HasPrefix("address", strings.ToLower(x.args[1].text)):
		i.addr = netip.Prefix{}
		i.manual = true
	default:
		c.ifKeep(x)
		return
	}
	c.changed()
}

// maskBits parses a contiguous dotted netmask.
func maskBits(s string) (int, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return 0, fmt.Errorf("parse mask %q: not an address", s)
	}
	b := a.As4()
	m := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	bits := 0
	for m&0x80000000 != 0 {
		bits++
		m <<= 1
	}
	if m != 0 {
		return 0, fmt.Errorf("parse mask %q: not contiguous", s)
	}
	return bits, nil
}

// render writes the configuration as show running-config prints it,
// from the first "!" to "end".
func (r *runningConfig) render(d *device, startup bool) string {
	var b strings.Builder
	b.WriteString("!\n")
	if !startup && r.changedBy != "" {
		b.WriteString("! Last configuration change at " + r.changedAt + " by " + r.changedBy + "\n")
	} else {
		b.WriteString("! Last configuration change at " + iosTime(d.lastChange) + " by " + d.adminUser + "\n")
	}
	// The administrator saved the configuration a few seconds after
	// changing it; write memory in a session saves nothing.
	b.WriteString("! NVRAM config last updated at " + iosTime(d.lastChange.Add(17*time.Second)) + " by " + d.adminUser + "\n")
	b.WriteString("!\nversion 15.7\nservice timestamps debug datetime msec\nservice timestamps log datetime msec\nno service password-encryption\n!\n")
	b.WriteString("hostname " + r.hostname + "\n!\nboot-start-marker\nboot system flash0:" + imageName + "\nboot-end-marker\n!\n!\n")
	b.WriteString("enable " + r.enable + "\n!\nno aaa new-model\n!\n!\n!\n!\n!\n!\n!\n!\n")
	b.WriteString("ip cef\nno ipv6 cef\n!\nmultilink bundle-name authenticated\n!\n!\n!\n!\n")
	b.WriteString("license udi pid " + Model + " sn " + d.serial + "\n!\n!\n")
	for _, u := range r.usernames {
		b.WriteString(u + "\n")
	}
	b.WriteString("!\nredundancy\n!\n!\n!\n!\n!\n!\n")
	for _, i := range r.ifaces {
		b.WriteString("interface " + i.name + "\n")
		if i.desc != "" {
			b.WriteString(" description " + i.desc + "\n")
		}
		if i.addr.IsValid() {
			b.WriteString(" ip address " + i.addr.Addr().String() + " " + mask(i.addr.Bits()) + "\n")
		} else {
			b.WriteString(" no ip address\n")
		}
		for _, e := range i.extra {
			b.WriteString(" " + e + "\n")
		}
		if i.shutdown {
			b.WriteString(" shutdown\n")
		}
		if i.kind == kindGig {
			b.WriteString(" duplex auto\n speed auto\n")
		}
		b.WriteString("!\n")
	}
	b.WriteString("ip forward-protocol nd\n!\nno ip http server\nno ip http secure-server\n!\n")
	b.WriteString("ip route 0.0.0.0 0.0.0.0 " + d.gateway.String() + "\n!\n")
	for _, g := range r.globals {
		b.WriteString(g + "\n")
	}
	b.WriteString("!\n!\n!\ncontrol-plane\n!\n!\n!\n!\n!\n!\n!\n")
	for _, l := range r.lines {
		b.WriteString("line " + l.name + "\n")
		for _, cmd := range l.cmds {
			b.WriteString(" " + cmd + "\n")
		}
	}
	b.WriteString("!\nscheduler allocate 20000 1000\n!\nend\n")
	return b.String()
}

func (c *CLI) showRunning(*invocation) {
	body := c.cfgState.render(c.dev, false)
	c.print("Building configuration...\n\nCurrent configuration : " + strconv.Itoa(len(body)) + " bytes\n" + body + "\n")
}

// showStartup prints the configuration the router booted with; write
// memory never changes it.
func (c *CLI) showStartup(*invocation) {
	body := newRunningConfig(c.dev).render(c.dev, true)
	c.print("Using " + strconv.Itoa(len(body)) + " out of " + strconv.Itoa(nvramSize) + " bytes\n" + body + "\n")
}
