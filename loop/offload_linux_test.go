package loop_test

import (
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/handle"
	"github.com/netloop/netloop/loop"
)

// TestOffloadDeliversOnLoop: done runs on the loop's thread with work's
// result and error, work runs elsewhere, and the loop, with nothing else to
// keep it alive, does not return from Run before every done has run.
func TestOffloadDeliversOnLoop(t *testing.T) {
	l, err := loop.New()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	loopTID := unix.Gettid()

	const n = 50
	errOdd := errors.New("odd")
	var (
		delivered int          // loop-owned: touched only in done
		wrongTID  int          // done calls that ran on another thread
		workOnTID atomic.Int32 // work calls that ran on the loop's thread
		results   = map[int]bool{}
	)
	for i := range n {
		loop.Offload(l, func() (int, error) {
			if unix.Gettid() == loopTID {
				workOnTID.Add(1)
			}
			time.Sleep(time.Duration(i%5) * time.Millisecond)
			if i%2 == 1 {
				return i, errOdd
			}
			return i, nil
		}, func(v int, err error) {
			if unix.Gettid() != loopTID {
				wrongTID++
			}
			if (v%2 == 1) != errors.Is(err, errOdd) {
				t.Errorf("result %d came with error %v", v, err)
			}
			results[v] = true
			delivered++
		})
	}
	if err := l.Run(loop.RunDefault); err != nil {
		t.Fatal(err)
	}
	if delivered != n || len(results) != n {
		t.Fatalf("Run returned after %d of %d results (%d distinct)", delivered, n, len(results))
	}
	if wrongTID != 0 {
		t.Fatalf("%d done calls ran off the loop's thread", wrongTID)
	}
	if w := workOnTID.Load(); w != 0 {
		t.Fatalf("%d work calls ran on the loop's thread", w)
	}
}

// TestOffloadWorkWritesVisibleInDone: what work wrote is visible to done
// without further synchronisation (the race detector checks the
// happens-before edge), and done may use the loop's handles.
func TestOffloadWorkWritesVisibleInDone(t *testing.T) {
	l, err := loop.New()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	buf := make([]int, 1024) // written by work, read by done
	tm := handle.NewTimer(l)
	var sum, fired int
	tm.Start(time.Hour, 0, func() { fired++ })
	loop.Offload(l, func() (struct{}, error) {
		for i := range buf {
			buf[i] = i
		}
		return struct{}{}, nil
	}, func(struct{}, error) {
		for _, v := range buf {
			sum += v
		}
		tm.Close(nil) // a loop handle, used from done
	})
	if err := l.Run(loop.RunDefault); err != nil {
		t.Fatal(err)
	}
	if want := 1023 * 1024 / 2; sum != want || fired != 0 {
		t.Fatalf("sum %d want %d, timer fired %d", sum, want, fired)
	}
}

// TestOffloadAfterLoopClosed: when the loop was closed while work ran,
// done does not run, and the goroutine ends.
func TestOffloadAfterLoopClosed(t *testing.T) {
	g0 := runtime.NumGoroutine()
	l, err := loop.New()
	if err != nil {
		t.Fatal(err)
	}
	unblock := make(chan struct{})
	var ran atomic.Bool
	loop.Offload(l, func() (int, error) {
		<-unblock
		return 1, nil
	}, func(int, error) { ran.Store(true) })
	if err := l.Close(); err != nil {
		t.Fatalf("Close with work in flight: %v", err)
	}
	close(unblock)
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > g0 {
		if time.Now().After(deadline) {
			t.Fatalf("the offload goroutine did not end: %d goroutines, %d before", runtime.NumGoroutine(), g0)
		}
		time.Sleep(time.Millisecond)
	}
	if ran.Load() {
		t.Fatal("done ran on a closed loop")
	}
	if err := l.Post(func() {}); !errors.Is(err, loop.ErrClosed) {
		t.Fatalf("Post after Close: %v", err)
	}
}

// TestOffloadOnGroupLoops: Offload from callbacks of every loop of a
// running group delivers each result on the loop it was called from.
func TestOffloadOnGroupLoops(t *testing.T) {
	g, err := loop.NewGroup(4)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	loops := g.Loops()
	const perLoop = 25
	var wrong, total atomic.Int32
	for _, l := range loops {
		l.Post(func() {
			tid := unix.Gettid()
			for i := range perLoop {
				loop.Offload(l, func() (int, error) { return i, nil }, func(int, error) {
					if unix.Gettid() != tid {
						wrong.Add(1)
					}
					total.Add(1)
				})
			}
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := int(total.Load()), perLoop*len(loops); got != want {
		t.Fatalf("%d results delivered, want %d", got, want)
	}
	if w := wrong.Load(); w != 0 {
		t.Fatalf("%d results delivered on another loop's thread", w)
	}
}

// TestOffloadNilPanics: a nil function is refused at once, not on the
// goroutine.
func TestOffloadNilPanics(t *testing.T) {
	l, _ := loop.New()
	defer l.Close()
	defer func() {
		if recover() == nil {
			t.Fatal("Offload with nil done did not panic")
		}
	}()
	loop.Offload[int](l, func() (int, error) { return 0, nil }, nil)
}
