package loop_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/netloop/netloop/handle"
	"github.com/netloop/netloop/loop"
)

// A loop runs callbacks on one goroutine: here a timer, whose callback
// hands work to another goroutine, which posts the result back. Run returns
// once nothing keeps the loop alive any more.
func Example() {
	l, err := loop.New()
	if err != nil {
		panic(err)
	}

	t := handle.NewTimer(l)
	t.Start(10*time.Millisecond, 0, func() {
		fmt.Println("timer fired")
		release := l.Hold() // the work in flight keeps the loop alive
		go func() {
			sum := 0
			for i := 1; i <= 10; i++ {
				sum += i
			}
			// Post is the way back onto the loop from other goroutines.
			l.Post(func() {
				release()
				fmt.Println("posted result:", sum)
				t.Close(func() { fmt.Println("timer closed") })
			})
		}()
	})
	l.NextTick(func() { fmt.Println("next tick runs first") })

	if err := l.Run(loop.RunDefault); err != nil {
		panic(err)
	}
	fmt.Println("alive:", l.Alive())
	fmt.Println("close:", l.Close())
	// Output:
	// next tick runs first
	// timer fired
	// posted result: 55
	// timer closed
	// alive: false
	// close: <nil>
}

// Close refuses to release a loop that still has open handles, and names
// them.
func ExampleLoop_Close() {
	l, _ := loop.New()
	t := handle.NewTimer(l)
	err := l.Close()
	fmt.Println(errors.Is(err, loop.ErrBusy), err)

	t.Close(nil)
	l.Run(loop.RunDefault) // runs the close callback
	fmt.Println(l.Close())
	// Output:
	// true loop: close: resource busy: 1 handles still open (1 timer)
	// <nil>
}

// Post hands work to the loop from any goroutine; the loop stays alive
// while posted functions are queued.
func ExampleLoop_Post() {
	l, _ := loop.New()
	defer l.Close()
	done := make(chan struct{})
	go func() {
		l.Post(func() { fmt.Println("on the loop") })
		close(done)
	}()
	<-done
	l.Run(loop.RunDefault)
	// Output: on the loop
}
