package addr

import (
	"encoding/json"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/internal/errx"
)

// ipKey is an address as a BlockList compares it: the 16-byte form (IPv4 as
// IPv4-mapped IPv6) split into two words, plus whether it was given as IPv4.
type ipKey struct {
	hi, lo uint64
	v4     bool
}

func keyFrom16(a [16]byte, v4 bool) ipKey {
	var hi, lo uint64
	for i := 0; i < 8; i++ {
		hi = hi<<8 | uint64(a[i])
		lo = lo<<8 | uint64(a[8+i])
	}
	return ipKey{hi: hi, lo: lo, v4: v4}
}

func (k ipKey) bytes() (a [16]byte) {
	for i := 0; i < 8; i++ {
		a[i] = byte(k.hi >> (56 - 8*i))
		a[8+i] = byte(k.lo >> (56 - 8*i))
	}
	return a
}

// mapped reports whether the 16-byte form is ::ffff:a.b.c.d.
func (k ipKey) mapped() bool { return k.hi == 0 && k.lo>>32 == 0xffff }

// parseKey parses s as an address of the given family with libuv's rules
// (strict dotted IPv4; IPv6 with any "%zone", which is ignored).
func parseKey(s string, is6 bool) (ipKey, bool) {
	if is6 {
		a, _, ok := parseUVIPv6(s)
		return keyFrom16(a, false), ok
	}
	a, ok := parseIPv4(s)
	if !ok {
		return ipKey{}, false
	}
	var b [16]byte
	b[10], b[11] = 0xff, 0xff
	copy(b[12:], a[:])
	return keyFrom16(b, true), true
}

// keyFromAddr converts a netip.Addr (zone ignored) without allocating.
func keyFromAddr(a netip.Addr) ipKey {
	return keyFrom16(a.As16(), a.Is4())
}

// text is the address as Node prints it in rules.
func (k ipKey) text() string {
	a := k.bytes()
	if k.v4 {
		return formatIPv4([4]byte{a[12], a[13], a[14], a[15]})
	}
	return formatIPv6(a)
}

func (k ipKey) familyName() string {
	if k.v4 {
		return "IPv4"
	}
	return "IPv6"
}

// compareKeys orders a and b the way Node's SocketAddress comparison does:
// same-family addresses compare numerically; an IPv4 address and an IPv6
// one compare only when the IPv6 one is IPv4-mapped (ok is false otherwise).
func compareKeys(a, b ipKey) (c int, ok bool) {
	if a.v4 != b.v4 {
		if (a.v4 && !b.mapped()) || (b.v4 && !a.mapped()) {
			return 0, false
		}
	}
	switch {
	case a.hi < b.hi:
		return -1, true
	case a.hi > b.hi:
		return 1, true
	case a.lo < b.lo:
		return -1, true
	case a.lo > b.lo:
		return 1, true
	}
	return 0, true
}

type ruleKind uint8

const (
	ruleAddress ruleKind = iota
	ruleRange
	ruleSubnet
)

type rule struct {
	kind       ruleKind
	start, end ipKey // address rule: start; subnet rule: start is the network
	prefix     int   // subnet prefix as given (0-32 for IPv4, 0-128 for IPv6)
	maskHi     uint64
	maskLo     uint64
	text       string
}

func (r *rule) match(x ipKey) bool {
	switch r.kind {
	case ruleAddress:
		// IPv4 and IPv4-mapped IPv6 share the 16-byte form, so plain
		// equality matches them in both directions.
		return x.hi == r.start.hi && x.lo == r.start.lo
	case ruleSubnet:
		// IPv4 networks are stored as ::ffff:net/(96+prefix), which is
		// exactly how Node matches both IPv4 and IPv4-mapped candidates.
		return x.hi&r.maskHi == r.start.hi&r.maskHi && x.lo&r.maskLo == r.start.lo&r.maskLo
	default:
		c, ok := compareKeys(x, r.start)
		if !ok || c < 0 {
			return false
		}
		c, ok = compareKeys(x, r.end)
		return ok && c <= 0
	}
}

func (r *rule) same(o *rule) bool {
	return r.kind == o.kind && r.start == o.start && r.end == o.end && r.prefix == o.prefix
}

// BlockList mirrors Node's net.BlockList: rules that block single addresses,
// inclusive ranges and CIDR subnets, IPv4 and IPv6. IPv4 addresses and their
// IPv4-mapped IPv6 forms are treated as equal in both directions. A
// BlockList is safe for concurrent use; the zero value is an empty list.
type BlockList struct {
	mu    sync.RWMutex
	rules []rule // oldest first
}

// NewBlockList returns an empty BlockList.
func NewBlockList() *BlockList { return &BlockList{} }

