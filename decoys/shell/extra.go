package shell

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// progLscpu prints lscpu's flat layout, which it uses off a terminal.
// NOTE: on a terminal util-linux 2.38 indents the fields as a tree; the
// emulation prints the flat layout everywhere.
func progLscpu(sh *Shell, c *call) int {
	h := sh.host
	cpu := h.cpu
	list := "0"
	if h.cpus > 1 {
		list = "0-" + strconv.Itoa(h.cpus-1)
	}
	intel := cpu.vendor == "GenuineIntel"
	rows := [][2]string{
		{"Architecture", "x86_64"},
		{"CPU op-mode(s)", "32-bit, 64-bit"},
		{"Address sizes", "40 bits physical, 48 bits virtual"},
		{"Byte Order", "Little Endian"},
		{"CPU(s)", strconv.Itoa(h.cpus)},
		{"On-line CPU(s) list", list},
		{"Vendor ID", cpu.vendor},
		{"Model name", cpu.name},
		{"CPU family", strconv.Itoa(cpu.family)},
		{"Model", strconv.Itoa(cpu.model)},
		{"Thread(s) per core", "1"},
		{"Core(s) per socket", strconv.Itoa(h.cpus)},
		{"Socket(s)", "1"},
		{"Stepping", strconv.Itoa(cpu.stepping)},
		{"BogoMIPS", cpu.bogomips},
		{"Flags", cpu.flags},
		{"Hypervisor vendor", "KVM"},
		{"Virtualization type", "full"},
		{"L1d cache", fmt.Sprintf("%d KiB (%d instances)", 32*h.cpus, h.cpus)},
		{"L1i cache", fmt.Sprintf("%d KiB (%d instances)", 32*h.cpus, h.cpus)},
		{"L2 cache", fmt.Sprintf("%d MiB (%d instances)", h.cpus, h.cpus)},
		{"L3 cache", cpu.cache[:strings.IndexByte(cpu.cache, ' ')] + " KiB (1 instance)"},
		{"NUMA node(s)", "1"},
		{"NUMA node0 CPU(s)", list},
	}
	vuln := map[bool][][2]string{
		true:  {{"Gather data sampling", "Unknown: Dependent on hypervisor status"}, {"Itlb multihit", "Not affected"}, {"L1tf", "Mitigation; PTE Inversion"}, {"Mds", "Mitigation; Clear CPU buffers; SMT Host state unknown"}, {"Meltdown", "Mitigation; PTI"}, {"Mmio stale data", "Mitigation; Clear CPU buffers; SMT Host state unknown"}, {"Reg file data sampling", "Not affected"}, {"Retbleed", "Mitigation; IBRS"}, {"Spec rstack overflow", "Not affected"}, {"Spec store bypass", "Mitigation; Speculative Store Bypass disabled via prctl"}, {"Spectre v1", "Mitigation; usercopy/swapgs barriers and __user pointer sanitization"}, {"Spectre v2", "Mitigation; IBRS; IBPB conditional; STIBP disabled; RSB filling; PBRSB-eIBRS Not affected; BHI SW loop, KVM SW loop"}, {"Srbds", "Not affected"}, {"Tsx async abort", "Mitigation; Clear CPU buffers; SMT Host state unknown"}},
		false: {{"Gather data sampling", "Not affected"}, {"Itlb multihit", "Not affected"}, {"L1tf", "Not affected"}, {"Mds", "Not affected"}, {"Meltdown", "Not affected"}, {"Mmio stale data", "Not affected"}, {"Reg file data sampling", "Not affected"}, {"Retbleed", "Mitigation; untrained return thunk; SMT disabled"}, {"Spec rstack overflow", "Mitigation; SMT disabled"}, {"Spec store bypass", "Mitigation; Speculative Store Bypass disabled via prctl"}, {"Spectre v1", "Mitigation; usercopy/swapgs barriers and __user pointer sanitization"}, {"Spectre v2", "Mitigation; Retpolines; IBPB conditional; STIBP disabled; RSB filling; PBRSB-eIBRS Not affected; BHI Not affected"}, {"Srbds", "Not affected"}, {"Tsx async abort", "Not affected"}},
	}
	for _, v := range vuln[intel] {
		rows = append(rows, [2]string{"Vulnerability " + v[0], v[1]})
	}
	width := 0
	for _, r := range rows {
		width = max(width, len(r[0])+1)
	}
	for _, r := range rows {
		fprintf(c.out, "%-*s %s\n", width, r[0]+":", r[1])
	}
	return 0
}

// progBase64 encodes or decodes as coreutils base64 does, so that a
// decoded script piped into sh runs in the emulation.
func progBase64(sh *Shell, c *call) int {
	decode := false
	var files []string
	for _, a := range c.args {
		switch a {
		case "-d", "--decode", "-di", "-id":
			decode = true
		case "-w0", "-i", "--ignore-garbage":
		default:
			if !strings.HasPrefix(a, "-") {
				files = append(files, a)
			}
		}
	}
	text, status := sh.input(c, files)
	if status != 0 {
		return status
	}
	if !decode {
		enc := base64.StdEncoding.EncodeToString([]byte(text))
		for len(enc) > 76 {
			fprintln(c.out, enc[:76])
			enc = enc[76:]
		}
		fprintln(c.out, enc)
		return 0
	}
	clean := strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, text)
	data, err := base64.StdEncoding.DecodeString(clean)
	if err != nil {
		data, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(clean, "="))
	}
	write(c.out, data)
	if err != nil {
		fprint(c.err, "base64: invalid input\n")
		return 1
	}
	return 0
}

// reportTftp records what a tftp command asked for. Debian does not
// install a tftp client, so the command then fails as a missing one.
func (sh *Shell) reportTftp(c *call) {
	var host, file string
	for i := 0; i < len(c.args); i++ {
		a := c.args[i]
		switch {
		case (a == "-r" || a == "-l") && i+1 < len(c.args):
			i++
			if a == "-r" || file == "" {
				file = c.args[i]
			}
		case a == "-c" && i+2 < len(c.args):
			file = c.args[i+2]
			i += 2
		case strings.HasPrefix(a, "-"):
		case host == "":
			host = a
		}
	}
	if host == "" {
		return
	}
	raw := "tftp://" + host + "/" + strings.TrimPrefix(file, "/")
	if len(raw) > maxURLBytes {
		raw = raw[:maxURLBytes]
	}
	if sh.cfg.OnDownload != nil {
		sh.cfg.OnDownload(&eventv1.DownloadRequested{Url: raw, Tool: "tftp", Outcome: "not_fetched"})
	}
}
