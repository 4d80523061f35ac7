//go:build !windows

package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// SockDir returns a new directory for Unix-domain socket files, removed at
// the end of the test. Its path is short (in os.TempDir, unlike
// t.TempDir's, which holds the test's name), so the paths of the sockets
// in it fit in sun_path (104 bytes on the BSDs and macOS).
func SockDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "nl")
	if err != nil {
		t.Fatalf("socket directory: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// SockPath returns a path for a Unix-domain socket, nothing there yet, in
// a new SockDir.
func SockPath(t testing.TB) string {
	t.Helper()
	return filepath.Join(SockDir(t), "s.sock")
}
