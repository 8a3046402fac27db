package ios

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// The emulated product. Every text that names it must agree with these:
// show version, show inventory, the flash listing and the configuration.
const (
	// Release names the IOS release of the persona.
	Release = "15.7(3)M5"
	// Model is the chassis product id.
	Model = "CISCO2911/K9"

	imageName = "c2900-universalk9-mz.SPA.157-3.M5.bin"
	// versionBanner is the first block of show version. The compile
	// line is the one a Cisco 2901 on 15.7(3)M5 reports in a CDP
	// transcript.
	versionBanner = "Cisco IOS Software, C2900 Software (C2900-UNIVERSALK9-M), Version " + Release + ", RELEASE SOFTWARE (fc1)\n" +
		"Technical Support: http://www.cisco.com/techsupport\n" +
		"Copyright (c) 1986-2019 by Cisco Systems, Inc.\n" +
		"Compiled Fri 27-Sep-19 05:10 by prod_rel_team\n"
	// imageSize is the size of the image file in flash.
	// NOTE: estimated; 15.7(3)M universal images for the 2900 series
	// are about 110 MB.
	imageSize = 112133916
	// flashTotal is the 256 MB CompactFlash of show version,
	// "250880K bytes of ATA System CompactFlash 0".
	flashTotal = 250880 * 1024
	// nvramSize is what show startup-config reports as the NVRAM size.
	// NOTE: taken from ISR G2 transcripts of other releases.
	nvramSize = 262136
)

// ciscoOUIs are organisationally unique identifiers registered to Cisco
// Systems (nmap-mac-prefixes lists each).
var ciscoOUIs = [][3]byte{{0xa8, 0xb1, 0xd4}, {0x4c, 0x4e, 0x35}, {0xf8, 0x72, 0xea}, {0x50, 0x17, 0xff}, {0x58, 0x8d, 0x09}}

// hostnames are names administrators give branch and edge routers.
var hostnames = []string{
	"R1", "R2", "rtr-01", "rtr-edge-01", "br-rtr01", "gw-01", "core-rtr", "edge-rtr-1",
	"BR-EDGE-01", "WAN-RTR-01", "rtr1", "cisco-gw", "branch-rtr", "RTR-HQ-01",
}

// device holds the state a decky's router keeps between sessions, the
// values an attacker can compare across logins, all derived from the
// seed.
type device struct {
	seed     []byte
	hostname string
	serial   string
	psSerial string
	mac      [6]byte
	// boot is the last reload; uptime grows from it and a new reload
	// comes every period.
	boot time.Time
	// imageDate is when the running image was copied to flash.
	imageDate time.Time
	// lastChange is the last configuration change before this boot.
	lastChange time.Time
	wan, lan   netip.Prefix
	gateway    netip.Addr
	// enableHash and adminHash are the type 5 secrets of the running
	// configuration, hashes of random decoy passwords.
	enableHash, adminHash string
	adminUser             string
}

func derive(seed []byte, label string) []byte {
	m := hmac.New(sha256.New, seed)
	m.Write([]byte("decnet ios " + label))
	return m.Sum(nil)
}

func pick(seed []byte, label string, n int) int {
	if n <= 0 {
		return 0
	}
	return int(binary.BigEndian.Uint64(derive(seed, label)) % uint64(n)) //nolint:gosec // G115: n is a small positive count
}

// DefaultHostname is the host name a decky's router has when the
// operator sets none.
func DefaultHostname(seed []byte) string {
	return hostnames[pick(seed, "hostname", len(hostnames))]
}

// epoch anchors the reload schedule; any fixed instant works, since only
// the seed-derived phase and period matter.
var epoch = time.Date(2024, time.January, 1, 0, 0, 0, 0, time.UTC)