// IsBlockList reports whether v is a non-nil *BlockList (Node's
// BlockList.isBlockList).
func IsBlockList(v any) bool {
	bl, ok := v.(*BlockList)
	return ok && bl != nil
}

func (bl *BlockList) add(r rule) {
	bl.mu.Lock()
	defer bl.mu.Unlock()
	for i := range bl.rules {
		if bl.rules[i].same(&r) {
			return // Node keeps a single copy of an identical rule
		}
	}
	bl.rules = append(bl.rules, r)
}

// parseArg parses an address argument with its family string, producing
// Node's errors: ERR_INVALID_ARG_VALUE for the family, ERR_INVALID_ADDRESS
// for the address.
func parseArg(address, family string) (ipKey, error) {
	is6, ok := familyIs6(family)
	if !ok {
		return ipKey{}, errx.InvalidArgValue("options.family", family, "")
	}
	k, ok := parseKey(address, is6)
	if !ok {
		return ipKey{}, errx.InvalidAddress()
	}
	return k, nil
}

// AddAddress adds a rule blocking one address. family is "ipv4" (also for
// "") or "ipv6", case-insensitive.
func (bl *BlockList) AddAddress(address, family string) error {
	k, err := parseArg(address, family)
	if err != nil {
		return err
	}
	bl.addAddressKey(k)
	return nil
}

// AddAddressSA is AddAddress for a SocketAddress (its port is ignored).
func (bl *BlockList) AddAddressSA(sa *SocketAddress) error {
	k, err := sa.ip()
	if err != nil {
		return err
	}
	bl.addAddressKey(k)
	return nil
}

func (bl *BlockList) addAddressKey(k ipKey) {
	bl.add(rule{kind: ruleAddress, start: k, text: "Address: " + k.familyName() + " " + k.text()})
}

// AddRange adds a rule blocking every address from start to end inclusive,
// both of the given family. start after end gives ERR_INVALID_ARG_VALUE.
func (bl *BlockList) AddRange(start, end, family string) error {
	s, err := parseArg(start, family)
	if err != nil {
		return err
	}
	e, err := parseArg(end, family)
	if err != nil {
		return err
	}
	return bl.addRangeKeys(s, e)
}

// AddRangeSA is AddRange for SocketAddress bounds (which may differ in
// family; mixed bounds compare only through IPv4-mapped addresses).
func (bl *BlockList) AddRangeSA(start, end *SocketAddress) error {
	s, err := start.ip()
	if err != nil {
		return err
	}
	e, err := end.ip()
	if err != nil {
		return err
	}
	return bl.addRangeKeys(s, e)
}

func (bl *BlockList) addRangeKeys(s, e ipKey) error {
	if c, ok := compareKeys(s, e); ok && c > 0 {
		sa := &SocketAddress{Address: s.text(), Family: FamilyIPv4}
		if !s.v4 {
			sa.Family = FamilyIPv6
		}
		return errx.InvalidArgValue("start", sa, "must come before end")
	}
	bl.add(rule{kind: ruleRange, start: s, end: e,
		text: "Range: " + s.familyName() + " " + s.text() + "-" + e.text()})
	return nil
}

// AddSubnet adds a rule blocking network/prefix. The prefix must be within
// 0..32 for ipv4 and 0..128 for ipv6 (ERR_OUT_OF_RANGE otherwise).
func (bl *BlockList) AddSubnet(network string, prefix int, family string) error {
	k, err := parseArg(network, family)
	if err != nil {
		return err
	}
	return bl.addSubnetKey(k, prefix)
}

// AddSubnetSA is AddSubnet for a SocketAddress network.
func (bl *BlockList) AddSubnetSA(network *SocketAddress, prefix int) error {
	k, err := network.ip()
	if err != nil {
		return err
	}
	return bl.addSubnetKey(k, prefix)
}

func (bl *BlockList) addSubnetKey(k ipKey, prefix int) error {
	maxp := 128
	if k.v4 {
		maxp = 32
	}
	if prefix < 0 || prefix > maxp {
		return errx.OutOfRange("prefix", ">= 0 && <= "+strconv.Itoa(maxp), prefix)
	}
	bits := prefix
	if k.v4 {
		bits += 96
	}
	r := rule{kind: ruleSubnet, start: k, prefix: prefix,
		text: "Subnet: " + k.familyName() + " " + k.text() + "/" + strconv.Itoa(prefix)}
	if bits <= 64 {
		r.maskHi = ^uint64(0) << (64 - bits)
	} else {
		r.maskHi = ^uint64(0)
		r.maskLo = ^uint64(0) << (128 - bits)
	}
	bl.add(r)
	return nil
}

