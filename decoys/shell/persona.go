package shell

import (
	_ "embed"
	"strings"
)

// OS persona identifiers accepted in Config.OS.
const (
	OSDebian12   = "debian12"
	OSUbuntu2404 = "ubuntu2404"
)

// kernelBuild is one kernel the distribution shipped. A decky runs one of
// them, so that uname, /proc/version, /boot and the package list agree.
type kernelBuild struct {
	abi     string // "6.1.0-50-amd64"
	version string // package version, "6.1.176-1"
	date    string // build date as uname prints it
}

// osPersona holds what differs between the imitated distributions.
type osPersona struct {
	id         string
	osRelease  string
	issue      string
	issueNet   string
	debVersion string
	kernels    []kernelBuild
	// procVersion formats /proc/version for a kernel.
	procVersion func(k kernelBuild) string
	// unameVersion is the #... part of uname -v.
	unameVersion func(k kernelBuild) string
	// unameTail is what uname -a prints after the kernel version: the
	// machine, processor and platform fields that are known, and the OS.
	unameTail string
	packages  string // tab-separated name, version, arch, summary
	kernelPkg func(k kernelBuild) []pkg
	// notFoundBare selects Ubuntu's command-not-found handler wording,
	// which drops bash's "-bash: " prefix.
	notFoundBare bool
	motd         func(hostname string, k kernelBuild) string
	defaultUser  string
}

//go:embed data/debian12-packages.tsv
var debian12Packages string

//go:embed data/ubuntu2404-packages.tsv
var ubuntu2404Packages string

//go:embed data/debian12-bin.txt
var debian12Bin string

//go:embed data/debian12-sbin.txt
var debian12Sbin string

// debianKernels are bookworm's linux-image-6.1.0-N-amd64 builds with the
// dates their compile.h carries (from the linux-headers packages and the
// changelog of 6.1.192-3).
var debianKernels = []kernelBuild{
	{"6.1.0-47-amd64", "6.1.170-3", "2026-05-08"},
	{"6.1.0-48-amd64", "6.1.172-1", "2026-05-15"},
	{"6.1.0-49-amd64", "6.1.174-1", "2026-05-26"},
	{"6.1.0-50-amd64", "6.1.176-1", "2026-07-02"},
	{"6.1.0-51-amd64", "6.1.177-1", "2026-07-16"},
	{"6.1.0-52-amd64", "6.1.180-1", "2026-08-03"},
	{"6.1.0-53-amd64", "6.1.187-1", "2026-09-07"},
	{"6.1.0-54-amd64", "6.1.190-1", "2026-10-16"},
	{"6.1.0-55-amd64", "6.1.192-1", "2026-11-14"},
	{"6.1.0-56-amd64", "6.1.192-2", "2026-11-16"},
	{"6.1.0-57-amd64", "6.1.192-3", "2026-11-26"},
}

// ubuntuKernels are noble's linux-image-6.8.0-N-generic builds of
// late 2025 and 2026. Each ABI, upload number and build date is taken
// from a uname or /proc/version line of a real host. The package
// version is the ABI and upload number, as Ubuntu numbers its kernels.
var ubuntuKernels = []kernelBuild{
	{"6.8.0-86-generic", "6.8.0-86.87", "Mon Sep 22 18:03:36 UTC 2025"},
	{"6.8.0-90-generic", "6.8.0-90.91", "Tue Nov 18 14:14:30 UTC 2025"},
	{"6.8.0-101-generic", "6.8.0-101.101", "Mon Feb  9 10:15:05 UTC 2026"},
	{"6.8.0-117-generic", "6.8.0-117.117", "Tue May  5 19:26:24 UTC 2026"},
	{"6.8.0-124-generic", "6.8.0-124.124", "Tue May 26 13:00:45 UTC 2026"},
	{"6.8.0-136-generic", "6.8.0-136.136", "Wed Jul  1 21:53:05 UTC 2026"},
	{"6.8.0-138-generic", "6.8.0-138.138", "Fri Jul 31 22:41:49 UTC 2026"},
	{"6.8.0-142-generic", "6.8.0-142.142", "Wed Sep  2 14:24:27 UTC 2026"},
}

// ubuntuUpload is the upload number uname prints after "#": the part
// of the package version after the dot ("6.8.0-86.87" gives "87").
func ubuntuUpload(k kernelBuild) string {
	_, upload, _ := strings.Cut(k.version, ".0-")
	_, upload, _ = strings.Cut(upload, ".")
	return upload
}

const debianFreeSoftware = `
The programs included with the Debian GNU/Linux system are free software;
the exact distribution terms for each program are described in the
individual files in /usr/share/doc/*/copyright.

Debian GNU/Linux comes with ABSOLUTELY NO WARRANTY, to the extent
permitted by applicable law.
`

