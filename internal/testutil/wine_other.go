//go:build !windows

package testutil

// UnderWine reports whether the process runs under Wine: never here.
func UnderWine() bool { return false }