// Check reports whether address (of the given family, "" meaning "ipv4")
// matches any rule. An address that is not valid for the family, or an
// unknown family, gives false rather than an error, as in Node. Check does
// not allocate.
func (bl *BlockList) Check(address, family string) bool {
	is6, ok := familyIs6(family)
	if !ok {
		return false
	}
	k, ok := parseKey(address, is6)
	if !ok {
		return false
	}
	return bl.checkKey(k)
}

// CheckSA is Check for a SocketAddress; an invalid one gives false.
func (bl *BlockList) CheckSA(sa *SocketAddress) bool {
	k, err := sa.ip()
	if err != nil {
		return false
	}
	return bl.checkKey(k)
}

// CheckAddr is Check for a netip.Addr: a 4-byte address is checked as
// "ipv4", a 16-byte one (including IPv4-mapped ones, as seen on dual-stack
// sockets) as "ipv6"; the zone is ignored. It does not allocate.
func (bl *BlockList) CheckAddr(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	return bl.checkKey(keyFromAddr(a))
}

func (bl *BlockList) checkKey(k ipKey) bool {
	bl.mu.RLock()
	defer bl.mu.RUnlock()
	for i := len(bl.rules) - 1; i >= 0; i-- {
		if bl.rules[i].match(k) {
			return true
		}
	}
	return false
}

// Rules returns the rules as Node prints them, newest first:
// "Address: IPv4 1.1.1.1", "Range: IPv4 10.0.0.1-10.0.0.10",
// "Subnet: IPv6 8592:757c:efae:4e45::/64".
func (bl *BlockList) Rules() []string {
	bl.mu.RLock()
	defer bl.mu.RUnlock()
	out := make([]string, len(bl.rules))
	for i := range bl.rules {
		out[len(bl.rules)-1-i] = bl.rules[i].text
	}
	return out
}

// MarshalJSON encodes the list as Node's toJSON does: the JSON array of
// Rules() (newest first).
func (bl *BlockList) MarshalJSON() ([]byte, error) {
	return json.Marshal(bl.Rules())
}

// UnmarshalJSON replaces the rules with those of a JSON array of rule
// strings (or a JSON string holding one). Unlike FromJSON it adds them
// oldest first, so Rules() after a Marshal/Unmarshal round trip is
// unchanged.
func (bl *BlockList) UnmarshalJSON(data []byte) error {
	items, err := jsonRuleStrings(data)
	if err != nil {
		return err
	}
	bl.mu.Lock()
	bl.rules = nil
	bl.mu.Unlock()
	for i := len(items) - 1; i >= 0; i-- {
		if err := bl.addRuleString(items[i]); err != nil {
			return err
		}
	}
	return nil
}

// FromJSON adds the rules in data, as Node's blockList.fromJSON does: data
// is a JSON array of rule strings, or a JSON string that itself holds such
// an array. Rules are added in array order; strings that are not rules are
// ignored. Non-string elements give ERR_INVALID_ARG_TYPE; a rule whose
// address or prefix is invalid stops with that rule's error (earlier rules
// stay added).
func (bl *BlockList) FromJSON(data []byte) error {
	items, err := jsonRuleStrings(data)
	if err != nil {
		return err
	}
	for _, it := range items {
		if err := bl.addRuleString(it); err != nil {
			return err
		}
	}
	return nil
}

func errFromJSONType() error {
	return errx.New(errs.CodeInvalidArgType, `The "data" argument must be of type string or an instance of Array.`)
}

func jsonRuleStrings(data []byte) ([]string, error) {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	if s, ok := v.(string); ok {
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return nil, err
		}
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, errFromJSONType()
	}
	out := make([]string, len(arr))
	for i, e := range arr {
		s, ok := e.(string)
		if !ok {
			return nil, errFromJSONType()
		}
		out[i] = s
	}
	return out, nil
}

// addRuleString recognises one rule string the way Node's fromJSON does
// (an unanchored search for "Subnet: IPv4 a.b.c.d/p", "Address: IPv4
// a.b.c.d", "Range: IPv4 a.b.c.d-e.f.g.h", then the IPv6 forms, whose
// keywords match case-insensitively). Unlike Node, the IPv6 forms also
// accept a dotted IPv4 tail, so rules such as "Address: IPv6
// ::ffff:1.1.1.2" survive a round trip.
func (bl *BlockList) addRuleString(item string) error {
	if strings.Contains(item, "IPv4") {
		if net, p, ok := findV4Subnet(item); ok {
			return bl.AddSubnet(net, p, FamilyIPv4)
		}
		if a, ok := findAfter(item, "Address: IPv4 ", false, func(s string) (string, bool) { return matchV4(s, false) }); ok {
			return bl.AddAddress(a, FamilyIPv4)
		}
		if s, e, ok := findV4Range(item); ok {
			return bl.AddRange(s, e, FamilyIPv4)
		}
	}
	if strings.Contains(item, "IPv6") {
		if net, p, ok := findV6Subnet(item); ok {
			return bl.AddSubnet(net, p, FamilyIPv6)
		}
		if a, ok := findAfter(item, "Address: IPv6 ", true, func(s string) (string, bool) { return matchV6Run(s, false) }); ok {
			return bl.AddAddress(a, FamilyIPv6)
		}
		if s, e, ok := findV6Range(item); ok {
			return bl.AddRange(s, e, FamilyIPv6)
		}
	}
	return nil
}

