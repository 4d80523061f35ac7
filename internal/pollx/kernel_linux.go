//go:build linux

package pollx

import "golang.org/x/sys/unix"

// KernelHasRecv reports whether the kernel has multishot recv (Linux 6.0)
// and buffer rings (5.19). The version is checked, since a refused recv
// only shows as a failed completion.
func KernelHasRecv() bool {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	major := 0
	for _, c := range u.Release {
		if c < '0' || c > '9' {
			break
		}
		major = major*10 + int(c-'0')
	}
	return major >= 6
}
