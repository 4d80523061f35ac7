// Package testutil is the test harness the packages share: a TestMain leak
// check (descriptors and goroutines), loops that are closed at the end of
// each test, bounded loop runs (RunUntil, RunAll, Watchdog), timers and
// handle closing (After, CloseAll), an event log (Events), short
// Unix-socket paths (SockDir, SockPath) and Node error checks (AsError).
// Helpers that only one package's tests use stay in that package's
// helpers_test.go.
package testutil
