package socket

import (
	"context"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/handle"
	"github.com/netloop/netloop/internal/emitter"
	"github.com/netloop/netloop/internal/errx"
	"github.com/netloop/netloop/internal/transport"
)

// Happy Eyeballs: Node's autoSelectFamily (lib/net.js
// lookupAndConnectMultiple, internalConnectMultiple).

// DefaultAutoSelectFamilyAttemptTimeout is how long each attempt of
// Happy Eyeballs may take before the next address is tried when
// ConnectOptions.AutoSelectFamilyAttemptTimeout is 0 (Node's default,
// net.getDefaultAutoSelectFamilyAttemptTimeout()).
const DefaultAutoSelectFamilyAttemptTimeout = 250 * time.Millisecond

// MinAutoSelectFamilyAttemptTimeout is the smallest attempt timeout;
// smaller positive values are raised to it, as in Node.
const MinAutoSelectFamilyAttemptTimeout = 10 * time.Millisecond

// AggregateError is the 'error' of a Happy Eyeballs connect in which every
// attempt failed (Node's NodeAggregateError). Errors holds each attempt's
// error in order (an abandoned attempt contributes a connect ETIMEDOUT
// error); Code is the first error's code, as Node's err.code.
// errors.Is/As look into Errors (Unwrap() []error), so
// errors.Is(err, syscall.ECONNREFUSED) and errs.CodeOf work.
type AggregateError struct {
	Code   string
	Errors []error
}

// Error returns "AggregateError [<code>]: " followed by the attempts'
// messages, separated by "; " (Node's message itself is empty; this is
// what its inspector shows, plus the inner messages).
func (e *AggregateError) Error() string {
	var b strings.Builder
	b.WriteString("AggregateError")
	if e.Code != "" {
		b.WriteString(" [" + e.Code + "]")
	}
	b.WriteString(":")
	for i, err := range e.Errors {
		if i > 0 {
			b.WriteString(";")
		}
		b.WriteString(" " + err.Error())
	}
	return b.String()
}

// Unwrap returns the attempts' errors.
func (e *AggregateError) Unwrap() []error { return e.Errors }

// AutoSelectFamilyAttemptedAddresses lists the "ip:port" addresses that
// Happy Eyeballs attempted, in order, for the last connect (Node's
// socket.autoSelectFamilyAttemptedAddresses). As in Node, an IPv6 address
// is not bracketed ("::1:80"). It is nil when the connect did not use
// Happy Eyeballs (an IP literal, one resolved address, Family or
// LocalAddress given, or NoAutoSelectFamily).
func (s *Socket) AutoSelectFamilyAttemptedAddresses() []string {
	s.affine("Socket.AutoSelectFamilyAttemptedAddresses")
	if s.attempted == nil {
		return nil
	}
	return append([]string{}, s.attempted...)
}

// OnConnectionAttempt adds a 'connectionAttempt' listener: a connection
// attempt to ip:port (family 4 or 6) starts. For a Unix-domain connect ip
// is the path and port and family are 0.
func (s *Socket) OnConnectionAttempt(fn func(ip string, port, family int)) Listener {
	s.affine("Socket.OnConnectionAttempt")
	return s.add(evConnectionAttempt, attemptFn(fn), false)
}

// OnceConnectionAttempt adds a one-shot 'connectionAttempt' listener.
func (s *Socket) OnceConnectionAttempt(fn func(ip string, port, family int)) Listener {
	s.affine("Socket.OnceConnectionAttempt")
	return s.add(evConnectionAttempt, attemptFn(fn), true)
}

// OnConnectionAttemptFailed adds a 'connectionAttemptFailed' listener: the
// attempt to ip:port failed with err.
func (s *Socket) OnConnectionAttemptFailed(fn func(ip string, port, family int, err error)) Listener {
	s.affine("Socket.OnConnectionAttemptFailed")
	return s.add(evConnectionAttemptFailed, fn, false)
}

// OnceConnectionAttemptFailed adds a one-shot 'connectionAttemptFailed'
// listener.
func (s *Socket) OnceConnectionAttemptFailed(fn func(ip string, port, family int, err error)) Listener {
	s.affine("Socket.OnceConnectionAttemptFailed")
	return s.add(evConnectionAttemptFailed, fn, true)
}

// OnConnectionAttemptTimeout adds a 'connectionAttemptTimeout' listener:
// Happy Eyeballs abandoned the attempt to ip:port after the attempt
// timeout.
func (s *Socket) OnConnectionAttemptTimeout(fn func(ip string, port, family int)) Listener {
	s.affine("Socket.OnConnectionAttemptTimeout")
	return s.add(evConnectionAttemptTimeout, attemptFn(fn), false)
}

// OnceConnectionAttemptTimeout adds a one-shot 'connectionAttemptTimeout'
// listener.
func (s *Socket) OnceConnectionAttemptTimeout(fn func(ip string, port, family int)) Listener {
	s.affine("Socket.OnceConnectionAttemptTimeout")
	return s.add(evConnectionAttemptTimeout, attemptFn(fn), true)
}

