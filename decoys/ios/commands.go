package ios

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// nop accepts a command the decoy lists but does not model.
// NOTE: the real router prints output for these (clear, debug,
// traceroute and the rest); the decoy prints nothing.
func nop(*CLI, *invocation) {}

// execNodes builds the EXEC command tree with IOS 15's help texts. Each
// session builds its own, because the handlers reach the trees through
// the session.
// NOTE: the tree holds the subset of 15.x EXEC commands seen in
// transcripts of several 15.x routers; a 2911 on 15.7(3)M5 lists more.
func execNodes() []*node {
	return []*node{
		{name: "access-enable", help: "Create a temporary Access-List entry", priv: 1, args: argAny, run: nop},
		{name: "access-profile", help: "Apply user-profile to interface", priv: 1, args: argAny, run: nop},
		{name: "clear", help: "Reset functions", priv: 1, args: argRequired, run: nop},
		{name: "clock", help: "Manage the system clock", priv: 15, args: argRequired, run: nop},
		{name: "configure", help: "Enter configuration mode", priv: 15, args: argAny, run: (*CLI).configure},
		{name: "connect", help: "Open a terminal connection", priv: 1, args: argRequired, run: (*CLI).connect},
		{name: "copy", help: "Copy from one file to another", priv: 15, args: argRequired, run: (*CLI).copyFile},
		{name: "crypto", help: "Encryption related commands.", priv: 1, args: argRequired, run: nop},
		{name: "debug", help: "Debugging functions (see also 'undebug')", priv: 15, args: argRequired, run: nop},
		{name: "delete", help: "Delete a file", priv: 15, args: argRequired, run: nop},
		{name: "dir", help: "List files on a filesystem", priv: 15, args: argAny, run: (*CLI).dir},
		{name: "disable", help: "Turn off privileged commands", priv: 1, args: argAny, run: func(c *CLI, _ *invocation) { c.mode = modeUser }},
		{name: "disconnect", help: "Disconnect an existing network connection", priv: 1, args: argAny, run: nop},
		{name: "enable", help: "Turn on privileged commands", priv: 1, args: argAny, run: (*CLI).enable},
		{name: "erase", help: "Erase a filesystem", priv: 15, args: argRequired, run: nop},
		{name: "exit", help: "Exit from the EXEC", priv: 1, run: (*CLI).logout},
		{name: "help", help: "Description of the interactive help system", priv: 1, run: (*CLI).helpText},
		{name: "lock", help: "Lock the terminal", priv: 1, run: nop},
		{name: "login", help: "Log in as a particular user", priv: 1, args: argAny, run: nop},
		{name: "logout", help: "Exit from the EXEC", priv: 1, run: (*CLI).logout},
		{name: "more", help: "Display the contents of a file", priv: 15, args: argRequired, run: nop},
		{name: "mrinfo", help: "Request neighbor and version information from a multicast\nrouter", priv: 1, args: argAny, run: nop},
		{name: "mstat", help: "Show statistics after multiple multicast traceroutes", priv: 1, args: argRequired, run: nop},
		{name: "mtrace", help: "Trace reverse multicast path from destination to source", priv: 1, args: argRequired, run: nop},
		{name: "name-connection", help: "Name an existing network connection", priv: 1, run: nop},
		{name: "ping", help: "Send echo messages", priv: 1, args: argRequired, argHelp: "WORD  Ping destination address or hostname", run: (*CLI).ping},
		{name: "quit", help: "Exit from the EXEC", priv: 1, hidden: true, run: (*CLI).logout},
		{name: "reload", help: "Halt and perform a cold restart", priv: 15, args: argAny, run: nop},
		{name: "resume", help: "Resume an active network connection", priv: 1, args: argAny, run: nop},
		{name: "rlogin", help: "Open an rlogin connection", priv: 1, args: argRequired, run: (*CLI).connect},
		{name: "set", help: "Set system parameter (not config)", priv: 1, args: argRequired, run: nop},
		{name: "show", help: "Show running system information", priv: 1, children: showNodes()},
		{name: "ssh", help: "Open a secure shell client connection", priv: 1, args: argRequired, run: (*CLI).connect},
		{name: "systat", help: "Display information about terminal lines", priv: 1, args: argAny, run: (*CLI).showUsers},
		{name: "telnet", help: "Open a telnet connection", priv: 1, args: argRequired, run: (*CLI).connect},
		{name: "terminal", help: "Set terminal line parameters", priv: 1, children: terminalNodes()},
		{name: "traceroute", help: "Trace route to destination", priv: 1, args: argRequired, run: nop},
		{name: "undebug", help: "Disable debugging functions (see also 'debug')", priv: 15, args: argRequired, run: nop},
		{name: "where", help: "List active connections", priv: 1, run: nop},
		{name: "write", help: "Write running configuration to memory, network, or terminal", priv: 15, args: argAny, run: (*CLI).writeConfig},
	}
}

