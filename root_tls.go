package netloop

import "github.com/netloop/netloop/tls"

// TLSSocket is Node's tls.TLSSocket; see package tls.
type TLSSocket = tls.TLSSocket

// TLSServer is Node's tls.Server; see package tls.
type TLSServer = tls.Server

// SecureServerOptions configure CreateSecureServer (Node's
// tls.createServer options).
type SecureServerOptions = tls.ServerOptions

// TLSConnectOptions configure ConnectTLS (Node's tls.connect options).
type TLSConnectOptions = tls.ConnectOptions

// CreateSecureServer is Node's tls.createServer: secureConnectionListener,
// if not nil, receives every connection whose TLS handshake completed.
// Invalid certificate options are returned as errors.
func CreateSecureServer(opts SecureServerOptions, secureConnectionListener func(*TLSSocket)) (*TLSServer, error) {
	return tls.CreateServer(opts, secureConnectionListener)
}

// ConnectTLS is Node's tls.connect: it connects (or takes opts.Socket) and
// runs the client handshake; secureConnectListener, if given, runs on
// 'secureConnect'.
func ConnectTLS(opts TLSConnectOptions, secureConnectListener ...func()) (*TLSSocket, error) {
	return tls.Connect(opts, secureConnectListener...)
}
