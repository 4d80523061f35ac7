//go:build !windows

package core

// closeRemovesRegistration: closing the last descriptor of a file removes
// its epoll or kqueue registration, so a watcher closed just before its
// descriptor needs no Delete.
const closeRemovesRegistration = true