// attemptFn adapts a three-argument listener to the emitter's
// four-argument form.
func attemptFn(fn func(ip string, port, family int)) func(string, int, int, struct{}) {
	return func(ip string, port, family int, _ struct{}) { fn(ip, port, family) }
}

func (s *Socket) emitAttempt(kind emitter.Kind, ip string, port, family int) {
	emitter.Emit4(&s.ev, kind, ip, port, family, struct{}{})
}

func (s *Socket) emitAttemptFailed(ip string, port, family int, err error) {
	emitter.Emit4(&s.ev, evConnectionAttemptFailed, ip, port, family, err)
}

// attemptTimeout validates ConnectOptions.AutoSelectFamilyAttemptTimeout
// and returns the timeout to use.
func attemptTimeout(d time.Duration) (time.Duration, error) {
	switch {
	case d == 0:
		return DefaultAutoSelectFamilyAttemptTimeout, nil
	case d < 0 || d > maxTimeout:
		return 0, errx.OutOfRange("options.autoSelectFamilyAttemptTimeout", ">= 1 && <= 2147483647",
			float64(d)/float64(time.Millisecond))
	case d < MinAutoSelectFamilyAttemptTimeout:
		return MinAutoSelectFamilyAttemptTimeout, nil
	}
	return d, nil
}

// autoSelect reports whether a connect with o uses Happy Eyeballs once
// the name is resolved (Node: no family, no localAddress, option on).
func (o *ConnectOptions) autoSelect() bool {
	return o.Family != 4 && o.Family != 6 && o.LocalAddress == "" && !o.NoAutoSelectFamily
}

// candidate is one address to attempt.
type candidate struct {
	address string // as the lookup returned it
	ip      netip.Addr
	family  int
}

// afterLookupMultiple is lookupAndConnectMultiple's lookup callback: emit
// 'lookup' for every answer, keep the valid ones once each, interleave
// them by family starting with the first one's, and connect.
func (s *Socket) afterLookupMultiple(o ConnectOptions, host string, answers []LookupAddress) {
	var groups [2][]candidate
	first := 0
	for _, a := range answers {
		emitter.Emit4(&s.ev, evLookup, error(nil), a.Address, a.Family, host)
		if s.state&sConnecting == 0 || s.state&sDestroyed != 0 {
			return
		}
		if a.Family != 4 && a.Family != 6 {
			continue
		}
		ip, err := netip.ParseAddr(a.Address)
		if err != nil {
			continue
		}
		if first == 0 {
			first = a.Family
		}
		g := 0
		if a.Family != first {
			g = 1
		}
		dup := false
		for _, c := range groups[g] {
			if c.ip == ip {
				dup = true
				break
			}
		}
		if !dup {
			groups[g] = append(groups[g], candidate{address: a.Address, ip: ip, family: a.Family})
		}
	}
	if len(groups[0]) == 0 {
		// Nothing usable: fail on the first answer.
		a := answers[0]
		if _, err := netip.ParseAddr(a.Address); err != nil {
			s.destroyWith(errx.InvalidIPAddress(a.Address))
		} else {
			s.destroyWith(invalidFamily(a.Family, host, o.Port))
		}
		return
	}
	all := make([]candidate, 0, len(groups[0])+len(groups[1]))
	for i := 0; i < len(groups[0]) || i < len(groups[1]); i++ {
		if i < len(groups[0]) {
			all = append(all, groups[0][i])
		}
		if i < len(groups[1]) {
			all = append(all, groups[1][i])
		}
	}
	if len(all) == 1 {
		s.connectTCP(o, all[0].ip)
		return
	}
	c := &connectMultiple{s: s, o: o, addrs: all, timeout: o.AutoSelectFamilyAttemptTimeout}
	c.onTimeoutFn = c.onTimeout
	s.ext().attempted = []string{}
	s.ext().he = c
	c.next(false)
}

func invalidFamily(family int, host string, port int) error {
	e := errx.InvalidAddressFamily(strconv.Itoa(family), host, port)
	e.Address, e.Port = host, port
	return e
}

// connectMultiple is one Happy Eyeballs connect (Node's context object).
// Attempts run one at a time, each on a fresh handle.
type connectMultiple struct {
	s           *Socket
	o           ConnectOptions
	addrs       []candidate
	current     int // next address to attempt
	timeout     time.Duration
	timer       *handle.Timer
	onTimeoutFn func()
	errors      []error
}

// live reports whether c still drives its socket's connect.
func (c *connectMultiple) live() bool {
	s := c.s
	return s.he == c && s.state&sConnecting != 0 && s.state&sDestroyed == 0
}

// release stops c for good (success, failure or destroy).
func (c *connectMultiple) release() {
	if c.timer != nil {
		if !c.timer.IsClosing() {
			c.timer.Close(nil)
		}
		c.timer = nil
	}
	if c.s.he == c {
		c.s.ext().he = nil
	}
}

