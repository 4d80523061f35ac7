//go:build !windows && !darwin

package transport

import "golang.org/x/sys/unix"

// recvCloexec marks received descriptors close-on-exec atomically.
const recvCloexec = unix.MSG_CMSG_CLOEXEC
