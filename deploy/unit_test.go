//go:build integration

package deploy_test

import (
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const unitPath = "systemd/decnet-agent.service"

// maxExposure is the highest `systemd-analyze security` exposure accepted
// for the unit. The unit scored 1.5 with systemd 252 (Debian 12); the
// margin leaves room for scoring changes in other systemd versions, not
// for weaker settings.
const maxExposure = 2.0

func systemdAnalyze(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatal("systemd-analyze not installed: run integration/setup.sh as root")
	}
	return path
}

// allowedVerifyLine matches the one diagnostic expected on a host without
// the agent installed: the ExecStart binary does not exist there.
var allowedVerifyLine = regexp.MustCompile(`^decnet-agent\.service: Command /usr/local/bin/decnet-agent is not executable: No such file or directory$`)

func TestUnitVerifies(t *testing.T) {
	out, err := exec.Command(systemdAnalyze(t), "verify", unitPath).CombinedOutput()
	var unexpected []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line != "" && !allowedVerifyLine.MatchString(line) {
			unexpected = append(unexpected, line)
		}
	}
	if len(unexpected) > 0 {
		t.Fatalf("systemd-analyze verify %s reported:\n%s", unitPath, strings.Join(unexpected, "\n"))
	}
	if err != nil && len(strings.TrimSpace(string(out))) == 0 {
		t.Fatalf("systemd-analyze verify failed without output: %v", err)
	}
}

var exposurePattern = regexp.MustCompile(`Overall exposure level for \S+: ([0-9]+(?:\.[0-9]+)?)`)

func TestUnitSecurityExposure(t *testing.T) {
	out, err := exec.Command(systemdAnalyze(t), "security", "--offline=true", unitPath).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := exposurePattern.FindSubmatch(out)
	if m == nil {
		t.Fatalf("no overall exposure level in the output:\n%s", out)
	}
	score, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("systemd-analyze security exposure of %s: %.1f", unitPath, score)
	if score > maxExposure {
		t.Errorf("exposure %.1f, want at most %.1f:\n%s", score, maxExposure, out)
	}
}
