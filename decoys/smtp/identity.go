package smtp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
)

// minSeedBytes is the shortest decky seed accepted: the TLS key and every
// per-decky name derive from it.
const minSeedBytes = 16

// Labels of the per-decky values derived from the seed, one per value so
// that no two share key material.
const (
	labelDomain   = "decnet decoys/smtp domain"
	labelUsers    = "decnet decoys/smtp users"
	labelInode    = "decnet decoys/smtp queue inode"
	labelTLSKey   = "decnet decoys/smtp tls key"
	labelTLSCert  = "decnet decoys/smtp tls certificate"
	labelExchange = "decnet decoys/smtp exchange"
)

// derive returns 32 bytes for label from the seed (HMAC-SHA256).
func derive(seed []byte, label string) []byte {
	m := hmac.New(sha256.New, seed)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// deriveUint returns a number in [0, n) for label and index.
func deriveUint(seed []byte, label string, index int, n uint64) uint64 {
	sum := derive(seed, fmt.Sprintf("%s #%d", label, index))
	return binary.BigEndian.Uint64(sum[:8]) % n
}

// Word lists the seeded domain is built from: two words and a common TLD
// read like the small businesses whose mail servers sit on the internet.
var (
	domainFirst = []string{
		"north", "blue", "river", "summit", "harbor", "granite", "cedar", "maple",
		"silver", "lake", "pine", "oak", "stone", "bright", "iron", "west",
		"east", "clear", "red", "green", "valley", "coast", "prairie", "eagle",
	}
	domainSecond = []string{
		"logistics", "dental", "legal", "media", "systems", "partners", "consulting",
		"engineering", "health", "realty", "foods", "design", "labs", "networks",
		"supply", "works", "capital", "insurance", "motors", "printing",
	}
	domainTLDs = []string{"com", "com", "com", "net", "org", "io", "co.uk", "de", "biz"}
)

// identity is the set of names the decky's mail server uses for itself.
type identity struct {
	// hostname is Postfix's myhostname, the fully qualified name in the
	// banner and EHLO reply.
	hostname string
	// domain is mydomain: hostname without its first label.
	domain string
	// shortname is the system host name (gethostname), which Dovecot puts
	// in its CRAM-MD5 challenges.
	shortname string
}

func newIdentity(seed []byte, hostname string) identity {
	if hostname == "" {
		first := domainFirst[deriveUint(seed, labelDomain, 0, uint64(len(domainFirst)))]
		second := domainSecond[deriveUint(seed, labelDomain, 1, uint64(len(domainSecond)))]
		tld := domainTLDs[deriveUint(seed, labelDomain, 2, uint64(len(domainTLDs)))]
		hostname = "mail." + first + second + "." + tld
	}
	hostname = strings.ToLower(hostname)
	short, domain, ok := strings.Cut(hostname, ".")
	if !ok {
		domain = "localdomain"
	}
	return identity{hostname: hostname, domain: domain, shortname: short}
}

// isLocalDomain reports whether mail for domain is delivered here: the
// domains Debian's postfix configuration puts in mydestination.
func (id identity) isLocalDomain(domain string) bool {
	domain = strings.TrimSuffix(strings.ToLower(domain), ".")
	switch domain {
	case id.hostname, id.domain, "localhost", "localhost.localdomain", "localhost." + id.domain:
		return true
	}
	return false
}

// debianAccounts are the system accounts of a Debian 12 mail server with
// postfix and openssh installed. Postfix accepts mail for each of them,
// because its local_recipient_maps default reads passwd.byname and the
// aliases.
var debianAccounts = []string{
	"root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news",
	"uucp", "proxy", "www-data", "backup", "list", "irc", "_apt", "nobody",
	"systemd-network", "systemd-timesync", "messagebus", "sshd", "postfix",
	// The alias Debian's postfix package writes to /etc/aliases.
	"postmaster",
}

var userFirstNames = []string{
	"james", "mary", "john", "linda", "robert", "susan", "michael", "karen",
	"david", "lisa", "thomas", "nancy", "daniel", "sarah", "paul", "laura",
	"mark", "anna", "peter", "julia", "steven", "emma", "kevin", "helen",
}

var userLastNames = []string{
	"smith", "jones", "brown", "miller", "wilson", "moore", "taylor", "clark",
	"walker", "hall", "young", "king", "wright", "scott", "green", "baker",
}

// seededUsers returns the decky's human mail users: login names in one of
// the conventions small sites use (first name, first initial and last
// name, or first.last), chosen per decky.
func seededUsers(seed []byte) []string {
	count := 3 + int(deriveUint(seed, labelUsers, 0, 5))
	style := deriveUint(seed, labelUsers, 1, 3)
	users := []string{"admin", "info"}
	for i := range count {
		first := userFirstNames[deriveUint(seed, labelUsers, 10+2*i, uint64(len(userFirstNames)))]
		last := userLastNames[deriveUint(seed, labelUsers, 11+2*i, uint64(len(userLastNames)))]
		var name string
		switch style {
		case 0:
			name = first
		case 1:
			name = first[:1] + last
		default:
			name = first + "." + last
		}
		if !slices.Contains(users, name) {
			users = append(users, name)
		}
	}
	return users
}
