// Package testutil holds helpers shared by the handle-layer tests: a
// TestMain leak check (descriptors and goroutines), loops that are closed at
// the end of each test, and bounded loop runs.
package testutil