func personaFor(id string) *osPersona {
	switch id {
	case OSUbuntu2404:
		return ubuntuPersona()
	case OSBusyBox:
		return busyboxPersona()
	}
	return debianPersona()
}

func debianPersona() *osPersona {
	return &osPersona{
		id: OSDebian12,
		osRelease: `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
`,
		issue:      "Debian GNU/Linux 12 \\n \\l\n\n",
		issueNet:   "Debian GNU/Linux 12\n",
		debVersion: "12.15\n",
		kernels:    debianKernels,
		procVersion: func(k kernelBuild) string {
			return "Linux version " + k.abi + " (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian " + k.version + " (" + k.date + ")\n"
		},
		unameVersion: func(k kernelBuild) string {
			return "#1 SMP PREEMPT_DYNAMIC Debian " + k.version + " (" + k.date + ")"
		},
		unameTail: "x86_64 GNU/Linux",
		packages:  debian12Packages,
		kernelPkg: func(k kernelBuild) []pkg {
			return []pkg{
				{"linux-image-" + k.abi, k.version, "amd64", "Linux 6.1 for 64-bit PCs (signed)"},
				{"linux-image-amd64", k.version, "amd64", "Linux for 64-bit PCs (meta-package)"},
			}
		},
		motd: func(hostname string, k kernelBuild) string {
			return "Linux " + hostname + " " + k.abi + " #1 SMP PREEMPT_DYNAMIC Debian " + k.version + " (" + k.date + ") x86_64\n" + debianFreeSoftware
		},
		defaultUser: "debian",
	}
}

func ubuntuPersona() *osPersona {
	return &osPersona{
		id: OSUbuntu2404,
		osRelease: `PRETTY_NAME="Ubuntu 24.04.4 LTS"
NAME="Ubuntu"
VERSION_ID="24.04"
VERSION="24.04.4 LTS (Noble Numbat)"
VERSION_CODENAME=noble
ID=ubuntu
ID_LIKE=debian
HOME_URL="https://www.ubuntu.com/"
SUPPORT_URL="https://help.ubuntu.com/"
BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"
PRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"
UBUNTU_CODENAME=noble
LOGO=ubuntu-logo
`,
		issue:      "Ubuntu 24.04.4 LTS \\n \\l\n\n",
		issueNet:   "Ubuntu 24.04.4 LTS\n",
		debVersion: "trixie/sid\n",
		kernels:    ubuntuKernels,
		// The compiler and builder are those of 6.8.0-136's boot log;
		// NOTE: the builder host varies between builds and is not
		// known for the others.
		procVersion: func(k kernelBuild) string {
			return "Linux version " + k.abi + " (buildd@lcy02-amd64-041) (x86_64-linux-gnu-gcc-13 (Ubuntu 13.3.0-6ubuntu2~24.04.1) 13.3.0, GNU ld (GNU Binutils for Ubuntu) 2.42) #" + ubuntuUpload(k) + "-Ubuntu SMP PREEMPT_DYNAMIC " + k.date + "\n"
		},
		unameVersion: func(k kernelBuild) string {
			return "#" + ubuntuUpload(k) + "-Ubuntu SMP PREEMPT_DYNAMIC " + k.date
		},
		unameTail: "x86_64 x86_64 x86_64 GNU/Linux",
		packages:  ubuntu2404Packages,
		kernelPkg: func(k kernelBuild) []pkg {
			return []pkg{
				{"linux-image-" + k.abi, k.version, "amd64", "Signed kernel image generic"},
				{"linux-image-generic", k.version, "amd64", "Generic Linux kernel image"},
			}
		},
		notFoundBare: true,
		motd: func(hostname string, k kernelBuild) string {
			return "Welcome to Ubuntu 24.04.4 LTS (GNU/Linux " + k.abi + " x86_64)\n\n" +
				" * Documentation:  https://help.ubuntu.com\n" +
				" * Management:     https://landscape.canonical.com\n" +
				" * Support:        https://ubuntu.com/pro\n"
		},
		defaultUser: "ubuntu",
	}
}

// pkg is one row of the dpkg database. Multi-Arch: same packages carry
// their ":amd64" qualifier in name, as dpkg -l shows them.
type pkg struct {
	name, version, arch, summary string
}

func (p pkg) base() string {
	name, _, _ := strings.Cut(p.name, ":")
	return name
}

func (p *osPersona) packageList(k kernelBuild) []pkg {
	var out []pkg
	for line := range strings.SplitSeq(p.packages, "\n") {
		f := strings.SplitN(line, "\t", 4)
		if len(f) != 4 {
			continue
		}
		out = append(out, pkg{f[0], f[1], f[2], f[3]})
	}
	out = append(out, p.kernelPkg(k)...)
	sortPkgs(out)
	return out
}

func sortPkgs(ps []pkg) {
	// Insertion sort keeps this file free of a sort import for one call
	// on a few hundred rows.
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].base() < ps[j-1].base(); j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}