func terminalNodes() []*node {
	return []*node{
		{name: "length", help: "Set number of lines on a screen", priv: 1, args: argRequired, argHelp: "<0-512>  Number of lines on screen (0 for no pausing)", run: (*CLI).terminalLength},
		{name: "monitor", help: "Copy debug output to the current terminal line", priv: 15, run: nop},
		{name: "width", help: "Set width of the display terminal", priv: 1, args: argRequired, argHelp: "<0-512>  Number of characters on a screen line", run: nop},
	}
}

func showNodes() []*node {
	return []*node{
		{name: "arp", help: "ARP table", priv: 1, run: (*CLI).showARP},
		{name: "clock", help: "Display the system clock", priv: 1, run: (*CLI).showClock},
		{name: "flash:", help: "display information about flash: file system", priv: 1, args: argAny, run: (*CLI).showFlash},
		{name: "flash0:", help: "display information about flash0: file system", priv: 1, args: argAny, run: (*CLI).showFlash},
		{name: "flash", help: "display information about flash: file system", priv: 1, hidden: true, args: argAny, run: (*CLI).showFlash},
		{name: "history", help: "Display the session command history", priv: 1, run: (*CLI).showHistory},
		{name: "interfaces", help: "Interface status and configuration", priv: 1, args: argAny, run: (*CLI).showInterfaces},
		{name: "inventory", help: "Show the physical inventory", priv: 1, run: (*CLI).showInventory},
		{name: "ip", help: "IP information", priv: 1, children: []*node{
			{name: "interface", help: "IP interface status and configuration", priv: 1, children: []*node{
				{name: "brief", help: "Brief summary of IP status and configuration", priv: 1, run: (*CLI).showIPInterfaceBrief},
			}},
			{name: "route", help: "IP routing table", priv: 1, args: argAny, run: (*CLI).showIPRoute},
		}},
		{name: "privilege", help: "Show current privilege level", priv: 1, run: func(c *CLI, _ *invocation) {
			c.print("Current privilege level is " + strconv.Itoa(c.priv()) + "\n")
		}},
		{name: "processes", help: "Active process statistics", priv: 1, run: (*CLI).showProcesses, children: []*node{
			{name: "cpu", help: "Show CPU use per process", priv: 1, args: argAny, run: (*CLI).showProcesses},
		}},
		{name: "running-config", help: "Current operating configuration", priv: 15, args: argAny, run: (*CLI).showRunning},
		{name: "startup-config", help: "Contents of startup configuration", priv: 15, run: (*CLI).showStartup},
		{name: "users", help: "Display information about terminal lines", priv: 1, args: argAny, run: (*CLI).showUsers},
		{name: "version", help: "System hardware and software status", priv: 1, run: (*CLI).showVersion},
	}
}

func (c *CLI) logout(*invocation) { c.ended = true }

// helpText is IOS's reply to "help".
func (c *CLI) helpText(*invocation) {
	c.print("Help may be requested at any point in a command by entering\n" +
		"a question mark '?'.  If nothing matches, the help list will\n" +
		"be empty and you must backup until entering a '?' shows the\n" +
		"available options.\n" +
		"Two styles of help are provided:\n" +
		"1. Full help is available when you are ready to enter a\n" +
		"   command argument (e.g. 'show ?') and describes each possible\n" +
		"   argument.\n" +
		"2. Partial help is provided when an abbreviated argument is entered\n" +
		"   and you want to know what arguments match the input\n" +
		"   (e.g. 'show pr?'.)\n\n")
}

// enable prompts for the enable secret up to three times. The login
// policy decides each password through Config.Enable.
func (c *CLI) enable(x *invocation) {
	if c.mode != modeUser {
		return
	}
	for range enableTries {
		pw, err := c.readLine("Password: ", false)
		if err != nil {
			c.exec.err = err
			return
		}
		if c.cfg.Enable != nil && c.cfg.Enable([]byte(pw)) {
			c.mode = modePriv
			return
		}
	}
	c.print("% Bad secrets\n\n")
}