func newDevice(seed []byte, hostname string, now time.Time) *device {
	d := &device{seed: seed, hostname: hostname}
	if d.hostname == "" {
		d.hostname = DefaultHostname(seed)
	}

	// Cisco serials are LLLYYWWSSSS: plant, year since 1996, week and
	// a base-36 sequence. 2911s were built from 2010 to 2019.
	year := 14 + pick(seed, "serial year", 10)
	week := 1 + pick(seed, "serial week", 52)
	plant := []string{"FTX", "FGL", "FHK"}[pick(seed, "serial plant", 3)]
	d.serial = fmt.Sprintf("%s%02d%02d%s", plant, year, week, base36(derive(seed, "serial seq"), 4))
	d.psSerial = fmt.Sprintf("DCA%02d%02d%s", year, max(1, week-2), base36(derive(seed, "ps seq"), 4))

	oui := ciscoOUIs[pick(seed, "oui", len(ciscoOUIs))]
	m := derive(seed, "mac")
	// ISR G2 ports take consecutive addresses from the chassis base,
	// whose last byte is a multiple of 8.
	d.mac = [6]byte{oui[0], oui[1], oui[2], m[0], m[1], m[2] &^ 7}

	// A router reloads every few months (power work, upgrades), so the
	// uptime stays below a per-decky period and is stable across
	// restarts of the decoy.
	period := time.Duration(40+pick(seed, "reload period", 200)) * 24 * time.Hour
	phase := time.Duration(pick(seed, "reload phase", int(period/time.Second))) * time.Second
	first := epoch.Add(phase)
	if now.Before(first) {
		first = first.Add(-period * (1 + first.Sub(now)/period))
	}
	d.boot = first.Add(period * (now.Sub(first) / period))
	if now.Sub(d.boot) < time.Hour {
		d.boot = d.boot.Add(-period)
	}
	d.imageDate = d.boot.Add(-time.Duration(3600+pick(seed, "image date", 30*86400)) * time.Second)
	d.lastChange = d.boot.Add(-time.Duration(600+pick(seed, "last change", 20*86400)) * time.Second)

	a := derive(seed, "addr")
	d.wan = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, a[0], a[1], 2 + a[2]%200}), 24)
	d.gateway = netip.AddrFrom4([4]byte{10, a[0], a[1], 1})
	d.lan = netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 168, a[3], 1}), 24)

	d.adminUser = []string{"admin", "netadmin", "cisco", "noc"}[pick(seed, "admin user", 4)]
	d.enableHash = md5Crypt(derive(seed, "enable secret")[:12], []byte(base64Salt(derive(seed, "enable salt"))))
	d.adminHash = md5Crypt(derive(seed, "admin secret")[:12], []byte(base64Salt(derive(seed, "admin salt"))))
	return d
}

func base36(b []byte, n int) string {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	out := make([]byte, n)
	for i := range out {
		out[i] = digits[int(b[i])%len(digits)]
	}
	return string(out)
}

// base64Salt is a four-character salt, the length IOS uses.
func base64Salt(b []byte) string {
	return string(appendCrypt64(nil, uint(b[0])|uint(b[1])<<8|uint(b[2])<<16, 4))
}

// macDotted is a MAC address in IOS's dotted form, aabb.ccdd.eeff.
func macDotted(m [6]byte) string {
	return fmt.Sprintf("%02x%02x.%02x%02x.%02x%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// portMAC is the address of the n-th onboard port.
func (d *device) portMAC(n int) [6]byte {
	m := d.mac
	m[5] += byte(n) //nolint:gosec // G115: n is a port index below 8
	return m
}

// counter is a per-decky packet or byte count that grows with uptime.
func (d *device) counter(label string, now time.Time, perSecond int) uint64 {
	secs := uint64(max(0, now.Sub(d.boot)/time.Second))
	rate := uint64(1 + pick(d.seed, label, perSecond))
	return secs*rate + uint64(pick(d.seed, label+" base", 100000)) //nolint:gosec // G115: pick is never negative
}

// formatUptime renders a duration as IOS does in "uptime is": years,
// weeks, days, hours and minutes, zero parts left out, minutes always
// shown when nothing else is.
func formatUptime(d time.Duration) string {
	mins := int(d / time.Minute)
	units := []struct {
		mins int
		unit string
	}{{365 * 24 * 60, "year"}, {7 * 24 * 60, "week"}, {24 * 60, "day"}, {60, "hour"}, {1, "minute"}}
	parts := make([]struct {
		n    int
		unit string
	}, len(units))
	for i, u := range units {
		parts[i].n, parts[i].unit = mins/u.mins, u.unit
		mins %= u.mins
	}
	var out []string
	for _, p := range parts {
		if p.n == 0 {
			continue
		}
		s := fmt.Sprintf("%d %s", p.n, p.unit)
		if p.n != 1 {
			s += "s"
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return "0 minutes"
	}
	return strings.Join(out, ", ")
}

// iosTime is the date format of show clock and show version.
func iosTime(t time.Time) string {
	return t.UTC().Format("15:04:05 MST Mon Jan 2 2006")
}

// mask renders a prefix length as a dotted mask.
func mask(bits int) string {
	m := ^uint32(0) << (32 - bits)
	return fmt.Sprintf("%d.%d.%d.%d", m>>24, m>>16&0xff, m>>8&0xff, m&0xff)
}
