package notify

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// HookGuard decides which addresses a webhook delivery may connect to:
// public unicast only. Webhook URLs are the tenants' to choose, so without
// it a tenant could make Roster reach its own network (server-side request
// forgery): loopback, private, shared (CGNAT), link-local and the cloud
// metadata services there, multicast, unspecified and reserved addresses
// are refused. AllowLoopback lets deliveries reach 127.0.0.0/8 and ::1,
// for tests; nothing lifts the rest.
type HookGuard struct {
	AllowLoopback bool
}

// refusedPrefixes are ranges netip has no predicate for.
var refusedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),  // shared address space (CGNAT); Alibaba's metadata is in it
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, and the broadcast address
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64
	netip.MustParsePrefix("2001:db8::/32"),  // documentation
	netip.MustParsePrefix("fd00:ec2::/32"),  // AWS's IPv6 metadata (in fc00::/7 too)
	netip.MustParsePrefix("100::/64"),       // discard-only
	netip.MustParsePrefix("2001::/23"),      // IETF protocol assignments (Teredo and others)
	netip.MustParsePrefix("2002::/16"),      // 6to4, which embeds any IPv4 address
	netip.MustParsePrefix("::ffff:0:0/96"),  // IPv4-mapped, judged as IPv4 below
	netip.MustParsePrefix("::/128"),         // unspecified
	netip.MustParsePrefix("ff00::/8"),       // multicast
	netip.MustParsePrefix("fe80::/10"),      // link-local
	netip.MustParsePrefix("169.254.0.0/16"), // link-local, the metadata services' 169.254.169.254
	netip.MustParsePrefix("255.255.255.255/32"),
}

// nat64 is the well-known NAT64 prefix, which embeds an IPv4 address in its
// last 32 bits: that address is judged instead.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// Check returns an error naming why a delivery may not connect to addr,
// nil when it may.
func (g HookGuard) Check(addr netip.Addr) error {
	addr = addr.WithZone("")
	if addr.Is4In6() {
		addr = addr.Unmap()
	}
	if nat64.Contains(addr) {
		b := addr.As16()
		addr = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	refuse := func(what string) error {
		return fmt.Errorf("notify: webhook address %s refused: %s", addr, what)
	}
	switch {
	case !addr.IsValid():
		return refuse("not an IP address")
	case addr.IsLoopback():
		if g.AllowLoopback {
			return nil
		}
		return refuse("loopback")
	case addr.IsUnspecified():
		return refuse("unspecified")
	case addr.IsLinkLocalUnicast(), addr.IsLinkLocalMulticast():
		return refuse("link-local (cloud metadata lives there)")
	case addr.IsPrivate():
		return refuse("private")
	case addr.IsMulticast(), addr.IsInterfaceLocalMulticast():
		return refuse("multicast")
	}
	for _, p := range refusedPrefixes {
		if p.Contains(addr) {
			return refuse("reserved or internal range " + p.String())
		}
	}
	if !addr.IsGlobalUnicast() {
		return refuse("not a global unicast address")
	}
	return nil
}

// Control is a net.Dialer Control function: it runs on the address a
// connection is about to be made to, after name resolution and before any
// packet is sent, and refuses what Check refuses.
func (g HookGuard) Control(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("notify: webhook address %q: %w", address, err)
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("notify: webhook address %q is no IP address", host)
	}
	return g.Check(addr)
}