// connect replies to telnet, ssh, rlogin and connect as when the host
// cannot be reached: a name fails to resolve, an address times out.
// NOTE: the real router waits for the timeouts; the decoy replies at
// once.
func (c *CLI) connect(x *invocation) {
	host := connectHost(x)
	if host == "" {
		c.print("% Incomplete command.\n\n")
		return
	}
	if _, err := netip.ParseAddr(host); err == nil {
		c.print("Trying " + host + " ... \n% Connection timed out; remote host not responding\n\n")
		return
	}
	c.print("Translating \"" + host + "\"...domain server (255.255.255.255)\n% Bad IP address or host name\n")
}

// connectHost is the host of a connect command: for ssh the first word
// that is neither an option nor an option's value.
func connectHost(x *invocation) string {
	args := wordsText(x.args)
	if x.node.name != "ssh" {
		return args[0]
	}
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "-l", "-c", "-m", "-p", "-o", "-vrf", "-dscp", "-source-interface":
			i++
		case "-v", "-v1", "-v2":
		default:
			return args[i]
		}
	}
	return ""
}

// ping prints what IOS prints when no reply comes back: a dot per probe
// after its timeout. Nothing is sent.
func (c *CLI) ping(x *invocation) {
	target := x.args[0].text
	addr, err := netip.ParseAddr(target)
	if err != nil || !addr.Is4() {
		c.print("Translating \"" + target + "\"...domain server (255.255.255.255)\n% Unrecognized host or address, or protocol not running.\n\n")
		return
	}
	c.print("Type escape sequence to abort.\nSending 5, 100-byte ICMP Echos to " + addr.String() + ", timeout is 2 seconds:\n")
	for range 5 {
		if err := c.sleep(c.exec.ctx, pingTimeout); err != nil {
			c.exec.err = err
			return
		}
		c.print(".")
	}
	c.print("\nSuccess rate is 0 percent (0/5)\n")
}

func (c *CLI) terminalLength(x *invocation) {
	n, err := strconv.Atoi(x.args[0].text)
	if err != nil || n < 0 || n > 512 {
		c.exec.err = c.invalid(len(c.prompt()) + x.args[0].col)
		return
	}
	c.length.Store(int32(n)) //nolint:gosec // G115: at most 512
}

// configure enters configuration mode from the terminal.
func (c *CLI) configure(x *invocation) {
	if len(x.args) == 0 {
		answer, err := c.readLine("Configuring from terminal, memory, or network [terminal]? ", true)
		if err != nil {
			c.exec.err = err
			return
		}
		if a := strings.TrimSpace(answer); a != "" && !strings.HasPrefix("terminal", strings.ToLower(a)) {
			c.print("?Must be \"terminal\", \"memory\" or \"network\"\n")
			return
		}
	} else if !strings.HasPrefix("terminal", strings.ToLower(x.args[0].text)) || len(x.args) > 1 {
		bad := x.args[0]
		if len(x.args) > 1 && strings.HasPrefix("terminal", strings.ToLower(bad.text)) {
			bad = x.args[1]
		}
		c.exec.err = c.invalid(len(c.prompt()) + bad.col)
		return
	}
	c.print("Enter configuration commands, one per line.  End with CNTL/Z.\n")
	c.mode = modeConfig
}

// remoteSchemes are the file systems copy reads over the network.
var remoteSchemes = []string{"tftp:", "ftp:", "http:", "https:", "scp:", "rcp:"}

// maxURLBytes caps the URL reported for a copy from the network.
const maxURLBytes = 2048

