// Package uring is the io_uring plumbing under netloop's opt-in io_uring
// poller: ring setup through raw system calls (no cgo, no liburing),
// the submission and completion queues mapped from the kernel, and the
// io_uring_enter call that submits and waits. It knows nothing about
// readiness; poller builds the backend on it.
//
// The rings live in memory the kernel maps (mmap of the ring descriptor),
// never in the Go heap, so the garbage collector cannot move what the
// kernel reads and writes. Heads and tails shared with the kernel are read
// and written with sync/atomic, whose sequentially consistent operations
// are at least the acquire loads and release stores the io_uring ABI asks
// for.
//
// A Ring is not safe for concurrent use: one goroutine fills SQEs, enters
// and reaps.
//
// The package is empty on other systems.
package uring
