package ftp

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
)

// Errors of the PORT and EPRT parsers. The control loop maps each to the
// persona's reply.
var (
	// errAddrSyntax is an argument that does not have the command's shape.
	errAddrSyntax = errors.New("malformed address argument")
	// errAddrProto is an EPRT network protocol other than the control
	// connection's.
	errAddrProto = errors.New("unsupported network protocol")
)

// parsePORT reads the h1,h2,h3,h4,p1,p2 argument of PORT (RFC 959). Each
// field is a decimal number from 0 to 255 without sign or spaces.
func parsePORT(arg string) (netip.AddrPort, error) {
	fields := strings.Split(arg, ",")
	if len(fields) != 6 {
		return netip.AddrPort{}, errAddrSyntax
	}
	var b [6]byte
	for i, f := range fields {
		v, ok := parseDecimal(f, 255)
		if !ok {
			return netip.AddrPort{}, errAddrSyntax
		}
		b[i] = byte(v)
	}
	addr := netip.AddrFrom4([4]byte{b[0], b[1], b[2], b[3]})
	return netip.AddrPortFrom(addr, uint16(b[4])<<8|uint16(b[5])), nil
}

// parseEPRT reads the |proto|address|port| argument of EPRT (RFC 2428).
// The first byte is the delimiter. ipv6 reports whether the control
// connection runs over IPv6: the protocol must match it, as both vsftpd
// and ProFTPD require on a single-stack listener.
func parseEPRT(arg string, ipv6 bool) (netip.AddrPort, error) {
	if len(arg) < 1 || arg[0] < 33 || arg[0] > 126 {
		return netip.AddrPort{}, errAddrSyntax
	}
	parts := strings.Split(arg, arg[:1])
	if len(parts) != 5 || parts[0] != "" || parts[4] != "" {
		return netip.AddrPort{}, errAddrSyntax
	}
	want := "1"
	if ipv6 {
		want = "2"
	}
	if parts[1] != want {
		return netip.AddrPort{}, errAddrProto
	}
	addr, err := netip.ParseAddr(parts[2])
	if err != nil || addr.Zone() != "" || addr.Is4() == ipv6 {
		return netip.AddrPort{}, errAddrSyntax
	}
	port, ok := parseDecimal(parts[3], 65535)
	if !ok {
		return netip.AddrPort{}, errAddrSyntax
	}
	return netip.AddrPortFrom(addr, uint16(port)), nil
}

// parseDecimal accepts 1 to 5 ASCII digits with a value at most max.
func parseDecimal(s string, max int) (int, bool) {
	if s == "" || len(s) > 5 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil || v > max {
		return 0, false
	}
	return v, true
}

// pasvArgument renders the h1,h2,h3,h4,p1,p2 of a 227 reply.
func pasvArgument(addr netip.Addr, port uint16) string {
	a := addr.Unmap().As4()
	return strconv.Itoa(int(a[0])) + "," + strconv.Itoa(int(a[1])) + "," + strconv.Itoa(int(a[2])) + "," +
		strconv.Itoa(int(a[3])) + "," + strconv.Itoa(int(port>>8)) + "," + strconv.Itoa(int(port&0xff))
}