// copyFile replies to copy as IOS does, without changing anything. A
// copy from the network is reported through Config.OnDownload and then
// times out; nothing is fetched.
func (c *CLI) copyFile(x *invocation) {
	if len(x.args) < 2 {
		c.print("% Incomplete command.\n\n")
		return
	}
	src, dst := strings.ToLower(x.args[0].text), strings.ToLower(x.args[1].text)
	name := dst
	if strings.HasPrefix("startup-config", dst) {
		name = "startup-config"
	} else if i := strings.LastIndexAny(dst, ":/"); i >= 0 && i < len(dst)-1 {
		name = dst[i+1:]
	}
	if strings.HasPrefix("running-config", src) || src == "system:running-config" {
		if _, err := c.readLine("Destination filename ["+name+"]? ", true); err != nil {
			c.exec.err = err
			return
		}
		c.print("Building configuration...\n[OK]\n")
		return
	}
	scheme := ""
	for _, s := range remoteSchemes {
		if strings.HasPrefix(src, s) {
			scheme = s
		}
	}
	if scheme == "" {
		c.print("%Error opening " + x.args[0].text + " (No such file or directory)\n")
		return
	}
	url := x.args[0].text
	if !strings.Contains(src, "://") {
		// "copy tftp: flash:" prompts for the parts of the URL.
		host, err := c.readLine("Address or name of remote host []? ", true)
		if err != nil {
			c.exec.err = err
			return
		}
		file, err := c.readLine("Source filename []? ", true)
		if err != nil {
			c.exec.err = err
			return
		}
		url = strings.TrimSuffix(scheme, ":") + "://" + strings.TrimSpace(host) + "/" + strings.TrimPrefix(strings.TrimSpace(file), "/")
	}
	if c.cfg.OnDownload != nil {
		report := url
		if len(report) > maxURLBytes {
			report = report[:maxURLBytes]
		}
		c.cfg.OnDownload(report)
	}
	file := url[strings.LastIndex(url, "/")+1:]
	if _, err := c.readLine("Destination filename ["+file+"]? ", true); err != nil {
		c.exec.err = err
		return
	}
	// NOTE: the error text is the one of a TFTP transfer that times
	// out; other protocols may word it differently.
	c.print("Accessing " + url + "...\n%Error opening " + url + " (Timed out)\n")
}

// writeConfig reports a save without doing it, so the startup
// configuration stays the decky's.
func (c *CLI) writeConfig(x *invocation) {
	sub := "memory"
	if len(x.args) > 0 {
		sub = strings.ToLower(x.args[0].text)
	}
	switch {
	case strings.HasPrefix("memory", sub), strings.HasPrefix("network", sub) && len(sub) > 0 && sub[0] == 'n':
		c.print("Building configuration...\n[OK]\n")
	case strings.HasPrefix("terminal", sub):
		c.showRunning(x)
	case strings.HasPrefix("erase", sub):
		if _, err := c.readLine("Erasing the nvram filesystem will remove all configuration files! Continue? [confirm]", true); err != nil {
			c.exec.err = err
			return
		}
		c.print("[OK]\nErase of nvram: complete\n")
	default:
		c.exec.err = c.invalid(len(c.prompt()) + x.args[0].col)
	}
}

// uptime is the time since the last reload.
func (c *CLI) uptime() time.Duration {
	return c.now().Sub(c.dev.boot)
}

// exportNotice is the cryptography paragraph of every k9 image's show
// version.
const exportNotice = "This product contains cryptographic features and is subject to United\n" +
	"States and local country laws governing import, export, transfer and\n" +
	"use. Delivery of Cisco cryptographic products does not imply\n" +
	"third-party authority to import, export, distribute or use encryption.\n" +
	"Importers, exporters, distributors and users are responsible for\n" +
	"compliance with U.S. and local country laws. By using this product you\n" +
	"agree to comply with applicable laws and regulations. If you are unable\n" +
	"to comply with U.S. and local laws, return this product immediately.\n\n" +
	"A summary of U.S. laws governing Cisco cryptographic products may be found at:\n" +
	"http://www.cisco.com/wwl/export/crypto/tool/stqrg.html\n\n" +
	"If you require further assistance please contact us by sending email to\n" +
	"export@cisco.com.\n"

