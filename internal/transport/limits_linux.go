//go:build linux

package transport

// maxPathLen is sun_path's size less the terminating NUL.
const maxPathLen = 107

const abstractSupported = true