// findAfter tries m right after every occurrence of lit in item (folding
// ASCII case when fold is set) and returns the first match.
func findAfter(item, lit string, fold bool, m func(string) (string, bool)) (string, bool) {
	for i := 0; i+len(lit) <= len(item); i++ {
		if (fold && strings.EqualFold(item[i:i+len(lit)], lit)) || (!fold && item[i:i+len(lit)] == lit) {
			if r, ok := m(item[i+len(lit):]); ok {
				return r, true
			}
		}
	}
	return "", false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// digitRun returns the length of the leading run of ASCII digits, capped.
func digitRun(s string, max int) int {
	n := 0
	for n < len(s) && n < max && isDigit(s[n]) {
		n++
	}
	return n
}

// matchV4 matches \d{1,3}(?:\.\d{1,3}){3} at the start of s. With
// exactLast, the last part must be a whole digit run (the pattern is
// followed by a non-digit literal); otherwise it takes up to 3 digits.
func matchV4(s string, exactLast bool) (string, bool) {
	p := 0
	for part := 0; part < 4; part++ {
		n := digitRun(s[p:], 3)
		if n == 0 {
			return "", false
		}
		p += n
		if part < 3 {
			if p >= len(s) || s[p] != '.' {
				return "", false
			}
			p++
		} else if exactLast && p < len(s) && isDigit(s[p]) {
			return "", false
		}
	}
	return s[:p], true
}

func findV4Subnet(item string) (string, int, bool) {
	var prefix int
	net, ok := findAfter(item, "Subnet: IPv4 ", false, func(s string) (string, bool) {
		a, ok := matchV4(s, true)
		if !ok || len(a) >= len(s) || s[len(a)] != '/' {
			return "", false
		}
		rest := s[len(a)+1:]
		n := digitRun(rest, 2)
		if n == 0 {
			return "", false
		}
		prefix, _ = strconv.Atoi(rest[:n])
		return a, true
	})
	return net, prefix, ok
}

func findV4Range(item string) (string, string, bool) {
	var end string
	start, ok := findAfter(item, "Range: IPv4 ", false, func(s string) (string, bool) {
		a, ok := matchV4(s, true)
		if !ok || len(a) >= len(s) || s[len(a)] != '-' {
			return "", false
		}
		b, ok := matchV4(s[len(a)+1:], false)
		if !ok {
			return "", false
		}
		end = b
		return a, true
	})
	return start, end, ok
}

func isV6RuleChar(c byte) bool { return hexVal(c) >= 0 || c == ':' || c == '.' }

// matchV6Run matches [0-9a-fA-F:.]{1,45} at the start of s; with exact the
// run must be complete (it is followed by a literal outside the class).
func matchV6Run(s string, exact bool) (string, bool) {
	n := 0
	for n < len(s) && isV6RuleChar(s[n]) {
		n++
	}
	if n == 0 || (exact && n > 45) {
		return "", false
	}
	if n > 45 {
		n = 45
	}
	return s[:n], true
}

func findV6Subnet(item string) (string, int, bool) {
	var prefix int
	net, ok := findAfter(item, "Subnet: IPv6 ", true, func(s string) (string, bool) {
		a, ok := matchV6Run(s, true)
		if !ok || len(a) >= len(s) || s[len(a)] != '/' {
			return "", false
		}
		rest := s[len(a)+1:]
		n := digitRun(rest, 3)
		if n == 0 {
			return "", false
		}
		prefix, _ = strconv.Atoi(rest[:n])
		return a, true
	})
	return net, prefix, ok
}

func findV6Range(item string) (string, string, bool) {
	var end string
	start, ok := findAfter(item, "Range: IPv6 ", true, func(s string) (string, bool) {
		a, ok := matchV6Run(s, true)
		if !ok || len(a) >= len(s) || s[len(a)] != '-' {
			return "", false
		}
		b, ok := matchV6Run(s[len(a)+1:], false)
		if !ok {
			return "", false
		}
		end = b
		return a, true
	})
	return start, end, ok
}
