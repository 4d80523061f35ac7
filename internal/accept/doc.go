// Package accept is how package server hands an accepted connection to
// package socket, and hears back when it closes, without either package
// exporting plumbing to users: socket registers its constructor here at
// init, and server implements Owner with an unexported type.
package accept
