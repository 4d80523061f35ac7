package handle_test

import (
	"fmt"
	"sync"
	"time"

	"github.com/netloop/netloop/handle"
	"github.com/netloop/netloop/loop"
)

// A repeating timer, stopped from its own callback after three ticks.
func ExampleTimer() {
	l, _ := loop.New()
	defer l.Close()

	t := handle.NewTimer(l)
	n := 0
	t.Start(5*time.Millisecond, 5*time.Millisecond, func() {
		n++
		fmt.Println("tick", n)
		if n == 3 {
			t.Stop() // the loop has nothing left to do: Run returns
		}
	})
	l.Run(loop.RunDefault)
	fmt.Println("active:", t.IsActive())
	t.Close(nil)
	l.Run(loop.RunDefault)
	// Output:
	// tick 1
	// tick 2
	// tick 3
	// active: false
}

// Async wakes the loop from other goroutines. Sends that arrive before the
// callback runs are merged, so the callback counts work rather than calls.
func ExampleAsync() {
	l, _ := loop.New()
	defer l.Close()

	var mu sync.Mutex
	results := 0
	var a *handle.Async
	a, _ = handle.NewAsync(l, func() {
		mu.Lock()
		done := results == 10
		mu.Unlock()
		if done {
			fmt.Println("all 10 results are in")
			a.Close(nil)
		}
	})

	for i := 0; i < 10; i++ {
		go func() {
			mu.Lock()
			results++
			mu.Unlock()
			a.Send()
		}()
	}
	l.Run(loop.RunDefault)
	fmt.Println("send after close:", a.Send())
	// Output:
	// all 10 results are in
	// send after close: handle is closing
}