func (c *connectMultiple) stopTimer() {
	if c.timer != nil {
		c.timer.Stop()
	}
}

// localFor returns the address bound for a LocalPort-only connect to a.
func localFor(a candidate) (string, netip.Addr) {
	if a.family == 4 {
		return "0.0.0.0", netip.IPv4Unspecified()
	}
	return "::", netip.IPv6Unspecified()
}

// connectError builds the error of a failed attempt.
func (c *connectMultiple) connectError(a candidate, errno syscall.Errno) error {
	e := errx.WithHostPort("connect", errno, a.address, c.o.Port)
	if c.o.LocalPort != 0 {
		local, _ := localFor(a)
		e = errx.WithLocal(e, local, c.o.LocalPort)
	}
	return e
}

// next is internalConnectMultiple: attempt the next address, or fail the
// socket when none is left.
func (c *connectMultiple) next(canceled bool) {
	c.stopTimer()
	if !c.live() {
		return
	}
	s := c.s
	if canceled || c.current == len(c.addrs) {
		c.release()
		if len(c.errors) == 0 {
			s.destroyWith(errx.Clone(errs.ErrSocketConnectionTimeout))
		} else {
			s.destroyWith(&AggregateError{Code: errs.CodeOf(c.errors[0]), Errors: c.errors})
		}
		return
	}
	i := c.current
	c.current++
	a := c.addrs[i]
	port := c.o.Port
	t := s.replaceTCP()
	if c.o.LocalPort != 0 {
		local, lip := localFor(a)
		if err := t.Bind(lip, c.o.LocalPort, 0); err != nil {
			c.errors = append(c.errors, errx.WithHostPort("bind", errs.ErrnoOf(err), local, c.o.LocalPort))
			c.next(false)
			return
		}
	}
	if s.blockList != nil && s.blockList.CheckAddr(a.ip) {
		e := errx.IPBlocked(a.address)
		c.errors = append(c.errors, e)
		s.emitAttemptFailed(a.address, port, a.family, e)
		c.next(false)
		return
	}
	s.emitAttempt(evConnectionAttempt, a.address, port, a.family)
	if !c.live() {
		return
	}
	s.ext().attempted = append(s.attempted, a.address+":"+strconv.Itoa(port))
	if err := t.Connect(a.ip, port, c.afterConnect(a, t)); err != nil {
		e := c.connectError(a, errs.ErrnoOf(err))
		c.errors = append(c.errors, e)
		s.emitAttemptFailed(a.address, port, a.family, e)
		c.next(false)
		return
	}
	if i < len(c.addrs)-1 {
		if c.timer == nil {
			c.timer = handle.NewTimer(s.l)
			// The connect request keeps the loop alive meanwhile.
			c.timer.Unref()
		}
		c.timer.Start(c.timeout, 0, c.onTimeoutFn)
	}
}

// afterConnect is afterConnectMultiple for the attempt to a on handle t.
func (c *connectMultiple) afterConnect(a candidate, t *transport.Stream) func(error) {
	return func(err error) {
		s := c.s
		if s.state&sDestroyed != 0 {
			return
		}
		if s.he != c || s.tcp() != t || t.IsClosing() {
			// An abandoned attempt (its handle was closed at the
			// timeout): ignore it, even a late success.
			if !t.IsClosing() {
				t.Close(nil)
			}
			return
		}
		c.stopTimer()
		if err != nil {
			errno := errs.ErrnoOf(err)
			e := c.connectError(a, errno)
			c.errors = append(c.errors, e)
			s.emitAttemptFailed(a.address, c.o.Port, a.family, e)
			c.next(errno == syscall.ECANCELED)
			return
		}
		c.release()
		if s.ctx != nil && s.ctx.Err() != nil {
			s.destroyWith(errx.Abort(context.Cause(s.ctx)))
			return
		}
		s.afterConnect(c.o)
	}
}

// onTimeout is internalConnectMultipleTimeout: abandon the current
// attempt and try the next address.
func (c *connectMultiple) onTimeout() {
	if !c.live() {
		return
	}
	s := c.s
	a := c.addrs[c.current-1]
	s.emitAttempt(evConnectionAttemptTimeout, a.address, c.o.Port, a.family)
	if !c.live() {
		return
	}
	c.errors = append(c.errors, c.connectError(a, syscall.ETIMEDOUT))
	if s.tcp() != nil && !s.tcp().IsClosing() {
		s.tcp().Close(nil)
	}
	c.next(false)
}

// replaceTCP closes the socket's TCP handle, if any, and attaches a new
// one.
func (s *Socket) replaceTCP() *transport.Stream {
	if old := s.tcp(); old != nil && !old.IsClosing() {
		old.Close(nil)
	}
	s.st = nil
	t := transport.New(s.core(), transport.TCP)
	s.attach(t)
	return t
}