func (c *CLI) showVersion(*invocation) {
	d := c.dev
	var b strings.Builder
	b.WriteString(versionBanner)
	// NOTE: the ROMMON release is the one ISR G2 transcripts of 15.x
	// images show most; a given router may carry another.
	b.WriteString("\nROM: System Bootstrap, Version 15.0(1r)M16, RELEASE SOFTWARE (fc1)\n\n")
	b.WriteString(c.hostname + " uptime is " + formatUptime(c.uptime()) + "\n")
	b.WriteString("System returned to ROM by power-on\n")
	b.WriteString("System restarted at " + iosTime(d.boot) + "\n")
	b.WriteString("System image file is \"flash0:" + imageName + "\"\n")
	b.WriteString("Last reload type: Normal Reload\nLast reload reason: power-on\n\n\n\n")
	b.WriteString(exportNotice + "\n")
	// 512 MB of DRAM less the I/O memory smart init sizes for the
	// onboard devices (36 MB in a 2911 boot log).
	b.WriteString("Cisco " + Model + " (revision 1.0) with 487424K/36864K bytes of memory.\n")
	b.WriteString("Processor board ID " + d.serial + "\n")
	b.WriteString("3 Gigabit Ethernet interfaces\n1 terminal line\n1 Virtual Private Network (VPN) Module\n")
	b.WriteString("DRAM configuration is 64 bits wide with parity disabled.\n")
	b.WriteString("255K bytes of non-volatile configuration memory.\n")
	b.WriteString("250880K bytes of ATA System CompactFlash 0 (Read/Write)\n\n\n")
	b.WriteString("License Info:\n\nLicense UDI:\n\n")
	b.WriteString("-------------------------------------------------\n")
	b.WriteString("Device#   PID                   SN\n")
	b.WriteString("-------------------------------------------------\n")
	fmt.Fprintf(&b, "*0        %-22s%s\n\n\n\n", Model, d.serial)
	b.WriteString("Technology Package License Information for Module:'c2900' \n\n")
	b.WriteString("-----------------------------------------------------------------\n")
	b.WriteString("Technology    Technology-package           Technology-package\n")
	b.WriteString("              Current       Type           Next reboot  \n")
	b.WriteString("------------------------------------------------------------------\n")
	b.WriteString("ipbase        ipbasek9      Permanent      ipbasek9\n")
	b.WriteString("security      securityk9    Permanent      securityk9\n")
	b.WriteString("uc            None          None           None\n")
	b.WriteString("data          None          None           None\n\n")
	b.WriteString("Configuration register is 0x2102\n\n")
	c.print(b.String())
}

// showClock prints the calendar time. The leading asterisk marks the
// clock as not synchronised, because no NTP server is configured.
func (c *CLI) showClock(*invocation) {
	t := c.now().UTC()
	c.print("*" + t.Format("15:04:05.000 MST Mon Jan 2 2006") + "\n")
}

func (c *CLI) showHistory(*invocation) {
	var b strings.Builder
	for _, h := range c.history {
		b.WriteString("  " + h + "\n")
	}
	c.print(b.String())
}

// vtyLine is the absolute line number of vty 0: con 0, aux 0 and the
// Embedded-Service-Engine's line 2 come first.
// NOTE: inferred from the configuration's "line 2"; not seen in a
// show users transcript of a 2911.
const vtyLine = 3

func (c *CLI) showUsers(*invocation) {
	user := c.cfg.User
	if len(user) > 10 {
		user = user[:10]
	}
	c.print("    Line       User       Host(s)              Idle       Location\n" +
		fmt.Sprintf("*%3d vty 0     %-10s idle                 00:00:00   %s\n", vtyLine, user, c.cfg.Source) +
		"\n  Interface    User               Mode         Idle     Peer Address\n\n")
}

// showInventory lists the chassis and its power supply.
// NOTE: the power supply's name, PID and both VIDs are estimated.
func (c *CLI) showInventory(*invocation) {
	d := c.dev
	c.print("NAME: \"CISCO2911/K9 chassis\", DESCR: \"CISCO2911/K9 chassis\"\n" +
		"PID: CISCO2911/K9      , VID: V06 , SN: " + d.serial + "\n\n" +
		"NAME: \"C2911 AC Power Supply\", DESCR: \"C2911 AC Power Supply\"\n" +
		"PID: PWR-2911-AC       , VID: V02 , SN: " + d.psSerial + "\n\n\n")
}

// flashFile is one file of the CompactFlash.
type flashFile struct {
	name string
	size int
	// age is how long before the image date it was written.
	age time.Duration
}

// flashFiles are the image and the files a 2900 leaves the factory with.
// NOTE: the sizes of the factory files are estimated.
var flashFiles = []flashFile{
	{imageName, imageSize, 0},
	{"cpconfig-29xx.cfg", 3000, 400 * 24 * time.Hour},
	{"cpexpress.tar", 1038848, 400 * 24 * time.Hour},
	{"home.shtml", 1823, 400 * 24 * time.Hour},
	{"home.tar", 112640, 400 * 24 * time.Hour},
	{"securedesktop-ios-3.1.1.45-k9.pkg", 1697952, 400 * 24 * time.Hour},
	{"sslclient-win-1.1.4.176.pkg", 415956, 400 * 24 * time.Hour},
}

func flashUsed() int {
	used := 0
	for _, f := range flashFiles {
		// The file system allocates whole 4 KiB clusters.
		used += (f.size + 4095) / 4096 * 4096
	}
	return used
}

