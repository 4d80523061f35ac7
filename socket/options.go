package socket

import (
	"context"
	"time"

	"github.com/netloop/netloop/addr"
	"github.com/netloop/netloop/loop"
)

// DefaultHighWaterMark is the writable high-water mark of current Node
// (64 KiB): Write returns false once this much is buffered.
const DefaultHighWaterMark = 64 << 10

// Options configure a new Socket (Node's new net.Socket(options)). The zero
// value gives Node's defaults.
type Options struct {
	// Loop runs the socket; nil means loop.Default(). Ignored when Group
	// is set.
	Loop *loop.Loop
	// Group puts the socket on the least loaded loop of a loop group (the
	// way group servers spread their connections) and counts it there until
	// 'close'.
	Group *loop.Group
	// FD, when positive, wraps an existing connected socket descriptor
	// (TCP or Unix-domain). The socket owns it from then on.
	FD int
	// Readable and Writable allow reads and writes on an FD socket (Node
	// defaults both to false when an fd is given); ignored without FD.
	Readable, Writable bool
	// AllowHalfOpen keeps the writable side open after the peer's FIN,
	// until End is called. By default the socket ends itself after 'end'.
	AllowHalfOpen bool
	// Context plays Node's AbortSignal: when it is done, the socket is
	// destroyed with an AbortError.
	Context context.Context
	// OnRead delivers incoming bytes into a caller-owned buffer instead of
	// 'data' events.
	OnRead *OnRead
	// HighWaterMark is the writable high-water mark in bytes; 0 means
	// DefaultHighWaterMark and a negative value means 0 (every Write then
	// returns false).
	HighWaterMark int
	// OwnedData gives every 'data' listener call a fresh copy that the
	// handler may keep, as Node's Buffers are, instead of the loop's shared
	// read buffer (valid only during the call): one allocation and copy per
	// chunk, for code that prefers safety to the last allocation.
	OwnedData bool
	// BlockList refuses connections to the addresses it matches
	// (ERR_IP_BLOCKED).
	BlockList *addr.BlockList
	// IPC makes a Unix-domain socket (an FD, or a Path connect) an IPC
	// channel, as Node's child_process channel is (a Pipe with ipc=true):
	// SendHandle sends sockets and servers to the process at the other end
	// and 'handle' (OnHandle) receives theirs. A TCP socket with IPC is
	// refused with ERR_INVALID_ARG_VALUE. On Windows only a Path connect
	// (a named pipe) can be IPC, and only TCP handles travel.
	IPC bool
}

// OnRead is Node's onread option: reads land in Buffer (or in the buffer
// BufferFunc returns before each read) and Callback receives the count. No
// 'data' events are emitted; 'end' still is. Callback returning false
// pauses the socket until Resume.
type OnRead struct {
	Buffer     []byte
	BufferFunc func() []byte
	Callback   func(n int, buf []byte) bool
}

// LookupFunc resolves host for Connect. It runs on its own goroutine, off
// the loop; family is 0, 4 or 6 as requested. It returns addresses in
// preference order, each with family 4 or 6.
type LookupFunc func(ctx context.Context, host string, family int) ([]LookupAddress, error)

// LookupAddress is one answer of a LookupFunc.
type LookupAddress struct {
	Address string
	Family  int
}

// ConnectOptions are Node's socket.connect(options) for TCP (Port, Host...)
// or IPC (Path). The zero value of each field is Node's default.
type ConnectOptions struct {
	// Port to connect to (TCP). Port 0 counts as "no port given" (Node's
	// undefined), which fails with ERR_MISSING_ARGS, unless PortGiven.
	Port int
	// PortGiven says Port was given even when it is 0 (Node's {port: 0}):
	// the other options are then checked and the connect is attempted.
	PortGiven bool
	// Host to connect to; "" means "localhost".
	Host string
	// LocalAddress binds the socket to this address before connecting.
	LocalAddress string
	// LocalPort binds the socket to this port before connecting.
	LocalPort int
	// Family restricts name resolution to 4 or 6; 0 takes either.
	Family int
	// Lookup replaces DNS resolution (see LookupFunc).
	Lookup LookupFunc
	// NoDelay disables Nagle's algorithm once connected.
	NoDelay bool
	// KeepAlive enables TCP keep-alive once connected.
	KeepAlive bool
	// KeepAliveInitialDelay is the idleness before the first keep-alive
	// probe (whole seconds, at least 1).
	KeepAliveInitialDelay time.Duration
	// Timeout arms SetTimeout before connecting.
	Timeout time.Duration
	// Path connects to a Unix-domain socket instead of TCP. A path longer
	// than sun_path holds (107 bytes on Linux, 103 on macOS and the BSDs)
	// is cut to fit, as Node does.
	Path string
	// StrictPath refuses a Path longer than sun_path holds with EINVAL
	// instead of cutting it (libuv's UV_PIPE_NO_TRUNCATE).
	StrictPath bool
	// NoAutoSelectFamily turns off Happy Eyeballs (Node's
	// autoSelectFamily: false; on by default, as in Node 20+). With it on,
	// a host name that resolves to several addresses, when neither Family
	// nor LocalAddress is given, is connected by trying the addresses one
	// at a time, alternating IPv6 and IPv4 (starting with the family of
	// the first answer), each for at most AutoSelectFamilyAttemptTimeout;
	// the first to connect wins. With it off only the first resolved
	// address is tried.
	NoAutoSelectFamily bool
	// AutoSelectFamilyAttemptTimeout bounds each Happy Eyeballs attempt: 0
	// means DefaultAutoSelectFamilyAttemptTimeout (250 ms), positive
	// values under 10 ms are raised to 10 ms, and a negative value makes
	// Connect fail with ERR_OUT_OF_RANGE.
	AutoSelectFamilyAttemptTimeout time.Duration
}
