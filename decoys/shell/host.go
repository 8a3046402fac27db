package shell

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"
)

// cpuModel is one processor a cloud or KVM host commonly reports.
type cpuModel struct {
	vendor, name            string
	family, model, stepping int
	mhz                     string
	cache                   string
	bogomips                string
	flags                   string
}

const intelFlags = "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ss syscall nx pdpe1gb rdtscp lm constant_tsc arch_perfmon rep_good nopl xtopology cpuid tsc_known_freq pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand hypervisor lahf_lm abm 3dnowprefetch cpuid_fault invpcid_single pti ssbd ibrs ibpb stibp fsgsbase tsc_adjust bmi1 hle avx2 smep bmi2 erms invpcid rtm avx512f avx512dq rdseed adx smap clflushopt clwb avx512cd avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves arat pku ospke md_clear arch_capabilities"

const amdFlags = "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl nonstop_tsc cpuid extd_apicid tsc_known_freq pni pclmulqdq ssse3 fma cx16 sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand hypervisor lahf_lm cmp_legacy cr8_legacy abm sse4a misalignsse 3dnowprefetch osvw topoext perfctr_core invpcid_single ssbd ibrs ibpb stibp vmmcall fsgsbase bmi1 avx2 smep bmi2 rdseed adx smap clflushopt clwb sha_ni xsaveopt xsavec xgetbv1 clzero xsaveerptr wbnoinvd arat umip rdpid"

var cpuModels = []cpuModel{
	{"GenuineIntel", "Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz", 6, 85, 7, "2992.968", "36608 KB", "5985.93", intelFlags},
	{"GenuineIntel", "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz", 6, 85, 7, "2499.998", "36608 KB", "4999.99", intelFlags},
	{"GenuineIntel", "Intel Xeon Processor (Skylake, IBRS)", 6, 85, 4, "2095.076", "16384 KB", "4190.15", intelFlags},
	{"GenuineIntel", "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz", 6, 79, 1, "2399.996", "35840 KB", "4799.99", intelFlags},
	{"AuthenticAMD", "AMD EPYC 7571", 23, 1, 2, "2199.998", "512 KB", "4399.99", amdFlags},
	{"AuthenticAMD", "AMD EPYC 7B13", 25, 1, 0, "2449.998", "512 KB", "4899.99", amdFlags},
}

// host is the fixed state of one decky: everything an attacker can
// observe that a real host keeps between logins.
type host struct {
	persona  *osPersona
	hostname string
	kernel   kernelBuild
	cpu      cpuModel
	cpus     int
	memKiB   uint64
	diskKiB  uint64
	usedKiB  uint64
	boot     time.Time
	iface    string
	mac      [6]byte
	addr     netip.Addr
	bits     int
	gateway  netip.Addr
	// adminFrom is the address the decky's own administrator logs in
	// from, as w and last show it.
	adminFrom string
	pidBase   int
	installed time.Time
	seed      []byte
}

// derive returns 32 bytes bound to the seed and a label, so each value
// is independent of the others yet fixed for a decky.
func derive(seed []byte, label string) []byte {
	m := hmac.New(sha256.New, seed)
	m.Write([]byte("decnet shell " + label))
	return m.Sum(nil)
}

func pick(seed []byte, label string, n int) int {
	if n <= 0 {
		return 0
	}
	return int(binary.BigEndian.Uint64(derive(seed, label)) % uint64(n))
}

