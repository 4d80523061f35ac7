//go:build !race && !windows

package tls_test

const raceEnabled = false
