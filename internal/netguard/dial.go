package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"time"
)

// maxDialAttempts caps how many of a name's addresses are tried, so a
// hostile DNS answer with hundreds of slow addresses cannot hold a dial
// for long.
const maxDialAttempts = 4

// defaultDialTimeout bounds one connect when the caller's context has no
// earlier deadline.
const defaultDialTimeout = 10 * time.Second

// DialContext connects to address ("host:port") through the guard. A name
// is resolved once and refused as a whole when any of its addresses is
// refused: a name that mixes public and internal addresses is either
// misconfigured or a rebinding attempt, and refusing it leaves nothing to
// race. The checked addresses are dialled as IP literals, and the
// connection's remote address is checked again before it is returned.
// Refusals match errors.Is(err, ErrRefused).
func (g *Guard) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	ipNetwork, err := resolveNetwork(network)
	if err != nil {
		return nil, err
	}
	host, portText, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", address, err)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("dial %s: invalid port %q", address, portText)
	}

	addrs, err := g.resolve(ctx, ipNetwork, host)
	if err != nil {
		return nil, err
	}

	var lastErr error
	for i, a := range addrs {
		if i == maxDialAttempts {
			break
		}
		target := netip.AddrPortFrom(a, uint16(port)).String()
		conn, err := g.dialer().DialContext(ctx, network, target)
		if err != nil {
			lastErr = err
			if ctx.Err() != nil {
				break
			}
			continue
		}
		if err := g.checkRemote(host, conn); err != nil {
			_ = conn.Close()
			return nil, err
		}
		return conn, nil
	}
	return nil, fmt.Errorf("dial %s: %w", address, lastErr)
}

// resolve returns the checked addresses of host, all of them allowed.
func (g *Guard) resolve(ctx context.Context, ipNetwork, host string) ([]netip.Addr, error) {
	literal, err := g.hostLiteral(host)
	if err != nil {
		return nil, err
	}
	if literal.IsValid() {
		return []netip.Addr{literal}, nil
	}

	// The HTTP transport has already turned an internationalised name
	// into ASCII. Anything else is not a DNS name, and the C library
	// behind a resolver might parse it in its own way.
	if !isHostName(host) {
		return nil, &RefusedError{Host: host, Reason: "invalid host name"}
	}
	addrs, err := g.resolver().LookupNetIP(ctx, ipNetwork, host)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", host, err)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("resolve %s: no addresses", host)
	}
	for _, a := range addrs {
		if err := g.Check(a); err != nil {
			var re *RefusedError
			if errors.As(err, &re) {
				re.Host = host
			}
			return nil, err
		}
	}
	return addrs, nil
}

// isHostName reports whether host is made of the characters of DNS names
// (letters, digits, hyphen, dot, and underscore, which some records use)
// and fits the 253-byte limit of a name.
func isHostName(host string) bool {
	if len(host) > 253 {
		return false
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-' || c == '.' || c == '_':
		default:
			return false
		}
	}
	return true
}

// checkRemote refuses a connection whose peer is not an allowed address,
// whatever address the dialer was given, because an injected dialer might
// go through a proxy or a NAT rule that the guard cannot see.
func (g *Guard) checkRemote(host string, conn net.Conn) error {
	var remote netip.AddrPort
	switch ra := conn.RemoteAddr().(type) {
	case *net.TCPAddr:
		remote = ra.AddrPort()
	case *net.UDPAddr:
		remote = ra.AddrPort()
	default:
		var err error
		if ra == nil {
			return &RefusedError{Host: host, Reason: "connection has no remote address"}
		}
		if remote, err = netip.ParseAddrPort(ra.String()); err != nil {
			return &RefusedError{Host: host, Reason: "connection has no IP remote address"}
		}
	}
	if err := g.Check(remote.Addr()); err != nil {
		var re *RefusedError
		if errors.As(err, &re) {
			re.Host = host
			re.Reason = "connected to " + re.Reason
		}
		return err
	}
	return nil
}

func resolveNetwork(network string) (string, error) {
	switch network {
	case "tcp", "udp":
		return "ip", nil
	case "tcp4", "udp4":
		return "ip4", nil
	case "tcp6", "udp6":
		return "ip6", nil
	}
	return "", fmt.Errorf("dial: unsupported network %q", network)
}

func (g *Guard) resolver() Resolver {
	if g.Resolver != nil {
		return g.Resolver
	}
	return net.DefaultResolver
}

func (g *Guard) dialer() Dialer {
	if g.Dialer != nil {
		return g.Dialer
	}
	return &net.Dialer{Timeout: defaultDialTimeout, Control: g.control}
}

// control checks the exact address given to the kernel, after the socket
// exists and before connect(2).
func (g *Guard) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &RefusedError{Host: address, Reason: "invalid socket address"}
	}
	return g.Check(ap.Addr())
}