// showFlash prints the ISR G2 flash listing.
// NOTE: the layout is the one of ISR G2 transcripts of other releases.
func (c *CLI) showFlash(*invocation) {
	var b strings.Builder
	b.WriteString("-#- --length-- -----date/time------ path\n")
	for i, f := range flashFiles {
		t := c.dev.imageDate.Add(-f.age).UTC()
		fmt.Fprintf(&b, "%-4d%10d %s %s\n", i+1, f.size, t.Format("Jan 02 2006 15:04:05 -07:00"), f.name)
	}
	fmt.Fprintf(&b, "\n%d bytes available (%d bytes used)\n\n", flashTotal-flashUsed(), flashUsed())
	c.print(b.String())
}

// dir lists the CompactFlash in the column widths of an IOS dir
// transcript.
func (c *CLI) dir(x *invocation) {
	fs := "flash0:"
	if len(x.args) > 0 {
		fs = strings.ToLower(x.args[0].text)
		if fs != "flash:" && fs != "flash0:" && fs != "flash0:/" && fs != "flash:/" {
			c.print("%Error opening " + x.args[0].text + " (No such file or directory)\n")
			return
		}
		fs = "flash0:"
	}
	var b strings.Builder
	b.WriteString("Directory of " + fs + "/\n\n")
	for i, f := range flashFiles {
		t := c.dev.imageDate.Add(-f.age).UTC()
		fmt.Fprintf(&b, "%5d  -rw-%17d  %27s  %s\n", i+1, f.size, t.Format("Jan 2 2006 15:04:05 -07:00"), f.name)
	}
	fmt.Fprintf(&b, "\n%d bytes total (%d bytes free)\n", flashTotal, flashTotal-flashUsed())
	c.print(b.String())
}

// processes are the first processes of IOS 15's process table.
var processes = []string{
	"Chunk Manager", "Load Meter", "SpanTree Helper", "Retransmission o", "IPC ISSU Dispatc",
	"RF Slave Main Th", "EDDRI_MAIN", "RO Notify Timers", "Check heaps", "Pool Manager",
	"DiscardQ Backgro", "Timers", "WATCH_AFS", "MEMLEAK PROCESS", "ARP Input",
}

// showProcesses prints the CPU line and the head of the process table,
// in the column widths of an IOS 15 transcript.
// NOTE: the table stops after the first processes; the real one lists
// a few hundred.
func (c *CLI) showProcesses(*invocation) {
	now := c.now()
	slot := fmt.Sprint(now.Unix() / 60)
	five := 1 + pick(c.dev.seed, "cpu5s "+slot, 4)
	var b strings.Builder
	fmt.Fprintf(&b, "CPU utilization for five seconds: %d%%/0%%; one minute: %d%%; five minutes: %d%%\n", five, 1+pick(c.dev.seed, "cpu1m "+slot, 3), 1+pick(c.dev.seed, "cpu5m", 2))
	b.WriteString(" PID Runtime(ms)   Invoked      uSecs   5Sec   1Min   5Min TTY Process\n")
	secs := uint64(max(1, c.uptime()/time.Second))
	for i, name := range processes {
		invoked := secs/uint64(1+pick(c.dev.seed, "invoked "+name, 40)) + uint64(i) //nolint:gosec // G115: small index
		usecs := uint64(pick(c.dev.seed, "usecs "+name, 60))                        //nolint:gosec // G115: pick is never negative
		runtime := invoked * usecs / 1000
		fmt.Fprintf(&b, "%4d%12d%10d%11d  0.00%%  0.00%%  0.00%%   0 %s\n", i+1, runtime, invoked, usecs, name)
	}
	c.print(b.String())
}

// showARP lists the router's own addresses and its gateway.
func (c *CLI) showARP(*invocation) {
	var b strings.Builder
	b.WriteString("Protocol  Address          Age (min)  Hardware Addr   Type   Interface\n")
	gw := c.dev.derivedMAC("gateway")
	fmt.Fprintf(&b, "Internet  %-15s  %9d   %s  ARPA   GigabitEthernet0/0\n", c.dev.gateway, pick(c.dev.seed, "arp age "+fmt.Sprint(c.now().Unix()/60), 4), macDotted(gw))
	for _, i := range c.cfgState.ifaces {
		if i.addr.IsValid() {
			fmt.Fprintf(&b, "Internet  %-15s  %9s   %s  ARPA   %s\n", i.addr.Addr(), "-", macDotted(i.mac), i.name)
		}
	}
	c.print(b.String())
}

