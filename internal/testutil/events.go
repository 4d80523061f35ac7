package testutil

import (
	"fmt"
	"strings"
	"sync"
)

// Events is an ordered log of the events a test saw, safe for use from
// several goroutines. Its zero value is empty and ready to use.
type Events struct {
	mu  sync.Mutex
	log []string
}

// Add appends s.
func (ev *Events) Add(s string) {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	ev.log = append(ev.log, s)
}

// Addf appends fmt.Sprintf(format, args...).
func (ev *Events) Addf(format string, args ...any) { ev.Add(fmt.Sprintf(format, args...)) }

// AddFolded appends s unless the last entry is s already, so a run of the
// same event (say the 'data' events of one transfer, however the bytes
// were split) shows as one entry.
func (ev *Events) AddFolded(s string) {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if len(ev.log) > 0 && ev.log[len(ev.log)-1] == s {
		return
	}
	ev.log = append(ev.log, s)
}

// Get returns a copy of the entries so far.
func (ev *Events) Get() []string {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	return append([]string(nil), ev.log...)
}

// String returns the entries joined with commas.
func (ev *Events) String() string { return strings.Join(ev.Get(), ",") }

// Without returns list without the entries equal to s, for comparisons
// that leave out an event whose place depends on scheduling.
func Without(list []string, s string) []string {
	var out []string
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}
