package addr

import (
	"net/netip"
	"strconv"

	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/internal/errx"
)

// SocketAddress mirrors Node's net.SocketAddress: a validated IP address,
// port, family and IPv6 flow label. Build one with NewSocketAddress or
// ParseSocketAddress; Address is kept in Node's normalised form (what
// libuv's inet_ntop prints, e.g. "1::8", "::ffff:1.2.3.4").
type SocketAddress struct {
	Address   string // normalised IP address, without zone
	Port      int    // 0..65535
	Family    string // "ipv4" or "ipv6"
	FlowLabel uint32 // IPv6 flow label; always 0 for ipv4
	Zone      string // IPv6 zone (scope) as written after '%', "" for none
}

// SocketAddressOptions are the options of NewSocketAddress (Node's
// `new SocketAddress(options)`). The zero value gives 127.0.0.1:0 ipv4.
type SocketAddressOptions struct {
	// Address is the IP address; "" means "127.0.0.1" for ipv4 and "::"
	// for ipv6. An IPv6 address may carry a "%zone" suffix.
	Address string
	// Family is "ipv4" or "ipv6", case-insensitive; "" means "ipv4".
	Family string
	// Port must be within 0..65535.
	Port int
	// FlowLabel must be within 0..2^32-1; it is kept only for ipv6.
	FlowLabel int64
}

// NewSocketAddress validates opts like Node's SocketAddress constructor.
// Errors (*errs.Error): a bad family gives ERR_INVALID_ARG_VALUE, a bad port
// ERR_SOCKET_BAD_PORT, a flow label outside uint32 ERR_OUT_OF_RANGE, and an
// address that is not valid for the family ERR_INVALID_ADDRESS.
func NewSocketAddress(opts SocketAddressOptions) (*SocketAddress, error) {
	family, err := normalizeFamily(opts.Family)
	if err != nil {
		return nil, err
	}
	if opts.Port < 0 || opts.Port > 65535 {
		return nil, errx.SocketBadPort("options.port", opts.Port)
	}
	if opts.FlowLabel < 0 || opts.FlowLabel > 0xffffffff {
		return nil, errx.OutOfRange("options.flowlabel", ">= 0 && <= 4294967295", opts.FlowLabel)
	}
	address := opts.Address
	if address == "" {
		if family == FamilyIPv6 {
			address = "::"
		} else {
			address = "127.0.0.1"
		}
	}
	sa := &SocketAddress{Port: opts.Port, Family: family}
	if family == FamilyIPv4 {
		a, ok := parseIPv4(address)
		if !ok {
			return nil, errx.InvalidAddress()
		}
		sa.Address = formatIPv4(a)
		return sa, nil
	}
	a, zone, ok := parseUVIPv6(address)
	if !ok {
		return nil, errx.InvalidAddress()
	}
	sa.Address = formatIPv6(a)
	sa.Zone = zone
	sa.FlowLabel = uint32(opts.FlowLabel)
	return sa, nil
}

// ParseSocketAddress is Node's SocketAddress.parse: it reads "host[:port]"
// with WHATWG URL host rules (as the host of "http://<s>"), so legacy IPv4
// forms normalise ("256" -> 0.0.1.0, "0xffffffff" -> 255.255.255.255,
// "192.168.257:1" -> 192.168.1.1 port 1), IPv6 must be bracketed
// ("[1::8]:123"), and credentials before '@' are skipped. It returns false,
// never an error, for anything that is not an IP socket address ("not an
// ip", "abc.123", "259.1.1.1", "12:12:12").
//
// Differences from Node: hosts that need IDNA mapping (non-ASCII, e.g.
// full-width digits) are rejected, and an explicit port equal to 80 is kept
// (as Node's own tests expect) rather than dropped as a default port.
func ParseSocketAddress(s string) (*SocketAddress, bool) {
	host, port, ok := whatwgHostPort(s)
	if !ok {
		return nil, false
	}
	a, is6, ok := whatwgHost(host)
	if !ok {
		return nil, false
	}
	if port < 0 {
		port = 0
	}
	if is6 {
		return &SocketAddress{Address: formatIPv6(a), Port: port, Family: FamilyIPv6}, true
	}
	return &SocketAddress{Address: formatIPv4([4]byte{a[12], a[13], a[14], a[15]}), Port: port, Family: FamilyIPv4}, true
}

// IsSocketAddress reports whether v is a non-nil *SocketAddress (Node's
// SocketAddress.isSocketAddress).
func IsSocketAddress(v any) bool {
	sa, ok := v.(*SocketAddress)
	return ok && sa != nil
}

// ip parses sa's Address for its Family into the internal form.
func (sa *SocketAddress) ip() (ipKey, error) {
	if sa == nil {
		return ipKey{}, errx.New(errs.CodeInvalidArgType, "The \"address\" argument must be an instance of SocketAddress. Received undefined")
	}
	is6, ok := familyIs6(sa.Family)
	if !ok {
		return ipKey{}, errx.InvalidArgValue("options.family", sa.Family, "")
	}
	k, ok := parseKey(sa.Address, is6)
	if !ok {
		return ipKey{}, errx.InvalidAddress()
	}
	return k, nil
}

// AddrPort returns sa as a netip.AddrPort (IPv4 as a 4-byte address, IPv6
// with its zone); ok is false when sa does not hold a valid address.
func (sa *SocketAddress) AddrPort() (ap netip.AddrPort, ok bool) {
	if sa == nil {
		return ap, false
	}
	is6, ok := familyIs6(sa.Family)
	if !ok {
		return ap, false
	}
	var a netip.Addr
	if is6 {
		b, okp := parseIPv6(sa.Address)
		if !okp {
			return ap, false
		}
		a = netip.AddrFrom16(b)
		if sa.Zone != "" {
			a = a.WithZone(sa.Zone)
		}
	} else {
		b, okp := parseIPv4(sa.Address)
		if !okp {
			return ap, false
		}
		a = netip.AddrFrom4(b)
	}
	if sa.Port < 0 || sa.Port > 65535 {
		return ap, false
	}
	return netip.AddrPortFrom(a, uint16(sa.Port)), true
}

// String renders sa the way Node's util.inspect does, for debugging:
// "SocketAddress { address: '1.2.3.4', port: 80, family: 'ipv4', flowlabel: 0 }".
func (sa *SocketAddress) String() string {
	if sa == nil {
		return "undefined"
	}
	return "SocketAddress { address: '" + sa.Address + "', port: " + strconv.Itoa(sa.Port) +
		", family: '" + sa.Family + "', flowlabel: " + strconv.FormatUint(uint64(sa.FlowLabel), 10) + " }"
}