func newHost(cfg *Config, now time.Time) *host {
	seed := cfg.Seed
	h := &host{persona: personaFor(cfg.OS), seed: seed}
	h.hostname = cfg.Hostname
	if h.hostname == "" {
		h.hostname = fmt.Sprintf("srv%02d", 1+pick(seed, "hostname", 40))
	}
	h.kernel = h.persona.kernels[pick(seed, "kernel", len(h.persona.kernels))]
	h.cpu = cpuModels[pick(seed, "cpu", len(cpuModels))]
	h.cpus = []int{1, 2, 2, 4, 4, 8}[pick(seed, "cpus", 6)]

	// The kernel keeps some memory for itself, so MemTotal sits a few
	// percent under the configured size.
	gib := []uint64{1, 2, 2, 4, 4, 8, 16}[pick(seed, "mem", 7)]
	h.memKiB = gib*1024*1024 - gib*1024*uint64(22+pick(seed, "memres", 18))

	diskGB := []uint64{20, 25, 32, 40, 50, 80, 100}[pick(seed, "disk", 7)]
	h.diskKiB = diskGB * 1000 * 1000 * 1000 / 1024 * 96 / 100
	h.usedKiB = h.diskKiB * uint64(12+pick(seed, "diskused", 50)) / 100

	kdate, err := time.Parse("2006-01-02", h.kernel.date)
	if err != nil {
		kdate = now.AddDate(0, -3, 0)
	}
	h.boot = kdate.Add(time.Duration(86400+pick(seed, "boot", 20*86400)) * time.Second)
	if !h.boot.Before(now) {
		h.boot = now.Add(-time.Duration(3600+pick(seed, "uptime", 40*86400)) * time.Second)
	}
	h.installed = h.boot.AddDate(0, 0, -(30 + pick(seed, "installed", 300)))

	h.iface = []string{"eth0", "ens3", "ens18", "enp1s0", "ens5"}[pick(seed, "iface", 5)]
	ouis := [][3]byte{{0x52, 0x54, 0x00}, {0xfa, 0x16, 0x3e}, {0x00, 0x16, 0x3e}, {0xbc, 0x24, 0x11}}
	oui := ouis[pick(seed, "oui", len(ouis))]
	m := derive(seed, "mac")
	h.mac = [6]byte{oui[0], oui[1], oui[2], m[0], m[1], m[2]}

	// The address is a private one, used only as text in command output.
	a := derive(seed, "addr")
	switch pick(seed, "net", 3) {
	case 0:
		h.addr = netip.AddrFrom4([4]byte{10, a[0], a[1], 10 + a[2]%200})
		h.gateway = netip.AddrFrom4([4]byte{10, a[0], a[1], 1})
	case 1:
		h.addr = netip.AddrFrom4([4]byte{192, 168, a[0], 10 + a[2]%200})
		h.gateway = netip.AddrFrom4([4]byte{192, 168, a[0], 1})
	default:
		h.addr = netip.AddrFrom4([4]byte{172, 16 + a[0]%16, a[1], 10 + a[2]%200})
		h.gateway = netip.AddrFrom4([4]byte{172, 16 + a[0]%16, a[1], 1})
	}
	h.bits = 24
	h.adminFrom = netip.AddrFrom4([4]byte{10, a[3], a[4], 2 + a[5]%250}).String()
	h.pidBase = 400 + pick(seed, "pids", 300)
	return h
}

func (h *host) uptime(now time.Time) time.Duration {
	d := now.Sub(h.boot)
	if d < time.Minute {
		d = time.Minute
	}
	return d
}

// loadAvg is a low, slowly wandering load, as an idle server shows.
func (h *host) loadAvg(now time.Time) [3]float64 {
	slot := now.Unix() / 300
	b := derive(h.seed, fmt.Sprintf("load %d", slot))
	return [3]float64{float64(b[0]%40) / 100, float64(b[1]%30) / 100, float64(b[2]%25) / 100}
}

func (h *host) macString() string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", h.mac[0], h.mac[1], h.mac[2], h.mac[3], h.mac[4], h.mac[5])
}

// linkLocal is the EUI-64 address the kernel derives from the MAC.
func (h *host) linkLocal() string {
	return fmt.Sprintf("fe80::%x:%x:%x:%x", uint16(h.mac[0]^2)<<8|uint16(h.mac[1]), uint16(h.mac[2])<<8|0xff, 0xfe00|uint16(h.mac[3]), uint16(h.mac[4])<<8|uint16(h.mac[5]))
}

func (h *host) broadcast() string {
	b := h.addr.As4()
	b[3] = 255
	return netip.AddrFrom4(b).String()
}

func (h *host) network() string {
	p, _ := h.addr.Prefix(h.bits)
	return p.String()
}