// derivedMAC is a neighbour's address: the upstream router is a Cisco
// too.
func (d *device) derivedMAC(label string) [6]byte {
	m := derive(d.seed, "neighbour "+label)
	oui := ciscoOUIs[int(m[3])%len(ciscoOUIs)]
	return [6]byte{oui[0], oui[1], oui[2], m[0], m[1], m[2]}
}

// showIPRoute prints the routing table: the default route and the
// connected and local routes of the addressed interfaces.
func (c *CLI) showIPRoute(*invocation) {
	var b strings.Builder
	b.WriteString("Codes: L - local, C - connected, S - static, R - RIP, M - mobile, B - BGP\n" +
		"       D - EIGRP, EX - EIGRP external, O - OSPF, IA - OSPF inter area \n" +
		"       N1 - OSPF NSSA external type 1, N2 - OSPF NSSA external type 2\n" +
		"       E1 - OSPF external type 1, E2 - OSPF external type 2\n" +
		"       i - IS-IS, su - IS-IS summary, L1 - IS-IS level-1, L2 - IS-IS level-2\n" +
		"       ia - IS-IS inter area, * - candidate default, U - per-user static route\n" +
		"       o - ODR, P - periodic downloaded static route, H - NHRP, l - LISP\n" +
		"       a - application route\n" +
		"       + - replicated route, % - next hop override, p - overrides from PfR\n\n")
	b.WriteString("Gateway of last resort is " + c.dev.gateway.String() + " to network 0.0.0.0\n\n")
	b.WriteString("S*    0.0.0.0/0 [1/0] via " + c.dev.gateway.String() + "\n")
	for _, i := range c.cfgState.ifaces {
		if !i.addr.IsValid() || i.shutdown {
			continue
		}
		p := i.addr.Masked()
		fmt.Fprintf(&b, "      %s is variably subnetted, 2 subnets, 2 masks\n", classful(p.Addr()))
		fmt.Fprintf(&b, "C        %s is directly connected, %s\n", p, i.name)
		fmt.Fprintf(&b, "L        %s/32 is directly connected, %s\n", i.addr.Addr(), i.name)
	}
	c.print(b.String())
}

// classful is the class A, B or C network of an address, under which
// IOS groups the subnets of show ip route.
func classful(a netip.Addr) netip.Prefix {
	bits := 24
	switch first := a.As4()[0]; {
	case first < 128:
		bits = 8
	case first < 192:
		bits = 16
	}
	p, _ := a.Prefix(bits)
	return p
}

// status is an interface's state as show commands print it.
func (i *ifaceConf) status() (link, protocol string) {
	switch {
	case i.shutdown:
		return "administratively down", "down"
	case !i.cabled:
		return "down", "down"
	}
	return "up", "up"
}

func (c *CLI) showIPInterfaceBrief(*invocation) {
	var b strings.Builder
	b.WriteString("Interface                  IP-Address      OK? Method Status                Protocol\n")
	for _, i := range c.cfgState.ifaces {
		addr, method := "unassigned", "NVRAM"
		if i.addr.IsValid() {
			addr = i.addr.Addr().String()
		}
		if i.manual {
			method = "manual"
		}
		link, proto := i.status()
		fmt.Fprintf(&b, "%-27s%-16sYES %-7s%-22s%s\n", i.name, addr, method, link, proto)
	}
	c.print(b.String())
}

// showInterfaces prints the status of every interface, or of the one
// named.
func (c *CLI) showInterfaces(x *invocation) {
	list := c.cfgState.ifaces
	if len(x.args) > 0 {
		name, err := normalizeInterface(strings.Join(wordsText(x.args), ""))
		i := c.cfgState.iface(name)
		if err != nil || i == nil {
			c.exec.err = c.invalid(len(c.prompt()) + x.args[0].col)
			return
		}
		list = []*ifaceConf{i}
	}
	var b strings.Builder
	for _, i := range list {
		c.interfaceBlock(&b, i)
	}
	c.print(b.String())
}

func wordsText(ws []word) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.text
	}
	return out
}

