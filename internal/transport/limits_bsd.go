//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package transport

// maxPathLen is sun_path's size less the terminating NUL.
const maxPathLen = 103

const abstractSupported = false
