//go:build linux

package pollx

import "golang.org/x/sys/unix"

// KernelHasRecv reports whether the kernel has multishot recv (Linux 6.0)
// and buffer rings (5.19). The version is checked, since a refused recv
// only shows as a failed completion.
func KernelHasRecv() bool { return kernelAtLeast(6, 0) }

// KernelHasAccept reports whether the kernel has multishot accept (Linux
// 5.19).
func KernelHasAccept() bool { return kernelAtLeast(5, 19) }

// kernelAtLeast reports whether the running kernel's release is at least
// major.minor.
func kernelAtLeast(major, minor int) bool {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	var v [2]int
	i := 0
	for _, c := range u.Release {
		if c == '.' && i == 0 {
			i++
			continue
		}
		if c < '0' || c > '9' {
			break
		}
		v[i] = v[i]*10 + int(c-'0')
	}
	return v[0] > major || v[0] == major && v[1] >= minor
}