// interfaceBlock writes the show interfaces block of one interface.
// NOTE: the layout follows ISR G2 transcripts of 15.x; the counters are
// per-decky values that grow with the uptime, not measured traffic.
func (c *CLI) interfaceBlock(b *strings.Builder, i *ifaceConf) {
	now := c.now()
	link, proto := i.status()
	fmt.Fprintf(b, "%s is %s, line protocol is %s \n", i.name, link, proto)
	hw := "CN Gigabit Ethernet"
	if i.kind == kindESE {
		hw = "Embedded Service Engine"
	}
	if i.kind == kindLoopback {
		b.WriteString("  Hardware is Loopback\n")
	} else {
		fmt.Fprintf(b, "  Hardware is %s, address is %s (bia %s)\n", hw, macDotted(i.mac), macDotted(i.mac))
	}
	if i.desc != "" {
		b.WriteString("  Description: " + i.desc + "\n")
	}
	if i.addr.IsValid() {
		fmt.Fprintf(b, "  Internet address is %s\n", i.addr)
	}
	bw, dly := "1000000", "10"
	if i.kind == kindLoopback {
		bw, dly = "8000000", "5000"
	}
	fmt.Fprintf(b, "  MTU 1500 bytes, BW %s Kbit/sec, DLY %s usec, \n     reliability 255/255, txload 1/255, rxload 1/255\n", bw, dly)
	if i.kind == kindLoopback {
		b.WriteString("  Encapsulation LOOPBACK, loopback not set\n  Keepalive set (10 sec)\n")
	} else {
		b.WriteString("  Encapsulation ARPA, loopback not set\n  Keepalive set (10 sec)\n")
	}
	if i.kind == kindGig {
		if link == "up" {
			b.WriteString("  Full Duplex, 1Gbps, media type is RJ45\n")
		} else {
			b.WriteString("  Auto Duplex, Auto Speed, media type is RJ45\n")
		}
		b.WriteString("  output flow-control is unsupported, input flow-control is unsupported\n")
		b.WriteString("  ARP type: ARPA, ARP Timeout 04:00:00\n")
	}
	var inPk, inBy, outPk, outBy uint64
	last := "never"
	if link == "up" {
		inPk = c.dev.counter("in pk "+i.name, now, 40)
		inBy = inPk * uint64(300+pick(c.dev.seed, "in size "+i.name, 600)) //nolint:gosec // G115: pick is never negative
		outPk = c.dev.counter("out pk "+i.name, now, 30)
		outBy = outPk * uint64(200+pick(c.dev.seed, "out size "+i.name, 500)) //nolint:gosec // G115: pick is never negative
		last = "00:00:00"
	}
	fmt.Fprintf(b, "  Last input %s, output %s, output hang never\n", last, last)
	b.WriteString("  Last clearing of \"show interface\" counters never\n")
	b.WriteString("  Input queue: 0/75/0/0 (size/max/drops/flushes); Total output drops: 0\n")
	b.WriteString("  Queueing strategy: fifo\n  Output queue: 0/40 (size/max)\n")
	rateIn, rateOut := 0, 0
	if link == "up" {
		rateIn = 1000 * (1 + pick(c.dev.seed, "rate in "+i.name+fmt.Sprint(now.Unix()/300), 30))
		rateOut = 1000 * (1 + pick(c.dev.seed, "rate out "+i.name+fmt.Sprint(now.Unix()/300), 20))
	}
	fmt.Fprintf(b, "  5 minute input rate %d bits/sec, %d packets/sec\n", rateIn, rateIn/4000)
	fmt.Fprintf(b, "  5 minute output rate %d bits/sec, %d packets/sec\n", rateOut, rateOut/4000)
	fmt.Fprintf(b, "     %d packets input, %d bytes, 0 no buffer\n", inPk, inBy)
	fmt.Fprintf(b, "     Received %d broadcasts (0 IP multicasts)\n", inPk/50)
	b.WriteString("     0 runts, 0 giants, 0 throttles \n     0 input errors, 0 CRC, 0 frame, 0 overrun, 0 ignored\n")
	fmt.Fprintf(b, "     0 watchdog, %d multicast, 0 pause input\n", inPk/80)
	fmt.Fprintf(b, "     %d packets output, %d bytes, 0 underruns\n", outPk, outBy)
	b.WriteString("     0 output errors, 0 collisions, 1 interface resets\n     0 unknown protocol drops\n")
	b.WriteString("     0 babbles, 0 late collision, 0 deferred\n     0 lost carrier, 0 no carrier, 0 pause output\n")
	b.WriteString("     0 output buffer failures, 0 output buffers swapped out\n")
}
